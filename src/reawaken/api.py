"""Use cases shared by the CLI and any UI: each takes validated inputs, runs the core, writes outputs.

Nothing here does numerics itself; it wires scenarios, experiments, I/O and the report together.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .experiments import Episode, mouse_panel, run_scenarios
from .experiments.readouts import summarise
from .experiments.targets import evaluate_targets, target_scenarios
from .io import OutputDir, build_manifest, write_json, write_table
from .model.library.hosts import profile
from .scenarios import Scenario
from .solvers import Status, Trajectories
from .tables import TRAJECTORIES


@dataclass(frozen=True)
class RunResult:
    """What a use case produced: its episodes, read-outs, manifest and the files written."""

    episodes: tuple[Episode, ...]
    readouts: dict[str, Any]
    manifest: dict[str, Any]
    out_dir: Path | None
    files: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def _trajectory_columns(episodes: Sequence[Episode]) -> dict[str, np.ndarray]:
    """Long-format columns of episodes that share one time grid (the layout of ``Trajectories.columns``)."""
    first = episodes[0]
    traj = Trajectories(first.time, first.species, np.stack([ep.values for ep in episodes]),
                        np.array([ep.status for ep in episodes], dtype=np.int64))
    return traj.columns()


def _status_counts(episodes: Sequence[Episode]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ep in episodes:
        name = Status(ep.status).name
        counts[name] = counts.get(name, 0) + 1
    return counts


def _describe(scenario: Scenario, episode: Episode, days: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read-outs and manifest of one deterministic episode."""
    readouts = {"scenario": scenario.label, "host": scenario.host, "virus": scenario.virus,
                "status": Status(episode.status).name, **episode.readouts}
    settings = {"host": scenario.host, "virus": scenario.virus, "days": days,
                "infection_days": list(scenario.effective_infection_days),
                "interventions": [repr(i) for i in scenario.interventions],
                "overrides": dict(scenario.overrides), "cross_reactivity": scenario.cross_reactivity,
                "detection_limit": scenario.profile.detection_limit, "inoculum": scenario.profile.inoculum}
    manifest = build_manifest(command="simulate", settings=settings, specs=[(scenario.label, episode.spec)],
                              status=_status_counts([episode]))
    return readouts, manifest


def simulate_scenario(scenario: Scenario, *, days: float = 270.0, out_dir: Path | None = None) -> RunResult:
    """Simulate one scenario; with ``out_dir``, write trajectories.parquet, readouts.json, figure.png and
    manifest.json there (atomically: all or nothing)."""
    started = time.perf_counter()
    (episode,) = run_scenarios([scenario], days=days)
    readouts, manifest = _describe(scenario, episode, days)
    files: tuple[str, ...] = ()
    if out_dir is not None:
        from .report.figures import episode_figure

        with OutputDir(out_dir) as stage:
            write_table(stage.path / "trajectories.parquet", _trajectory_columns([episode]), TRAJECTORIES,
                        {"scenario": scenario.label, "model_hash": manifest["scenarios"][scenario.label]["model_hash"]})
            write_json(stage.path / "readouts.json", readouts)
            episode_figure([episode], stage.path / "figure.png", title=scenario.label)
            manifest["files"] = stage.checksums()
            manifest["elapsed_s"] = round(time.perf_counter() - started, 3)
            write_json(stage.path / "manifest.json", manifest)
        files = tuple(stage.files)
    return RunResult((episode,), readouts, manifest, out_dir, files)


def simulate_stochastic(
    scenario: Scenario,
    *,
    days: float = 270.0,
    replicates: int = 200,
    seed: int = 0,
    method: str = "exact",
    lesion_threshold: float = 50.0,
    out_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """The deterministic episode plus ``replicates`` stochastic lungs (clones, lesions); with ``out_dir``,
    writes what :func:`simulate_scenario` writes plus stochastic.json and replicates.parquet."""
    from .experiments.stochastic import run_stochastic

    started = time.perf_counter()
    sto = run_stochastic(scenario, days=days, replicates=replicates, seed=seed, method=method,
                         lesion_threshold=lesion_threshold, progress=progress)
    episode = sto.host  # the deterministic host episode that drove the clones
    assert episode is not None
    det_readouts, manifest = _describe(scenario, episode, days)
    readouts = {**det_readouts, **sto.readouts()}
    manifest["seed"] = seed
    manifest["command"] = "simulate --stochastic"
    manifest["settings"] = {**manifest["settings"], "replicates": replicates, "method": method,
                            "lesion_threshold_cells": lesion_threshold}
    files: tuple[str, ...] = ()
    if out_dir is not None:
        from .report.figures import episode_figure, stochastic_figure
        from .tables import REPLICATES

        with OutputDir(out_dir) as stage:
            write_table(stage.path / "trajectories.parquet", _trajectory_columns([episode]), TRAJECTORIES,
                        {"scenario": scenario.label})
            n_rep, n_days = sto.total.shape
            write_table(stage.path / "replicates.parquet", {
                "replicate": np.repeat(np.arange(n_rep, dtype=np.int64), n_days),
                "day": np.tile(np.asarray(sto.days, dtype=float), n_rep),
                "dcc_total": sto.total.reshape(-1),
                "lesions_present": sto.lesions_present.reshape(-1),
                "first_lesion_day": np.repeat(sto.first_lesion_day, n_days),
            }, REPLICATES, {"scenario": scenario.label, "seed": str(seed), "method": method})
            write_json(stage.path / "readouts.json", readouts)
            episode_figure([episode], stage.path / "figure.png", title=scenario.label)
            stochastic_figure(sto, stage.path / "stochastic.png")
            manifest["files"] = stage.checksums()
            manifest["elapsed_s"] = round(time.perf_counter() - started, 3)
            write_json(stage.path / "manifest.json", manifest)
        files = tuple(stage.files)
    return RunResult((episode,), readouts, manifest, out_dir, files, {"stochastic": sto})


def export_sbml(scenario: Scenario, path: Path) -> Path:
    """Write the scenario's model and events as validated SBML L3V2 (needs the ``sbml`` extra)."""
    from .io.sbml import write_sbml

    spec, schedule = scenario.apply()
    return write_sbml(Path(path), spec, schedule, model_id=scenario.label)


def parameter_table(host: str, virus: str) -> list[dict[str, Any]]:
    """Every parameter of ``host``/``virus`` with value, unit, prior range and source."""
    spec = profile(host, virus).spec()
    return [{"name": p.name, "value": p.value, "unit": p.unit, "prior": p.prior, "source": p.source, "doc": p.doc}
            for p in spec.parameters]


def _trim(ep: Episode, days: float) -> Episode:
    """The episode restricted to ``days`` (targets need 270 d even when the report shows fewer)."""
    if ep.time[-1] <= days + 1e-9:
        return ep
    keep = ep.time <= days + 1e-9
    cols = {s: ep.values[keep, i] for i, s in enumerate(ep.species)}
    readouts = summarise(ep.time[keep], cols, infection_days=ep.scenario.effective_infection_days,
                         detection_limit=ep.scenario.profile.detection_limit)
    return replace(ep, time=ep.time[keep], values=ep.values[keep], readouts=readouts)


def run_demo(out_dir: Path, *, days: float = 270.0) -> RunResult:
    """The main job: the mouse panel of Chia et al. 2025, the calibration targets, and a human episode,
    written as a self-contained HTML report with figures (plus JSON, Parquet and a manifest)."""
    from .report.html import render_demo_report

    started = time.perf_counter()
    panel_arms = list(mouse_panel())
    human_arms = [Scenario("human", "influenza", name="human influenza"),
                  Scenario("human", "sars-cov-2", name="human SARS-CoV-2"),
                  Scenario("human", "none", name="human, no infection")]
    target_arms = target_scenarios()
    # One batched solve for every arm: the per-step cost barely grows with the number of rows.
    horizon = max(days, 270.0)
    everything = run_scenarios([*panel_arms, *human_arms, *target_arms.values()], days=horizon)
    trimmed = [_trim(ep, days) for ep in everything]
    panel = trimmed[: len(panel_arms)]
    human = trimmed[len(panel_arms) : len(panel_arms) + len(human_arms)]
    targets = evaluate_targets(dict(zip(target_arms, everything[len(panel_arms) + len(human_arms) :])))
    readouts = {ep.scenario.label: ep.readouts for ep in [*panel, *human]}
    episodes = (*panel, *human)
    manifest = build_manifest(command="demo", settings={"days": days},
                              specs=[(ep.scenario.label, ep.spec) for ep in episodes],
                              status=_status_counts(episodes))
    with OutputDir(out_dir) as stage:
        write_table(stage.path / "trajectories.parquet", _trajectory_columns(panel), TRAJECTORIES,
                    {"scenarios": "; ".join(f"{i}={ep.scenario.label}" for i, ep in enumerate(panel))})
        write_json(stage.path / "readouts.json", readouts)
        write_json(stage.path / "targets.json", targets)
        render_demo_report(stage.path / "report.html", panel=panel, human=human, targets=targets, manifest=manifest)
        manifest["files"] = stage.checksums()
        manifest["elapsed_s"] = round(time.perf_counter() - started, 3)
        write_json(stage.path / "manifest.json", manifest)
    n_ok = sum(1 for t in targets if t["ok"])
    return RunResult(episodes, readouts, manifest, out_dir, tuple(stage.files),
                     {"targets_passed": n_ok, "targets_total": len(targets), "targets": targets})
