"""CDM, vocabulary and results in separate schemas (issue 10, item 1), and ``reawaken cdm-check``.

The hand-built CDM of ``test_omop_entry_rules.py`` (six persons, counts written down there by hand) is split
into the schemas ``cdm`` (clinical tables) and ``vocab`` (``concept``, ``concept_ancestor``) of one DuckDB
file; ``cdm`` also holds a stale ``concept`` table without the study's concepts, so a query that read the
wrong schema would fail. The same counts must come out: with_target_record 5, first_record_by_entry_cutoff
4, in_observation_at_index 3, after_washout 3, after_excluding_prior_outcome 2, with_follow_up_after_index 2;
persons 1 and 2, person 1 with the event.
"""

from __future__ import annotations

import json
import os

import pytest

duckdb = pytest.importorskip("duckdb")

from test_omop_entry_rules import _cdm, _study  # noqa: E402

from reawaken.cli.main import main  # noqa: E402
from reawaken.errors import SchemaError  # noqa: E402
from reawaken.io.omop.cdm import Schemas  # noqa: E402
from reawaken.io.omop.extract import extract_study  # noqa: E402

HAND_COUNTS = {"with_target_record": 5, "first_record_by_entry_cutoff": 4, "in_observation_at_index": 3,
               "after_washout": 3, "after_excluding_prior_outcome": 2, "with_follow_up_after_index": 2}
VOCAB = ("concept", "concept_ancestor")


def _split(flat, path):
    dst = duckdb.connect(str(path))
    dst.execute(f"ATTACH '{flat}' AS src (READ_ONLY)")
    dst.execute("CREATE SCHEMA cdm")
    dst.execute("CREATE SCHEMA vocab")
    tables = [t for (t,) in dst.execute("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_catalog = 'src'").fetchall()]
    for t in tables:
        schema = "vocab" if t in VOCAB else "cdm"
        dst.execute(f"CREATE TABLE {schema}.{t} AS SELECT * FROM src.{t}")  # noqa: S608
    dst.execute("CREATE TABLE cdm.concept AS SELECT * FROM src.concept WHERE concept_id > 100")  # stale, empty
    dst.execute("DETACH src")
    dst.close()
    return path


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    root = tmp_path_factory.mktemp("schemas")
    return _split(_cdm(root / "flat.duckdb"), root / "split.duckdb")


def test_schema_split_duckdb_gives_the_hand_counts(split):
    data, info = extract_study(str(split), _study(0.0), schemas=Schemas("cdm", "vocab"))
    assert data.attrition == HAND_COUNTS
    assert data.person_id.tolist() == [1, 2] and data.event.tolist() == [True, False]
    assert info["schemas"] == {"cdm": "cdm", "vocab": "vocab", "results": "cdm"}


def test_vocabulary_defaults_to_the_cdm_schema(split):
    # without --vocab-schema the vocabulary is looked for in cdm, which has no concept_ancestor
    with pytest.raises(SchemaError, match="no table concept_ancestor in schema cdm"):
        extract_study(str(split), _study(0.0), schemas=Schemas("cdm"))


def test_tables_outside_the_default_schema_are_named_with_the_options_to_set(split):
    with pytest.raises(SchemaError, match="no table cdm_source.*--cdm-schema"):
        extract_study(str(split), _study(0.0))


def test_unknown_and_malformed_schema_names_are_refused_in_one_line(split, capsys, tmp_path):
    with pytest.raises(SchemaError, match="--vocab-schema nope: the database has no such schema"):
        extract_study(str(split), _study(0.0), schemas=Schemas("cdm", "nope"))
    assert main(["analyze", "--cdm", str(split), "--study", "flatiron-style", "--out", str(tmp_path / "o"),
                 "--cdm-schema", "cdm; drop table x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a plain identifier" in err[0]
    assert not (tmp_path / "o").exists()


def test_cdm_check_reports_what_a_study_finds(split, capsys):
    assert main(["cdm-check", str(split), "--cdm-schema", "cdm", "--vocab-schema", "vocab", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ready"] is True and report["cdm_version_read_as"] == "5.4"
    assert report["row_counts"]["person"] == 6 and report["row_counts"]["condition_occurrence"] == 8
    assert report["row_counts"]["concept"] == 3 and report["row_counts"]["cohort"] is None
    assert report["study_tables"]["measurement"]["present"] is False
    assert "measurement" in report["conformance"]["missing_tables"]
    assert "malignant_neoplasm" in report["vocabulary"]["shipped_concepts_missing"]
    # without the vocab schema a study would read the stale, empty cdm.concept and find no concept_ancestor
    assert main(["cdm-check", str(split), "--cdm-schema", "cdm"]) == 1
    out = capsys.readouterr().out
    assert "concept_ancestor       MISSING (required)" in out and "0 concepts" in out


def test_cdm_check_exit_1_when_a_required_table_is_missing(tmp_path, capsys):
    path = _cdm(tmp_path / "nodeath.duckdb")
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE death")
    con.close()
    assert main(["cdm-check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "death" in out and "MISSING" in out and "not ready" in out


def test_schema_split_postgresql_gives_the_hand_counts(tmp_path):
    url = os.environ.get("REAWAKEN_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("REAWAKEN_REQUIRE_POSTGRES") == "1":
            pytest.fail("REAWAKEN_REQUIRE_POSTGRES=1 but REAWAKEN_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server (set REAWAKEN_TEST_POSTGRES_URL)")
    from reawaken.io.omop import copy_cdm

    flat = _cdm(tmp_path / "flat.duckdb")
    sep = "&" if "?" in url else "?"
    copy_cdm(flat, f"{url}{sep}schema=split_cdm", tables=("person", "observation_period", "condition_occurrence",
                                                          "death", "cdm_source"))
    copy_cdm(flat, f"{url}{sep}schema=split_vocab", tables=VOCAB)
    data, info = extract_study(url, _study(0.0), schemas=Schemas("split_cdm", "split_vocab"))
    assert info["backend"] == "postgresql"
    assert data.attrition == HAND_COUNTS and data.person_id.tolist() == [1, 2]
