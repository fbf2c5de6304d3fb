"""Study files: the shipped ones load; unknown keys, wrong types and impossible values name the key."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from importlib import resources

import pytest

from reawaken.errors import StudyError
from reawaken.io.omop import concepts, load_study, parse_study, shipped_studies


def _raw(name="flatiron-style"):
    return tomllib.loads(resources.files("reawaken.io.omop").joinpath("studies", f"{name}.toml").read_text())


def test_shipped_studies_load_with_their_definitions():
    assert set(shipped_studies()) >= {"ukb-style", "flatiron-style", "flatiron-standard"}
    std = load_study("flatiron-standard")
    assert std.ties == "efron" and not any(c.kind == "measurement" for c in std.covariates)
    assert [c.kind for c in std.covariates] == ["age_at_index", "condition", "drug", "drug", "drug"]
    ukb, fl = load_study("ukb-style"), load_study("flatiron-style")
    assert ukb.outcome_table == "death" and ukb.min_years_before_start == 5.0
    assert ukb.study_start == dt.date(2020, 1, 1)
    assert 37311061 in ukb.excluded_death_causes.concepts
    assert fl.outcome_table == "condition_occurrence" and fl.windows_days == (0.0, 90.0, 365.0)
    assert 37311061 in fl.exposure.concepts


def test_study_concepts_are_in_the_concept_set_file():
    known = {c.concept_id for c in concepts().values()}
    for name in shipped_studies():
        s = load_study(name)
        used = {*s.cohort.concepts, *s.exposure.concepts, *s.outcome.concepts, *s.excluded_death_causes.concepts,
                *(c.concept_id for c in s.covariates if c.concept_id is not None),
                *(i for c in s.covariates if c.concepts is not None for i in c.concepts.concepts)}
        assert used <= known, name


@pytest.mark.parametrize(("edit", "message"), [
    (lambda r: r["exposure"].update(window_days=[0, 90]), r"\[exposure\] unknown key 'window_days'"),
    (lambda r: r.update(colour="red"), "unknown key 'colour'"),
    (lambda r: r["exposure"].update(windows_days="0-90"), r"\[exposure\] windows_days must be a list of finite numbers"),
    (lambda r: r["exposure"].update(windows_days=[90, 0]), "windows_days must start at 0 and increase"),
    (lambda r: r["cohort"].update(concepts=[4112853.5]), r"\[cohort\] concepts must be a list of concept ids"),
    (lambda r: r["cohort"].update(washout_days=-1), "washout_days must be >= 0"),
    (lambda r: r["cohort"].update(study_start="2020-13-01"), r"study_start must be a date"),
    (lambda r: r["outcome"].update(table="visit"), r"\[outcome\] table must be one of"),
    (lambda r: r["outcome"].pop("concepts"), r"\[outcome\] concepts is missing"),
    (lambda r: r.pop("exposure"), r"section \[exposure\] is missing"),
    (lambda r: r["covariates"][1].pop("concept_id"), r"#2 concept_id is missing"),
    (lambda r: r["covariates"][0].update(kind="bmi"), r"#1 kind must be one of"),
    (lambda r: r["censoring"].update(death="yes"), r"\[censoring\] death must be true or false"),
])
def test_invalid_study_names_the_key(edit, message):
    raw = copy.deepcopy(_raw())
    edit(raw)
    with pytest.raises(StudyError, match=message):
        parse_study(raw, "x.toml")


def test_unknown_shipped_name_and_missing_file(tmp_path):
    with pytest.raises(StudyError, match="not a shipped study"):
        load_study("nope-style")
    with pytest.raises(StudyError, match="no such file"):
        load_study(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(StudyError, match="not valid TOML"):
        load_study(bad)


def test_concept_set_file_marks_certainty_and_builds_ancestors():
    from reawaken.io.omop.concepts import ancestor_rows

    table = concepts()
    assert table["covid19"].concept_id == 37311061 and table["covid19"].certainty == "verified"
    assert {c.certainty for c in table.values()} <= {"verified", "likely", "uncertain", "local"}
    rows = set(ancestor_rows())
    assert (37311061, 3661408, 1, 1) in rows  # COVID-19 -> pneumonia caused by SARS-CoV-2
    assert (443392, 4112853, 1, 1) in rows and (4112853, 4112853, 0, 0) in rows
