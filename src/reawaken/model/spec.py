"""The model as data: frozen, validated records (design principle 1).

A :class:`ModelSpec` is built once, checked once (:func:`reawaken.model.validate.check_spec`) and then
compiled to arrays by :func:`reawaken.model.compile.compile_model`. Specs are never mutated: a scenario
returns a new spec with :meth:`ModelSpec.with_values`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from ..errors import ParameterError


@dataclass(frozen=True, slots=True)
class Species:
    """A state variable. ``initial`` is its default value at day 0 in ``unit``."""

    name: str
    unit: str
    initial: float = 0.0
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Parameter:
    """A named constant with unit, hard bounds, a prior range for calibration, and its source."""

    name: str
    value: float
    unit: str
    source: str
    bounds: tuple[float, float] = (0.0, math.inf)
    prior: tuple[float, float] | None = None
    doc: str = ""

    @property
    def prior_range(self) -> tuple[float, float]:
        """The stated prior range; defaults to the value itself when the number is firm."""
        return self.prior if self.prior is not None else (self.value, self.value)


@dataclass(frozen=True, slots=True)
class Assignment:
    """A derived quantity evaluated before the rates, e.g. ``il6_signal = hill(IL6, K_il6, n_il6)``."""

    name: str
    expr: str
    unit: str = "1"
    doc: str = ""


@dataclass(frozen=True)
class Transition:
    """A flux ``rate`` (per day, in the units of the species it moves) with integer stoichiometry."""

    name: str
    change: Mapping[str, int]
    rate: str
    doc: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "change", MappingProxyType(dict(self.change)))

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.change.items())), self.rate))


@dataclass(frozen=True)
class ModelSpec:
    """Species, parameters, derived quantities and transitions of one model."""

    name: str
    species: tuple[Species, ...]
    parameters: tuple[Parameter, ...]
    transitions: tuple[Transition, ...]
    assignments: tuple[Assignment, ...] = ()
    doc: str = ""
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from .validate import check_spec  # validate imports spec; the late import avoids a cycle

        check_spec(self)
        self._index.update({p.name: i for i, p in enumerate(self.parameters)})

    @property
    def species_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.species)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def parameter(self, name: str) -> Parameter:
        try:
            return self.parameters[self._index[name]]
        except KeyError:
            raise ParameterError(_unknown(name, self.parameter_names, "parameter")) from None

    def with_values(self, values: Mapping[str, float], *, source: str = "user override") -> ModelSpec:
        """A new spec with parameter values replaced (names and bounds checked); ``self`` is untouched."""
        params = list(self.parameters)
        for name, value in values.items():
            i = self._index.get(name)
            if i is None:
                raise ParameterError(_unknown(name, self.parameter_names, "parameter"))
            p = params[i]
            value = float(value)
            lo, hi = p.bounds
            if not (math.isfinite(value) and lo <= value <= hi):
                raise ParameterError(
                    f"parameter {name}={value!r} is outside its bounds [{lo}, {hi}] ({p.unit}); "
                    f"choose a value in range"
                )
            params[i] = replace(p, value=value, source=source if value != p.value else p.source)
        return replace(self, parameters=tuple(params))

    def with_initial(self, values: Mapping[str, float]) -> ModelSpec:
        """A new spec with species' initial values replaced."""
        names = self.species_names
        species = list(self.species)
        for name, value in values.items():
            if name not in names:
                raise ParameterError(_unknown(name, names, "species"))
            if not (math.isfinite(float(value)) and float(value) >= 0.0):
                raise ParameterError(f"initial value of {name} must be a finite number >= 0, got {value!r}")
            species[names.index(name)] = replace(species[names.index(name)], initial=float(value))
        return replace(self, species=tuple(species))


def _unknown(name: str, known: tuple[str, ...], what: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else f"known {what}s: {', '.join(known)}"
    return f"unknown {what} {name!r}; {hint}"
