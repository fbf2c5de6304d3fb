"""JSON round trip and the content hash that goes into every manifest."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from reawaken.errors import SpecError
from reawaken.model import ModelSpec, Parameter, Species, Transition, spec_from_json, spec_hash, spec_to_json
from reawaken.model.library import il6_dormancy_spec


@pytest.fixture(scope="module")
def library_spec() -> ModelSpec:
    return il6_dormancy_spec()


def test_library_spec_round_trips_to_an_equal_spec_with_the_same_hash(library_spec):
    text = spec_to_json(library_spec)
    back = spec_from_json(text)
    assert back == library_spec
    assert spec_hash(back) == spec_hash(library_spec)
    # the serialised form is canonical: a second round trip gives the same text
    assert spec_to_json(back) == text


def test_round_trip_keeps_every_field(library_spec):
    back = spec_from_json(spec_to_json(library_spec))
    assert back.species == library_spec.species
    assert back.parameters == library_spec.parameters
    assert back.assignments == library_spec.assignments
    assert back.transitions == library_spec.transitions
    assert back.doc == library_spec.doc
    # infinite bounds survive (they are written as the string "inf", JSON has no infinity)
    assert back.parameter("beta").bounds == (0.0, math.inf)


def test_infinite_bounds_are_written_as_strict_json(library_spec):
    data = json.loads(spec_to_json(library_spec), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    beta = next(p for p in data["parameters"] if p["name"] == "beta")
    assert beta["bounds"] == [0.0, "inf"]


def test_hash_is_deterministic_and_short_hex(library_spec):
    h = spec_hash(library_spec)
    assert h == spec_hash(il6_dormancy_spec())
    assert len(h) == 16 and int(h, 16) >= 0


def test_changing_a_parameter_value_changes_the_hash(library_spec):
    changed = library_spec.with_values({"k_wake": 1.5})
    assert spec_hash(changed) != spec_hash(library_spec)


def test_changing_a_rate_changes_the_hash(library_spec):
    transitions = tuple(
        dataclasses.replace(t, rate="2 * " + t.rate) if t.name == "awakening" else t for t in library_spec.transitions
    )
    changed = dataclasses.replace(library_spec, transitions=transitions)
    assert spec_hash(changed) != spec_hash(library_spec)


def test_changing_an_initial_value_changes_the_hash(library_spec):
    assert spec_hash(library_spec.with_initial({"dormant": 50.0})) != spec_hash(library_spec)


def test_changing_only_sources_and_docs_keeps_the_hash(library_spec):
    params = tuple(dataclasses.replace(p, source="re-cited: " + p.source, doc="new doc") for p in library_spec.parameters)
    species = tuple(dataclasses.replace(s, doc="other words") for s in library_spec.species)
    transitions = tuple(dataclasses.replace(t, doc="documented") for t in library_spec.transitions)
    assignments = tuple(dataclasses.replace(a, doc="explained") for a in library_spec.assignments)
    changed = dataclasses.replace(
        library_spec, parameters=params, species=species, transitions=transitions, assignments=assignments,
        doc="a different module docstring",
    )
    assert changed != library_spec  # the spec did change ...
    assert spec_hash(changed) == spec_hash(library_spec)  # ... but nothing that changes results


def test_with_values_to_the_same_value_keeps_the_hash(library_spec):
    assert spec_hash(library_spec.with_values({"k_wake": library_spec.parameter("k_wake").value})) == spec_hash(
        library_spec
    )


def test_invalid_json_is_a_spec_error():
    with pytest.raises(SpecError, match="model file is not valid JSON"):
        spec_from_json("{not json")


def test_missing_field_is_a_spec_error(library_spec):
    data = json.loads(spec_to_json(library_spec))
    del data["parameters"][0]["source"]
    with pytest.raises(SpecError, match="missing or has a malformed field"):
        spec_from_json(json.dumps(data))


def test_invalid_content_in_json_is_rejected_by_validation(library_spec):
    data = json.loads(spec_to_json(library_spec))
    data["transitions"][0]["rate"] = "__import__('os')"
    with pytest.raises(SpecError, match="unknown function '__import__'"):
        spec_from_json(json.dumps(data))


def test_hash_survives_round_trip_of_a_spec_written_with_integer_numbers():
    """Regression: the hash must be canonical in int vs float.

    ``Parameter("k", 1, ...)`` with bounds ``(0, 10)`` equals its JSON round trip (1 == 1.0); the hash must
    agree too, or the manifest hash of a saved-and-reloaded model differs from the original's. (Found
    failing at 89bdba8: ``spec_to_dict`` wrote the numbers as given, ``spec_from_dict`` read floats.)
    """
    spec = ModelSpec(
        "ints",
        (Species("X", "cells", 1.0),),
        (Parameter("k", 1, "1/d", "test", (0, 10)),),
        (Transition("decay", {"X": -1}, "k * X"),),
    )
    back = spec_from_json(spec_to_json(spec))
    assert back == spec
    assert spec_hash(back) == spec_hash(spec)
