"""Cohort directory -> OMOP CDM (DuckDB) -> study -> time-varying Cox: the CDM's content, the truth side
files, planted-effect recovery, the null, agreement with statsmodels and lifelines, the CLI."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest
from registry_fixture import write_cohort

from reawaken import api
from reawaken.analysis import CoxPH, analyze_survival, split_windows
from reawaken.cli.main import main
from reawaken.io.omop import extract_study, load_study, parse_study
from reawaken.io.omop.cdm import TABLES

PLANTED = (2.0, 1.5, 1.0)


def both_viruses_study(**over):
    """flatiron-style, but the exposure is any recorded infection: the definition of the planted effect."""
    import tomllib
    from importlib import resources

    raw = tomllib.loads(resources.files("reawaken.io.omop").joinpath("studies", "flatiron-style.toml").read_text())
    raw["exposure"]["concepts"] = [37311061, 4266367]
    raw["covariates"] = raw["covariates"][:3]
    for k, v in over.items():
        raw[k] = v
    return parse_study(raw, "both-viruses.toml")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    d = tmp_path_factory.mktemp("planted")
    write_cohort(d / "cohort", 16000, seed=21, planted=PLANTED)
    summary = api.write_registry(d / "cohort", d / "registry.duckdb", seed=4, ascertainment="covid=1,influenza=1").truth
    return d, summary


@pytest.fixture(scope="module")
def null(tmp_path_factory):
    d = tmp_path_factory.mktemp("null")
    write_cohort(d / "cohort", 16000, seed=22, planted=None)
    api.write_registry(d / "cohort", d / "registry.duckdb", seed=5, ascertainment="covid=1,influenza=1")
    return d


def test_cdm_has_v54_tables_columns_and_vocabulary(planted):
    d, summary = planted
    con = duckdb.connect(str(d / "registry.duckdb"), read_only=True)
    for table, cols in TABLES.items():
        got = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                         "ORDER BY ordinal_position", [table]).fetchall()]
        assert got == [c for c, _, _ in cols], table
    assert con.execute("SELECT cdm_version FROM cdm_source").fetchall() == [("v5.4",)]
    n = con.execute("SELECT count(*) FROM person").fetchone()[0]
    assert n == 16000 == summary["n_persons"]
    # every person has one breast-cancer diagnosis and one observation period ending at death or end of follow-up
    assert con.execute("SELECT count(DISTINCT person_id) FROM condition_occurrence WHERE condition_concept_id = 4112853"
                       ).fetchone()[0] == n
    assert con.execute("SELECT count(*) FROM death d JOIN observation_period o USING (person_id) "
                       "WHERE d.death_date <> o.observation_period_end_date").fetchone()[0] == 0
    # descendants are used for some records and resolve through concept_ancestor
    used = con.execute("SELECT count(*) FROM condition_occurrence WHERE condition_concept_id = 3661408").fetchone()[0]
    assert used > 0
    assert con.execute("SELECT count(*) FROM concept_ancestor WHERE ancestor_concept_id = 37311061 "
                       "AND descendant_concept_id = 3661408").fetchone()[0] == 1
    # no truth column anywhere in the CDM
    cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns").fetchall()}
    assert not cols & {"recorded", "dcc_burden", "baseline_distant_hazard", "planted"}
    con.close()


def test_ascertainment_share_and_truth_files(tmp_path, planted):
    d, _ = planted
    s = api.write_registry(d / "cohort", tmp_path / "r.duckdb", seed=9, ascertainment="covid=0.5,influenza=0.1").truth
    truth = json.loads((tmp_path / "r.truth.json").read_text())
    assert truth["planted"]["hazard_ratios"] == list(PLANTED)
    for virus, share in (("sars-cov-2", 0.5), ("influenza", 0.1)):
        sim, rec = s["infections"][virus]["simulated"], s["infections"][virus]["recorded"]
        assert abs(rec / sim - share) < 5 * np.sqrt(share * (1 - share) / sim)  # 5 binomial SEs
    import pyarrow.parquet as pq

    t = pq.read_table(tmp_path / "r.truth.parquet").to_pandas()
    inf = t[t["kind"] == "sars-cov-2"]
    con = duckdb.connect(str(tmp_path / "r.duckdb"), read_only=True)
    n_cdm = con.execute("SELECT count(*) FROM condition_occurrence WHERE condition_concept_id IN (37311061, 3661408)"
                        ).fetchone()[0]
    con.close()
    assert n_cdm == int(inf["recorded"].sum()) < len(inf)
    # same seed, same registry; another seed, other records
    s2 = api.write_registry(d / "cohort", tmp_path / "r2.duckdb", seed=9, ascertainment="covid=0.5,influenza=0.1").truth
    s3 = api.write_registry(d / "cohort", tmp_path / "r3.duckdb", seed=10, ascertainment="covid=0.5,influenza=0.1").truth
    assert s2["infections"] == s["infections"] != s3["infections"]


def test_planted_effect_recovered(planted):
    d, _ = planted
    study = both_viruses_study()
    data, _ = extract_study(str(d / "registry.duckdb"), study)
    res = analyze_survival(data, study.windows_days)
    hrs = {h["term"]: h for h in res["hazard_ratios"]}
    for term, truth in zip(("infection 0-90 d", "infection 90-365 d", "infection >365 d"), PLANTED):
        h = hrs[term]
        # tolerance: 3.5 robust SEs on the log scale (a failure is a bug, not noise: p ~ 5e-4 per term)
        assert abs(np.log(h["hr"]) - np.log(truth)) < 3.5 * h["se"], (term, h["hr"], truth)
    assert hrs["infection 0-90 d"]["ci_low"] > 1.0  # and the effect is detected


def test_no_planted_effect_gives_hr_near_one(null):
    study = both_viruses_study()
    data, _ = extract_study(str(null / "registry.duckdb"), study)
    res = analyze_survival(data, study.windows_days)
    for h in res["hazard_ratios"][:3]:
        assert abs(np.log(h["hr"])) < 3.5 * h["se"], h
        assert h["se"] < 0.2  # informative: an HR of 2 would have been excluded


def test_cox_on_extracted_rows_matches_statsmodels_and_lifelines(planted):
    sm = pytest.importorskip("statsmodels.api")
    pd = pytest.importorskip("pandas")
    lifelines = pytest.importorskip("lifelines")
    d, _ = planted
    study = both_viruses_study()
    data, _ = extract_study(str(d / "registry.duckdb"), study)
    keep = np.arange(data.person_id.size) < 3000  # a subsample keeps lifelines fast
    remap = np.cumsum(keep) - 1
    inf = keep[data.infection_person]
    rows = split_windows(np.zeros(keep.sum()), data.exit_day[keep], data.event[keep],
                         remap[data.infection_person[inf]], data.infection_day[inf], edges=study.windows_days)
    # Whole days tie events across persons, and many rows start on another person's event day. R survival
    # (tests/peers/test_cox_vs_r_survival.py, where these rows match R to 1e-13 without any shift) and we
    # put a row entering at t outside the risk set at t; statsmodels PHReg puts it inside (coefficients then
    # differ by ~2 %), and lifelines uses Efron's ties. A per-person shift in (0, 0.5) day of every time after
    # index breaks ties between persons and keeps each person's rows chained, so all three conventions agree.
    eps = np.random.default_rng(0).uniform(0.0, 0.5, keep.sum())[rows.person]
    start = np.where(rows.start > 0, rows.start + eps, 0.0)
    stop = rows.stop + eps
    x = np.hstack([rows.indicators(), data.covariates[keep][rows.person]])
    ours = CoxPH().fit(start, stop, rows.event, x, cluster=rows.person)
    ref = sm.PHReg(stop, x, status=rows.event.astype(int), entry=start, ties="breslow").fit()
    np.testing.assert_allclose(ours.params_, ref.params, rtol=1e-6)
    np.testing.assert_allclose(ours.bse_model_, ref.bse, rtol=1e-6)
    # Robust SEs: statsmodels' PHReg.score_residuals (0.15) keeps its risk set as a Python set, adding a row
    # when the backward sweep reaches the event time of its stop and removing it after the event time of its
    # entry. A row whose (start, stop] holds no event time (here 52 short rows between two event times) is
    # "removed" before it is added, so it stays in the set at every earlier event time and collects spurious
    # -w (x - xbar) dLambda terms: its residual should be 0 (R's is), and the residuals no longer sum to the
    # score, 0 at the MLE. S0 and S1 are kept by + and -, which commute, so coefficients and model-based SEs
    # are unaffected; the robust SEs come out 0.03-0.9 % too large here. (statsmodels also drops rows that
    # end before the first event or enter after the last, and its robust SEs are then NaN.) Rows at risk at
    # no event time carry no information (neither our fit nor R's changes without them), so statsmodels gets
    # the rows at risk at some event time, and then agrees to ~1e-13.
    times = np.unique(stop[rows.event])
    informative = np.searchsorted(times, start, side="right") < np.searchsorted(times, stop, side="right")
    between = ~informative & (stop >= times[0]) & (start < times[-1])  # the rows statsmodels mishandles
    assert 0 < between.sum() and (~informative).sum() < 0.05 * informative.size  # present, and rare
    ref_robust = sm.PHReg(stop[informative], x[informative], status=rows.event[informative].astype(int),
                          entry=start[informative], ties="breslow").fit(groups=rows.person[informative])
    np.testing.assert_allclose(ours.bse_, ref_robust.bse, rtol=1e-6)
    # and with the Lin-Wei sandwich written out directly below (risk sets by brute force), on all the rows
    np.testing.assert_allclose(ours.bse_, _lin_wei_brute_force(start, stop, rows.event, x, rows.person, ours.params_),
                               rtol=1e-9)
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    df["id"], df["start"], df["stop"], df["event"] = rows.person, start, stop, rows.event
    ll = lifelines.CoxTimeVaryingFitter().fit(df, id_col="id", start_col="start", stop_col="stop", event_col="event")
    np.testing.assert_allclose(ours.params_, ll.params_.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.bse_model_, ll.standard_errors_.to_numpy(), rtol=1e-6)


def _lin_wei_brute_force(start, stop, event, x, person, beta):
    """Robust SEs from the definition: per-row score residuals summed by person, sandwiched by I^-1."""
    w = np.exp(x @ beta)
    resid = np.zeros_like(x)
    info = np.zeros((x.shape[1], x.shape[1]))
    for k in np.flatnonzero(event):
        t = stop[k]
        risk = (start < t) & (stop >= t)
        s0 = w[risk].sum()
        xbar = (w[risk, None] * x[risk]).sum(0) / s0
        resid[k] += x[k] - xbar
        centred = x[risk] - xbar
        resid[risk] -= w[risk, None] * centred / s0
        info += (w[risk, None, None] * centred[:, :, None] * centred[:, None, :]).sum(0) / s0
    u = np.zeros((person.max() + 1, x.shape[1]))
    np.add.at(u, person, resid)
    inv = np.linalg.inv(info)
    return np.sqrt(np.diag(inv @ u.T @ u @ inv))


def test_cli_registry_and_analyze_json(planted, tmp_path, capsys):
    d, _ = planted
    assert main(["registry", "--cohort", str(d / "cohort"), "--out", str(tmp_path / "c.duckdb"), "--seed", "2"]) == 0
    assert (tmp_path / "c.truth.json").is_file() and (tmp_path / "c.truth.parquet").is_file()
    capsys.readouterr()
    out = tmp_path / "analysis"
    assert main(["analyze", "--cdm", f"duckdb://{tmp_path / 'c.duckdb'}", "--study", "flatiron-style",
                 "--out", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n_persons"] > 1000 and res["n_events"] > 100
    for h in res["hazard_ratios"]:
        assert set(h) >= {"term", "hr", "ci_low", "ci_high", "p"} and h["ci_low"] < h["hr"] < h["ci_high"]
    assert {p.name for p in out.iterdir()} == {"results.json", "km.json", "forest.png", "km.png", "summary.html",
                                              "manifest.json"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "analyze" and set(manifest["files"]) >= {"results.json", "summary.html"}
    assert "planted" in res  # read from the truth side file, for the report
    assert "hazard ratios" in (out / "summary.html").read_text().lower()


def test_cli_errors_exit_2_with_one_line(planted, tmp_path, capsys):
    d, _ = planted
    cases = [
        (["registry", "--cohort", str(tmp_path / "none"), "--out", str(tmp_path / "x.duckdb")], "no manifest.json"),
        (["registry", "--cohort", str(d / "cohort"), "--out", str(tmp_path / "x.duckdb"), "--arm", "nope"],
         "not an arm"),
        (["registry", "--cohort", str(d / "cohort"), "--out", str(tmp_path / "x.duckdb"), "--ascertainment",
          "covid=2"], "must be in [0, 1]"),
        (["analyze", "--cdm", str(tmp_path / "none.duckdb"), "--study", "ukb-style", "--out", str(tmp_path / "o")],
         "does not exist"),
        (["analyze", "--cdm", "mysql://x", "--study", "ukb-style", "--out", str(tmp_path / "o")], "use duckdb:///"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)
    assert not (tmp_path / "x.duckdb").exists() and not (tmp_path / "o").exists()


def test_shipped_studies_run_on_a_default_registry(planted, tmp_path):
    d, _ = planted
    api.write_registry(d / "cohort", tmp_path / "default.duckdb", seed=1)  # default under-ascertainment
    for name in ("ukb-style", "flatiron-style"):
        res = api.analyze(tmp_path / "default.duckdb", name).result
        assert res["study"] == name and res["n_events"] > 50
        assert [h["term"] for h in res["hazard_ratios"][:3]] == ["infection 0-90 d", "infection 90-365 d",
                                                                  "infection >365 d"]
    study = load_study("ukb-style")
    data, _ = extract_study(str(tmp_path / "default.duckdb"), study)
    import pyarrow.parquet as pq

    persons = pq.read_table(d / "cohort" / "persons" / "part-00000.parquet").to_pandas()
    dx = persons.set_index("person_id").loc[data.person_id, "diagnosis_day"]
    assert (dx <= 1096.0 + 1).all()  # diagnosed on or before 2015-01-01 (day 1096): >= 5 y before 2020
