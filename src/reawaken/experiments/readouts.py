"""Read-outs of one simulated episode: what the experiments of Chia et al. 2025 measured, and more.

All functions take plain arrays (time, species columns) so they apply to any solver's output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from .._typing import FloatArray

#: Days at which Chia et al. 2025 sampled lungs after PR8 (Fig. 1 legend), plus 9 months (~270 d).
REPORT_DAYS = (3, 6, 9, 15, 28, 60, 270)


def _at(time: FloatArray, values: FloatArray, day: float) -> float:
    return float(np.interp(day, time, values))


def dcc_total(cols: Mapping[str, FloatArray]) -> FloatArray:
    return cols["dormant"] + cols["awakened"] + cols["primed"]


def failed_readouts(time: FloatArray, report_days: Sequence[float], detection_limit: float) -> dict[str, object]:
    """Read-outs of a row whose simulation failed: every number is None (never invented)."""
    days = [str(d) for d in report_days if d <= time[-1] + 1e-9]
    nothing = {d: None for d in days}
    return {"dcc_fold": dict(nothing), "proliferating_fraction": dict(nothing), "il6_peak_pg_ml": None,
            "il6_peak_day": None, "virus_peak_day": None, "virus_peak": None, "virus_clearance_day": None,
            "virus_detection_limit": detection_limit, "dcc_fold_max": None, "dcc_fold_final": None,
            "mean_cells_per_awakening": dict(nothing), "episodes": []}


def summarise(
    time: FloatArray,
    cols: Mapping[str, FloatArray],
    *,
    infection_days: Sequence[float],
    detection_limit: float,
    report_days: Sequence[float] = REPORT_DAYS,
) -> dict[str, object]:
    """The JSON read-out of one episode (see the CLI docs for each key).

    ``dcc_fold`` and ``proliferating_fraction`` are keyed by day as a string for each report day within the
    simulated horizon. Virus and IL-6 peaks refer to the first infection (up to the second, if any).
    """
    if not all(np.all(np.isfinite(cols[k])) for k in ("dormant", "awakened", "primed", "il6", "virus")):
        return failed_readouts(time, report_days, detection_limit)
    total = dcc_total(cols)
    fold = total / total[0]
    prolif = np.divide(cols["awakened"], total, out=np.zeros_like(total), where=total > 0)
    days = [d for d in report_days if d <= time[-1] + 1e-9]
    out: dict[str, object] = {
        "dcc_fold": {str(d): _at(time, fold, d) for d in days},
        "proliferating_fraction": {str(d): _at(time, prolif, d) for d in days},
    }
    start = infection_days[0] if infection_days else time[0]
    end = infection_days[1] if len(infection_days) > 1 else time[-1]
    # The next infection's day is excluded: the output there is recorded after its inoculum.
    window = (time >= start) & ((time < end) if len(infection_days) > 1 else (time <= end))
    il6 = np.where(window, cols["il6"], -np.inf)
    i = int(np.argmax(il6))
    out["il6_peak_pg_ml"] = float(cols["il6"][i])
    out["il6_peak_day"] = float(time[i] - start)
    if infection_days:
        v = np.where(window, cols["virus"], -np.inf)
        j = int(np.argmax(v))
        out["virus_peak_day"] = float(time[j] - start)
        out["virus_peak"] = float(cols["virus"][j])
        below = np.flatnonzero((time > time[j]) & window & (cols["virus"] < detection_limit))
        out["virus_clearance_day"] = float(time[below[0]] - start) if below.size else None
    else:
        out["virus_peak_day"] = None
        out["virus_peak"] = 0.0
        out["virus_clearance_day"] = None
    out["virus_detection_limit"] = detection_limit
    out["episodes"] = episode_readouts(time, cols, infection_days=infection_days, detection_limit=detection_limit)
    out["dcc_fold_max"] = float(fold.max())
    out["dcc_fold_final"] = float(fold[-1])
    founders = cols["awakenings"]
    descendants = cols["awakened"] + cols["primed"]
    out["mean_cells_per_awakening"] = {
        str(d): (_at(time, descendants, d) / _at(time, founders, d) if _at(time, founders, d) > 1e-9 else 0.0)
        for d in days
    }
    return out


def episode_readouts(
    time: FloatArray, cols: Mapping[str, FloatArray], *, infection_days: Sequence[float], detection_limit: float
) -> list[dict[str, object]]:
    """One record per infection, over the window from its day to the next infection (or the end):
    virus peak and clearance (first time below ``detection_limit`` after the peak; None if never), lung
    and serum IL-6 peaks and their days, and the lung awakening events (clone founders) in the window.
    Days are counted from the infection."""
    records: list[dict[str, object]] = []
    bounds = [*infection_days, float("inf")]
    for k, start in enumerate(infection_days):
        nxt = bounds[k + 1]  # excluded: the output at the next infection's day is after its inoculum
        window = (time >= start) & ((time < nxt) if math.isfinite(nxt) else (time <= time[-1]))
        if not window.any():
            continue
        t = time[window]
        rec: dict[str, object] = {"infection": k + 1, "day": float(start)}
        v = cols["virus"][window]
        j = int(np.argmax(v))
        rec["virus_peak"] = float(v[j])
        rec["virus_peak_day"] = float(t[j] - start)
        below = np.flatnonzero((np.arange(t.size) > j) & (v < detection_limit))
        rec["virus_clearance_day"] = float(t[below[0]] - start) if below.size else None
        for key, name in (("il6", "il6"), ("il6_serum", "il6_serum")):
            if name in cols:
                x = cols[name][window]
                i = int(np.argmax(x))
                rec[f"{key}_peak_pg_ml"] = float(x[i])
                rec[f"{key}_peak_day"] = float(t[i] - start)
        if "awakenings" in cols:
            a = cols["awakenings"][window]
            rec["awakenings"] = float(a[-1] - a[0])
        records.append(rec)
    return records
