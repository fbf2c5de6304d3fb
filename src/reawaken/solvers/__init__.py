"""Solvers: one verb, :func:`simulate`, and frozen solver configurations."""

from .base import Feature, Solver, Status, Trajectories, simulate
from .dopri import BatchDopri5
from .scipy_ode import ScipyODE

__all__ = ["BatchDopri5", "Feature", "ScipyODE", "Solver", "Status", "Trajectories", "simulate"]
