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


DEMO_ARMS = ("baseline", "vaccinated", "anti-il6-after-infection", "no-infection")
DEMO_PLANTED = (2.0, 1.5, 1.0)


def _demo_cohort(stage: Path, n: int, seed: int = 1) -> tuple[str, dict[str, Any]]:
    """The demo's cohort and registry steps: a mechanistic cohort in four arms, its OMOP registry with both
    shipped studies, and a planted-truth registry of the same people checked by the planted-check study."""
    from .cohort.config import load_config
    from .cohort.simulate import arms_from_config, build_model
    from .report.cohort_report import cohort_section, registry_section

    cfg = load_config()
    tables = build_model(cfg, arms_from_config(cfg, list(DEMO_ARMS))).tables
    summary = run_cohort(cfg, n=n, out_dir=stage / "cohort", seed=seed, arms=list(DEMO_ARMS), tables=tables, workers=1)
    planted_cfg = cfg.with_overrides(mechanism={"mode": "planted", "planted_hazard_ratios": list(DEMO_PLANTED)})
    run_cohort(planted_cfg, n=n, out_dir=stage / "cohort-planted", seed=seed, arms=["baseline"], tables=tables,
               workers=1)
    write_registry(stage / "cohort", stage / "registry.duckdb", seed=seed)
    write_registry(stage / "cohort-planted", stage / "registry-planted.duckdb", seed=seed,
                   ascertainment="covid=1,influenza=1")
    results = []
    for label, cdm, study in (
        ("Flatiron-style: COVID-19 -> lung metastasis (mechanistic cohort)", "registry.duckdb", "flatiron-style"),
        ("UK Biobank-style: SARS-CoV-2 -> cancer death, COVID deaths excluded (mechanistic cohort)",
         "registry.duckdb", "ukb-style"),
        ("Planted truth: any infection -> lung metastasis (planted cohort, full ascertainment)",
         "registry-planted.duckdb", "planted-check"),
    ):
        res = analyze_registry(stage / cdm, study)
        results.append((label, res, res.get("planted")))
    figures = [stage / "cohort" / "incidence.png", stage / "cohort" / "cumulative_lung_metastasis.png"]
    html_part = cohort_section(summary, figures) + registry_section(results)
    extra = {"cohort": {k: summary[k] for k in ("n_persons", "person_years", "infections", "lung_metastases",
                                                "cancer_deaths", "arms")},
             "registry": {r[1]["study"] + ("" if r[2] is None else " (planted)"): r[1]["hazard_ratios"] for r in results}}
    return html_part, extra


def run_demo(out_dir: Path, *, days: float = 270.0, cohort_n: int = 100_000) -> RunResult:
    """The main job: the mouse panel of Chia et al. 2025, the calibration targets, human episodes, a
    virtual cohort of ``cohort_n`` survivors in four arms and registry analyses of it, written as a
    self-contained HTML report with figures (plus JSON, Parquet, the cohort, the CDMs and a manifest)."""
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
        extra_html, cohort_extra = _demo_cohort(stage.path, cohort_n) if cohort_n > 0 else ("", {})
        write_json(stage.path / "cohort_summary.json", cohort_extra)
        render_demo_report(stage.path / "report.html", panel=panel, human=human, targets=targets, manifest=manifest,
                           extra_html=extra_html)
        manifest["files"] = stage.checksums()
        manifest["elapsed_s"] = round(time.perf_counter() - started, 3)
        write_json(stage.path / "manifest.json", manifest)
    n_ok = sum(1 for t in targets if t["ok"])
    return RunResult(episodes, readouts, manifest, out_dir, tuple(stage.files),
                     {"targets_passed": n_ok, "targets_total": len(targets), "targets": targets, **cohort_extra})


# --- Registry (OMOP CDM) ----------------------------------------------------------------------------


def write_registry(cohort_dir: Path, out: Path | str, *, arm: str | None = None, seed: int = 0,
                   ascertainment: str | dict[str, float] | None = None) -> dict[str, Any]:
    """Write an OMOP CDM v5.4 registry (DuckDB file or ``postgresql://`` URL) from a cohort directory, with
    the truth (every infection, recorded or not; persons' mechanistic state) in side files. Returns the
    truth summary (counts, ascertainment, planted effect, files)."""
    from .io.omop import write_registry as _write

    return _write(cohort_dir, out, arm=arm, seed=seed, ascertainment=ascertainment)


def _registry_truth(cdm: str) -> dict[str, float] | None:
    """Planted hazard ratios by Cox term, read from ``<cdm>.truth.json`` beside a DuckDB registry if any."""
    import json

    if "://" in cdm and not cdm.startswith("duckdb://"):
        return None
    path = Path(cdm.removeprefix("duckdb://"))
    side = path.with_name(f"{path.stem}.truth.json")
    if not side.is_file():
        return None
    planted = json.loads(side.read_text()).get("planted")
    if not planted:
        return None
    edges = (*planted["windows_days"], float("inf"))
    return {(f"infection {edges[k]:g}-{edges[k + 1]:g} d" if edges[k + 1] != float("inf")
             else f"infection >{edges[k]:g} d"): hr for k, hr in enumerate(planted["hazard_ratios"])}


def analyze_registry(cdm: str | Path, study: str | Path, *, out_dir: Path | None = None,
                     alpha: float = 0.05) -> dict[str, Any]:
    """Run a study (TOML file or shipped name) on a CDM (``duckdb:///path``, a path, or ``postgresql://``).

    The CDM is opened read-only; the population is selected in SQL; then a time-varying Cox model
    (Breslow ties, person-clustered robust SEs), Kaplan–Meier curves and incidence by window. With
    ``out_dir``: results.json, km.json, forest.png, km.png, summary.html and manifest.json, atomically.
    Returns the result dict (``n_persons``, ``n_events``, ``hazard_ratios`` ...).
    """
    from .analysis import analyze_survival
    from .io.omop import extract_study, load_study

    started = time.perf_counter()
    spec = load_study(study)
    data, info = extract_study(str(cdm), spec)
    result = analyze_survival(data, spec.windows_days, alpha=alpha)
    result = {"study": spec.name, "cdm": {"url": str(cdm), **info}, **result}
    truth = _registry_truth(str(cdm))
    if truth:
        result["planted"] = truth
    if out_dir is not None:
        from .report.registry import PUBLISHED, forest_plot, km_figure, render_registry_report

        manifest = build_manifest(command="analyze", settings={"study": spec.as_dict(), "cdm": str(cdm),
                                                               "alpha": alpha})
        with OutputDir(out_dir) as stage:
            km = result["km"]
            write_json(stage.path / "results.json", {k: v for k, v in result.items() if k != "km"})
            write_json(stage.path / "km.json", km)
            forest_plot(result["hazard_ratios"], stage.path / "forest.png", title=spec.name, truth=truth,
                        published=PUBLISHED.get(spec.name))
            km_figure(km, stage.path / "km.png", title=spec.name)
            render_registry_report(stage.path / "summary.html", result, study=spec.as_dict(),
                                   forest_png=stage.path / "forest.png", km_png=stage.path / "km.png", truth=truth)
            manifest["files"] = stage.checksums()
            manifest["elapsed_s"] = round(time.perf_counter() - started, 3)
            write_json(stage.path / "manifest.json", manifest)
    result["elapsed_s"] = round(time.perf_counter() - started, 3)
    return result


# --- virtual cohorts -------------------------------------------------------------------------------------

DEFAULT_CHUNK = 50_000


def run_cohort(
    config: Any,
    *,
    n: int,
    out_dir: Path,
    seed: int = 0,
    years: float | None = None,
    arms: Sequence[str] = ("baseline",),
    chunk_size: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    dask: bool = False,
    progress: Callable[[int, int], None] | None = None,
    tables: Any = None,
) -> dict[str, Any]:
    """Simulate ``n`` survivors in every arm and write the cohort directory (see
    :mod:`reawaken.io.cohort_store`). Re-running the same command on an interrupted directory resumes it.
    ``tables``: episode tables already solved for this config (else they are solved here).
    Returns the summary (also written to ``summary.json``)."""
    from .cohort.config import CohortConfig
    from .cohort.episodes import tables_from_arrays, tables_to_arrays
    from .cohort.executors import run_tasks
    from .cohort.simulate import (
        CAUSES,
        EVENT_KINDS,
        arms_from_config,
        build_model,
        model_with_tables,
        simulate_chunk_task,
    )
    from .io.cohort_store import SCHEMA_VERSION, CohortStore, write_json_atomic
    from .io.manifest import package_versions
    from .io.outputs import to_json
    from .report.cohort_figures import cumulative_figure, incidence_figure

    t0 = time.perf_counter()
    if not isinstance(config, CohortConfig):
        raise TypeError("config must be a CohortConfig (reawaken.cohort.load_config)")
    if int(n) < 1:
        raise ValueError(f"n must be at least 1, got {n!r}")
    cfg = config if years is None else config.with_overrides(cohort={"years": float(years)})
    arm_list = arms_from_config(cfg, list(arms))
    if len(set(arms)) != len(arms):
        raise ValueError(f"arms listed twice: {list(arms)}")
    size = int(chunk_size or min(DEFAULT_CHUNK, int(n)))
    mech = cfg.section("mechanism")
    planted = None if mech["mode"] != "planted" else {
        "windows_days": list(mech["planted_windows_days"]), "hazard_ratios": list(mech["planted_hazard_ratios"])}
    run = {"kind": "reawaken-cohort", "schema_version": SCHEMA_VERSION, "config_hash": cfg.hash(), "seed": int(seed),
           "n_persons": int(n), "years": float(cfg.get("cohort", "years")), "arms": list(arms), "chunk_size": size,
           "start_date": cfg.start_date.isoformat()}
    store = CohortStore(out_dir)
    resuming = store.open(run)
    saved = store.load_tables() if resuming else None
    if saved is not None or tables is not None:
        model = model_with_tables(cfg, arm_list, tables if saved is None else tables_from_arrays(saved))
        if saved is None:
            store.save_tables(tables_to_arrays(model.tables))
    else:
        model = build_model(cfg, arm_list)
        store.save_tables(tables_to_arrays(model.tables))
    chunks = [(i, (f, min(size, n - f))) for i, f in enumerate(range(0, n, size))]
    done = store.done()
    todo = [(i, (model, int(seed), f, c)) for i, (f, c) in chunks if i not in done]
    meta = {"reawaken.run": to_json(run, indent=None)}
    if progress is not None:
        progress(len(done), len(chunks))
    for i, res in run_tasks(simulate_chunk_task, todo, workers=workers, scheduler=scheduler,
                            local="dask" if dask else "processes"):
        store.write_chunk(i, res.persons, res.events, res.marker(), event_kinds=EVENT_KINDS, causes=CAUSES,
                          metadata=meta)
        done[i] = res.marker()
        if progress is not None:
            progress(len(done), len(chunks))
    summary = _cohort_summary(done, list(arms), int(n))
    summary["elapsed_s"] = round(time.perf_counter() - t0, 3)
    summary["resumed"] = bool(resuming)
    summary["chunks"] = len(chunks)
    monthly = summary.pop("_monthly")
    out = Path(out_dir)
    incidence_figure(monthly, int(n), cfg.start_date, out / "incidence.png", arm=arms[0])
    cumulative_figure(monthly, int(n), cfg.start_date, out / "cumulative_lung_metastasis.png")
    manifest = {**run, "command": "cohort", "config": cfg.to_dict(), "planted": planted,
                "model_hash": _human_model_hash(), "versions": package_versions(),
                "files": ["persons/", "events/", "summary.json", "incidence.png", "cumulative_lung_metastasis.png"]}
    write_json_atomic(out / "manifest.json", manifest)
    write_json_atomic(out / "summary.json", summary)
    return summary


def _human_model_hash() -> str:
    from .model.serialize import spec_hash

    return spec_hash(Scenario("human", "influenza").apply()[0])


def _cohort_summary(markers: dict[int, dict[str, Any]], arms: list[str], n: int) -> dict[str, Any]:
    """Totals per arm from the chunk markers, with relapses averted against the first arm (paired
    differences over the same people: the common-random-numbers standard error)."""
    per_arm: dict[str, dict[str, Any]] = {}
    monthly: dict[str, dict[str, np.ndarray]] = {}
    for a in arms:
        tot: dict[str, float] = {}
        series: dict[str, np.ndarray] = {}
        dsum = dsq = 0
        for m in markers.values():
            for k, v in m["counts"][a].items():
                tot[k] = tot.get(k, 0.0) + v
            for k, v in m["monthly"][a].items():
                series[k] = series.get(k, 0) + np.asarray(v)
            dsum += m["paired_vs_first_arm"][a]["sum"]
            dsq += m["paired_vs_first_arm"][a]["sum_sq"]
        counts = {k: (int(v) if k != "person_years" else round(v, 1)) for k, v in tot.items()}
        mean = dsum / n
        se = float(np.sqrt(max(dsq / n - mean**2, 0.0) / n))
        counts["lung_metastases_averted_vs_" + arms[0]] = int(dsum)
        counts["averted_per_1000"] = round(1000 * mean, 4)
        counts["averted_per_1000_se_paired"] = round(1000 * se, 4)
        doses = counts.get("anti_il6_doses", 0)
        counts["averted_per_dose"] = round(dsum / doses, 5) if doses else None
        per_arm[a] = counts
        monthly[a] = series
    ref = per_arm[arms[0]]
    return {
        "n_persons": n, "person_years": ref["person_years"], "infections": ref["infections"],
        "lung_metastases": ref["lung_metastases"], "cancer_deaths": ref["cancer_deaths"],
        "reference_arm": arms[0], "arms": per_arm, "_monthly": monthly,
    }
