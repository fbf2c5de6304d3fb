"""A scenario: host, virus, infection days and interventions -> (model spec, event schedule). Pure."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..errors import ScenarioError
from ..model.events import EventSchedule, StateJump, StateScale
from ..model.library.hosts import Profile, profile
from ..model.params import ParameterSet
from ..model.spec import ModelSpec
from .interventions import Intervention


@dataclass(frozen=True)
class Scenario:
    """One experiment arm.

    Parameters
    ----------
    host, virus : see :data:`reawaken.model.library.hosts.HOSTS` / ``VIRUSES``.
    infection_days : days of infection (ignored for ``virus="none"``); the first is usually 0.
    interventions : intervention records, in any combination.
    overrides : parameter values replacing the profile's (``--set``).
    cross_reactivity : share of the neutralising titre that still acts on the strain of each later
        infection (a drifted strain), and of the B-cell activation; assumption, prior 0-0.5. The default
        0.003 lets a drifted strain reinfect at two months, as the ratchet target R1 (an extrapolation of
        the persistence data) needs; at 0.01 the second infection aborts.
    initial : initial states replacing the profile's (e.g. ``{"dormant": 1000}``), applied last.
    params : a :class:`~reawaken.model.params.ParameterSet` for this host (e.g. a posterior draw), applied
        before the interventions; ``overrides`` still win over it.
    """

    host: str = "mouse"
    virus: str = "influenza"
    infection_days: tuple[float, ...] = (0.0,)
    interventions: tuple[Intervention, ...] = ()
    overrides: Mapping[str, float] = field(default_factory=dict)
    name: str = ""
    cross_reactivity: float = 0.003
    initial: Mapping[str, float] = field(default_factory=dict)
    params: ParameterSet | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))
        object.__setattr__(self, "initial", MappingProxyType(dict(self.initial)))
        days = tuple(float(d) for d in self.infection_days)
        if any(not math.isfinite(d) or d < 0 for d in days):
            raise ScenarioError(f"infection days must be finite and >= 0, got {self.infection_days!r}")
        if len(set(days)) != len(days):
            raise ScenarioError(f"infection days must be distinct, got {self.infection_days!r}")
        object.__setattr__(self, "infection_days", tuple(sorted(days)))
        if not 0 <= self.cross_reactivity <= 1:
            raise ScenarioError(f"cross_reactivity must be in [0, 1], got {self.cross_reactivity!r}")
        keys = [type(i).key for i in self.interventions]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ScenarioError(f"intervention(s) {dup} given twice; combine their settings into one")
        profile(self.host, self.virus)  # validates host and virus
        if self.params is not None and self.params.host != self.host:
            raise ScenarioError(f"the parameter set is for host {self.params.host!r}, the scenario's host is {self.host!r}")

    @property
    def profile(self) -> Profile:
        return profile(self.host, self.virus)

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        parts = [self.host, self.virus, *(type(i).key for i in self.interventions)]
        if self.virus != "none" and len(self.infection_days) > 1:
            parts.append("x".join(f"{d:g}" for d in self.infection_days))
        return " / ".join(parts)

    @property
    def effective_infection_days(self) -> tuple[float, ...]:
        return () if self.virus == "none" else self.infection_days

    def apply(self, base: ModelSpec | None = None) -> tuple[ModelSpec, EventSchedule]:
        """The scenario's model spec and event schedule. ``base`` (default: the profile's spec) is untouched."""
        prof = self.profile
        spec = prof.spec() if base is None else base
        days = self.effective_infection_days
        # User overrides first, so interventions see them (an overridden V_ab changes the antibody
        # concentration of a dose); applied again last, so a user's value always wins.
        if self.params is not None and self.params.values:
            spec = spec.with_values(dict(self.params.values), source=f"parameter set ({self.params.provenance})")
        spec = spec.with_values(dict(self.overrides))
        inoculum = spec.parameter("V0").value  # the inoculum is a parameter: --set V0=1000 doses 100x more
        schedule = EventSchedule(
            jumps=tuple(StateJump(d, "virus", inoculum, f"{prof.strain} infection") for d in days),
            # A drifted strain escapes the titre and needs new germinal-centre reactions.
            scales=tuple(StateScale(d, name, self.cross_reactivity, "drifted strain")
                         for d in days[1:] for name in ("nab", "gc")),
        )
        params: dict[str, float] = {}
        initial: dict[str, float] = {}
        for item in self.interventions:
            eff = item.effect(days, spec)
            params.update(eff.parameters)
            initial.update(eff.initial)
            schedule = schedule + eff.events
        spec = spec.with_values(params, source="intervention").with_values(dict(self.overrides))
        return spec.with_initial({**initial, **self.initial}), schedule
