"""The demo report page: contents, glossary, captions and a narrow-screen layout, on a small real panel."""

from __future__ import annotations

import re

import pytest


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from reawaken.experiments import run_scenarios
    from reawaken.report.html import render_demo_report
    from reawaken.scenarios import Scenario

    panel = run_scenarios([Scenario("mouse", "none", name="PBS"), Scenario("mouse", "influenza", name="PR8")],
                          days=30.0)
    human = run_scenarios([Scenario("human", "influenza", name="human influenza")], days=30.0)
    targets = [{"id": "T1", "claim": "a claim that is long enough to need shortening at a word boundary " * 2,
                "value": 0.05, "low": 0.0, "high": 0.1, "unit": "", "ok": True, "source": "src"}]
    extra = "<h2 id=cohort>Virtual cohort: 10 survivors</h2><p>x</p>"
    path = tmp_path_factory.mktemp("report") / "report.html"
    render_demo_report(path, panel=panel, human=human, targets=targets, manifest={"versions": {}}, extra_html=extra)
    return path.read_text()


def test_contents_link_every_section(page):
    links = re.findall(r'<a href="#([A-Za-z0-9_-]+)">', page)
    ids = set(re.findall(r"<h2 id=([A-Za-z0-9_-]+)>", page))
    assert links and set(links) == ids
    assert {"targets", "cohort", "glossary"} <= ids  # the extra section joins the contents


def test_glossary_spells_out_the_abbreviations(page):
    gloss = page.split("<h2 id=glossary>")[1]
    for term in ("DCC", "IL-6", "dpi", "OMOP CDM", "HR, CI", "Kaplan-Meier"):
        assert f"<dt>{term}" in gloss, term
    assert "disseminated cancer cell" in gloss


def test_every_figure_has_a_caption_and_the_page_fits_a_phone(page):
    figures = re.findall(r"<figure>.*?</figure>", page, re.S)
    assert len(figures) == 4 and all("<figcaption>" in f for f in figures)
    assert 'name=viewport content="width=device-width' in page
    assert "@media (max-width:600px)" in page
    assert page.count("<table>") == page.count("<div class=tw><table>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
