"""Scenarios: interventions as composable data, applied purely to a model spec."""

from .interventions import (
    REGISTRY,
    AntiIL6,
    Antiviral,
    CD4Depletion,
    CD8Depletion,
    IL6Knockout,
    Inflammation,
    Intervention,
    NETInhibition,
    NeutrophilDepletion,
    Vaccinated,
    parse_intervention,
)
from .scenario import Scenario

__all__ = [
    "REGISTRY",
    "AntiIL6",
    "Antiviral",
    "CD4Depletion",
    "CD8Depletion",
    "IL6Knockout",
    "Inflammation",
    "Intervention",
    "NETInhibition",
    "NeutrophilDepletion",
    "Scenario",
    "Vaccinated",
    "parse_intervention",
]
