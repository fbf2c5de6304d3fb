"""Compiled Dormand-Prince 5(4): each row integrated in numba, rows in parallel threads.

Same method, error norm, step control and continuous extension as :class:`BatchDopri5`, so the two agree
to round-off level differences in step acceptance; this one pays no NumPy overhead per step, which is what
large batches (cohorts: ~10^5-10^6 episodes) need.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .._typing import FloatArray, IntArray
from ..model.compile import CompiledModel
from ..model.events import EventSchedule
from ._jit import jit_rates, numba, structure_key
from ._piecewise import integrate_piecewise
from .base import Feature
from .dopri import _E, _P

_KERNELS: dict[str, Any] = {}


def _kernel(model: CompiledModel, threads: bool = True) -> Any:
    """The solver compiled for one model: the rate function is a closure constant, not an argument, so
    LLVM can inline it into the stage loop instead of calling through a function pointer. ``threads``:
    rows in parallel threads (``prange``); a serial kernel compiles several seconds faster."""
    key = f"{structure_key(model)}|threads={threads}"
    cached = _KERNELS.get(key)
    if cached is not None:
        return cached
    nb = numba()
    rates_fn = jit_rates(model)
    e_tab = _E.copy()
    p_tab = _P.copy()
    e1, e3, e4, e5, e6, e7 = (float(e_tab[i]) for i in (0, 2, 3, 4, 5, 6))

    @nb.njit(inline="always")
    def rhs(y, p, t, rbuf, sp_idx, sp_coef, sp_ptr, dy):  # noqa: ANN001, ANN202
        rates_fn(y, p, t, rbuf)
        for s in range(dy.shape[0]):
            acc = 0.0
            for q in range(sp_ptr[s], sp_ptr[s + 1]):
                acc += sp_coef[q] * rbuf[sp_idx[q]]
            dy[s] = acc

    @nb.njit(parallel=threads)
    def solve(y_start, params, sp_idx, sp_coef, sp_ptr, n_tr, active, t_starts, t_ends, t_out, out, y_end,
              status, rtol, atol, max_steps, neg_tol, counters, scale):  # noqa: ANN001, ANN202
        n, ns = y_start.shape
        n_out = t_out.shape[0]
        for i in nb.prange(n):  # a plain range when compiled without threads
            if not active[i]:
                continue
            t_start = t_starts[i]
            t_end = t_ends[i]
            p = params[i]
            y = y_start[i].copy()
            k = np.zeros((7, ns))
            k1, k2, k3, k4, k5, k6, k7 = k[0], k[1], k[2], k[3], k[4], k[5], k[6]
            ys = np.empty(ns)
            rbuf = np.empty(n_tr)
            scale0 = scale[i]  # largest magnitude of each species so far, kept across segments
            for s in range(ns):
                if abs(y[s]) > scale0[s]:
                    scale0[s] = abs(y[s])
            t = t_start
            h = min(t_end - t_start, 1e-2)
            if h <= 0.0:
                for s in range(ns):
                    y_end[i, s] = y[s]
                continue
            rhs(y, p, t, rbuf, sp_idx, sp_coef, sp_ptr, k[0])
            nev = 1
            j = 0
            steps = 0
            while j < n_out and t_out[j] <= t:
                j += 1
            j_last = j
            while j_last < n_out and t_out[j_last] <= t_end:
                j_last += 1
            while t < t_end:
                if h > t_end - t:
                    h = t_end - t
                # Stages written out (Dormand & Prince 1980 tableau) so LLVM sees constants, not table loads.
                for s in range(ns):
                    ys[s] = y[s] + h * (0.2 * k1[s])
                rhs(ys, p, t + 0.2 * h, rbuf, sp_idx, sp_coef, sp_ptr, k2)
                for s in range(ns):
                    ys[s] = y[s] + h * (3.0 / 40.0 * k1[s] + 9.0 / 40.0 * k2[s])
                rhs(ys, p, t + 0.3 * h, rbuf, sp_idx, sp_coef, sp_ptr, k3)
                for s in range(ns):
                    ys[s] = y[s] + h * (44.0 / 45.0 * k1[s] - 56.0 / 15.0 * k2[s] + 32.0 / 9.0 * k3[s])
                rhs(ys, p, t + 0.8 * h, rbuf, sp_idx, sp_coef, sp_ptr, k4)
                for s in range(ns):
                    ys[s] = y[s] + h * (19372.0 / 6561.0 * k1[s] - 25360.0 / 2187.0 * k2[s]
                                        + 64448.0 / 6561.0 * k3[s] - 212.0 / 729.0 * k4[s])
                rhs(ys, p, t + 8.0 / 9.0 * h, rbuf, sp_idx, sp_coef, sp_ptr, k5)
                for s in range(ns):
                    ys[s] = y[s] + h * (9017.0 / 3168.0 * k1[s] - 355.0 / 33.0 * k2[s] + 46732.0 / 5247.0 * k3[s]
                                        + 49.0 / 176.0 * k4[s] - 5103.0 / 18656.0 * k5[s])
                rhs(ys, p, t + h, rbuf, sp_idx, sp_coef, sp_ptr, k6)
                for s in range(ns):
                    ys[s] = y[s] + h * (35.0 / 384.0 * k1[s] + 500.0 / 1113.0 * k3[s] + 125.0 / 192.0 * k4[s]
                                        - 2187.0 / 6784.0 * k5[s] + 11.0 / 84.0 * k6[s])
                rhs(ys, p, t + h, rbuf, sp_idx, sp_coef, sp_ptr, k7)
                nev += 6
                err = 0.0
                finite = True
                for s in range(ns):
                    e = h * (e1 * k1[s] + e3 * k3[s] + e4 * k4[s] + e5 * k5[s] + e6 * k6[s] + e7 * k7[s])
                    ay = abs(y[s])
                    ayn = abs(ys[s])
                    sc = atol + rtol * (ay if ay > ayn else ayn)
                    err += (e / sc) * (e / sc)
                    if not math.isfinite(ys[s]):
                        finite = False
                err = math.sqrt(err / ns)
                if not math.isfinite(err):
                    finite = False
                steps += 1
                if finite and err <= 1.0:
                    t_new = t + h
                    if t_end - t_new <= 1e-12 * max(1.0, abs(t_end)):
                        t_new = t_end
                    while j < j_last and t_out[j] <= t_new:
                        if t_out[j] >= t_new:
                            for s in range(ns):
                                out[i, j, s] = ys[s]
                        else:
                            x = (t_out[j] - t) / h
                            for s in range(ns):
                                acc = 0.0
                                xp = 1.0
                                for m in range(4):
                                    xp *= x
                                    qsum = 0.0
                                    for q in range(7):
                                        qsum += k[q, s] * p_tab[q, m]
                                    acc += qsum * xp
                                out[i, j, s] = y[s] + h * acc
                        j += 1
                    for s in range(ns):
                        y[s] = ys[s]
                        k1[s] = k7[s]
                        if abs(y[s]) > scale0[s]:
                            scale0[s] = abs(y[s])
                    t = t_new
                    neg = False
                    for s in range(ns):
                        if y[s] < -neg_tol * scale0[s] - atol:
                            neg = True
                    if neg:
                        status[i] = 2
                        break
                    fac = 5.0 if err == 0.0 else min(5.0, max(0.2, 0.9 * err ** -0.2))
                    h *= fac
                else:
                    fac = 0.2 if not finite else min(1.0, max(0.2, 0.9 * err ** -0.2))
                    h *= fac
                    if h < 1e-14 * max(1.0, abs(t_end)):
                        status[i] = 3 if not finite else 4
                        break
                if steps >= max_steps:
                    status[i] = 1
                    break
            if status[i] == 0:
                for s in range(ns):
                    y_end[i, s] = y[s]
            counters[i, 0] += steps
            counters[i, 1] += nev

    _KERNELS[key] = solve
    return solve


@dataclass(frozen=True)
class JitDopri5:
    """Compiled, row-parallel adaptive RK5(4) with dense output; the same settings as :class:`BatchDopri5`."""

    rtol: float = 1e-6
    atol: float = 1e-6
    max_steps: int = 200_000
    negative_tol: float = 1e-6
    threads: bool = True
    supports: ClassVar[frozenset[Feature]] = frozenset({Feature.EVENTS, Feature.BATCH})

    def __post_init__(self) -> None:
        if not (0 < self.rtol < 1 and self.atol > 0 and self.max_steps > 0):
            raise ValueError(f"JitDopri5 needs 0 < rtol < 1, atol > 0, max_steps > 0; got {self}")

    def solve(
        self,
        model: CompiledModel,
        y0: FloatArray,
        params: FloatArray,
        t_eval: FloatArray,
        events: Sequence[EventSchedule],
        seed: int = 0,
        first_path: int = 0,
    ) -> tuple[FloatArray, IntArray, dict[str, float]]:
        solve = _kernel(model, self.threads)
        # Sparse stoichiometry by species (CSR): dy[s] = sum coef * rate[idx].
        idx, coef, ptr = [], [], [0]
        for s in range(model.n_species):
            nz = np.flatnonzero(model.stoich[s])
            idx.extend(nz.tolist())
            coef.extend(model.stoich[s, nz].tolist())
            ptr.append(len(idx))
        sp_idx, sp_coef, sp_ptr = np.array(idx, dtype=np.int64), np.array(coef, dtype=float), np.array(ptr, dtype=np.int64)
        n = y0.shape[0]
        counters = np.zeros((n, 2), dtype=np.int64)
        scale = np.maximum(np.abs(y0), 1.0)

        def segment(y, p, active, t_start, t_stop, t_eval, out):  # noqa: ANN001, ANN202
            y_end = np.full_like(y, np.nan)
            status = np.zeros(n, dtype=np.int64)
            solve(np.ascontiguousarray(y), np.ascontiguousarray(p), sp_idx, sp_coef, sp_ptr, len(model.transitions),
                  active.copy(), np.ascontiguousarray(t_start, dtype=float), np.ascontiguousarray(t_stop, dtype=float),
                  np.ascontiguousarray(t_eval, dtype=float), out, y_end, status, self.rtol, self.atol, self.max_steps,
                  self.negative_tol, counters, scale)
            return y_end, status

        values, status = integrate_piecewise(model, y0, params, t_eval, events, segment)
        return values, status, {"steps": float(counters[:, 0].sum()), "rhs_evals": float(counters[:, 1].sum())}
