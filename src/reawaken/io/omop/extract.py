"""Cohort extraction in SQL, inside the database: a study + a CDM connection -> :class:`SurvivalData`.

The database does the selection (first cohort record, observation period around the index date, outcome
and death dates, infection records, covariate measurements) and returns integers: days relative to each
person's index date. Only parameterised SQL; concept sets are expanded through ``concept_ancestor``.
The SQL text is the same on DuckDB and PostgreSQL (date - date is a whole number of days in both), and
every result is ordered, so both backends hand identical arrays to the analysis.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import numpy as np

from ...analysis.study import SurvivalData
from ...errors import SchemaError, StudyError
from ...vocab import DAYS_PER_YEAR
from .cdm import REQUIRED, CdmConnection, Schemas, cdm_version_of, check_cdm
from .conceptsets import resolve
from .study import ConceptSet, Study

_IN = "IN (SELECT UNNEST(CAST(:{0} AS BIGINT[])))"

# The study population: first cohort record, index = later of it and study_start, the observation
# period containing the index, the first outcome record (condition studies) and the first death.
_ENTRY_CTE = """
WITH entry AS (
  SELECT person_id, MIN(d) AS entry_date
  FROM ({target_src}) AS tgt
  GROUP BY person_id
)"""

# Where target, exposure and outcome records come from: (person_id, d) rows of a concept set's condition
# records, or of an OHDSI cohort table's rows (cohort_start_date) for one cohort_definition_id.
_CONDITION_SRC = ("SELECT person_id, condition_start_date AS d FROM {condition_occurrence} "
                  "WHERE condition_concept_id {ids_in}")
_COHORT_SRC = ("SELECT subject_id AS person_id, cohort_start_date AS d FROM {cohort} "
               "WHERE cohort_definition_id = CAST(:{param} AS INTEGER)")
_SET_COVARIATE_SRC = {
    "condition": ("SELECT person_id, condition_start_date AS d FROM {condition_occurrence} "
                  "WHERE condition_concept_id {ids_in}"),
    "drug": "SELECT person_id, drug_exposure_start_date AS d FROM {drug_exposure} WHERE drug_concept_id {ids_in}",
}

_COHORT_CTE = _ENTRY_CTE + """,
base AS (
  SELECT person_id, entry_date,
         CASE WHEN entry_date > CAST(:study_start AS DATE) THEN entry_date ELSE CAST(:study_start AS DATE) END
           AS index_date
  FROM entry
  WHERE entry_date <= CAST(:latest_entry AS DATE)
),
obs AS (
  SELECT b.person_id, b.entry_date, b.index_date,
         MIN(op.observation_period_start_date) AS obs_start, MAX(op.observation_period_end_date) AS obs_end
  FROM base b JOIN {observation_period} op ON op.person_id = b.person_id
   AND op.observation_period_start_date <= b.index_date AND op.observation_period_end_date >= b.index_date
  GROUP BY b.person_id, b.entry_date, b.index_date
)
"""

_ENTRY_COUNTS_SQL = _ENTRY_CTE + """
SELECT COUNT(*) AS n_target,
       COALESCE(SUM(CASE WHEN entry_date <= CAST(:latest_entry AS DATE) THEN 1 ELSE 0 END), 0) AS n_entry
FROM entry
"""

_PERSONS_SQL = _COHORT_CTE + """,
dth AS (
  SELECT d.person_id, MIN(d.death_date) AS death_date,
         MAX(CASE WHEN d.cause_concept_id {outcome_in} AND NOT (COALESCE(d.cause_concept_id, 0) {excluded_in})
                  THEN 1 ELSE 0 END) AS death_is_outcome
  FROM {death} d JOIN obs o ON o.person_id = d.person_id
  GROUP BY d.person_id
),
outc AS (
  SELECT c.person_id,
         MIN(CASE WHEN c.d > o.index_date THEN c.d END) AS outcome_date,
         MAX(CASE WHEN c.d <= o.index_date THEN 1 ELSE 0 END) AS prior_outcome
  FROM ({outcome_src}) c JOIN obs o ON o.person_id = c.person_id
  GROUP BY c.person_id
)
SELECT o.person_id,
       (o.index_date - o.entry_date) AS days_since_entry,
       (o.index_date - o.obs_start) AS prior_obs_days,
       (o.obs_end - o.index_date) AS obs_end_day,
       (CAST(:study_end AS DATE) - o.index_date) AS study_end_day,
       (o.index_date - make_date(p.year_of_birth, COALESCE(p.month_of_birth, 7), COALESCE(p.day_of_birth, 1)))
         AS age_days,
       (dth.death_date - o.index_date) AS death_day,
       COALESCE(dth.death_is_outcome, 0) AS death_is_outcome,
       (outc.outcome_date - o.index_date) AS outcome_day,
       COALESCE(outc.prior_outcome, 0) AS prior_outcome
FROM obs o
JOIN {person} p ON p.person_id = o.person_id
LEFT JOIN dth ON dth.person_id = o.person_id
LEFT JOIN outc ON outc.person_id = o.person_id
ORDER BY o.person_id
"""

_EXPOSURE_SQL = _COHORT_CTE + """
SELECT c.person_id, (c.d - o.index_date) AS day
FROM ({exposure_src}) c JOIN obs o ON o.person_id = c.person_id
WHERE c.d >= o.index_date - CAST(:lookback AS INTEGER)
  AND c.d <= o.obs_end
GROUP BY c.person_id, (c.d - o.index_date)
ORDER BY c.person_id, day
"""

# A condition / drug covariate: 1 when the person has a record of the set on or before the index (within
# lookback days when the covariate says so), else 0; only persons with such a record are returned.
_SET_COVARIATE_SQL = _COHORT_CTE + """
SELECT DISTINCT c.person_id
FROM ({covariate_src}) c JOIN obs o ON o.person_id = c.person_id
WHERE c.d <= o.index_date AND c.d >= o.index_date - CAST(:cov_lookback AS INTEGER)
ORDER BY c.person_id
"""

_MEASUREMENT_SQL = _COHORT_CTE + """
SELECT m.person_id, m.measurement_concept_id AS concept_id, m.value_as_number AS value,
       (m.measurement_date - o.index_date) AS day
FROM {measurement} m JOIN obs o ON o.person_id = m.person_id
WHERE m.measurement_concept_id {measurement_in}
  AND m.measurement_date <= o.index_date AND m.value_as_number IS NOT NULL
ORDER BY m.person_id, m.measurement_concept_id, day, m.value_as_number
"""


def _ids(out: dict[str, np.ndarray], col: str) -> list[int]:
    return np.asarray(out[col]).astype(np.int64).tolist()


def expand(con: CdmConnection, cs: ConceptSet, where: str, warnings: list[str] | None = None) -> list[int]:
    """The concept ids of a set: ids with descendants (``concept_ancestor``) when asked, or an ATLAS
    expression resolved with descendants, 'Maps to' sources and exclusions (:mod:`.conceptsets`).

    An id absent from the ``concept`` table raises :class:`StudyError`, or, when ``warnings`` is a list, is
    named there and left out (covariate sets: a study still runs on a CDM that lacks some of them).
    """
    ids = sorted(set(cs.concepts))
    found = con.query(f"SELECT concept_id FROM {con.t('concept')} WHERE concept_id {_IN.format('ids')}", {"ids": ids})
    missing = sorted(set(ids) - set(_ids(found, "concept_id")))
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (f" and {len(missing) - 10:,} more" if len(missing) > 10 else "")
        if warnings is None:
            raise StudyError(f"{where}: concept id {shown} is not in the CDM's concept table "
                             "(unknown concept; check the id in Athena or load the vocabulary)")
        warnings.append(f"{where}: concept id {shown} not in the CDM's concept table; left out")
    if not cs.items:
        ids = [i for i in ids if i not in missing]
        if not cs.include_descendants or not ids:
            return ids
        desc = con.query(f"SELECT DISTINCT descendant_concept_id AS id FROM {con.t('concept_ancestor')} "
                         f"WHERE ancestor_concept_id {_IN.format('ids')}", {"ids": ids})
        return sorted(set(ids) | set(_ids(desc, "id")))
    items = [i for i in cs.items if i.concept_id not in missing]
    anc_ids = sorted({i.concept_id for i in items if i.include_descendants})
    descendants: dict[int, set[int]] = {}
    if anc_ids:
        rows = con.query(f"SELECT ancestor_concept_id AS a, descendant_concept_id AS d FROM {con.t('concept_ancestor')} "
                         f"WHERE ancestor_concept_id {_IN.format('ids')}", {"ids": anc_ids})
        for a, d in zip(_ids(rows, "a"), _ids(rows, "d")):
            descendants.setdefault(a, set()).add(d)
    mapped_from: dict[int, set[int]] = {}
    if any(i.include_mapped for i in items):
        if not con.has_table("concept_relationship"):
            raise StudyError(f"{where}: includeMapped needs the vocabulary's concept_relationship table, which the "
                             "CDM does not have (load it, or set includeMapped to false)")
        targets = sorted({c for i in items if i.include_mapped
                          for c in {i.concept_id} | (descendants.get(i.concept_id, set()) if i.include_descendants
                                                     else set())})
        rows = con.query(f"SELECT concept_id_1 AS s, concept_id_2 AS t FROM {con.t('concept_relationship')} "
                         f"WHERE relationship_id = :maps AND concept_id_2 {_IN.format('ids')}",
                         {"maps": "Maps to", "ids": targets})
        for src, tgt in zip(_ids(rows, "s"), _ids(rows, "t")):
            mapped_from.setdefault(tgt, set()).add(src)
    return resolve(items, descendants, mapped_from)


def _query(con: CdmConnection, sql: str, params: dict[str, Any]) -> dict[str, np.ndarray]:
    """``con.query`` with only the parameters ``sql`` names (DuckDB refuses unused named parameters)."""
    return con.query(sql, {k: v for k, v in params.items() if re.search(rf"(?<!:):{k}\b", sql)})


def _f(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=float)


def extract(con: CdmConnection, study: Study) -> SurvivalData:
    """Run the study's selection in the database and return person-level arrays for the analysis."""
    needs = dict(REQUIRED)
    if any(c.kind == "measurement" for c in study.covariates):
        needs["measurement"] = ("person_id", "measurement_concept_id", "measurement_date", "value_as_number")
    if any(c.kind == "drug" for c in study.covariates):
        needs["drug_exposure"] = ("person_id", "drug_concept_id", "drug_exposure_start_date")
    if any(s.cohort_definition_id is not None for s in (study.cohort, study.exposure, study.outcome)):
        needs["cohort"] = ("cohort_definition_id", "subject_id", "cohort_start_date", "cohort_end_date")
    check_cdm(con, needs)
    src = f"study {study.source}"
    warnings: list[str] = []  # ids a covariate set names that the CDM lacks: reported, never silent
    tables = ("condition_occurrence", "observation_period", "death", "person", "measurement", "drug_exposure",
              "cohort")
    fmt: dict[str, str] = {t: con.t(t) for t in tables}
    fmt.update({"excluded_in": _IN.format("excluded_ids"), "measurement_in": _IN.format("measurement_ids")})
    params: dict[str, Any] = {}
    # Target, exposure and outcome records: a concept set's condition records, or a cohort table's rows.
    for role, cs in (("cohort", study.cohort), ("exposure", study.exposure), ("outcome", study.outcome)):
        if cs.cohort_definition_id is not None:
            fmt[f"{role}_src"] = _COHORT_SRC.format(cohort=fmt["cohort"], param=f"{role}_definition_id")
            params[f"{role}_definition_id"] = int(cs.cohort_definition_id)
            params[f"{role}_ids"] = [-1]
        else:
            params[f"{role}_ids"] = expand(con, cs, f"{src} [{role}]")
            fmt[f"{role}_src"] = _CONDITION_SRC.format(condition_occurrence=fmt["condition_occurrence"],
                                                       ids_in=_IN.format(f"{role}_ids"))
    fmt["target_src"] = fmt.pop("cohort_src")
    fmt["outcome_in"] = _IN.format("outcome_ids")
    cohort_ids = params["cohort_ids"]
    excluded_ids = (expand(con, study.excluded_death_causes, f"{src} [censoring] excluded_death_concepts")
                    if study.excluded_death_causes.concepts else [])
    # Entry rule: with min_years_before_start > 0 the first target record must come that long before
    # study_start; with 0 (the default) anyone whose first record falls before study_end enters, at the later
    # of that record and study_start (docs/registry.md). Late entrants were dropped silently before.
    if study.min_years_before_start > 0:
        latest = study.study_start - _dt.timedelta(days=round(study.min_years_before_start * DAYS_PER_YEAR))
    else:
        latest = study.study_end
    params.update({"study_start": study.study_start, "latest_entry": latest})
    persons = _query(con, _PERSONS_SQL.format(**fmt), {
        **params, "excluded_ids": excluded_ids or [-1], "study_end": study.study_end})
    pid = np.asarray(persons["person_id"]).astype(np.int64)
    counts = _query(con, _ENTRY_COUNTS_SQL.format(**fmt), params)
    attrition = {"with_target_record": int(np.asarray(counts["n_target"])[0]),
                 "first_record_by_entry_cutoff": int(np.asarray(counts["n_entry"])[0]),
                 "in_observation_at_index": int(pid.size)}
    if pid.size == 0:
        what = (f"row in cohort_definition_id {study.cohort.cohort_definition_id}"
                if study.cohort.cohort_definition_id is not None else
                f"concept record (ids {cohort_ids[:5]}{'...' if len(cohort_ids) > 5 else ''})")
        raise StudyError(f"{src}: the cohort is empty: no person has a [cohort] {what} on or before "
                         f"{latest} while in observation at the index date")
    death_day = _f(persons["death_day"])
    obs_end, study_end = _f(persons["obs_end_day"]), _f(persons["study_end_day"])
    censor = np.fmin(np.fmin(obs_end, study_end), np.where(np.isfinite(death_day), death_day, np.inf)
                     if study.censor_on_death or study.outcome_table == "death" else np.inf)
    if study.outcome_table == "death":
        out_day = np.where(_f(persons["death_is_outcome"]) > 0, death_day, np.nan)
        prior = np.isfinite(death_day) & (death_day <= 0)
    else:
        out_day = _f(persons["outcome_day"])
        prior = _f(persons["prior_outcome"]) > 0
    event = np.isfinite(out_day) & (out_day <= censor)
    exit_day = np.where(event, out_day, censor)
    keep = _f(persons["prior_obs_days"]) >= study.washout_days
    attrition["after_washout"] = int(keep.sum())
    if study.exclude_prior_outcome:
        keep &= ~prior
        attrition["after_excluding_prior_outcome"] = int(keep.sum())
    keep &= exit_day > 0
    attrition["with_follow_up_after_index"] = int(keep.sum())

    covs, names = [], []
    meas_ids = sorted({c.concept_id for c in study.covariates if c.kind == "measurement"})
    latest_value: dict[int, np.ndarray] = {}
    if meas_ids:
        m = _query(con, _MEASUREMENT_SQL.format(**fmt), {**params, "measurement_ids": meas_ids})
        m_pid, m_cid, m_val = (np.asarray(m["person_id"]).astype(np.int64), np.asarray(m["concept_id"]).astype(np.int64),
                               _f(m["value"]))
        for cid in meas_ids:
            sel = m_cid == cid
            values = np.full(pid.size, np.nan)
            p_sel, v_sel = m_pid[sel], m_val[sel]
            if p_sel.size:
                last = np.r_[p_sel[1:] != p_sel[:-1], True]  # rows ordered by day: the last is the latest
                values[np.searchsorted(pid, p_sel[last])] = v_sel[last]
            latest_value[cid] = values
    def set_covariate(c: Any) -> np.ndarray:
        """1.0 for persons with a record of the covariate's concept set on or before the index, else 0.0."""
        ids = expand(con, c.concepts, f"{src} [[covariates]] {c.name}", warnings)
        src_sql = _SET_COVARIATE_SRC[c.kind].format(**fmt, ids_in=_IN.format("covariate_ids"))
        lookback = 36_525 * 2 if c.lookback_days is None else int(c.lookback_days)  # None: any time before
        hit = _query(con, _SET_COVARIATE_SQL.format(**fmt, covariate_src=src_sql),
                     {**params, "covariate_ids": ids or [-1], "cov_lookback": lookback})
        out = np.zeros(pid.size)
        out[np.searchsorted(pid, np.asarray(hit["person_id"]).astype(np.int64))] = 1.0
        return out

    for c in study.covariates:
        if c.kind == "age_at_index":
            v = _f(persons["age_days"]) / DAYS_PER_YEAR
        elif c.kind == "years_since_entry":
            v = _f(persons["days_since_entry"]) / DAYS_PER_YEAR
        elif c.kind in ("condition", "drug"):
            v = set_covariate(c)
        else:
            v = latest_value[int(c.concept_id)]  # type: ignore[arg-type]
            if c.above is not None:
                v = np.where(np.isfinite(v), (v > c.above).astype(float), np.nan)
        covs.append(v / c.per)
        names.append(c.name)
    x = np.column_stack(covs) if covs else np.zeros((pid.size, 0))
    if covs:
        complete = np.all(np.isfinite(x), axis=1)
        keep &= complete
        attrition["with_complete_covariates"] = int(keep.sum())
    if not keep.any():
        raise StudyError(f"{src}: the cohort is empty after the study's criteria (attrition: {attrition})")
    if not event[keep].any():
        raise StudyError(f"{src}: no outcome events in the cohort (attrition: {attrition}); check the [outcome] "
                         "concepts and the study period")

    exp = _query(con, _EXPOSURE_SQL.format(**fmt), {**params, "lookback": int(study.lookback_days)})
    e_pid, e_day = np.asarray(exp["person_id"]).astype(np.int64), _f(exp["day"])
    # Records closer than episode_gap_days to the previous record of the same person are one episode.
    new_episode = np.ones(e_pid.size, dtype=bool)
    if e_pid.size > 1:
        new_episode[1:] = (e_pid[1:] != e_pid[:-1]) | (e_day[1:] - e_day[:-1] >= study.episode_gap_days)
    e_pid, e_day = e_pid[new_episode], e_day[new_episode]
    kept_pid = pid[keep]
    idx = np.searchsorted(kept_pid, e_pid)
    inside = (idx < kept_pid.size) & (kept_pid[np.clip(idx, 0, max(kept_pid.size - 1, 0))] == e_pid)
    ex = exit_day[keep]
    inside &= e_day < ex[np.clip(idx, 0, max(kept_pid.size - 1, 0))]
    return SurvivalData(
        person_id=kept_pid, exit_day=ex, event=event[keep], covariates=x[keep], covariate_names=tuple(names),
        infection_person=idx[inside].astype(np.int64), infection_day=e_day[inside], attrition=attrition,
        warnings=tuple(warnings),
    )


def missing_shipped_concepts(con: CdmConnection) -> list[str]:
    """Roles of ``concepts.toml`` whose concept_id the CDM's ``concept`` table lacks (``role (id)``)."""
    from .concepts import concepts

    table = concepts()
    ids = sorted({c.concept_id for c in table.values()})
    found = set(_ids(con.query(f"SELECT concept_id FROM {con.t('concept')} WHERE concept_id {_IN.format('ids')}",
                               {"ids": ids}), "concept_id"))
    return [f"{c.role} ({c.concept_id})" for c in table.values() if c.concept_id not in found]


def extract_study(cdm: str, study: Study, *, schemas: Schemas | None = None) -> tuple[SurvivalData, dict[str, Any]]:
    """Open ``cdm`` read-only, extract the study, close; also returns facts about the CDM for the manifest.

    ``schemas`` says where the CDM, vocabulary and results tables are (default: unqualified names)."""
    with CdmConnection(cdm, read_only=True, schemas=schemas) as con:
        data = extract(con, study)
        missing = missing_shipped_concepts(con)
        versions = con.query(f"SELECT cdm_version FROM {con.t('cdm_source')}")["cdm_version"].tolist()
        info = {"backend": con.backend, "schemas": con.schemas.as_dict(),
                "cdm_version": str(versions[0]) if versions else None,
                "cdm_version_read_as": cdm_version_of(versions[0] if versions else None),
                "concepts_toml_missing": missing}
        warnings = list(data.warnings)
        if warnings:
            info["warnings"] = warnings
    if data.person_id.size == 0:  # pragma: no cover - extract raises first
        raise SchemaError("empty cohort")
    return data, info
