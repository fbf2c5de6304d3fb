"""Batch behaviour of simulate(): row independence, per-row failure status, input validation."""

from __future__ import annotations

import numpy as np
import pytest

from reawaken.errors import ReawakenError, SolverFailure, UnsupportedFeatureError
from reawaken.model import (
    EventSchedule,
    ModelSpec,
    Parameter,
    ParameterSwitch,
    Species,
    StateJump,
    Transition,
    compile_model,
)
from reawaken.solvers import BatchDopri5, ScipyODE, Status, simulate

SRC = "test problem"


@pytest.fixture(scope="module")
def growth():
    """X' = r X: exp(r t) overflows float64 once r t > ~709."""
    return compile_model(
        ModelSpec("growth", (Species("X", "1", 1.0),), (Parameter("r", 0.5, "1/d", SRC),),
                  (Transition("growth", {"X": 1}, "r * X"),))
    )


@pytest.fixture(scope="module")
def predator_prey():
    """Lotka-Volterra: a non-trivial 2-species model whose step sizes vary along the orbit."""
    return compile_model(
        ModelSpec(
            "lv",
            (Species("prey", "1", 10.0), Species("pred", "1", 5.0)),
            (Parameter("a", 1.1, "1/d", SRC), Parameter("b", 0.4, "1/d", SRC),
             Parameter("c", 0.4, "1/d", SRC), Parameter("d", 0.1, "1/d", SRC)),
            (
                Transition("birth", {"prey": 1}, "a * prey"),
                Transition("predation", {"prey": -1}, "b * prey * pred / 10"),
                Transition("pred_birth", {"pred": 1}, "d * prey * pred"),
                Transition("pred_death", {"pred": -1}, "c * pred"),
            ),
        )
    )


def _rows(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    y0 = rng.uniform(2.0, 20.0, size=(n, 2))
    p = np.column_stack([rng.uniform(0.8, 1.4, n), rng.uniform(0.3, 0.5, n), rng.uniform(0.3, 0.5, n),
                         rng.uniform(0.05, 0.15, n)])
    return y0, p


def _max_rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


# --------------------------------------------------------------------------------------- (a) invariance


@pytest.mark.parametrize("solver", [BatchDopri5(), BatchDopri5(rtol=1e-9, atol=1e-12)], ids=["default", "tight"])
def test_rows_together_equal_rows_alone(predator_prey, solver):
    y0, p = _rows(6)
    t = np.linspace(0.0, 20.0, 41)
    together = simulate(predator_prey, solver, y0, p, t_eval=t)
    for i in range(6):
        alone = simulate(predator_prey, solver, y0[i], p[i], t_eval=t)
        assert _max_rel(together.values[i], alone.values[0]) < 1e-10, i
    # and reversing the batch order just reverses the rows
    rev = simulate(predator_prey, solver, y0[::-1], p[::-1], t_eval=t)
    assert _max_rel(rev.values[::-1], together.values) < 1e-10


def test_rows_together_equal_rows_alone_with_a_shared_schedule(predator_prey):
    y0, p = _rows(4)
    t = np.linspace(0.0, 10.0, 21)
    sched = EventSchedule(jumps=(StateJump(2.5, "pred", 3.0),), switches=(ParameterSwitch(6.0, "a", 0.9),))
    together = simulate(predator_prey, BatchDopri5(), y0, p, t_eval=t, events=sched)
    for i in range(4):
        alone = simulate(predator_prey, BatchDopri5(), y0[i], p[i], t_eval=t, events=sched)
        assert _max_rel(together.values[i], alone.values[0]) < 1e-10, i


def test_duplicated_rows_give_identical_results(predator_prey):
    y0, p = _rows(1)
    traj = simulate(predator_prey, BatchDopri5(), np.repeat(y0, 3, 0), np.repeat(p, 3, 0), t_eval=[0.0, 5.0, 10.0])
    np.testing.assert_array_equal(traj.values[0], traj.values[1])
    np.testing.assert_array_equal(traj.values[0], traj.values[2])


def test_row_result_does_not_depend_on_other_rows_event_times(predator_prey):
    """BUG (solvers/_piecewise.py ``integrate_piecewise``): rows are cut at the UNION of all rows' event times.

    Every row's integration is stopped and restarted (with a fresh initial step ``min(span, 1e-2)`` in
    ``BatchDopri5._segment``) at every other row's event times, so a row's trajectory depends, at the
    level of the tolerance (~1e-5 relative here, default rtol), on which other subjects share its
    batch. Cohort results then depend on chunk composition (principles 6 and 13: chunk invariance), and
    ``run_scenarios`` output for one arm changes when another arm is added to the panel.
    """
    y0, p = _rows(2)
    t = np.linspace(0.0, 10.0, 21)
    own = EventSchedule(jumps=(StateJump(2.5, "pred", 3.0),))
    other = EventSchedule(switches=(ParameterSwitch(1.37, "a", 0.9), ParameterSwitch(4.71, "a", 1.2)))
    alone = simulate(predator_prey, BatchDopri5(), y0[0], p[0], t_eval=t, events=own)
    together = simulate(predator_prey, BatchDopri5(), y0, p, t_eval=t, events=[own, other])
    assert _max_rel(together.values[0], alone.values[0]) < 1e-10


# --------------------------------------------------------------------------------------- (b) failures


def test_overflowing_row_is_flagged_and_others_survive(growth):
    r = np.array([[0.5], [1e4], [1.0]])  # row 1: exp(1e4 t) overflows before t = 0.08
    t = np.linspace(0.0, 2.0, 5)
    traj = simulate(growth, BatchDopri5(rtol=1e-3, max_steps=1200), [1.0], r, t_eval=t, on_failure="flag")
    assert traj.status[1] != Status.OK
    assert list(traj.status[[0, 2]]) == [Status.OK, Status.OK]
    assert np.all(np.isfinite(traj.values[[0, 2]]))
    assert np.all(np.isnan(traj.values[1, 1:]))  # the failed row is NaN from the failure on, not dropped
    assert traj.values[1, 0, 0] == 1.0
    # X = exp(r t) for the good rows
    np.testing.assert_allclose(traj.sel("X")[[0, 2]], np.exp(r[[0, 2]] * t), rtol=1e-2)
    assert not traj.ok()[1] and traj.ok()[0]


def test_overflowing_row_raises_solver_failure_naming_the_row(growth):
    r = np.array([[0.5], [1e4], [1.0]])
    with pytest.raises(SolverFailure) as info:
        simulate(growth, BatchDopri5(rtol=1e-3, max_steps=1200), [1.0], r, t_eval=[0.0, 1.0])
    msg = str(info.value)
    assert "row 1 failed" in msg
    assert "1 of 3 rows failed" in msg
    assert "on_failure='flag'" in msg
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ReawakenError)


def test_overflow_is_reported_as_nonfinite_within_a_few_steps(growth):
    """BUG (solvers/dopri.py ``_segment``, the step-size factor, lines ~132-135).

    When a step's error norm is NaN (overflow gives inf - inf in the stage sums), ``err > 0`` is False,
    so ``np.where(err > 0, 0.9 * err ** -0.2, 5.0)`` picks 5.0: the NaN never reaches ``nan_to_num``,
    and the rejected-step cap ``min(factor, 1.0)`` leaves h unchanged. The row then retries the
    identical step until ``max_steps`` (200 000 by default: about a minute for one row) and is reported
    as MAX_STEPS ("raise max_steps or loosen rtol") instead of NONFINITE ("check parameter values
    (overflow?)"), which is the wrong advice. Overflow is reached after ~500 steps here; a correct
    step-size cut (h shrinks 5x per non-finite rejection) reaches the 1e-14 floor within ~25 more.
    """
    traj = simulate(growth, BatchDopri5(rtol=1e-3, max_steps=1200), [1.0], [[1e4]], t_eval=[0.0, 1.0],
                    on_failure="flag")
    assert Status(int(traj.status[0])) == Status.NONFINITE
    assert traj.stats["steps"] < 900


def test_scipy_rk45_flags_an_overflowing_row(growth):
    traj = simulate(growth, ScipyODE("RK45"), [1.0], [[0.5], [1e4]], t_eval=[0.0, 1.0], on_failure="flag")
    assert traj.status[0] == Status.OK and traj.status[1] != Status.OK
    assert traj.final("X")[0] == pytest.approx(np.exp(0.5), rel=1e-4)  # X(1) = e^{r}


def test_scipy_radau_flags_an_overflowing_row_instead_of_aborting_the_batch(growth):
    """BUG (solvers/scipy_ode.py ``segment``): exceptions from ``solve_ivp`` escape the per-row status.

    With an overflowing row, Radau's Newton iteration hands inf/NaN to ``scipy.linalg.lu_solve``, which
    raises ``ValueError: array must not contain infs or NaNs``. ``segment`` neither catches it nor maps
    it to a Status, so ONE bad row aborts the whole batch even with ``on_failure="flag"`` (principle 5).
    (LSODA on the same row is worse: it does not return within minutes, so it is not tested here.)
    """
    traj = simulate(growth, ScipyODE("Radau"), [1.0], [[0.5], [1e4]], t_eval=[0.0, 1.0], on_failure="flag")
    assert traj.status[0] == Status.OK and traj.status[1] != Status.OK


def test_blow_up_in_finite_time_is_flagged(growth):
    blow = compile_model(
        ModelSpec("blowup", (Species("X", "1", 1.0),), (Parameter("a", 0.1, "1/d", SRC),),
                  (Transition("g", {"X": 1}, "a * X * X"),))
    )
    # X' = a X^2 blows up at t = 1 / (a X0): row 1 (a = 10) at t = 0.1 < 2
    traj = simulate(blow, BatchDopri5(), [1.0], [[0.1], [10.0]], t_eval=[0.0, 1.0, 2.0], on_failure="flag")
    assert traj.status[0] == Status.OK and traj.status[1] != Status.OK
    # X(t) = X0 / (1 - a X0 t)
    np.testing.assert_allclose(traj.sel("X")[0], 1.0 / (1.0 - 0.1 * np.array([0.0, 1.0, 2.0])), rtol=1e-5)


def test_status_messages_are_actionable():
    for code in Status:
        assert code.message()
    assert "max_steps" in Status.MAX_STEPS.message()
    assert "Radau" in Status.STEP_TOO_SMALL.message()


def test_on_failure_rejects_unknown_values(growth):
    """Validation gap (solvers/base.py ``simulate``): ``on_failure`` is never checked.

    Any value other than "raise" (a typo like "Raise" or "flag " included) silently behaves like
    "flag", so failed rows come back as NaN without an error. Principle 8: validate at the boundary.
    """
    with pytest.raises(ValueError, match="on_failure"):
        simulate(growth, BatchDopri5(), t_eval=[0.0, 1.0], on_failure="Raise")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------- (c) bad inputs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y0": [1.0, 2.0]}, r"y0 must have shape \(1,\) or \(n_rows, 1\); got \(1, 2\)"),
        ({"y0": np.ones((2, 2, 1))}, r"y0 must have shape \(1,\) or \(n_rows, 1\); got \(2, 2, 1\)"),
        ({"params": [0.1, 0.2]}, r"params must have shape \(1,\) or \(n_rows, 1\); got \(1, 2\)"),
        ({"y0": [[1.0], [2.0]], "params": [[0.1], [0.2], [0.3]]}, r"y0 has 2 rows but the batch has 3; give 1 row or 3"),
        ({"y0": [np.nan]}, "y0 contains NaN or infinite values"),
        ({"params": [np.inf]}, "params contains NaN or infinite values"),
    ],
)
def test_bad_shapes_raise_value_error(growth, kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate(growth, BatchDopri5(), t_eval=[0.0, 1.0], **kwargs)


@pytest.mark.parametrize(
    "t_eval",
    [[0.0, 2.0, 1.0], [0.0, 1.0, 1.0], [], [[0.0, 1.0]], [0.0, np.nan], [0.0, np.inf]],
    ids=["decreasing", "repeated", "empty", "2d", "nan", "inf"],
)
def test_bad_t_eval_raises_value_error(growth, t_eval):
    with pytest.raises(ValueError, match="t_eval must be a non-empty, strictly increasing 1-D array of finite days"):
        simulate(growth, BatchDopri5(), t_eval=t_eval)


def test_events_count_must_match_rows(growth):
    with pytest.raises(ValueError, match="events has 2 schedules for 3 rows; give one, or one per row"):
        simulate(growth, BatchDopri5(), [1.0], [[0.1], [0.2], [0.3]], t_eval=[0.0, 1.0],
                 events=[EventSchedule(), EventSchedule()])


def test_solver_settings_are_validated():
    with pytest.raises(ValueError, match="BatchDopri5 needs 0 < rtol < 1"):
        BatchDopri5(rtol=0.0)
    with pytest.raises(ValueError, match="BatchDopri5 needs"):
        BatchDopri5(atol=-1.0)
    with pytest.raises(ValueError, match="ScipyODE method 'Euler' is not one of"):
        ScipyODE("Euler")


def test_unsupported_feature_is_named(growth):
    class SingleRowOnly:
        supports = frozenset()

        def solve(self, *args, **kwargs):  # pragma: no cover - must not be reached
            raise AssertionError("simulate must check features before solving")

    with pytest.raises(UnsupportedFeatureError, match=r"SingleRowOnly cannot handle \['batch', 'events'\]"):
        simulate(growth, SingleRowOnly(), [1.0], [[0.1], [0.2]], t_eval=[0.0, 1.0],
                 events=EventSchedule(jumps=(StateJump(0.5, "X", 1.0),)))


def test_single_row_broadcasts_against_many(growth):
    traj = simulate(growth, BatchDopri5(), [2.0], [[0.1], [0.2], [0.3]], t_eval=[0.0, 1.0])
    assert traj.values.shape == (3, 2, 1)
    # X(1) = 2 exp(r)
    np.testing.assert_allclose(traj.final("X"), 2.0 * np.exp([0.1, 0.2, 0.3]), rtol=1e-5)
