"""The one simulation verb, its result, status codes and the solver protocol (design principles 2-5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import ClassVar, Literal, Protocol

import numpy as np

from .._typing import FloatArray, IntArray, SeedLike
from ..errors import SolverFailure, UnsupportedFeatureError
from ..model.compile import CompiledModel
from ..model.events import EventSchedule


class Feature(Enum):
    EVENTS = "events"
    BATCH = "batch"
    STOCHASTIC = "stochastic"


class Status(IntEnum):
    """Per-row outcome of a simulation. ``Status.message()`` is what a user reads."""

    OK = 0
    MAX_STEPS = 1
    NEGATIVE_STATE = 2
    NONFINITE = 3
    STEP_TOO_SMALL = 4

    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    Status.OK: "ok",
    Status.MAX_STEPS: "step budget exhausted; raise max_steps or loosen rtol",
    Status.NEGATIVE_STATE: "a state went negative beyond tolerance; tighten rtol/atol or check parameters",
    Status.NONFINITE: "a state became NaN or infinite; check parameter values (overflow?)",
    Status.STEP_TOO_SMALL: "step size underflow (stiff or discontinuous); try ScipyODE(method='Radau')",
}


@dataclass(frozen=True)
class Trajectories:
    """Simulated states with labelled axes: ``values[subject, time, species]``.

    Rows whose ``status`` is not OK hold NaN from the failure time on; they are never silently dropped.
    """

    time: FloatArray
    species: tuple[str, ...]
    values: FloatArray
    status: IntArray
    model_hash: str = ""
    stats: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def n_subjects(self) -> int:
        return int(self.values.shape[0])

    def sel(self, species: str) -> FloatArray:
        """Values of one species, shape (n_subjects, n_times)."""
        try:
            return self.values[:, :, self.species.index(species)]
        except ValueError:
            raise KeyError(f"unknown species {species!r}; known: {', '.join(self.species)}") from None

    def final(self, species: str) -> FloatArray:
        return self.sel(species)[:, -1]

    def at(self, day: float) -> FloatArray:
        """States at the output time closest to ``day``, shape (n_subjects, n_species)."""
        return self.values[:, int(np.argmin(np.abs(self.time - day))), :]

    def columns(self) -> dict[str, np.ndarray]:
        """Long format: one row per subject x time x species (see ``reawaken.tables.TRAJECTORIES``)."""
        n_sub, n_t, n_sp = self.values.shape
        return {
            "subject": np.repeat(np.arange(n_sub, dtype=np.int64), n_t * n_sp),
            "time_days": np.tile(np.repeat(self.time, n_sp), n_sub),
            "species": np.tile(np.asarray(self.species, dtype=object), n_sub * n_t),
            "value": self.values.reshape(-1),
        }

    def ok(self) -> np.ndarray:
        return self.status == Status.OK


class Solver(Protocol):
    """A frozen configuration that integrates a compiled model over a batch of rows."""

    supports: ClassVar[frozenset[Feature]]

    def solve(
        self,
        model: CompiledModel,
        y0: FloatArray,
        params: FloatArray,
        t_eval: FloatArray,
        events: Sequence[EventSchedule],
        seed: int,
        first_path: int = 0,
    ) -> tuple[FloatArray, IntArray, dict[str, float]]: ...


def simulate(
    model: CompiledModel,
    solver: Solver,
    y0: FloatArray | Sequence[float] | None = None,
    params: FloatArray | Sequence[float] | None = None,
    *,
    t_eval: FloatArray | Sequence[float],
    events: EventSchedule | Sequence[EventSchedule] | None = None,
    rng: SeedLike = None,
    n_paths: int | None = None,
    first_path: int = 0,
    on_failure: Literal["raise", "flag"] = "raise",
) -> Trajectories:
    """Integrate ``model`` with ``solver`` for a batch of initial states and parameter rows.

    Parameters
    ----------
    model : CompiledModel
    solver : Solver
        e.g. ``BatchDopri5()`` or ``ScipyODE(method="Radau")``.
    y0 : array (n_species,) or (n_rows, n_species), optional
        Defaults to the species' initial values.
    params : array (n_parameters,) or (n_rows, n_parameters), optional
        Defaults to the spec's parameter values. Rows of ``y0`` and ``params`` broadcast.
    t_eval : increasing times (days); the first is the start time.
    events : EventSchedule or a sequence of one per row, optional
        State jumps and parameter switches; values at an event time are post-event.
    rng : int seed (or Generator / SeedSequence / None) for stochastic solvers; ignored by ODE solvers.
        Path ``i`` of a run draws from a stream keyed by (seed, ``first_path + i``) only.
    n_paths : replicate a single row of ``y0``/``params`` into this many stochastic paths.
    first_path : global index of the first row (to run path ranges in chunks with identical results).
    on_failure : "raise" (interactive) or "flag" (batches: failed rows get a status and NaN).

    Returns
    -------
    Trajectories
    """
    if on_failure not in ("raise", "flag"):
        raise ValueError(f"on_failure must be 'raise' or 'flag', got {on_failure!r}")
    t = np.asarray(t_eval, dtype=float)
    if t.ndim != 1 or t.size == 0 or np.any(np.diff(t) <= 0) or not np.all(np.isfinite(t)):
        raise ValueError(f"t_eval must be a non-empty, strictly increasing 1-D array of finite days; got {t!r}")
    y0a = model.y0 if y0 is None else np.asarray(y0, dtype=float)
    pa = model.p0 if params is None else np.asarray(params, dtype=float)
    y0a, pa = _batch(y0a, model.n_species, "y0"), _batch(pa, model.n_parameters, "params")
    n = max(y0a.shape[0], pa.shape[0])
    if n_paths is not None:
        if n != 1 and n != n_paths:
            raise ValueError(f"n_paths={n_paths} needs y0/params with 1 or {n_paths} rows, got {n}")
        if not (isinstance(n_paths, (int, np.integer)) and n_paths >= 1):
            raise ValueError(f"n_paths must be a positive integer, got {n_paths!r}")
        n = int(n_paths)
    for name, arr in (("y0", y0a), ("params", pa)):
        if arr.shape[0] not in (1, n):
            raise ValueError(f"{name} has {arr.shape[0]} rows but the batch has {n}; give 1 row or {n}")
    y0a = np.broadcast_to(y0a, (n, model.n_species)).copy()
    pa = np.broadcast_to(pa, (n, model.n_parameters)).copy()
    if events is None:
        schedules: tuple[EventSchedule, ...] = (EventSchedule(),)
    elif isinstance(events, EventSchedule):
        schedules = (events,)
    else:
        schedules = tuple(events)
        if len(schedules) != n:
            raise ValueError(f"events has {len(schedules)} schedules for {n} rows; give one, or one per row")
    from ._piecewise import check_schedules

    check_schedules(model, schedules)
    needed = {Feature.BATCH} if n > 1 else set()
    if any(not s.is_empty() for s in schedules):
        needed.add(Feature.EVENTS)
    missing = needed - type(solver).supports
    if missing:
        raise UnsupportedFeatureError(
            f"{type(solver).__name__} cannot handle {sorted(f.value for f in missing)}; use BatchDopri5 or ScipyODE"
        )
    seed = _seed(rng) if Feature.STOCHASTIC in type(solver).supports else 0
    values, status, stats = solver.solve(model, y0a, pa, t, schedules, seed, first_path)
    if on_failure == "raise" and np.any(status != Status.OK):
        row = int(np.flatnonzero(status != Status.OK)[0])
        code = Status(int(status[row]))
        raise SolverFailure(
            f"row {row} failed with {code.name}: {code.message()} "
            f"({int(np.sum(status != Status.OK))} of {n} rows failed; pass on_failure='flag' to keep the others)"
        )
    return Trajectories(t, model.species, values, status.astype(np.int64), model.hash, stats)


def _seed(rng: SeedLike) -> int:
    """An integer root seed from whatever the caller gave (recorded in the result's stats)."""
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if not 0 <= int(rng) < 2**63:
            raise ValueError(f"seed must be in [0, 2^63), got {rng!r}")
        return int(rng)
    from .._rng import as_generator

    return int(as_generator(rng).integers(0, 2**63 - 1))


def _batch(a: np.ndarray, width: int, name: str) -> np.ndarray:
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != width:
        raise ValueError(f"{name} must have shape ({width},) or (n_rows, {width}); got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values; give finite numbers")
    return a
