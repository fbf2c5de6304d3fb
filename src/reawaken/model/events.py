"""Event schedules: state jumps and parameter switches at given times (data only)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import SpecError


def _coerce(event: object, field: str) -> None:
    # Integer days (``start_day=1``) must not make integer clocks downstream.
    for name in ("time", field):
        value = getattr(event, name)
        try:
            object.__setattr__(event, name, float(value))
        except (TypeError, ValueError):
            raise SpecError(f"event {name} must be a number, got {value!r}") from None


@dataclass(frozen=True, slots=True)
class StateJump:
    """At ``time`` add ``amount`` to ``species`` (an inoculum, an antibody dose)."""

    time: float
    species: str
    amount: float
    label: str = ""

    def __post_init__(self) -> None:
        _coerce(self, "amount")


@dataclass(frozen=True, slots=True)
class StateScale:
    """At ``time`` multiply ``species`` by ``factor`` (a drifted strain keeps only part of prior immunity)."""

    time: float
    species: str
    factor: float
    label: str = ""

    def __post_init__(self) -> None:
        _coerce(self, "factor")


@dataclass(frozen=True, slots=True)
class ParameterSwitch:
    """From ``time`` on, ``parameter`` takes ``value`` (a depletion switched on, an antiviral started)."""

    time: float
    parameter: str
    value: float
    label: str = ""

    def __post_init__(self) -> None:
        _coerce(self, "value")


@dataclass(frozen=True)
class EventSchedule:
    """Time-ordered events. At one time: switches apply first, then scales, then jumps."""

    jumps: tuple[StateJump, ...] = ()
    switches: tuple[ParameterSwitch, ...] = ()
    scales: tuple[StateScale, ...] = ()

    def __post_init__(self) -> None:
        for e in (*self.jumps, *self.switches, *self.scales):
            value = getattr(e, "amount", getattr(e, "value", 0.0))
            if not isinstance(e, StateScale) and not math.isfinite(value):
                raise SpecError(f"event {e.label or e}: its amount/value must be finite, got {value!r}")
            if isinstance(e, StateScale) and not (math.isfinite(e.factor) and e.factor >= 0):
                raise SpecError(f"event {e.label or e}: a scale factor must be finite and >= 0, got {e.factor!r}")
            if not math.isfinite(e.time) or e.time < 0:
                raise SpecError(f"event {e.label or e} at time {e.time!r}: times must be finite and >= 0")
        object.__setattr__(self, "jumps", tuple(sorted(self.jumps, key=lambda e: e.time)))
        object.__setattr__(self, "switches", tuple(sorted(self.switches, key=lambda e: e.time)))
        object.__setattr__(self, "scales", tuple(sorted(self.scales, key=lambda e: e.time)))

    @property
    def times(self) -> tuple[float, ...]:
        return tuple(sorted({e.time for e in (*self.jumps, *self.switches, *self.scales)}))

    def __add__(self, other: EventSchedule) -> EventSchedule:
        return EventSchedule(self.jumps + other.jumps, self.switches + other.switches, self.scales + other.scales)

    def is_empty(self) -> bool:
        return not (self.jumps or self.switches or self.scales)
