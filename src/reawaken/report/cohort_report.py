"""The demo report's cohort and registry sections (HTML; figures embedded). No model numerics here: the 95%
intervals are the summary's paired standard errors times 1.96."""

from __future__ import annotations

import base64
import html
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .registry import PUBLISHED

_ARM_COLUMNS = (("infections", "infections"), ("lung_metastases", "lung metastases"),
                ("cancer_deaths", "breast-cancer deaths"), ("anti_il6_doses", "anti-IL-6 doses"),
                ("averted_per_1000", "lung mets averted / 1,000"), ("averted_per_1000_se_paired", "paired SE"))
Z95 = 1.959963984540054

_CAPTIONS = {
    "incidence": "Monthly infections by virus (top) and monthly lung metastases and breast-cancer deaths (bottom) per "
                 "100,000 people in the reference arm. Look for the SARS-CoV-2 waves from 2020 and whether lung "
                 "metastases follow the large waves.",
    "cumulative_lung_metastasis": "Cumulative share of the cohort diagnosed with a lung metastasis, by arm (bands: 95% "
                                  "binomial intervals of each arm's share). Arms share people and infection draws, "
                                  "so the paired comparison in the next figure is sharper than these bands suggest.",
}


def _figure_html(src: str, alt: str, caption: str) -> str:
    return (f'<figure><img src="{src}" alt="{html.escape(alt)}"><figcaption>{html.escape(caption)}</figcaption>'
            "</figure>")


def _ci(c: Mapping[str, Any]) -> str:
    a, se = c.get("averted_per_1000"), c.get("averted_per_1000_se_paired")
    if a is None or se is None:
        return "–"
    if se == 0:
        return "(reference)" if a == 0 else f"{a:.3g}"
    return f"{a - Z95 * se:.3g} to {a + Z95 * se:.3g}"


def _data_uri(path: Path) -> str:
    return f"data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}"


def _img(path: Path, alt: str) -> str:
    return _figure_html(_data_uri(path), alt, _CAPTIONS.get(path.stem, ""))


def _num(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and not x.is_integer():
        return f"{x:.3g}"
    return f"{int(x):,}"


def cohort_section(summary: Mapping[str, Any], figures: Sequence[Path]) -> str:
    from .cohort_figures import averted_figure

    ref = summary["reference_arm"]
    head = "".join(f"<th>{html.escape(t)}</th>" for _, t in _ARM_COLUMNS) + "<th>95% interval</th>"
    rows = "".join(
        f"<tr><td class=l>{html.escape(arm)}</td>" + "".join(f"<td>{_num(c.get(k))}</td>" for k, _ in _ARM_COLUMNS)
        + f"<td>{_ci(c)}</td></tr>" for arm, c in summary["arms"].items())
    with tempfile.TemporaryDirectory(prefix="reawaken-report-") as tmp:
        averted = averted_figure(summary, Path(tmp) / "averted.png")
        averted_html = "" if averted is None else _figure_html(
            _data_uri(averted), "lung metastases averted by arm",
            f"Lung metastases averted per 1,000 people in each arm compared with '{ref}', with 95% intervals from "
            "the paired standard error (same people, same infection draws). Right of zero: the arm prevents lung "
            "metastases; an interval that crosses zero means this cohort size cannot tell.")
    return f"""
<h2 id=cohort>Virtual cohort: {summary['n_persons']:,} survivors over {summary['person_years'] / summary['n_persons']:.1f} years each</h2>
<p class=note>Every influenza and SARS-CoV-2 infection runs through the human within-host model; the relapse risk after an
infection comes out of the mechanism. Arms share people and infection draws (common random numbers); differences are
paired against '{html.escape(ref)}'. Model of people and exposure with sources: docs/cohorts.md.</p>
<div class=tw><table><tr><th>arm</th>{head}</tr>{rows}</table></div>
{averted_html}
{''.join(_img(f, f.stem.replace("_", " ")) for f in figures)}
"""


def _truth_cell(truth: Mapping[str, float] | None, term: str) -> str:
    return f"{truth[term]:.2f}" if truth and term in truth else ""


def _study_figures(res: Mapping[str, Any], truth: Mapping[str, float] | None) -> str:
    """The study's forest plot and Kaplan-Meier curves (bands, numbers at risk), as ``analyze --out`` draws them."""
    with tempfile.TemporaryDirectory(prefix="reawaken-report-") as tmp:
        return _study_figures_in(res, truth, Path(tmp), 0)


def _study_figures_in(res: Mapping[str, Any], truth: Mapping[str, float] | None, tmp: Path, k: int) -> str:
    from .registry import forest_plot, km_figure

    name = str(res.get("study"))
    out = [_figure_html(_data_uri(forest_plot(res["hazard_ratios"], tmp / f"forest-{k}.png", title=name, truth=truth,
                                              published=PUBLISHED.get(name))), f"forest plot {name}",
                        "Hazard ratios with 95% intervals (log scale). Right of the dashed line at 1: a higher rate "
                        "of the outcome in that window after an infection than before any recorded infection."
                        + (" Red crosses: the planted truth, which the intervals should cover." if truth else "")
                        + (" Green dotted line: the published registry estimate." if PUBLISHED.get(name) else ""))]
    if res.get("km"):
        out.append(_figure_html(_data_uri(km_figure(res["km"], tmp / f"km-{k}.png", title=name)), f"Kaplan-Meier {name}",
                                "Outcome-free survival by current exposure state (Simon-Makuch) with pointwise 95% "
                                "bands; the rows under the plot are the numbers at risk. Curves that drop faster "
                                "after a recent infection show the short-term excess risk."))
    return "".join(out)


def registry_section(results: Sequence[tuple[str, Mapping[str, Any], Mapping[str, float] | None]]) -> str:
    """``results``: (label, analyze result, planted truth by term or None)."""
    blocks = []
    for label, res, truth in results:
        pub = PUBLISHED.get(str(res.get("study")))
        first = next((h["term"] for h in res["hazard_ratios"] if h["term"].startswith("infection")), None)
        rows = "".join(  # the published estimate once, on the first infection row (a narrow table on a phone)
            f"<tr><td class=l>{html.escape(h['term'])}</td><td>{h['hr']:.2f}</td><td>{h['ci_low']:.2f}–{h['ci_high']:.2f}</td>"
            f"<td>{_truth_cell(truth, h['term'])}</td>"
            f"<td class=l>{html.escape(pub[0]) if pub and h['term'] == first else ''}</td></tr>"
            for h in res["hazard_ratios"])
        blocks.append(f"""<h3>{html.escape(label)}</h3>
<p class=note>{res['n_persons']:,} persons, {res['n_events']:,} events; time-varying Cox, Breslow ties, robust SEs
clustered by person.</p>
<div class=tw><table><tr><th>term</th><th>HR</th><th>95% CI</th><th>planted truth</th><th>published</th></tr>{rows}</table></div>
{_study_figures(res, truth)}""")
    return f"""
<h2 id=registry>Registry analysis on synthetic OMOP CDMs</h2>
<p class=note>The cohort is written as an OMOP CDM v5.4 (DuckDB) with under-ascertained infections; the shipped studies
run on it as they would on a real registry (docs/registry.md). The planted-truth registry comes from the same people
with a known lung-metastasis hazard ratio per window after infection, recorded in full.</p>
{''.join(blocks)}
"""
