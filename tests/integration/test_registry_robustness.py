"""A CDM from another tool (extra columns, nulls, other vocabularies, records outside observation) still
works; missing tables/columns, a wrong CDM version, an empty cohort, an unknown concept fail with a clear
message (exit 2); the analysis never writes into the CDM."""

from __future__ import annotations

import hashlib
import os
import shutil

import duckdb
import pytest
from registry_fixture import write_cohort

from reawaken import api
from reawaken.cli.main import main
from reawaken.errors import SchemaError, StudyError


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    d = tmp_path_factory.mktemp("robust")
    write_cohort(d / "cohort", 5000, seed=31)
    api.write_registry(d / "cohort", d / "clean.duckdb", seed=1, ascertainment="covid=1,influenza=1")
    return d


def _variant(registry, tmp_path, *sql):
    path = tmp_path / "variant.duckdb"
    shutil.copy(registry / "clean.duckdb", path)
    con = duckdb.connect(str(path))
    for s in sql:
        con.execute(s)
    con.close()
    return path


def _hrs(path, study="flatiron-style"):
    return [(h["term"], h["hr"], h["se"]) for h in api.analyze(path, study).result["hazard_ratios"]]


def test_foreign_cdm_features_do_not_break_the_analysis(registry, tmp_path):
    clean = _hrs(registry / "clean.duckdb")
    messy = _variant(
        registry, tmp_path,
        # extra columns and an extra table
        "ALTER TABLE person ADD COLUMN site_note VARCHAR", "ALTER TABLE condition_occurrence ADD COLUMN extra_flag INT",
        "CREATE TABLE note (note_id BIGINT, person_id BIGINT)",
        # another vocabulary's concepts and records that no study set contains
        "INSERT INTO concept VALUES (45756093, 'Emergency use of U07.1', 'Condition', 'ICD10', 'ICD10 code', NULL, "
        "'U07.1', DATE '2020-01-01', DATE '2099-12-31', NULL)",
        "INSERT INTO condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, "
        "condition_start_date, condition_type_concept_id, condition_source_concept_id) "
        "SELECT 10000000 + person_id, person_id, 0, DATE '2021-03-01', 32817, 45756093 FROM person WHERE person_id % 5 = 0",
        # records outside any observation period (after its end)
        "INSERT INTO condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, "
        "condition_start_date, condition_type_concept_id) SELECT 20000000 + o.person_id, o.person_id, 37311061, "
        "o.observation_period_end_date + 30, 32817 FROM observation_period o WHERE o.person_id % 3 = 0",
        # nulls in optional fields
        "UPDATE condition_occurrence SET condition_end_date = NULL, condition_source_value = NULL",
        "UPDATE person SET person_source_value = NULL, gender_source_value = NULL",
        "UPDATE measurement SET unit_concept_id = NULL",
    )
    assert _hrs(messy) == clean  # none of it changes a number
    nulls = _variant(registry, tmp_path, "UPDATE person SET month_of_birth = NULL, day_of_birth = NULL")
    res = api.analyze(nulls, "flatiron-style").result
    assert res["n_persons"] > 1000  # age from the year of birth alone (mid-year assumed)


@pytest.mark.parametrize(("sql", "message"), [
    ("DROP TABLE death", "no table death"),
    ("DROP TABLE concept_ancestor", "no table concept_ancestor"),
    ("ALTER TABLE observation_period DROP COLUMN observation_period_end_date",
     "table observation_period has no column observation_period_end_date"),
    ("UPDATE cdm_source SET cdm_version = 'v6.0'", "cdm_version is 'v6.0'"),  # 5.3, 5.4, null: accepted
    ("DROP TABLE cdm_source", "no table cdm_source"),
])
def test_broken_cdm_names_what_is_missing(registry, tmp_path, sql, message):
    path = _variant(registry, tmp_path, sql)
    with pytest.raises(SchemaError, match=message):
        api.analyze(path, "flatiron-style")


def _study(tmp_path, **edits):
    from importlib import resources

    text = resources.files("reawaken.io.omop").joinpath("studies", "flatiron-style.toml").read_text()
    for old, new in edits.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "study.toml"
    path.write_text(text)
    return path


def test_unknown_concept_and_empty_cohort(registry, tmp_path):
    unknown = _study(tmp_path, **{"concepts = [37311061]": "concepts = [37311061, 999999999]"})
    with pytest.raises(StudyError, match=r"\[exposure\]: concept id 999999999 is not in the CDM"):
        api.analyze(registry / "clean.duckdb", unknown)
    empty = _study(tmp_path, **{"concepts = [4112853]": "concepts = [8532]"})  # FEMALE: a concept, no records
    with pytest.raises(StudyError, match="the cohort is empty"):
        api.analyze(registry / "clean.duckdb", empty)


def test_cli_exit_2_on_schema_error(registry, tmp_path, capsys):
    path = _variant(registry, tmp_path, "DROP TABLE person")
    assert main(["analyze", "--cdm", f"duckdb://{path}", "--study", "ukb-style", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no table person" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_analysis_never_writes_into_the_cdm(registry, tmp_path):
    path = registry / "clean.duckdb"
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns)
    api.analyze(path, "ukb-style").save(tmp_path / "out")
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns) == before
    assert not path.with_name(path.name + ".wal").exists()
    os.chmod(path, 0o444)  # read access is enough
    try:
        assert api.analyze(path, "ukb-style").result["n_persons"] > 0
    finally:
        os.chmod(path, 0o644)
