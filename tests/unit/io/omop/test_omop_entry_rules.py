"""Index, entry and attrition on a hand-built CDM whose counts are written down by hand (issue 10, item 2).

Study period 2020-01-01 .. 2022-12-31; target concept 1 (breast cancer), outcome concept 3. The six persons:

| person | first target record | observation      | outcome      | with min_years 0             | with min_years 1 |
|--------|---------------------|------------------|--------------|------------------------------|------------------|
| 1      | 2019-01-01          | 2015 .. 2024     | 2021-06-01   | in, index 2020-01-01, event  | in (2019-01-01 = 2020-01-01 - 365 d) |
| 2      | 2020-06-01 (late)   | 2018 .. 2024     | none         | in, index 2020-06-01         | out: entry cutoff |
| 3      | 2023-01-01          | 2018 .. 2024     | none         | out: entry after study_end   | out: entry cutoff |
| 4      | none                | 2018 .. 2024     | none         | not counted at all           | not counted |
| 5      | 2019-05-01          | 2015 .. 2019-12-31 | none       | out: not observed at index   | out: entry cutoff |
| 6      | 2021-01-01 (late)   | 2018 .. 2024     | 2020-12-01   | out: outcome before index    | out: entry cutoff |
"""

from __future__ import annotations

import datetime as dt

import pytest

duckdb = pytest.importorskip("duckdb")

from reawaken.io.omop.cdm import create_table_sql  # noqa: E402
from reawaken.io.omop.extract import extract_study  # noqa: E402
from reawaken.io.omop.study import parse_study  # noqa: E402

D = dt.date


def _cdm(path):
    con = duckdb.connect(str(path))
    for t in ("person", "observation_period", "condition_occurrence", "death", "concept", "concept_ancestor",
              "cdm_source"):
        con.execute(create_table_sql(t))
    for pid in range(1, 7):
        con.execute("INSERT INTO person (person_id, gender_concept_id, year_of_birth, race_concept_id, "
                    "ethnicity_concept_id) VALUES (?, 8532, 1960, 0, 0)", [pid])
    obs = {1: (D(2015, 1, 1), D(2024, 12, 31)), 5: (D(2015, 1, 1), D(2019, 12, 31))}
    for pid in range(1, 7):
        start, end = obs.get(pid, (D(2018, 1, 1), D(2024, 12, 31)))
        con.execute("INSERT INTO observation_period VALUES (?, ?, ?, ?, 32817)", [pid, pid, start, end])
    rows = [(1, 1, D(2019, 1, 1)), (1, 3, D(2021, 6, 1)), (2, 1, D(2020, 6, 1)), (3, 1, D(2023, 1, 1)),
            (5, 1, D(2019, 5, 1)), (6, 1, D(2021, 1, 1)), (6, 3, D(2020, 12, 1)),
            (2, 2, D(2020, 9, 1))]  # an exposure for person 2
    for i, (pid, concept, day) in enumerate(rows):
        con.execute("INSERT INTO condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, "
                    "condition_start_date, condition_type_concept_id) VALUES (?, ?, ?, ?, 32817)",
                    [i, pid, concept, day])
    for cid in (1, 2, 3):
        con.execute("INSERT INTO concept (concept_id, concept_name, domain_id, vocabulary_id, concept_class_id, "
                    "concept_code, valid_start_date, valid_end_date) VALUES (?, ?, 'Condition', 'None', 'x', ?, "
                    "DATE '1970-01-01', DATE '2099-12-31')", [cid, f"c{cid}", str(cid)])
        con.execute("INSERT INTO concept_ancestor VALUES (?, ?, 0, 0)", [cid, cid])
    con.execute("INSERT INTO cdm_source (cdm_source_name, cdm_source_abbreviation, cdm_holder, "
                "source_release_date, cdm_release_date, cdm_version, cdm_version_concept_id, vocabulary_version) "
                "VALUES ('hand', 'hand', 'test', DATE '2024-01-01', DATE '2024-01-01', 'v5.4', 756265, 'v5')")
    con.close()
    return path


def _study(min_years: float):
    return parse_study({
        "name": "entry-rules",
        "cohort": {"concepts": [1], "study_start": D(2020, 1, 1), "study_end": D(2022, 12, 31),
                   "min_years_before_start": min_years},
        "exposure": {"concepts": [2], "windows_days": [0, 90]},
        "outcome": {"table": "condition_occurrence", "concepts": [3]},
    })


@pytest.fixture(scope="module")
def cdm(tmp_path_factory):
    return _cdm(tmp_path_factory.mktemp("hand") / "cdm.duckdb")


def test_late_entrants_enter_at_their_first_record_and_every_loss_is_counted(cdm):
    data, _ = extract_study(str(cdm), _study(0.0))
    assert data.attrition == {"with_target_record": 5, "first_record_by_entry_cutoff": 4,
                              "in_observation_at_index": 3, "after_washout": 3,
                              "after_excluding_prior_outcome": 2, "with_follow_up_after_index": 2}
    assert data.person_id.tolist() == [1, 2]
    assert data.event.tolist() == [True, False]
    # person 1: index 2020-01-01, outcome 2021-06-01; person 2: index 2020-06-01, censored at study end
    assert data.exit_day.tolist() == [(D(2021, 6, 1) - D(2020, 1, 1)).days, (D(2022, 12, 31) - D(2020, 6, 1)).days]
    # person 2's exposure on 2020-09-01 is day 92 after *its* index (the late entry date)
    assert data.infection_person.tolist() == [1] and data.infection_day.tolist() == [92.0]


def test_min_years_before_start_keeps_only_early_records(cdm):
    data, _ = extract_study(str(cdm), _study(1.0))  # first record on or before 2020-01-01 - 365 d = 2019-01-01
    assert data.attrition["with_target_record"] == 5
    assert data.attrition["first_record_by_entry_cutoff"] == 1 == data.attrition["in_observation_at_index"]
    assert data.person_id.tolist() == [1] and data.event.tolist() == [True]


@pytest.mark.parametrize("version, read_as", [("v5.3.1", "5.3"), ("5.4", "5.4"), ("OMOP CDM v5.3 (Synthea ETL)", "5.3"),
                                              (None, "unknown"), ("", "unknown"), ("see docs", "unknown")])
def test_cdm_versions_5_3_5_4_null_and_free_text_follow_the_stated_rule(tmp_path, version, read_as):
    path = _cdm(tmp_path / "v.duckdb")
    con = duckdb.connect(str(path))
    con.execute("UPDATE cdm_source SET cdm_version = ?", [version])
    con.close()
    data, info = extract_study(str(path), _study(0.0))
    assert info["cdm_version_read_as"] == read_as and data.person_id.tolist() == [1, 2]


def test_other_cdm_versions_are_refused_naming_the_value(tmp_path):
    from reawaken.errors import SchemaError

    path = _cdm(tmp_path / "v6.duckdb")
    con = duckdb.connect(str(path))
    con.execute("UPDATE cdm_source SET cdm_version = 'v6.0'")
    con.close()
    with pytest.raises(SchemaError, match="'v6.0'.*v5.3 and v5.4"):
        extract_study(str(path), _study(0.0))


def test_upper_case_column_names_give_the_same_numbers(cdm, tmp_path):
    upper = tmp_path / "upper.duckdb"
    dst = duckdb.connect(str(upper))
    dst.execute(f"ATTACH '{cdm}' AS src (READ_ONLY)")
    tables = dst.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = 'src'").fetchall()
    for (table,) in tables:
        cols = [c[0] for c in dst.execute(f"DESCRIBE src.{table}").fetchall()]
        select = ", ".join(f'{c} AS "{c.upper()}"' for c in cols)
        dst.execute(f'CREATE TABLE "{table.upper()}" AS SELECT {select} FROM src.{table}')  # noqa: S608
    dst.execute("DETACH src")
    dst.close()
    a, _ = extract_study(str(cdm), _study(0.0))
    b, _ = extract_study(str(upper), _study(0.0))
    assert a.attrition == b.attrition and a.exit_day.tolist() == b.exit_day.tolist()
