"""Solvers: one verb, :func:`simulate`, and frozen solver configurations."""

from .base import Feature, Solver, Status, Trajectories, simulate
from .dopri import BatchDopri5
from .dopri_jit import JitDopri5
from .scipy_ode import ScipyODE
from .ssa import DirectSSA, TauLeap

__all__ = ["BatchDopri5", "DirectSSA", "Feature", "JitDopri5", "ScipyODE", "Solver", "Status", "TauLeap", "Trajectories", "simulate"]
