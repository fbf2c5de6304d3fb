"""Figures of a virtual cohort: infections and lung metastases over calendar time, cumulative lung
metastasis by arm with 95% bands, relapses averted by arm with 95% intervals. Plotting only: the series come
from the cohort summary; the bands are binomial intervals of its counts (no model numerics here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..vocab import DAYS_PER_YEAR
from .figures import _plt

MONTH_DAYS = DAYS_PER_YEAR / 12.0
Z95 = 1.959963984540054


def wilson_band(k: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Wilson 95% interval of the shares k/n (exact 0 at k = 0, 1 at k = n)."""
    k = np.asarray(k, dtype=float)
    n = max(int(n), 1)
    p = k / n
    den = 1 + Z95**2 / n
    mid = (p + Z95**2 / (2 * n)) / den
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / den
    return np.where(k == 0, 0.0, np.clip(mid - half, 0, 1)), np.where(k == n, 1.0, np.clip(mid + half, 0, 1))


def _dates(start: dt.date, n: int) -> list[dt.date]:
    return [start + dt.timedelta(days=float(i * MONTH_DAYS)) for i in range(n)]


def incidence_figure(monthly: Mapping[str, Mapping[str, Sequence[float]]], n_persons: int, start: dt.date,
                     path: Path, *, arm: str) -> Path:
    """Monthly infections (by virus) and lung metastases per 100,000 people in one arm."""
    plt = _plt()
    m = monthly[arm]
    x = _dates(start, len(m["influenza"]))
    per = 1e5 / max(n_persons, 1)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 6), sharex=True, constrained_layout=True)
    ax1.plot(x, np.asarray(m["influenza"]) * per, label="influenza")
    ax1.plot(x, np.asarray(m["sars_cov_2"]) * per, label="SARS-CoV-2")
    ax1.set_ylabel("infections (per 100,000 per month)")
    ax1.legend(frameon=False)
    ax1.set_title(f"Virtual cohort ({n_persons:,} survivors), arm '{arm}'")
    ax2.plot(x, np.asarray(m["lung_metastases"]) * per, color="C3", label="lung metastases")
    ax2.plot(x, np.asarray(m["cancer_deaths"]) * per, color="k", lw=0.8, label="breast-cancer deaths")
    ax2.set_ylabel("events (per 100,000 per month)")
    ax2.set_xlabel("calendar date")
    ax2.legend(frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cumulative_figure(monthly: Mapping[str, Mapping[str, Sequence[float]]], n_persons: int, start: dt.date,
                      path: Path) -> Path:
    """Cumulative incidence of lung metastasis by arm (everyone followed to the same end, deaths competing)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    for i, (arm, m) in enumerate(monthly.items()):
        k = np.cumsum(m["lung_metastases"])
        x = _dates(start, len(k))
        lo, hi = wilson_band(k, n_persons)
        ax.fill_between(x, lo * 100, hi * 100, color=f"C{i}", alpha=0.15, lw=0)
        ax.plot(x, k / max(n_persons, 1) * 100, color=f"C{i}", label=f"{arm} (band: 95% interval)")
    ax.set_ylabel("cumulative lung metastasis (% of cohort)")
    ax.set_xlabel("calendar date")
    ax.set_title("Lung metastasis by arm (same people, same infection draws)")
    ax.legend(frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def averted_figure(summary: Mapping[str, Any], path: Path) -> Path | None:
    """Lung metastases averted per 1,000 by arm against the reference arm, with 95% intervals from the paired
    standard error. ``None`` when the cohort has no arm to compare."""
    ref = summary["reference_arm"]
    arms = [(a, c) for a, c in summary["arms"].items() if a != ref and c.get("averted_per_1000") is not None]
    if not arms:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(arms) + 1.4), constrained_layout=True)
    y = np.arange(len(arms))[::-1]
    est = np.array([c["averted_per_1000"] for _, c in arms], dtype=float)
    se = np.array([c.get("averted_per_1000_se_paired") or 0.0 for _, c in arms], dtype=float)
    ax.errorbar(est, y, xerr=Z95 * se, fmt="s", color="#1f4e79", capsize=4, lw=2)
    ax.axvline(0.0, color="#888", ls="--", lw=1)
    ax.set_yticks(y, [a for a, _ in arms])
    ax.set_xlabel(f"lung metastases averted vs '{ref}' (per 1,000 people; 95% interval, paired SE)")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
