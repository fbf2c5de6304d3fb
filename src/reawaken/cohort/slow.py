"""Between infections: the DCC states evolve linearly at the resting host, solved exactly.

With no infection the host sits at rest (IL-6 at baseline, no niche remodelling), so the DCC block of
the within-host model is a constant linear system ``dX/dt = B X`` for ``X = (dormant, awakened, primed)``
(spontaneous awakening, return to dormancy, immune killing, attrition of the primed pool). ``B`` is read
off the compiled human model by exact differences at the rest state, and its eigen-decomposition gives
``X(t)``, ``W(t) = w . X(t)`` and its integral in closed form: no time stepping between episodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._typing import FloatArray
from ..model.compile import compile_model
from ..model.params import ParameterSet
from ..scenarios.scenario import Scenario
from .episodes import DCC_STATES


@dataclass(frozen=True)
class SlowDynamics:
    """``X(t) = V diag(exp(lam t)) Vinv X(0)``."""

    B: FloatArray
    lam: FloatArray
    V: FloatArray
    Vinv: FloatArray

    def propagate(self, x: FloatArray, t: float) -> FloatArray:
        with np.errstate(under="ignore"):  # fast modes decay to exactly zero over years
            return self.V @ (np.exp(self.lam * t) * (self.Vinv @ x))

    def propagate_many(self, x: FloatArray, t: FloatArray) -> FloatArray:
        """``X(t_i)`` for one start state and many times: shape (len(t), 3)."""
        with np.errstate(under="ignore"):
            return (np.exp(np.outer(t, self.lam)) * (self.Vinv @ x)[None, :]) @ self.V.T


def slow_dynamics(params: ParameterSet | None = None) -> SlowDynamics:
    """The resting human host's DCC dynamics (rates per day) under parameter set ``params``."""
    spec, _ = Scenario("human", "none", params=params).apply()
    model = compile_model(spec)
    names = spec.species_names
    idx = [names.index(s) for s in DCC_STATES]
    y = np.array([s.initial for s in spec.species], dtype=float)
    y[idx] = 0.0
    p = np.array([q.value for q in spec.parameters])
    f0 = model.rhs(0.0, y[None, :], p[None, :])[0]
    B = np.zeros((3, 3))
    for j, k in enumerate(idx):
        y1 = y.copy()
        y1[k] = 1.0  # the DCC rates are linear in the DCC states at a fixed host (capacity 1e10 cells)
        B[:, j] = (model.rhs(0.0, y1[None, :], p[None, :])[0] - f0)[idx]
    lam, V = np.linalg.eig(B)
    if np.max(np.abs(np.imag(lam))) > 0 or np.max(lam.real) > 0:
        raise RuntimeError(f"resting DCC dynamics should decay monotonically; eigenvalues {lam}")
    lam, V = lam.real, V.real
    return SlowDynamics(B, lam, V, np.linalg.inv(V))
