"""The few counts the dashboard puts intervals on, against known answers."""

from __future__ import annotations

import math

import pytest

from reawaken.dashboard.curves import paired_relative_risk, wilson


def test_wilson_matches_the_textbook_value():
    # Newcombe 1998, Stat Med 17:857, Table I: 81/263 -> 0.2553 to 0.3662
    lo, hi = wilson(81, 263)
    assert lo == pytest.approx(0.2553, abs=1e-4) and hi == pytest.approx(0.3662, abs=1e-4)
    lo, hi = wilson(0, 10)  # no events: the interval starts at 0 and is not empty
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_paired_relative_risk():
    rr, lo, hi = paired_relative_risk({1, 2, 3, 4}, {1, 2}, 100)
    assert rr == 2.0
    se = math.sqrt(2 / (4 * 2))  # two discordant pairs
    assert lo == pytest.approx(2 * math.exp(-1.959964 * se), rel=1e-6)
    assert hi == pytest.approx(2 * math.exp(1.959964 * se), rel=1e-6)
    rr, lo, hi = paired_relative_risk({1, 2}, {1, 2}, 100)
    assert rr == 1.0 and math.isnan(lo) and math.isnan(hi)  # no discordant pairs: no interval is claimed
    assert math.isnan(paired_relative_risk(set(), {1}, 10)[0])
