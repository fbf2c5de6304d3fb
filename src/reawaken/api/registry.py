"""Use cases of the registry layer: a cohort written as an OMOP CDM, and a study run on any CDM."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..io import build_manifest
from .results import AnalysisResult, CohortResult, RegistryResult


def write_registry(cohort: CohortResult | str | Path, out: Path | str, *, arm: str | None = None, seed: int = 0,
                   ascertainment: str | dict[str, float] | None = None, overwrite: bool = False) -> RegistryResult:
    """Write an OMOP CDM v5.4 registry (DuckDB file or ``postgresql://`` URL) from a cohort (a result or its
    directory), with the truth (every infection, recorded or not; persons' mechanistic state) in side files.
    An existing DuckDB file (or its truth files) is refused unless ``overwrite``."""
    from ..io.omop import write_registry as _write

    _refuse_existing(out, overwrite)
    cohort_dir = cohort.path if isinstance(cohort, CohortResult) else Path(cohort)
    truth = _write(cohort_dir, out, arm=arm, seed=seed, ascertainment=ascertainment)
    manifest = {"command": "registry", "cohort": str(cohort_dir), "seed": seed, "arm": truth.get("arm"),
                "ascertainment": truth.get("ascertainment")}
    return RegistryResult(str(out), truth, manifest)


def _refuse_existing(out: Path | str, overwrite: bool) -> None:
    from ..errors import OutputError

    text = str(out)
    if overwrite or text.startswith(("postgresql:", "postgres:")):
        return
    path = Path(text.removeprefix("duckdb://"))
    taken = [p for p in (path, *path.parent.glob(f"{path.stem}.truth*")) if p.exists()]
    if taken:
        raise OutputError(f"--out {text}: {taken[0]} exists; choose a new file, or pass --overwrite to replace "
                          "the registry and its truth files")


def _registry_truth(cdm: str) -> dict[str, float] | None:
    """Planted hazard ratios by Cox term, read from ``<cdm>.truth.json`` beside a DuckDB registry if any."""
    if "://" in cdm and not cdm.startswith("duckdb://"):
        return None
    path = Path(cdm.removeprefix("duckdb://"))
    side = path.with_name(f"{path.stem}.truth.json")
    if not side.is_file():
        return None
    from ..errors import SchemaError

    try:
        planted = json.loads(side.read_bytes()).get("planted")
        if not planted:
            return None
        edges = (*planted["windows_days"], float("inf"))
        return {(f"infection {edges[k]:g}-{edges[k + 1]:g} d" if edges[k + 1] != float("inf")
                 else f"infection >{edges[k]:g} d"): hr for k, hr in enumerate(planted["hazard_ratios"])}
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        raise SchemaError(f"{side} (the registry's truth side file) is damaged; restore it from the "
                          "registry run or delete it to analyse without the planted marks") from None


def analyze(cdm: str | Path | RegistryResult, study: str | Path, *, alpha: float = 0.05) -> AnalysisResult:
    """Run a study (TOML file or shipped name: ukb-style, flatiron-style, planted-check) on a CDM
    (``duckdb:///path``, a path, ``postgresql://...`` or a :class:`RegistryResult`).

    The CDM is opened read-only; the population is selected in SQL; then a time-varying Cox model (Breslow
    ties, person-clustered robust SEs), Kaplan-Meier curves and incidence by window, at level ``1 - alpha``.
    """
    from ..analysis import analyze_survival
    from ..errors import ConfigError
    from ..io.omop import extract_study, load_study
    from ..io.omop.cdm import redact_url

    if not (isinstance(alpha, float | int) and 0.0 < float(alpha) < 0.5):
        raise ConfigError(f"alpha must be a number between 0 and 0.5 (e.g. 0.05 for 95% intervals), got {alpha!r}")
    started = time.perf_counter()
    url = cdm.target if isinstance(cdm, RegistryResult) else str(cdm)
    spec = load_study(study)
    data, info = extract_study(url, spec)
    result = analyze_survival(data, spec.windows_days, alpha=float(alpha))
    shown = redact_url(url)  # results and manifests never hold a password
    result = {"study": spec.name, "cdm": {"url": shown, **info}, **result}
    truth = _registry_truth(url)
    if truth:
        result["planted"] = truth
    manifest = build_manifest(command="analyze", settings={"study": spec.as_dict(), "cdm": shown, "alpha": alpha})
    elapsed = round(time.perf_counter() - started, 3)
    return AnalysisResult(result, spec.as_dict(), manifest, elapsed)
