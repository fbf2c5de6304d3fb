"""compile_model: stoichiometry, vectorised rates/RHS, generated kernel, assignments, event application."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from reawaken.errors import ParameterError
from reawaken.model import (
    Assignment,
    EventSchedule,
    ModelSpec,
    Parameter,
    ParameterSwitch,
    Species,
    StateJump,
    StateScale,
    Transition,
    compile_model,
    spec_hash,
)
from reawaken.model.expressions import FUNCTIONS
from reawaken.model.library import il6_dormancy_spec

SRC = "test fixture"


def _sir() -> ModelSpec:
    """S + I -> 2I (beta S I), I -> R (gamma I), S births (mu), plus a time-dependent import term."""
    return ModelSpec(
        "sir",
        (Species("S", "1", 990.0), Species("I", "1", 10.0), Species("R", "1", 0.0)),
        (
            Parameter("beta", 3e-4, "1/d", SRC),
            Parameter("gamma", 0.1, "1/d", SRC),
            Parameter("mu", 2.0, "1/d", SRC),
        ),
        (
            Transition("infection", {"S": -1, "I": 1}, "beta * S * I"),
            Transition("recovery", {"I": -1, "R": 1}, "gamma * I"),
            Transition("birth", {"S": 1}, "mu"),
            Transition("import", {"I": 2, "R": -1}, "R * exp(-t)"),
        ),
    )


@pytest.fixture(scope="module")
def sir():
    return compile_model(_sir())


@pytest.fixture(scope="module")
def il6():
    return compile_model(il6_dormancy_spec())


def test_stoichiometry_shape_and_entries(sir):
    assert sir.species == ("S", "I", "R")
    assert sir.transitions == ("infection", "recovery", "birth", "import")
    assert sir.stoich.shape == (3, 4)  # (n_species, n_transitions)
    expected = np.array(
        [
            [-1, 0, 1, 0],  # S
            [1, -1, 0, 2],  # I
            [0, 1, 0, -1],  # R
        ],
        dtype=float,
    )
    np.testing.assert_array_equal(sir.stoich, expected)


def test_arrays_and_hash(sir):
    np.testing.assert_array_equal(sir.y0, [990.0, 10.0, 0.0])
    np.testing.assert_array_equal(sir.p0, [3e-4, 0.1, 2.0])
    assert sir.hash == spec_hash(sir.spec)
    assert sir.n_species == 3 and sir.n_parameters == 3
    np.testing.assert_array_equal(sir.params_batch(4), np.tile(sir.p0, (4, 1)))


def test_rates_and_rhs_match_hand_formulas(sir):
    y = np.array([[990.0, 10.0, 5.0]])
    p = np.array([[3e-4, 0.1, 2.0]])
    t = 0.5
    inf_, rec, birth, imp = 3e-4 * 990 * 10, 0.1 * 10, 2.0, 5.0 * np.exp(-0.5)
    np.testing.assert_allclose(sir.rates(y, p, t), [[inf_, rec, birth, imp]], rtol=1e-15)
    # dS = -inf + birth, dI = inf - rec + 2 imp, dR = rec - imp
    np.testing.assert_allclose(sir.rhs(t, y, p), [[-inf_ + birth, inf_ - rec + 2 * imp, rec - imp]], rtol=1e-14)


def test_rhs_on_a_batch_equals_row_by_row(sir):
    rng = np.random.default_rng(3)
    y = rng.uniform(0, 1000, size=(7, 3))
    p = rng.uniform(0.01, 1.0, size=(7, 3))
    t = rng.uniform(0, 5, size=7)
    batch = sir.rhs(t, y, p)
    rows = np.vstack([sir.rhs(t[i], y[i : i + 1], p[i : i + 1]) for i in range(7)])
    assert batch.shape == (7, 3)
    np.testing.assert_allclose(batch, rows, rtol=1e-14, atol=0)


def test_il6_rhs_on_a_batch_equals_row_by_row(il6):
    rng = np.random.default_rng(5)
    y = il6.y0 * rng.uniform(0.5, 2.0, size=(5, il6.n_species)) + rng.uniform(0, 10, size=(5, il6.n_species))
    p = il6.params_batch(5)
    batch = il6.rhs(1.0, y, p)
    rows = np.vstack([il6.rhs(1.0, y[i : i + 1], p[i : i + 1]) for i in range(5)])
    np.testing.assert_allclose(batch, rows, rtol=1e-13, atol=0)
    assert np.all(np.isfinite(batch))


def test_kernel_source_uses_only_declared_names(il6):
    spec = il6.spec
    declared = (
        set(spec.species_names)
        | set(spec.parameter_names)
        | {a.name for a in spec.assignments}
        | {"t", "_y", "_p"}
        | {f"_f_{fn}" for fn in FUNCTIONS}
    )
    tree = ast.parse(il6.source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert names, "kernel source has no names at all"
    assert names <= declared, f"undeclared names in generated kernel: {sorted(names - declared)}"
    # no attribute access, subscripts only on the state/parameter arrays, no imports
    assert not any(isinstance(n, (ast.Attribute, ast.Import, ast.ImportFrom, ast.Lambda)) for n in ast.walk(tree))
    subscripted = {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Subscript)}
    assert subscripted == {"_y", "_p"}
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert calls <= {f"_f_{fn}" for fn in FUNCTIONS}


def test_assignment_il6_signal_equals_hand_hill_formula(il6):
    spec = il6.spec
    K, n = spec.parameter("K_il6").value, spec.parameter("n_il6").value
    imax, ic50 = spec.parameter("imax_ab").value, spec.parameter("ic50_ab").value
    il6_values = np.array([0.0, 5.0, 60.0, 120.0, 1000.0])
    antibody = np.array([0.0, 0.0, 0.0, 1.0, 9.0])
    y = np.tile(il6.y0, (5, 1))
    y[:, il6.species_index("il6")] = il6_values
    y[:, il6.species_index("antibody")] = antibody
    got = il6.assignment("il6_signal", y, il6.params_batch(5))
    # il6_signal = il6^n / (K^n + il6^n) * (1 - imax * ab / (ab + ic50))
    hill = il6_values**n / (K**n + il6_values**n)
    block = imax * antibody / (antibody + ic50)
    np.testing.assert_allclose(got, hill * (1 - block), rtol=1e-14, atol=1e-300)
    assert got[2] == pytest.approx(0.5)  # at il6 = K_il6 and no antibody the signal is one half


def test_constant_assignment_is_broadcast_to_the_batch():
    spec = ModelSpec(
        "const",
        (Species("X", "1", 1.0),),
        (Parameter("k", 2.0, "1/d", SRC),),
        (Transition("in", {"X": 1}, "c"), Transition("out", {"X": -1}, "k * X")),
        assignments=(Assignment("c", "3.5"),),
    )
    m = compile_model(spec)
    y = np.array([[1.0], [2.0], [4.0]])
    np.testing.assert_array_equal(m.assignment("c", y, m.params_batch(3)), [3.5, 3.5, 3.5])
    np.testing.assert_allclose(m.rhs(0.0, y, m.params_batch(3))[:, 0], 3.5 - 2.0 * y[:, 0])


def test_unknown_names_raise_parameter_error_listing_known(il6):
    with pytest.raises(ParameterError, match="unknown assignment 'il6_sig'; known: il6_block, il6_signal"):
        il6.assignment("il6_sig", il6.y0[None, :], il6.params_batch())
    with pytest.raises(ParameterError, match="unknown species 'IL6'"):
        il6.species_index("IL6")
    with pytest.raises(ParameterError, match="unknown parameter 'kwake'"):
        il6.parameter_index("kwake")


def test_apply_events_in_place(sir):
    sched = EventSchedule(
        jumps=(StateJump(1.0, "I", 5.0),),
        scales=(StateScale(1.0, "I", 0.5), StateScale(2.0, "S", 0.0)),
        switches=(ParameterSwitch(1.0, "gamma", 0.3),),
    )
    y = np.array([[100.0, 10.0, 0.0], [200.0, 20.0, 0.0]])
    p = sir.params_batch(2)
    sir.apply_jumps(y, sched, 1.0)
    sir.apply_switches(p, sched, 1.0)
    # scale first, then jump: I = 10 * 0.5 + 5, 20 * 0.5 + 5; the day-2 scale does not fire at day 1
    np.testing.assert_array_equal(y, [[100.0, 10.0, 0.0], [200.0, 15.0, 0.0]])
    np.testing.assert_array_equal(p[:, 1], [0.3, 0.3])
    y2 = np.array([[100.0, 10.0, 0.0], [200.0, 20.0, 0.0]])
    sir.apply_jumps(y2, sched, 1.0, rows=np.array([1]))
    np.testing.assert_array_equal(y2[:, 1], [10.0, 15.0])


def test_power_operator_compiles_to_a_power():
    """Regression: ``**`` must compile to a power (found at 89bdba8 rendered as ``^``, Python's XOR,
    so every ``rhs`` call of a model using ``**`` raised TypeError)."""
    spec = ModelSpec(
        "square",
        (Species("X", "1", 2.0),),
        (Parameter("k", 0.5, "1/d", SRC),),
        (Transition("loss", {"X": -1}, "k * X ** 2"),),
    )
    m = compile_model(spec)
    y = np.array([[2.0], [3.0]])
    # dX/dt = -k X^2
    np.testing.assert_allclose(m.rhs(0.0, y, m.params_batch(2)), -0.5 * y**2, rtol=1e-15)


def test_infinite_literal_compiles():
    """Regression: a non-finite literal must compile (found at 89bdba8 rendered as the bare name ``inf``:
    a NameError in the builtin-free kernel, or a silent reference to a user symbol called ``inf``)."""
    spec = ModelSpec(
        "inflit",
        (Species("X", "1", 1.0),),
        (Parameter("k", 0.5, "1/d", SRC),),
        (Transition("loss", {"X": -1}, "k * X / 1e999 + k * X"),),
    )
    m = compile_model(spec)
    np.testing.assert_allclose(m.rhs(0.0, np.array([[2.0]]), m.params_batch()), [[-1.0]])


def test_infinite_literal_is_not_captured_by_a_user_symbol_named_inf():
    spec = ModelSpec(
        "infname",
        (Species("X", "1", 1.0),),
        (Parameter("k", 0.5, "1/d", SRC), Parameter("inf", 4.0, "1", SRC)),
        (Transition("loss", {"X": -1}, "k * X + X / 1e999 * inf"),),
    )
    m = compile_model(spec)
    # X / 1e999 = X / infinity = 0, whatever the parameter called "inf" holds: dX/dt = -k X
    np.testing.assert_allclose(m.rhs(0.0, np.array([[2.0]]), m.params_batch()), [[-1.0]])
