"""The mouse panel of Chia et al. 2025 (and the repeated-infection ratchet) as scenarios."""

from __future__ import annotations

from ..scenarios import AntiIL6, CD4Depletion, CD8Depletion, IL6Knockout, NeutrophilDepletion, Scenario


def mouse_panel() -> tuple[Scenario, ...]:
    """PBS, PR8, MA10, IL-6 KO, CD4/CD8/neutrophil depletion, anti-IL-6R, and two infections (day 0, 60)."""
    return (
        Scenario("mouse", "none", name="PBS"),
        Scenario("mouse", "influenza", name="influenza (PR8)"),
        Scenario("mouse", "sars-cov-2", name="SARS-CoV-2 (MA10)"),
        Scenario("mouse", "influenza", interventions=(IL6Knockout(),), name="PR8, IL-6 KO"),
        Scenario("mouse", "influenza", interventions=(CD4Depletion(),), name="PR8, CD4 depleted"),
        Scenario("mouse", "influenza", interventions=(CD8Depletion(),), name="PR8, CD8 depleted"),
        Scenario("mouse", "influenza", interventions=(NeutrophilDepletion(),), name="PR8, neutrophils depleted"),
        Scenario("mouse", "influenza", interventions=(AntiIL6(dose_mg_per_kg=8.0, day=1.0),), name="PR8, anti-IL-6R d1"),
        Scenario("mouse", "influenza", infection_days=(0.0, 60.0), name="PR8 twice (d0, d60)"),
    )
