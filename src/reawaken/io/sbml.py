"""SBML Level 3 Version 2 export of a model spec and its event schedule (extra ``sbml``: python-libsbml).

Mapping:

* one compartment ``lung`` of size 1; every species has ``hasOnlySubstanceUnits=true`` so a reaction's
  kinetic law is exactly our flux (amount per day) and the ODEs match term by term;
* parameters keep their values and units; a parameter switched by an event is ``constant=false``;
* our assignments become assignment rules on non-constant parameters;
* each transition becomes an irreversible reaction with integer stoichiometry;
* ``pos``, ``hill``, ``min`` and ``max`` become SBML function definitions (``rw_pos`` ...);
* each event time becomes one SBML event (trigger ``time >= T``, ``initialValue=false`` so an event at the
  start fires) whose assignments apply switches, then scales, then jumps, as our solvers do;
* every parameter carries its source in ``notes`` (XHTML) and in a ``reawaken:provenance`` annotation.

Time is in days; units are declared for every species and parameter from our unit strings.
"""

from __future__ import annotations

import ast
import html
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..errors import OutputError, SpecError
from ..model.events import EventSchedule
from ..model.expressions import parse, to_infix
from ..model.spec import ModelSpec

NS = "https://github.com/reawaken/reawaken/ns/provenance"

_FUNCTIONS = {
    "pos": ("rw_pos", "lambda(x, piecewise(x, gt(x, 0), 0))"),
    "hill": ("rw_hill", "lambda(x, K, n, piecewise(pow(x, n) / (pow(K, n) + pow(x, n)), gt(x, 0), 0))"),
    "min": ("rw_min", "lambda(a, b, piecewise(a, leq(a, b), b))"),
    "max": ("rw_max", "lambda(a, b, piecewise(a, geq(a, b), b))"),
}

# Base units of our unit strings -> (SBML unit kind, exponent, scale, multiplier).
_BASE = {
    "d": ("second", 1, 0, 86400.0),
    "cells": ("item", 1, 0, 1.0),
    "cell": ("item", 1, 0, 1.0),
    "TCID50": ("item", 1, 0, 1.0),
    "mL": ("litre", 1, -3, 1.0),
    "pg": ("gram", 1, -12, 1.0),
    "ug": ("gram", 1, -6, 1.0),
    "mg": ("gram", 1, -3, 1.0),
    "kg": ("kilogram", 1, 0, 1.0),
}


def _libsbml() -> Any:
    try:
        import libsbml
    except ImportError as exc:
        raise ImportError("SBML export needs python-libsbml: pip install 'reawaken[sbml]'") from exc
    return libsbml


def _unit_terms(text: str) -> list[tuple[str, int, int, float]]:
    """Parse a unit string such as ``(TCID50/mL)/(cell*d)`` into SBML unit terms."""
    if text.strip() in ("", "1"):
        return []
    py = re.sub(r"\b1\b", "one", text.replace("^", "**"))
    try:
        tree = ast.parse(py, mode="eval").body
    except SyntaxError:
        raise SpecError(f"cannot read unit {text!r} for SBML export") from None
    powers: dict[str, int] = defaultdict(int)

    def walk(node: ast.AST, sign: int) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            walk(node.left, sign)
            walk(node.right, sign)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            walk(node.left, sign)
            walk(node.right, -sign)
        elif isinstance(node, ast.Name) and node.id == "one":
            return
        elif isinstance(node, ast.Name) and node.id in _BASE:
            powers[node.id] += sign
        else:
            raise SpecError(f"unit {text!r}: unknown unit part {ast.dump(node)}; known: {', '.join(_BASE)}")

    walk(tree, 1)
    terms = []
    for name, exp in powers.items():
        if exp:
            kind, e, scale, mult = _BASE[name]
            terms.append((kind, e * exp, scale, mult))
    return terms


def _unit_id(text: str) -> str:
    if text.strip() in ("", "1"):
        return "dimensionless"
    slug = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
    return f"u_{slug}"


def _formula(text: str) -> str:
    rendered = to_infix(parse(text).tree)
    for ours, (theirs, _) in _FUNCTIONS.items():
        rendered = re.sub(rf"\b{ours}\(", f"{theirs}(", rendered)
    return re.sub(r"\bt\b", "time", rendered)


def _check(code: int, what: str) -> None:
    if code != 0:  # libsbml returns LIBSBML_OPERATION_SUCCESS (0) on success
        raise SpecError(f"SBML export failed while setting {what} (libsbml code {code})")


def _notes(text: str) -> str:
    return f'<body xmlns="http://www.w3.org/1999/xhtml"><p>{html.escape(text)}</p></body>'


def to_sbml(spec: ModelSpec, schedule: EventSchedule | None = None, *, model_id: str | None = None) -> str:
    """The SBML L3V2 document (XML text) for ``spec`` with ``schedule``'s events."""
    libsbml = _libsbml()
    schedule = schedule or EventSchedule()
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId(re.sub(r"\W", "_", model_id or spec.name))
    model.setTimeUnits("day")
    model.setSubstanceUnits("item")
    model.setExtentUnits("item")
    units = {"1", "d"} | {s.unit for s in spec.species} | {p.unit for p in spec.parameters} | {a.unit for a in spec.assignments}
    day = model.createUnitDefinition()
    day.setId("day")
    u = day.createUnit()
    u.setKind(libsbml.UNIT_KIND_SECOND)
    u.setExponent(1)
    u.setScale(0)
    u.setMultiplier(86400.0)
    for text in sorted(units):
        uid = _unit_id(text)
        if uid in ("dimensionless",) or model.getUnitDefinition(uid) is not None:
            continue
        ud = model.createUnitDefinition()
        ud.setId(uid)
        ud.setName(text)
        for kind, exp, scale, mult in _unit_terms(text):
            unit = ud.createUnit()
            unit.setKind(libsbml.UnitKind_forName(kind))
            unit.setExponent(exp)
            unit.setScale(scale)
            unit.setMultiplier(mult)
    comp = model.createCompartment()
    comp.setId("lung")
    comp.setSize(1.0)
    comp.setConstant(True)
    comp.setSpatialDimensions(3)
    comp.setUnits("litre")
    for ours, (theirs, math) in _FUNCTIONS.items():
        fd = model.createFunctionDefinition()
        fd.setId(theirs)
        fd.setName(ours)
        _check(fd.setMath(libsbml.parseL3Formula(math)), f"function {ours}")
    for s in spec.species:
        sp = model.createSpecies()
        sp.setId(s.name)
        sp.setCompartment("lung")
        sp.setInitialAmount(float(s.initial))
        sp.setHasOnlySubstanceUnits(True)
        sp.setBoundaryCondition(False)
        sp.setConstant(False)
        sp.setSubstanceUnits(_unit_id(s.unit))
        sp.setNotes(_notes(f"{s.doc} [{s.unit}]"))
    switched = {sw.parameter for sw in schedule.switches}
    for p in spec.parameters:
        par = model.createParameter()
        par.setId(p.name)
        par.setValue(float(p.value))
        par.setUnits(_unit_id(p.unit))
        par.setConstant(p.name not in switched)
        par.setNotes(_notes(f"{p.doc} Source: {p.source}".strip()))
        prior = "" if p.prior is None else f' prior_low="{p.prior[0]!r}" prior_high="{p.prior[1]!r}"'
        _check(par.setAnnotation(
            f'<reawaken:provenance xmlns:reawaken="{NS}" source="{html.escape(p.source, quote=True)}"'
            f' unit="{html.escape(p.unit, quote=True)}"{prior}/>'), f"annotation of {p.name}")
    for a in spec.assignments:
        par = model.createParameter()
        par.setId(a.name)
        par.setConstant(False)
        par.setUnits(_unit_id(a.unit))
        par.setNotes(_notes(a.doc))
        rule = model.createAssignmentRule()
        rule.setVariable(a.name)
        _check(rule.setMath(libsbml.parseL3Formula(_formula(a.expr))), f"rule {a.name}")
    for tr in spec.transitions:
        r = model.createReaction()
        r.setId(tr.name)
        r.setReversible(False)
        for name, n in tr.change.items():
            ref = r.createReactant() if n < 0 else r.createProduct()
            ref.setSpecies(name)
            ref.setStoichiometry(abs(n))
            ref.setConstant(True)
        species = set(spec.species_names)
        for name in sorted((parse(tr.rate).symbols & species) - set(tr.change)):
            mod = r.createModifier()
            mod.setSpecies(name)
        law = r.createKineticLaw()
        math = libsbml.parseL3Formula(_formula(tr.rate))
        if math is None:
            raise SpecError(f"cannot translate rate of {tr.name} to SBML: {tr.rate!r}")
        _check(law.setMath(math), f"kinetic law of {tr.name}")
        if tr.doc:
            r.setNotes(_notes(tr.doc))
    for i, time in enumerate(schedule.times):
        ev = model.createEvent()
        ev.setId(f"event_{i}")
        ev.setUseValuesFromTriggerTime(True)
        trig = ev.createTrigger()
        trig.setInitialValue(False)
        trig.setPersistent(True)
        trig.setMath(libsbml.parseL3Formula(f"time >= {time!r}"))
        labels = []
        for sw in (s for s in schedule.switches if s.time == time):
            ea = ev.createEventAssignment()
            ea.setVariable(sw.parameter)
            ea.setMath(libsbml.parseL3Formula(repr(float(sw.value))))
            labels.append(sw.label)
        factors: dict[str, float] = defaultdict(lambda: 1.0)
        amounts: dict[str, float] = defaultdict(float)
        for sc in (s for s in schedule.scales if s.time == time):
            factors[sc.species] *= sc.factor
            labels.append(sc.label)
        for j in (s for s in schedule.jumps if s.time == time):
            amounts[j.species] += j.amount
            labels.append(j.label)
        for name in sorted(set(factors) | set(amounts)):
            ea = ev.createEventAssignment()
            ea.setVariable(name)
            expr = f"{name} * {factors[name]!r}" if name in factors else name
            if name in amounts:
                expr = f"{expr} + {amounts[name]!r}"
            ea.setMath(libsbml.parseL3Formula(expr))
        ev.setName("; ".join(filter(None, labels))[:200])
    return libsbml.writeSBMLToString(doc)


def validate_sbml(text: str) -> list[str]:
    """libsbml consistency errors (severity error or fatal) of an SBML document; empty when valid."""
    libsbml = _libsbml()
    doc = libsbml.readSBMLFromString(text)
    doc.checkConsistency()
    return [
        doc.getError(i).getMessage().strip()
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]


def write_sbml(path: Path, spec: ModelSpec, schedule: EventSchedule | None = None, *, model_id: str | None = None) -> Path:
    """Write the SBML document atomically to ``path`` after validating it."""
    text = to_sbml(spec, schedule, model_id=model_id)
    errors = validate_sbml(text)
    if errors:
        raise SpecError(f"exported SBML is invalid: {errors[0]}")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    return path
