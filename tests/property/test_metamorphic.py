"""Metamorphic properties (design principle 13.6): relabelling or rescaling a model must not change its
solution. Rate constants are drawn from a seeded generator; each property is exact up to the solver's
tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from reawaken.model import ModelSpec, Parameter, Species, Transition, compile_model
from reawaken.solvers import BatchDopri5, JitDopri5, simulate

SOLVER = BatchDopri5(rtol=1e-9, atol=1e-12)
_RNG = np.random.default_rng(20261123)
CASES = [tuple(float(x) for x in _RNG.uniform(0.05, 2.0, 4)) for _ in range(4)]


def awakening_model(a: float, b: float, d: float, k: float, order: tuple[int, ...] = (0, 1, 2)) -> ModelSpec:
    """Dormant -> awakened (a), logistic birth (b, capacity k*100), death (d), return to a primed pool (0.3)."""
    species = [Species("D", "cells", 100.0), Species("A", "cells", 0.0), Species("P", "cells", 0.0)]
    return ModelSpec(
        "meta",
        tuple(species[i] for i in order),
        (Parameter("a", a, "1/d", "test"), Parameter("b", b, "1/d", "test"), Parameter("d", d, "1/d", "test"),
         Parameter("cap", 100.0 * (1.0 + k), "cells", "test")),
        (Transition("wake", {"D": -1, "A": 1}, "a * D"),
         Transition("birth", {"A": 1}, "b * A * pos(1 - (A + P) / cap)"),
         Transition("death", {"A": -1}, "d * A"),
         Transition("rest", {"A": -1, "P": 1}, "0.3 * A")),
    )


@pytest.mark.parametrize("order", [(1, 0, 2), (2, 1, 0), (1, 2, 0)])
@pytest.mark.parametrize("a, b, d, k", CASES)
def test_species_order_does_not_matter(a, b, d, k, order):
    base = simulate(compile_model(awakening_model(a, b, d, k)), SOLVER, t_eval=np.linspace(0, 10, 11))
    perm = simulate(compile_model(awakening_model(a, b, d, k, tuple(order))), SOLVER, t_eval=np.linspace(0, 10, 11))
    for name in ("D", "A", "P"):
        np.testing.assert_allclose(perm.sel(name), base.sel(name), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("c", [0.1, 24.0, 7.0])
@pytest.mark.parametrize("a, b, d, k", CASES)
def test_rescaling_time_units_with_rates(a, b, d, k, c):
    """Rates in 1/day vs 1/(c days): multiplying every rate by c and dividing time by c gives the same
    states (the constant 0.3 is a rate too, so it is moved into a parameter here)."""
    def spec(scale: float) -> ModelSpec:
        m = awakening_model(a * scale, b * scale, d * scale, k)
        tr = list(m.transitions)
        tr[3] = Transition("rest", {"A": -1, "P": 1}, f"{0.3 * scale!r} * A")
        return ModelSpec(m.name, m.species, m.parameters, tuple(tr))

    t = np.linspace(0, 10, 6)
    slow = simulate(compile_model(spec(1.0)), SOLVER, t_eval=t)
    fast = simulate(compile_model(spec(c)), SOLVER, t_eval=t / c)
    np.testing.assert_allclose(fast.values, slow.values, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("n", [2, 5])
@pytest.mark.parametrize("a, b, d, k", CASES)
def test_duplicating_batch_rows_duplicates_results(a, b, d, k, n):
    """BatchDopri5 vectorises over rows with NumPy/BLAS, whose summation order may change with the batch
    shape: equal to round-off (1e-12). JitDopri5 integrates each row in scalar code: bit-identical."""
    model = compile_model(awakening_model(a, b, d, k))
    t = np.linspace(0, 5, 6)
    one = simulate(model, SOLVER, t_eval=t)
    many = simulate(model, SOLVER, params=np.tile(model.p0, (n, 1)), t_eval=t)
    for row in range(n):
        np.testing.assert_allclose(many.values[row], one.values[0], rtol=1e-12, atol=1e-12)
    jit = JitDopri5(rtol=1e-9, atol=1e-12)
    one_jit = simulate(model, jit, t_eval=t)
    params = np.tile(model.p0, (n + 1, 1))
    params[0, model.parameter_index("b")] *= 2.0  # a different neighbour row must not matter either
    many_jit = simulate(model, jit, params=params, t_eval=t)
    for row in range(1, n + 1):
        np.testing.assert_array_equal(many_jit.values[row], one_jit.values[0])


def test_jit_solver_gives_the_same_rows_with_or_without_threads():
    """Threads only change which core integrates a row, never the row's arithmetic: bit-identical."""
    model = compile_model(awakening_model(*CASES[0]))
    t = np.linspace(0, 5, 6)
    params = np.tile(model.p0, (7, 1))
    params[:, model.parameter_index("b")] *= np.linspace(0.5, 2.0, 7)
    threaded = simulate(model, JitDopri5(rtol=1e-9, atol=1e-12), params=params, t_eval=t)
    serial = simulate(model, JitDopri5(rtol=1e-9, atol=1e-12, threads=False), params=params, t_eval=t)
    np.testing.assert_array_equal(threaded.values, serial.values)
