"""The mechanism's parameters reach the cohort: a parameter set changes outcomes in its known direction, the
episode tables built for it match the full ODE under the same set, and many sets run in one call."""

from __future__ import annotations

import numpy as np
import pytest

from reawaken import api
from reawaken.cohort import load_config
from reawaken.cohort.check import emulator_error
from reawaken.cohort.simulate import _TABLE_CACHE, arms_from_config, build_model
from reawaken.model.params import ParameterSet

ARMS = ["baseline", "no-infection"]
LOW_K = ParameterSet({"K_il6": 150.0}, provenance="user")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    d = tmp_path_factory.mktemp("params")
    cfg = load_config()
    a = api.run_cohort(cfg, n=20_000, seed=3, arms=ARMS, out_dir=d / "default", workers=1)
    b = api.run_cohort(cfg, n=20_000, seed=3, arms=ARMS, out_dir=d / "low-k", params=LOW_K, workers=1)
    return a, b


@pytest.mark.slow
def test_a_lower_il6_half_saturation_raises_post_infection_lung_metastases(pair):
    # K_il6 is the lung IL-6 at which awakening is half-maximal (docs/model.md). Halving it (300 -> 150 pg/mL)
    # lets ordinary episodes wake DCCs: the session that calibrated it measured the Flatiron-style HR rising
    # from ~1.44 to 3.74. With the same people and infections (common random numbers), the infected arm must
    # gain many lung metastases, while the no-infection arm, whose IL-6 sits at baseline far below either K,
    # must barely move.
    a, b = (r.frame("arms").set_index("arm").lung_metastases for r in pair)
    assert b["baseline"] > 1.3 * a["baseline"]
    assert abs(b["no-infection"] - a["no-infection"]) <= 0.01 * a["no-infection"]
    assert pair[1].manifest["parameter_set"]["values"] == {"K_il6": 150.0}
    assert pair[0].manifest["tables_key"] != pair[1].manifest["tables_key"]


@pytest.mark.slow
def test_tables_for_a_parameter_set_match_the_full_ode_under_that_set():
    cfg = load_config()
    model = build_model(cfg, arms_from_config(cfg, ["baseline"]), params=LOW_K)
    default = build_model(cfg, arms_from_config(cfg, ["baseline"]))
    assert not np.allclose(model.tables.cum_w, default.tables.cum_w)  # the set reached the tables
    err = emulator_error(model.tables, n=16, seed=5, params=LOW_K)
    assert err["median_rel_err_end_w"] < 1e-3 and err["max_rel_err_cum_w"] < 0.06  # as for the defaults
    # cached by content hash: the same set (another provenance) is not solved again
    again = build_model(cfg, arms_from_config(cfg, ["baseline"]), params=ParameterSet({"K_il6": 150}, provenance="x"))
    assert again.tables is model.tables and len(_TABLE_CACHE) >= 2


@pytest.mark.slow
def test_twenty_parameter_sets_run_in_one_call(tmp_path):
    cfg = load_config()
    ks = np.geomspace(150.0, 600.0, 20)
    sets = [ParameterSet({"K_il6": float(k)}, provenance=f"grid point {i}") for i, k in enumerate(ks)]
    batch = api.run_cohorts(cfg, sets, n=3000, seed=8, arms=["baseline"], out_dir=tmp_path, n_severity=17,
                            workers=1)
    assert len(batch) == 20
    lung = batch.frame("arms").lung_metastases.to_numpy()
    assert lung[0] > lung[-1]  # higher K, fewer awakenings: fewer post-infection metastases
    assert np.all(np.diff(lung) <= 3)  # and never more than noise of a few persons (same people, same draws)
    # a set in the batch gives exactly what it gives alone, its tables solved afresh (cache cleared): the
    # batched table solve does not mix rows of different sets
    _TABLE_CACHE.clear()
    alone = api.run_cohort(cfg, n=3000, seed=8, arms=["baseline"], params=sets[7], out_dir=tmp_path / "alone",
                           n_severity=17, workers=1)
    assert alone.to_dict()["arms"] == batch[7].to_dict()["arms"]
    with np.load(alone.path / "tables.npz") as x, np.load(batch[7].path / "tables.npz") as y:
        assert all(np.array_equal(x[k], y[k], equal_nan=True) for k in x.files)
    assert len(repr(batch).splitlines()) <= 40


@pytest.mark.slow
def test_cohort_frames_load_lazily_from_the_store(pair):
    res = pair[0]
    ev = res.frame("events", arm="baseline")
    assert tuple(ev.columns) == res.frames["events"].names and set(ev.arm) == {"baseline"}
    n_lung = res.sql("SELECT count(*) AS n FROM events WHERE arm = 'baseline' AND kind = 'lung_metastasis'").n[0]
    assert n_lung == (ev.kind == "lung_metastasis").sum() == res.to_dict()["arms"]["baseline"]["lung_metastases"]
    persons = res.frame("persons")
    assert tuple(persons.columns) == res.frames["persons"].names and len(persons) == 20_000
    assert len(repr(res).splitlines()) <= 40
