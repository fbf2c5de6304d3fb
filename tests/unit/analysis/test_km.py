"""KaplanMeier against lifelines' KaplanMeierFitter (survival, Greenwood sum, log(-log) intervals) to 1e-10,
with and without delayed entry, with tied times; and a hand-computed example."""

from __future__ import annotations

import numpy as np
import pytest

from reawaken.analysis import KaplanMeier


def _data(n: int, seed: int, *, entry: bool):
    rng = np.random.default_rng(seed)
    t = np.ceil(rng.exponential(10.0, n))  # whole days: many ties
    c = np.ceil(rng.uniform(1.0, 25.0, n))
    dur = np.minimum(t, c)
    ev = t <= c
    e = np.floor(rng.uniform(0.0, 1.0, n) * dur * 0.8) if entry else None
    return dur, ev, e


@pytest.mark.parametrize("entry", [False, True])
def test_matches_lifelines(entry):
    lifelines = pytest.importorskip("lifelines")
    dur, ev, e = _data(600, 3, entry=entry)
    ours = KaplanMeier().fit(dur, ev, entry=e)
    with np.errstate(all="ignore"):  # lifelines divides by zero internally (then replaces inf)
        ref = lifelines.KaplanMeierFitter().fit(dur, ev, entry=e)
    np.testing.assert_array_equal(ours.timeline_, ref.timeline)
    np.testing.assert_allclose(ours.survival_, ref.survival_function_.to_numpy()[:, 0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.greenwood_, ref._cumulative_sq_.to_numpy(), rtol=1e-10, atol=1e-12)
    ci = ref.confidence_interval_.to_numpy()
    np.testing.assert_allclose(ours.ci_low_, ci[:, 0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.ci_high_, ci[:, 1], rtol=1e-10, atol=1e-12)
    assert ours.survival_[-1] < 0.5  # the curve falls: the comparison is not between two constant 1s


def test_hand_computed_greenwood():
    # times 2, 3, 3(censored), 5: S = 3/4 at 2, 3/4 * 2/3 = 1/2 at 3, 0 at 5
    km = KaplanMeier().fit([2.0, 3.0, 3.0, 5.0], [1, 1, 0, 1])
    np.testing.assert_allclose(km.survival_, [1.0, 0.75, 0.5, 0.0][: km.timeline_.size] if km.timeline_[0] > 0
                               else [1.0, 0.75, 0.5, 0.0])
    # Greenwood at 3: 1/(4*3) + 1/(3*2) = 0.25; Var S(3) = 0.5^2 * 0.25
    i3 = int(np.flatnonzero(km.timeline_ == 3.0)[0])
    assert km.greenwood_[i3] == pytest.approx(0.25, rel=1e-14)
    assert km.variance_[i3] == pytest.approx(0.0625, rel=1e-14)
    assert km.at_risk_[i3] == 3.0


def test_delayed_entry_excludes_late_entrants_from_early_risk_sets():
    # one death at 1 among two at risk; a row entering at 1 is not at risk at 1
    km = KaplanMeier().fit([1.0, 4.0, 6.0], [1, 0, 1], entry=[0.0, 0.0, 1.0])
    assert km.survival_at([1.0])[0] == pytest.approx(0.5)
    assert km.survival_at([6.0])[0] == 0.0


def test_rejects_entry_after_duration():
    with pytest.raises(ValueError, match="entry"):
        KaplanMeier().fit([1.0, 2.0], [1, 1], entry=[0.0, 2.0])
