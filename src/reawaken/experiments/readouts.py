"""Read-outs of one simulated episode: what the experiments of Chia et al. 2025 measured, and more.

All functions take plain arrays (time, species columns) so they apply to any solver's output.
"""

from __future__ import annotations

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
            "mean_cells_per_awakening": dict(nothing)}


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
    window = (time >= start) & (time <= end)
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
    out["dcc_fold_max"] = float(fold.max())
    out["dcc_fold_final"] = float(fold[-1])
    founders = cols["awakenings"]
    descendants = cols["awakened"] + cols["primed"]
    out["mean_cells_per_awakening"] = {
        str(d): (_at(time, descendants, d) / _at(time, founders, d) if _at(time, founders, d) > 1e-9 else 0.0)
        for d in days
    }
    return out
