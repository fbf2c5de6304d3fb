"""Figures of a virtual cohort: infections and lung metastases over calendar time, cumulative lung
metastasis by arm. Plotting only: the series come from the cohort summary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..vocab import DAYS_PER_YEAR
from .figures import _plt

MONTH_DAYS = DAYS_PER_YEAR / 12.0


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
    ax1.set_ylabel("infections / month / 100k")
    ax1.legend(frameon=False)
    ax1.set_title(f"Virtual cohort ({n_persons:,} survivors), arm '{arm}'")
    ax2.plot(x, np.asarray(m["lung_metastases"]) * per, color="C3", label="lung metastases")
    ax2.plot(x, np.asarray(m["cancer_deaths"]) * per, color="k", lw=0.8, label="breast-cancer deaths")
    ax2.set_ylabel("events / month / 100k")
    ax2.legend(frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cumulative_figure(monthly: Mapping[str, Mapping[str, Sequence[float]]], n_persons: int, start: dt.date,
                      path: Path) -> Path:
    """Cumulative incidence of lung metastasis by arm (everyone followed to the same end, deaths competing)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    for arm, m in monthly.items():
        y = np.cumsum(m["lung_metastases"]) / max(n_persons, 1) * 100
        ax.plot(_dates(start, len(y)), y, label=arm)
    ax.set_ylabel("cumulative lung metastasis (%)")
    ax.set_title("Lung metastasis by arm (same people, same infection draws)")
    ax.legend(frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
