"""The reawaken error family.

Every error subclasses both :class:`ReawakenError` and the builtin a caller would naturally catch, so
``except ValueError`` keeps working while ``except ReawakenError`` catches all of ours. Messages say what
is wrong, show the offending value, and say how to fix it.
"""

from __future__ import annotations


class ReawakenError(Exception):
    """Base class of every error raised by reawaken."""


class SpecError(ReawakenError, ValueError):
    """A model definition (species, parameters, rate laws) is invalid."""


class ExpressionError(SpecError):
    """A rate expression cannot be parsed or uses something that is not allowed."""


class ParameterError(ReawakenError, ValueError):
    """A parameter override names an unknown parameter or lies outside its bounds."""


class ScenarioError(ReawakenError, ValueError):
    """A host, virus or intervention is unknown or has invalid settings."""


class UnsupportedFeatureError(ReawakenError, TypeError):
    """A solver cannot handle a feature that the model or the call needs."""


class SolverFailure(ReawakenError, RuntimeError):
    """A simulation row failed and ``on_failure="raise"`` was requested."""


class OutputError(ReawakenError, OSError):
    """An output cannot be written where it was asked to go."""


class SchemaError(ReawakenError, ValueError):
    """A registry (OMOP CDM) lacks a table or column, or has the wrong CDM version."""


class StudyError(ReawakenError, ValueError):
    """A study definition is invalid, names an unknown concept, or selects no one."""


class StatisticalWarning(UserWarning):
    """A result is computed but should be read with care (few events, poor convergence)."""


__all__ = [
    "ConfigError",
    "ExpressionError",
    "OutputError",
    "ParameterError",
    "ReawakenError",
    "ScenarioError",
    "SchemaError",
    "SolverFailure",
    "SpecError",
    "StatisticalWarning",
    "StudyError",
    "UnsupportedFeatureError",
]


class ConfigError(ReawakenError, ValueError):
    """A configuration file (cohort or study) is invalid; the message names the key."""
