"""CoxPH on (start, stop] rows against statsmodels PHReg (Breslow ties, robust SEs clustered by person) and
lifelines CoxTimeVaryingFitter (tie-free data, where Efron = Breslow), plus planted-effect recovery."""

from __future__ import annotations

import numpy as np
import pytest

from reawaken.analysis import ConvergenceError, CoxPH
from reawaken.errors import StatisticalWarning

TRUE_HR = 1.8  # the planted exposure effect
TRUE_AGE = 0.3  # log hazard per SD of age


def person_rows(n: int, seed: int, *, round_to: float | None = None):
    """Persons followed 20 years; a time-varying binary exposure switches on at a random time.

    Hazard 0.05 exp(0.3 age) x 1.8 while exposed (exponential waiting times, so the truth is exact).
    ``round_to`` rounds event and censoring times up to a grid (tied event times) and exposure switches to
    the grid's mid-points, so no row starts at an event time: there the conventions differ (R survival and
    lifelines: at risk on (start, stop]; statsmodels PHReg also counts a row entering at t as at risk at t).
    """
    rng = np.random.default_rng(seed)
    age = rng.normal(0.0, 1.0, n)
    t_exp = rng.exponential(10.0, n)
    h0 = 0.05 * np.exp(TRUE_AGE * age)
    t1 = rng.exponential(1.0 / h0)
    t2 = t_exp + rng.exponential(1.0 / (h0 * TRUE_HR))
    rows = []
    for i in range(n):
        if t1[i] < min(t_exp[i], 20.0):
            rows.append((i, 0.0, t1[i], 1, 0.0, age[i]))
        elif t_exp[i] >= 20.0:
            rows.append((i, 0.0, 20.0, 0, 0.0, age[i]))
        else:
            rows.append((i, 0.0, t_exp[i], 0, 0.0, age[i]))
            rows.append((i, t_exp[i], min(t2[i], 20.0), int(t2[i] < 20.0), 1.0, age[i]))
    r = np.array(rows)
    start, stop = r[:, 1], r[:, 2]
    if round_to is not None:
        switch = np.floor(t_exp / round_to) * round_to + round_to / 2  # mid-grid
        start = np.where(start > 0, switch[r[:, 0].astype(int)], 0.0)
        ends_in_switch = (r[:, 4] == 0) & (r[:, 3] == 0) & (stop < 20.0)
        stop = np.where(ends_in_switch, switch[r[:, 0].astype(int)], np.ceil(stop / round_to) * round_to)
        keep = stop > start
        r, start, stop = r[keep], start[keep], stop[keep]
    return r[:, 0], start, stop, r[:, 3].astype(bool), r[:, 4:6]


@pytest.fixture(scope="module")
def tied():
    return person_rows(1500, seed=11, round_to=0.25)


def test_matches_statsmodels_breslow_with_ties_and_robust_se(tied):
    sm = pytest.importorskip("statsmodels.api")
    pid, start, stop, event, x = tied
    # statsmodels drops rows that end before the first event (they are never at risk) and returns NaN
    # score residuals for them, which makes its robust SEs NaN; they carry no information, so drop them.
    keep = stop >= stop[event].min()
    pid, start, stop, event, x = pid[keep], start[keep], stop[keep], event[keep], x[keep]
    assert np.unique(stop[event]).size < event.sum(), "the fixture must contain tied event times"
    assert not np.isin(start[start > 0], stop[event]).any(), "no row may start at an event time"
    # nor lie between two event times: statsmodels' score residuals are wrong for a row at risk at no event
    # time (tests/integration/test_registry_pipeline.py says why), which would make its robust SEs differ
    times = np.unique(stop[event])
    assert np.all(np.searchsorted(times, start, "right") < np.searchsorted(times, stop, "right"))
    ours = CoxPH().fit(start, stop, event, x, cluster=pid)
    ref = sm.PHReg(stop, x, status=event.astype(int), entry=start, ties="breslow").fit()
    ref_robust = sm.PHReg(stop, x, status=event.astype(int), entry=start, ties="breslow").fit(groups=pid)
    np.testing.assert_allclose(ours.params_, ref.params, rtol=1e-6)
    np.testing.assert_allclose(ours.bse_model_, ref.bse, rtol=1e-6)
    np.testing.assert_allclose(ours.bse_, ref_robust.bse, rtol=1e-6)
    assert ours.loglik_ == pytest.approx(ref.llf, rel=1e-9)


def test_matches_lifelines_on_tie_free_data():
    pd = pytest.importorskip("pandas")
    lifelines = pytest.importorskip("lifelines")
    pid, start, stop, event, x = person_rows(800, seed=5)
    assert np.unique(stop[event]).size == event.sum(), "continuous times: no ties, so Efron equals Breslow"
    ours = CoxPH().fit(start, stop, event, x, cluster=pid)
    df = pd.DataFrame({"id": pid, "start": start, "stop": stop, "event": event, "exposed": x[:, 0], "age": x[:, 1]})
    ref = lifelines.CoxTimeVaryingFitter().fit(df, id_col="id", event_col="event", start_col="start", stop_col="stop")
    np.testing.assert_allclose(ours.params_, ref.params_[["exposed", "age"]].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.bse_model_, ref.standard_errors_[["exposed", "age"]].to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recovers_the_planted_hazard_ratio(seed):
    # 4.5 robust SEs: a false alarm has probability ~7e-6 per comparison if the estimator is unbiased.
    pid, start, stop, event, x = person_rows(3000, seed=100 + seed)
    fit = CoxPH().fit(start, stop, event, x, names=("exposed", "age"), cluster=pid)
    assert abs(fit.params_[0] - np.log(TRUE_HR)) < 4.5 * fit.bse_[0]
    assert abs(fit.params_[1] - TRUE_AGE) < 4.5 * fit.bse_[1]
    s = fit.summary
    assert list(s.index) == ["exposed", "age"]
    assert s.loc["exposed", "ci_low"] < s.loc["exposed", "hr"] < s.loc["exposed", "ci_high"]


def test_splitting_rows_does_not_change_the_fit():
    """Cutting a (start, stop] row at an arbitrary time without an event changes nothing."""
    pid, start, stop, event, x = person_rows(600, seed=9)
    base = CoxPH().fit(start, stop, event, x, cluster=pid)
    cut = (start + stop) / 2
    first = (pid, start, cut, np.zeros_like(event), x)
    second = (pid, cut, stop, event, x)
    split = CoxPH().fit(np.concatenate([first[1], second[1]]), np.concatenate([first[2], second[2]]),
                        np.concatenate([first[3], second[3]]), np.vstack([first[4], second[4]]),
                        cluster=np.concatenate([pid, pid]))
    np.testing.assert_allclose(split.params_, base.params_, rtol=1e-9)
    np.testing.assert_allclose(split.bse_, base.bse_, rtol=1e-9)


def test_rescaling_time_does_not_change_the_fit():
    pid, start, stop, event, x = person_rows(600, seed=4)
    a = CoxPH().fit(start, stop, event, x, cluster=pid)
    b = CoxPH().fit(start * 365.25, stop * 365.25, event, x, cluster=pid)
    np.testing.assert_allclose(b.params_, a.params_, rtol=1e-9)


def test_bad_input_is_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="stop .* must be after start"):
        CoxPH().fit(np.array([0.0, 1.0]), np.array([1.0, 1.0]), np.array([1, 0]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="no events"):
        CoxPH().fit(np.zeros(3), np.ones(3), np.zeros(3), np.arange(3.0))
    with pytest.raises(ValueError, match="finite"):
        CoxPH().fit(np.zeros(2), np.ones(2), np.array([1, 0]), np.array([np.nan, 1.0]))
    with pytest.raises(ValueError, match="alpha"):
        CoxPH(alpha=1.5)


def test_collinear_covariates_raise_convergence_error():
    pid, start, stop, event, x = person_rows(300, seed=2)
    with pytest.raises(ConvergenceError, match="singular"):
        CoxPH().fit(start, stop, event, np.column_stack([x[:, 0], x[:, 0]]))


def test_few_events_per_covariate_warns():
    pid, start, stop, event, x = person_rows(15, seed=3)
    assert event.sum() < 20
    with pytest.warns(StatisticalWarning, match="events for 2 covariates"):
        CoxPH().fit(start, stop, event, x)


def test_risk_spans_equal_searchsorted_for_any_spacing():
    """The bucketed search behind each row's risk span is exact: equal to np.searchsorted(side="right")
    for clustered times, ties with row ends, values outside the range and a single event time."""
    from reawaken.analysis._cox_kernels import risk_spans

    rng = np.random.default_rng(3)
    clustered = np.unique(np.concatenate([rng.uniform(0, 1e-6, 50), rng.uniform(5, 6, 50), [1e9]]))
    for times in (clustered, np.unique(rng.integers(1, 400, 300).astype(float)), np.array([2.5])):
        ends = np.concatenate([times, rng.choice(times, 40), rng.uniform(-1, times.max() + 1, 200), [-np.inf]])
        ends = ends[np.isfinite(ends)]
        lo, hi = risk_spans(times, ends, ends)
        np.testing.assert_array_equal(lo, np.searchsorted(times, ends, side="right"))
        np.testing.assert_array_equal(hi, lo)


def test_rows_never_at_risk_and_cluster_labels_do_not_change_the_fit():
    """Rows whose (start, stop] holds no event time are dropped before iterating (they carry nothing);
    integer person ids (coded by a presence table) and string labels (sorted) give the same clusters."""
    pid, start, stop, event, x = person_rows(500, seed=8)
    base = CoxPH().fit(start, stop, event, x, cluster=pid.astype(int))
    first = stop[event].min()
    extra = 40  # rows ending before the first event, for new persons and for existing ones
    e_start = np.zeros(extra)
    e_stop = np.full(extra, first / 2)
    e_pid = np.concatenate([np.arange(20) + 10_000, pid[:20]]).astype(int)
    e_x = np.random.default_rng(0).normal(size=(extra, 2))
    fit = CoxPH().fit(np.concatenate([start, e_start]), np.concatenate([stop, e_stop]),
                      np.concatenate([event, np.zeros(extra, bool)]), np.vstack([x, e_x]),
                      cluster=np.concatenate([pid.astype(int), e_pid]))
    np.testing.assert_allclose(fit.params_, base.params_, rtol=1e-12)
    np.testing.assert_allclose(fit.bse_, base.bse_, rtol=1e-12)
    assert fit.n_obs_ == base.n_obs_ + extra and fit.n_clusters_ == base.n_clusters_ + 20
    labels = CoxPH().fit(start, stop, event, x, cluster=np.array([f"p{int(i)}" for i in pid]))
    np.testing.assert_allclose(labels.bse_, base.bse_, rtol=1e-13)  # clusters summed in another order
    assert labels.n_clusters_ == base.n_clusters_
