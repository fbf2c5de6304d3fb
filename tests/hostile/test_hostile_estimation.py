"""Plausible inputs, meaningless numbers (issue 11 item 2, issue 10 item 4): a study whose terms cannot be
estimated ends in one line naming the term and what to do, exit 2, nothing written; a CDM with duplicated
person rows is refused naming the table, the count and an id (repeated observation periods are legal and
change nothing). The good path keeps its numbers, and an exposure window without
events is still dropped (listed in ``dropped_terms``), not refused.

The CLI cases edit the shipped flatiron-style study and copies of the ``small_registry`` CDM; the
analysis-level cases build :class:`SurvivalData` by hand, so each condition is exact.
"""

from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pytest
from hostile_helpers import edited_study, run_error, tree_hash

from reawaken import api
from reawaken.analysis import SurvivalData, analyze_survival
from reawaken.analysis.study import MAX_STANDARDIZED_COEF, MAX_STANDARDIZED_SE, MIN_EVENTS
from reawaken.errors import SchemaError, StudyError

LUNG_METS = 254591
T_CATEGORY = 2000000001


_study = edited_study


def _cdm(small_registry, tmp_path, *sql):
    path = tmp_path / "variant.duckdb"
    shutil.copy(small_registry[1], path)
    con = duckdb.connect(str(path))
    for s in sql:
        con.execute(s)
    con.close()
    return path


def _analyze_error(capsys, tmp_path, cdm, study) -> str:
    out = tmp_path / "out"
    before = tree_hash(out)
    line = run_error(capsys, "analyze", "--cdm", cdm, "--study", study, "--out", out)
    assert tree_hash(out) == before == "absent"
    return line


# -- through the CLI, on a CDM -------------------------------------------------------------------------


def test_constant_covariate_is_named(small_registry, tmp_path, capsys):
    """HR 2.73 (0.15-51) for a covariate everyone shares, before; now refused naming it."""
    study = _study(tmp_path, **{"above = 1.0": "above = 100.0"})  # t2: nobody's T category is > 100
    line = _analyze_error(capsys, tmp_path, small_registry[1], study)
    assert "'t2'" in line and "same value (0)" in line and "[[covariates]]" in line


def test_collinear_covariates_are_named(small_registry, tmp_path, capsys):
    """Two copies of age: the information matrix is singular; the message names both, not a traceback."""
    study = _study(tmp_path, **{'name = "t2"': 'name = "age_again"\nkind = "age_at_index"\nper = 10.0\n'
                                               '[[covariates]]\nname = "t2"'})
    line = _analyze_error(capsys, tmp_path, small_registry[1], study)
    assert "'age_per_10y'" in line and "'age_again'" in line and "collinear" in line


def test_separation_by_a_binary_covariate_is_named(small_registry, tmp_path, capsys):
    """Every person with a lung metastasis has T category 2, nobody else: t2's HR is infinite."""
    cdm = _cdm(small_registry, tmp_path,
               f"UPDATE measurement SET value_as_number = CASE WHEN person_id IN (SELECT person_id FROM "
               f"condition_occurrence WHERE condition_concept_id = {LUNG_METS}) THEN 2 ELSE 1 END "
               f"WHERE measurement_concept_id = {T_CATEGORY}")
    line = _analyze_error(capsys, tmp_path, cdm, "flatiron-style")
    assert "'t2'" in line and "separation" in line and "[[covariates]]" in line


def test_separation_by_a_continuous_covariate_is_found_after_the_fit(small_registry, tmp_path, capsys):
    """T category recoded so the earlier the outcome, the larger the value, and every other person far
    below: each event has the largest value of its risk set (monotone likelihood), with many levels, so only
    the check after the fit (huge coefficient or model SE) can see it."""
    cdm = _cdm(small_registry, tmp_path,
               f"UPDATE measurement SET value_as_number = COALESCE((SELECT 100000 - (MIN(c.condition_start_date) "
               f"- DATE '2000-01-01') FROM condition_occurrence c WHERE c.person_id = measurement.person_id AND "
               f"c.condition_concept_id = {LUNG_METS}), 0) WHERE measurement_concept_id = {T_CATEGORY}")
    study = _study(tmp_path, **{"concept_id = 2000000001        # local: T category (1, 2)\nabove = 1.0":
                                "concept_id = 2000000001\nper = 1000.0"})
    line = _analyze_error(capsys, tmp_path, cdm, study)
    assert "'t2'" in line and ("separation" in line or "infinity" in line)


def test_one_event_is_refused(small_registry, tmp_path, capsys):
    """A study left with one event: an uncaught ConvergenceError or HR 1.5e15 before; one line now."""
    cdm = _cdm(small_registry, tmp_path,
               f"DELETE FROM condition_occurrence WHERE condition_concept_id = {LUNG_METS} AND condition_occurrence_id "
               f"<> (SELECT MIN(condition_occurrence_id) FROM condition_occurrence WHERE condition_concept_id = "
               f"{LUNG_METS} AND condition_start_date BETWEEN DATE '2020-03-01' AND DATE '2024-01-01')")
    line = _analyze_error(capsys, tmp_path, cdm, "flatiron-style")
    assert "only 1 outcome event" in line and "study period" in line


def test_duplicated_person_rows_are_refused(small_registry, tmp_path, capsys):
    """Duplicated person rows doubled persons and events silently; now refused naming table, count, an id."""
    cdm = _cdm(small_registry, tmp_path, "INSERT INTO person SELECT * FROM person WHERE person_id IN "
                                         "(SELECT person_id FROM person ORDER BY person_id LIMIT 3)")
    with duckdb.connect(str(cdm), read_only=True) as con:
        first = int(con.execute("SELECT MIN(person_id) FROM person").fetchone()[0])
    line = _analyze_error(capsys, tmp_path, cdm, "flatiron-style")
    assert "table person has 3 person_id" in line and f"e.g. person_id {first})" in line
    with pytest.raises(SchemaError, match="table person has 3"):
        api.analyze(cdm, "flatiron-style")


def test_duplicated_observation_periods_change_nothing(small_registry, tmp_path):
    """Several observation periods per person are legal OMOP; repeated ones must not change a number."""
    cdm = _cdm(small_registry, tmp_path, "INSERT INTO observation_period SELECT * FROM observation_period")
    clean = api.analyze(small_registry[1], "flatiron-style").result
    doubled = api.analyze(cdm, "flatiron-style").result
    assert doubled["hazard_ratios"] == clean["hazard_ratios"] and doubled["n_persons"] == clean["n_persons"]


def test_good_path_unchanged_and_empty_window_still_dropped(small_registry, tmp_path):
    res = api.analyze(small_registry[1], "flatiron-style").result
    assert res["dropped_terms"] == []
    assert [h["term"] for h in res["hazard_ratios"]][:3] == ["infection 0-90 d", "infection 90-365 d",
                                                             "infection >365 d"]
    assert all(np.isfinite(h["hr"]) and h["se"] < 5 for h in res["hazard_ratios"])


# -- analysis level: exact conditions on hand-built data -----------------------------------------------


def _data(n=400, seed=0, *, covariates=None, names=(), events=None, infections=True):
    rng = np.random.default_rng(seed)
    exit_day = rng.uniform(50, 1000, n).round()
    event = rng.random(n) < 0.3 if events is None else events
    cov = np.zeros((n, 0)) if covariates is None else np.asarray(covariates, float).reshape(n, -1)
    inf_p = np.arange(0, n, 3) if infections else np.zeros(0, np.int64)
    inf_d = (exit_day[inf_p] * rng.uniform(0.1, 0.9, inf_p.size)).round()
    return SurvivalData(np.arange(n), exit_day, event, cov, tuple(names), inf_p.astype(np.int64), inf_d)


def test_limits_are_documented_constants():
    assert MIN_EVENTS == 2 and MAX_STANDARDIZED_COEF == 20.0 and MAX_STANDARDIZED_SE == 100.0


def test_analysis_refuses_a_constant_covariate():
    with pytest.raises(StudyError, match=r"term 'stage' has the same value \(3\).*\[\[covariates\]\]"):
        analyze_survival(_data(covariates=np.full(400, 3.0), names=("stage",)), (0.0, 90.0))


def test_analysis_refuses_zero_and_one_event():
    one = np.zeros(400, bool)
    one[7] = True
    with pytest.raises(StudyError, match="only 1 outcome event"):
        analyze_survival(_data(events=one), (0.0, 90.0))


def test_analysis_refuses_binary_separation():
    d = _data(seed=1)
    x = d.event.astype(float)  # everyone with an event is "positive", nobody else
    with pytest.raises(StudyError, match=r"term 'marker': all \d+ outcome events fall where it is 1"):
        analyze_survival(_data(seed=1, covariates=x, names=("marker",)), (0.0, 90.0))


def test_analysis_refuses_events_only_in_exposure_windows():
    d = _data(seed=2)
    exposed = np.zeros(d.exit_day.size, bool)
    exposed[d.infection_person] = True
    events = d.event & exposed  # events only in infected persons ...
    inf_day = d.exit_day[d.infection_person] - 30  # ... and all of them within 90 d of the infection
    data = SurvivalData(d.person_id, d.exit_day, events, d.covariates, (), d.infection_person, inf_day)
    with pytest.raises(StudyError, match="infection 0-90 d"):
        analyze_survival(data, (0.0, 90.0))


def test_analysis_refuses_separation_after_the_fit():
    """Each event has the largest value of its risk set, with many levels: only the fitted estimate shows it."""
    d = _data(seed=3, infections=False)
    x = np.where(d.event, 10.0 + 1000.0 / d.exit_day, 0.0)  # earlier events larger; non-events lowest
    data = SurvivalData(d.person_id, d.exit_day, d.event, x[:, None], ("score",), d.infection_person,
                        d.infection_day)
    with pytest.raises(StudyError, match=r"term 'score'.*(separation|infinite)"):
        analyze_survival(data, (0.0, 90.0))


def test_analysis_refuses_a_boundary_estimate_that_converged():
    """Issue 10's case: Newton 'converges' at coef ~36 (the score underflows to 0) with a huge or undefined
    model SE; events all at the top of three levels, so the check before the fit does not apply."""
    d = _data(seed=3, infections=False)
    x = np.where(d.event, 2.0, np.random.default_rng(0).integers(0, 2, d.event.size).astype(float))
    data = SurvivalData(d.person_id, d.exit_day, d.event, x[:, None], ("grade",), d.infection_person,
                        d.infection_day)
    with pytest.raises(StudyError, match=r"term 'grade' has no finite estimate \(coef 3\d\.\d"):
        analyze_survival(data, (0.0, 90.0))


def test_a_window_without_events_is_dropped_not_refused():
    d = _data(seed=4)  # follow-up is at most 1,000 d: nobody reaches the >2000 d window
    data = SurvivalData(d.person_id, d.exit_day, d.event, np.linspace(0, 1, d.exit_day.size)[:, None], ("age",),
                        d.infection_person, d.infection_day)
    res = analyze_survival(data, (0.0, 90.0, 2000.0))
    assert res["dropped_terms"] == ["infection >2000 d"]
    assert [h["term"] for h in res["hazard_ratios"]] == ["infection 0-90 d", "infection 90-2000 d", "age"]


def test_nothing_left_to_estimate():
    d = _data(seed=5, infections=False)
    with pytest.raises(StudyError, match="nothing to estimate"):
        analyze_survival(d, (0.0, 90.0))


# -- cohort config bounds that keep the model alive ---------------------------------------------------


@pytest.mark.parametrize(("toml", "key"), [
    ("[mortality]\nbackground_gompertz_slope = 0", "background_gompertz_slope must be a number > 0"),
    ("[people]\nlung_share = 1.0", "lung_share must be a number >= 0 and < 1"),
    ('[people]\nrecurrence_15y_T1 = { "N0" = 0.0, "N1-3" = 0.20, "N4-9" = 0.34 }', "recurrence_15y_T1"),
    ('[people]\nrecurrence_15y_T2 = { "N0" = 0.19, "N1-3" = 1.0, "N4-9" = 0.41 }', "recurrence_15y_T2"),
])
def test_config_values_that_kill_the_model_are_refused(tmp_path, capsys, toml, key):
    """slope 0 gave a cohort with no deaths and no lung metastases (NaN death times), exit 0."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml + "\n")
    out = tmp_path / "cohort"
    line = run_error(capsys, "cohort", "--config", cfg, "--n", "10", "--out", out)
    assert key in line
    assert tree_hash(out) == "absent"
