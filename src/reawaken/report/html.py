"""The self-contained demo report: one HTML file, figures embedded as PNG, no network needed to view it."""

from __future__ import annotations

import base64
import html
import io
import re
import textwrap
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
.fail{color:#b00020;font-weight:600}img{max-width:100%;height:auto}.note{color:#555;font-size:.9em}
.tw{overflow-x:auto;max-width:100%}figure{margin:1em 0}figcaption{font-size:.88em;color:#333;max-width:60em}
nav.toc{background:#f7f7f9;border:1px solid #e3e3e8;padding:.5em 1em;border-radius:4px}nav.toc ol{margin:.3em 0}
dl.gloss dt{font-weight:600;margin-top:.4em}dl.gloss dd{margin-left:1.2em}
@media (max-width:600px){body{margin:1em auto;padding:0 .6em}h1{font-size:1.3em}table{font-size:.78em}}
"""


_H2_ID = re.compile(r"<h2 id=([A-Za-z0-9_-]+)>(.*?)</h2>", re.S)

GLOSSARY = (
    ("DCC", "disseminated cancer cell: a breast-cancer cell that left the tumour and lodged in another organ (here "
     "the lung), where it can stay dormant (not dividing) for years."),
    ("dormant / awakened / primed", "the DCC states of the model: dormant cells do not divide; awakened cells "
     "proliferate; primed cells have returned to dormancy after an episode and wake more readily next time."),
    ("IL-6", "interleukin-6, an inflammatory cytokine the infected lung releases; in the model it is what wakes "
     "dormant DCCs (pg/mL: picograms per millilitre)."),
    ("anti-IL-6 (anti-IL-6R)", "an antibody that blocks the IL-6 receptor (tocilizumab-like); it blocks the signal, "
     "not the cytokine, so IL-6 levels can stay high while awakening stops."),
    ("CD4 / CD8 T cells", "CD8 T cells kill infected cells and awakened DCCs; CD4 T cells gather near DCCs and "
     "shield them from CD8 killing."),
    ("dpi", "days post infection."),
    ("fold", "a count divided by its day-0 value (1 = unchanged)."),
    ("TCID50/mL", "50% tissue-culture infectious dose per millilitre: the unit of infectious virus."),
    ("PR8, MA10", "the mouse-adapted influenza (A/Puerto Rico/8/34) and SARS-CoV-2 (MA10) strains of the experiments."),
    ("PBS", "phosphate-buffered saline: the uninfected control."),
    ("virtual cohort", "simulated breast-cancer survivors followed through influenza seasons and SARS-CoV-2 waves; "
     "every infection runs through the human model."),
    ("arm", "one version of the virtual cohort (e.g. everyone vaccinated); arms share people and infection draws, "
     "so differences between arms are paired."),
    ("averted per 1,000", "lung metastases prevented per 1,000 people compared with the reference arm; its paired "
     "standard error (SE) and 95% interval come from person-by-person differences."),
    ("OMOP CDM", "the Observational Medical Outcomes Partnership Common Data Model: the table layout many "
     "health-record registries use; the registry studies here run on simulated CDMs."),
    ("HR, CI", "hazard ratio (how many times higher the event rate is) and its 95% confidence interval."),
    ("Cox model", "a regression of event rates on covariates; here with exposure windows that change over time and "
     "robust standard errors clustered by person."),
    ("Kaplan-Meier (KM)", "the share of people still free of the outcome over time; the band is its pointwise 95% "
     "interval and the numbers at risk are the people still followed."),
    ("Simon-Makuch", "Kaplan-Meier curves by the exposure state a person is in at each time (e.g. 0-90 days after "
     "an infection), so that no one is classified by what happens later."),
    ("planted truth", "hazard ratios built into a simulated registry on purpose, to check that the analysis finds them."),
)


def _figure(src: str, alt: str, caption: str) -> str:
    return (f'<figure><img src="{src}" alt="{html.escape(alt)}"><figcaption>{html.escape(caption)}</figcaption>'
            "</figure>")


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
        ax.set_xlabel("days after (first) infection (d)")
        ax.set_ylabel("lung DCCs / day-0 count (fold)")
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
             ("cd4", "CD4 near DCCs (cells)"), ("awakened", "awakened DCCs (cells)"),
             ("primed", "primed dormant DCCs (cells)")]
    for ax, (sp, lab) in zip(axes.flat, names):
        for ep in panel:
            early = ep.time <= 30.0
            ax.plot(ep.time[early], np.maximum(ep.column(sp)[early], 1e-2), label=ep.scenario.label, lw=1.3)
        ax.set_yscale("log")
        ax.set_xlim(0, 30)
        ax.set_ylabel(lab)
        ax.set_xlabel("days after infection (d)")
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
    axes[2].set_ylabel("lung DCCs / day-0 count (fold)")
    axes[2].set_yscale("log")
    for ax in axes[:2]:
        ax.set_xlim(0, 21)
        ax.axvline(2.0, color="0.7", ls=":", lw=1)  # target 10: nasal IL-6 and shedding peak on day 2
    for ax in axes:
        ax.set_xlabel("days after infection (d)")
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
        claim = textwrap.shorten(str(t["claim"]), width=72, placeholder=" ...")  # at a word, never mid-word
        ax.text(3.35, y, f"{t['id']}: {claim} = {_fmt(v)} {t.get('unit') or ''}".rstrip(), va="center", fontsize=7)
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
    return (f"<div class=tw><table><tr><th class=l>arm</th>{head}<th>IL-6 peak (pg/mL)</th><th>IL-6 peak day (d)</th>"
            f"<th>virus peak day (d)</th><th>virus cleared day (d)</th></tr>{''.join(rows)}</table></div>")


def _targets_table(targets: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for t in targets:
        cls, word = ("ok", "pass") if t["ok"] else ("fail", "FAIL")
        rows.append(f"<tr><td class=l>{t['id']}</td><td class=l>{html.escape(str(t['claim']))}</td>"
                    f"<td>{_fmt(t['value'])} {html.escape(str(t['unit']))}</td><td>[{_fmt(t['low'])}, {_fmt(t['high'])}]</td>"
                    f"<td class={cls}>{word}</td><td class=l>{html.escape(str(t['source']))}</td></tr>")
    return ("<div class=tw><table><tr><th>id</th><th class=l>claim</th><th>model</th><th>accepted</th><th></th>"
            f"<th class=l>source</th></tr>{''.join(rows)}</table></div>")


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
    sections = [("targets", f"Calibration targets ({n_ok} of {len(targets)} met)"),
                ("panel", "Mouse panel: lung DCC burden"), ("mechanism", "Mechanism: virus, IL-6, T cells and DCC states"),
                ("human", "Human episodes")]
    sections += [(m.group(1), re.sub(r"<[^>]+>", "", m.group(2))) for m in _H2_ID.finditer(extra_html)]
    sections += [("glossary", "Glossary"), ("about", "About this report")]
    toc = "".join(f'<li><a href="#{sid}">{html.escape(title, quote=False)}</a></li>' for sid, title in sections)
    body = f"""
<h1>reawaken: respiratory infection &rarr; IL-6 &rarr; awakening of dormant lung DCCs</h1>
<p class=note>Research use only; not for clinical decisions. A model of Chia et al., <i>Nature</i> 645:496 (2025):
a respiratory virus makes the lung release IL-6, which wakes dormant disseminated breast-cancer cells (DCCs); CD4 T
cells shield the woken cells from CD8 killing, and many return to a larger, primed dormant pool.</p>
<nav class=toc aria-label="Contents"><b>Contents</b><ol>{toc}</ol></nav>
<h2 id=targets>Calibration targets ({n_ok} of {len(targets)} met)</h2>
<p class=note>Each value is measured on a fresh simulation. Per-time-point counts of the paper were not available;
targets are the firm claims of science.md &sect;4a with the tolerances given there.</p>
{_figure(targets_figure(targets), "calibration targets",
         "Each row is one published claim. The grey bar is the accepted range, the dot the model: a green dot inside "
         "its bar is a target met. Two-sided ranges are scaled to 0-1; one-sided ones extend in decades beyond the "
         "bound (arrow = open side). Full claims and sources are in the table below.")}
{_targets_table(targets)}
<h2 id=panel>Mouse panel: lung DCC burden</h2>
{_figure(fold_figure(panel), "DCC fold over time",
         "Lung DCC count relative to day 0 (log scale) for every arm of the mouse panel. Compare the infected arms "
         "with the green box (the published 100-1,000-fold rise at 14-15 dpi), the IL-6 knockout and anti-IL-6R arms "
         "with the untreated infection, and every arm with PBS months later (right panel: the burden left behind).")}
{_readout_table(panel)}
<h2 id=mechanism>Mechanism: virus, IL-6, T cells and DCC states</h2>
{_figure(dynamics_figure(panel), "dynamics",
         "First month of each arm (log scales). Look for: the IL-6 peak on day 2-3 following the virus (dotted line: "
         "the IL-6 level of half-maximal awakening), awakened DCCs rising only while IL-6 is high, CD4 cells "
         "accumulating near DCCs through day 28, and the primed pool left behind after the episode.")}
<h2 id=human>Human episodes</h2>
<p class=note>Human DCC responses reuse the mouse per-cell parameters except K_il6 and k_w0, which are calibrated on the virtual cohort (docs/model.md, docs/cohorts.md).</p>
{_figure(human_figure(human), "human episodes",
         "A typical (median-severity) human influenza and SARS-CoV-2 episode: nasal virus and IL-6 over three weeks, "
         "lung DCC fold over the horizon. Look for: influenza shedding and IL-6 peaking near day 2 (dotted line: "
         "the published human timing), and how little a typical episode moves the lung DCC count compared with the "
         "mouse: in the cohort it is the rarer severe, pneumonic episodes that wake DCCs.")}
{_readout_table(human)}
{extra_html}
<h2 id=glossary>Glossary</h2>
<dl class=gloss>{''.join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in GLOSSARY)}</dl>
<h2 id=about>About this report</h2>
<p class=note>Generated {html.escape(str(manifest.get('created_utc')))}; {html.escape(versions)}; git
{html.escape(str(manifest.get('git_revision')))}. One self-contained file: figures are embedded, nothing is loaded
from the network. The data behind it are in the same folder (manifest.json lists every file with its checksum).</p>
"""
    page = ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content=\"width=device-width, initial-scale=1\"><title>reawaken demo</title>"
            f"<style>{_CSS}</style></head><body>{body}</body></html>")
    path.write_text(page)
    return path
