"""Use cases of the population layer: a virtual cohort, or a batch of parameter sets through one cohort."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np

from ..cohort.config import CohortConfig
from ..errors import ConfigError
from ..model.params import ParameterSet, as_parameter_set
from .results import CohortBatchResult, CohortResult

DEFAULT_CHUNK = 50_000
MAX_CHUNK = 500_000  # people per chunk: ~10 KB of working memory each (measured ~0.5 GB for 2 x 50,000 in flight)
MAX_PERSONS = 1_000_000_000  # ids, progress and summaries are sized for this; beyond it, split the run by seed
# Parquet bytes per person in the store, measured on the default cohort (20,000 people, 15 years): persons
# ~47 B; events ~81 B in an arm with infections (a no-infection arm ~35 B). Rounded up.
STORE_BYTES_PER_PERSON, STORE_BYTES_PER_PERSON_ARM = 60, 100


def store_size_estimate(n: int, n_arms: int) -> int:
    """Bytes a cohort store of ``n`` people in ``n_arms`` arms takes on disk (an upper estimate)."""
    return int(n) * (STORE_BYTES_PER_PERSON + n_arms * STORE_BYTES_PER_PERSON_ARM)


def _check_size(n: int, n_arms: int, chunk_size: int | None, out: Path) -> None:
    import shutil

    if not 1 <= int(n) <= MAX_PERSONS:
        raise ConfigError(f"n must be between 1 and {MAX_PERSONS:,}, got {n!r}; run larger cohorts as several "
                          "seeds")
    if chunk_size is not None and not 1 <= int(chunk_size) <= MAX_CHUNK:
        raise ConfigError(f"chunk_size must be between 1 and {MAX_CHUNK:,} people, got {chunk_size!r}")
    need = store_size_estimate(n, n_arms)
    anc = out.resolve()
    while not anc.exists():
        anc = anc.parent
    free = shutil.disk_usage(anc).free
    if need > free:
        raise ConfigError(f"a cohort of {int(n):,} people in {n_arms} arm(s) needs about {need / 1e9:,.1f} GB on "
                          f"disk; {anc} has {free / 1e9:,.1f} GB free; run fewer people or choose another --out")


def run_cohort(
    config: CohortConfig,
    *,
    n: int,
    out_dir: str | Path | None = None,
    seed: int = 0,
    years: float | None = None,
    arms: Sequence[str] = ("baseline",),
    params: ParameterSet | Mapping[str, float] | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    dask: bool = False,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    tables: Any = None,
    n_severity: int = 65,
) -> CohortResult:
    """Simulate ``n`` survivors in every arm with the human parameter set ``params`` (default: the profile
    values) and return a :class:`CohortResult` whose tables stay in the Parquet store at ``out_dir`` (a new
    temporary directory when not given). Re-running the same call on an interrupted ``out_dir`` resumes it.

    Where chunks run: ``executor`` (any ``concurrent.futures.Executor`` you own, e.g. a process pool or a Dask
    client's ``get_executor()``), else ``scheduler`` (a Dask address), ``dask=True`` (a local Dask cluster of
    ``workers``), ``workers`` (a local process pool), or this process. Results do not depend on the choice.

    ``tables``: episode tables already solved for this config and parameter set (else solved here, or taken
    from the in-process cache by content hash). ``n_severity``: points of the episode tables' severity grid.
    """
    from ..cohort.simulate import (
        arms_from_config,
        table_settings,
        tables_key,
    )
    from ..io.cohort_store import SCHEMA_VERSION, CohortStore, write_json_atomic

    t0 = time.perf_counter()
    if not isinstance(config, CohortConfig):
        raise ConfigError("config must be a CohortConfig: reawaken.cohort.load_config(path) or "
                          "reawaken.cohort.default_config()")
    ps = as_parameter_set(params, "human")
    cfg = config if years is None else config.with_overrides(cohort={"years": float(years)})
    arm_list = arms_from_config(cfg, list(arms))
    if len(set(arms)) != len(arms):
        raise ConfigError(f"arms listed twice: {list(arms)}")
    size = int(chunk_size or min(DEFAULT_CHUNK, int(n)))
    mech = cfg.section("mechanism")
    planted = None if mech["mode"] != "planted" else {
        "windows_days": list(mech["planted_windows_days"]), "hazard_ratios": list(mech["planted_hazard_ratios"])}
    settings = table_settings(cfg, arm_list, n_severity=n_severity)
    run = {"kind": "reawaken-cohort", "schema_version": SCHEMA_VERSION, "config_hash": cfg.hash(), "seed": int(seed),
           "n_persons": int(n), "years": float(cfg.get("cohort", "years")), "arms": list(arms), "chunk_size": size,
           "start_date": cfg.start_date.isoformat(), "parameter_set_hash": ps.hash(),
           "tables_key": tables_key(settings, ps)}
    _check_size(int(n), len(arms), chunk_size, Path(out_dir) if out_dir is not None else Path(tempfile.gettempdir()))
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="reawaken-cohort-")) / "cohort"
    store = CohortStore(out)
    with store.lock():  # one writer: run.json, the chunks and the summary are all written under it
        resuming = store.open(run)
        summary, manifest = _run_store(store, resuming, run, cfg, arm_list, list(arms), int(n), int(seed), size, ps,
                                       planted, tables, n_severity, workers, scheduler, dask, executor, progress)
        summary["elapsed_s"] = round(time.perf_counter() - t0, 3)
        write_json_atomic(out / "summary.json", summary)
    return CohortResult(out, summary, manifest)


def _run_store(store: Any, resuming: bool, run: dict[str, Any], cfg: CohortConfig, arm_list: Any, arms: list[str],
               n: int, seed: int, size: int, ps: ParameterSet, planted: Any, tables: Any, n_severity: int,
               workers: int | None, scheduler: str | None, dask: bool, executor: Executor | None,
               progress: Callable[[int, int], None] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body of a cohort run while its folder is locked: tables, the missing (or damaged) chunks, the
    summary, figures and manifest. Returns (summary without elapsed time, manifest)."""
    from ..cohort.episodes import tables_from_arrays, tables_to_arrays
    from ..cohort.executors import run_tasks
    from ..cohort.simulate import CAUSES, EVENT_KINDS, build_model, model_with_tables, simulate_chunk_task
    from ..io.cohort_store import write_json_atomic
    from ..io.manifest import package_versions
    from ..io.outputs import to_json
    from ..report.cohort_figures import cumulative_figure, incidence_figure

    out = store.path
    saved = store.load_tables() if resuming else None
    if saved is not None or tables is not None:
        model = model_with_tables(cfg, arm_list, tables if saved is None else tables_from_arrays(saved), params=ps)
        if saved is None:
            store.save_tables(tables_to_arrays(model.tables))
    else:
        model = build_model(cfg, arm_list, n_severity=n_severity, params=ps)
        store.save_tables(tables_to_arrays(model.tables))
    chunks = [(i, (f, min(size, n - f))) for i, f in enumerate(range(0, n, size))]
    done, repaired = store.verified()  # a chunk whose files were damaged since is computed again
    todo = [(i, (model, seed, f, c)) for i, (f, c) in chunks if i not in done]
    meta = {"reawaken.run": to_json(run, indent=None)}
    if progress is not None:
        progress(len(done), len(chunks))
    for i, res in run_tasks(simulate_chunk_task, todo, workers=workers, scheduler=scheduler,
                            local="dask" if dask else "processes", executor=executor):
        store.write_chunk(i, res.persons, res.events, res.marker(), event_kinds=EVENT_KINDS, causes=CAUSES,
                          metadata=meta)
        done[i] = res.marker()
        if progress is not None:
            progress(len(done), len(chunks))
    summary = cohort_summary(done, arms, n)
    summary["resumed"] = bool(resuming)
    summary["chunks"] = len(chunks)
    monthly = summary.pop("_monthly")
    incidence_figure(monthly, n, cfg.start_date, out / "incidence.png", arm=arms[0])
    cumulative_figure(monthly, n, cfg.start_date, out / "cumulative_lung_metastasis.png")
    manifest = {**run, "command": "cohort", "config": cfg.to_dict(), "planted": planted,
                "parameter_set": ps.to_dict(), "model_hash": _human_model_hash(ps), "versions": package_versions(),
                "repaired_chunks": repaired,
                "files": ["persons/", "events/", "summary.json", "incidence.png", "cumulative_lung_metastasis.png"]}
    write_json_atomic(out / "manifest.json", manifest)
    return summary, manifest


def run_cohorts(
    config: CohortConfig,
    params: Sequence[ParameterSet | Mapping[str, float]],
    *,
    n: int,
    out_dir: str | Path | None = None,
    seed: int = 0,
    n_severity: int = 65,
    **options: Any,
) -> CohortBatchResult:
    """Run the same cohort (same people, same infection draws: common random numbers) under every parameter
    set in ``params`` (e.g. 200 posterior draws). The episode tables of all sets are solved together in one
    batched solve per virus; each set's cohort goes to ``out_dir/set-NNN``. ``options``: as :func:`run_cohort`.
    """
    from ..cohort.simulate import arms_from_config, solve_tables, table_settings

    sets = [as_parameter_set(p, "human") for p in params]
    if not sets:
        raise ConfigError("run_cohorts needs at least one parameter set")
    root = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="reawaken-cohorts-"))
    cfg = config if options.get("years") is None else config.with_overrides(cohort={"years": float(options["years"])})
    arm_list = arms_from_config(cfg, list(options.get("arms", ("baseline",))))
    tables = solve_tables(table_settings(cfg, arm_list, n_severity=n_severity), sets)
    root.mkdir(parents=True, exist_ok=True)
    results = tuple(run_cohort(config, n=n, out_dir=root / f"set-{k:03d}", seed=seed, params=ps, tables=t,
                               n_severity=n_severity, **options) for k, (ps, t) in enumerate(zip(sets, tables)))
    manifest = {"command": "cohorts", "seed": int(seed), "n_persons": int(n),
                "parameter_sets": [ps.to_dict() for ps in sets], "out_dir": str(root)}
    return CohortBatchResult(results, manifest)


def _human_model_hash(params: ParameterSet) -> str:
    from ..model.serialize import spec_hash
    from ..scenarios import Scenario

    return spec_hash(Scenario("human", "influenza", params=None if params.is_default else params).apply()[0])


def cohort_summary(markers: Mapping[int, Mapping[str, Any]], arms: list[str], n: int) -> dict[str, Any]:
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
