"""Analysis of tables (registries or virtual cohorts): never imports solvers or cohorts (design rule 2)."""

from .cox import ConvergenceError, CoxPH
from .km import KaplanMeier
from .study import SurvivalData, analyze_survival
from .windows import WindowRows, incidence_by_window, split_windows

__all__ = ["ConvergenceError", "CoxPH", "KaplanMeier", "SurvivalData", "WindowRows", "analyze_survival",
           "incidence_by_window", "split_windows"]
