"""Parameter sets: validated values of the mechanism's parameters, with where they came from.

A :class:`ParameterSet` holds the values that replace a host's profile defaults (an empty set *is* the
defaults). It is checked against every profile of its host (each parameter must exist and lie within its
bounds for the influenza, SARS-CoV-2 and uninfected profiles alike), carries its provenance ("default",
"user", "posterior draw 7", ...) and a content hash, and is accepted by the mechanism (``Scenario``), the
stochastic layer and the cohort, whose manifests record it.

>>> ps = ParameterSet({"K_il6": 250.0}, provenance="user")
>>> ps["K_il6"]
250.0
>>> ParameterSet.default().values
{}
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import ParameterError


@dataclass(frozen=True)
class ParameterSet:
    """Values replacing a host's profile defaults, validated, with provenance.

    Parameters
    ----------
    values : parameter name -> value (the unit is the parameter's own; ``reawaken params`` lists them).
    provenance : where the values came from: ``"default"``, ``"user"``, ``"posterior draw 7"``, ...
    host : the host whose profiles the values are checked against (``"human"`` or ``"mouse"``).
    """

    values: Mapping[str, float] = field(default_factory=dict)
    provenance: str = "user"
    host: str = "human"

    def __post_init__(self) -> None:
        if not isinstance(self.values, Mapping):
            raise ParameterError(f"a ParameterSet needs a mapping of name -> value, got {type(self.values).__name__}")
        clean: dict[str, float] = {}
        for name, value in self.values.items():
            if not isinstance(name, str):
                raise ParameterError(f"parameter names must be strings, got {name!r}")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ParameterError(f"parameter {name}={value!r} is not a number") from None
            if not math.isfinite(number):
                raise ParameterError(f"parameter {name}={value!r} must be a finite number")
            clean[name] = number
        object.__setattr__(self, "values", MappingProxyType(dict(sorted(clean.items()))))
        if not isinstance(self.provenance, str) or not self.provenance:
            raise ParameterError("a ParameterSet's provenance must be a non-empty string, e.g. 'user'")
        _check_against_profiles(self)

    def __reduce__(self) -> tuple[Any, ...]:  # a mappingproxy does not pickle; processes and Dask need to
        return (ParameterSet, (dict(self.values), self.provenance, self.host))

    @classmethod
    def default(cls, host: str = "human") -> ParameterSet:
        """The host's profile values, unchanged."""
        return cls({}, provenance="default", host=host)

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def is_default(self) -> bool:
        return not self.values

    def with_values(self, values: Mapping[str, float], *, provenance: str | None = None) -> ParameterSet:
        """A new set with some values replaced (validated again)."""
        return ParameterSet({**self.values, **values}, provenance=provenance or self.provenance, host=self.host)

    def hash(self) -> str:
        """Content hash of the values (not of the provenance: equal values give equal results)."""
        text = json.dumps({"host": self.host, "values": dict(self.values)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "provenance": self.provenance, "values": dict(self.values), "hash": self.hash()}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:g}" for k, v in list(self.values.items())[:6])
        more = f", ... ({len(self.values)} values)" if len(self.values) > 6 else ""
        return f"ParameterSet({{{shown}{more}}}, provenance={self.provenance!r}, host={self.host!r})"


def as_parameter_set(params: ParameterSet | Mapping[str, float] | None, host: str = "human") -> ParameterSet:
    """``None`` -> the defaults; a mapping -> a user set; a set -> itself (checked to be for ``host``)."""
    if params is None:
        return ParameterSet.default(host)
    if isinstance(params, ParameterSet):
        if params.host != host:
            raise ParameterError(f"this parameter set is for host {params.host!r}, not {host!r}")
        return params
    return ParameterSet(params, provenance="user", host=host)


def _check_against_profiles(ps: ParameterSet) -> None:
    from .library.hosts import HOSTS, VIRUSES, profile

    if ps.host not in HOSTS:
        raise ParameterError(f"unknown host {ps.host!r}; choose one of: {', '.join(HOSTS)}")
    if not ps.values:
        return
    for virus in VIRUSES:
        if virus != "none":
            profile(ps.host, virus).spec().with_values(dict(ps.values))  # names and bounds, with the fix in the message
