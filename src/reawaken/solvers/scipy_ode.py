"""SciPy's ``solve_ivp`` as a solver: one row at a time, any of its methods (the reference for accuracy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.integrate import solve_ivp

from .._typing import FloatArray, IntArray
from ..model.compile import CompiledModel
from ..model.events import EventSchedule
from ._piecewise import integrate_piecewise
from .base import Feature, Status

_METHODS = ("LSODA", "Radau", "BDF", "RK45", "DOP853")


@dataclass(frozen=True)
class ScipyODE:
    """``scipy.integrate.solve_ivp`` per row. Use ``method="Radau"`` for stiff variants of a model."""

    method: str = "LSODA"
    rtol: float = 1e-6
    atol: float = 1e-9
    supports: ClassVar[frozenset[Feature]] = frozenset({Feature.EVENTS, Feature.BATCH})

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise ValueError(f"ScipyODE method {self.method!r} is not one of {', '.join(_METHODS)}")

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
        counter = {"rhs_evals": 0.0}

        def segment(y, p, active, t_start, t_stop, t_eval, out):  # noqa: ANN001, ANN202
            n = y.shape[0]
            y_end = np.full_like(y, np.nan)
            status = np.zeros(n, dtype=np.int64)
            for i in np.flatnonzero(active):
                pi = p[i : i + 1]
                if t_stop[i] <= t_start[i]:
                    y_end[i] = y[i]
                    continue

                def f(t, x, pi=pi):  # noqa: ANN001, ANN202
                    return model.rhs(t, x[None, :], pi)[0]

                k = np.flatnonzero((t_eval > t_start[i]) & (t_eval <= t_stop[i]))
                times = np.unique(np.append(t_eval[k], t_stop[i]))
                try:
                    with np.errstate(all="ignore"):
                        sol = solve_ivp(f, (t_start[i], t_stop[i]), y[i], method=self.method, t_eval=times,
                                        rtol=self.rtol, atol=self.atol)
                except (ValueError, ArithmeticError, np.linalg.LinAlgError):
                    # Implicit methods raise when an overflowing row reaches their linear algebra; that is
                    # this row's failure, not the batch's.
                    status[i] = Status.NONFINITE
                    continue
                counter["rhs_evals"] += sol.nfev
                if not sol.success or sol.y.shape[1] != times.size:
                    status[i] = Status.STEP_TOO_SMALL
                    continue
                if not np.all(np.isfinite(sol.y)):
                    status[i] = Status.NONFINITE
                    continue
                out[i, k] = sol.y[:, : k.size].T
                y_end[i] = sol.y[:, -1]
            return y_end, status

        values, status = integrate_piecewise(model, y0, params, t_eval, events, segment)
        return values, status, counter
