"""Analysis of tables (registries or virtual cohorts): never imports solvers or cohorts (design rule 2)."""

from .cox import ConvergenceError, CoxPH

__all__ = ["ConvergenceError", "CoxPH"]
