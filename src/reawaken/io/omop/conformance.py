"""``reawaken cdm-check``: what a study will and will not find in a CDM, against the official OHDSI DDL.

Read-only. The CDM's tables and columns are compared with the vendored DDL of its version (``_ddl``;
v5.4 when ``cdm_version`` is unknown): missing tables, missing columns, columns whose type family
(whole number, number, date) differs from the DDL. Then what our studies read: the tables and columns of
:data:`~reawaken.io.omop.cdm.REQUIRED` (plus ``measurement`` for measurement covariates and ``cohort``
for cohort-table studies), row counts of those tables, whether the vocabulary is there (``concept``,
``concept_ancestor``, ``concept_relationship`` 'Maps to' rows) and which ids of ``concepts.toml`` the
``concept`` table holds. ``ready`` is true when the tables and columns every study needs are present.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import SchemaError
from ._ddl import ddl_tables
from .cdm import REQUIRED, CdmConnection, Schemas, _type_family, cdm_version_of, check_unique_persons

# Optional for a study: present -> the study features that read them work.
OPTIONAL = {
    "measurement": ("person_id", "measurement_concept_id", "measurement_date", "value_as_number"),
    "concept_relationship": ("concept_id_1", "concept_id_2", "relationship_id"),
    "cohort": ("cohort_definition_id", "subject_id", "cohort_start_date", "cohort_end_date"),
}
OPTIONAL_USE = {"measurement": "measurement covariates", "concept_relationship": "concept sets with includeMapped",
                "cohort": "cohorts from a cohort table (cohort_definition_id)"}
COUNTED = ("person", "observation_period", "condition_occurrence", "death", "measurement", "drug_exposure",
           "concept", "concept_ancestor", "concept_relationship", "cohort")


def _count(con: CdmConnection, table: str) -> int:
    out = con.query(f"SELECT COUNT(*) AS n FROM {con.t(table)}")  # noqa: S608 -- table names are ours
    return int(np.asarray(out["n"])[0])


def cdm_check(url: str, *, schemas: Schemas | None = None) -> dict[str, Any]:
    """Inspect the CDM at ``url`` (read-only) and return the report as plain data (the CLI's ``--json``)."""
    from .cdm import redact_url
    from .concepts import concepts

    with CdmConnection(url, read_only=True, schemas=schemas) as con:
        report: dict[str, Any] = {"cdm": redact_url(url), "backend": con.backend, "schemas": con.schemas.as_dict()}
        problems: list[str] = []
        version_raw, read_as = None, "unknown"
        if con.has_table("cdm_source") and "cdm_version" in con.columns("cdm_source"):
            values = con.query(f"SELECT cdm_version FROM {con.t('cdm_source')}")["cdm_version"].tolist()
            version_raw = str(values[0]) if values and values[0] is not None else None
            try:
                read_as = max([cdm_version_of(v) for v in values] or ["unknown"])
            except SchemaError as exc:
                read_as = "unsupported"
                problems.append(str(exc))
        report["cdm_version"] = version_raw
        report["cdm_version_read_as"] = read_as
        ddl_version = read_as if read_as in ("5.3", "5.4") else "5.4"
        report["compared_with_ddl"] = ddl_version
        ddl = ddl_tables(ddl_version)

        by_schema: dict[str | None, set[str]] = {}
        for table in ddl:
            by_schema.setdefault(con.schemas.of(table), set())
        for schema in by_schema:
            by_schema[schema] = con.tables(schema)
        conformance: dict[str, Any] = {"missing_tables": [], "tables_without_ddl_columns": [], "missing_columns": {},
                                       "type_differences": {}}
        for table, cols in ddl.items():
            if table not in by_schema[con.schemas.of(table)]:
                conformance["missing_tables"].append(table)
                continue
            have = con.column_types(table)
            missing = [c for c, _, _ in cols if c not in have]
            if len(missing) == len(cols):  # e.g. a header-only CSV loaded without its header: column0, ...
                conformance["tables_without_ddl_columns"].append(table)
            elif missing:
                conformance["missing_columns"][table] = missing
            diff = {}
            for c, typ, _ in cols:
                if c in have:
                    need, got = _type_family(typ), _type_family(have[c])
                    if need in ("integer", "number", "date") and got != need and not (need == "number"
                                                                                     and got == "integer"):
                        diff[c] = f"{have[c].upper()} (DDL: {typ})"
            if diff:
                conformance["type_differences"][table] = diff
        report["conformance"] = conformance

        needs: dict[str, Any] = {}
        for table, cols in {**REQUIRED, **OPTIONAL}.items():
            present = table in by_schema.get(con.schemas.of(table), con.tables(con.schemas.of(table)))
            have = con.column_types(table) if present else {}
            missing = [c for c in cols if c not in have]
            entry: dict[str, Any] = {"present": present, "missing_columns": missing if present else list(cols),
                                     "required": table in REQUIRED}
            if table in OPTIONAL:
                entry["used_for"] = OPTIONAL_USE[table]
            needs[table] = entry
            if table in REQUIRED and (not present or missing):
                problems.append(f"table {table}: " + ("missing" if not present else f"no column {', '.join(missing)}"))
        report["study_tables"] = needs
        report["row_counts"] = {t: (_count(con, t) if needs.get(t, {}).get("present", con.has_table(t)) else None)
                                for t in COUNTED}
        if needs["person"]["present"] and not needs["person"]["missing_columns"]:
            try:
                check_unique_persons(con)
            except SchemaError as exc:
                problems.append(str(exc))
        vocab: dict[str, Any] = {"concept_rows": report["row_counts"]["concept"],
                                 "concept_ancestor_rows": report["row_counts"]["concept_ancestor"]}
        if needs["concept_relationship"]["present"] and not needs["concept_relationship"]["missing_columns"]:
            maps = con.query(f"SELECT COUNT(*) AS n FROM {con.t('concept_relationship')} "
                             "WHERE relationship_id = :r", {"r": "Maps to"})
            vocab["maps_to_rows"] = int(np.asarray(maps["n"])[0])
        if needs["concept"]["present"] and not needs["concept"]["missing_columns"]:
            ids = sorted({c.concept_id for c in concepts().values()})
            found = con.query(f"SELECT concept_id FROM {con.t('concept')} WHERE concept_id IN "
                              "(SELECT UNNEST(CAST(:ids AS BIGINT[])))", {"ids": ids})
            have_ids = set(np.asarray(found["concept_id"]).astype(np.int64).tolist())
            by_id = {c.concept_id: c.role for c in concepts().values()}
            vocab["shipped_concepts_found"] = sorted(by_id[i] for i in ids if i in have_ids)
            vocab["shipped_concepts_missing"] = sorted(by_id[i] for i in ids if i not in have_ids)
        report["vocabulary"] = vocab
        report["problems"] = problems
        report["ready"] = not problems
    return report


def format_report(report: dict[str, Any]) -> list[str]:
    """The report as lines for a terminal."""
    lines = [f"{report['cdm']} ({report['backend']}); schemas: "
             + ", ".join(f"{k}={v or '(default)'}" for k, v in report["schemas"].items()),
             f"cdm_version: {report['cdm_version']!r}, read as {report['cdm_version_read_as']}; compared with the "
             f"OHDSI DDL v{report['compared_with_ddl']}"]
    conf = report["conformance"]
    lines.append(f"DDL tables missing ({len(conf['missing_tables'])}): {', '.join(conf['missing_tables']) or 'none'}")
    if conf["tables_without_ddl_columns"]:
        lines.append("DDL tables with none of their DDL columns: " + ", ".join(conf["tables_without_ddl_columns"]))
    for table, cols in conf["missing_columns"].items():
        lines.append(f"  {table}: missing columns {', '.join(cols)}")
    for table, diff in conf["type_differences"].items():
        lines.append(f"  {table}: types " + "; ".join(f"{c} {t}" for c, t in diff.items()))
    lines.append("what studies read:")
    for table, e in report["study_tables"].items():
        state = ("ok" if not e["missing_columns"] else f"missing columns {', '.join(e['missing_columns'])}") \
            if e["present"] else "MISSING"
        need = "required" if e["required"] else f"optional, for {e['used_for']}"
        n = report["row_counts"].get(table)
        lines.append(f"  {table:22s} {state}{'' if n is None else f', {n:,} rows'} ({need})")
    v = report["vocabulary"]
    lines.append(f"vocabulary: {v['concept_rows'] or 0:,} concepts, {v['concept_ancestor_rows'] or 0:,} ancestor rows"
                 + (f", {v['maps_to_rows']:,} 'Maps to' rows" if "maps_to_rows" in v else ", no concept_relationship"))
    if "shipped_concepts_missing" in v:
        lines.append(f"  concepts.toml ids found: {len(v['shipped_concepts_found'])}; missing: "
                     f"{', '.join(v['shipped_concepts_missing']) or 'none'}")
    for p in report["problems"]:
        lines.append(f"problem: {p}")
    lines.append("ready: a study can run" if report["ready"] else "not ready: fix the problems above")
    return lines
