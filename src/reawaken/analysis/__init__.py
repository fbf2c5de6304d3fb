"""Analysis of tables (registries or virtual cohorts): never imports solvers or cohorts (design rule 2)."""

from .cox import ConvergenceError, CoxPH
from .windows import WindowRows, incidence_by_window, split_windows

__all__ = ["ConvergenceError", "CoxPH", "WindowRows", "incidence_by_window", "split_windows"]
