"""The main job, built from the use cases: the mouse panel and its targets, human episodes, a virtual
cohort in four arms, its OMOP registry and both shipped studies, next to a planted-truth registry."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..experiments import Episode, mouse_panel, run_scenarios
from ..experiments.readouts import summarise
from ..experiments.targets import evaluate_targets, target_scenarios
from ..io import OutputDir, build_manifest, write_json, write_table
from ..scenarios import Scenario
from ..solvers import Status
from ..tables import TRAJECTORIES
from .cohort import run_cohort
from .registry import analyze, write_registry
from .results import AnalysisResult, CohortResult, DemoResult, _trajectory_columns

DEMO_ARMS = ("baseline", "vaccinated", "anti-il6-after-infection", "no-infection")
DEMO_PLANTED = (2.0, 1.5, 1.0)
DEMO_STUDIES = (
    ("Flatiron-style: COVID-19 -> lung metastasis (mechanistic cohort)", "registry.duckdb", "flatiron-style"),
    ("UK Biobank-style: SARS-CoV-2 -> cancer death, COVID deaths excluded (mechanistic cohort)",
     "registry.duckdb", "ukb-style"),
    ("Planted truth: any infection -> lung metastasis (planted cohort, full ascertainment)",
     "registry-planted.duckdb", "planted-check"),
)


def _trim(ep: Episode, days: float) -> Episode:
    """The episode restricted to ``days`` (targets need 270 d even when the report shows fewer)."""
    if ep.time[-1] <= days + 1e-9:
        return ep
    keep = ep.time <= days + 1e-9
    cols = {s: ep.values[keep, i] for i, s in enumerate(ep.species)}
    readouts = summarise(ep.time[keep], cols, infection_days=ep.scenario.effective_infection_days,
                         detection_limit=ep.scenario.profile.detection_limit)
    return replace(ep, time=ep.time[keep], values=ep.values[keep], readouts=readouts)


def _demo_cohort(stage: Path, n: int, seed: int) -> tuple[str, CohortResult, dict[str, AnalysisResult]]:
    from ..cohort.config import load_config
    from ..report.cohort_report import cohort_section, registry_section

    cfg = load_config()
    cohort = run_cohort(cfg, n=n, out_dir=stage / "cohort", seed=seed, arms=list(DEMO_ARMS), workers=1)
    planted_cfg = cfg.with_overrides(mechanism={"mode": "planted", "planted_hazard_ratios": list(DEMO_PLANTED)})
    run_cohort(planted_cfg, n=n, out_dir=stage / "cohort-planted", seed=seed, arms=["baseline"], workers=1)
    write_registry(cohort, stage / "registry.duckdb", seed=seed)
    write_registry(stage / "cohort-planted", stage / "registry-planted.duckdb", seed=seed,
                   ascertainment="covid=1,influenza=1")
    analyses: dict[str, AnalysisResult] = {}
    sections = []
    for label, cdm, study in DEMO_STUDIES:
        res = analyze(stage / cdm, study)
        key = res.result["study"] + ("" if res.result.get("planted") is None else " (planted)")
        analyses[key] = res
        sections.append((label, dict(res.result), res.result.get("planted")))
    figures = [stage / "cohort" / "incidence.png", stage / "cohort" / "cumulative_lung_metastasis.png"]
    return cohort_section(cohort.summary_dict, figures) + registry_section(sections), cohort, analyses


def run_demo(out_dir: str | Path, *, days: float = 270.0, cohort_n: int = 100_000, seed: int = 1,
             overwrite: bool = False) -> DemoResult:
    """The main job (see the module docstring), written to ``out_dir`` as a self-contained HTML report with
    figures, JSON, Parquet, the cohorts, the CDMs and a manifest. ``seed`` fixes the cohorts and registries.
    An existing non-empty ``out_dir`` is refused before any work unless ``overwrite`` (then it is replaced
    as a whole when the new one is complete)."""
    from ..io.outputs import check_out_dir
    from ..report.html import render_demo_report

    started = time.perf_counter()
    out_dir = Path(out_dir)
    check_out_dir(out_dir, overwrite=overwrite)  # before any work, not after it
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
    status: dict[str, int] = {}
    for ep in episodes:
        status[Status(ep.status).name] = status.get(Status(ep.status).name, 0) + 1
    manifest = build_manifest(command="demo", settings={"days": days, "cohort_n": cohort_n},
                              specs=[(ep.scenario.label, ep.spec) for ep in episodes], status=status)
    manifest["seed"] = seed
    cohort, analyses = None, {}
    with OutputDir(out_dir, overwrite=overwrite) as stage:
        write_table(stage.path / "trajectories.parquet", _trajectory_columns(panel), TRAJECTORIES,
                    {"scenarios": "; ".join(f"{i}={ep.scenario.label}" for i, ep in enumerate(panel))})
        write_json(stage.path / "readouts.json", readouts)
        write_json(stage.path / "targets.json", targets)
        extra_html = ""
        if cohort_n > 0:
            extra_html, cohort, analyses = _demo_cohort(stage.path, cohort_n, seed)
        cohort_extra: dict[str, Any] = {} if cohort is None else {
            "cohort": {k: cohort.summary_dict[k] for k in ("n_persons", "person_years", "infections",
                                                           "lung_metastases", "cancer_deaths", "arms")},
            "registry": {k: v.result["hazard_ratios"] for k, v in analyses.items()}}
        write_json(stage.path / "cohort_summary.json", cohort_extra)
        render_demo_report(stage.path / "report.html", panel=panel, human=human, targets=targets, manifest=manifest,
                           extra_html=extra_html)
        manifest["files"] = stage.checksums()
        manifest["elapsed_s"] = round(time.perf_counter() - started, 3)
        write_json(stage.path / "manifest.json", manifest)
    if cohort is not None:  # the stores moved with the stage: point the results at their published place
        cohort = replace(cohort, path=out_dir / "cohort")
    return DemoResult(out_dir, tuple(targets), readouts, cohort, analyses, manifest, tuple(stage.files))
