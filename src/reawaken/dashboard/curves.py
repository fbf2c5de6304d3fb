"""Counting a finished cohort for the page: cumulative risk by arm with a Monte Carlo band, and the survivor
risk view's profile-matched cohort.

The model's numbers all come from ``api.run_cohort``; this module only counts the events it wrote (through
``CohortResult.sql``) and puts a binomial interval on the counts. It belongs in ``reawaken.api`` as a
``survivor_risk`` / ``cumulative_incidence`` use case once that layer has one (the API is not the
dashboard's to change); until then it is kept small and tested here.
"""

from __future__ import annotations

import math
from typing import Any

from ..vocab import DAYS_PER_YEAR

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson 95% interval of a binomial share k/n (stays in [0, 1]; sensible at k = 0)."""
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    den = 1 + Z95**2 / n
    mid = (p + Z95**2 / (2 * n)) / den
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / den
    # At k = 0 (k = n) the bound is exactly 0 (1); computed, it can miss by a rounding error.
    return (0.0 if k == 0 else max(0.0, mid - half), 1.0 if k == n else min(1.0, mid + half))


def _first_days(result: Any, kinds: tuple[str, ...]) -> dict[str, list[float]]:
    """Per arm: the day of each person's first event of ``kinds`` (people without one are left out)."""
    quoted = ", ".join("'" + k.replace("'", "") + "'" for k in kinds)  # kinds are vocabulary names, not user text
    df = result.sql(f"SELECT arm, person_id, min(day) AS day FROM events WHERE kind IN ({quoted}) "
                    "GROUP BY arm, person_id")
    out: dict[str, list[float]] = {str(a): [] for a in result.arms}
    for arm, day in zip(df["arm"].astype(str), df["day"]):
        out.setdefault(arm, []).append(float(day))
    return {a: sorted(v) for a, v in out.items()}


def cumulative_incidence(result: Any, *, kinds: tuple[str, ...] = ("lung_metastasis",),
                         points: int = 61) -> dict[str, Any]:
    """Share of the cohort with a first ``kinds`` event by each day (deaths compete: a person who died first
    is counted as never having it, as in the cohort's own cumulative figure), per arm, with Wilson bands."""
    n = int(result.to_dict()["n_persons"])
    years = float(result.manifest.get("years") or result.manifest.get("config", {}).get("cohort", {}).get("years"))
    end = years * DAYS_PER_YEAR
    grid = [end * i / (points - 1) for i in range(points)]
    curves = {}
    for arm, days in _first_days(result, kinds).items():
        k, risk, low, high = 0, [], [], []
        for t in grid:
            while k < len(days) and days[k] <= t:
                k += 1
            lo, hi = wilson(k, n)
            risk.append(k / n)
            low.append(lo)
            high.append(hi)
        curves[arm] = {"risk": risk, "low": low, "high": high, "events": len(days)}
    return {"years": [t / DAYS_PER_YEAR for t in grid], "n": n, "kind": list(kinds), "arms": curves}


def paired_relative_risk(a: set[int], b: set[int], n: int) -> tuple[float, float, float]:
    """Risk ratio of arm ``a`` over arm ``b`` (persons with the event in each) on the same people, with the
    matched-pairs 95% interval (var log RR = (n10 + n01) / (|a| |b|), e.g. Agresti, Categorical Data
    Analysis 3rd ed., 11.1)."""
    if not a or not b:
        return (math.nan, math.nan, math.nan)
    rr = len(a) / len(b)
    discordant = len(a - b) + len(b - a)
    if discordant == 0:  # nobody's outcome differed between the arms: the pairs say nothing about the spread
        return (rr, math.nan, math.nan)
    se = math.sqrt(discordant / (len(a) * len(b)))
    return (rr, rr * math.exp(-Z95 * se), rr * math.exp(Z95 * se))


def _persons_by(result: Any, kinds: tuple[str, ...], day: float) -> dict[str, set[int]]:
    quoted = ", ".join("'" + k.replace("'", "") + "'" for k in kinds)
    df = result.sql(f"SELECT DISTINCT arm, person_id FROM events WHERE kind IN ({quoted}) AND day <= {float(day)!r}")
    out: dict[str, set[int]] = {str(a): set() for a in result.arms}
    for arm, pid in zip(df["arm"].astype(str), df["person_id"]):
        out.setdefault(arm, set()).add(int(pid))
    return out


OUTCOMES = {"lung metastasis": ("lung_metastasis",), "any distant relapse": ("lung_metastasis", "distant_relapse")}


def risk_table(result: Any, *, reference: str, horizons: tuple[float, ...] = (1.0, 3.0, 5.0)) -> dict[str, Any]:
    """Absolute risk (share of people with the outcome by each horizon, 95% Monte Carlo interval) by arm, and
    the risk ratio of every arm against ``reference`` (same people: matched-pairs interval)."""
    n = int(result.to_dict()["n_persons"])
    out: dict[str, Any] = {"n": n, "horizons_years": list(horizons), "reference": reference, "outcomes": {}}
    for label, kinds in OUTCOMES.items():
        per_arm: dict[str, list[dict[str, Any]]] = {a: [] for a in result.arms}
        for h in horizons:
            sets = _persons_by(result, kinds, h * DAYS_PER_YEAR)
            ref = sets.get(reference, set())
            for arm in result.arms:
                s = sets.get(arm, set())
                lo, hi = wilson(len(s), n)
                rr, rr_lo, rr_hi = paired_relative_risk(s, ref, n)
                per_arm[arm].append({"years": h, "events": len(s), "risk": len(s) / n, "low": lo, "high": hi,
                                     "rr": rr, "rr_low": rr_lo, "rr_high": rr_hi})
        out["outcomes"][label] = per_arm
    return out
