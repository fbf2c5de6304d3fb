"""ATLAS concept-set expressions and OHDSI cohort tables on a hand-built CDM (issue 10, item 3).

Tiny vocabulary (concept_ancestor rows written by hand, self rows included):

    10 Cancer ─┬─ 11 Breast cancer ── 12 Lobular breast cancer
               └─ 13 Lung cancer
    20 ICD10 C50.9 (source, not standard)  'Maps to' 11
    30 COVID-19 ── 31 COVID pneumonia;  40 Lung metastasis

Persons (all observed 2015-2024; study 2020-01-01 .. 2022-12-31):

| person | condition records                      | outcome 40  |
|--------|----------------------------------------|-------------|
| 1      | 11 on 2019-01-01                       | 2021-01-01  |
| 2      | 12 on 2019-06-01                       |             |
| 3      | 13 on 2019-01-01                       | 2021-06-01  |
| 4      | 20 on 2019-03-01 (the source code)     |             |
| 5      | 12 on 2019-02-01, 13 on 2019-04-01     |             |
| 6      | none                                   |             |

Hand-counted target persons (``with_target_record``) per expression:
  {11 +descendants}                               -> 11, 12       -> persons 1, 2, 5      = 3
  {10 +descendants} minus {12}                    -> 10, 11, 13   -> persons 1, 3, 5      = 3
  {11 +descendants +mapped}                       -> 11, 12, 20   -> persons 1, 2, 4, 5   = 4
  {11}                                            -> 11           -> person 1             = 1
  {10 +descendants} minus {11 +descendants}       -> 10, 13       -> persons 3, 5         = 2

Cohort table (schema ``results``): definition 1 (target) has persons 1 (2019-01-01), 2 (2020-06-01 and
2021-01-01: the first counts), 3 (2023-02-01, after study_end) and 4 (2019-05-01); definition 2 (outcome)
has person 1 on 2021-01-01 and person 2 on 2020-03-01 (before 2's index 2020-06-01: a prior outcome);
definition 3 (exposure) has person 1 on 2020-06-01. Hand counts: with_target_record 4,
first_record_by_entry_cutoff 3, in_observation_at_index 3, after_washout 3, after_excluding_prior_outcome 2,
with_follow_up_after_index 2; persons 1 (event on day 366) and 4; person 1 exposed on day 152.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

duckdb = pytest.importorskip("duckdb")

from reawaken.errors import StudyError  # noqa: E402
from reawaken.io.omop._ddl import ddl_tables  # noqa: E402
from reawaken.io.omop.cdm import Schemas, create_table_sql  # noqa: E402
from reawaken.io.omop.conceptsets import ConceptSetItem, parse_expression, resolve  # noqa: E402
from reawaken.io.omop.extract import extract_study  # noqa: E402
from reawaken.io.omop.study import load_study, parse_study  # noqa: E402

D = dt.date
ANCESTOR = [(10, 10, 0), (11, 11, 0), (12, 12, 0), (13, 13, 0), (30, 30, 0), (31, 31, 0), (40, 40, 0),
            (10, 11, 1), (10, 12, 2), (10, 13, 1), (11, 12, 1), (30, 31, 1)]


def _create(con, table, schema=None):
    cols = ", ".join(f"{c} {t}{' NOT NULL' if nn else ''}" for c, t, nn in ddl_tables("5.4")[table])
    con.execute(f"CREATE TABLE {schema + '.' if schema else ''}{table} ({cols})")


def _cdm(path):
    con = duckdb.connect(str(path))
    for t in ("person", "observation_period", "condition_occurrence", "death", "concept", "concept_ancestor",
              "cdm_source"):
        con.execute(create_table_sql(t))
    _create(con, "concept_relationship")
    con.execute("CREATE SCHEMA results")
    _create(con, "cohort", "results")
    for pid in range(1, 7):
        con.execute("INSERT INTO person (person_id, gender_concept_id, year_of_birth, race_concept_id, "
                    "ethnicity_concept_id) VALUES (?, 8532, 1960, 0, 0)", [pid])
        con.execute("INSERT INTO observation_period VALUES (?, ?, DATE '2015-01-01', DATE '2024-12-31', 32817)",
                    [pid, pid])
    rows = [(1, 11, D(2019, 1, 1)), (1, 40, D(2021, 1, 1)), (2, 12, D(2019, 6, 1)), (3, 13, D(2019, 1, 1)),
            (3, 40, D(2021, 6, 1)), (4, 20, D(2019, 3, 1)), (5, 12, D(2019, 2, 1)), (5, 13, D(2019, 4, 1))]
    for i, (pid, concept, day) in enumerate(rows):
        con.execute("INSERT INTO condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, "
                    "condition_start_date, condition_type_concept_id) VALUES (?, ?, ?, ?, 32817)",
                    [i, pid, concept, day])
    for cid, std in ((10, "S"), (11, "S"), (12, "S"), (13, "S"), (20, None), (30, "S"), (31, "S"), (40, "S")):
        con.execute("INSERT INTO concept (concept_id, concept_name, domain_id, vocabulary_id, concept_class_id, "
                    "standard_concept, concept_code, valid_start_date, valid_end_date) VALUES (?, ?, 'Condition', "
                    "?, 'x', ?, ?, DATE '1970-01-01', DATE '2099-12-31')",
                    [cid, f"c{cid}", "ICD10CM" if std is None else "SNOMED", std, str(cid)])
    for a, d, lv in ANCESTOR:
        con.execute("INSERT INTO concept_ancestor VALUES (?, ?, ?, ?)", [a, d, lv, lv])
    for c1, c2, rel in ((20, 11, "Maps to"), (11, 20, "Mapped from")):
        con.execute("INSERT INTO concept_relationship VALUES (?, ?, ?, DATE '1970-01-01', DATE '2099-12-31', NULL)",
                    [c1, c2, rel])
    for cid, pid, day in ((1, 1, D(2019, 1, 1)), (1, 2, D(2020, 6, 1)), (1, 2, D(2021, 1, 1)), (1, 3, D(2023, 2, 1)),
                          (1, 4, D(2019, 5, 1)), (2, 1, D(2021, 1, 1)), (2, 2, D(2020, 3, 1)), (3, 1, D(2020, 6, 1))):
        con.execute("INSERT INTO results.cohort VALUES (?, ?, ?, ?)", [cid, pid, day, day])
    con.execute("INSERT INTO cdm_source (cdm_source_name, cdm_source_abbreviation, cdm_holder, "
                "source_release_date, cdm_release_date, cdm_version, cdm_version_concept_id, vocabulary_version) "
                "VALUES ('hand', 'hand', 'test', DATE '2024-01-01', DATE '2024-01-01', 'v5.4', 756265, 'v5')")
    con.close()
    return path


@pytest.fixture(scope="module")
def cdm(tmp_path_factory):
    return _cdm(tmp_path_factory.mktemp("atlas") / "cdm.duckdb")


def _item(cid, desc=False, mapped=False, excluded=False):
    return {"concept": {"CONCEPT_ID": cid, "CONCEPT_NAME": f"c{cid}"}, "includeDescendants": desc,
            "includeMapped": mapped, "isExcluded": excluded}


def _study(cohort_concepts, **over):
    raw = {"name": "atlas",
           "cohort": {**({"concepts": cohort_concepts} if cohort_concepts is not None else {}), "study_start": D(2020, 1, 1), "study_end": D(2022, 12, 31)},
           "exposure": {"concepts": [30], "windows_days": [0, 90]},
           "outcome": {"table": "condition_occurrence", "concepts": [40]}}
    for sec, values in over.items():
        raw[sec] = {k: v for k, v in {**raw[sec], **values}.items() if v is not None}
    return parse_study(raw)


EXPRESSIONS = [
    ([_item(11, desc=True)], 3),
    ([_item(10, desc=True), _item(12, excluded=True)], 3),
    ([_item(11, desc=True, mapped=True)], 4),
    ([_item(11)], 1),
    ([_item(10, desc=True), _item(11, desc=True, excluded=True)], 2),
]


@pytest.mark.parametrize("items, n_target", EXPRESSIONS)
def test_atlas_expressions_select_the_hand_counted_persons(cdm, items, n_target):
    data, _ = extract_study(str(cdm), _study({"items": items}))
    assert data.attrition["with_target_record"] == n_target


def test_resolve_is_union_of_included_minus_excluded():
    desc = {10: {10, 11, 12, 13}, 11: {11, 12}}
    mapped = {11: {20}}
    items = (ConceptSetItem(10, include_descendants=True), ConceptSetItem(11, True, True, True))
    assert resolve(items, desc, mapped) == [10, 13]  # 11, 12 and the mapped 20 excluded with 11
    assert resolve((ConceptSetItem(11, True, True),), desc, mapped) == [11, 12, 20]


def test_concept_set_from_a_json_file_beside_the_study_and_inline_json(cdm, tmp_path):
    folder = tmp_path / "studies"
    folder.mkdir()
    export = {"id": 7, "name": "breast cancer", "expression": {"items": [_item(11, desc=True, mapped=True)]}}
    (folder / "breast.json").write_text(json.dumps(export))
    (folder / "s.toml").write_text(
        'name = "s"\n[cohort]\nconcepts = "breast.json"\nstudy_start = 2020-01-01\nstudy_end = 2022-12-31\n'
        f"[exposure]\nconcepts = '{json.dumps({'items': [_item(30, desc=True)]})}'\nwindows_days = [0, 90]\n"
        '[outcome]\ntable = "condition_occurrence"\nconcepts = [40]\n')
    study = load_study(folder / "s.toml")
    assert [i.concept_id for i in study.cohort.items] == [11] and study.cohort.items[0].include_mapped
    data, _ = extract_study(str(cdm), study)
    assert data.attrition["with_target_record"] == 4


@pytest.mark.parametrize("raw, message", [
    ({"items": []}, "no items"),
    ({"items": [{"concept": {"CONCEPT_ID": "11"}}]}, "CONCEPT_ID must be a whole number"),
    ({"items": [{"concept": {"CONCEPT_ID": 11}, "includeDescendants": "yes"}]}, "includeDescendants must be true"),
    ({"items": [{"concept": {"CONCEPT_ID": 11}, "isExcluded": True}]}, "every item is excluded"),
    ({"items": [{"concept": {"CONCEPT_ID": 11}, "include_descendants": True}]}, "unknown key"),
    ([1, 2], "needs"),
])
def test_malformed_expressions_are_refused_naming_the_item(raw, message):
    with pytest.raises(StudyError, match=message):
        parse_expression(raw, "study s.toml: [cohort] concepts")


def test_missing_concept_set_file_and_bad_json_are_one_line_errors(tmp_path):
    with pytest.raises(StudyError, match="concept-set file 'nope.json' not found"):
        parse_study({"name": "x", "cohort": {"concepts": "nope.json", "study_start": D(2020, 1, 1),
                                             "study_end": D(2021, 1, 1)},
                     "exposure": {"concepts": [30], "windows_days": [0]},
                     "outcome": {"table": "condition_occurrence", "concepts": [40]}}, "x.toml", tmp_path)
    with pytest.raises(StudyError, match="inline JSON is not valid JSON"):
        _study("{items: [}")


def test_cohort_table_target_outcome_and_exposure_give_the_hand_counts(cdm):
    study = _study(None, cohort={"concepts": None, "cohort_definition_id": 1},
                   outcome={"table": "cohort", "concepts": None, "cohort_definition_id": 2},
                   exposure={"concepts": None, "cohort_definition_id": 3})
    data, _ = extract_study(str(cdm), study, schemas=Schemas(results="results"))
    assert data.attrition == {"with_target_record": 4, "first_record_by_entry_cutoff": 3,
                              "in_observation_at_index": 3, "after_washout": 3,
                              "after_excluding_prior_outcome": 2, "with_follow_up_after_index": 2}
    assert data.person_id.tolist() == [1, 4] and data.event.tolist() == [True, False]
    assert data.exit_day[0] == (D(2021, 1, 1) - D(2020, 1, 1)).days
    assert data.infection_person.tolist() == [0] and data.infection_day.tolist() == [152.0]


def test_cohort_table_in_the_wrong_schema_is_named(cdm):
    study = _study(None, cohort={"concepts": None, "cohort_definition_id": 1})
    with pytest.raises(Exception, match="no table cohort"):
        extract_study(str(cdm), study)


def test_concepts_and_cohort_definition_id_together_are_refused():
    with pytest.raises(StudyError, match="not both"):
        _study([11], cohort={"cohort_definition_id": 1})
    with pytest.raises(StudyError, match="go together"):
        _study([11], outcome={"table": "cohort"})


def test_condition_covariate_from_a_concept_set_and_missing_ids_are_warned_not_silent(cdm):
    # target {10 + descendants} = 10..13: persons 1, 2, 3, 5; lung cancer (13) before index: persons 3 and 5
    raw_cov = [{"name": "prior_lung_cancer", "kind": "condition", "concepts": [13, 999]}]
    study = parse_study({"name": "cov",
                         "cohort": {"concepts": [10], "study_start": D(2020, 1, 1), "study_end": D(2022, 12, 31)},
                         "exposure": {"concepts": [30], "windows_days": [0, 90]},
                         "outcome": {"table": "condition_occurrence", "concepts": [40]}, "covariates": raw_cov})
    data, info = extract_study(str(cdm), study)
    assert data.person_id.tolist() == [1, 2, 3, 5]
    assert data.covariates[:, 0].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert any("prior_lung_cancer: concept id 999 not in the CDM's concept table" in w for w in info["warnings"])
    # the hand vocabulary holds none of concepts.toml's ids: listed with the CDM facts (results.json)
    assert "breast_cancer (4112853)" in info["concepts_toml_missing"]
