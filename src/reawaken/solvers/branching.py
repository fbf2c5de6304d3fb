"""Clones as multi-type branching processes with time-varying per-cell rates (exact and tau-leap).

Every cell of a clone acts independently: a cell of type ``k`` fires channel ``c`` at a per-cell rate
``rates[:, c]`` given on a time grid and linear between grid points, changing the clone's counts by
``change[c]``. That is the situation of lung DCCs driven by the host's IL-6, niche and T-cell
trajectories, and it makes clones independent, so each is simulated on its own.

* ``method="exact"``: thinning (Lewis & Shedler 1979) against the per-interval maximum of each linear
  rate; exact for the piecewise-linear rates.
* ``method="tau-leap"``: Poisson leaps of at most ``tau`` days at the interval-midpoint rates, halving a
  leap that would drive a count negative.

Random numbers come from per-clone counter-based streams (see :mod:`reawaken._rng`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from .._typing import FloatArray, IntArray
from ._jit import numba


@dataclass(frozen=True)
class CloneResult:
    """Per clone: counts of each type at the observation times, first time the clone reached the size
    threshold (``inf`` if never) and the number of random draws used."""

    counts: FloatArray  # (n_clones, n_obs, n_types)
    first_passage: FloatArray  # (n_clones,)
    status: IntArray  # (n_clones,) 0 ok, 1 step budget exhausted


@cache
def _kernels() -> dict[str, Any]:
    nb = numba()
    from .ssa import poisson_function, uniform_function  # the same streams as the SSA

    uniform = uniform_function()
    poisson = poisson_function()
    one = np.uint64(1)

    @nb.njit(inline="always")
    def found(grid, obs_index, t, x, counts_i, threshold, first, i):  # noqa: ANN001, ANN202
        """Start a clone at time t: its grid interval, and the observations it has already reached."""
        j = np.searchsorted(grid, t, side="right") - 1  # grid[j] <= t < grid[j + 1]
        if j < 0:
            j = 0
        k_obs = 0
        while k_obs < obs_index.shape[0] and obs_index[k_obs] <= j and grid[obs_index[k_obs]] < t:
            k_obs += 1  # observations before the clone was founded stay zero
        while k_obs < obs_index.shape[0] and grid[obs_index[k_obs]] == t:
            counts_i[k_obs, :] = x
            k_obs += 1
        if x.sum() >= threshold:
            first[i] = t
        return j, k_obs

    @nb.njit(parallel=True)
    def exact(grid, rates, acting, change, start, init, keys, obs_index, threshold, counts, first, status,
              max_events):  # noqa: ANN001, ANN202
        n_cl = start.shape[0]
        n_ch = rates.shape[1]
        n_ty = init.shape[1]
        n_g = grid.shape[0]
        n_obs = obs_index.shape[0]
        for i in nb.prange(n_cl):
            x = init[i].copy()
            t = start[i]
            c = np.uint64(0)
            key = keys[i]
            j, k_obs = found(grid, obs_index, t, x, counts[i], threshold, first, i)
            events = 0
            while j < n_g - 1:
                total_cells = 0.0
                for s in range(n_ty):
                    total_cells += x[s]
                if total_cells <= 0.0:
                    break
                bound = 0.0
                for ch in range(n_ch):
                    hi = rates[j, ch] if rates[j, ch] > rates[j + 1, ch] else rates[j + 1, ch]
                    bound += x[acting[ch]] * hi
                if bound > 0.0:
                    u = uniform(key, c)
                    c += one
                    tn = t - math.log(u) / bound
                else:
                    tn = math.inf
                if tn >= grid[j + 1]:
                    t = grid[j + 1]
                    j += 1
                    while k_obs < n_obs and obs_index[k_obs] == j:
                        for s in range(n_ty):
                            counts[i, k_obs, s] = x[s]
                        k_obs += 1
                    continue
                t = tn
                w = (t - grid[j]) / (grid[j + 1] - grid[j])
                u = uniform(key, c) * bound
                c += one
                acc = 0.0
                fired = -1
                for ch in range(n_ch):
                    r = (1.0 - w) * rates[j, ch] + w * rates[j + 1, ch]
                    acc += x[acting[ch]] * r
                    if u < acc:
                        fired = ch
                        break
                if fired >= 0:  # otherwise a thinned (rejected) candidate
                    for s in range(n_ty):
                        x[s] += change[fired, s]
                    if first[i] == math.inf:
                        size = 0.0
                        for s in range(n_ty):
                            size += x[s]
                        if size >= threshold:
                            first[i] = t
                events += 1
                if events >= max_events:
                    status[i] = 1
                    break
            while k_obs < n_obs:  # extinct (or finished): the remaining observations hold the final counts
                if status[i] != 0:
                    break
                for s in range(n_ty):
                    counts[i, k_obs, s] = x[s]
                k_obs += 1

    @nb.njit(parallel=True)
    def leap(grid, rates, acting, change, start, init, keys, obs_index, threshold, counts, first, status,
             tau_max):  # noqa: ANN001, ANN202
        n_cl = start.shape[0]
        n_ch = rates.shape[1]
        n_ty = init.shape[1]
        n_g = grid.shape[0]
        n_obs = obs_index.shape[0]
        for i in nb.prange(n_cl):
            x = init[i].copy()
            x_try = np.empty(n_ty)
            t = start[i]
            c = np.uint64(0)
            key = keys[i]
            j, k_obs = found(grid, obs_index, t, x, counts[i], threshold, first, i)
            while j < n_g - 1:
                total_cells = 0.0
                for s in range(n_ty):
                    total_cells += x[s]
                if total_cells <= 0.0:
                    break
                tau = grid[j + 1] - t
                if tau > tau_max:
                    tau = tau_max
                ok = False
                while not ok:
                    mid = (t + 0.5 * tau - grid[j]) / (grid[j + 1] - grid[j])
                    for s in range(n_ty):
                        x_try[s] = x[s]
                    for ch in range(n_ch):
                        r = (1.0 - mid) * rates[j, ch] + mid * rates[j + 1, ch]
                        k, c = poisson(x[acting[ch]] * r * tau, key, c)
                        if k > 0.0:
                            for s in range(n_ty):
                                x_try[s] += k * change[ch, s]
                    ok = True
                    for s in range(n_ty):
                        if x_try[s] < 0.0:
                            ok = False
                    if not ok:
                        tau *= 0.5  # guard against negative counts: retry with half the leap
                for s in range(n_ty):
                    x[s] = x_try[s]
                t += tau
                if first[i] == math.inf:
                    size = 0.0
                    for s in range(n_ty):
                        size += x[s]
                    if size >= threshold:
                        first[i] = t
                if grid[j + 1] - t <= 1e-12 * (1.0 + abs(t)):
                    t = grid[j + 1]
                    j += 1
                    while k_obs < n_obs and obs_index[k_obs] == j:
                        for s in range(n_ty):
                            counts[i, k_obs, s] = x[s]
                        k_obs += 1
            while k_obs < n_obs:
                for s in range(n_ty):
                    counts[i, k_obs, s] = x[s]
                k_obs += 1

    return {"exact": exact, "tau-leap": leap}


def simulate_clones(
    grid: FloatArray,
    rates: FloatArray,
    acting: IntArray,
    change: FloatArray,
    start: FloatArray,
    init: FloatArray,
    keys: np.ndarray,
    obs_index: IntArray,
    *,
    threshold: float,
    method: str = "exact",
    tau: float = 0.05,
    max_events: int = 10_000_000,
) -> CloneResult:
    """Simulate independent clones founded at ``start`` with counts ``init`` (n_clones, n_types).

    ``rates`` (n_grid, n_channels) are per-cell rates at the ``grid`` times, linear in between;
    ``acting[c]`` is the type whose cells fire channel ``c``; ``change[c]`` its effect on the counts.
    ``obs_index`` are grid indices at which counts are recorded (each clone reports zeros before it
    was founded).
    """
    if method not in ("exact", "tau-leap"):
        raise ValueError(f"method must be 'exact' or 'tau-leap', got {method!r}")
    if np.any(rates < 0) or not np.all(np.isfinite(rates)):
        raise ValueError("per-cell rates must be finite and >= 0")
    n = start.shape[0]
    counts = np.zeros((n, obs_index.size, init.shape[1]))
    first = np.full(n, math.inf)
    status = np.zeros(n, dtype=np.int64)
    fn = _kernels()[method]
    args = (np.ascontiguousarray(grid, dtype=float), np.ascontiguousarray(rates, dtype=float),
            np.ascontiguousarray(acting, dtype=np.int64), np.ascontiguousarray(change, dtype=float),
            np.ascontiguousarray(start, dtype=float), np.ascontiguousarray(init, dtype=float),
            np.ascontiguousarray(keys, dtype=np.uint64), np.ascontiguousarray(obs_index, dtype=np.int64),
            float(threshold), counts, first, status)
    fn(*args, max_events if method == "exact" else float(tau))
    return CloneResult(counts, first, status)
