"""Request models of the dashboard's JSON API (pydantic v2).

Shape and bounds are checked here, at the boundary; names (hosts, viruses, interventions, arms, cohort keys)
are checked by the objects the API already has (``Scenario``, ``parse_intervention``, ``CohortConfig``), so a
new intervention or arm added by the model layer is accepted without a change here. Nothing in these
models is ever evaluated: intervention settings are numbers, joined into the CLI's ``name:key=value`` text
only to reuse its parser.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..vocab import NODES, SUBTYPES, T_STAGES

# Names the CLI would accept: letters, digits and a few separators (no spaces, no path characters).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+/-]{0,63}$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

Day = Annotated[float, Field(ge=0.0, le=3650.0, allow_inf_nan=False)]


class _Strict(BaseModel):
    # Unknown fields are refused: a misspelt "interventons" must not be silently ignored.
    model_config = ConfigDict(extra="forbid")


class InterventionIn(_Strict):
    """One intervention: a name from ``reawaken.scenarios.REGISTRY`` and numeric settings (its aliases)."""

    name: str = Field(description="e.g. anti-il6, cd4-depletion; GET /api/options lists them")
    settings: dict[str, float] = Field(default_factory=dict, description="e.g. {\"dose\": 8, \"day\": 1}")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"{v[:40]!r} is not an intervention name (letters, digits, '-'; see /api/options)")
        return v

    @field_validator("settings")
    @classmethod
    def _settings(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not _KEY.match(k):
                raise ValueError(f"setting name {k[:40]!r} is not a plain key like dose or day")
            if not math.isfinite(x) and not (k == "end" and x == math.inf):
                raise ValueError(f"setting {k} must be a finite number, got {x!r}")
        return v

    def as_text(self) -> str:
        """The CLI's ``name:key=value,...`` form, parsed by ``parse_intervention`` (no eval)."""
        body = ",".join(f"{k}={v!r}" for k, v in self.settings.items())
        return f"{self.name}:{body}" if body else self.name


class ScenarioIn(_Strict):
    """One within-host scenario (the CLI's ``simulate`` options)."""

    host: str = "mouse"
    virus: str = "influenza"
    days: float = Field(60.0, gt=0.0, le=730.0, allow_inf_nan=False, description="horizon (d)")
    infection_days: list[Day] = Field(default_factory=lambda: [0.0], min_length=1, max_length=10,
                                      description="days of infection; a second entry is a second infection (d)")
    interventions: list[InterventionIn] = Field(default_factory=list, max_length=12)
    cross_reactivity: float = Field(0.003, ge=0.0, le=1.0, allow_inf_nan=False)

    @field_validator("host", "virus")
    @classmethod
    def _plain(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"{v[:40]!r} is not a name (see /api/options)")
        return v


class StochasticIn(ScenarioIn):
    replicates: int = Field(200, ge=1, le=2000)
    seed: int = Field(0, ge=0, lt=2**63)
    method: str = Field("tau-leap", pattern="^(exact|tau-leap)$")
    lesion_threshold: float = Field(50.0, gt=0.0, le=1e6, allow_inf_nan=False, description="cells")


class CohortJobIn(_Strict):
    """A cohort job: people, years, arms, seed and optional config overrides {section: {key: value}}."""

    n: int = Field(2000, ge=1, description="people (at most the server's --max-cohort-n)")
    years: float = Field(5.0, gt=0.0, le=30.0, allow_inf_nan=False)
    seed: int = Field(1, ge=0, lt=2**63)
    arms: list[str] = Field(default_factory=lambda: ["baseline", "no-infection"], min_length=1, max_length=8)
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict,
                                                 description="cohort config keys, checked by CohortConfig")
    chunks: int = Field(10, ge=1, le=100, description="progress steps (the cohort is cut into this many chunks)")

    @field_validator("arms")
    @classmethod
    def _arms(cls, v: list[str]) -> list[str]:
        bad = [a for a in v if not _NAME.match(a)]
        if bad:
            raise ValueError(f"{bad[0][:40]!r} is not an arm name")
        if len(set(v)) != len(v):
            raise ValueError("an arm is listed twice")
        return v


class RiskIn(_Strict):
    """A survivor profile and an infection (research use only)."""

    age: float = Field(62.0, ge=35.0, le=90.0, allow_inf_nan=False, description="y")
    subtype: str = "HR+/HER2-"
    t_stage: str = "T1"
    nodes: str = "N0"
    years_since_diagnosis: float = Field(5.0, ge=0.0, le=20.0, allow_inf_nan=False, description="y")
    vaccinated: bool = Field(False, description="up to date with influenza and SARS-CoV-2 vaccines")
    virus: str = Field("sars-cov-2", description="the infection the survivor is exposed to over follow-up")
    n: int = Field(4000, ge=200, description="virtual people with this profile (Monte Carlo size)")
    seed: int = Field(1, ge=0, lt=2**63)

    @field_validator("subtype")
    @classmethod
    def _subtype(cls, v: str) -> str:
        if v not in SUBTYPES:
            raise ValueError(f"unknown subtype {v[:40]!r}; choose one of: {', '.join(SUBTYPES)}")
        return v

    @field_validator("t_stage")
    @classmethod
    def _t(cls, v: str) -> str:
        if v not in T_STAGES:
            raise ValueError(f"unknown T stage {v[:40]!r}; choose one of: {', '.join(T_STAGES)}")
        return v

    @field_validator("nodes")
    @classmethod
    def _n(cls, v: str) -> str:
        if v not in NODES:
            raise ValueError(f"unknown node status {v[:40]!r}; choose one of: {', '.join(NODES)}")
        return v
