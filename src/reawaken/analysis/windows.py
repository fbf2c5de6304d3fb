"""Person-time split into exposure-risk windows after infection: the (start, stop] rows a time-varying Cox
model needs, without immortal-time bias.

A person is followed from ``entry`` to ``exit``. At each moment the exposure is the window that the time
since the person's *most recent* infection falls in (e.g. 0-90 d, 90-365 d, >365 d), or unexposed before
any infection. Rows are cut at every infection and every window edge, so the covariates are constant on
each row and a person contributes unexposed time before infection and exposed time after it: nobody is
classified by a future event (the immortal-time error of "ever infected" comparisons).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._typing import FloatArray, IntArray
from ..vocab import DAYS_PER_YEAR


@dataclass(frozen=True)
class WindowRows:
    """Counting-process rows: ``window`` is -1 before any infection, else the index into ``edges``."""

    person: IntArray
    start: FloatArray
    stop: FloatArray
    event: np.ndarray
    window: IntArray
    edges: tuple[float, ...]

    def indicators(self) -> FloatArray:
        """One 0/1 column per window (unexposed is the reference), shape (n_rows, n_windows)."""
        return (self.window[:, None] == np.arange(len(self.edges))[None, :]).astype(float)

    def window_labels(self, unit: str = "d") -> tuple[str, ...]:
        edges = (*self.edges, np.inf)
        return tuple(f"{edges[k]:g}-{edges[k + 1]:g} {unit}" if np.isfinite(edges[k + 1]) else f">{edges[k]:g} {unit}"
                     for k in range(len(self.edges)))


def split_windows(
    entry: FloatArray,
    exit: FloatArray,
    event: np.ndarray,
    infection_person: IntArray,
    infection_time: FloatArray,
    edges: Sequence[float] = (0.0, 90.0, 365.0),
) -> WindowRows:
    """Split each person's follow-up (entry, exit] at infections and at ``edges`` after each infection.

    Parameters
    ----------
    entry, exit, event : per person (index = person id); ``event`` marks an outcome at ``exit``.
    infection_person, infection_time : one entry per infection (any order; infections outside follow-up
        count only through the windows they open inside it).
    edges : increasing window starts after an infection, first 0 (the last window is open-ended).
    """
    entry, exit = np.asarray(entry, dtype=float), np.asarray(exit, dtype=float)
    event = np.asarray(event).astype(bool)
    ip, it = np.asarray(infection_person, dtype=np.int64), np.asarray(infection_time, dtype=float)
    edges_arr = np.asarray(edges, dtype=float)
    n = entry.size
    if not (exit.shape == entry.shape == event.shape):
        raise ValueError("entry, exit and event need one value per person")
    if np.any(exit <= entry):
        bad = int(np.flatnonzero(exit <= entry)[0])
        raise ValueError(f"person {bad}: exit ({exit[bad]}) must be after entry ({entry[bad]})")
    if edges_arr.size == 0 or edges_arr[0] != 0.0 or np.any(np.diff(edges_arr) <= 0):
        raise ValueError(f"edges must start at 0 and increase, got {tuple(edges)}")
    if ip.shape != it.shape or (ip.size and (ip.min() < 0 or ip.max() >= n)):
        raise ValueError("infection_person must index persons (0 .. n-1), one per infection_time")
    if not np.all(np.isfinite(it)):
        raise ValueError("infection times must be finite")
    # Cut points: entry, exit, and every infection + edge that falls strictly inside follow-up.
    cut_p = np.repeat(ip, edges_arr.size)
    cut_t = (it[:, None] + edges_arr[None, :]).ravel()
    inside = (cut_t > entry[cut_p]) & (cut_t < exit[cut_p])
    person = np.concatenate([np.arange(n), np.arange(n), cut_p[inside]])
    time = np.concatenate([entry, exit, cut_t[inside]])
    order = np.lexsort((time, person))
    person, time = person[order], time[order]
    keep = np.ones(person.size, dtype=bool)
    keep[1:] = (person[1:] != person[:-1]) | (time[1:] != time[:-1])
    person, time = person[keep], time[keep]
    same = person[1:] == person[:-1]
    r_person, r_start, r_stop = person[:-1][same], time[:-1][same], time[1:][same]
    # Most recent infection at or before each row's start (per person, by sorted keys).
    inf_order = np.lexsort((it, ip))
    sp, st = ip[inf_order], it[inf_order]
    first = np.searchsorted(sp, r_person, side="left")  # this person's infections are sp[first:pos]
    pos = np.searchsorted(sp, r_person, side="right")
    # Each row is classified at its midpoint: no infection or window edge lies inside a row (they are its
    # cuts), and the midpoint keeps half a row away from them, so rounding in (t + 365) - t cannot move a
    # row into the previous window. A combined (person, time) key lets one searchsorted find each row's
    # last infection before its midpoint.
    mid = 0.5 * (r_start + r_stop)
    scale = (max(np.abs(st).max(initial=0.0), np.abs(r_stop).max(initial=0.0)) + 1.0) * 4.0
    inf_key = sp * scale + st
    row_key = r_person * scale + mid
    k = np.searchsorted(inf_key, row_key, side="right") - 1
    has = (k >= first) & (k < pos) & (k >= 0)
    since = np.where(has, mid - st[np.clip(k, 0, None)] if st.size else 0.0, np.nan)
    window = np.where(has, np.searchsorted(edges_arr, since, side="right") - 1, -1)
    r_event = event[r_person] & (r_stop == exit[r_person])
    return WindowRows(r_person.astype(np.int64), r_start, r_stop, r_event, window.astype(np.int64), tuple(edges_arr))


def incidence_by_window(rows: WindowRows, *, per: float = 1000.0 * DAYS_PER_YEAR) -> dict[str, dict[str, float]]:
    """Events, person-time and rate (per ``per`` time units: default per 1,000 person-years for days)."""
    labels = ("unexposed", *rows.window_labels())
    out = {}
    for w, label in zip(range(-1, len(rows.edges)), labels):
        m = rows.window == w
        pt = float((rows.stop[m] - rows.start[m]).sum())
        ev = int(rows.event[m].sum())
        out[label] = {"events": ev, "person_time": pt, "rate": ev / pt * per if pt > 0 else float("nan")}
    return out
