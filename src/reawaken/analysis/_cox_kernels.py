"""Compiled inner loops of :class:`reawaken.analysis.CoxPH` (numba; imported by ``cox`` on its first fit).

Each row is described by two integers fixed for the whole fit, ``lo`` and ``hi``: the row is at risk at the
distinct event times ``times[lo:hi]`` (``lo = #{t_j <= start}``, ``hi = #{t_j <= stop}``). A Newton
iteration then searches and sorts nothing: one pass scatters each row's weight into two bins and a suffix
sum over the m event times gives the risk-set sums.

The kernels are serial on purpose: the peers we are compared with run on one thread, results are then
bitwise reproducible, and on a shared 2-core machine numba's thread pool lost more to waiting than it won.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, inline="always")
def _bucket(v: float, t0: float, scale: float, n_buckets: int) -> int:
    f = (v - t0) * scale  # monotone non-decreasing in v, so buckets are ordered like the values
    if f <= 0.0:
        return 0
    if f >= n_buckets:
        return n_buckets
    return int(f)


@nb.njit(cache=True)
def risk_spans(times: np.ndarray, start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``lo, hi = searchsorted(times, start | stop, side="right")`` for ascending ``times``, in O(1) per row.

    The value range of ``times`` is cut into m equal buckets and ``first[b]`` holds the first time whose
    bucket is >= b. Since the bucket of a value is monotone in the value, the answer for v lies in
    ``[first[b(v)], first[b(v) + 1]]``, searched by bisection: exact for any spacing of the times, and a
    few comparisons on a small, cache-resident range when they are spread out (np.searchsorted makes
    ~log2(m) cache misses per row when m is large).
    """
    m = times.size
    n_buckets = m
    t0 = times[0]
    span = times[m - 1] - t0
    scale = n_buckets / span if span > 0.0 else 0.0
    first = np.empty(n_buckets + 2, dtype=np.int64)
    i = 0
    for b in range(n_buckets + 2):
        while i < m and _bucket(times[i], t0, scale, n_buckets) < b:
            i += 1
        first[b] = i
    n = start.size
    lo = np.empty(n, dtype=np.int64)
    hi = np.empty(n, dtype=np.int64)
    for k in range(n):
        for side in range(2):
            v = start[k] if side == 0 else stop[k]
            b = _bucket(v, t0, scale, n_buckets)
            a, z = first[b], first[b + 1]
            while a < z:
                mid = (a + z) >> 1
                if times[mid] <= v:
                    a = mid + 1
                else:
                    z = mid
            if side == 0:
                lo[k] = a
            else:
                hi[k] = a
    return lo, hi


@nb.njit(cache=True)
def order_by_stop(lo: np.ndarray, hi: np.ndarray, m: int) -> np.ndarray:
    """Indices of the rows with ``hi > lo`` (at risk at some event time), stably sorted by ``hi``: a
    counting sort, O(n + m)."""
    start = np.zeros(m + 2, dtype=np.int64)
    for k in range(hi.size):
        if hi[k] > lo[k]:
            start[hi[k] + 1] += 1
    for b in range(m + 1):
        start[b + 1] += start[b]
    order = np.empty(start[m + 1], dtype=np.int64)
    for k in range(hi.size):
        if hi[k] > lo[k]:
            order[start[hi[k]]] = k
            start[hi[k]] += 1
    return order


@nb.njit(cache=True)
def take_rows(x: np.ndarray, order: np.ndarray) -> np.ndarray:
    """x[order] for a C-contiguous 2-D x (a plain loop: numpy's fancy indexing is several times slower)."""
    p = x.shape[1]
    out = np.empty((order.size, p))
    for k in range(order.size):
        r = order[k]
        for i in range(p):
            out[k, i] = x[r, i]
    return out


@nb.njit(cache=True)
def linear_predictor(x: np.ndarray, beta: np.ndarray, eta: np.ndarray) -> float:
    """eta[:] = x @ beta (in place, into a buffer reused across iterations); returns max(eta)."""
    n, p = x.shape
    top = -np.inf
    for k in range(n):
        e = 0.0
        for i in range(p):
            e += x[k, i] * beta[i]
        eta[k] = e
        if e > top:
            top = e
    return top


@nb.njit(cache=True)
def risk_set_sums(lo: np.ndarray, hi: np.ndarray, x: np.ndarray, eta: np.ndarray, eta_max: float, m: int,
                  w: np.ndarray) -> np.ndarray:
    """w[:] = exp(eta - eta_max) (in place), and s[j] = sum over rows at risk at t_j of (w, w x): (m, 1 + p).

    Each row adds +(w, w x) to bin ``hi`` and -(w, w x) to bin ``lo``; s[j] is the sum of bins j+1..m. The
    running sum equals the risk-set sum at every step (a row joins when the sweep, coming from the last
    event time, reaches its stop and leaves when the sweep passes its start), so it never carries the large
    totals a forward sum would: no more cancellation than the difference of two suffix sums. Rows sorted by
    ``hi`` (``order_by_stop``) make the scatter nearly sequential: several times faster than in person order.
    The shift by eta_max (overflow safety) cancels in every ratio S1 / S0 and in w * dLambda.
    """
    n, p = x.shape
    q = p + 1
    acc = np.zeros((m + 1, q))
    for k in range(n):
        wk = np.exp(eta[k] - eta_max)
        w[k] = wk
        h, l_ = hi[k], lo[k]
        acc[h, 0] += wk
        acc[l_, 0] -= wk
        for i in range(p):
            v = wk * x[k, i]
            acc[h, i + 1] += v
            acc[l_, i + 1] -= v
    s = np.empty((m, q))
    run = np.zeros(q)
    for j in range(m - 1, -1, -1):
        for i in range(q):
            run[i] += acc[j + 1, i]
            s[j, i] = run[i]
    return s


@nb.njit(cache=True)
def span_weights(lo: np.ndarray, hi: np.ndarray, w: np.ndarray, c: np.ndarray, f: np.ndarray) -> None:
    """f[:] = w_k (c[hi_k] - c[lo_k]) (in place): with c the prefix sums of Breslow increments, w_k times
    the cumulative hazard over row k's risk span."""
    for k in range(w.size):
        f[k] = w[k] * (c[hi[k]] - c[lo[k]])


@nb.njit(cache=True)
def cluster_scores(lo: np.ndarray, hi: np.ndarray, event: np.ndarray, x: np.ndarray, w: np.ndarray,
                   c_lam: np.ndarray, c_xlam: np.ndarray, xbar: np.ndarray, codes: np.ndarray, n_clusters: int
                   ) -> np.ndarray:
    """Lin–Wei score residuals summed within clusters, (n_clusters, p):

    r_k = event_k (x_k - xbar(stop_k)) - w_k sum_{j: start_k < t_j <= stop_k} (x_k - xbar_j) dLambda_j,
    the sum over j read from prefix sums ``c_lam`` (of dLambda) and ``c_xlam`` (of xbar dLambda).
    """
    n, p = x.shape
    u = np.zeros((n_clusters, p))
    for k in range(n):
        h, l_, g = hi[k], lo[k], codes[k]
        wk = w[k]
        lam = c_lam[h] - c_lam[l_]
        for i in range(p):
            u[g, i] -= wk * (x[k, i] * lam - (c_xlam[h, i] - c_xlam[l_, i]))
        if event[k]:
            for i in range(p):
                u[g, i] += x[k, i] - xbar[h - 1, i]
    return u
