"""The within-host model: respiratory virus -> IL-6 -> awakening of dormant lung DCCs -> CD4/CD8.

Structure (equations in ``docs/model.md``):

* virus: target-cell-limited model with an eclipse phase (Baccam et al. 2006, J Virol 80:7590) and
  saturating CD8 killing of infected cells (Myers et al. 2021, eLife 10:e68864), plus slow epithelial
  repair so that a later infection finds target cells again;
* innate arm: neutrophils recruited by productively infected cells;
* IL-6 (pg/mL, lung-local): made by infected epithelium and by recruited neutrophils, cleared at the
  Jenner et al. 2021 linear rate; an anti-IL-6R antibody with one-compartment PK blocks its signal;
* CD8 effectors: antigen-driven clonal expansion (the expansion from few precursors gives the ~4-day lag
  that Myers et al. model with a delay), kill infected cells and awakened DCCs;
* CD4 T cells: recruited by awakened DCCs, decay slowly (so they accumulate through day 28, AACR 2023),
  and shield DCCs by suppressing CD8 activation and cytotoxicity;
* DCC states: dormant (vimentin+), awakened (proliferating, hybrid E/M), primed dormant (returned to
  dormancy after an episode, wake more readily); ``niche`` is the inflammation-remodelled niche that
  licenses proliferation and decays after IL-6 falls (the NET/laminin remodelling of Albrengues et al.
  2018 is one mechanism); ``awakenings`` counts awakening events (clone founders).

The parameter values here are the mouse (MMTV-Her2, PR8) defaults; hosts and viruses override them in
:mod:`reawaken.model.library.hosts`.
"""

from __future__ import annotations

import math

from ..spec import Assignment, ModelSpec, Parameter, Species, Transition

INF = math.inf

# Sources, cited once and referred to by key (the full references are in docs/model.md).
MYERS = "Myers et al. 2021 eLife 10:e68864 (mouse PR8 CD8 model; values from public implementation, verify)"
BACCAM = "Baccam et al. 2006 J Virol 80:7590 (eclipse ~6 h => k ~ 4/d)"
MIAO = "Miao et al. 2010 J Virol 84:6687 (infected-cell half-life ~0.5 d in the adaptive phase)"
JENNER = ("Jenner et al. 2021 PLoS Pathog 17:e1009753 (IL-6 linear clearance 16.6/d, t1/2 ~1 h; value from a "
          "public derivative, verify against S1 Table; systemic rate applied to lung IL-6)")
CHIA = "Chia et al. 2025 Nature 645:496 (calibrated to targets of science.md sec. 4a)"
TOCI = "tocilizumab label: terminal t1/2 151 +/- 59 h, CL 0.29 mL/h/kg (science.md sec. 3.5)"
CAL = "calibrated: " + CHIA
ASSUME = "assumption (literature silent): "

SPECIES = (
    Species("target", "cells", 1e7, "uninfected airway/alveolar epithelial target cells"),
    Species("eclipse", "cells", 0.0, "infected, not yet producing virus"),
    Species("infected", "cells", 0.0, "productively infected epithelial cells"),
    Species("virus", "TCID50/mL", 0.0, "infectious virus in lung homogenate (mouse) or nasal wash (human)"),
    Species("neutrophils", "cells", 1e5, "lung neutrophils (innate inflammatory arm)"),
    Species("il6", "pg/mL", 5.0, "lung IL-6 (BAL-equivalent concentration)"),
    Species("cd8", "cells", 1e4, "lung CD8 effector T cells (antiviral and anti-tumour)"),
    Species("cd4", "cells", 1e3, "CD4 T cells around DCCs"),
    Species("dormant", "cells", 100.0, "dormant vimentin+ DCCs (mouse: HER2+ cells in 3 lung sections)"),
    Species("awakened", "cells", 0.0, "awakened, proliferating DCCs (hybrid E/M, vimentin low)"),
    Species("primed", "cells", 0.0, "DCCs returned to dormancy after an episode; wake more readily"),
    Species("niche", "1", 0.0, "fraction of the DCC niche remodelled by inflammation; licenses proliferation"),
    Species("nab", "1", 1e-3, "neutralising antibody titre against the current strain (1 = halves infection)"),
    Species("antibody", "ug/mL", 0.0, "anti-IL-6R antibody, plasma concentration"),
    Species("awakenings", "cells", 0.0, "cumulative awakening events (clone founders); a counter"),
)


def _p(name, value, unit, source, bounds=(0.0, INF), prior=None, doc=""):  # noqa: ANN001, ANN202
    return Parameter(name, float(value), unit, source, bounds, prior, doc)


PARAMETERS = (
    # --- virus and epithelium (mouse PR8) ---
    _p("T0", 1e7, "cells", MYERS, (1.0, INF), doc="target cells at homeostasis (repair set point)"),
    _p("beta", 6.2e-5, "1/((TCID50/mL)*d)", MYERS, prior=(1e-5, 3e-4), doc="infection rate"),
    _p("k_ecl", 4.0, "1/d", BACCAM, prior=(3.0, 6.0), doc="eclipse -> productive"),
    _p("delta_I", 0.24, "1/d", MYERS, prior=(0.1, 2.0), doc="infected-cell death, immune independent"),
    _p("kappa_E", 2.0, "1/d", MIAO, prior=(0.5, 5.0), doc="max CD8 killing rate of an infected cell"),
    _p("p_V", 1.0, "(TCID50/mL)/(cell*d)", MYERS, prior=(0.1, 10.0), doc="virus production per cell"),
    _p("c_V", 9.4, "1/d", MYERS, prior=(3.0, 20.0), doc="virus clearance"),
    _p("g_T", 0.05, "1/d", ASSUME + "epithelial repair within ~3-6 weeks of injury", prior=(0.01, 0.2)),
    # --- innate arm ---
    _p("N0", 1e5, "cells", ASSUME + "resting lung neutrophil pool, order of magnitude", (0.0, INF), (3e4, 3e5)),
    _p("d_N", 1.0, "1/d", ASSUME + "tissue neutrophil lifetime ~1 d", prior=(0.5, 2.0)),
    _p("rho_N", 2e6, "cells/d", CAL, prior=(5e5, 1e7), doc="max neutrophil recruitment by infection"),
    _p("K_N", 1e5, "cells", CAL, prior=(1e4, 1e6), doc="infected cells at half-maximal recruitment"),
    _p("k_dep", 5.0, "1/d", ASSUME + "depleting antibodies remove >95% of cells within 1 d", prior=(2.0, 10.0)),
    # --- IL-6 ---
    _p("k_il6", 16.6, "1/d", JENNER, prior=(8.0, 40.0), doc="IL-6 clearance"),
    _p("il6_base", 5.0, "pg/mL", ASSUME + "resting BAL IL-6 near assay floor (normal serum < 7 pg/mL)",
       prior=(1.0, 10.0)),
    _p("p_il6_I", 1e-3, "(pg/mL)/(cell*d)", CAL, prior=(1e-4, 1e-2), doc="IL-6 by infected epithelium"),
    _p("p_il6_N", 2e-3, "(pg/mL)/(cell*d)", CAL, prior=(1e-4, 1e-2), doc="IL-6 by recruited neutrophils"),
    _p("K_il6", 60.0, "pg/mL", CAL, prior=(20.0, 200.0), doc="IL-6 at half-maximal awakening signal"),
    _p("n_il6", 3.0, "1", ASSUME + "switch-like response (Hill 3)", (1.0, 8.0), (1.0, 4.0)),
    # --- anti-IL-6R antibody ---
    _p("k_ab", math.log(2) / 6.3, "1/d", TOCI, prior=(0.05, 0.2), doc="elimination, t1/2 6.3 d"),
    _p("V_ab", 63.0, "mL/kg", TOCI + " (V = CL / k_el)", (1.0, INF), (40.0, 120.0), "volume of distribution"),
    _p("ic50_ab", 1.0, "ug/mL", ASSUME + "receptor blockade at low ug/mL (Cmin 9.7 ug/mL keeps CRP down)",
       prior=(0.1, 10.0)),
    _p("imax_ab", 0.98, "1", ASSUME + "near-complete blockade", (0.0, 1.0), (0.9, 1.0)),
    # --- CD8 ---
    _p("E0", 1e4, "cells", ASSUME + "resting lung CD8 pool", (0.0, INF), (1e3, 1e5)),
    _p("d_E", 0.3, "1/d", ASSUME + "effector contraction over ~1-2 weeks", prior=(0.1, 1.0)),
    _p("r_E", 1.6, "1/d", CAL + "; CD8 peak ~day 8-10 as in Myers 2021", prior=(0.8, 3.0)),
    _p("K_EA", 1e5, "cells", CAL, prior=(1e4, 1e6), doc="infected cells at half-maximal CD8 expansion"),
    _p("K_E", 1e6, "cells", CAL, prior=(1e5, 1e7), doc="CD8 effectors at half-maximal activity"),
    _p("k_kill", 0.25, "1/d", CAL, prior=(0.1, 3.0), doc="max CD8 killing rate of awakened DCCs"),
    # --- CD4 ---
    _p("C0", 1e3, "cells", ASSUME + "CD4 near DCCs at rest", (0.0, INF), (1e2, 1e4)),
    _p("d_C4", 0.05, "1/d", CAL + "; accumulation through 28 dpi (AACR 2023)", prior=(0.02, 0.2)),
    _p("q_C4", 1e4, "cells/d", CAL, prior=(1e3, 1e5), doc="max CD4 recruitment by awakened DCCs"),
    _p("K_C4A", 500.0, "cells", CAL, prior=(50.0, 5000.0), doc="awakened DCCs at half-maximal CD4 recruitment"),
    _p("K_cd4", 5e3, "cells", CAL, prior=(5e3, 1e5), doc="CD4 at which CD8 function is halved"),
    # --- DCC states ---
    _p("k_w0", 1e-4, "1/d", ASSUME + "rare spontaneous awakening (dormancy lasts years)", prior=(0.0, 1e-3)),
    _p("k_wake", 1.0, "1/d", CAL, prior=(0.2, 3.0), doc="max IL-6-driven awakening"),
    _p("prime_factor", 3.0, "1", ASSUME + "primed cells wake more readily (press: 'primed')", (1.0, INF),
       (1.0, 10.0)),
    _p("r_A", 0.7, "1/d", CAL + "; net 0.33-0.58/d over 2 weeks (science.md 1.2)", prior=(0.4, 1.5),
       doc="max proliferation of awakened DCCs"),
    _p("dcc_capacity", 1e5, "cells", ASSUME + "logistic ceiling of lung DCC growth (Kuznetsov 1994 logistic "
       "term); keeps expansion under the ~10^3-10^4-fold ceiling of science.md target 15", (1.0, INF), (1e4, 1e7)),
    _p("k_back", 0.25, "1/d", CAL, prior=(0.05, 1.0), doc="return to dormancy once the niche has resolved"),
    _p("tau_on", 1.0, "d", CAL, (0.01, INF), (0.25, 4.0), "niche remodelling time under full IL-6 signal"),
    _p("tau_off", 5.0, "d", CAL, (0.1, INF), (1.0, 14.0), "niche resolution time once IL-6 signal is gone"),
    _p("d_P", 0.002, "1/d", ASSUME + "primed pool slowly attrited (half-life ~1 y)", prior=(0.0, 0.01)),
    # --- switches set by interventions (0 = off) ---
    _p("il6_ko", 0.0, "1", "intervention switch: IL-6 knockout", (0.0, 1.0)),
    _p("cd4_depleted", 0.0, "1", "intervention switch: CD4 depletion", (0.0, 1.0)),
    _p("cd8_depleted", 0.0, "1", "intervention switch: CD8 depletion", (0.0, 1.0)),
    _p("neut_depleted", 0.0, "1", "intervention switch: neutrophil depletion", (0.0, 1.0)),
    _p("vaccinated", 0.0, "1", "intervention switch: prior vaccination", (0.0, 1.0)),
    _p("nab_base", 1e-3, "1", ASSUME + "naive: a trace of cross-reactive neutralisation", (0.0, INF), (1e-4, 1e-2)),
    _p("nab_max", 1e3, "1", ASSUME + "peak titre blocks ~99.9% of infection events (clearance, no chronic state)",
       (1.0, INF), (1e2, 1e4)),
    _p("r_imm", 1.5, "1/d", ASSUME + "neutralising antibodies appear ~5-8 d after infection", prior=(0.5, 3.0)),
    _p("K_imm", 1e3, "cells", ASSUME + "antigen (infected cells) at half-maximal B-cell drive", prior=(1e2, 1e5)),
    _p("w_imm", math.log(2) / 90.0, "1/d", ASSUME + "neutralising titres halve in ~3 months (SARS-CoV-2 "
       "breakthrough protection wanes by ~6 months, science.md 3.6)", prior=(1 / 365, 1 / 30)),
    _p("vacc_memory", 3.0, "1", ASSUME + "memory raises the resting CD8 pool 3-fold", (1.0, INF),
       (1.0, 30.0)),
    _p("antiviral_on", 0.0, "1", "intervention switch: antiviral course running", (0.0, 1.0)),
    _p("antiviral_eff", 0.9, "1", "neuraminidase-inhibitor-like block of production; prior from model fits",
       (0.0, 1.0), (0.5, 0.99)),
)

ASSIGNMENTS = (
    Assignment("il6_block", "imax_ab * antibody / (antibody + ic50_ab)", "1", "anti-IL-6R receptor occupancy"),
    Assignment("il6_signal", "hill(il6, K_il6, n_il6) * (1 - il6_block)", "1", "IL-6 signalling in DCCs"),
    Assignment("cd4_shield", "1 / (1 + cd4 / K_cd4)", "1", "fraction of CD8 function left by CD4 suppression"),
    Assignment("cd8_activity", "cd8 / (cd8 + K_E)", "1", "saturating CD8 effector activity"),
    Assignment("cd8_antitumour", "cd8_activity * cd4_shield", "1", "CD8 activation/cytotoxicity at DCCs"),
    Assignment("dcc_total", "dormant + awakened + primed", "cells", "all lung DCCs"),
)

TRANSITIONS = (
    Transition("infection", {"target": -1, "eclipse": 1}, "beta * target * virus / (1 + nab)"),
    Transition("eclipse_end", {"eclipse": -1, "infected": 1}, "k_ecl * eclipse"),
    Transition("infected_death", {"infected": -1}, "delta_I * infected"),
    Transition("infected_killing", {"infected": -1}, "kappa_E * cd8_activity * infected"),
    Transition("virus_production", {"virus": 1}, "p_V * (1 - antiviral_on * antiviral_eff) * infected"),
    Transition("virus_clearance", {"virus": -1}, "c_V * virus"),
    Transition("epithelial_repair", {"target": 1}, "g_T * pos(T0 - target - eclipse - infected)"),
    Transition("neutrophil_influx", {"neutrophils": 1}, "d_N * N0 + rho_N * infected / (K_N + infected)"),
    Transition("neutrophil_loss", {"neutrophils": -1}, "(d_N + k_dep * neut_depleted) * neutrophils"),
    Transition(
        "il6_production",
        {"il6": 1},
        "(1 - il6_ko) * (k_il6 * il6_base + p_il6_I * infected + p_il6_N * pos(neutrophils - N0))",
    ),
    Transition("il6_clearance", {"il6": -1}, "k_il6 * il6"),
    Transition("cd8_homeostasis", {"cd8": 1}, "d_E * E0 * (1 + vaccinated * (vacc_memory - 1))"),
    Transition("cd8_expansion", {"cd8": 1}, "r_E * cd8 * infected / (K_EA + infected)"),
    Transition("cd8_loss", {"cd8": -1}, "(d_E + k_dep * cd8_depleted) * cd8"),
    Transition("cd4_homeostasis", {"cd4": 1}, "d_C4 * C0"),
    Transition("cd4_recruitment", {"cd4": 1}, "q_C4 * awakened / (K_C4A + awakened)"),
    Transition("cd4_loss", {"cd4": -1}, "(d_C4 + k_dep * cd4_depleted) * cd4"),
    Transition("awakening", {"dormant": -1, "awakened": 1, "awakenings": 1},
               "(k_w0 + k_wake * il6_signal) * dormant"),
    Transition("primed_awakening", {"primed": -1, "awakened": 1, "awakenings": 1},
               "prime_factor * (k_w0 + k_wake * il6_signal) * primed"),
    Transition("proliferation", {"awakened": 1}, "r_A * niche * awakened * pos(1 - dcc_total / dcc_capacity)"),
    Transition("redormancy", {"awakened": -1, "primed": 1}, "k_back * (1 - niche) * awakened"),
    Transition("dcc_killing", {"awakened": -1}, "k_kill * cd8_antitumour * awakened"),
    Transition("primed_loss", {"primed": -1}, "d_P * primed"),
    Transition("niche_remodelling", {"niche": 1}, "il6_signal * (1 - niche) / tau_on"),
    Transition("niche_resolution", {"niche": -1}, "(1 - il6_signal) * niche / tau_off"),
    Transition("nab_gain", {"nab": 1},
               "r_imm * nab * (1 - nab / nab_max) * infected / (K_imm + infected)"),
    Transition("nab_waning", {"nab": -1}, "w_imm * (nab - nab_base)"),
    Transition("antibody_elimination", {"antibody": -1}, "k_ab * antibody"),
)


def il6_dormancy_spec() -> ModelSpec:
    """The model with its mouse (MMTV-Her2, influenza PR8) defaults."""
    return ModelSpec(
        name="il6_dormancy",
        species=SPECIES,
        parameters=PARAMETERS,
        transitions=TRANSITIONS,
        assignments=ASSIGNMENTS,
        doc=__doc__ or "",
    )
