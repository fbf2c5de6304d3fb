"""Integrate between event times and apply jumps and switches: the one event mechanism all solvers share.

Each row of a batch may carry its own schedule (a cohort's people catch infections on different days).
A row stops only at its *own* event times, so its result never depends on which other rows share its
batch (chunk invariance): all rows advance together in rounds, each round taking every row from its
current time to its next own stop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .._typing import FloatArray, IntArray
from ..model.compile import CompiledModel
from ..model.events import EventSchedule
from .base import Status

#: (y_start, params, active, t_start[n], t_stop[n], t_eval, out) -> (y at t_stop, status).
#: Writes ``out[i, k]`` for every ``t_start[i] < t_eval[k] <= t_stop[i]``.
SegmentSolver = Callable[
    [FloatArray, FloatArray, np.ndarray, FloatArray, FloatArray, FloatArray, FloatArray], tuple[FloatArray, IntArray]
]


def _groups(schedules: Sequence[EventSchedule], n: int) -> list[tuple[EventSchedule, np.ndarray]]:
    if len(schedules) == 1:
        return [(schedules[0], np.arange(n))]
    by_id: dict[int, list[int]] = {}
    for i, s in enumerate(schedules):
        by_id.setdefault(id(s), []).append(i)
    return [(schedules[rows[0]], np.asarray(rows)) for rows in by_id.values()]


def check_schedules(model: CompiledModel, schedules: Sequence[EventSchedule]) -> None:
    """Every event names a species / parameter of the model (checked before any integration)."""
    for schedule in {id(s): s for s in schedules}.values():
        for e in (*schedule.jumps, *schedule.scales):
            model.species_index(e.species)
        for sw in schedule.switches:
            model.parameter_index(sw.parameter)


def integrate_piecewise(
    model: CompiledModel,
    y0: FloatArray,
    params: FloatArray,
    t_eval: FloatArray,
    schedules: Sequence[EventSchedule],
    segment: SegmentSolver,
) -> tuple[FloatArray, IntArray]:
    n = y0.shape[0]
    y, p = y0.copy(), params.copy()
    groups = _groups(schedules, n)
    t0, t_end = float(t_eval[0]), float(t_eval[-1])
    own_times = [np.array([e for e in s.times if t0 < e <= t_end], dtype=float) for s, _ in groups]
    for schedule, rows in groups:  # everything up to the start applies before it
        for time in [e for e in schedule.times if e <= t0]:
            model.apply_switches(p, schedule, time, rows)
            model.apply_jumps(y, schedule, time, rows)
    out = np.full((n, t_eval.size, model.n_species), np.nan)
    out[:, 0] = y
    status = np.zeros(n, dtype=np.int64)
    cur = np.full(n, t0)
    ptr = np.zeros(len(groups), dtype=np.int64)
    finished = np.zeros(n, dtype=bool)
    while not finished.all():
        stop = np.full(n, t_end)
        for g, (_, rows) in enumerate(groups):
            if ptr[g] < own_times[g].size:
                stop[rows] = own_times[g][ptr[g]]
        active = (status == Status.OK) & ~finished
        y_end, st = segment(y, p, active, cur, stop, t_eval, out)
        newly = active & (st != Status.OK)
        status[newly] = st[newly]
        y = np.where(active[:, None], y_end, y)
        y[status != Status.OK] = np.nan
        for g, (schedule, rows) in enumerate(groups):
            if ptr[g] >= own_times[g].size:
                finished[rows] = True
                continue
            time = float(own_times[g][ptr[g]])
            model.apply_switches(p, schedule, time, rows)
            model.apply_jumps(y, schedule, time, rows)
            k = np.searchsorted(t_eval, time)
            if k < t_eval.size and t_eval[k] == time:
                out[rows, k] = y[rows]  # right-continuous: the value at an event time is post-event
            ptr[g] += 1
            if time >= t_end:
                finished[rows] = True
        cur = stop
        finished |= status != Status.OK
    return out, status
