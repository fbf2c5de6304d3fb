"""The demo report's sections and figures: a contents list that links to every section, a glossary that spells
out the abbreviations, captions, units on axes, uncertainty on cohort arms, the registry forest and KM plots
(with bands and numbers at risk), and a layout that fits a narrow screen. Built from small hand-made inputs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from reawaken.report.cohort_figures import averted_figure, cumulative_figure, wilson_band
from reawaken.report.cohort_report import cohort_section, registry_section
from reawaken.report.registry import _at_risk, km_figure

ARMS = {
    "baseline": {"infections": 100, "lung_metastases": 20, "cancer_deaths": 5, "anti_il6_doses": 0,
                 "averted_per_1000": 0.0, "averted_per_1000_se_paired": 0.0},
    "vaccinated": {"infections": 60, "lung_metastases": 15, "cancer_deaths": 4, "anti_il6_doses": 0,
                   "averted_per_1000": 5.0, "averted_per_1000_se_paired": 1.0},
}
SUMMARY = {"n_persons": 1000, "person_years": 5000.0, "reference_arm": "baseline", "arms": ARMS}
KM = {"all persons": {"day": [0.0, 365.25, 730.5, 1200.0], "survival": [1.0, 0.9, 0.8, 0.7],
                      "ci_low": [1.0, 0.85, 0.74, 0.63], "ci_high": [1.0, 0.94, 0.85, 0.76],
                      "at_risk": [100, 90, 80, 70]}}
RESULT = {"study": "flatiron-style", "n_persons": 100, "n_events": 30, "km": KM,
          "hazard_ratios": [{"term": "infection 0-90 d", "hr": 1.8, "ci_low": 1.2, "ci_high": 2.7, "p": 0.01},
                            {"term": "age_per_10y", "hr": 1.1, "ci_low": 0.9, "ci_high": 1.3, "p": 0.3}]}


def _pngs(html: str) -> list[str]:
    return re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)


def test_cohort_section_shows_intervals_and_captions():
    html = cohort_section(SUMMARY, [])
    assert "<h2 id=cohort>" in html
    assert "3.04 to 6.96" in html  # 5 +/- 1.96 x 1 per 1,000
    assert "(reference)" in html
    assert len(_pngs(html)) == 1 and "<figcaption>" in html  # the averted-per-arm figure with its caption
    assert '<div class=tw><table>' in html  # wide tables scroll inside their box on a phone


def test_registry_section_embeds_forest_and_km_with_truth():
    html = registry_section([("Flatiron-style", RESULT, {"infection 0-90 d": 2.0})])
    assert "<h2 id=registry>" in html and "Flatiron Health, HR ~1.44" in html
    assert len(_pngs(html)) == 2  # forest plot and Kaplan-Meier
    assert "planted truth" in html.lower() and "numbers at risk" in html


def test_numbers_at_risk_are_read_from_the_curve():
    c = KM["all persons"]
    # just after each time: the next row's count (a row at t counts who is at risk just after t)
    assert _at_risk(c, 0.0) == 90 and _at_risk(c, 400.0) == 80 and _at_risk(c, 1199.0) == 70
    assert _at_risk(c, 1200.0) is None  # past the curve's end
    assert _at_risk({"day": [10.0], "at_risk": [5]}, 0.0) == 5


def test_km_figure_has_bands_units_and_at_risk_rows(tmp_path, monkeypatch):
    import matplotlib.figure

    seen = {}
    real = matplotlib.figure.Figure.savefig

    def spy(self, *args, **kwargs):
        ax, tab = self.axes
        seen["ylabel"], seen["xlabel"] = ax.get_ylabel(), tab.get_xlabel()
        seen["bands"] = len(ax.collections)
        seen["texts"] = [t.get_text() for t in tab.texts]
        return real(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", spy)
    km_figure(KM, tmp_path / "km.png", title="t")
    assert (tmp_path / "km.png").read_bytes().startswith(b"\x89PNG")
    assert seen["ylabel"].endswith("(1)") and "(y)" in seen["xlabel"]
    assert seen["bands"] == 1
    assert seen["texts"][:4] == ["90", "80", "70", "70"]  # just after 0, 1, 2, 3 years


def test_cumulative_figure_and_averted_figure(tmp_path):
    import datetime as dt

    monthly = {"baseline": {"lung_metastases": [1, 0, 2]}, "vaccinated": {"lung_metastases": [0, 0, 1]}}
    assert cumulative_figure(monthly, 100, dt.date(2020, 1, 1), tmp_path / "c.png").is_file()
    assert averted_figure(SUMMARY, tmp_path / "a.png").is_file()
    assert averted_figure({**SUMMARY, "arms": {"baseline": ARMS["baseline"]}}, tmp_path / "b.png") is None


def test_wilson_band_bounds():
    lo, hi = wilson_band(np.array([0, 81, 263]), 263)
    assert lo[0] == 0.0 and hi[-1] == 1.0
    assert lo[1] == pytest.approx(0.2553, abs=1e-4) and hi[1] == pytest.approx(0.3662, abs=1e-4)
