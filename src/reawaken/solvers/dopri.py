"""Batched adaptive Dormand-Prince 5(4) in NumPy: every row of the batch takes its own steps.

All rows advance together through vectorised stages, so the Python overhead of one step is paid once
for the whole batch. Each row has its own step size and error control, so a stiff or failing row
neither slows nor kills the others: it is flagged in ``status`` (design principle 5).

The model is non-stiff at the tolerances we use (fastest rate: IL-6 clearance, 16.6/d, and the 5/d
depletion rate), which is why an explicit method is the right default; stiff variants of a model
should use :class:`reawaken.solvers.ScipyODE` with ``method="Radau"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._typing import FloatArray, IntArray
from ..model.compile import CompiledModel
from ..model.events import EventSchedule
from ._piecewise import integrate_piecewise
from .base import Feature, Status

# Dormand & Prince (1980) tableau.
_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0])
_A = [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
]
_B5 = np.array([35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0])
_B4 = np.array([5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40])
_E = _B5 - _B4
# Shampine's 4th-order continuous extension of DP5 (the same coefficients as SciPy's RK45.P):
# y(t0 + x h) = y0 + h * sum_j (K.T @ _P)[:, j] x^(j+1). Outputs are interpolated, not stepped to,
# so a fine output grid costs no extra steps.
_P = np.array([
    [1, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432],
    [0, 0, 0, 0],
    [0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799],
    [0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072],
    [0, 127303824393 / 49829197408, -318862633887 / 49829197408, 701980252875 / 199316789632],
    [0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844],
    [0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423],
])


@dataclass(frozen=True)
class BatchDopri5:
    """Explicit adaptive RK5(4), vectorised over the batch, with per-row step control and status.

    Parameters
    ----------
    rtol, atol : relative and absolute tolerances (mixed error norm, as in SciPy's RK45).
    max_steps : step budget per row and segment; exceeding it flags ``Status.MAX_STEPS``.
    negative_tol : relative undershoot below zero tolerated before ``Status.NEGATIVE_STATE``.
    """

    rtol: float = 1e-6
    # 1e-6 absolute resolves the smallest quantities of interest (the niche fraction, the naive
    # neutralising titre 1e-3) while not chasing virus titres of 1e-12 after clearance.
    atol: float = 1e-6
    max_steps: int = 200_000
    negative_tol: float = 1e-6
    supports: ClassVar[frozenset[Feature]] = frozenset({Feature.EVENTS, Feature.BATCH})

    def __post_init__(self) -> None:
        if not (0 < self.rtol < 1 and self.atol > 0 and self.max_steps > 0):
            raise ValueError(f"BatchDopri5 needs 0 < rtol < 1, atol > 0, max_steps > 0; got {self}")

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
        counter = {"rhs_evals": 0.0, "steps": 0.0, "rejected": 0.0}
        # Each species' largest magnitude so far (over all segments): a value is called negative only when
        # it undershoots zero by more than the error control allows relative to that scale.
        scale = np.maximum(np.abs(y0), 1.0)

        def segment(y, p, active, t_start, t_stop, t_eval, out):  # noqa: ANN001, ANN202
            # Overflow or 0/0 in one row must not abort the batch: non-finite rows are detected and flagged.
            # Underflow is harmless (an extinct virus decays through 1e-300 to 0): it rounds to zero.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                return self._segment(model, y, p, active, t_start, t_stop, t_eval, out, counter, scale)

        values, status = integrate_piecewise(model, y0, params, t_eval, events, segment)
        return values, status, counter

    def _segment(self, model, y, p, active, t_start, t_end, t_out, out, counter, scale0):  # noqa: ANN001, ANN202, C901
        n, ns = y.shape
        y = y.copy()
        status = np.zeros(n, dtype=np.int64)
        t = t_start.astype(float).copy()
        t_end = t_end.astype(float)
        next_out = np.searchsorted(t_out, t, side="right")
        last_out = np.searchsorted(t_out, t_end, side="right")
        steps = np.zeros(n, dtype=np.int64)
        np.maximum(scale0, np.nan_to_num(np.abs(y)), out=scale0)
        h = np.minimum(t_end - t, 1e-2)
        k1 = np.zeros_like(y)
        live = active & (t < t_end)
        if live.any():
            k1[live] = model.rhs(t[live], y[live], p[live])
            counter["rhs_evals"] += live.sum()
        eps = 1e-12 * np.maximum(1.0, np.abs(t_end))
        while live.any():
            idx = np.flatnonzero(live)
            ti, yi, pi, k1i, te = t[idx], y[idx], p[idx], k1[idx], t_end[idx]
            hi = np.minimum(h[idx], te - ti)
            ks = [k1i]
            for s in range(1, 7):
                ys = yi + hi[:, None] * sum(a * k for a, k in zip(_A[s], ks) if a != 0.0)
                ks.append(model.rhs(ti + _C[s] * hi, ys, pi))
            counter["rhs_evals"] += 6 * idx.size
            y_new = ys  # stage 7 is evaluated at the 5th-order solution (FSAL)
            err_vec = hi[:, None] * sum(e * k for e, k in zip(_E, ks) if e != 0.0)
            sc = self.atol + self.rtol * np.maximum(np.abs(yi), np.abs(y_new))
            err = np.sqrt(np.mean((err_vec / sc) ** 2, axis=1))
            finite = np.all(np.isfinite(y_new), axis=1) & np.isfinite(err)
            accept = finite & (err <= 1.0)
            # A NaN error (overflow inside the step) must shrink the step, never keep or grow it.
            factor = np.where(~np.isfinite(err), 0.2, np.where(err > 0, 0.9 * err ** -0.2, 5.0))
            factor = np.clip(np.nan_to_num(factor, nan=0.2), 0.2, 5.0)
            factor = np.where(accept, factor, np.minimum(factor, 1.0))
            h_next = hi * factor
            if accept.any():
                a_rows = np.flatnonzero(accept)
                t_new = np.where(te[a_rows] - (ti[a_rows] + hi[a_rows]) <= eps[idx[a_rows]], te[a_rows],
                                 ti[a_rows] + hi[a_rows])
                self._interpolate(out, t_out, next_out, last_out, idx[a_rows], ti[a_rows], hi[a_rows], t_new,
                                  yi[a_rows], y_new[a_rows], [k[a_rows] for k in ks])
                acc = idx[a_rows]
                t[acc] = t_new
                y[acc] = y_new[a_rows]
                scale0[acc] = np.maximum(scale0[acc], np.abs(y_new[a_rows]))
                k1[acc] = ks[6][a_rows]
            h[idx] = h_next
            steps[idx] += 1
            counter["steps"] += idx.size
            counter["rejected"] += float(np.sum(~accept))
            neg = accept & np.any(y[idx] < -self.negative_tol * scale0[idx] - self.atol, axis=1)
            tiny = ~accept & (h_next < 1e-14 * np.maximum(1.0, np.abs(te)))
            over = steps[idx] >= self.max_steps
            for mask, code in (
                (neg, Status.NEGATIVE_STATE),
                (~finite & tiny, Status.NONFINITE),
                (tiny & finite, Status.STEP_TOO_SMALL),
                (over, Status.MAX_STEPS),
            ):
                rows = idx[mask & (status[idx] == Status.OK)]
                status[rows] = code
            failed = status[idx] != Status.OK
            done = t[idx] >= te
            live[idx[failed | done]] = False
        y[status != Status.OK] = np.nan
        return y, status

    @staticmethod
    def _interpolate(out, t_out, next_out, last_out, rows, t0, h, t1, y0, y1, ks):  # noqa: ANN001, ANN205
        """Fill outputs of ``rows`` whose times fall in (t0, t1] from the continuous extension."""
        if t_out.size == 0:
            return
        q = np.einsum("kbs,kj->bsj", np.stack(ks), _P)  # (rows, species, 4)
        while True:
            pending = next_out[rows] < last_out[rows]
            tn = np.where(pending, t_out[np.minimum(next_out[rows], t_out.size - 1)], np.inf)
            hit = pending & (tn <= t1)
            if not hit.any():
                return
            r = np.flatnonzero(hit)
            exact = tn[r] >= t1[r]
            x = np.where(exact, 1.0, (tn[r] - t0[r]) / h[r])
            powers = np.cumprod(np.repeat(x[:, None], 4, axis=1), axis=1)  # x, x^2, x^3, x^4
            interp = y0[r] + h[r][:, None] * np.einsum("bsj,bj->bs", q[r], powers)
            value = np.where(exact[:, None], y1[r], interp)  # at a step end use the step's own solution
            out[rows[r], next_out[rows[r]]] = value
            next_out[rows[r]] += 1
