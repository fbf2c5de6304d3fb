"""Efron ties in CoxPH against R's ``survival::coxph(ties = "efron")`` (issue 10, item 4).

The same data sets as the Breslow comparison (``test_cox_vs_r_survival.py``: recurrent events on whole days
with ~2 tied events a day, and rows extracted from a synthetic OMOP registry), fitted by R with
``ties = "efron"``: coefficients, model-based SEs, Lin-Wei robust SEs clustered by person and the partial
log-likelihood must agree to 1e-6 (relative). The Efron and Breslow fits must also differ on these data, so
the agreement tests the tie handling rather than a tie-free case where the two coincide.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_cox_vs_r_survival import RTOL, r_coxph, recurrent_whole_days, registry_rows

from reawaken.analysis import CoxPH


@pytest.fixture(scope="module")
def efron_fits(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("cox_efron_vs_r")
    datasets = {"recurrent_whole_days": recurrent_whole_days(), "registry": registry_rows(workdir)}
    ref = r_coxph(datasets, workdir, ties="efron")
    ours = {name: CoxPH(ties="efron").fit(s, t, e, x, cluster=p) for name, (s, t, e, x, p) in datasets.items()}
    breslow = {name: CoxPH().fit(s, t, e, x, cluster=p) for name, (s, t, e, x, p) in datasets.items()}
    return {name: (datasets[name], ours[name], ref[name], breslow[name]) for name in datasets}


@pytest.mark.parametrize("name", ["recurrent_whole_days", "registry"])
def test_efron_matches_r_coxph(efron_fits, name):
    (_, _, event, _, _), ours, ref, _ = efron_fits[name]
    assert ref["nevent"] == ours.n_events_ == int(event.sum())
    np.testing.assert_allclose(ours.params_, ref["coef"], rtol=RTOL)
    np.testing.assert_allclose(ours.bse_model_, ref["se_model"], rtol=RTOL)
    np.testing.assert_allclose(ours.bse_, ref["se_robust"], rtol=RTOL)
    assert ours.loglik_ == pytest.approx(ref["loglik"], rel=1e-9)


@pytest.mark.parametrize("name", ["recurrent_whole_days", "registry"])
def test_efron_differs_from_breslow_on_tied_data(efron_fits, name):
    _, ours, _, breslow = efron_fits[name]
    assert np.max(np.abs(ours.params_ / breslow.params_ - 1)) > 1e-4
    assert abs(ours.loglik_ - breslow.loglik_) > 1e-3


def test_efron_equals_breslow_without_ties():
    rng = np.random.default_rng(3)
    n = 300
    x = rng.normal(size=(n, 2))
    stop = rng.exponential(10.0, n) + 1e-3 * np.arange(n)  # distinct event times
    event = rng.random(n) < 0.7
    a = CoxPH(ties="efron").fit(np.zeros(n), stop, event, x, cluster=np.arange(n))
    b = CoxPH().fit(np.zeros(n), stop, event, x, cluster=np.arange(n))
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-12)
    np.testing.assert_allclose(a.bse_, b.bse_, rtol=1e-10)
    np.testing.assert_allclose(a.bse_model_, b.bse_model_, rtol=1e-10)
