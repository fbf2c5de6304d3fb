"""Kaplan–Meier product-limit estimator with delayed entry, Greenwood variance and log(-log) intervals.

Estimator contract (design principle 9): settings in ``__init__``, learning in ``fit``, results as ``name_``
attributes. Definitions follow lifelines' ``KaplanMeierFitter`` so that the two agree to rounding
(``tests/unit/analysis/test_km.py`` checks 1e-10):

* at risk at time t: rows with ``entry < t <= duration`` (a row entering at t is at risk just after t:
  the (start, stop] convention of the Cox model), so (start, stop] rows grouped by exposure state give the
  Simon–Makuch curves of a time-varying exposure;
* S(t) = prod_{t_j <= t} (1 - d_j / n_j), accumulated as a sum of logs;
* Greenwood: Var S(t) = S(t)^2 sum_{t_j <= t} d_j / (n_j (n_j - d_j)) (terms with n_j = d_j count 0, as in
  lifelines);
* intervals: the "exponential Greenwood" (log(-log)) transform, which stays inside [0, 1] (Kalbfleisch &
  Prentice 2002, sect. 1.4).

Why our own estimator: lifelines pulls pandas into every call and builds a DataFrame per fit; curves for
10^6 persons take tens of seconds there and well under one here. lifelines stays the reference.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .._typing import FloatArray


class KaplanMeier:
    """Kaplan–Meier survival curve.

    Parameters
    ----------
    alpha : 1 - confidence level of the pointwise intervals.

    Attributes (after ``fit``)
    --------------------------
    timeline_ : every distinct entry, event and censoring time, ascending (with 0 when no entry is given).
    survival_, ci_low_, ci_high_ : S(t) and its pointwise interval on ``timeline_``.
    greenwood_ : the Greenwood sum  sum d / (n (n - d))  on ``timeline_``; ``variance_`` = S^2 * greenwood_.
    at_risk_, events_ : n_j and d_j on ``timeline_``.
    n_, n_events_ : rows and events used.

    Examples
    --------
    >>> km = KaplanMeier().fit([2.0, 3.0, 3.0, 5.0], [1, 1, 0, 1])
    >>> [round(float(s), 4) for s in km.survival_]
    [1.0, 0.75, 0.5, 0.0]
    """

    def __init__(self, *, alpha: float = 0.05) -> None:
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
        self.alpha = alpha

    def fit(self, durations: FloatArray, events: np.ndarray, *, entry: FloatArray | None = None) -> KaplanMeier:
        t = np.asarray(durations, dtype=float)
        d = np.asarray(events).astype(bool)
        if t.ndim != 1 or d.shape != t.shape:
            raise ValueError(f"durations and events need one value per row, got shapes {t.shape} and {d.shape}")
        if t.size == 0:
            raise ValueError("no rows: a survival curve needs at least one")
        if not np.all(np.isfinite(t)):
            raise ValueError("durations must be finite")
        if entry is None:
            e = np.full(t.size, min(0.0, float(t.min())))
        else:
            e = np.asarray(entry, dtype=float)
            if e.shape != t.shape or not np.all(np.isfinite(e)):
                raise ValueError("entry must be finite, one value per row")
            if np.any(e >= t):
                bad = int(np.flatnonzero(e >= t)[0])
                raise ValueError(f"row {bad}: entry ({e[bad]}) must be before the duration ({t[bad]})")
        timeline = np.unique(np.concatenate([t, e]))
        times, deaths = np.unique(t[d], return_counts=True)
        s_dur, s_ent = np.sort(t), np.sort(e)
        # n(t) = #{entry < t <= duration} = #{duration >= t} - #{entry >= t}
        n = (t.size - np.searchsorted(s_dur, times, side="left")) - (t.size - np.searchsorted(s_ent, times, side="left"))
        n = n.astype(float)
        deaths = deaths.astype(float)
        with np.errstate(divide="ignore"):
            log_factor = np.where(n > deaths, np.log1p(-deaths / np.where(n > 0, n, 1.0)), -np.inf)
        gw_term = np.where(n > deaths, deaths / (n * np.where(n > deaths, n - deaths, 1.0)), 0.0)
        cum_log = np.cumsum(log_factor)
        cum_gw = np.cumsum(gw_term)
        k = np.searchsorted(times, timeline, side="right") - 1  # last event time <= t
        log_s = np.where(k >= 0, cum_log[np.clip(k, 0, None)], 0.0)
        self.timeline_ = timeline
        self.greenwood_ = np.where(k >= 0, cum_gw[np.clip(k, 0, None)], 0.0)
        self.survival_ = np.exp(log_s)
        self.variance_ = self.survival_**2 * self.greenwood_
        at = np.searchsorted(times, timeline)
        hit = (at < times.size) & (times[np.clip(at, 0, times.size - 1)] == timeline) if times.size else np.zeros(
            timeline.size, dtype=bool)
        self.events_ = np.where(hit, deaths[np.clip(at, 0, max(times.size - 1, 0))] if times.size else 0.0, 0.0)
        self.at_risk_ = ((t.size - np.searchsorted(s_dur, timeline, side="left"))
                         - (t.size - np.searchsorted(s_ent, timeline, side="left"))).astype(float)
        self.ci_low_, self.ci_high_ = self._bounds(log_s, self.greenwood_)
        self.n_ = int(t.size)
        self.n_events_ = int(d.sum())
        return self

    def _bounds(self, log_s: FloatArray, greenwood: FloatArray) -> tuple[FloatArray, FloatArray]:
        z = stats.norm.ppf(1 - self.alpha / 2)
        low, high = np.ones_like(log_s), np.ones_like(log_s)
        ok = (log_s < 0) & np.isfinite(log_s)
        v = log_s[ok]
        half = z * np.sqrt(greenwood[ok]) / v
        low[ok] = np.exp(-np.exp(np.log(-v) - half))
        high[ok] = np.exp(-np.exp(np.log(-v) + half))
        dead = ~np.isfinite(log_s)  # S = 0: lifelines' formula gives NaN -> 1.0 via fillna; keep its convention
        low[dead], high[dead] = 1.0, 1.0
        return low, high

    def survival_at(self, times: FloatArray) -> FloatArray:
        """S(t) at arbitrary times (step function, right-continuous; 1 before the first time)."""
        k = np.searchsorted(self.timeline_, np.asarray(times, dtype=float), side="right") - 1
        return np.where(k >= 0, self.survival_[np.clip(k, 0, None)], 1.0)
