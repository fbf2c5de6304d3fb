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


def _param(ep: Episode, name: str) -> float:
    return float(ep.spec.parameter(name).value)


def _has(ep: Episode, name: str) -> bool:
    return name in ep.species


def _relative_hazard(ep: Episode) -> np.ndarray:
    """W(t) over the resting host's W for the day-0 pool: 1 = the hazard before the infection."""
    w = ep.column("awakened") * _hazard_weight(ep)
    pool0 = ep.column("dormant")[0] + _param(ep, "prime_factor") * ep.column("primed")[0]
    return w / max(pool0, 1e-300)


def _hazard_weight(ep: Episode) -> float:
    from ..model.compile import compile_model

    model = compile_model(ep.spec)
    y = np.array([[sp.initial for sp in ep.spec.species]])
    p = np.array([[q.value for q in ep.spec.parameters]])
    return float(model.assignment("hazard_weight", y, p)[0])


def _occupancy(ep: Episode) -> np.ndarray:
    ab = ep.column("antibody")
    return _param(ep, "imax_ab") * ab / (ab + _param(ep, "ic50_ab"))


def episode_figure(episodes: Sequence[Episode], path: Path, *, title: str = "") -> Path:
    """The panels a reader wants, for one or more episodes on shared axes (units on every axis):

    virus (with the detection limit); lung and serum IL-6 against the awakening half-maximum ``K_il6``;
    T cells; NET and niche signals; lung DCC states; the hazard-relevant burden W(t) relative to the resting
    host with its cumulative excess (in years of resting hazard); and, when an anti-IL-6R antibody is given,
    its plasma concentration and receptor occupancy. Fast panels show the first 30 days of a single
    infection and the full horizon when there are several infections.
    """
    plt = _plt()
    with_ab = any(_has(ep, "antibody") and ep.column("antibody").max() > 0 for ep in episodes)
    rows = 4 if with_ab else 3
    fig, axes = plt.subplots(rows, 2, figsize=(11, 3.1 * rows), constrained_layout=True)
    horizon = max(ep.time[-1] for ep in episodes)
    several = any(len(ep.scenario.effective_infection_days) > 1 for ep in episodes)
    fast_end = horizon if several else min(horizon, 30.0)
    for ep in episodes:
        t = ep.time
        label = ep.scenario.label
        (line,) = axes[0, 0].plot(t, np.maximum(ep.column("virus"), 1e-2), label=label)
        colour = line.get_color()
        axes[0, 0].axhline(ep.scenario.profile.detection_limit, color=colour, ls=":", lw=0.8)
        axes[0, 1].plot(t, np.maximum(ep.column("il6"), 1e-2), color=colour, label=f"{label}: lung")
        if _has(ep, "il6_serum"):
            axes[0, 1].plot(t, np.maximum(ep.column("il6_serum"), 1e-2), color=colour, ls="--", label="serum")
        axes[0, 1].axhline(_param(ep, "K_il6"), color=colour, ls=":", lw=0.8)
        axes[1, 0].plot(t, np.maximum(ep.column("cd8"), 1.0), color=colour, label=f"{label}: CD8")
        axes[1, 0].plot(t, np.maximum(ep.column("cd4"), 1.0), color=colour, ls="--", label="CD4")
        if _has(ep, "nets"):
            nets = ep.column("nets")
            axes[1, 1].plot(t, nets / (1 + nets), color=colour, label=f"{label}: NET signal")
        axes[1, 1].plot(t, ep.column("niche"), color=colour, ls="--", label="niche")
        total = dcc_total(ep.columns())
        axes[2, 0].plot(t, total / total[0], color=colour, label=f"{label}: all")
        axes[2, 0].plot(t, np.maximum(ep.column("awakened") / total[0], 1e-6), color=colour, ls="--",
                        label="awakened")
        axes[2, 0].plot(t, np.maximum(ep.column("primed") / total[0], 1e-6), color=colour, ls=":", label="primed")
        rel = _relative_hazard(ep)
        axes[2, 1].plot(t, np.maximum(rel, 1e-3), color=colour, label=f"{label}: W / resting W")
        excess = np.concatenate([[0.0], np.cumsum(0.5 * (rel[1:] + rel[:-1] - 2.0) * np.diff(t))]) / 365.25
        twin = axes[2, 1].twinx() if ep is episodes[0] else twin  # noqa: F821 (set on the first episode)
        twin.plot(t, excess, color=colour, ls="--")
        twin.set_ylabel("cumulative excess hazard (years of resting hazard; dashed)")
        if with_ab:
            axes[3, 0].plot(t, ep.column("antibody"), color=colour, label=label)
            axes[3, 1].plot(t, 100.0 * _occupancy(ep), color=colour, label=label)
    labels = (("virus (TCID50/mL; dotted: detection limit)", True), ("IL-6 (pg/mL; dotted: K_il6, half-max awakening)", True),
              ("T cells near DCCs (cells)", True), ("signal (0-1)", False),
              ("lung DCCs / day-0 count", True), ("hazard-relevant burden W / resting W", True))
    for ax, (ylab, log) in zip(axes.flat, labels):
        if log:
            ax.set_yscale("log")
        ax.set_ylabel(ylab)
        ax.set_xlabel("days after first infection")
        ax.legend(fontsize=7)
    for ax in (axes[0, 0], axes[0, 1], axes[1, 0], axes[1, 1]):
        ax.set_xlim(0, fast_end)
    for ax in (axes[2, 0], axes[2, 1]):
        ax.set_xlim(0, horizon)
    for d in REPORT_DAYS:
        if d <= horizon:
            axes[2, 0].axvline(d, color="0.85", lw=0.8, zorder=0)
    if with_ab:
        axes[3, 0].set_ylabel("anti-IL-6R antibody, plasma (ug/mL)")
        axes[3, 1].set_ylabel("IL-6 receptor occupancy (%)")
        for ax in axes[3]:
            ax.set_xlabel("days after first infection")
            ax.set_xlim(0, horizon)
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def stochastic_figure(result, path: Path) -> Path:  # noqa: ANN001
    """Replicate spread of the DCC fold (5-95% band, median, ODE) and the final clone-size distribution."""
    plt = _plt()
    from ..experiments.stochastic import ode_total

    fig, (a, c, b) = plt.subplots(1, 3, figsize=(15, 4), constrained_layout=True)
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
    # P(no lesion yet) and the time to the first lesion: the chance a reader cares about.
    first = np.asarray(result.first_lesion_day, dtype=float)
    grid = np.linspace(0.0, float(days[-1]), 200)
    p_none = np.array([np.mean(first > d) for d in grid])
    c.plot(grid, p_none, label="P(no lesion by day)")
    if np.isfinite(first).any():
        c.axvline(float(np.median(first[np.isfinite(first)])), color="k", ls=":",
                  label="median day of first lesion (lungs with one)")
    c.set_ylim(0, 1.02)
    c.set_xlabel("day")
    c.set_ylabel("probability (per lung)")
    c.set_title(f"lesion = clone of >= {result.lesion_threshold:g} cells")
    c.legend(fontsize=8)
    if result.clone_sizes.size:
        b.hist(np.log10(result.clone_sizes), bins=40)
    b.axvline(np.log10(result.lesion_threshold), color="k", ls=":", label="lesion threshold")
    b.set_xlabel("log10 clone size at the last day (cells)")
    b.set_ylabel("clones")
    b.legend(fontsize=8)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
