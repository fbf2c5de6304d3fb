"""Use cases of the mechanism: one scenario, deterministic or with stochastic lungs; SBML; parameters."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..experiments import Episode, run_scenarios
from ..io import build_manifest
from ..model.library.hosts import profile
from ..model.params import ParameterSet, as_parameter_set
from ..scenarios import Scenario
from ..solvers import Status
from .results import SimulationResult, StochasticResult


def _with_params(scenario: Scenario, params: ParameterSet | Mapping[str, float] | None) -> Scenario:
    if params is None:
        return scenario
    return replace(scenario, params=as_parameter_set(params, scenario.host))


def _require_ok(scenario: Scenario, episode: Episode) -> None:
    """A failed solve is an error, not a result with empty read-outs (nothing is written)."""
    if episode.status != Status.OK:
        from ..errors import SolverFailure

        changed = ", ".join(f"{k}={v:g}" for k, v in scenario.overrides.items())
        raise SolverFailure(f"the simulation of {scenario.label} failed: {Status(episode.status).message()}"
                            + (f" (parameters set: {changed[:200]})" if changed else ""))


def _describe(scenario: Scenario, episode: Episode, days: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read-outs and manifest of one deterministic episode."""
    readouts = {"scenario": scenario.label, "host": scenario.host, "virus": scenario.virus,
                "status": Status(episode.status).name, **episode.readouts}
    settings = {"host": scenario.host, "virus": scenario.virus, "days": days,
                "infection_days": list(scenario.effective_infection_days),
                "interventions": [repr(i) for i in scenario.interventions],
                "overrides": dict(scenario.overrides), "cross_reactivity": scenario.cross_reactivity,
                "detection_limit": scenario.profile.detection_limit, "inoculum": episode.spec.parameter("V0").value if scenario.effective_infection_days else 0.0}
    manifest = build_manifest(command="simulate", settings=settings, specs=[(scenario.label, episode.spec)],
                              status={Status(episode.status).name: 1})
    ps = scenario.params or ParameterSet.default(scenario.host)
    manifest["parameter_set"] = ps.to_dict()
    return readouts, manifest


def simulate(scenario: Scenario, *, days: float = 270.0,
             params: ParameterSet | Mapping[str, float] | None = None) -> SimulationResult:
    """Simulate one scenario over ``days`` with parameter set ``params`` (default: the scenario's own, else
    the host's profile values). Returns a :class:`SimulationResult`; ``.save(dir)`` writes its files.

    >>> res = simulate(Scenario("mouse", "influenza"), days=30)       # doctest: +SKIP
    >>> res.frame("readouts")                                          # doctest: +SKIP
    """
    started = time.perf_counter()
    scenario = _with_params(scenario, params)
    (episode,) = run_scenarios([scenario], days=days)
    _require_ok(scenario, episode)
    readouts, manifest = _describe(scenario, episode, days)
    return SimulationResult(scenario, episode, float(days), readouts, manifest, time.perf_counter() - started)


def simulate_stochastic(
    scenario: Scenario,
    *,
    days: float = 270.0,
    replicates: int = 200,
    seed: int = 0,
    method: str = "exact",
    lesion_threshold: float = 50.0,
    params: ParameterSet | Mapping[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> StochasticResult:
    """The deterministic host episode plus ``replicates`` stochastic lungs (clones, lesions), seeded."""
    from ..experiments.stochastic import run_stochastic

    started = time.perf_counter()
    scenario = _with_params(scenario, params)
    sto = run_stochastic(scenario, days=days, replicates=replicates, seed=seed, method=method,
                         lesion_threshold=lesion_threshold, progress=progress)
    episode = sto.host  # the deterministic host episode that drove the clones
    assert episode is not None
    _require_ok(scenario, episode)
    det_readouts, manifest = _describe(scenario, episode, days)
    readouts = {**det_readouts, **sto.readouts()}
    manifest["seed"] = seed
    manifest["command"] = "simulate --stochastic"
    manifest["settings"] = {**manifest["settings"], "replicates": replicates, "method": method,
                            "lesion_threshold_cells": lesion_threshold}
    return StochasticResult(scenario, episode, sto, float(days), readouts, manifest, time.perf_counter() - started)


def export_sbml(scenario: Scenario, path: Path) -> Path:
    """Write the scenario's model and events as validated SBML L3V2 (needs the ``sbml`` extra)."""
    from ..io.sbml import write_sbml

    spec, schedule = scenario.apply()
    return write_sbml(Path(path), spec, schedule, model_id=scenario.label)


def parameter_table(host: str, virus: str) -> list[dict[str, Any]]:
    """Every parameter of ``host``/``virus`` with value, unit, bounds, prior range and source."""
    spec = profile(host, virus).spec()
    return [{"name": p.name, "value": p.value, "unit": p.unit, "prior": p.prior, "source": p.source, "doc": p.doc}
            for p in spec.parameters]
