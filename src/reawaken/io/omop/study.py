"""Studies as data: a TOML file names the target cohort, exposure, outcome, windows, covariates, censoring.

Validated once, here, at the boundary (design principle 8): an unknown key, a wrong type or an
impossible value raises :class:`~reawaken.errors.StudyError` naming the key, e.g.
``study ukb.toml: [exposure] windows_days must be a list of numbers, got 'x'``.

Shipped studies live in ``studies/`` beside this module and are found by name (``--study ukb-style``).

Layout (every key; defaults in brackets)::

    name = "flatiron-style"
    description = "..."                         [""]
    ties = "efron"                              ["breslow"] tied event times in the Cox model
    [cohort]                                    # target cohort: first record of these concepts
    concepts = [4112853]
    include_descendants = true                  [true]
    study_start = 2020-01-01                    # index = later of cohort entry and study_start
    study_end = 2023-12-31                      # administrative censoring
    min_years_before_start = 0.0                [0] entry at least this long before study_start
    washout_days = 0                            [0] continuous observation required before index
    exclude_prior_outcome = true                [true] persons with the outcome on or before index leave
    [exposure]
    concepts = [37311061]
    include_descendants = true                  [true]
    windows_days = [0, 90, 365]                 # risk windows after each infection: [0,90), [90,365), >=365
    lookback_days = 0                           [0] infections this long before index open windows too
    episode_gap_days = 30                       [30] records closer than this are one episode
    [outcome]
    table = "condition_occurrence"              # or "death" (then concepts are causes of death)
    concepts = [254591]
    include_descendants = true                  [true]
    [censoring]
    death = true                                [true] deaths that are not the outcome censor follow-up
    excluded_death_concepts = [37311061]        [[]] deaths with these causes (with descendants) never
                                                #    count as the outcome ("COVID deaths excluded")
    [[covariates]]                              # any number
    name = "age_per_10y"
    kind = "age_at_index"                       # or "years_since_entry" or "measurement"
    per = 10.0                                  [1] divide the value by this
    concept_id = 2000000002                     # measurement only: latest value on or before index
    above = 0.0                                 # measurement only, optional: indicator value > above
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ...cohort.config import _read_toml  # the one TOML reader of config and study files
from ...errors import StudyError
from .conceptsets import ConceptSetItem, read_expression

OUTCOME_TABLES = ("condition_occurrence", "death", "cohort")
#: Most exposure windows of a study. Each window is a Cox term and splits every infection's follow-up once
#: more, so memory grows as rows x windows (1,500 windows drove ``analyze`` to 24 GB); published designs
#: use 3-5, and 50 windows already need ~500 events for 10 per term.
MAX_WINDOWS = 50
TIES = ("breslow", "efron")
COVARIATE_KINDS = ("age_at_index", "years_since_entry", "measurement", "condition", "drug")
_SET_KINDS = ("condition", "drug")  # covariates read from a concept set: 1 if any record before index


@dataclass(frozen=True)
class ConceptSet:
    """Concepts by id (with or without descendants), or an ATLAS expression (``items``), or an OHDSI
    ``cohort`` table's rows (``cohort_definition_id``, [cohort]/[exposure]/[outcome] only)."""

    concepts: tuple[int, ...]
    include_descendants: bool = True
    items: tuple[ConceptSetItem, ...] = ()  # an ATLAS expression; then ``concepts`` lists every item's id
    cohort_definition_id: int | None = None


@dataclass(frozen=True)
class Covariate:
    name: str
    kind: str
    per: float = 1.0
    concept_id: int | None = None
    above: float | None = None
    concepts: ConceptSet | None = None  # condition / drug covariates: any record of the set before index
    lookback_days: int | None = None  # condition / drug: only records this close before index (None: any)


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    cohort: ConceptSet
    study_start: _dt.date
    study_end: _dt.date
    min_years_before_start: float
    washout_days: int
    exclude_prior_outcome: bool
    exposure: ConceptSet
    windows_days: tuple[float, ...]
    lookback_days: int
    episode_gap_days: int
    outcome_table: str
    outcome: ConceptSet
    censor_on_death: bool
    excluded_death_causes: ConceptSet
    covariates: tuple[Covariate, ...]
    source: str = ""
    ties: str = "breslow"

    def as_dict(self) -> dict[str, Any]:
        """The validated study as plain data (for manifests)."""
        from dataclasses import asdict

        out = asdict(self)
        out["study_start"] = self.study_start.isoformat()
        out["study_end"] = self.study_end.isoformat()
        return out


# key -> (type name, default or _REQUIRED, unit, one-line doc): the study file's schema, declared once for
# validation, messages and docs (``describe_study``).
_REQUIRED = object()
_SCHEMA: dict[str, dict[str, tuple[str, Any, str, str]]] = {
    "": {"name": ("str", _REQUIRED, "", "the study's name (reports, forest plot)"),
         "description": ("str", "", "", "free text"),
         "ties": ("str", "breslow", "", "tied event times in the Cox model: breslow or efron")},
    "cohort": {
        "concepts": ("concepts", None, "concept ids", "target condition (e.g. breast cancer): ids, or an ATLAS "
                     "concept set (JSON file path, JSON text or a table with items)"),
        "cohort_definition_id": ("int", None, "", "instead of concepts: entry at the first cohort_start_date "
                                 "of this cohort in the results schema's cohort table"),
        "include_descendants": ("bool", True, "", "also match descendants of the concepts"),
        "study_start": ("date", _REQUIRED, "date", "start of follow-up; the index is the later of this and entry"),
        "study_end": ("date", _REQUIRED, "date", "administrative end of follow-up"),
        "min_years_before_start": ("number", 0.0, "y", "first target record at least this long before study_start"),
        "washout_days": ("int", 0, "d", "observation required before the index"),
        "exclude_prior_outcome": ("bool", True, "", "drop persons with the outcome before the index"),
    },
    "exposure": {
        "concepts": ("concepts", None, "concept ids", "exposure condition (e.g. COVID-19): ids or an ATLAS "
                     "concept set"),
        "cohort_definition_id": ("int", None, "", "instead of concepts: each cohort_start_date of this cohort "
                                 "is an exposure record"),
        "include_descendants": ("bool", True, "", "also match descendants of the concepts"),
        "windows_days": ("numbers", _REQUIRED, "d", "risk-window starts after each exposure, from 0, increasing"),
        "lookback_days": ("int", 0, "d", "count exposures this long before the index"),
        "episode_gap_days": ("int", 30, "d", "records closer than this are one episode"),
    },
    "outcome": {
        "table": ("str", _REQUIRED, "", "condition_occurrence, death or cohort"),
        "concepts": ("concepts", None, "concept ids", "outcome condition or cause of death: ids or an ATLAS "
                     "concept set"),
        "cohort_definition_id": ("int", None, "", "table = \"cohort\": the first cohort_start_date of this "
                                 "cohort after index is the outcome"),
        "include_descendants": ("bool", True, "", "also match descendants of the concepts"),
    },
    "censoring": {
        "death": ("bool", True, "", "censor at death"),
        "excluded_death_concepts": ("concepts", [], "concept ids", "deaths from these causes censor, not count: "
                                    "ids or an ATLAS concept set"),
    },
}
_COVARIATE = {"name": ("str", _REQUIRED, "", "term name in the Cox model"),
              "kind": ("str", _REQUIRED, "", "how the covariate is built (age, condition, measurement, ...)"),
              "per": ("number", 1.0, "", "scale: the HR is per this many units"),
              "concept_id": ("int", None, "concept id", "concept the covariate reads"),
              "above": ("number", None, "", "threshold for a binary covariate"),
              "concepts": ("concepts", None, "concept ids", "condition / drug: the concept set (ids with "
                           "descendants, or an ATLAS concept set)"),
              "lookback_days": ("int", None, "d", "condition / drug: records at most this long before index")}


def describe_study() -> list[dict[str, Any]]:
    """Every study-file key with section, type, default (None: required), unit and doc."""
    rows = []
    for section, keys in [*_SCHEMA.items(), ("[covariates]", _COVARIATE)]:
        for key, (kind, default, unit, doc) in keys.items():
            rows.append({"section": section or "(top)", "key": key, "type": kind,
                         "default": None if default is _REQUIRED else default,
                         "required": default is _REQUIRED, "unit": unit, "doc": doc})
    return rows


_SECTIONS = ("cohort", "exposure", "outcome", "censoring", "covariates")


def _typed(where: str, key: str, kind: str, value: Any) -> Any:
    def bad(need: str) -> StudyError:
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        return StudyError(f"{where}{key} must be {need}, got {shown}")

    if kind == "str":
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return float(value)
    if kind == "date":
        if isinstance(value, _dt.datetime):
            return value.date()
        if isinstance(value, _dt.date):
            return value
        if isinstance(value, str):
            try:
                return _dt.date.fromisoformat(value)
            except ValueError:
                raise bad("a date (YYYY-MM-DD)") from None
        raise bad("a date (YYYY-MM-DD)")
    if kind == "concepts":
        if isinstance(value, (str, dict)):
            return value  # an ATLAS concept set: read in parse_study, which knows the study's folder
        kind = "ids"
    if kind == "ids":
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise bad("a list of concept ids (whole numbers) or an ATLAS concept set (JSON file path, JSON "
                      "text or a table with items)")
        return tuple(value)
    if kind == "numbers":
        if not isinstance(value, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                  and math.isfinite(v) for v in value):
            raise bad("a list of finite numbers")
        return tuple(float(v) for v in value)
    raise AssertionError(kind)


def _section(raw: Mapping[str, Any], schema: Mapping[str, tuple[str, Any, str, str]], where: str) -> dict[str, Any]:
    unknown = [k for k in raw if k not in schema]
    if unknown:
        raise StudyError(f"{where}unknown key {unknown[0]!r}; known keys: {', '.join(schema)}")
    out = {}
    for key, (kind, default, _unit, _doc) in schema.items():
        if key not in raw:
            if default is _REQUIRED:
                raise StudyError(f"{where}{key} is missing (required)")
            out[key] = default
        else:
            out[key] = _typed(where, key, kind, raw[key])
    return out


def _concept_set(value: Any, include_descendants: bool, where: str, base_dir: Path,
                 cohort_definition_id: int | None = None) -> ConceptSet:
    """A concept list (ids), an ATLAS expression (path, JSON text or table) or a cohort-table reference."""
    if cohort_definition_id is not None:
        if value is not None:
            raise StudyError(f"{where}give concepts or cohort_definition_id, not both")
        return ConceptSet((), include_descendants, (), cohort_definition_id)
    if value is None:
        raise StudyError(f"{where}concepts is missing (required, or cohort_definition_id for a cohort table)")
    if isinstance(value, tuple):
        if not value:
            raise StudyError(f"{where}concepts is empty; name at least one concept id")
        return ConceptSet(value, include_descendants)
    items = read_expression(value, f"{where.rstrip()} concepts", base_dir)
    return ConceptSet(tuple(dict.fromkeys(i.concept_id for i in items)), include_descendants, items)


def parse_study(raw: Mapping[str, Any], source: str = "study", base_dir: str | os.PathLike[str] | None = None) -> Study:
    """Validate a parsed TOML document and return the :class:`Study`; concept-set files named in it are read
    relative to ``base_dir`` (default: the working directory)."""
    folder = Path(base_dir) if base_dir is not None else Path.cwd()
    top = {k: v for k, v in raw.items() if k not in _SECTIONS}
    head = _section(top, _SCHEMA[""], f"study {source}: ")
    parts: dict[str, dict[str, Any]] = {}
    for sec in ("cohort", "exposure", "outcome", "censoring"):
        value = raw.get(sec, {})
        if not isinstance(value, dict):
            raise StudyError(f"study {source}: [{sec}] must be a table")
        if sec != "censoring" and sec not in raw:
            raise StudyError(f"study {source}: section [{sec}] is missing (required)")
        parts[sec] = _section(value, _SCHEMA[sec], f"study {source}: [{sec}] ")
    covs_raw = raw.get("covariates", [])
    if not isinstance(covs_raw, list) or not all(isinstance(c, dict) for c in covs_raw):
        raise StudyError(f"study {source}: covariates must be an array of tables ([[covariates]])")
    covariates = []
    for i, c in enumerate(covs_raw):
        where = f"study {source}: [[covariates]] #{i + 1} "
        cv = _section(c, _COVARIATE, where)
        if cv["kind"] not in COVARIATE_KINDS:
            raise StudyError(f"{where}kind must be one of {', '.join(COVARIATE_KINDS)}, got {cv['kind']!r}")
        if cv["kind"] == "measurement" and cv["concept_id"] is None:
            raise StudyError(f"{where}concept_id is missing (required for kind = \"measurement\")")
        if cv["kind"] != "measurement" and (cv["concept_id"] is not None or cv["above"] is not None):
            raise StudyError(f"{where}concept_id and above apply only to kind = \"measurement\"")
        if cv["kind"] in _SET_KINDS:
            cv["concepts"] = _concept_set(cv["concepts"], True, where, folder)
            if cv["lookback_days"] is not None and cv["lookback_days"] < 0:
                raise StudyError(f"{where}lookback_days must be >= 0, got {cv['lookback_days']}")
        elif cv["concepts"] is not None or cv["lookback_days"] is not None:
            raise StudyError(f"{where}concepts and lookback_days apply only to kind = \"condition\" or \"drug\"")
        if cv["per"] <= 0:
            raise StudyError(f"{where}per must be positive, got {cv['per']}")
        covariates.append(Covariate(**cv))
    names = [c.name for c in covariates]
    if len(set(names)) != len(names):
        raise StudyError(f"study {source}: covariate names must be unique, got {names}")
    co, ex, ou, ce = parts["cohort"], parts["exposure"], parts["outcome"], parts["censoring"]
    sets = {sec: _concept_set(p["concepts"], p["include_descendants"], f"study {source}: [{sec}] ", folder,
                              p["cohort_definition_id"]) for sec, p in (("cohort", co), ("exposure", ex), ("outcome", ou))}
    exc_raw = ce["excluded_death_concepts"]
    excluded = (ConceptSet((), True) if isinstance(exc_raw, (list, tuple)) and not exc_raw
                else _concept_set(exc_raw, True, f"study {source}: [censoring] excluded_death_", folder))
    if (ou["table"] == "cohort") != (ou["cohort_definition_id"] is not None):
        raise StudyError(f"study {source}: [outcome] table = \"cohort\" and cohort_definition_id go together")
    if co["study_end"] <= co["study_start"]:
        raise StudyError(f"study {source}: [cohort] study_end ({co['study_end']}) must be after study_start "
                         f"({co['study_start']})")
    w = ex["windows_days"]
    if len(w) > MAX_WINDOWS:
        raise StudyError(f"study {source}: [exposure] windows_days has {len(w):,} windows; at most {MAX_WINDOWS} "
                         "are allowed (each is a Cox term and multiplies the data): use fewer, wider windows")
    if not w or w[0] != 0.0 or any(b <= a for a, b in zip(w, w[1:])):
        raise StudyError(f"study {source}: [exposure] windows_days must start at 0 and increase, got {list(w)}")
    if head["ties"] not in TIES:
        raise StudyError(f"study {source}: ties must be one of {', '.join(TIES)}, got {head['ties']!r}")
    if ou["table"] not in OUTCOME_TABLES:
        raise StudyError(f"study {source}: [outcome] table must be one of {', '.join(OUTCOME_TABLES)}, "
                         f"got {ou['table']!r}")
    for key, value in (("[cohort] washout_days", co["washout_days"]), ("[exposure] lookback_days", ex["lookback_days"]),
                       ("[exposure] episode_gap_days", ex["episode_gap_days"]),
                       ("[cohort] min_years_before_start", co["min_years_before_start"])):
        if value < 0:
            raise StudyError(f"study {source}: {key} must be >= 0, got {value}")
    return Study(
        name=head["name"], description=head["description"],
        cohort=sets["cohort"], study_start=co["study_start"],
        study_end=co["study_end"], min_years_before_start=co["min_years_before_start"],
        washout_days=co["washout_days"], exclude_prior_outcome=co["exclude_prior_outcome"],
        exposure=sets["exposure"], windows_days=w,
        lookback_days=ex["lookback_days"], episode_gap_days=ex["episode_gap_days"], outcome_table=ou["table"],
        outcome=sets["outcome"], censor_on_death=ce["death"],
        excluded_death_causes=excluded, covariates=tuple(covariates),
        source=source, ties=head["ties"],
    )


def shipped_studies() -> tuple[str, ...]:
    """Names of the studies shipped with reawaken (``--study NAME``)."""
    root = resources.files("reawaken.io.omop").joinpath("studies")
    return tuple(sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml")))


def load_study(study: str | os.PathLike[str]) -> Study:
    """A study from a TOML file path or a shipped name (``ukb-style``, ``flatiron-style``)."""
    text_path = Path(study)
    if text_path.suffix == ".toml" or text_path.exists():
        if not text_path.is_file():
            raise StudyError(f"--study {study}: no such file")
        try:
            text: str | bytes = text_path.read_bytes()
        except OSError as exc:
            raise StudyError(f"--study {study}: cannot be read: {exc.strerror}") from None
        source = text_path.name
        folder = text_path.resolve().parent
    else:
        name = str(study)
        if name not in shipped_studies():
            raise StudyError(f"--study {name!r}: not a file and not a shipped study; shipped: "
                             f"{', '.join(shipped_studies())}")
        text = resources.files("reawaken.io.omop").joinpath("studies", f"{name}.toml").read_text(encoding="utf-8")
        source = f"{name}.toml"
        folder = Path(str(resources.files("reawaken.io.omop").joinpath("studies")))
    raw = _read_toml(text, f"study {source}", StudyError)  # UTF-8 (BOM dropped), one-line errors
    return parse_study(raw, source, folder)
