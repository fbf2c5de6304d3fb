"""Run scenarios through the mechanism: one batched solve for many arms (different events per row)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._typing import FloatArray
from ..errors import ScenarioError
from ..model.compile import CompiledModel, compile_model
from ..model.spec import ModelSpec
from ..scenarios.scenario import Scenario
from ..solvers.base import Solver, Trajectories, simulate
from ..solvers.dopri import BatchDopri5
from .readouts import summarise


@dataclass(frozen=True)
class Episode:
    """One scenario's simulated course, its model spec and its read-outs."""

    scenario: Scenario
    spec: ModelSpec
    time: FloatArray
    values: FloatArray  # (n_times, n_species)
    species: tuple[str, ...]
    status: int
    readouts: dict[str, object]

    def column(self, name: str) -> FloatArray:
        return self.values[:, self.species.index(name)]

    def columns(self) -> dict[str, FloatArray]:
        return {s: self.values[:, i] for i, s in enumerate(self.species)}


#: Longest horizon, in days (100 years). Longer than any host lives (a mouse ~3 y, a survivor's follow-up
#: < 100 y); it bounds the daily output grid (~37,000 times x species per arm, a few MB) that ``--days 1e9``
#: turned into a MemoryError.
MAX_DAYS = 36_525.0


def output_times(days: float, fine_until: float = 30.0, fine_step: float = 0.05) -> FloatArray:
    """A grid fine enough to time peaks early (0.05 d over the first month) and daily after."""
    if not (np.isfinite(days) and days > 0):
        raise ScenarioError(f"days must be a positive number, got {days!r}")
    if days > MAX_DAYS:
        raise ScenarioError(f"days = {days:g} is beyond the longest horizon, {MAX_DAYS:,.0f} days (100 years); "
                            "choose a shorter --days")
    fine = np.arange(0.0, min(days, fine_until) + 1e-9, fine_step)
    coarse = np.arange(np.ceil(fine_until), days + 1e-9, 1.0) if days > fine_until else np.array([])
    return np.unique(np.round(np.concatenate([fine, coarse, [days]]), 9))


def run_scenarios(
    scenarios: Sequence[Scenario],
    *,
    days: float,
    solver: Solver | None = None,
    on_failure: str = "flag",
) -> list[Episode]:
    """Simulate every scenario over ``days`` in a single batched solve and compute read-outs."""
    if not scenarios:
        return []
    applied = [s.apply() for s in scenarios]
    model = _common_model([spec for spec, _ in applied])
    y0 = np.array([[sp.initial for sp in spec.species] for spec, _ in applied])
    params = np.array([[p.value for p in spec.parameters] for spec, _ in applied])
    t = output_times(days)
    traj: Trajectories = simulate(
        model, solver or BatchDopri5(), y0, params, t_eval=t, events=[sched for _, sched in applied],
        on_failure=on_failure,  # type: ignore[arg-type]
    )
    episodes = []
    for i, (scenario, (spec, _)) in enumerate(zip(scenarios, applied)):
        cols = {s: traj.values[i, :, k] for k, s in enumerate(traj.species)}
        readouts = summarise(t, cols, infection_days=scenario.effective_infection_days,
                             detection_limit=scenario.profile.detection_limit)
        episodes.append(Episode(scenario, spec, t, traj.values[i], traj.species, int(traj.status[i]), readouts))
    return episodes


def _common_model(specs: Sequence[ModelSpec]) -> CompiledModel:
    first = specs[0]
    for s in specs[1:]:
        if (s.species_names, s.parameter_names, s.transitions, s.assignments) != (
            first.species_names, first.parameter_names, first.transitions, first.assignments
        ):
            raise ValueError("scenarios in one batch must share the model structure; run them separately")
    return compile_model(first)
