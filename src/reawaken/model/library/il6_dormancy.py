"""The within-host model (v2): respiratory virus -> IL-6 and NETs -> awakening of dormant DCCs in three sites.

Structure (equations, priors and the evidence that would settle each assumption: ``docs/model.md``):

* virus: target-cell-limited model with an eclipse phase (Baccam et al. 2006, J Virol 80:7590), saturating
  CD8 killing of infected cells (Myers et al. 2021, eLife 10:e68864), a type I interferon state that makes
  target cells refractory (structure of Saenz et al. 2010 and Pawelek et al. 2012; it makes the peak rise
  with the inoculum, as dose-response data show, Li & Handel 2014), antibody-dependent clearance of infected
  cells (CD8-independent recovery, Eichelberger et al. 1991), and *extinction below one infectious unit*:
  new infections need ``hill(virus, V_ext, 2)``, so numerical residue of the virus (1e-30 TCID50/mL) can
  never seed a new wave. Slow epithelial repair lets a later infection find target cells again;
* innate arm: neutrophils recruited by productively infected cells (or by sterile inflammation, LPS- or
  smoke-like) form NETs; NET-remodelled laminin awakens dormant cells through integrin a3b1 independently
  of IL-6 (Albrengues et al. 2018, Science 361:eaao4227); inflammatory macrophages give the late
  hyper-inflammatory IL-6 phase of severe SARS-CoV-2 when ``late_phase`` is on;
* IL-6 in two compartments, lung (BAL-equivalent) and serum, parameterised by *yields*: the lung level
  relaxes at rate ``k_il6`` to ``il6_base + y_il6_I * infected + y_il6_N * excess neutrophils
  (+ y_il6_M * macrophages)``, so the yields (pg/mL per cell) are what IL-6 measurements pin and ``k_il6``
  only sets the lag; serum IL-6 follows ``il6s_base + f_serum * excess lung IL-6``. An anti-IL-6R antibody
  (one-compartment PK) blocks the receptor in every site;
* CD8 effectors (antigen-driven expansion, kill infected cells and awakened lung DCCs) and CD4 T cells
  (recruited by awakened DCCs, shield them by suppressing CD8 function, AACR 2023);
* DCC pools in lung (unqualified names: ``dormant``, ``awakened``, ``primed``, ``niche``), bone marrow
  (``bone_*``) and liver (``liver_*``). Lung cells respond to lung IL-6 and NETs; bone-marrow and liver cells
  to serum IL-6 amplified by the local niche (``a_il6_bone``, ``a_il6_liver``). The mouse data are lung only:
  every bone-marrow and liver value is an extrapolation with a stated prior. Primed cells (returned to
  dormancy after an episode) wake ``prime_factor`` times more readily, lose their priming (``k_unprime``) or
  die (``d_P``); ``niche`` is the fraction of the DCC niche remodelled by the awakening signals, which
  licenses proliferation;
* established lesions (``lesion_lung``, ``lesion_bone``, ``lesion_liver``, cells) grow logistically at a rate
  raised by the same site signals, for the population layer;
* ``hazard_burden`` is the hazard-relevant burden: cycling (awakened) lung DCCs in units of the resting
  host's cycling cells per dormant cell (docs/model.md, "The hazard-relevant burden").

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
IFN = ("structure of Saenz et al. 2010 J Virol 84:3974 and Pawelek et al. 2012 PLoS Comput Biol 8:e1002588 "
       "(IFN-induced refractory cells); value a stated prior, set so that the peak rises with the inoculum "
       "(Li & Handel 2014 J Theor Biol 347:63)")
EICHELBERGER = ("Eichelberger et al. 1991 J Exp Med 174:875 (mice without CD8 T cells clear PR8, a few days "
                "later); Graham & Braciale 1997 J Exp Med 186:2063 (antibody needed for recovery without CD8)")
ALBRENGUES = "Albrengues et al. 2018 Science 361:eaao4227 (NETs remodel laminin and awaken dormant cells)"
TUBIANA = ("breast-cancer metastasis volume doubling times of ~1-6 months (Tubiana & Koscielny 1989 Acta Oncol "
           "28:113; Friberg & Mattson 1997 J Surg Oncol 65:284)")
CAL = "calibrated: " + CHIA
ASSUME = "assumption (literature silent): "
EXTRAP = "extrapolated from the lung (the mouse data are lung only): "

SITES = ("lung", "bone", "liver")
#: A person's "severity" multiplies these: the person-to-person spread of the cytokine response.
SEVERITY_PARAMETERS = ("y_il6_I", "y_il6_N", "y_il6_M")

SPECIES = (
    Species("target", "cells", 1e7, "uninfected airway/alveolar epithelial target cells"),
    Species("refractory", "cells", 0.0, "epithelial cells in an interferon-induced antiviral state"),
    Species("eclipse", "cells", 0.0, "infected, not yet producing virus"),
    Species("infected", "cells", 0.0, "productively infected epithelial cells"),
    Species("virus", "TCID50/mL", 0.0, "infectious virus in lung homogenate (mouse) or nasal wash (human)"),
    Species("ifn", "1", 0.0, "type I interferon activity (1 = half-maximal antiviral protection)"),
    Species("neutrophils", "cells", 1e5, "lung neutrophils (innate inflammatory arm)"),
    Species("nets", "1", 0.0, "NET-remodelled laminin (1 = half-maximal awakening signal)"),
    Species("macrophages", "cells", 0.0, "inflammatory monocyte-derived lung macrophages above rest"),
    Species("il6", "pg/mL", 5.0, "lung IL-6 (BAL-equivalent concentration)"),
    Species("il6_serum", "pg/mL", 5.0, "serum IL-6"),
    Species("cd8", "cells", 1e4, "lung CD8 effector T cells (antiviral and anti-tumour)"),
    Species("cd4", "cells", 1e3, "CD4 T cells around lung DCCs"),
    Species("nab", "1", 1e-3, "neutralising antibody titre against the current strain (1 = halves infection)"),
    Species("gc", "1", 0.0, "activation of the B-cell (germinal-centre) response, 0-1; outlasts the antigen"),
    Species("antibody", "ug/mL", 0.0, "anti-IL-6R antibody, plasma concentration"),
    Species("dormant", "cells", 100.0, "dormant vimentin+ lung DCCs (mouse: HER2+ cells in 3 lung sections)"),
    Species("awakened", "cells", 0.0, "awakened, proliferating lung DCCs (hybrid E/M, vimentin low)"),
    Species("primed", "cells", 0.0, "lung DCCs returned to dormancy after an episode; wake more readily"),
    Species("niche", "1", 0.0, "fraction of the lung DCC niche remodelled by inflammation; licenses proliferation"),
    Species("bone_dormant", "cells", 100.0, "dormant DCCs in bone marrow (DTCs)"),
    Species("bone_awakened", "cells", 0.0, "awakened bone-marrow DCCs"),
    Species("bone_primed", "cells", 0.0, "primed bone-marrow DCCs"),
    Species("bone_niche", "1", 0.0, "remodelled fraction of the bone-marrow DCC niche"),
    Species("liver_dormant", "cells", 20.0, "dormant DCCs in the liver"),
    Species("liver_awakened", "cells", 0.0, "awakened liver DCCs"),
    Species("liver_primed", "cells", 0.0, "primed liver DCCs"),
    Species("liver_niche", "1", 0.0, "remodelled fraction of the liver DCC niche"),
    Species("lesion_lung", "cells", 0.0, "cells of an established (macroscopic) lung lesion"),
    Species("lesion_bone", "cells", 0.0, "cells of an established bone lesion"),
    Species("lesion_liver", "cells", 0.0, "cells of an established liver lesion"),
    Species("awakenings", "cells", 0.0, "cumulative lung awakening events (clone founders); a counter"),
)


def _p(name, value, unit, source, bounds=(0.0, INF), prior=None, doc=""):  # noqa: ANN001, ANN202
    return Parameter(name, float(value), unit, source, bounds, prior, doc)


PARAMETERS = (
    # --- virus and epithelium (mouse PR8) ---
    _p("T0", 1e7, "cells", MYERS, (1.0, INF), doc="target cells at homeostasis (repair set point)"),
    _p("V0", 2e3, "TCID50/mL", ASSUME + "sublethal intranasal PR8; the Chia et al. dose was not retrieved",
       (0.0, 1e9), (10.0, 1e5), "inoculum added at each infection"),
    _p("V_ext", 1.0, "TCID50/mL", ASSUME + "one infectious unit per mL of lung homogenate: below it the "
       "infection goes extinct", (1e-6, INF), (0.1, 3.0), "virus at which new infections are halved"),
    _p("beta", 6.2e-5, "1/((TCID50/mL)*d)", MYERS, prior=(1e-5, 3e-4), doc="infection rate"),
    _p("k_ecl", 4.0, "1/d", BACCAM, prior=(3.0, 6.0), doc="eclipse -> productive"),
    _p("delta_I", 0.24, "1/d", MYERS, prior=(0.1, 2.0), doc="infected-cell death, immune independent"),
    _p("kappa_E", 2.0, "1/d", MIAO, prior=(0.5, 5.0), doc="max CD8 killing rate of an infected cell"),
    _p("kappa_Ab", 2.0, "1/d", ASSUME + "value set so that CD8-depleted mice clear a few days late, the expectation of "
       + EICHELBERGER, prior=(0.3, 3.0),
       doc="max antibody-dependent (NK/ADCC, complement) clearance of infected cells"),
    _p("K_Ab", 10.0, "1", ASSUME + "set with kappa_Ab (same expectation)", (1e-6, INF), (1.0, 100.0),
       "titre at half-maximal antibody clearance"),
    _p("p_V", 1.0, "(TCID50/mL)/(cell*d)", MYERS, prior=(0.1, 10.0), doc="virus production per cell"),
    _p("c_V", 9.4, "1/d", MYERS, prior=(3.0, 20.0), doc="virus clearance"),
    _p("g_T", 0.05, "1/d", ASSUME + "epithelial repair within ~3-6 weeks of injury", prior=(0.01, 0.2)),
    _p("K_ifn", 1e3, "cells", IFN, (1.0, INF), (1e2, 1e4), "infected cells at half-maximal IFN activity"),
    _p("d_F", 2.0, "1/d", IFN, prior=(1.0, 5.0), doc="decay of IFN activity"),
    _p("phi_F", 3.0, "1/d", IFN, prior=(1.0, 10.0), doc="max rate at which IFN makes target cells refractory"),
    _p("rho_R", 0.2, "1/d", IFN, prior=(0.05, 1.0), doc="loss of the antiviral state"),
    # --- innate arm ---
    _p("N0", 1e5, "cells", ASSUME + "resting lung neutrophil pool, order of magnitude", (0.0, INF), (3e4, 3e5)),
    _p("d_N", 1.0, "1/d", ASSUME + "tissue neutrophil lifetime ~1 d", prior=(0.5, 2.0)),
    _p("rho_N", 2e6, "cells/d", CAL, prior=(5e5, 1e7), doc="max neutrophil recruitment by infection"),
    _p("K_N", 1e5, "cells", CAL, prior=(1e4, 1e6), doc="infected cells at half-maximal recruitment"),
    _p("rho_sterile", 1e6, "cells/d", ASSUME + "LPS-like sterile inflammation recruits about as many neutrophils "
       "as an infection (Albrengues et al. 2018 used intranasal LPS)", prior=(1e5, 1e7),
       doc="neutrophil recruitment during sterile inflammation"),
    _p("k_dep", 5.0, "1/d", ASSUME + "depleting antibodies remove >95% of cells within 1 d", prior=(2.0, 10.0)),
    _p("K_net", 3e5, "cells", ALBRENGUES + "; scale calibrated so that neutrophil depletion reverses the "
       "post-influenza expansion (AACR 2023) while PR8 still gives > 100-fold (target T3)", (1.0, INF), (1e5, 3e6),
       doc="activated neutrophils at half-maximal NET signal"),
    _p("n_net", 2.0, "1", ASSUME + "awakening needed sustained, not trace, NET formation (Albrengues et al. 2018)",
       (1.0, 8.0), (1.0, 4.0), "Hill coefficient of the NET signal"),
    _p("d_net", 1.0, "1/d", ASSUME + "NET remodelling is transient: awakening needed sustained inflammation "
       "(repeated LPS, smoke) in Albrengues et al. 2018", prior=(0.3, 3.0), doc="turnover of NET-remodelled laminin"),
    _p("k_wake_net", 0.05, "1/d", ALBRENGUES + "; rate a stated prior, bounded above by IL-6 KO blunting "
       "(target T6)", prior=(0.0, 0.3), doc="max NET-driven (IL-6-independent) awakening"),
    _p("r_M", 5e4, "cells/d", ASSUME + "effector T cells (IFN-g, GM-CSF) activate monocyte-derived macrophages, "
       "so their IL-6 comes in the second week, as the hyper-inflammatory phase of severe COVID-19 does",
       prior=(1e4, 2e5), doc="max macrophage recruitment by expanded effector T cells"),
    _p("d_M", 0.3, "1/d", ASSUME + "monocyte-derived macrophages persist a few days", prior=(0.1, 0.7),
       doc="loss of inflammatory macrophages"),
    # --- IL-6 (yields: pg/mL per cell at quasi-steady state; k_il6 sets only the lag) ---
    _p("k_il6", 16.6, "1/d", JENNER, prior=(8.0, 40.0), doc="IL-6 relaxation (clearance)"),
    _p("il6_base", 5.0, "pg/mL", ASSUME + "resting BAL IL-6 near assay floor (normal serum < 7 pg/mL)",
       prior=(1.0, 10.0)),
    _p("y_il6_I", 6.0e-5, "(pg/mL)/cell", CAL, prior=(6e-6, 6e-4), doc="lung IL-6 per infected cell"),
    _p("y_il6_N", 1.2e-4, "(pg/mL)/cell", CAL, prior=(6e-6, 6e-4), doc="lung IL-6 per recruited neutrophil"),
    _p("y_il6_M", 1e-3, "(pg/mL)/cell", ASSUME + "macrophage IL-6 of the late phase", prior=(1e-4, 1e-2),
       doc="lung IL-6 per inflammatory macrophage (only when late_phase = 1)"),
    _p("late_phase", 0.0, "1", "option: late hyper-inflammatory phase of severe SARS-CoV-2 (0 off, 1 on)",
       (0.0, 1.0)),
    _p("il6s_base", 5.0, "pg/mL", ASSUME + "resting serum IL-6 (normal < 7 pg/mL, science.md 3.4)", prior=(1.0, 7.0)),
    _p("f_serum", 0.05, "1", ASSUME + "circulating IL-6 barely rises after sublethal mouse influenza "
       "(Am J Physiol 1995, science.md 3.4)", prior=(0.0, 0.3), doc="serum excess per unit lung excess IL-6"),
    _p("k_il6s", 16.6, "1/d", JENNER, prior=(8.0, 40.0), doc="serum IL-6 clearance"),
    _p("K_il6", 60.0, "pg/mL", CAL, prior=(20.0, 200.0), doc="IL-6 at half-maximal awakening signal"),
    _p("n_il6", 3.0, "1", ASSUME + "switch-like response (Hill 3)", (1.0, 8.0), (1.0, 4.0)),
    _p("a_il6_bone", 2.0, "1", EXTRAP + "marrow stroma makes IL-6 during emergency myelopoiesis, so local "
       "IL-6 exceeds serum", prior=(0.5, 10.0), doc="bone-marrow IL-6 per serum IL-6"),
    _p("a_il6_liver", 1.0, "1", EXTRAP + "hepatic IL-6 tracks serum", prior=(0.5, 5.0),
       doc="liver IL-6 per serum IL-6"),
    # --- anti-IL-6R antibody ---
    _p("k_ab", math.log(2) / 6.3, "1/d", TOCI, prior=(0.05, 0.2), doc="elimination, t1/2 6.3 d"),
    _p("V_ab", 63.0, "mL/kg", TOCI + " (V = CL / k_el)", (1.0, INF), (40.0, 120.0), "volume of distribution"),
    _p("ic50_ab", 1.0, "ug/mL", ASSUME + "receptor blockade at low ug/mL (Cmin 9.7 ug/mL keeps CRP down)",
       prior=(0.1, 10.0)),
    _p("imax_ab", 0.98, "1", ASSUME + "near-complete blockade", (0.0, 1.0), (0.9, 1.0)),
    # --- CD8 ---
    _p("E0", 1e4, "cells", ASSUME + "resting lung CD8 pool", (0.0, INF), (1e3, 1e5)),
    _p("d_E", 0.3, "1/d", ASSUME + "effector contraction over ~1-2 weeks", prior=(0.1, 1.0)),
    _p("r_E", 1.2, "1/d", CAL + "; CD8 peak ~day 8-10 as in Myers 2021", prior=(0.8, 3.0)),
    _p("K_EA", 1e4, "cells", CAL + "; priming saturates at modest antigen, so an antiviral that halves the "
       "infected cells barely changes the CD8 response; prior capped at 2e4 because an antigen-limited response "
       "makes a stronger antiviral raise the DCC burden through fewer anti-tumour effectors (prior-draw test)",
       prior=(1e3, 2e4),
       doc="infected cells at half-maximal CD8 expansion"),
    _p("K_E", 1e6, "cells", CAL, prior=(1e5, 1e7), doc="CD8 effectors at half-maximal activity"),
    _p("k_kill", 1.4, "1/d", CAL, prior=(0.1, 3.0), doc="max CD8 killing rate of awakened DCCs"),
    # --- CD4 ---
    _p("C0", 1e3, "cells", ASSUME + "CD4 near DCCs at rest", (0.0, INF), (1e2, 1e4)),
    _p("d_C4", 0.05, "1/d", CAL + "; accumulation through 28 dpi (AACR 2023)", prior=(0.02, 0.2)),
    _p("q_C4", 1e4, "cells/d", CAL, prior=(1e3, 1e5), doc="max CD4 recruitment by awakened DCCs"),
    _p("K_C4A", 500.0, "cells", CAL, prior=(50.0, 5000.0), doc="awakened DCCs at half-maximal CD4 recruitment"),
    _p("K_cd4", 5e3, "cells", CAL, prior=(5e3, 1e5), doc="CD4 at which CD8 function is halved"),
    # --- DCC states ---
    _p("k_w0", 1e-4, "1/d", ASSUME + "rare spontaneous awakening (dormancy lasts years)", prior=(1e-6, 1e-3)),
    _p("k_wake", 1.0, "1/d", CAL, prior=(0.2, 3.0), doc="max IL-6-driven awakening"),
    _p("prime_factor", 3.0, "1", ASSUME + "primed cells wake more readily (press: 'primed'); 1 = no memory of "
       "the episode", (1.0, INF), (1.0, 10.0)),
    _p("r_A", 0.8, "1/d", CAL + "; net 0.33-0.58/d over 2 weeks (science.md 1.2)", prior=(0.4, 1.5),
       doc="max proliferation of awakened DCCs"),
    _p("dcc_capacity", 1e5, "cells", ASSUME + "logistic ceiling of DCC growth per site (Kuznetsov 1994 logistic "
       "term); keeps expansion under the ~10^3-10^4-fold ceiling of science.md target 15", (1.0, INF), (1e4, 1e7)),
    _p("k_back", 0.25, "1/d", CAL, prior=(0.05, 1.0), doc="return to (primed) dormancy once the niche has resolved"),
    _p("tau_on", 1.0, "d", CAL, (0.01, INF), (0.25, 4.0), "niche remodelling time under full signal"),
    _p("tau_off", 5.0, "d", CAL, (0.1, INF), (1.0, 14.0), "niche resolution time once the signal is gone"),
    _p("d_P", 0.002, "1/d", "bounded above by the 9-month persistence of the burden (Chia et al. 2025 Fig. 1: "
       "above PBS at 9 months, target T8); lower bound 0 (no death); prior uniform", prior=(0.0, 0.01),
       doc="death of primed cells"),
    _p("k_unprime", 1e-3, "1/d", ASSUME + "priming (an epigenetic memory of the episode) fades over years; "
       "prior half-life 0.5-10 y", prior=(1.9e-4, 3.8e-3), doc="primed -> ordinary dormancy"),
    _p("k_kill_site", 0.01, "1/d", EXTRAP + "resting immune control of awakened cells in bone marrow and liver "
       "(no infection-driven CD8/CD4 response there)", prior=(0.0, 0.1)),
    # --- established lesions ---
    _p("r_lesion", math.log(2) / 60.0, "1/d", TUBIANA, prior=(math.log(2) / 180.0, math.log(2) / 30.0),
       doc="growth of an established lesion at rest"),
    _p("lesion_gain", 0.5, "1", ASSUME + "IL-6/STAT3 and NET signalling speed the growth of established "
       "lesions; strength unknown", prior=(0.0, 2.0), doc="relative growth boost at full site signal"),
    _p("lesion_capacity", 1e11, "cells", ASSUME + "~100 g of tumour", (1.0, INF), (1e10, 1e12),
       doc="logistic ceiling of an established lesion"),
    # --- switches set by interventions (0 = off) ---
    _p("il6_ko", 0.0, "1", "intervention switch: IL-6 knockout", (0.0, 1.0)),
    _p("cd4_depleted", 0.0, "1", "intervention switch: CD4 depletion", (0.0, 1.0)),
    _p("cd8_depleted", 0.0, "1", "intervention switch: CD8 depletion", (0.0, 1.0)),
    _p("neut_depleted", 0.0, "1", "intervention switch: neutrophil depletion", (0.0, 1.0)),
    _p("net_block", 0.0, "1", "intervention switch: NET inhibition (DNase I / PAD4 inhibitor), its efficacy",
       (0.0, 1.0)),
    _p("inflamed", 0.0, "1", "intervention switch: sterile lung inflammation (LPS / smoke)", (0.0, 1.0)),
    _p("vaccinated", 0.0, "1", "intervention switch: prior vaccination", (0.0, 1.0)),
    _p("nab_base", 1e-3, "1", ASSUME + "naive: a trace of cross-reactive neutralisation", (0.0, INF), (1e-4, 1e-2)),
    _p("nab_max", 1e3, "1", ASSUME + "peak titre blocks ~99.9% of infection events (clearance, no chronic state)",
       (1.0, INF), (1e2, 1e4)),
    _p("r_imm", 1.5, "1/d", ASSUME + "neutralising antibodies appear ~5-8 d after infection", prior=(0.5, 3.0)),
    _p("K_imm", 1e3, "cells", ASSUME + "antigen (infected cells) at half-maximal B-cell drive", prior=(1e2, 1e5)),
    _p("r_gc", 1.0, "1/d", ASSUME + "B-cell activation within ~1 day of antigen", prior=(0.3, 3.0),
       doc="activation rate of the B-cell response at saturating antigen"),
    _p("d_gc", 1.0 / 28.0, "1/d", ASSUME + "germinal centres persist for weeks after the antigen is gone, so a "
       "faded infection cannot smoulder on below the antibody drive (no chronic state anywhere in the priors)",
       prior=(1.0 / 60.0, 1.0 / 10.0), doc="waning of B-cell activation"),
    _p("w_imm", math.log(2) / 90.0, "1/d", ASSUME + "neutralising titres halve in ~3 months (SARS-CoV-2 "
       "breakthrough protection wanes by ~6 months, science.md 3.6)", prior=(1 / 365, 1 / 30)),
    _p("vacc_memory", 1.5, "1", ASSUME + "memory raises the resting CD8 pool 1.5-fold; with vacc_recall it sets the "
       "breakthrough kinetics of Vaccinated (tested against science.md 3.6)", (1.0, INF), (1.0, 10.0),
       doc="fold increase of the resting CD8 pool after vaccination"),
    _p("vacc_recall", 2.0, "1", ASSUME + "memory B cells make the antibody response ~2x faster (anamnestic)",
       (1.0, INF), (1.0, 5.0), "speed-up of the antibody response in a vaccinated host"),
    _p("antiviral_on", 0.0, "1", "intervention switch: antiviral course running", (0.0, 1.0)),
    _p("antiviral_eff", 0.9, "1", "neuraminidase-inhibitor-like block of production; prior from model fits",
       (0.0, 1.0), (0.5, 0.99)),
)

ASSIGNMENTS = (
    Assignment("il6_block", "imax_ab * antibody / (antibody + ic50_ab)", "1", "anti-IL-6R receptor occupancy"),
    Assignment("il6_signal", "hill(il6, K_il6, n_il6) * (1 - il6_block)", "1", "IL-6 signalling in lung DCCs"),
    Assignment("net_signal", "hill(nets, 1, n_net)", "1", "NET/laminin signalling in lung DCCs"),
    Assignment("lung_signal", "1 - (1 - il6_signal) * (1 - net_signal)", "1",
               "either path remodels the lung niche"),
    Assignment("bone_signal", "hill(a_il6_bone * il6_serum, K_il6, n_il6) * (1 - il6_block)", "1",
               "IL-6 signalling in bone-marrow DCCs"),
    Assignment("liver_signal", "hill(a_il6_liver * il6_serum, K_il6, n_il6) * (1 - il6_block)", "1",
               "IL-6 signalling in liver DCCs"),
    Assignment("wake_lung", "k_w0 + k_wake * il6_signal + k_wake_net * net_signal", "1/d",
               "awakening rate of a dormant lung DCC"),
    Assignment("vgate", "hill(virus, V_ext, 2)", "1", "extinction gate: new infections need >~ one infectious unit"),
    Assignment("cd4_shield", "1 / (1 + cd4 / K_cd4)", "1", "fraction of CD8 function left by CD4 suppression"),
    Assignment("cd8_activity", "cd8 / (cd8 + K_E)", "1", "saturating CD8 effector activity"),
    Assignment("cd8_antitumour", "cd8_activity * cd4_shield", "1", "CD8 activation/cytotoxicity at DCCs"),
    Assignment("dcc_total", "dormant + awakened + primed", "cells", "all lung DCCs"),
    # The denominator is the resting host's awakening rate (spontaneous plus resting IL-6); max(., 1e-12):
    # with no awakening at all (a mass-balance check) the ratio is undefined; the floor keeps W finite.
    Assignment("hazard_weight",
               "(k_back + k_kill * E0 / (E0 + K_E) / (1 + C0 / K_cd4)) / max(k_w0 + k_wake * hill(il6_base, K_il6, n_il6), 1e-12)",
               "1",
               "dormant-cell equivalents per cycling lung DCC (the resting host's quasi-steady ratio)"),
    Assignment("hazard_burden", "hazard_weight * awakened", "cells",
               "hazard-relevant lung burden W (dormant-cell equivalents)"),
)


def _site_transitions(site: str) -> tuple[Transition, ...]:
    d, a, p, n = (f"{site}_{s}" for s in ("dormant", "awakened", "primed", "niche"))
    wake = f"(k_w0 + k_wake * {site}_signal)"
    return (
        Transition(f"{site}_awakening", {d: -1, a: 1}, f"{wake} * {d}"),
        Transition(f"{site}_primed_awakening", {p: -1, a: 1}, f"prime_factor * {wake} * {p}"),
        Transition(f"{site}_proliferation", {a: 1},
                   f"r_A * {n} * {a} * pos(1 - ({d} + {a} + {p}) / dcc_capacity)"),
        Transition(f"{site}_redormancy", {a: -1, p: 1}, f"k_back * (1 - {n}) * {a}"),
        Transition(f"{site}_killing", {a: -1}, f"k_kill_site * {a}"),
        Transition(f"{site}_primed_loss", {p: -1}, f"d_P * {p}"),
        Transition(f"{site}_unpriming", {p: -1, d: 1}, f"k_unprime * {p}"),
        Transition(f"{site}_niche_remodelling", {n: 1}, f"{site}_signal * (1 - {n}) / tau_on"),
        Transition(f"{site}_niche_resolution", {n: -1}, f"(1 - {site}_signal) * {n} / tau_off"),
    )


def _lesion(site: str, signal: str) -> Transition:
    return Transition(f"lesion_{site}_growth", {f"lesion_{site}": 1},
                      f"r_lesion * (1 + lesion_gain * {signal}) * lesion_{site} * pos(1 - lesion_{site} / lesion_capacity)")


TRANSITIONS = (
    # virus and epithelium
    Transition("infection", {"target": -1, "eclipse": 1}, "beta * target * virus * vgate / (1 + nab)"),
    Transition("eclipse_end", {"eclipse": -1, "infected": 1}, "k_ecl * eclipse"),
    Transition("infected_death", {"infected": -1}, "delta_I * infected"),
    Transition("infected_killing", {"infected": -1}, "kappa_E * cd8_activity * infected"),
    Transition("infected_antibody_clearance", {"infected": -1}, "kappa_Ab * nab / (nab + K_Ab) * infected"),
    Transition("virus_production", {"virus": 1}, "p_V * (1 - antiviral_on * antiviral_eff) * infected"),
    Transition("virus_clearance", {"virus": -1}, "c_V * virus"),
    Transition("epithelial_repair", {"target": 1}, "g_T * pos(T0 - target - refractory - eclipse - infected)"),
    Transition("ifn_production", {"ifn": 1}, "d_F * infected / K_ifn"),
    Transition("ifn_decay", {"ifn": -1}, "d_F * ifn"),
    Transition("antiviral_state", {"target": -1, "refractory": 1}, "phi_F * ifn / (1 + ifn) * target"),
    Transition("antiviral_state_loss", {"refractory": -1, "target": 1}, "rho_R * refractory"),
    # innate arm
    Transition("neutrophil_influx", {"neutrophils": 1},
               "d_N * N0 + rho_N * infected / (K_N + infected) + inflamed * rho_sterile"),
    Transition("neutrophil_loss", {"neutrophils": -1}, "(d_N + k_dep * neut_depleted) * neutrophils"),
    # Activated neutrophils (by infected epithelium or a sterile stimulus) cast NETs; written without a kink at
    # the resting pool (a pos() of neutrophils - N0 here stalled CVODE in libRoadRunner at every tolerance).
    Transition("net_formation", {"nets": 1},
               "(1 - net_block) * d_net * neutrophils / K_net * (infected / (K_N + infected) + inflamed)"),
    Transition("net_turnover", {"nets": -1}, "d_net * nets"),
    Transition("macrophage_influx", {"macrophages": 1}, "r_M * hill(cd8, K_E, 2)"),
    Transition("macrophage_loss", {"macrophages": -1}, "d_M * macrophages"),
    # IL-6, lung and serum
    Transition(
        "il6_production",
        {"il6": 1},
        "(1 - il6_ko) * k_il6 * (il6_base + y_il6_I * infected + y_il6_N * pos(neutrophils - N0)"
        " + late_phase * y_il6_M * macrophages)",
    ),
    Transition("il6_clearance", {"il6": -1}, "k_il6 * il6"),
    Transition("il6_serum_production", {"il6_serum": 1},
               "(1 - il6_ko) * k_il6s * (il6s_base + f_serum * pos(il6 - il6_base))"),
    Transition("il6_serum_clearance", {"il6_serum": -1}, "k_il6s * il6_serum"),
    # T cells
    Transition("cd8_homeostasis", {"cd8": 1}, "d_E * E0 * (1 + vaccinated * (vacc_memory - 1))"),
    Transition("cd8_expansion", {"cd8": 1}, "r_E * cd8 * infected / (K_EA + infected)"),
    Transition("cd8_loss", {"cd8": -1}, "(d_E + k_dep * cd8_depleted) * cd8"),
    Transition("cd4_homeostasis", {"cd4": 1}, "d_C4 * C0"),
    Transition("cd4_recruitment", {"cd4": 1}, "q_C4 * awakened / (K_C4A + awakened)"),
    Transition("cd4_loss", {"cd4": -1}, "(d_C4 + k_dep * cd4_depleted) * cd4"),
    # lung DCCs
    Transition("awakening", {"dormant": -1, "awakened": 1, "awakenings": 1}, "wake_lung * dormant"),
    Transition("primed_awakening", {"primed": -1, "awakened": 1, "awakenings": 1},
               "prime_factor * wake_lung * primed"),
    Transition("proliferation", {"awakened": 1}, "r_A * niche * awakened * pos(1 - dcc_total / dcc_capacity)"),
    Transition("redormancy", {"awakened": -1, "primed": 1}, "k_back * (1 - niche) * awakened"),
    Transition("dcc_killing", {"awakened": -1}, "k_kill * cd8_antitumour * awakened"),
    Transition("primed_loss", {"primed": -1}, "d_P * primed"),
    Transition("unpriming", {"primed": -1, "dormant": 1}, "k_unprime * primed"),
    # Proliferation needs the NET-remodelled laminin niche (Albrengues et al. 2018): IL-6 alone wakes cells
    # that cannot expand, which is why neutrophil depletion reverses the post-influenza expansion (AACR 2023)
    # and DNase I prevents LPS-induced awakening although LPS raises IL-6.
    Transition("niche_remodelling", {"niche": 1}, "net_signal * (1 - niche) / tau_on"),
    Transition("niche_resolution", {"niche": -1}, "(1 - net_signal) * niche / tau_off"),
    # bone-marrow and liver DCCs
    *_site_transitions("bone"),
    *_site_transitions("liver"),
    # established lesions
    _lesion("lung", "lung_signal"),
    _lesion("bone", "bone_signal"),
    _lesion("liver", "liver_signal"),
    # humoral immunity and the antibody drug
    Transition("nab_gain", {"nab": 1},
               "r_imm * (1 + vaccinated * (vacc_recall - 1)) * nab * (1 - nab / nab_max) * gc"),
    Transition("gc_activation", {"gc": 1}, "r_gc * infected / (K_imm + infected) * (1 - gc)"),
    Transition("gc_waning", {"gc": -1}, "d_gc * gc"),
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
