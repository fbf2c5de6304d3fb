"""Use cases of the registry layer: a cohort written as an OMOP CDM, and a study run on any CDM."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..io import build_manifest
from .results import AnalysisResult, CohortResult, RegistryResult


def _schemas(cdm_schema: str | None, vocab_schema: str | None, results_schema: str | None) -> Any:
    from ..io.omop.cdm import Schemas

    return Schemas(cdm_schema, vocab_schema, results_schema)


@dataclass(frozen=True)
class CdmCheckResult:
    """What a study will and will not find in a CDM (``reawaken cdm-check``): ``report`` is plain data."""

    report: dict[str, Any]

    @property
    def ready(self) -> bool:
        return bool(self.report["ready"])

    def to_dict(self) -> dict[str, Any]:
        return dict(self.report)

    def lines(self) -> list[str]:
        from ..io.omop.conformance import format_report

        return format_report(self.report)

    def __repr__(self) -> str:
        return f"CdmCheckResult({self.report['cdm']!r}, ready={self.ready})"


def check_cdm(cdm: str | Path, *, cdm_schema: str | None = None, vocab_schema: str | None = None,
              results_schema: str | None = None) -> CdmCheckResult:
    """Compare the CDM at ``cdm`` (read-only) with the official OHDSI DDL of its version and list what the
    studies read: tables, columns, row counts, vocabulary, shipped concept ids present."""
    from ..io.omop.conformance import cdm_check

    return CdmCheckResult(cdm_check(str(cdm), schemas=_schemas(cdm_schema, vocab_schema, results_schema)))


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


def analyze(cdm: str | Path | RegistryResult, study: str | Path, *, alpha: float = 0.05, ties: str | None = None,
            cdm_schema: str | None = None, vocab_schema: str | None = None,
            results_schema: str | None = None) -> AnalysisResult:
    """Run a study (TOML file or shipped name: ukb-style, flatiron-style, planted-check) on a CDM
    (``duckdb:///path``, a path, ``postgresql://...`` or a :class:`RegistryResult`).

    The CDM is opened read-only; the population is selected in SQL; then a time-varying Cox model
    (``ties``: ``"breslow"`` or ``"efron"``, default the study's ``ties``, else Breslow; person-clustered
    robust SEs), Kaplan-Meier curves and incidence by window, at level ``1 - alpha``. ``cdm_schema``,
    ``vocab_schema`` and ``results_schema`` say where the clinical, vocabulary and ``cohort`` tables are
    (vocabulary and results default to the CDM schema). Nothing is ever written into the database.
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
    if ties is not None and ties not in ("breslow", "efron"):
        raise ConfigError(f"ties must be 'breslow' or 'efron', got {ties!r}")
    ties = ties or spec.ties
    data, info = extract_study(url, spec, schemas=_schemas(cdm_schema, vocab_schema, results_schema))
    result = analyze_survival(data, spec.windows_days, alpha=float(alpha), ties=ties)
    if info.get("warnings"):
        result["warnings"] = info["warnings"]
    shown = redact_url(url)  # results and manifests never hold a password
    result = {"study": spec.name, "cdm": {"url": shown, **info}, **result}
    truth = _registry_truth(url)
    if truth:
        result["planted"] = truth
    manifest = build_manifest(command="analyze", settings={"study": spec.as_dict(), "cdm": shown, "alpha": alpha,
                                                                "ties": ties, "schemas": info.get("schemas")})
    elapsed = round(time.perf_counter() - started, 3)
    return AnalysisResult(result, spec.as_dict(), manifest, elapsed)
