"""The demo report's cohort and registry sections (HTML; figures embedded). No numerics here."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .registry import PUBLISHED

_ARM_COLUMNS = (("infections", "infections"), ("lung_metastases", "lung metastases"),
                ("cancer_deaths", "breast-cancer deaths"), ("anti_il6_doses", "anti-IL-6 doses"),
                ("averted_per_1000", "lung mets averted / 1,000"), ("averted_per_1000_se_paired", "paired SE"),
                ("averted_per_dose", "averted / dose"))


def _img(path: Path, alt: str) -> str:
    return f'<img src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}" alt="{html.escape(alt)}">'


def _num(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and not x.is_integer():
        return f"{x:.3g}"
    return f"{int(x):,}"


def cohort_section(summary: Mapping[str, Any], figures: Sequence[Path]) -> str:
    ref = summary["reference_arm"]
    head = "".join(f"<th>{html.escape(t)}</th>" for _, t in _ARM_COLUMNS)
    rows = "".join(
        f"<tr><td class=l>{html.escape(arm)}</td>" + "".join(f"<td>{_num(c.get(k))}</td>" for k, _ in _ARM_COLUMNS) + "</tr>"
        for arm, c in summary["arms"].items())
    return f"""
<h2>Virtual cohort: {summary['n_persons']:,} survivors over {summary['person_years'] / summary['n_persons']:.1f} years each</h2>
<p class=note>Every influenza and SARS-CoV-2 infection runs through the human within-host model; the relapse risk after an
infection comes out of the mechanism. Arms share people and infection draws (common random numbers); differences are
paired against '{html.escape(ref)}'. Model of people and exposure with sources: docs/cohorts.md.</p>
<table><tr><th>arm</th>{head}</tr>{rows}</table>
{''.join(_img(f, f.stem) for f in figures)}
"""


def _truth_cell(truth: Mapping[str, float] | None, term: str) -> str:
    return f"{truth[term]:.2f}" if truth and term in truth else ""


def registry_section(results: Sequence[tuple[str, Mapping[str, Any], Mapping[str, float] | None]]) -> str:
    """``results``: (label, analyze result, planted truth by term or None)."""
    blocks = []
    for label, res, truth in results:
        pub = PUBLISHED.get(str(res.get("study")))
        rows = "".join(
            f"<tr><td class=l>{html.escape(h['term'])}</td><td>{h['hr']:.2f}</td><td>{h['ci_low']:.2f}–{h['ci_high']:.2f}</td>"
            f"<td>{_truth_cell(truth, h['term'])}</td>"
            f"<td>{html.escape(pub[0]) if pub and h['term'].startswith('infection') else ''}</td></tr>"
            for h in res["hazard_ratios"])
        blocks.append(f"""<h3>{html.escape(label)}</h3>
<p class=note>{res['n_persons']:,} persons, {res['n_events']:,} events; time-varying Cox, Breslow ties, robust SEs
clustered by person.</p>
<table><tr><th>term</th><th>HR</th><th>95% CI</th><th>planted truth</th><th>published</th></tr>{rows}</table>""")
    return f"""
<h2>Registry analysis on synthetic OMOP CDMs</h2>
<p class=note>The cohort is written as an OMOP CDM v5.4 (DuckDB) with under-ascertained infections; the shipped studies
run on it as they would on a real registry (docs/registry.md). The planted-truth registry comes from the same people
with a known lung-metastasis hazard ratio per window after infection, recorded in full.</p>
{''.join(blocks)}
"""
