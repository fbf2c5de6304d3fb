"""Integrate between event times and apply jumps and switches: the one event mechanism all solvers share.

Each row of a batch may carry its own schedule (a cohort's people catch infections on different days);
integration stops at the union of all rows' event times and applies each row's own events there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .._typing import FloatArray, IntArray
from ..model.compile import CompiledModel
from ..model.events import EventSchedule
from .base import Status

#: (y_start, params, active, t_start, t_end, t_out) -> (values at t_out, y at t_end, status)
SegmentSolver = Callable[
    [FloatArray, FloatArray, np.ndarray, float, float, FloatArray], tuple[FloatArray, FloatArray, IntArray]
]


def _groups(schedules: Sequence[EventSchedule], n: int) -> list[tuple[EventSchedule, np.ndarray | slice]]:
    if len(schedules) == 1:
        return [(schedules[0], slice(None))]
    by_id: dict[int, list[int]] = {}
    for i, s in enumerate(schedules):
        by_id.setdefault(id(s), []).append(i)
    return [(schedules[rows[0]], np.asarray(rows)) for rows in by_id.values()]


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

    def fire(time: float) -> None:
        for schedule, rows in groups:
            model.apply_switches(p, schedule, time, rows)
            model.apply_jumps(y, schedule, time, rows)

    all_times = sorted({e for s, _ in groups for e in s.times})
    for time in [e for e in all_times if e <= t0]:  # everything up to the start applies before it
        fire(time)
    out = np.full((n, t_eval.size, model.n_species), np.nan)
    out[:, 0] = y
    status = np.zeros(n, dtype=np.int64)
    cur = t0
    for b in [*(e for e in all_times if t0 < e < t_end), t_end]:
        mask = (t_eval > cur) & (t_eval <= b)
        active = status == Status.OK
        vals, y_end, st = segment(y, p, active, cur, b, t_eval[mask])
        out[:, mask] = vals
        newly = active & (st != Status.OK)
        status[newly] = st[newly]
        y = y_end
        y[status != Status.OK] = np.nan
        if b < t_end or b in all_times:
            fire(b)
            if mask.any() and t_eval[mask][-1] == b:
                out[:, np.flatnonzero(mask)[-1]] = y  # right-continuous: the value at an event is post-event
        cur = b
    return out, status
