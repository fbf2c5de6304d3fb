"""ModelSpec construction is validated once (check_spec); with_values/with_initial return new specs."""

from __future__ import annotations

import math

import pytest

from reawaken.errors import ParameterError, SpecError
from reawaken.model import Assignment, ModelSpec, Parameter, Species, Transition

SRC = "test fixture"


def _spec(species=None, parameters=None, transitions=None, assignments=()):
    """A small valid model (A -> B at rate k*A, B decays) that tests then break one piece at a time."""
    return ModelSpec(
        name="tiny",
        species=species if species is not None else (Species("A", "cells", 10.0), Species("B", "cells", 0.0)),
        parameters=parameters
        if parameters is not None
        else (Parameter("k", 0.5, "1/d", SRC, (0.0, 10.0)), Parameter("d", 0.1, "1/d", SRC, (0.0, 1.0), (0.05, 0.2))),
        transitions=transitions
        if transitions is not None
        else (Transition("conv", {"A": -1, "B": 1}, "k * A"), Transition("decay", {"B": -1}, "d * B")),
        assignments=assignments,
    )


def test_valid_spec_builds():
    spec = _spec()
    assert spec.species_names == ("A", "B")
    assert spec.parameter_names == ("k", "d")
    assert spec.parameter("d").value == 0.1


# ----------------------------------------------------------------------------------------------- names


def test_duplicate_species_names():
    with pytest.raises(SpecError, match="name 'A' is used by a species and a species"):
        _spec(species=(Species("A", "cells"), Species("A", "cells")))


def test_species_and_parameter_share_a_name():
    with pytest.raises(SpecError, match="name 'k' is used by a species and a parameter"):
        _spec(species=(Species("A", "cells"), Species("B", "cells"), Species("k", "cells")))


def test_duplicate_transition_names():
    with pytest.raises(SpecError, match="transition name 'conv' is used twice"):
        _spec(transitions=(Transition("conv", {"A": -1}, "k * A"), Transition("conv", {"B": -1}, "d * B")))


@pytest.mark.parametrize("name", ["lambda", "import", "if", "None", "True"])
def test_python_keyword_as_name_is_reserved(name):
    with pytest.raises(SpecError, match=rf"species name '{name}' is reserved"):
        _spec(species=(Species(name, "cells"), Species("A", "cells"), Species("B", "cells")))


@pytest.mark.parametrize("name", ["t", "exp", "hill", "pos", "min"])
def test_time_and_function_names_are_reserved(name):
    with pytest.raises(SpecError, match=rf"parameter name '{name}' is reserved"):
        _spec(parameters=(Parameter("k", 0.5, "1/d", SRC), Parameter("d", 0.1, "1/d", SRC),
                          Parameter(name, 1.0, "1", SRC)))


@pytest.mark.parametrize("name", ["_hidden", "__import__", "_y", "2x", "a-b", "a b", ""])
def test_names_must_be_identifiers_not_starting_with_underscore(name):
    with pytest.raises(SpecError, match="is not a valid identifier"):
        _spec(species=(Species(name, "cells"), Species("A", "cells"), Species("B", "cells")))


def test_no_species():
    with pytest.raises(SpecError, match="has no species"):
        _spec(species=(), transitions=())


# ----------------------------------------------------------------------------------------------- symbols


def test_unknown_symbol_in_rate_is_named():
    with pytest.raises(SpecError, match=r"transition conv: unknown symbol\(s\) \['k_typo'\]"):
        _spec(transitions=(Transition("conv", {"A": -1, "B": 1}, "k_typo * A"),))


def test_rate_may_use_time():
    spec = _spec(transitions=(Transition("conv", {"A": -1, "B": 1}, "k * A * exp(-t)"),))
    assert spec.transitions[0].rate == "k * A * exp(-t)"


def test_bad_expression_in_rate_is_an_expression_error_naming_the_transition():
    with pytest.raises(SpecError, match="transition conv: 'A.real' is not allowed"):
        _spec(transitions=(Transition("conv", {"A": -1, "B": 1}, "k * A.real"),))


def test_assignments_resolve_in_order():
    ok = _spec(assignments=(Assignment("x1", "k * A"), Assignment("x2", "x1 + d")),
               transitions=(Transition("conv", {"A": -1, "B": 1}, "x2 * A"),))
    assert [a.name for a in ok.assignments] == ["x1", "x2"]
    with pytest.raises(SpecError, match=r"assignment x1: unknown symbol\(s\) \['x2'\]"):
        _spec(assignments=(Assignment("x1", "x2 * A"), Assignment("x2", "k")))


def test_assignment_cannot_reference_itself():
    with pytest.raises(SpecError, match=r"assignment x: unknown symbol\(s\) \['x'\]"):
        _spec(assignments=(Assignment("x", "x + 1"),))


# ----------------------------------------------------------------------------------------------- stoichiometry


@pytest.mark.parametrize("n", [0, 1.5, 1.0, True, "1"])
def test_stoichiometry_must_be_nonzero_int(n):
    with pytest.raises(SpecError, match="stoichiometry of A must be a non-zero int"):
        _spec(transitions=(Transition("conv", {"A": n}, "k * A"),))


def test_stoichiometry_unknown_species():
    with pytest.raises(SpecError, match=r"transition conv changes unknown species 'C'; known: \['A', 'B'\]"):
        _spec(transitions=(Transition("conv", {"A": -1, "C": 1}, "k * A"),))


def test_transition_with_no_change():
    with pytest.raises(SpecError, match="transition conv changes no species"):
        _spec(transitions=(Transition("conv", {}, "k * A"),))


# ----------------------------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("value", [-0.1, 10.5, math.inf, math.nan])
def test_parameter_value_outside_bounds(value):
    with pytest.raises(SpecError, match=r"parameter k=.* lies outside its bounds \[0.0, 10.0\]"):
        _spec(parameters=(Parameter("k", value, "1/d", SRC, (0.0, 10.0)), Parameter("d", 0.1, "1/d", SRC)))


def test_parameter_bounds_must_be_ordered():
    with pytest.raises(SpecError, match="bounds .* are not ordered"):
        _spec(parameters=(Parameter("k", 0.5, "1/d", SRC, (1.0, 0.0)), Parameter("d", 0.1, "1/d", SRC)))


@pytest.mark.parametrize("source", ["", "   "])
def test_parameter_source_is_required(source):
    with pytest.raises(SpecError, match="parameter k has no source; cite a reference"):
        _spec(parameters=(Parameter("k", 0.5, "1/d", source), Parameter("d", 0.1, "1/d", SRC)))


@pytest.mark.parametrize("prior", [(-1.0, 1.0), (0.5, 11.0), (2.0, 1.0)])
def test_prior_must_be_ordered_and_inside_bounds(prior):
    with pytest.raises(SpecError, match=r"parameter k: prior .* must be ordered and inside bounds"):
        _spec(parameters=(Parameter("k", 0.5, "1/d", SRC, (0.0, 10.0), prior), Parameter("d", 0.1, "1/d", SRC)))


def test_prior_range_defaults_to_the_value():
    spec = _spec()
    assert spec.parameter("k").prior_range == (0.5, 0.5)
    assert spec.parameter("d").prior_range == (0.05, 0.2)


@pytest.mark.parametrize("initial", [-1.0, math.nan, math.inf])
def test_species_initial_must_be_finite_nonnegative(initial):
    with pytest.raises(SpecError, match="species A: initial value .* must be finite and >= 0"):
        _spec(species=(Species("A", "cells", initial), Species("B", "cells")))


def test_spec_error_is_also_a_value_error():
    with pytest.raises(ValueError):
        _spec(species=(Species("lambda", "cells"),))


def test_unknown_parameter_lookup_hints_close_names():
    with pytest.raises(ParameterError, match=r"unknown parameter 'kk'; did you mean k\?"):
        _spec().parameter("kk")


# ----------------------------------------------------------------------------------------------- with_values


def test_with_values_returns_new_spec_and_leaves_original_untouched():
    spec = _spec()
    new = spec.with_values({"k": 2.0}, source="fit 2024")
    assert new is not spec
    assert new.parameter("k").value == 2.0
    assert new.parameter("k").source == "fit 2024"
    assert spec.parameter("k").value == 0.5  # untouched
    assert spec.parameter("k").source == SRC
    assert new.parameter("d") == spec.parameter("d")
    assert new != spec
    assert spec == _spec()


def test_with_values_same_value_keeps_source():
    spec = _spec()
    assert spec.with_values({"k": 0.5}, source="other").parameter("k").source == SRC


def test_with_values_unknown_name_hints_did_you_mean():
    with pytest.raises(ParameterError, match=r"unknown parameter 'kk'; did you mean k\?"):
        _spec().with_values({"kk": 1.0})


def test_with_values_unknown_name_without_close_match_lists_known():
    with pytest.raises(ParameterError, match=r"unknown parameter 'zzzzzz'; known parameters: k, d"):
        _spec().with_values({"zzzzzz": 1.0})


@pytest.mark.parametrize("value", [-1.0, 10.01, math.nan, math.inf])
def test_with_values_out_of_bounds(value):
    with pytest.raises(ParameterError, match=r"parameter k=.* is outside its bounds \[0.0, 10.0\]"):
        _spec().with_values({"k": value})


def test_parameter_error_is_a_value_error():
    with pytest.raises(ValueError):
        _spec().with_values({"k": -1.0})


def test_with_initial_returns_new_spec():
    spec = _spec()
    new = spec.with_initial({"B": 3.0})
    assert new.species[1].initial == 3.0
    assert spec.species[1].initial == 0.0
    with pytest.raises(ParameterError, match="unknown species 'C'"):
        spec.with_initial({"C": 1.0})
    with pytest.raises(ParameterError, match="initial value of A must be a finite number >= 0"):
        spec.with_initial({"A": -2.0})


def test_specs_are_frozen():
    spec = _spec()
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.transitions[0].change["A"] = 5  # type: ignore[index]
