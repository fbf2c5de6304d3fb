"""The self-contained demo report: one HTML file, figures embedded as PNG, no network needed to view it."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..experiments.readouts import REPORT_DAYS, dcc_total
from ..experiments.run import Episode
from .figures import _plt

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .5em;
text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}.ok{color:#0a7a32;font-weight:600}
.fail{color:#b00020;font-weight:600}img{max-width:100%}.note{color:#555;font-size:.9em}
"""


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    _plt().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _fold(ep: Episode) -> np.ndarray:
    total = dcc_total(ep.columns())
    return total / total[0]


def _thin(time: np.ndarray) -> np.ndarray:
    """Indices at ~0.5-day spacing: enough for a 9-month panel, far cheaper to draw than 0.05-day points."""
    return np.unique(np.searchsorted(time, np.arange(time[0], time[-1], 0.5)).clip(0, time.size - 1))


def fold_figure(panel: Sequence[Episode]) -> str:
    """DCC fold over time for every arm, with the sampling days of Chia et al. and the target band."""
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    for ep in panel:
        early = ep.time <= 30.0
        a.plot(ep.time[early], _fold(ep)[early], label=ep.scenario.label, lw=1.6)
        late = _thin(ep.time)
        b.plot(ep.time[late], _fold(ep)[late], label=ep.scenario.label, lw=1.6)
        a.set_xlim(0, 30.0)
        b.set_xlim(0, ep.time[-1])
    for ax in (a, b):
        ax.set_yscale("log")
        ax.set_xlabel("days after (first) infection")
        ax.set_ylabel("lung DCCs / day-0 count")
        for d in REPORT_DAYS:
            ax.axvline(d, color="0.88", lw=0.8, zorder=0)
    # Target 3: 100-1,000-fold at 14-15 dpi (press release / abstract wording).
    a.fill_between([14, 15], 100, 1000, color="tab:green", alpha=0.25, label="target: 100-1000x at 14-15 dpi")
    a.set_title("first month (grey lines: sampling days 3, 6, 9, 15, 28 dpi)")
    b.set_title("nine months (sampling days 28, 60 dpi and ~270 d)")
    a.legend(fontsize=7, loc="upper left")
    return _png(fig)


def dynamics_figure(panel: Sequence[Episode]) -> str:
    """Virus, IL-6, CD8/CD4 and DCC states in the first month for the main arms."""
    plt = _plt()
    fig, axes = plt.subplots(2, 3, figsize=(13, 7), constrained_layout=True)
    names = [("virus", "virus (TCID50/mL)"), ("il6", "IL-6 (pg/mL)"), ("cd8", "CD8 effectors (cells)"),
             ("cd4", "CD4 near DCCs (cells)"), ("awakened", "awakened DCCs"), ("primed", "primed dormant DCCs")]
    for ax, (sp, lab) in zip(axes.flat, names):
        for ep in panel:
            early = ep.time <= 30.0
            ax.plot(ep.time[early], np.maximum(ep.column(sp)[early], 1e-2), label=ep.scenario.label, lw=1.3)
        ax.set_yscale("log")
        ax.set_xlim(0, 30)
        ax.set_ylabel(lab)
        ax.set_xlabel("days")
    axes[0, 0].set_ylim(1e-2, None)
    axes[0, 1].axhline(60.0, color="0.6", ls=":", lw=1)  # K_il6: half-maximal awakening signal
    axes[0, 0].legend(fontsize=6)
    return _png(fig)


def human_figure(human: Sequence[Episode]) -> str:
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    for ep in human:
        early = ep.time <= 21.0
        axes[0].plot(ep.time[early], np.maximum(ep.column("virus")[early], 1e-2), label=ep.scenario.label)
        axes[1].plot(ep.time[early], ep.column("il6")[early], label=ep.scenario.label)
        late = _thin(ep.time)
        axes[2].plot(ep.time[late], _fold(ep)[late], label=ep.scenario.label)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("virus (TCID50/mL)")
    axes[1].set_ylabel("IL-6 (pg/mL)")
    axes[2].set_ylabel("lung DCCs / day-0 count")
    axes[2].set_yscale("log")
    for ax in axes[:2]:
        ax.set_xlim(0, 21)
        ax.axvline(2.0, color="0.7", ls=":", lw=1)  # target 10: nasal IL-6 and shedding peak on day 2
    for ax in axes:
        ax.set_xlabel("days after infection")
    axes[0].legend(fontsize=7)
    return _png(fig)


def targets_figure(targets: Sequence[Mapping[str, Any]]) -> str:
    """Each calibration target as its accepted range (bar) and the model's value (dot): the fit at a glance.

    Values are shown relative to the accepted range: 0 = lower bound, 1 = upper bound (one-sided ranges
    are drawn from the bound to twice the model's distance, arrows mark the open side).
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(11, 0.32 * len(targets) + 1.2), constrained_layout=True)
    for row, t in enumerate(targets):
        lo, hi, v = float(t["low"]), float(t["high"]), float(t["value"])
        y = len(targets) - 1 - row
        colour = "tab:green" if t["ok"] else "tab:red"
        if np.isfinite(lo) and np.isfinite(hi):
            pos = (v - lo) / (hi - lo) if hi > lo else 0.5
            ax.plot([0, 1], [y, y], color="0.75", lw=6, solid_capstyle="butt")
        elif np.isfinite(lo):  # value must be >= lo
            pos = 1.0 + np.log10(max(v, 1e-300) / lo) if lo > 0 else (1.0 if v >= lo else -0.5)
            ax.plot([1, 3], [y, y], color="0.75", lw=6, solid_capstyle="butt")
            ax.annotate("", xy=(3.1, y), xytext=(2.9, y), arrowprops={"arrowstyle": "->", "color": "0.6"})
        else:  # value must be <= hi
            pos = -np.log10(max(hi, 1e-300) / max(v, 1e-300)) if v > 0 and hi > 0 else 0.0
            ax.plot([-2, 0], [y, y], color="0.75", lw=6, solid_capstyle="butt")
        ax.plot([np.clip(pos, -2.2, 3.2)], [y], "o", color=colour, ms=7)
        ax.text(3.35, y, f"{t['id']}: {t['claim'][:70]} = {_fmt(v)}", va="center", fontsize=7)
    ax.set_yticks([])
    ax.set_xlim(-2.3, 9.5)
    ax.set_xticks([])
    ax.set_title("calibration targets: grey = accepted range (two-sided ranges scaled to [0, 1]; "
                 "one-sided in decades beyond the bound), dot = model", fontsize=9)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    return _png(fig)


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if not np.isfinite(x):
            return "inf" if x > 0 else "-inf"
        return f"{x:.3g}"
    return html.escape(str(x))


def _readout_table(episodes: Sequence[Episode]) -> str:
    days = [str(d) for d in REPORT_DAYS]
    head = "".join(f"<th>{d} d</th>" for d in days)
    rows = []
    for ep in episodes:
        r = ep.readouts
        folds = "".join(f"<td>{_fmt(r['dcc_fold'].get(d))}</td>" for d in days)
        rows.append(f"<tr><td class=l>{html.escape(ep.scenario.label)}</td>{folds}<td>{_fmt(r['il6_peak_pg_ml'])}</td>"
                    f"<td>{_fmt(r['il6_peak_day'])}</td><td>{_fmt(r['virus_peak_day'])}</td>"
                    f"<td>{_fmt(r['virus_clearance_day'])}</td></tr>")
    return (f"<table><tr><th class=l>arm</th>{head}<th>IL-6 peak (pg/mL)</th><th>IL-6 peak day</th>"
            f"<th>virus peak day</th><th>virus cleared day</th></tr>{''.join(rows)}</table>")


def _targets_table(targets: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for t in targets:
        cls, word = ("ok", "pass") if t["ok"] else ("fail", "FAIL")
        rows.append(f"<tr><td class=l>{t['id']}</td><td class=l>{html.escape(str(t['claim']))}</td>"
                    f"<td>{_fmt(t['value'])} {html.escape(str(t['unit']))}</td><td>[{_fmt(t['low'])}, {_fmt(t['high'])}]</td>"
                    f"<td class={cls}>{word}</td><td class=l>{html.escape(str(t['source']))}</td></tr>")
    return ("<table><tr><th>id</th><th class=l>claim</th><th>model</th><th>accepted</th><th></th>"
            f"<th class=l>source</th></tr>{''.join(rows)}</table>")


def render_demo_report(
    path: Path,
    *,
    panel: Sequence[Episode],
    human: Sequence[Episode],
    targets: Sequence[Mapping[str, Any]],
    manifest: Mapping[str, Any],
    extra_html: str = "",
) -> Path:
    """Write the demo report to ``path`` (``extra_html``: further sections, e.g. the cohort and registry)."""
    n_ok = sum(1 for t in targets if t["ok"])
    versions = ", ".join(f"{k} {v}" for k, v in manifest.get("versions", {}).items())
    body = f"""
<h1>reawaken: respiratory infection &rarr; IL-6 &rarr; awakening of dormant lung DCCs</h1>
<p class=note>Research use only. Model of Chia et al., <i>Nature</i> 645:496 (2025). Generated
{html.escape(str(manifest.get('created_utc')))}; {html.escape(versions)}; git {html.escape(str(manifest.get('git_revision')))}.</p>
<h2>Calibration targets ({n_ok} of {len(targets)} met)</h2>
<p class=note>Each value is measured on a fresh simulation. Per-time-point counts of the paper were not available;
targets are the firm claims of science.md &sect;4a with the tolerances given there.</p>
<img src="{targets_figure(targets)}" alt="calibration targets">
{_targets_table(targets)}
<h2>Mouse panel: lung DCC burden</h2>
<img src="{fold_figure(panel)}" alt="DCC fold over time">
{_readout_table(panel)}
<h2>Mechanism: virus, IL-6, T cells and DCC states</h2>
<img src="{dynamics_figure(panel)}" alt="dynamics">
<h2>Human episodes</h2>
<p class=note>Human DCC responses reuse the mouse per-cell parameters except K_il6 and k_w0, which are calibrated on the virtual cohort (docs/model.md, docs/cohorts.md).</p>
<img src="{human_figure(human)}" alt="human episodes">
{_readout_table(human)}
{extra_html}
"""
    page = f"<!doctype html><html><head><meta charset=utf-8><title>reawaken demo</title><style>{_CSS}</style></head><body>{body}</body></html>"
    path.write_text(page)
    return path
