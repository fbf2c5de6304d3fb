"""Event schedules are validated, time-sorted data."""

from __future__ import annotations

import math

import pytest

from reawaken.errors import SpecError
from reawaken.model import EventSchedule, ParameterSwitch, StateJump, StateScale


def test_events_are_sorted_by_time():
    sched = EventSchedule(
        jumps=(StateJump(5.0, "virus", 1.0), StateJump(0.0, "virus", 2.0), StateJump(2.5, "antibody", 3.0)),
        switches=(ParameterSwitch(3.0, "k", 1.0), ParameterSwitch(1.0, "k", 2.0)),
        scales=(StateScale(9.0, "nab", 0.1), StateScale(4.0, "nab", 0.5)),
    )
    assert [j.time for j in sched.jumps] == [0.0, 2.5, 5.0]
    assert [j.amount for j in sched.jumps] == [2.0, 3.0, 1.0]  # records travel with their times
    assert [s.time for s in sched.switches] == [1.0, 3.0]
    assert [s.factor for s in sched.scales] == [0.5, 0.1]
    assert sched.times == (0.0, 1.0, 2.5, 3.0, 4.0, 5.0, 9.0)


def test_times_are_unique():
    sched = EventSchedule(jumps=(StateJump(1.0, "a", 1.0),), switches=(ParameterSwitch(1.0, "k", 2.0),))
    assert sched.times == (1.0,)


@pytest.mark.parametrize("time", [-1.0, -1e-12, math.nan, math.inf])
@pytest.mark.parametrize(
    "make",
    [
        lambda t: EventSchedule(jumps=(StateJump(t, "x", 1.0),)),
        lambda t: EventSchedule(switches=(ParameterSwitch(t, "k", 1.0),)),
        lambda t: EventSchedule(scales=(StateScale(t, "x", 0.5),)),
    ],
)
def test_negative_or_nonfinite_time_rejected(make, time):
    with pytest.raises(SpecError, match="times must be finite and >= 0"):
        make(time)


@pytest.mark.parametrize("factor", [-0.5, math.nan, math.inf])
def test_bad_scale_factor_rejected(factor):
    with pytest.raises(SpecError, match="a scale factor must be finite and >= 0"):
        EventSchedule(scales=(StateScale(1.0, "nab", factor, "drift"),))


def test_zero_scale_factor_allowed():
    assert EventSchedule(scales=(StateScale(1.0, "nab", 0.0),)).scales[0].factor == 0.0


def test_spec_error_is_value_error():
    with pytest.raises(ValueError):
        EventSchedule(jumps=(StateJump(-1.0, "x", 1.0),))


def test_integer_inputs_are_coerced_to_float():
    jump = StateJump(1, "x", 2)
    assert type(jump.time) is float and type(jump.amount) is float
    assert type(ParameterSwitch(3, "k", 0).value) is float


def test_non_numeric_amount_rejected():
    with pytest.raises(SpecError, match="event amount must be a number"):
        StateJump(1.0, "x", "lots")  # type: ignore[arg-type]


def test_add_combines_and_resorts():
    a = EventSchedule(jumps=(StateJump(3.0, "virus", 1.0),), switches=(ParameterSwitch(0.0, "k", 1.0),))
    b = EventSchedule(jumps=(StateJump(1.0, "antibody", 2.0),), scales=(StateScale(2.0, "nab", 0.1),))
    c = a + b
    assert [j.time for j in c.jumps] == [1.0, 3.0]
    assert [j.species for j in c.jumps] == ["antibody", "virus"]
    assert c.switches == a.switches
    assert c.scales == b.scales
    assert c.times == (0.0, 1.0, 2.0, 3.0)
    # the operands are untouched
    assert len(a.jumps) == 1 and len(b.jumps) == 1


def test_empty_schedule():
    assert EventSchedule().is_empty()
    assert EventSchedule().times == ()
    assert not EventSchedule(jumps=(StateJump(0.0, "x", 1.0),)).is_empty()
    assert (EventSchedule() + EventSchedule()).is_empty()


def test_schedule_is_frozen():
    sched = EventSchedule()
    with pytest.raises(AttributeError):
        sched.jumps = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    "make",
    [
        lambda: EventSchedule(jumps=(StateJump(1.0, "x", math.nan),)),
        lambda: EventSchedule(switches=(ParameterSwitch(1.0, "k", math.inf),)),
    ],
    ids=["jump_amount_nan", "switch_value_inf"],
)
def test_nonfinite_jump_amount_or_switch_value_rejected(make):
    """Validation gap (model/events.py ``EventSchedule.__post_init__``): times and scale factors are
    checked, but a NaN/inf jump amount or switch value is accepted and only surfaces mid-simulation as a
    non-finite state (on which BatchDopri5 spins until max_steps, see test_slv_batch)."""
    with pytest.raises(SpecError, match="finite"):
        make()
