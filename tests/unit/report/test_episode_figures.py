"""The episode figure shows what a reader wants (issue "Mechanism v2", item 6), read off the drawn axes."""

from __future__ import annotations

import numpy as np
import pytest

from reawaken.experiments.run import run_scenarios
from reawaken.report import figures
from reawaken.scenarios import Scenario, parse_intervention


@pytest.fixture
def captured(monkeypatch):
    """Keep the figure the function draws (instead of closing it) so its axes can be inspected."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    kept = []
    close = plt.close
    monkeypatch.setattr(plt, "close", lambda fig=None: kept.append(fig))
    yield kept
    for fig in kept:
        close(fig)


def _labels(fig) -> list[str]:
    return [ax.get_ylabel() for ax in fig.axes]


def test_human_episode_with_antibody_and_two_infections(tmp_path, captured):
    sc = Scenario("human", "sars-cov-2", infection_days=(0.0, 120.0),
                  interventions=(parse_intervention("anti-il6:day=3"),))
    (ep,) = run_scenarios([sc], days=365.0)
    figures.episode_figure([ep], tmp_path / "f.png", title=sc.label)
    assert (tmp_path / "f.png").stat().st_size > 10_000
    fig = captured[0]
    labels = _labels(fig)
    # every axis has a unit or says it is a ratio/signal; the reader's quantities are all there
    for wanted in ("virus (TCID50/mL", "IL-6 (pg/mL", "hazard-relevant burden W", "cumulative excess hazard (years",
                   "anti-IL-6R antibody, plasma (ug/mL)", "IL-6 receptor occupancy (%)"):
        assert any(lab.startswith(wanted) for lab in labels), (wanted, labels)
    assert all(ax.get_xlabel() == "days after first infection" for ax in fig.axes if ax.get_ylabel()
               and not ax.get_ylabel().startswith("cumulative"))
    # several infections: the fast panels show the full horizon, not the first 30 days
    virus_ax = next(ax for ax in fig.axes if ax.get_ylabel().startswith("virus"))
    assert virus_ax.get_xlim()[1] == pytest.approx(365.0)
    # IL-6 is drawn against the awakening half-maximum K_il6 (a horizontal line at its value)
    il6_ax = next(ax for ax in fig.axes if ax.get_ylabel().startswith("IL-6"))
    k_il6 = ep.spec.parameter("K_il6").value
    assert any(np.allclose(line.get_ydata(), k_il6) for line in il6_ax.get_lines())


def test_single_mouse_episode_keeps_the_first_month_and_has_no_antibody_rows(tmp_path, captured):
    (ep,) = run_scenarios([Scenario("mouse", "influenza")], days=270.0)
    figures.episode_figure([ep], tmp_path / "f.png")
    fig = captured[0]
    assert not any("antibody" in lab for lab in _labels(fig))
    virus_ax = next(ax for ax in fig.axes if ax.get_ylabel().startswith("virus"))
    assert virus_ax.get_xlim()[1] == pytest.approx(30.0)
    w_ax = next(ax for ax in fig.axes if ax.get_ylabel().startswith("hazard-relevant"))
    (w_line,) = [ln for ln in w_ax.get_lines()]
    # at rest the relative hazard is 1 by construction (W = D + prime_factor P): read at day 270 it is > 1
    # because the infection left a larger primed pool (the mouse ratchet)
    assert w_line.get_ydata()[-1] > 1.0
