"""Hostile study files, cohort config files and CDMs: one line, exit 2, nothing written or changed.

Covers issue 11 item 7 for files: non-UTF-8 and deeply nested TOML, a byte-order mark (accepted), a
``$`` in a study name (drawn literally, not as mathtext), CDM columns of the wrong type, a damaged cohort
manifest or truth side file.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pytest
from hostile_helpers import run_error, tree_hash

from reawaken.cli.main import main
from reawaken.cohort.config import load_config
from reawaken.errors import ConfigError, StudyError
from reawaken.io.omop import load_study
from reawaken.io.omop.study import shipped_studies

STUDY = "flatiron-style"
DEEP = b"a = " + b"[" * 3000 + b"\n"


def _shipped_text(name: str = STUDY) -> bytes:
    from importlib import resources

    assert name in shipped_studies()
    return resources.files("reawaken.io.omop").joinpath("studies", f"{name}.toml").read_bytes()


# --- study files -------------------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (b'name = "caf\xe9"\n', "not UTF-8 text (byte 0xe9 at offset 11)"),
    (b"\xff\xfe" + "name = 'x'".encode("utf-16-le"), "not UTF-8 text"),
    (DEEP, "nests arrays or tables too deeply"),
    (b"name = ", "not valid TOML"),
])
def test_unreadable_study_file_is_one_line(small_registry, tmp_path, capsys, content, message):
    _, cdm = small_registry
    study = tmp_path / "study.toml"
    study.write_bytes(content)
    before = tree_hash(cdm)
    err = run_error(capsys, "analyze", "--cdm", cdm, "--study", study, "--out", tmp_path / "out")
    assert message in err and "study.toml" in err
    assert len(err) < 300
    assert not (tmp_path / "out").exists() and tree_hash(cdm) == before


def test_study_file_with_bom_is_read(tmp_path):
    study = tmp_path / "bom.toml"
    study.write_bytes(b"\xef\xbb\xbf" + _shipped_text())
    assert load_study(study) == dataclasses.replace(load_study(STUDY), source="bom.toml")


def test_study_errors_are_study_errors(tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_bytes(DEEP)
    with pytest.raises(StudyError, match="too deeply"):
        load_study(deep)


def test_long_values_in_study_messages_are_cut(tmp_path):
    study = tmp_path / "long.toml"
    study.write_bytes(_shipped_text().replace(b'name = "flatiron-style"', b"name = [" + b"1, " * 5000 + b"]"))
    with pytest.raises(StudyError) as info:
        load_study(study)
    assert len(str(info.value)) < 200


@pytest.mark.parametrize("name", ["cost $x^2$ and $_{a}", "$", "a $ b", r"\$ and $\alpha", "^_^ $$"])
def test_dollar_in_study_name_is_drawn_literally(small_registry, tmp_path, capsys, name):
    _, cdm = small_registry
    text = _shipped_text().replace(b'name = "flatiron-style"', f"name = '{name}'".encode())
    text = text.replace(b'name = "t2"', b"name = 't2 $^$'")  # a covariate name becomes a tick label
    study = tmp_path / "dollar.toml"
    study.write_bytes(text)
    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["analyze", "--cdm", str(cdm), "--study", str(study), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert {"forest.png", "km.png", "summary.html", "results.json"} <= {p.name for p in out.iterdir()}


def test_figure_titles_keep_dollar_text(tmp_path):
    from reawaken.report.registry import forest_plot, km_figure

    hrs = [{"term": "x $_1", "hr": 1.5, "ci_low": 1.1, "ci_high": 2.0}]
    assert forest_plot(hrs, tmp_path / "f.png", title="$ cost $x^2").is_file()
    curves = {"all $": {"day": [0.0, 100.0], "survival": [1.0, 0.9]}}
    assert km_figure(curves, tmp_path / "k.png", title="a $ b").is_file()


# --- cohort config files -------------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (b'[cohort]\nnote = "\xff"\n', "not UTF-8 text (byte 0xff"),
    (DEEP, "nests arrays or tables too deeply"),
    (b"[cohort\n", "not valid TOML"),
])
def test_unreadable_config_file_is_one_line(tmp_path, capsys, content, message):
    config = tmp_path / "cohort.toml"
    config.write_bytes(content)
    out = tmp_path / "out"
    err = run_error(capsys, "cohort", "--config", config, "--n", "10", "--out", out)
    assert message in err and "cohort.toml" in err and len(err) < 300
    assert not out.exists()
    with pytest.raises(ConfigError, match=message.split(" (")[0]):
        load_config(config)


def test_config_file_with_bom_is_read(tmp_path):
    plain = load_config()
    config = tmp_path / "bom.toml"
    config.write_bytes(b"\xef\xbb\xbf# a comment\n")
    assert load_config(config).to_dict() == plain.to_dict()
    assert load_config(text="\ufeff# a comment\n").to_dict() == plain.to_dict()


# --- CDMs with columns of the wrong type or impossible values --------------------------------------------

@pytest.mark.parametrize("sql, message", [
    ("ALTER TABLE person ALTER COLUMN year_of_birth TYPE VARCHAR", "person.year_of_birth has type VARCHAR"),
    ("ALTER TABLE condition_occurrence ALTER COLUMN condition_start_date TYPE VARCHAR",
     "condition_occurrence.condition_start_date has type VARCHAR"),
    ("ALTER TABLE death ALTER COLUMN death_date TYPE TIMESTAMP", "death.death_date has type TIMESTAMP"),
    ("ALTER TABLE observation_period ALTER COLUMN person_id TYPE DOUBLE", "observation_period.person_id has type DOUBLE"),
    ("UPDATE person SET month_of_birth = 13", "the CDM query failed"),
])
def test_cdm_column_of_wrong_type_is_a_schema_error(small_registry, tmp_path, capsys, sql, message):
    _, clean = small_registry
    cdm = tmp_path / "variant.duckdb"
    shutil.copy(clean, cdm)
    con = duckdb.connect(str(cdm))
    con.execute(sql)
    con.close()
    before = tree_hash(cdm)
    err = run_error(capsys, "analyze", "--cdm", cdm, "--study", STUDY, "--out", tmp_path / "out")
    assert message in err and len(err) < 400
    assert "BinderException" not in err and "ConversionException" not in err
    assert tree_hash(cdm) == before and not (tmp_path / "out").exists()


# --- damaged side files ----------------------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b"[1, 2]", b"[" * 100_000])
def test_damaged_cohort_manifest_is_one_line(small_registry, tmp_path, capsys, content):
    cohort, _ = small_registry
    copy = tmp_path / "cohort"
    shutil.copytree(cohort, copy)
    (copy / "manifest.json").write_bytes(content)
    before = tree_hash(tmp_path)
    err = run_error(capsys, "registry", "--cohort", copy, "--out", tmp_path / "r.duckdb")
    assert "manifest.json" in err and len(err) < 300
    assert tree_hash(tmp_path) == before


def test_damaged_cohort_part_is_one_line(small_registry, tmp_path, capsys):
    cohort, _ = small_registry
    copy = tmp_path / "cohort"
    shutil.copytree(cohort, copy)
    part = sorted((copy / "persons").glob("part-*.parquet"))[0]
    part.write_bytes(part.read_bytes()[: 40])
    before = tree_hash(tmp_path)
    err = run_error(capsys, "registry", "--cohort", copy, "--out", tmp_path / "r.duckdb")
    assert part.name in err and len(err) < 400
    assert tree_hash(tmp_path) == before


def test_damaged_truth_side_file_is_one_line(small_registry, tmp_path, capsys):
    _, clean = small_registry
    cdm = tmp_path / "registry.duckdb"
    shutil.copy(clean, cdm)
    (tmp_path / "registry.truth.json").write_text('{"planted": {"windows_days": "x"}}')
    before = tree_hash(tmp_path)
    err = run_error(capsys, "analyze", "--cdm", cdm, "--study", STUDY, "--out", tmp_path / "out")
    assert "registry.truth.json" in err
    assert tree_hash(tmp_path) == before


def test_unknown_scheme_is_refused_without_echoing_a_password(small_registry, tmp_path, capsys, monkeypatch):
    cohort, _ = small_registry
    monkeypatch.chdir(tmp_path)
    before = tree_hash(Path("."))
    err = run_error(capsys, "registry", "--cohort", cohort, "--out", "mysql://u:hunter2@host/db")
    assert "hunter2" not in err and "mysql://u:***@host/db" in err
    assert tree_hash(Path(".")) == before
