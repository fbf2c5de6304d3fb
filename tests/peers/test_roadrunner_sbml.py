"""SBML export checked by an independent simulator (design principle 13.4): libRoadRunner vs BatchDopri5.

Each scenario is exported with :func:`reawaken.io.sbml.to_sbml`, validated with libsbml, loaded in
libRoadRunner (CVODE, rtol 1e-10, atol 1e-12) and simulated to the horizon; reawaken integrates the same
spec and schedule with BatchDopri5 (rtol = atol = 1e-10). Both solutions carry errors far below 1e-6,
so a relative disagreement above 1e-4 on any species at a reported day can only come from a translation
error (a rate law, a unit-free mismatch of a function, an event applied at the wrong time or twice).
This is deterministic: no false alarms.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from reawaken.io.sbml import NS, to_sbml, validate_sbml
from reawaken.model import compile_model
from reawaken.scenarios import Antiviral, CD4Depletion, Scenario, Vaccinated, parse_intervention
from reawaken.solvers import BatchDopri5, simulate

roadrunner = pytest.importorskip("roadrunner")
libsbml = pytest.importorskip("libsbml")

REPORT_DAYS = (3.0, 6.0, 9.0, 15.0, 28.0, 60.0)
RTOL = 1e-4
FLOOR = 1e-6  # compare only values above FLOOR x the species' maximum (relative error of ~0 is noise)

SCENARIOS = {
    "mouse-influenza": (Scenario("mouse", "influenza"), 60.0),
    "mouse-sars2-anti-il6-day3": (
        Scenario("mouse", "sars-cov-2", interventions=(parse_intervention("anti-il6:day=3"),)), 60.0),
    "mouse-influenza-reinfection-cd4-depleted": (
        Scenario("mouse", "influenza", infection_days=(0.0, 60.0),
                 interventions=(CD4Depletion(start_day=1.0, end_day=20.0),)), 90.0),
    "human-influenza-vaccinated-antiviral": (
        Scenario("human", "influenza", interventions=(Vaccinated(), Antiviral())), 60.0),
}


def output_days(schedule_times: tuple[float, ...], horizon: float) -> np.ndarray:
    """Report days (and the same days after a later infection), the event-free days half a day either
    side of each, and every event time itself (values there are post-event in both tools)."""
    days = {0.0, horizon, *schedule_times}
    for d in REPORT_DAYS:
        for base in (0.0, 60.0) if horizon > 60.0 else (0.0,):
            for t in (base + d - 0.5, base + d, base + d + 0.5):
                if 0.0 < t <= horizon:
                    days.add(t)
    return np.array(sorted(d for d in days if d <= horizon))


@pytest.fixture(scope="module", params=list(SCENARIOS), ids=list(SCENARIOS))
def exported(request):
    scenario, horizon = SCENARIOS[request.param]
    spec, schedule = scenario.apply()
    return scenario, horizon, spec, schedule, to_sbml(spec, schedule)


def test_exported_sbml_is_valid(exported) -> None:
    *_, text = exported
    assert validate_sbml(text) == []
    doc = libsbml.readSBMLFromString(text)
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)


def test_roadrunner_reproduces_batch_dopri5(exported) -> None:
    _, horizon, spec, schedule, text = exported
    days = output_days(schedule.times, horizon)

    rr = roadrunner.RoadRunner(text)
    integrator = rr.getIntegrator()
    integrator.relative_tolerance = 1e-10
    integrator.absolute_tolerance = 1e-12
    # v2's stiff corners (the extinction gate near zero virus, fast IL-6 relaxation) need more than CVODE's
    # default 20,000 internal steps per output interval at these tolerances.
    integrator.maximum_num_steps = 1_000_000
    ids = list(rr.model.getFloatingSpeciesIds())
    assert sorted(ids) == sorted(spec.species_names)
    rr.timeCourseSelections = ["time", *ids]
    result = np.array(rr.simulate(times=days.tolist()))
    np.testing.assert_allclose(result[:, 0], days, rtol=0, atol=1e-12)

    model = compile_model(spec)
    ours = simulate(model, BatchDopri5(rtol=1e-10, atol=1e-10), t_eval=days, events=schedule)
    assert ours.ok().all()

    checked_days = np.isin(days, [d for d in days if d > 0])
    failures = []
    for k, name in enumerate(ids):
        theirs = result[:, 1 + k]
        mine = ours.sel(name)[0]
        scale = float(np.max(np.abs(mine)))
        mask = checked_days & (np.abs(mine) > FLOOR * scale)
        rel = np.abs(theirs[mask] - mine[mask]) / np.abs(mine[mask])
        if rel.size and rel.max() > RTOL:
            j = int(np.argmax(rel))
            failures.append(f"{name} on day {days[mask][j]:g}: roadrunner {theirs[mask][j]:.10g} vs "
                            f"reawaken {mine[mask][j]:.10g} (rel {rel[j]:.2g})")
    assert not failures, "; ".join(failures)


def test_units_are_declared(exported) -> None:
    *_, spec, _, text = exported
    model = libsbml.readSBMLFromString(text).getModel()
    unit_ids = {model.getUnitDefinition(i).getId() for i in range(model.getNumUnitDefinitions())}
    assert model.getNumUnitDefinitions() > 0
    assert model.getTimeUnits() == "day" and "day" in unit_ids

    def known(uid: str) -> bool:
        return uid in unit_ids or libsbml.UnitKind_isValidUnitKindString(uid, 3, 2)

    for p in spec.parameters:
        par = model.getParameter(p.name)
        assert par is not None, p.name
        assert par.isSetUnits(), f"parameter {p.name} has no units"
        assert known(par.getUnits()), f"parameter {p.name}: unit {par.getUnits()!r} is not defined"
    for i in range(model.getNumParameters()):  # assignment-rule parameters too
        assert model.getParameter(i).isSetUnits(), model.getParameter(i).getId()
    for s in spec.species:
        sp = model.getSpecies(s.name)
        assert sp.isSetSubstanceUnits() and known(sp.getSubstanceUnits()), s.name
    # A rate unit decodes to the right SI scale: 1/d is (86400 s)^-1.
    per_day = [model.getUnitDefinition(i) for i in range(model.getNumUnitDefinitions())
               if model.getUnitDefinition(i).getName() == "1/d"]
    assert len(per_day) == 1
    (u,) = [per_day[0].getUnit(j) for j in range(per_day[0].getNumUnits())]
    assert u.getKind() == libsbml.UNIT_KIND_SECOND and u.getExponent() == -1
    assert math.isclose(u.getMultiplier(), 86400.0)


def _provenance_source(par) -> str | None:
    ann = par.getAnnotation()
    if ann is None:
        return None
    for i in range(ann.getNumChildren()):
        child = ann.getChild(i)
        if child.getName() == "provenance" and child.getURI() == NS:
            return child.getAttrValue("source")
    return None


def _notes_text(par) -> str:
    root = ET.fromstring(par.getNotesString())
    return " ".join("".join(el.itertext()) for el in root.iter())


def test_parameter_sources_travel_with_the_model(exported) -> None:
    *_, spec, _, text = exported
    model = libsbml.readSBMLFromString(text).getModel()
    for p in spec.parameters:
        par = model.getParameter(p.name)
        assert _provenance_source(par) == p.source, f"{p.name}: annotation source differs"
        assert p.source in _notes_text(par), f"{p.name}: source missing from notes"
