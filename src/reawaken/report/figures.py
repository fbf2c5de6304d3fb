"""Figures of simulated episodes. Plotting only: every number comes from an Episode."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..experiments.readouts import REPORT_DAYS, dcc_total
from ..experiments.run import Episode


def _plt():  # noqa: ANN202
    import matplotlib

    matplotlib.use("Agg", force=True)  # headless; set here, never at import time
    import matplotlib.pyplot as plt

    return plt


def episode_figure(episodes: Sequence[Episode], path: Path, *, title: str = "") -> Path:
    """Four panels: virus, IL-6, CD8/CD4, lung DCC fold (log scales) for one or more episodes."""
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), constrained_layout=True)
    for ep in episodes:
        t = ep.time
        label = ep.scenario.label
        axes[0, 0].plot(t, np.maximum(ep.column("virus"), 1e-2), label=label)
        axes[0, 1].plot(t, np.maximum(ep.column("il6"), 1e-2), label=label)
        (line,) = axes[1, 0].plot(t, np.maximum(ep.column("cd8"), 1.0), label=f"{label} CD8")
        axes[1, 0].plot(t, np.maximum(ep.column("cd4"), 1.0), ls="--", color=line.get_color())
        total = dcc_total(ep.columns())
        axes[1, 1].plot(t, total / total[0], label=label)
    horizon = max(ep.time[-1] for ep in episodes)
    for ax, ylab in zip(axes.flat, ("virus (TCID50/mL)", "IL-6 (pg/mL)", "T cells (cells; dashed: CD4)",
                                    "lung DCCs / day-0 count")):
        ax.set_yscale("log")
        ax.set_ylabel(ylab)
        ax.set_xlabel("days after first infection")
        ax.set_xlim(0, min(horizon, 30.0) if ax is not axes[1, 1] else horizon)
    for d in REPORT_DAYS:
        if d <= horizon:
            axes[1, 1].axvline(d, color="0.85", lw=0.8, zorder=0)
    axes[1, 1].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def stochastic_figure(result, path: Path) -> Path:  # noqa: ANN001
    """Replicate spread of the DCC fold (5-95% band, median, ODE) and the final clone-size distribution."""
    plt = _plt()
    from ..experiments.stochastic import ode_total

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    days = np.asarray(result.days)
    fold = result.total / max(result.d0, 1)
    q = np.quantile(fold, [0.05, 0.5, 0.95], axis=0)
    a.fill_between(days, q[0], q[2], alpha=0.3, label="5-95% of replicates")
    a.plot(days, q[1], "o-", label="median")
    ode = ode_total(result)
    a.plot(days, [ode[f"{d:g}"] / max(result.d0, 1) for d in days], "k--", label="ODE")
    a.set_yscale("log")
    a.set_xlabel("day")
    a.set_ylabel("lung DCCs / day-0 count")
    a.set_title(f"{result.scenario.label}: {result.replicates} replicates ({result.method})")
    a.legend(fontsize=8)
    if result.clone_sizes.size:
        b.hist(np.log10(result.clone_sizes), bins=40)
    b.axvline(np.log10(result.lesion_threshold), color="k", ls=":", label="lesion threshold")
    b.set_xlabel("log10 clone size at the last day (cells)")
    b.set_ylabel("clones")
    b.legend(fontsize=8)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
