"""Analytic references (design principle 13, level 1-2): decay, logistic, a linear system vs expm,
convergence in rtol, and events with piecewise closed forms. Both ODE solvers are held to the same truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from reawaken.model import (
    EventSchedule,
    ModelSpec,
    Parameter,
    ParameterSwitch,
    Species,
    StateJump,
    StateScale,
    Transition,
    compile_model,
)
from reawaken.solvers import BatchDopri5, ScipyODE, Status, simulate

SRC = "analytic test problem"

SOLVERS = {
    "dopri5": BatchDopri5(rtol=1e-8, atol=1e-12),
    "radau": ScipyODE("Radau", rtol=1e-10, atol=1e-12),
}


def _rel_err(got: np.ndarray, exact: np.ndarray) -> float:
    return float(np.max(np.abs(got - exact) / np.abs(exact)))


@pytest.fixture(scope="module")
def decay():
    """X' = -k X."""
    return compile_model(
        ModelSpec("decay", (Species("X", "cells", 5.0),), (Parameter("k", 0.7, "1/d", SRC),),
                  (Transition("decay", {"X": -1}, "k * X"),))
    )


@pytest.fixture(scope="module")
def logistic():
    """X' = r X (1 - X/K)."""
    return compile_model(
        ModelSpec(
            "logistic",
            (Species("X", "cells", 0.1),),
            (Parameter("r", 1.0, "1/d", SRC), Parameter("K", 10.0, "cells", SRC)),
            (Transition("growth", {"X": 1}, "r * X * (1 - X / K)"),),
        )
    )


def _logistic_exact(t, x0=0.1, r=1.0, K=10.0):
    # X(t) = K / (1 + (K/X0 - 1) exp(-r t))
    return K / (1.0 + (K / x0 - 1.0) * np.exp(-r * t))


@pytest.fixture(scope="module")
def linear3():
    """A closed 3-species linear network with a sink: y' = M y."""
    return compile_model(
        ModelSpec(
            "linear3",
            (Species("A", "1", 1.0), Species("B", "1", 0.5), Species("C", "1", 0.0)),
            (
                Parameter("k1", 1.3, "1/d", SRC),
                Parameter("k2", 0.4, "1/d", SRC),
                Parameter("k3", 0.25, "1/d", SRC),
                Parameter("k4", 0.6, "1/d", SRC),
                Parameter("k5", 0.05, "1/d", SRC),
            ),
            (
                Transition("a_to_b", {"A": -1, "B": 1}, "k1 * A"),
                Transition("b_to_c", {"B": -1, "C": 1}, "k2 * B"),
                Transition("c_to_a", {"C": -1, "A": 1}, "k3 * C"),
                Transition("b_to_a", {"B": -1, "A": 1}, "k4 * B"),
                Transition("c_loss", {"C": -1}, "k5 * C"),
            ),
        )
    )


LINEAR_M = np.array(
    [
        # dA = -k1 A + k4 B + k3 C ; dB = k1 A - (k2 + k4) B ; dC = k2 B - (k3 + k5) C
        [-1.3, 0.6, 0.25],
        [1.3, -(0.4 + 0.6), 0.0],
        [0.0, 0.4, -(0.25 + 0.05)],
    ]
)


# ----------------------------------------------------------------------------------------- (a)-(c) accuracy


@pytest.mark.parametrize("solver", SOLVERS.values(), ids=SOLVERS.keys())
def test_exponential_decay(decay, solver):
    t = np.linspace(0.0, 10.0, 21)
    # rates chosen so X stays >> atol (relative error of values near atol is not controlled)
    k = np.array([[0.7], [0.05], [0.3]])
    traj = simulate(decay, solver, [5.0], k, t_eval=t)
    exact = 5.0 * np.exp(-k * t[None, :])  # X(t) = X0 exp(-k t)
    assert np.all(traj.ok())
    assert _rel_err(traj.sel("X"), exact) < 1e-6


@pytest.mark.parametrize("solver", SOLVERS.values(), ids=SOLVERS.keys())
def test_logistic_growth(logistic, solver):
    t = np.linspace(0.0, 15.0, 31)
    traj = simulate(logistic, solver, t_eval=t)
    assert _rel_err(traj.sel("X")[0], _logistic_exact(t)) < 1e-6
    x = traj.sel("X")[0]
    assert np.all(np.diff(x) > 0) and x[-1] < 10.0  # increases towards, never past, the capacity K


@pytest.mark.parametrize("solver", SOLVERS.values(), ids=SOLVERS.keys())
def test_linear_system_matches_matrix_exponential(linear3, solver):
    y0 = np.array([1.0, 0.5, 0.0])
    # the compiled RHS is exactly M y
    np.testing.assert_allclose(linear3.rhs(0.0, np.eye(3), linear3.params_batch(3)), LINEAR_M.T, rtol=1e-15)
    t = np.linspace(0.0, 8.0, 17)
    traj = simulate(linear3, solver, y0, t_eval=t)
    exact = np.array([expm(LINEAR_M * ti) @ y0 for ti in t])  # y(t) = expm(M t) y0
    got = traj.values[0]
    mask = exact > 0  # C(0) = 0 exactly
    assert _rel_err(got[mask], exact[mask]) < 1e-6
    assert got[0, 2] == 0.0


# ----------------------------------------------------------------------------------------- (d) convergence


def test_dopri_error_and_work_scale_with_rtol(logistic):
    t = np.linspace(0.0, 12.0, 25)
    exact = _logistic_exact(t)
    rtols = np.array([1e-4, 1e-6, 1e-8])
    errors, steps = [], []
    for rtol in rtols:
        traj = simulate(logistic, BatchDopri5(rtol=rtol, atol=rtol * 1e-3), t_eval=t)
        errors.append(_rel_err(traj.sel("X")[0], exact))
        steps.append(traj.stats["steps"])
    assert errors[0] > errors[1] > errors[2], errors
    assert errors[0] < 1e-2 and errors[2] < 1e-6, errors
    # DP5 controls a 4th-order error estimate per step, so h ~ rtol^(1/5) and steps ~ rtol^(-1/5).
    slope = -np.polyfit(np.log(rtols), np.log(steps), 1)[0]
    assert 0.1 < slope < 0.35, (slope, steps)


# ----------------------------------------------------------------------------------------- (e) events


@pytest.mark.parametrize("solver", SOLVERS.values(), ids=SOLVERS.keys())
def test_state_jump_gives_piecewise_solution_and_post_jump_value_at_event_time(decay, solver):
    t = np.linspace(0.0, 4.0, 9)  # contains t = 1.0 exactly
    amount, k, x0 = 3.0, 0.7, 5.0
    traj = simulate(decay, solver, t_eval=t, events=EventSchedule(jumps=(StateJump(1.0, "X", amount),)))
    # X = x0 e^{-kt} for t < 1;  X(1+) = x0 e^{-k} + amount;  X = X(1+) e^{-k (t-1)} for t >= 1
    x1 = x0 * np.exp(-k) + amount
    exact = np.where(t < 1.0, x0 * np.exp(-k * t), x1 * np.exp(-k * (t - 1.0)))
    got = traj.sel("X")[0]
    assert _rel_err(got, exact) < 1e-6
    i1 = int(np.flatnonzero(t == 1.0)[0])
    assert got[i1] == pytest.approx(x1, rel=1e-8)  # the reported value AT the event time is post-jump
    assert got[i1 - 1] == pytest.approx(x0 * np.exp(-k * t[i1 - 1]), rel=1e-8)


@pytest.mark.parametrize("solver", SOLVERS.values(), ids=SOLVERS.keys())
def test_event_between_output_times(decay, solver):
    t = np.array([0.0, 1.0, 2.0, 3.0])
    traj = simulate(decay, solver, t_eval=t, events=EventSchedule(jumps=(StateJump(1.5, "X", 1.0),)))
    # X(2) = (5 e^{-1.05} + 1) e^{-0.35};  X(3) = X(2) e^{-0.7}
    x2 = (5.0 * np.exp(-0.7 * 1.5) + 1.0) * np.exp(-0.7 * 0.5)
    exact = np.array([5.0, 5.0 * np.exp(-0.7), x2, x2 * np.exp(-0.7)])
    assert _rel_err(traj.sel("X")[0], exact) < 1e-6


@pytest.mark.parametrize("solver", SOLVERS.values(), ids=SOLVERS.keys())
def test_parameter_switch_changes_rate(decay, solver):
    t = np.linspace(0.0, 6.0, 13)
    k1, k2, x0 = 0.7, 0.1, 5.0
    traj = simulate(decay, solver, t_eval=t, events=EventSchedule(switches=(ParameterSwitch(2.0, "k", k2),)))
    # X = x0 e^{-k1 t} for t <= 2, then x0 e^{-2 k1} e^{-k2 (t - 2)}
    exact = np.where(t <= 2.0, x0 * np.exp(-k1 * t), x0 * np.exp(-2 * k1) * np.exp(-k2 * (t - 2.0)))
    assert _rel_err(traj.sel("X")[0], exact) < 1e-6


def test_switch_scale_and_jump_at_one_time_apply_in_order(decay):
    t = np.array([0.0, 1.0, 2.0])
    sched = EventSchedule(
        jumps=(StateJump(1.0, "X", 2.0),), scales=(StateScale(1.0, "X", 0.5),), switches=(ParameterSwitch(1.0, "k", 0.2),)
    )
    traj = simulate(decay, SOLVERS["dopri5"], t_eval=t, events=sched)
    # scale, then jump: X(1+) = 0.5 * 5 e^{-0.7} + 2; then decay at the switched k = 0.2
    x1 = 0.5 * 5.0 * np.exp(-0.7) + 2.0
    assert _rel_err(traj.sel("X")[0], np.array([5.0, x1, x1 * np.exp(-0.2)])) < 1e-8


def test_event_at_start_time_applies_before_the_first_output(decay):
    traj = simulate(decay, SOLVERS["dopri5"], t_eval=[0.0, 1.0],
                    events=EventSchedule(jumps=(StateJump(0.0, "X", 1.0),)))
    # X(0) = 5 + 1; X(1) = 6 e^{-0.7}
    np.testing.assert_allclose(traj.sel("X")[0], [6.0, 6.0 * np.exp(-0.7)], rtol=1e-8)


@pytest.mark.parametrize("solver", SOLVERS.values(), ids=SOLVERS.keys())
def test_per_row_schedules_give_each_row_its_own_solution(decay, solver):
    t = np.linspace(0.0, 5.0, 11)
    x0 = 5.0
    schedules = [
        EventSchedule(),  # row 0: plain decay, k = 0.7
        EventSchedule(jumps=(StateJump(1.0, "X", 4.0),)),  # row 1: dose at day 1
        EventSchedule(switches=(ParameterSwitch(2.5, "k", 0.0),)),  # row 2: decay stops at day 2.5
        EventSchedule(jumps=(StateJump(3.0, "X", 1.0),)),  # row 3: dose at day 3, own k
    ]
    k = np.array([[0.7], [0.7], [0.7], [0.3]])
    traj = simulate(decay, solver, [x0], k, t_eval=t, events=schedules)
    exact = np.vstack(
        [
            x0 * np.exp(-0.7 * t),
            np.where(t < 1.0, x0 * np.exp(-0.7 * t), (x0 * np.exp(-0.7) + 4.0) * np.exp(-0.7 * (t - 1.0))),
            np.where(t <= 2.5, x0 * np.exp(-0.7 * t), x0 * np.exp(-0.7 * 2.5)),
            np.where(t < 3.0, x0 * np.exp(-0.3 * t), (x0 * np.exp(-0.9) + 1.0) * np.exp(-0.3 * (t - 3.0))),
        ]
    )
    assert np.all(traj.status == Status.OK)
    assert _rel_err(traj.sel("X"), exact) < 1e-6
