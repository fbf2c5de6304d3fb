"""reawaken: respiratory viral infections, IL-6 and the awakening of dormant lung DCCs.

The public surface, by layer: the model (``ModelSpec``, ``compile_model``, ``il6_dormancy_spec``,
``profile``), solvers (``simulate``, ``BatchDopri5``, ``ScipyODE``), scenarios (``Scenario`` and the
intervention records), experiments (``run_scenarios``, ``mouse_panel``) and parameter sets
(``ParameterSet``). The use cases (simulate, cohort, registry, analyze, demo), each returning a result with
DataFrames, live in :mod:`reawaken.api` (``import reawaken.api as api``); docs/api.md walks through them.
"""

from . import api
from ._version import __version__
from .errors import (
    ExpressionError,
    OutputError,
    ParameterError,
    ReawakenError,
    ScenarioError,
    SolverFailure,
    SpecError,
    StatisticalWarning,
    UnsupportedFeatureError,
)
from .experiments import Episode, mouse_panel, run_scenarios
from .model import EventSchedule, ModelSpec, compile_model
from .model.library import il6_dormancy_spec
from .model.library.hosts import profile
from .model.params import ParameterSet
from .scenarios import (
    AntiIL6,
    Antiviral,
    CD4Depletion,
    CD8Depletion,
    IL6Knockout,
    NeutrophilDepletion,
    Scenario,
    Vaccinated,
    parse_intervention,
)
from .solvers import BatchDopri5, ScipyODE, Status, Trajectories, simulate

__all__ = [
    "AntiIL6",
    "Antiviral",
    "BatchDopri5",
    "CD4Depletion",
    "CD8Depletion",
    "Episode",
    "EventSchedule",
    "ExpressionError",
    "IL6Knockout",
    "ModelSpec",
    "NeutrophilDepletion",
    "OutputError",
    "ParameterSet",
    "ParameterError",
    "ReawakenError",
    "Scenario",
    "ScenarioError",
    "ScipyODE",
    "SolverFailure",
    "SpecError",
    "StatisticalWarning",
    "Status",
    "Trajectories",
    "UnsupportedFeatureError",
    "Vaccinated",
    "__version__",
    "api",
    "compile_model",
    "il6_dormancy_spec",
    "mouse_panel",
    "parse_intervention",
    "profile",
    "run_scenarios",
    "simulate",
]
