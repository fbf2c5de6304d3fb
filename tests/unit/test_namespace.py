"""The public surface is pinned: every name in __all__ exists, and the layers re-export what they promise."""

from __future__ import annotations

import importlib

import pytest

import reawaken

PACKAGES = ["reawaken", "reawaken.model", "reawaken.solvers", "reawaken.scenarios", "reawaken.experiments",
            "reawaken.io", "reawaken.report", "reawaken.analysis", "reawaken.io.omop", "reawaken.api",
            "reawaken.cohort", "reawaken.vocab"]


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_resolves(name):
    module = importlib.import_module(name)
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []
    assert sorted(module.__all__) == sorted(set(module.__all__)), "duplicates in __all__"


def test_top_level_surface_is_pinned():
    assert set(reawaken.__all__) >= {
        "Scenario", "run_scenarios", "simulate", "BatchDopri5", "ScipyODE", "compile_model", "ModelSpec",
        "AntiIL6", "IL6Knockout", "CD4Depletion", "CD8Depletion", "NeutrophilDepletion", "Vaccinated",
        "Antiviral", "ReawakenError", "__version__",
    }


def test_version_matches_metadata():
    from importlib import metadata

    assert reawaken.__version__ == metadata.version("reawaken")


def test_errors_subclass_builtins():
    assert issubclass(reawaken.SpecError, ValueError)
    assert issubclass(reawaken.ScenarioError, ValueError)
    assert issubclass(reawaken.ParameterError, ValueError)
    assert issubclass(reawaken.SolverFailure, RuntimeError)
    assert issubclass(reawaken.UnsupportedFeatureError, TypeError)


def test_api_surface_is_pinned():
    """The use cases and their results: the names docs/api.md documents."""
    from reawaken import api

    assert set(api.__all__) == {
        "simulate", "simulate_stochastic", "run_cohort", "run_cohorts", "write_registry", "analyze", "run_demo",
        "export_sbml", "parameter_table", "ParameterSet", "Result", "SimulationResult", "StochasticResult",
        "CohortResult", "CohortBatchResult", "RegistryResult", "AnalysisResult", "DemoResult", "UnknownFrameError",
        "DEFAULT_CHUNK", "check_cdm", "CdmCheckResult",
    }
    assert reawaken.ParameterSet is api.ParameterSet and reawaken.api is api


def test_every_result_implements_the_whole_contract():
    from reawaken import api

    for cls in (api.SimulationResult, api.StochasticResult, api.CohortResult, api.CohortBatchResult,
                api.RegistryResult, api.AnalysisResult, api.DemoResult):
        assert issubclass(cls, api.Result) and not getattr(cls, "__abstractmethods__", None), cls
        assert cls.frames, cls
