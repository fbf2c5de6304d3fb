"""Integrate between event times and apply jumps and switches: the one event mechanism all solvers share.

Each row of a batch may carry its own schedule (a cohort's people catch infections on different days).
A row stops only at its *own* event times, so its result never depends on which other rows share its
batch (chunk invariance): all rows advance together in rounds, each round taking every row from its
current time to its next own stop.

Events are flattened once into a table (row, time, kind, index, value) so that applying them is a few
vectorised NumPy operations per round, whatever the number of distinct schedules: 10^5 people with
10^5 different infection calendars cost the same Python overhead as one shared schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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

SWITCH, SCALE, JUMP = 0, 1, 2  # applied in this order at one time, as documented on EventSchedule


def check_schedules(model: CompiledModel, schedules: Sequence[EventSchedule]) -> None:
    """Every event names a species / parameter of the model (checked before any integration)."""
    for schedule in {id(s): s for s in schedules}.values():
        for e in (*schedule.jumps, *schedule.scales):
            model.species_index(e.species)
        for sw in schedule.switches:
            model.parameter_index(sw.parameter)


@dataclass(frozen=True)
class EventTable:
    """All events of a batch, one entry per (row, event), sorted by row, time and kind."""

    row: IntArray
    time: FloatArray
    kind: IntArray
    index: IntArray  # species index (scale, jump) or parameter index (switch)
    value: FloatArray

    @staticmethod
    def build(model: CompiledModel, schedules: Sequence[EventSchedule], n: int) -> EventTable:
        groups: dict[int, list[int]] = {}
        for i, s in enumerate(schedules if len(schedules) == n else [schedules[0]] * n):
            groups.setdefault(id(s), []).append(i)
        by_id = {id(s): s for s in schedules}
        parts = []
        for key, rows in groups.items():
            s = by_id[key]
            ev = [(e.time, SWITCH, model.parameter_index(e.parameter), e.value) for e in s.switches]
            ev += [(e.time, SCALE, model.species_index(e.species), e.factor) for e in s.scales]
            ev += [(e.time, JUMP, model.species_index(e.species), e.amount) for e in s.jumps]
            if not ev:
                continue
            arr = np.array(ev, dtype=float)  # (k, 4)
            rows_arr = np.asarray(rows, dtype=np.int64)
            parts.append((np.repeat(rows_arr, len(ev)), np.tile(arr, (rows_arr.size, 1))))
        if not parts:
            empty = np.zeros(0)
            return EventTable(empty.astype(np.int64), empty, empty.astype(np.int64), empty.astype(np.int64), empty)
        row = np.concatenate([p[0] for p in parts])
        data = np.vstack([p[1] for p in parts])
        order = np.lexsort((data[:, 1], data[:, 0], row))
        row, data = row[order], data[order]
        return EventTable(row, data[:, 0], data[:, 1].astype(np.int64), data[:, 2].astype(np.int64), data[:, 3])

    def apply(self, mask: np.ndarray, y: FloatArray, p: FloatArray) -> None:
        """Apply the selected events in place: switches, then scales, then jumps (table order)."""
        for kind in (SWITCH, SCALE, JUMP):
            m = mask & (self.kind == kind)
            if not m.any():
                continue
            rows, idx, val = self.row[m], self.index[m], self.value[m]
            if kind == SWITCH:
                p[rows, idx] = val  # the table is time-ordered, so the last switch of a row wins
            elif kind == SCALE:
                np.multiply.at(y, (rows, idx), val)
            else:
                np.add.at(y, (rows, idx), val)


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
    table = EventTable.build(model, schedules, n)
    t0, t_end = float(t_eval[0]), float(t_eval[-1])
    # Everything up to the start applies before it, time by time.
    for time in np.unique(table.time[table.time <= t0]):
        table.apply(table.time == time, y, p)
    out = np.full((n, t_eval.size, model.n_species), np.nan)
    out[:, 0] = y
    status = np.zeros(n, dtype=np.int64)
    # Each row's own stop times inside (t0, t_end], in order.
    inside = (table.time > t0) & (table.time <= t_end)
    stop_row, stop_time = table.row[inside], table.time[inside]
    first = np.ones(stop_row.size, dtype=bool)
    first[1:] = (stop_row[1:] != stop_row[:-1]) | (stop_time[1:] != stop_time[:-1])
    stop_row, stop_time = stop_row[first], stop_time[first]
    begin = np.searchsorted(stop_row, np.arange(n), side="left")
    end = np.searchsorted(stop_row, np.arange(n), side="right")
    ptr = begin.copy()
    cur = np.full(n, t0)
    finished = np.zeros(n, dtype=bool)
    while not finished.all():
        has_next = ptr < end
        stop = np.where(has_next, stop_time[np.minimum(ptr, max(stop_time.size - 1, 0))] if stop_time.size else t_end,
                        t_end)
        active = (status == Status.OK) & ~finished
        y_end, st = segment(y, p, active, cur, stop, t_eval, out)
        newly = active & (st != Status.OK)
        status[newly] = st[newly]
        y = np.where(active[:, None], y_end, y)
        y[status != Status.OK] = np.nan
        fired = active & has_next & (status == Status.OK)
        if fired.any():
            table.apply(fired[table.row] & (table.time == stop[table.row]), y, p)
            rows = np.flatnonzero(fired)
            k = np.searchsorted(t_eval, stop[rows])
            hit = (k < t_eval.size) & (t_eval[np.minimum(k, t_eval.size - 1)] == stop[rows])
            out[rows[hit], k[hit]] = y[rows[hit]]  # right-continuous: the value at an event is post-event
        ptr = np.where(has_next, ptr + 1, ptr)
        finished |= ~has_next | (stop >= t_end) | (status != Status.OK)
        cur = stop
    return out, status
