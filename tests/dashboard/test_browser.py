"""The real page in headless Chromium (Debian's package, driven by Playwright; no browser is downloaded).

Each test watches the console and every request: a console error, or a request to any host but the app,
fails it. Screenshots go to docs/img/dashboard-*.png (shown in docs/dashboard.md).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

IMG = Path(__file__).parents[2] / "docs" / "img"
TIMEOUT = 60_000  # ms; the first cohort run in a process compiles its kernels


@pytest.fixture()
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    foreign: list[str] = []
    app_netloc = urlsplit(live_server).netloc
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))

    def check(request):
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.netloc != app_netloc:
            foreign.append(request.url)

    pg.on("request", check)
    pg.goto(live_server + "/")
    pg.wait_for_selector("body[data-ready='1']")
    yield pg
    context.close()
    assert foreign == [], f"requests to other hosts: {foreign}"
    assert errors == [], f"console errors: {errors}"


def _shot(pg, name: str, full: bool = True) -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(IMG / f"dashboard-{name}.png"), full_page=full)


def test_changing_an_intervention_changes_the_curve(page):
    page.wait_for_selector("#sim-status[data-label='mouse / influenza']")
    # anti-IL-6R blocks the signal, not the cytokine: the awakened DCCs are what must change
    awakened = "[data-panel='DCC states'] path.series[data-name='awakened']"
    before = page.get_attribute(awakened, "d")
    page.check("input[type=checkbox][data-iv='anti-il6']")
    page.wait_for_selector("#sim-status[data-label='mouse / influenza / anti-il6']")
    after = page.get_attribute(awakened, "d")
    assert before and after and before != after
    # the previous run is drawn dashed for comparison, and the targets are on the fold chart
    assert page.locator("[data-panel='DCC states'] path.series[data-name^='awakened (previous']").count() == 1
    assert page.locator("[data-panel='fold'] rect.target").count() >= 2
    _shot(page, "explorer")  # anti-IL-6 over the untreated infection (dashed, and grey dots in the target box)
    page.fill("input[name=day2]", "20")
    page.wait_for_selector("#sim-status[data-label='mouse / influenza / anti-il6 / 0x20']")
    # the stochastic view: P(no lesion) for a few human lungs
    page.select_option("select[name=host]", "human")
    page.wait_for_selector("#sim-status[data-label^='human / influenza']")
    page.fill("#stochastic-form input[name=replicates]", "40")
    page.click("#run-stochastic")
    page.wait_for_selector("#sto-status:has-text('P(no lesion)')")
    assert page.locator("#sto-charts figure").count() == 2


def test_cohort_job_progress_cancel_resume(page):
    page.click("nav button[data-view=cohort]")
    page.fill("#cohort-form input[name=n]", "20000")
    page.fill("#cohort-form input[name=years]", "3")
    page.click("#start-job")
    row = page.locator("#jobs tr[data-job]").first
    # progress arrives over server-sent events: wait until a chunk is done, then cancel
    page.wait_for_function("() => { const c = document.querySelector('#jobs tr[data-job] td:nth-child(4)');"
                           " return c && /^ *[1-9]/.test(c.textContent.trim()); }")
    page.click("#jobs button.cancel")
    page.wait_for_selector("#jobs tr[data-state=cancelled]")
    _shot(page, "cohort-cancelled", full=False)
    page.click("#jobs button.resume")
    page.wait_for_selector("#jobs tr[data-state=finished]", timeout=120_000)
    assert row.get_attribute("data-state") == "finished"
    page.wait_for_selector("#job-results figure")
    assert page.locator("#job-results path.band").count() >= 2  # uncertainty bands on the arms
    assert page.locator("#job-results .downloads a").count() >= 5
    _shot(page, "cohort")


def test_registry_results_open(page):
    page.click("nav button[data-view=registry]")
    page.click("button[data-folder='planted-check']")
    page.wait_for_selector("[data-chart=forest] rect.est")
    assert page.locator("[data-chart=forest] text.truth").count() >= 1  # estimate vs planted truth
    assert page.locator("[data-chart=km] path.band").count() >= 1  # KM bands
    assert page.locator("#registry-view h4:has-text('Numbers at risk')").count() == 1
    _shot(page, "registry")


def test_risk_view_returns_a_band(page):
    page.click("nav button[data-view=risk]")
    assert page.locator("#risk .badge").inner_text().startswith("research use only")
    page.fill("#risk-form input[name=n]", "1000")
    page.click("#run-risk")
    page.wait_for_selector(".risk-band figure")
    assert page.locator(".risk-band line.ci").count() >= 3 or page.locator(".risk-band rect.est").count() >= 3
    assert "default" in page.inner_text("#risk-status")
    _shot(page, "risk")


def test_phone_width_has_no_sideways_scroll(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    pg = context.new_page()
    pg.goto(live_server + "/")
    pg.wait_for_selector("#sim-status[data-label]", timeout=TIMEOUT)
    overflow = pg.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    _shot(pg, "phone", full=False)
    context.close()
    assert overflow <= 1
