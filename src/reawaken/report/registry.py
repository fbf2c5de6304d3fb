"""Registry study outputs for people: a forest plot of hazard ratios and a self-contained HTML summary.

Plotting and formatting only: every number comes from the result dict of
:func:`reawaken.analysis.analyze_survival`.
"""

from __future__ import annotations

import base64
import html
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..vocab import DAYS_PER_YEAR
from .figures import _plt

# Text that comes from a study file (its name, covariate names) is drawn as written: matplotlib would
# otherwise read "$...$" as mathtext and fail on an unbalanced "$" after the analysis has finished.
_LITERAL = {"parse_math": False}

# Published registry estimates (science.md 1.3; news-level sources, CIs not found).
PUBLISHED = {"ukb-style": ("UK Biobank, OR ~1.85 (cancer death)", 1.85),
             "flatiron-style": ("Flatiron Health, HR ~1.44 (lung metastasis)", 1.44)}


def forest_plot(hazard_ratios: Sequence[Mapping[str, Any]], path: Path, *, title: str = "",
                truth: Mapping[str, float] | None = None, published: tuple[str, float] | None = None) -> Path:
    """Hazard ratios with confidence intervals on a log axis; planted truth (per term) and a published
    estimate as reference marks when given."""
    plt = _plt()
    n = len(hazard_ratios)
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * n + 1.6), constrained_layout=True)
    y = np.arange(n)[::-1]
    labelled = False
    for yi, h in zip(y, hazard_ratios):
        ax.plot([h["ci_low"], h["ci_high"]], [yi, yi], color="#1f4e79", lw=2)
        ax.plot(h["hr"], yi, "s", color="#1f4e79", ms=6)
        if truth and h["term"] in truth:
            ax.plot(truth[h["term"]], yi, "x", color="#b00020", ms=9, mew=2,
                    label=None if labelled else "planted truth")
            labelled = True
    ax.axvline(1.0, color="#888", lw=1, ls="--")
    if published:
        ax.axvline(published[1], color="#0a7a32", lw=1, ls=":", label=published[0])  # ours: no "$"
    ax.set_xscale("log")
    ax.set_yticks(y, [h["term"] for h in hazard_ratios], **_LITERAL)
    ax.set_xlabel("hazard ratio (95% CI, robust SE; log scale)")
    if title:
        ax.set_title(title, **_LITERAL)
    if truth or published:
        ax.legend(loc="best", fontsize=8)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _at_risk(c: Mapping[str, Sequence[float]], day: float) -> int | None:
    """People at risk on the curve just after ``day``: ``at_risk`` of its first row after ``day`` (km.json counts
    a person entering at t as at risk just after t, so the row *at* day 0 holds 0). None past the curve's end."""
    days = np.asarray(c["day"], dtype=float)
    k = int(np.searchsorted(days, day, side="right"))
    return None if k >= days.size else int(np.asarray(c["at_risk"])[k])


def km_figure(curves: Mapping[str, Mapping[str, Sequence[float]]], path: Path, *, title: str = "") -> Path:
    """Outcome-free survival from index (all persons) and by current exposure state (Simon–Makuch), with the
    pointwise 95% bands and a numbers-at-risk table under the axes (all read from the curves, km.json)."""
    plt = _plt()
    n = len(curves)
    fig, (ax, tab) = plt.subplots(2, 1, figsize=(7.5, 4.4 + 0.22 * n), constrained_layout=True, sharex=True,
                                  gridspec_kw={"height_ratios": [4.2, 0.3 + 0.22 * n]})
    end = 0.0
    for i, (label, c) in enumerate(curves.items()):
        x = np.asarray(c["day"], dtype=float) / DAYS_PER_YEAR
        end = max(end, float(x[-1]) if x.size else 0.0)
        if "ci_low" in c and "ci_high" in c:
            ax.fill_between(x, c["ci_low"], c["ci_high"], step="post", color=f"C{i}", alpha=0.15, lw=0)
        ax.step(x, c["survival"], where="post", label=label, lw=1.4, color=f"C{i}")
    ax.set_ylabel("outcome-free probability (1)")
    if title:
        ax.set_title(title, **_LITERAL)
    legend = ax.legend(fontsize=8)
    for text in legend.get_texts():
        text.set_parse_math(False)
    step = max(1, int(np.ceil(end / 8)))
    ticks = np.arange(0, np.floor(end) + 1, step)
    tab.set_ylim(-0.5, n - 0.5)
    names = [textwrap.shorten(str(label).replace(" (Simon-Makuch)", "").replace(" (Simon–Makuch)", ""), 30,
                              placeholder="...") for label in curves]
    tab.set_yticks(np.arange(n)[::-1], names, fontsize=7, **_LITERAL)
    for row, c in zip(np.arange(n)[::-1], curves.values()):
        if "at_risk" not in c:
            continue
        for t in ticks:
            value = _at_risk(c, t * DAYS_PER_YEAR)
            tab.text(t, row, "–" if value is None else f"{value:,}", ha="center", va="center", fontsize=7)
    tab.set_xticks(ticks)
    tab.set_xlabel("years since index (y); rows: numbers at risk")
    for side in ("top", "right", "left"):
        tab.spines[side].set_visible(False)
    tab.tick_params(axis="y", length=0)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _img(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def render_registry_report(path: Path, result: Mapping[str, Any], *, study: Mapping[str, Any],
                           forest_png: Path, km_png: Path, truth: Mapping[str, float] | None = None) -> Path:
    """One HTML file: study definition, attrition, hazard ratios, incidence, figures (embedded)."""
    esc = html.escape
    rows = "".join(
        f"<tr><td class=l>{esc(h['term'])}</td><td>{h['hr']:.3f}</td><td>{h['ci_low']:.3f}–{h['ci_high']:.3f}</td>"
        f"<td>{h['p']:.3g}</td><td>{(truth or {}).get(h['term'], '')}</td></tr>" for h in result["hazard_ratios"])
    inc = "".join(f"<tr><td class=l>{esc(k)}</td><td>{v['events']}</td><td>{v['person_years']:.1f}</td>"
                  f"<td>{v['rate_per_1000_py']:.2f}</td></tr>" for k, v in result["incidence"].items())
    att = "".join(f"<tr><td class=l>{esc(k)}</td><td>{v}</td></tr>" for k, v in result["attrition"].items())
    pub = PUBLISHED.get(str(study.get("name")))
    text = f"""<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(str(study.get('name')))}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;font-size:.9em}}td,th{{border:1px solid #ddd;padding:.25em .5em;text-align:right}}
td.l{{text-align:left}}img{{max-width:100%;height:auto}}.note{{color:#555}}body{{padding:0 .6em}}
.tw{{overflow-x:auto}}</style></head><body>
<h1>Registry study: {esc(str(study.get('name')))}</h1>
<p>{esc(str(study.get('description', '')))}</p>
<p class=note>{result['n_persons']} persons, {result['n_events']} events, {result['person_years']:.0f} person-years,
{result['n_rows']} (start, stop] rows. Cox model with time-varying exposure windows after the most recent recorded
infection; Breslow ties; robust standard errors clustered by person. Reference: no recorded infection yet.
{esc(pub[0]) + ' (published).' if pub else ''}</p>
<h2>Hazard ratios</h2><div class=tw><table><tr><th class=l>term</th><th>HR</th><th>95% CI</th><th>p</th><th>planted</th></tr>{rows}
</table></div><img src="{_img(forest_png)}" alt="forest plot">
<h2>Incidence by exposure state</h2><table><tr><th class=l>state</th><th>events</th><th>person-years</th>
<th>per 1,000 PY</th></tr>{inc}</table>
<p class=note>PY: person-years.</p>
<h2>Outcome-free survival</h2><img src="{_img(km_png)}" alt="Kaplan-Meier curves">
<h2>Attrition</h2><table>{att}</table>
</body></html>"""
    path.write_text(text, encoding="utf-8")
    return path
