"""Calibration targets of ``science.md`` section 4a as data: claim, source, accepted range, measurement.

Each :class:`Target` measures one number on simulated episodes (never a stored constant) and says whether
it lies in the accepted range. The tests in ``tests/science`` and the demo report both use this table, so
the report shows exactly what the tests check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..model.compile import compile_model
from ..scenarios import CD4Depletion, CD8Depletion, IL6Knockout, Scenario
from .readouts import dcc_total
from .run import Episode, run_scenarios

CHIA_FIG1 = "Chia et al. 2025 Nature 645:496, Fig. 1 legend [P]"
PRESS = "CU Anschutz / Montefiore press release on Chia et al. 2025 [PR]"
AACR = "AACR 2023 abstract 5131, Cancer Res 83(7_Suppl) [P]"
HAYDEN = "Hayden et al. 1998 JCI; Carrat et al. 2008 Am J Epidemiol [P]"
HENNET = "Hennet et al. 1992 J Immunol [P]"


def target_scenarios() -> dict[str, Scenario]:
    """The arms the targets are measured on (mouse unless named otherwise)."""
    return {
        "pbs": Scenario("mouse", "none", name="PBS"),
        "flu": Scenario("mouse", "influenza", name="PR8"),
        "sars": Scenario("mouse", "sars-cov-2", name="MA10"),
        "il6ko": Scenario("mouse", "influenza", interventions=(IL6Knockout(),), name="PR8 IL-6 KO"),
        "cd4": Scenario("mouse", "influenza", interventions=(CD4Depletion(),), name="PR8 CD4-depleted"),
        "cd8": Scenario("mouse", "influenza", interventions=(CD8Depletion(),), name="PR8 CD8-depleted"),
        "twice": Scenario("mouse", "influenza", infection_days=(0.0, 60.0), name="PR8 d0 + d60"),
        "human_flu": Scenario("human", "influenza", name="human influenza"),
    }


def run_target_scenarios(days: float = 270.0) -> dict[str, Episode]:
    arms = target_scenarios()
    return dict(zip(arms, run_scenarios(list(arms.values()), days=days)))


def fold(ep: Episode, day: float) -> float:
    total = dcc_total(ep.columns())
    return float(np.interp(day, ep.time, total / total[0]))


def value_at(ep: Episode, name: str, day: float) -> float:
    if name in ep.species:
        return float(np.interp(day, ep.time, ep.column(name)))
    raise KeyError(name)


def prolif_fraction(ep: Episode, day: float) -> float:
    cols = ep.columns()
    return float(np.interp(day, ep.time, cols["awakened"] / dcc_total(cols)))


def cd8_antitumour(ep: Episode, day: float) -> float:
    """CD8 activation/cytotoxicity at DCCs on ``day``: the model's own ``cd8_antitumour`` assignment
    evaluated on the episode's state (no formula restated here)."""
    model = compile_model(ep.spec)
    state = np.array([[np.interp(day, ep.time, ep.column(s)) for s in ep.species]])
    params = np.array([[q.value for q in ep.spec.parameters]])
    return float(model.assignment("cd8_antitumour", state, params, day)[0])


@dataclass(frozen=True)
class Target:
    id: str
    claim: str
    source: str
    low: float
    high: float
    measure: Callable[[Mapping[str, Episode]], float]
    unit: str = ""

    def evaluate(self, episodes: Mapping[str, Episode]) -> tuple[float, bool]:
        value = float(self.measure(episodes))
        return value, bool(self.low <= value <= self.high)


INF = float("inf")

TARGETS: tuple[Target, ...] = (
    Target("T1", "PBS control stays flat: max |fold - 1| over 9 months", CHIA_FIG1, 0.0, 0.1,
           lambda e: float(np.max(np.abs([fold(e["pbs"], d) - 1 for d in (3, 6, 9, 15, 28, 60, 270)])))),
    Target("T2", "awakening within days: DCC fold by 6 dpi", PRESS, 2.0, INF, lambda e: fold(e["flu"], 6.0), "x"),
    Target("T2b", "proliferating (awakened) fraction at 3 dpi", PRESS + "; AACR 2023 (vimentin loss)", 0.2, 1.0,
           lambda e: prolif_fraction(e["flu"], 3.0)),
    Target("T3", "log10 DCC fold at 15 dpi (>100-fold, reports up to 1,000-fold; 2.0-3.0 +/- 0.3)", PRESS, 1.7, 3.3,
           lambda e: float(np.log10(fold(e["flu"], 15.0))), "log10"),
    Target("T4", "multicellular lesions within ~2 weeks: mean cells per awakening event at 15 dpi", PRESS, 8.0, INF,
           lambda e: float(e["flu"].readouts["mean_cells_per_awakening"]["15"])),
    Target("T5", "share of the day-0 dormant (vimentin+) DCCs that have awakened by 9 dpi", AACR, 0.5, 1.0,
           lambda e: 1.0 - value_at(e["flu"], "dormant", 9) / value_at(e["flu"], "dormant", 0)),
    Target("T6", "IL-6 KO / WT fold at 15 dpi", AACR + "; " + PRESS, 0.0, 0.1,
           lambda e: fold(e["il6ko"], 15.0) / fold(e["flu"], 15.0)),
    Target("T7a", "CD4-depleted / undepleted burden at 28 dpi", AACR, 0.0, 0.7,
           lambda e: fold(e["cd4"], 28.0) / fold(e["flu"], 28.0)),
    Target("T7b", "CD8 anti-tumour activity at 14 dpi, CD4-depleted / undepleted", AACR, 1.2, INF,
           lambda e: cd8_antitumour(e["cd4"], 14.0) / cd8_antitumour(e["flu"], 14.0)),
    Target("T7c", "CD4 near DCCs at 28 dpi over 9 dpi (accumulation through 28 dpi)", AACR, 1.0, INF,
           lambda e: value_at(e["flu"], "cd4", 28.0) / value_at(e["flu"], "cd4", 9.0)),
    Target("T7d", "CD8-depleted / undepleted burden at 28 dpi (includes the longer infection without CD8)", AACR,
           1.2, INF,
           lambda e: fold(e["cd8"], 28.0) / fold(e["flu"], 28.0)),
    Target("T8", "burden above PBS at 28, 60 dpi and 9 months: min fold ratio", CHIA_FIG1, 2.0, INF,
           lambda e: min(fold(e["flu"], d) / fold(e["pbs"], d) for d in (28.0, 60.0, 270.0))),
    Target("T8b", "proliferation has subsided by 60 dpi: awakened fraction", "science.md target 8", 0.0, 0.1,
           lambda e: prolif_fraction(e["flu"], 60.0)),
    Target("T9", "SARS-CoV-2 (MA10) DCC fold at 15 dpi", PRESS, 10.0, INF, lambda e: fold(e["sars"], 15.0), "x"),
    Target("T10", "human influenza: IL-6 peak day", HAYDEN, 1.0, 3.0,
           lambda e: float(e["human_flu"].readouts["il6_peak_day"]), "d"),
    Target("T10b", "human influenza: |IL-6 peak day - virus peak day|", HAYDEN, 0.0, 1.0,
           lambda e: abs(float(e["human_flu"].readouts["il6_peak_day"]) - float(e["human_flu"].readouts["virus_peak_day"])), "d"),
    Target("T11a", "mouse PR8: IL-6 peak day (rise by 36 h - day 3)", HENNET, 1.5, 3.0,
           lambda e: float(e["flu"].readouts["il6_peak_day"]), "d"),
    Target("T11b", "mouse PR8: IL-6 at 7 dpi over baseline (elevated while infected)", HENNET, 3.0, INF,
           lambda e: value_at(e["flu"], "il6", 7.0) / value_at(e["flu"], "il6", 0.0), "x"),
    Target("R1", "ratchet: pool after two infections / one infection, 9 months", "science.md sec. 1 item 6", 1.2, INF,
           lambda e: fold(e["twice"], 270.0) / fold(e["flu"], 270.0)),
    Target("C15", "ceiling: log10 fold at 15 dpi in any arm", "science.md target 15", -INF, 4.0,
           lambda e: float(np.log10(max(fold(ep, 15.0) for ep in e.values()))), "log10"),
)


def evaluate_targets(episodes: Mapping[str, Episode] | None = None) -> list[dict[str, object]]:
    """Evaluate every target; runs the target scenarios if ``episodes`` is not given."""
    eps = run_target_scenarios() if episodes is None else episodes
    rows = []
    for t in TARGETS:
        value, ok = t.evaluate(eps)
        rows.append({"id": t.id, "claim": t.claim, "source": t.source, "low": t.low, "high": t.high,
                     "value": value, "unit": t.unit, "ok": ok})
    return rows
