"""Use cases: pure functions from validated inputs to frozen results (design principle 16).

The CLI, the report and any UI call these and nothing below them. Every function returns a result with
``.frame(name)`` (pandas), ``.summary``, ``.to_dict()`` (the CLI's ``--json``), ``.manifest`` and
``.save(dir)``; see :mod:`reawaken.api.results` and ``docs/api.md``.

=====================  ================================================  ======================
function               takes                                             returns
=====================  ================================================  ======================
``simulate``           a Scenario, days, a ParameterSet                  SimulationResult
``simulate_stochastic``  the same plus replicates, seed, method           StochasticResult
``run_cohort``         a CohortConfig, n, seed, arms, a ParameterSet     CohortResult
``run_cohorts``        a CohortConfig and many ParameterSets             CohortBatchResult
``write_registry``     a CohortResult (or its directory), a CDM target   RegistryResult
``analyze``            a CDM, a study, alpha                             AnalysisResult
``check_cdm``          a CDM URL and its schemas                         CdmCheckResult
``run_demo``           an output directory, days, cohort size, seed      DemoResult
=====================  ================================================  ======================
"""

from ..model.params import ParameterSet
from .cohort import DEFAULT_CHUNK, run_cohort, run_cohorts
from .demo import run_demo
from .registry import CdmCheckResult, analyze, check_cdm, write_registry
from .results import (
    AnalysisResult,
    CohortBatchResult,
    CohortResult,
    DemoResult,
    RegistryResult,
    Result,
    SimulationResult,
    StochasticResult,
    UnknownFrameError,
)
from .scenario import export_sbml, parameter_table, simulate, simulate_stochastic

__all__ = [
    "DEFAULT_CHUNK",
    "AnalysisResult",
    "CdmCheckResult",
    "CohortBatchResult",
    "CohortResult",
    "DemoResult",
    "ParameterSet",
    "RegistryResult",
    "Result",
    "SimulationResult",
    "StochasticResult",
    "UnknownFrameError",
    "analyze",
    "check_cdm",
    "export_sbml",
    "parameter_table",
    "run_cohort",
    "run_cohorts",
    "run_demo",
    "simulate",
    "simulate_stochastic",
    "write_registry",
]
