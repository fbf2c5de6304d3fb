"""Structural validation of a :class:`~reawaken.model.spec.ModelSpec`, in one place.

Checks: non-empty, unique, identifier-like names across species, parameters and assignments; every
symbol of every expression resolves (assignments may use only names defined before them); stoichiometry
names existing species with non-zero integers; parameter values are finite and inside their bounds;
prior ranges are ordered and inside the bounds.
"""

from __future__ import annotations

import keyword
import math
from typing import TYPE_CHECKING

from ..errors import SpecError
from .expressions import FUNCTIONS, parse

if TYPE_CHECKING:
    from .spec import ModelSpec

RESERVED = frozenset({"t", *FUNCTIONS})


def check_spec(spec: ModelSpec) -> None:
    """Raise :class:`SpecError` naming the first problem found and how to fix it."""
    if not spec.species:
        raise SpecError(f"model {spec.name!r} has no species; declare at least one Species")
    seen: dict[str, str] = {}
    for kind, items in (("species", spec.species), ("parameter", spec.parameters), ("assignment", spec.assignments)):
        for item in items:
            name = item.name
            if not name.isidentifier() or name.startswith("_"):
                raise SpecError(f"{kind} name {name!r} is not a valid identifier; use letters, digits and _")
            if name in RESERVED or keyword.iskeyword(name):
                raise SpecError(f"{kind} name {name!r} is reserved; rename it")
            if name in seen:
                raise SpecError(f"name {name!r} is used by a {seen[name]} and a {kind}; names must be unique")
            seen[name] = kind
    for p in spec.parameters:
        lo, hi = p.bounds
        if not (lo <= hi):
            raise SpecError(f"parameter {p.name}: bounds {p.bounds} are not ordered (low <= high)")
        if not (math.isfinite(p.value) and lo <= p.value <= hi):
            raise SpecError(f"parameter {p.name}={p.value!r} lies outside its bounds [{lo}, {hi}] {p.unit}")
        if p.prior is not None:
            plo, phi = p.prior
            if not (lo <= plo <= phi <= hi):
                raise SpecError(f"parameter {p.name}: prior {p.prior} must be ordered and inside bounds {p.bounds}")
        if not p.source.strip():
            raise SpecError(f"parameter {p.name} has no source; cite a reference or say 'assumption: ...'")
    for s in spec.species:
        if not (math.isfinite(s.initial) and s.initial >= 0.0):
            raise SpecError(f"species {s.name}: initial value {s.initial!r} must be finite and >= 0")
    known = {s.name for s in spec.species} | {p.name for p in spec.parameters} | {"t"}
    for a in spec.assignments:
        expr = parse(a.expr, context=f"assignment {a.name}")
        _resolve(expr.symbols, known, f"assignment {a.name}")
        known.add(a.name)
    species = {s.name for s in spec.species}
    names = set()
    for tr in spec.transitions:
        if tr.name in names:
            raise SpecError(f"transition name {tr.name!r} is used twice")
        names.add(tr.name)
        if not tr.change:
            raise SpecError(f"transition {tr.name} changes no species; give its stoichiometry")
        for sp, n in tr.change.items():
            if sp not in species:
                raise SpecError(f"transition {tr.name} changes unknown species {sp!r}; known: {sorted(species)}")
            if not isinstance(n, int) or isinstance(n, bool) or n == 0:
                raise SpecError(f"transition {tr.name}: stoichiometry of {sp} must be a non-zero int, got {n!r}")
        _resolve(parse(tr.rate, context=f"transition {tr.name}").symbols, known, f"transition {tr.name}")


def _resolve(symbols: frozenset[str], known: set[str], where: str) -> None:
    missing = sorted(symbols - known)
    if missing:
        raise SpecError(f"{where}: unknown symbol(s) {missing}; declare them as species, parameters or assignments")
