"""Few cells, real chance: the lung DCCs as stochastic clones driven by the host's deterministic response.

The host (virus, IL-6, niche, T cells) is solved as an ODE; its trajectory then sets, at every time, the
per-cell rates of the DCC transitions of the *same model definition* (awakening, proliferation, return to
dormancy, CD8 killing, loss of primed cells). Each dormant cell awakens at a random time (an
inhomogeneous Poisson clock with the awakening hazard) and founds a clone; clones then evolve as
independent multi-type branching processes (:mod:`reawaken.solvers.branching`). Per-cell rates use the
ODE's average rates (e.g. the logistic factor with the ODE's total), so the stochastic mean converges to
the ODE as counts grow.

A *lesion* is a clone that reaches ``lesion_threshold`` cells (in any state) at any time in the run.
Randomness: one root seed; every dormant cell (global index = replicate x D0 + cell) has its own streams,
so results do not depend on chunking or the number of workers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from .._rng import counter_uniforms, stream_keys
from .._typing import FloatArray, IntArray
from ..errors import ScenarioError
from ..model.compile import CompiledModel, compile_model
from ..model.events import EventSchedule
from ..scenarios.scenario import Scenario
from ..solvers.branching import simulate_clones
from .readouts import REPORT_DAYS
from .run import Episode, run_scenarios

FOUNDER = "dormant"
#: States a clone's cells can be in. "dormant" holds clone cells that lost their priming (``unpriming``):
#: they are DCCs again dormant, wake at the founder hazard, and still count in the lung total.
TYPES = ("awakened", "primed", "dormant")
_INITIAL_TYPES = ("awakened", "primed")  # day-0 cells that start as clones (the dormant pool founds them)
_PURPOSE_FOUNDER = 21
_PURPOSE_CLONE = 22
_PURPOSE_INITIAL = 30  # + type index: cells awake or primed at day 0
QUANTILES = (0.05, 0.5, 0.95)
#: Most replicates of one run. About 10 ms and ~1 KB of kept results per mouse lung, so the limit is ~15 min
#: of one core and ~100 MB; the Monte Carlo error of a mean is then 0.3% of its SD, and more replicates
#: (``--replicates 100000000`` ran "forever") sharpen nothing a reader can see.
MAX_REPLICATES = 100_000
#: Default chunk bound, in dormant cells (replicates x cells per lung): the per-cell arrays of one chunk
#: stay near 100 MB however many replicates are asked for (results do not depend on chunking).
MAX_CELLS_PER_CHUNK = 2_000_000


@dataclass(frozen=True)
class CellProcess:
    """Per-cell rates of the DCC transitions along a host trajectory."""

    grid: FloatArray  # (n_grid,) days
    founder_hazard: FloatArray  # (n_grid,) awakening rate of one dormant cell
    founder_type: int  # type index a founder starts as
    rates: FloatArray  # (n_grid, n_channels) per-cell rates
    acting: IntArray  # (n_channels,) type index that fires each channel
    change: FloatArray  # (n_channels, n_types)
    channels: tuple[str, ...]
    d0: int  # dormant cells at day 0
    initial: FloatArray  # (n_types,) cells already awake/primed at day 0


def params_along(model: CompiledModel, params: FloatArray, schedule: EventSchedule, time: FloatArray) -> FloatArray:
    """Parameter rows at each time, with the schedule's switches applied (right-continuous)."""
    rows = np.tile(params, (time.size, 1))
    for sw in schedule.switches:
        rows[time >= sw.time, model.parameter_index(sw.parameter)] = sw.value
    return rows


def cell_process(model: CompiledModel, episode: Episode, schedule: EventSchedule) -> CellProcess:
    """Derive per-cell rates of the DCC transitions from the model and the host episode."""
    sp = model.species
    dcc = {FOUNDER, *TYPES}
    referenced = _referenced_species(model)
    counters = {s for s in sp if s not in referenced and s not in dcc}
    y = episode.values
    p = params_along(model, np.array([q.value for q in episode.spec.parameters]), schedule, episode.time)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = model.rates(y, p, episode.time)
    founder_hazard = np.zeros(y.shape[0])
    founder_type = -1
    rates, acting, change, names = [], [], [], []
    for j, tr in enumerate(model.spec.transitions):
        keys = set(tr.change)
        if not keys & dcc or not keys <= dcc | counters:
            continue
        negative = [s for s in keys & dcc if tr.change[s] < 0]
        actor = negative[0] if negative else next(s for s in keys & dcc if tr.change[s] > 0)
        per_cell = _per_cell(model, y, p, episode.time, base, j, sp.index(actor))
        if actor == FOUNDER:
            founder_hazard += per_cell
            founder_type = next(TYPES.index(s) for s in TYPES if tr.change.get(s, 0) > 0)
            # the same channel wakes clone cells that returned to ordinary dormancy
        rates.append(per_cell)
        acting.append(TYPES.index(actor))
        change.append([float(tr.change.get(s, 0)) for s in TYPES])
        names.append(tr.name)
    if founder_type < 0:
        raise ValueError(f"model has no transition out of {FOUNDER!r}; cannot found clones")
    d0 = y[0, sp.index(FOUNDER)]
    if abs(d0 - round(d0)) > 1e-9:
        raise ValueError(f"stochastic DCCs need a whole number of dormant cells at day 0, got {d0}")
    return CellProcess(episode.time, np.maximum(founder_hazard, 0.0), founder_type,
                       np.maximum(np.array(rates).T, 0.0), np.array(acting, dtype=np.int64), np.array(change),
                       tuple(names), int(round(d0)), np.array([y[0, sp.index(s)] if s in _INITIAL_TYPES else 0.0 for s in TYPES]))


def _referenced_species(model: CompiledModel) -> set[str]:
    from ..model.expressions import parse

    used: set[str] = set()
    for tr in model.spec.transitions:
        used |= parse(tr.rate).symbols
    for a in model.spec.assignments:
        used |= parse(a.expr).symbols
    return used & set(model.species)


def _per_cell(model: CompiledModel, y: FloatArray, p: FloatArray, t: FloatArray, base: FloatArray, j: int,
              k: int) -> FloatArray:
    # Average per-cell rate (what the ODE uses) where cells exist; the marginal rate of one added cell
    # where the ODE has none (the rate of the first cell of a new clone).
    y1 = y.copy()
    y1[:, k] += 1.0
    marginal = model.rates(y1, p, t)[:, j] - base[:, j]
    with np.errstate(divide="ignore", invalid="ignore"):
        average = np.where(y[:, k] > 1e-6, base[:, j] / y[:, k], marginal)
    return np.where(np.isfinite(average), average, marginal)


def founding_times(hazard: FloatArray, grid: FloatArray, u: FloatArray) -> FloatArray:
    """Invert the integrated hazard (hazard linear between grid points) at Exp(1) draws ``-log(u)``.

    Returns ``inf`` for cells that do not awaken within the grid.
    """
    e = -np.log(u)
    dt = np.diff(grid)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (hazard[1:] + hazard[:-1]) * dt)])
    j = np.clip(np.searchsorted(cum, e, side="right") - 1, 0, grid.size - 2)
    rem = e - cum[j]
    h0, h1, width = hazard[j], hazard[j + 1], dt[j]
    slope = (h1 - h0) / width
    # Solve h0 s + slope s^2 / 2 = rem for s in [0, width].
    with np.errstate(divide="ignore", invalid="ignore"):
        quad = np.where(np.abs(slope) > 1e-14, (-h0 + np.sqrt(np.maximum(h0 * h0 + 2.0 * slope * rem, 0.0))) / slope,
                        rem / h0)
    s = np.where(np.isfinite(quad), quad, 0.0)
    return np.where(e > cum[-1], np.inf, grid[j] + np.clip(s, 0.0, width))


@dataclass(frozen=True)
class _Chunk:
    total: FloatArray  # (n_rep, n_obs)
    lesions_present: FloatArray  # (n_rep, n_obs)
    lesions_formed: FloatArray  # (n_rep,)
    first_lesion: FloatArray  # (n_rep,)
    clone_sizes: FloatArray  # final sizes of clones alive at the end
    failed: int


def _simulate_chunk(proc: CellProcess, obs_index: IntArray, seed: int, first: int, count: int, method: str,
                    threshold: float, tau: float) -> _Chunk:
    d0 = proc.d0
    reps = np.arange(first, first + count)
    cell_ids = (reps[:, None].astype(np.uint64) * np.uint64(d0) + np.arange(d0, dtype=np.uint64)[None, :]).ravel()
    if d0:
        u = counter_uniforms(stream_keys(seed, cell_ids, _PURPOSE_FOUNDER), np.zeros(cell_ids.size, dtype=np.uint64))
        t_found = founding_times(proc.founder_hazard, proc.grid, u)
    else:
        t_found = np.zeros(0)
    founded = np.isfinite(t_found)
    rep_of = np.repeat(np.arange(count), d0)
    n_types = len(TYPES)
    init = np.zeros((int(founded.sum()), n_types))
    init[:, proc.founder_type] = 1.0
    start = t_found[founded]
    keys = stream_keys(seed, cell_ids[founded], _PURPOSE_CLONE)
    owner = rep_of[founded]
    # Cells awake or primed at day 0 are clones from the start (their streams follow the dormant ids).
    extra = [(k, int(round(n))) for k, n in enumerate(proc.initial) if n > 0]
    for k, n in extra:
        # Unsigned arithmetic throughout: mixing np.uint64 with int64 promotes to float64 and collides.
        ids = (reps[:, None].astype(np.uint64) * np.uint64(n) + np.arange(n, dtype=np.uint64)[None, :]).ravel()
        more = np.zeros((ids.size, n_types))
        more[:, k] = 1.0
        init = np.vstack([init, more])
        start = np.concatenate([start, np.full(ids.size, proc.grid[0])])
        keys = np.concatenate([keys, stream_keys(seed, ids, _PURPOSE_INITIAL + k)])
        owner = np.concatenate([owner, np.repeat(np.arange(count), n)])
    res = simulate_clones(proc.grid, proc.rates, proc.acting, proc.change, start, init, keys, obs_index,
                          threshold=threshold, method=method, tau=tau)
    sizes = res.counts.sum(axis=2)  # (n_clones, n_obs)
    obs_days = proc.grid[obs_index]
    dormant_left = d0 - np.array([np.bincount(rep_of, weights=(t_found <= d).astype(float), minlength=count)
                                  for d in obs_days]).T if d0 else np.zeros((count, obs_days.size))
    total = dormant_left + np.stack([np.bincount(owner, weights=sizes[:, k], minlength=count)
                                     for k in range(obs_days.size)], axis=1)
    present = np.stack([np.bincount(owner, weights=(sizes[:, k] >= threshold).astype(float), minlength=count)
                        for k in range(obs_days.size)], axis=1)
    formed_mask = np.isfinite(res.first_passage)
    formed = np.bincount(owner, weights=formed_mask.astype(float), minlength=count)
    first_lesion = np.full(count, np.inf)
    np.minimum.at(first_lesion, owner, res.first_passage)
    final = sizes[np.argsort(owner, kind="stable"), -1]  # replicate order, so chunks concatenate invariantly
    return _Chunk(total, present, formed, first_lesion, final[final > 0], int(np.sum(res.status != 0)))


@dataclass(frozen=True)
class StochasticResult:
    """Replicates of the stochastic DCC process for one scenario."""

    scenario: Scenario
    days: tuple[float, ...]
    seed: int
    method: str
    lesion_threshold: float
    d0: int
    total: FloatArray  # (n_replicates, n_days) DCC counts
    lesions_present: FloatArray  # (n_replicates, n_days)
    lesions_formed: FloatArray  # (n_replicates,)
    first_lesion_day: FloatArray  # (n_replicates,), inf if none
    clone_sizes: FloatArray  # final sizes of all surviving clones, all replicates
    failed: int = 0
    host: Episode | None = field(default=None, compare=False, repr=False)

    @property
    def replicates(self) -> int:
        return int(self.total.shape[0])

    def readouts(self) -> dict[str, object]:
        fold = self.total / max(self.d0, 1)
        keys = [f"{d:g}" for d in self.days]
        finite = self.first_lesion_day[np.isfinite(self.first_lesion_day)]
        return {
            "replicates": self.replicates,
            "seed": self.seed,
            "method": self.method,
            "lesion_threshold_cells": self.lesion_threshold,
            "dormant_cells_day0": self.d0,
            "lesions_mean": float(self.lesions_formed.mean()),
            "lesions_p_zero": float(np.mean(self.lesions_formed == 0)),
            "lesions_present_mean": {k: float(v) for k, v in zip(keys, self.lesions_present.mean(axis=0))},
            "dcc_fold_mean": {k: float(v) for k, v in zip(keys, fold.mean(axis=0))},
            "dcc_fold_quantiles": {k: [float(x) for x in np.quantile(fold[:, i], QUANTILES)]
                                   for i, k in enumerate(keys)},
            "first_lesion_day_median": float(np.median(finite)) if finite.size else None,
            "p_lesion_by_day": {k: float(np.mean(self.first_lesion_day <= d)) for k, d in zip(keys, self.days)},
            "clone_size_quantiles": [float(x) for x in np.quantile(self.clone_sizes, QUANTILES)]
            if self.clone_sizes.size else None,
            "failed_clones": self.failed,
        }


def run_stochastic(
    scenario: Scenario,
    *,
    days: float,
    replicates: int,
    seed: int,
    method: str = "exact",
    lesion_threshold: float = 50.0,
    tau: float = 0.01,
    report_days: Sequence[float] = REPORT_DAYS,
    chunk_size: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> StochasticResult:
    """Simulate ``replicates`` lungs for ``scenario``. Chunks of replicates may run on any executor; the
    result is identical for every chunk size and worker count. ``progress(done, total)`` is called after
    each chunk (long runs are split into ~20 chunks when a callback is given and no chunk size is)."""
    if not (isinstance(replicates, (int, np.integer)) and replicates >= 1):
        raise ValueError(f"replicates must be a positive integer, got {replicates!r}")
    if replicates > MAX_REPLICATES:
        raise ScenarioError(f"replicates = {replicates:,} is more than {MAX_REPLICATES:,} (the most one run takes, "
                            "~15 min); use fewer --replicates, or several runs with different --seed")
    if not (isinstance(seed, (int, np.integer)) and 0 <= seed < 2**63):
        raise ValueError(f"seed must be an integer in [0, 2^63), got {seed!r}")
    if not (lesion_threshold >= 1 and math.isfinite(lesion_threshold)):
        raise ValueError(f"lesion threshold must be >= 1 cell, got {lesion_threshold!r}")
    (episode,) = run_scenarios([scenario], days=days, on_failure="raise")
    spec, schedule = scenario.apply()
    proc = cell_process(compile_model(spec), episode, schedule)
    obs_days = tuple(float(d) for d in report_days if d <= days + 1e-9) or (float(days),)
    obs_index = np.searchsorted(proc.grid, obs_days)
    if not np.allclose(proc.grid[obs_index], obs_days):
        raise ValueError(f"report days {obs_days} must lie on the output grid")
    size = int(chunk_size or (max(1, -(-replicates // 20)) if progress is not None else replicates))
    if chunk_size is None:
        size = min(size, max(1, MAX_CELLS_PER_CHUNK // max(proc.d0, 1)))
    starts = list(range(0, replicates, size))
    args = [(proc, obs_index, int(seed), s, min(size, replicates - s), method, float(lesion_threshold), float(tau))
            for s in starts]
    chunks = []
    results = (_simulate_chunk(*a) for a in args) if executor is None else executor.map(_simulate_chunk_args, args)
    for chunk in results:
        chunks.append(chunk)
        if progress is not None:
            progress(sum(c.total.shape[0] for c in chunks), replicates)
    return StochasticResult(
        scenario, obs_days, int(seed), method, float(lesion_threshold), proc.d0,
        np.vstack([c.total for c in chunks]), np.vstack([c.lesions_present for c in chunks]),
        np.concatenate([c.lesions_formed for c in chunks]), np.concatenate([c.first_lesion for c in chunks]),
        np.concatenate([c.clone_sizes for c in chunks]), sum(c.failed for c in chunks), episode,
    )


def _simulate_chunk_args(args: tuple) -> _Chunk:  # top-level so process pools can pickle it
    return _simulate_chunk(*args)


def ode_total(result: StochasticResult) -> Mapping[str, float]:
    """The ODE's DCC total on the report days (the law-of-large-numbers reference)."""
    ep = result.host
    assert ep is not None
    total = sum(ep.column(s) for s in dict.fromkeys((FOUNDER, *TYPES)))
    return {f"{d:g}": float(np.interp(d, ep.time, total)) for d in result.days}
