"""Stochastic simulation of a compiled model: Gillespie's direct method (exact) and tau-leaping (fast).

Both treat every species as a count and every transition rate as a propensity (events per day), and run
each path in compiled code (numba), paths in parallel. Random numbers come from per-path counter-based
streams keyed by (seed, global path index), so a path's result depends on the seed and its index only:
never on chunk size, worker count or thread scheduling (design principle 6).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import numpy as np

from .._rng import stream_keys
from .._typing import FloatArray, IntArray
from ..model.compile import CompiledModel
from ..model.events import EventSchedule
from ._jit import jit_rates, numba, structure_key
from ._piecewise import integrate_piecewise
from .base import Feature

_PURPOSE_SSA = 11
# Fast-math without 'nnan'/'ninf' (NaN must still be detected); 'afn' lets log() use the fast libm path.
_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


@cache
def uniform_function() -> Any:
    """The per-stream uniform draw, compiled (shared by the SSA and the clone solver)."""
    nb = numba()
    golden = np.uint64(0x9E3779B97F4A7C15)
    m1 = np.uint64(0xBF58476D1CE4E5B9)
    m2 = np.uint64(0x94D049BB133111EB)
    s30, s27, s31, s11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
    one = np.uint64(1)

    @nb.njit(inline="always")
    def uniform(key, counter):  # noqa: ANN001, ANN202 -- same stream as reawaken._rng.counter_uniforms
        z = key + (counter + one) * golden
        z = (z ^ (z >> s30)) * m1
        z = (z ^ (z >> s27)) * m2
        z = z ^ (z >> s31)
        return (np.float64(z >> s11) + 0.5) * (1.0 / 9007199254740992.0)

    return uniform


@cache
def poisson_function() -> Any:
    """Poisson counts from the per-stream uniforms: inversion below a mean of 30 (exact), a normal
    approximation with continuity correction above (tau-leaping is approximate anyway)."""
    nb = numba()
    uniform = uniform_function()
    one = np.uint64(1)

    @nb.njit(inline="always")
    def poisson(lam, key, c):  # noqa: ANN001, ANN202
        if lam <= 0.0:
            return 0.0, c
        if lam < 30.0:
            u = uniform(key, c)
            c += one
            k = 0.0
            p = math.exp(-lam)
            cdf = p
            while u > cdf and k < 1000.0:
                k += 1.0
                p *= lam / k
                cdf += p
            return k, c
        u1 = uniform(key, c)
        u2 = uniform(key, c + one)
        c += np.uint64(2)
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        k = math.floor(lam + math.sqrt(lam) * z + 0.5)
        return (k if k > 0.0 else 0.0), c

    return poisson


_MODEL_KERNELS: dict[str, dict[str, Any]] = {}


def _kernels(model: CompiledModel) -> dict[str, Any]:
    """Direct method and tau-leaping compiled for one model structure; the rate function is a closure
    constant so it is inlined into the event loop (no function-pointer call per event)."""
    key = structure_key(model)
    if key in _MODEL_KERNELS:
        return _MODEL_KERNELS[key]
    nb = numba()
    rates_fn = jit_rates(model)
    uniform = uniform_function()
    poisson = poisson_function()
    one = np.uint64(1)

    @nb.njit(inline="always")
    def output_window(t_out, t_start, t_end):  # noqa: ANN001, ANN202 -- outputs in (t_start, t_end]
        j = 0
        while j < t_out.shape[0] and t_out[j] <= t_start:
            j += 1
        j_last = j
        while j_last < t_out.shape[0] and t_out[j_last] <= t_end:
            j_last += 1
        return j, j_last

    @nb.njit(parallel=True, fastmath=_FASTMATH)
    def direct(y_start, params, stoich_t, keys, counters, active, t_starts, t_ends, t_out, out, y_end,
               status, max_events):  # noqa: ANN001, ANN202
        n, ns = y_start.shape
        n_tr = stoich_t.shape[0]
        for i in nb.prange(n):
            if not active[i]:
                continue
            y = y_start[i].copy()
            a = np.empty(n_tr)
            c = counters[i]
            key = keys[i]
            t_end = t_ends[i]
            t = t_starts[i]
            j, j_last = output_window(t_out, t, t_end)
            events = 0
            while True:
                rates_fn(y, params[i], t, a)
                a0 = 0.0
                for r in range(n_tr):
                    if a[r] < 0.0:  # a negative propensity (an undershooting rate law) cannot fire
                        a[r] = 0.0
                    a0 += a[r]
                if not math.isfinite(a0):
                    status[i] = 3
                    break
                if a0 > 0.0:
                    u = uniform(key, c)
                    c += one
                    tn = t - math.log(u) / a0
                else:
                    tn = math.inf
                while j < j_last and t_out[j] < tn:
                    out[i, j, :] = y
                    j += 1
                if tn > t_end:
                    break
                u = uniform(key, c) * a0
                c += one
                r = 0
                acc = a[0]
                while acc < u and r < n_tr - 1:
                    r += 1
                    acc += a[r]
                for s in range(ns):
                    y[s] += stoich_t[r, s]
                t = tn
                events += 1
                if events >= max_events:
                    status[i] = 1
                    break
            while j < j_last and status[i] == 0:
                out[i, j, :] = y
                j += 1
            y_end[i, :] = y
            counters[i] = c

    @nb.njit(parallel=True)
    def tau_leap(y_start, params, stoich_t, keys, counters, active, t_starts, t_ends, t_out, out, y_end,
                 status, tau_max, max_steps):  # noqa: ANN001, ANN202
        n, ns = y_start.shape
        n_tr = stoich_t.shape[0]
        for i in nb.prange(n):
            if not active[i]:
                continue
            y = y_start[i].copy()
            y_try = np.empty(ns)
            a = np.empty(n_tr)
            c = counters[i]
            key = keys[i]
            t_end = t_ends[i]
            t = t_starts[i]
            j, j_last = output_window(t_out, t, t_end)
            steps = 0
            while t < t_end:
                while j < j_last and t_out[j] <= t:
                    out[i, j, :] = y
                    j += 1
                rates_fn(y, params[i], t, a)
                tau = tau_max
                if j < j_last and t_out[j] - t < tau:
                    tau = t_out[j] - t
                if t_end - t < tau:
                    tau = t_end - t
                ok = False
                while not ok:
                    for s in range(ns):
                        y_try[s] = y[s]
                    for r in range(n_tr):
                        lam = a[r] * tau if a[r] > 0.0 else 0.0
                        k, c = poisson(lam, key, c)
                        if k > 0.0:
                            for s in range(ns):
                                y_try[s] += k * stoich_t[r, s]
                    ok = True
                    for s in range(ns):
                        if y_try[s] < 0.0:
                            ok = False
                    if not ok:
                        tau *= 0.5  # guard: never let a count go negative; retry the leap with half the step
                        if tau < 1e-12:
                            status[i] = 2
                            break
                if status[i] != 0:
                    break
                for s in range(ns):
                    y[s] = y_try[s]
                t += tau
                if t_end - t < 1e-12:
                    t = t_end
                steps += 1
                if steps >= max_steps:
                    status[i] = 1
                    break
            while j < j_last and status[i] == 0:
                out[i, j, :] = y
                j += 1
            y_end[i, :] = y
            counters[i] = c

    _MODEL_KERNELS[key] = {"direct": direct, "tau_leap": tau_leap}
    return _MODEL_KERNELS[key]


class _StochasticBase:
    supports: ClassVar[frozenset[Feature]] = frozenset({Feature.EVENTS, Feature.BATCH, Feature.STOCHASTIC})

    def _run(self, model: CompiledModel, y0: FloatArray, params: FloatArray, t_eval: FloatArray,
             events: Sequence[EventSchedule], seed: int, first_path: int, kernel: str,
             extra: tuple[Any, ...]) -> tuple[FloatArray, IntArray, dict[str, float]]:
        fn = _kernels(model)[kernel]
        n = y0.shape[0]
        keys = stream_keys(seed, np.arange(first_path, first_path + n, dtype=np.uint64), _PURPOSE_SSA)
        counters = np.zeros(n, dtype=np.uint64)
        stoich_t = np.ascontiguousarray(model.stoich.T)

        def segment(y, p, active, t_start, t_stop, t_eval, out):  # noqa: ANN001, ANN202
            y_end = np.full_like(y, np.nan)
            status = np.zeros(n, dtype=np.int64)
            fn(np.ascontiguousarray(y), np.ascontiguousarray(p), stoich_t, keys, counters, active.copy(),
               np.ascontiguousarray(t_start, dtype=float), np.ascontiguousarray(t_stop, dtype=float),
               np.ascontiguousarray(t_eval, dtype=float), out, y_end, status, *extra)
            return y_end, status

        values, status = integrate_piecewise(model, y0, params, t_eval, events, segment)
        return values, status, {"seed": float(seed), "first_path": float(first_path),
                                "draws": float(counters.sum())}


@dataclass(frozen=True)
class DirectSSA(_StochasticBase):
    """Gillespie's direct method: exact for the model's propensities (constant between events).

    ``max_events`` bounds the events of one path within one event-free segment.
    """

    max_events: int = 50_000_000

    def solve(self, model: CompiledModel, y0: FloatArray, params: FloatArray, t_eval: FloatArray,
              events: Sequence[EventSchedule], seed: int, first_path: int = 0) -> tuple[FloatArray, IntArray, dict[str, float]]:
        return self._run(model, y0, params, t_eval, events, seed, first_path, "direct", (self.max_events,))


@dataclass(frozen=True)
class TauLeap(_StochasticBase):
    """Fixed-step tau-leaping with a guard: a leap that would drive any count negative is retried with half
    the step. Poisson counts are exact below a mean of 30 and normal-approximated above.

    ``tau`` is the maximal leap (days); steps also stop at every output time.
    """

    tau: float = 0.01
    max_steps: int = 50_000_000

    def __post_init__(self) -> None:
        if not (self.tau > 0 and math.isfinite(self.tau)):
            raise ValueError(f"TauLeap tau must be a positive number of days, got {self.tau!r}")

    def solve(self, model: CompiledModel, y0: FloatArray, params: FloatArray, t_eval: FloatArray,
              events: Sequence[EventSchedule], seed: int, first_path: int = 0) -> tuple[FloatArray, IntArray, dict[str, float]]:
        return self._run(model, y0, params, t_eval, events, seed, first_path, "tau_leap", (self.tau, self.max_steps))
