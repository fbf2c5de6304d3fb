"""Host and virus parameter sets, each value with its source.

A :class:`Profile` is a host/virus pair: the parameter values and initial states that replace the mouse
PR8 defaults of :mod:`il6_dormancy`, the inoculum that an infection adds, and the detection limit used to
call a virus cleared. ``virus="none"`` is the uninfected (PBS) control: it uses the host's influenza
parameters but no infection is ever scheduled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from ...errors import ScenarioError
from ...vocab import HOSTS, VIRUSES
from ..spec import ModelSpec
from .il6_dormancy import ASSUME, BACCAM, il6_dormancy_spec

GONCALVES = "Goncalves et al. 2021 PLoS Comput Biol 17:e1008785 (within-host R0 ~6, infected-cell t1/2 ~9 h)"
BACCAM_V = ("Baccam et al. 2006 J Virol 80:7590, human A/HK/123/77 challenge; beta, p, c, delta as carried by "
            "re-implementations citing its Table 1 (verify; gives R0 ~11 vs the abstract's ~22)")
HAYDEN = "calibrated: nasal IL-6 peaks day 2 with shedding (Hayden et al. 1998 JCI; Carrat et al. 2008 AJE)"


@dataclass(frozen=True)
class Value:
    """A profile's value for one parameter, with its source and (where it differs) its prior range."""

    value: float
    source: str
    prior: tuple[float, float] | None = None


@dataclass(frozen=True)
class Profile:
    """Everything that makes ``host``/``virus`` differ from the model's defaults."""

    host: str
    virus: str
    strain: str
    inoculum: float  # default virus added at each infection, TCID50/mL (the parameter V0; --set V0=... changes it)
    detection_limit: float  # TCID50/mL below which virus is called cleared
    parameters: Mapping[str, Value] = field(default_factory=dict)
    initial: Mapping[str, Value] = field(default_factory=dict)
    doc: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))
        object.__setattr__(self, "initial", MappingProxyType(dict(self.initial)))

    def spec(self) -> ModelSpec:
        """The model with this profile's values, sources and priors (validated as any spec)."""
        base = il6_dormancy_spec()
        unknown = set(self.parameters) - set(base.parameter_names)
        if unknown:
            raise ScenarioError(f"profile {self.host}/{self.virus} sets unknown parameters {sorted(unknown)}")
        given = {"V0": Value(self.inoculum, f"{ASSUME}profile inoculum of {self.strain}; the dose of the cited "
                                            "experiments was not retrieved"), **self.parameters}
        params = tuple(
            replace(p, value=float(v.value), source=v.source, prior=v.prior if v.prior is not None else p.prior)
            if (v := given.get(p.name)) is not None else p
            for p in base.parameters
        )
        return replace(base, parameters=params).with_initial({k: v.value for k, v in self.initial.items()})


_HUMAN = {
    "T0": Value(4e8, "Baccam et al. 2006 (value used by re-implementations): upper-airway epithelial target cells",
                (1e8, 1e9)),
    "N0": Value(1e6, ASSUME + "airway neutrophils at rest, order of magnitude", (3e5, 3e6)),
    "rho_N": Value(2e7, HAYDEN, (5e6, 1e8)),
    "K_N": Value(1e6, HAYDEN, (1e5, 1e7)),
    "E0": Value(1e5, ASSUME + "airway CD8 pool at rest", (1e4, 1e6)),
    "K_E": Value(1e7, ASSUME + "mouse value scaled 10-fold for the larger human airway", (1e6, 1e8)),
    "K_EA": Value(1e5, ASSUME + "mouse value scaled 10-fold for the larger human airway", (1e4, 2e5)),
    "dcc_capacity": Value(1e10, ASSUME + "a lung holds ~1e10 tumour cells before it fails", (1e9, 1e11)),
    "il6_base": Value(2.0, "normal serum/nasal IL-6 < 7 pg/mL (science.md 3.4)", (1.0, 7.0)),
    "il6s_base": Value(2.0, "normal serum IL-6 < 7 pg/mL (science.md 3.4)", (1.0, 7.0)),
    "V_ext": Value(0.1, ASSUME + "one infectious unit in ~10 mL of nasal wash: below it the infection goes extinct",
                   (0.01, 1.0)),
    "K_ifn": Value(4e4, ASSUME + "mouse value scaled by the target-cell pool (T0 40x larger)", (4e3, 4e5)),
    "rho_sterile": Value(1e7, ASSUME + "mouse value scaled 10-fold", (1e6, 1e8)),
    "y_il6_M": Value(1e-5, ASSUME + "scaled with r_M: the late phase of a severe episode peaks at ~2-3x the early "
                     "lung IL-6", (1e-6, 1e-4)),
    "r_M": Value(3e7, ASSUME + "scaled so that, with late_phase on, lung IL-6 peaks in the second week (days 7-10) "
                 "above the early peak", (1e7, 1e8)),
    "f_serum": Value(0.37, "calibrated: severe vs non-severe COVID-19 serum IL-6 +20 to +39 pg/mL (meta-analyses, "
                     "science.md 3.4; severe = 95th percentile of the IL-6 response, non-severe = median)", (0.1, 1.0)),
    "d_P": Value(2e-4, ASSUME + "re-dormant cells persist like dormant DTCs (years; half-life ~10 y); bounded "
                 "above by the mouse 9-month persistence (Chia et al. 2025)", (0.0, 2e-3)),
    # The human DCC response. Reusing the mouse sensitivities makes a typical seasonal influenza wake a
    # large share of a survivor's lung DCCs; because only cycling cells found lesions (hazard_weight), that
    # multiplies the lung-metastasis hazard far beyond registry hazard ratios of 1.4-1.9. The two human
    # sensitivities are therefore set so that typical episodes barely wake DCCs (docs/cohorts.md,
    # "Calibration"): they are the calibrated knobs of the human layer until the Bayesian calibration
    # replaces them with a posterior.
    "K_il6": Value(1000.0, "calibrated: cohort soft targets 13/14 (Flatiron HR 1.44; UK Biobank OR 1.85), "
                   "docs/cohorts.md", (300.0, 3000.0)),
    "K_net": Value(2.5e7, "calibrated with K_il6 (same targets; SARS-CoV-2 episodes, long and neutrophilic, set it); "
                   "the mouse value scaled 10-fold would be 3e6", (3e6, 2e8)),
    "k_w0": Value(1e-5, ASSUME + "human dormancy lasts decades: late recurrence accrues at a steady rate over "
                  "years 5-20 (Pan et al. 2017), so the dormant pool must persist (half-life >> 15 y)",
                  (1e-6, 1e-4)),
}
_HUMAN_INITIAL = {
    "target": Value(4e8, BACCAM),
    "neutrophils": Value(1e6, ASSUME + "= N0"),
    "cd8": Value(1e5, ASSUME + "= E0"),
    "il6": Value(2.0, "= il6_base"),
    "dormant": Value(10.0, ASSUME + "a survivor's lung holds a handful of dormant DCCs (Willis et al. 2010: "
                     "1-6 growth-restricted micrometastases; Braun et al. 2005: DTCs in 30.6%)"),
    "il6_serum": Value(2.0, "= il6s_base"),
    "bone_dormant": Value(10.0, ASSUME + "as many as the lung; bone-marrow DTCs are found in 30.6% of stage I-III "
                          "patients (Braun et al. 2005), usually a few cells per 2-4 million"),
    "liver_dormant": Value(2.0, ASSUME + "fewer than lung or marrow (liver is 7% of first relapses vs lung 22%, "
                           "bone 41%; science.md 3.8)"),
}

PROFILES: dict[tuple[str, str], Profile] = {
    ("mouse", "influenza"): Profile(
        "mouse", "influenza", "A/Puerto Rico/8/34 (H1N1), sublethal, intranasal", 2e3, 10.0,
        doc="Defaults of the model; Myers et al. 2021 virus/CD8 kinetics; Chia et al. 2025 design.",
    ),
    ("mouse", "sars-cov-2"): Profile(
        "mouse", "sars-cov-2", "SARS-CoV-2 MA10 (mouse-adapted)", 2e3, 10.0,
        parameters={
            "delta_I": Value(1.85, ASSUME + "macaque infected-cell half-life ~9 h applied to mouse MA10 ("
                             + GONCALVES + ")"),
            "beta": Value(4e-5, ASSUME + "MA10 infects mouse lung less efficiently than PR8; peak day 2 "
                          "(Leist et al. 2020 Cell)"),
            "y_il6_I": Value(1.2e-4, ASSUME + "MA10 drives a strong Th1/IL-6 response (Leist et al. 2020)"),
        },
        doc="MA10 dose and kinetics in the Chia et al. experiments were not retrieved; values are stated priors.",
    ),
    ("human", "influenza"): Profile(
        "human", "influenza", "seasonal influenza A (challenge-study kinetics)", 1e2, 1.0,
        parameters={
            **_HUMAN,
            "beta": Value(2.7e-5, BACCAM_V, (1e-5, 1e-4)),
            "p_V": Value(1.2e-2, BACCAM_V, (3e-3, 5e-2)),
            "c_V": Value(3.0, BACCAM_V, (1.0, 10.0)),
            "delta_I": Value(4.0, BACCAM_V, (1.0, 6.0)),
            "y_il6_I": Value(1.6e-6, HAYDEN, (1.6e-7, 1.6e-5)),
            "y_il6_N": Value(1.6e-5, HAYDEN, (1.6e-6, 1.6e-4)),
        },
        initial=_HUMAN_INITIAL,
        doc="Baccam et al. 2006 target-cell-limited kinetics. Inoculum V0 = 100 TCID50/mL (assumption): Baccam's "
            "fitted V0 = 9.3e-2 puts the peak on day ~4 in this model, while shedding and nasal IL-6 peak on day 2.",
    ),
    ("human", "sars-cov-2"): Profile(
        "human", "sars-cov-2", "SARS-CoV-2 (ancestral/Delta-like kinetics)", 1e2, 1.0,
        parameters={
            **_HUMAN,
            "beta": Value(1e-7, ASSUME + "scale choice; with p_V gives within-host R0 = 6 (Goncalves 2021)",
                          (3e-8, 3e-7)),
            "p_V": Value(2.8, ASSUME + "set so that R0 = beta p T0 / (c delta) = 6 (" + GONCALVES + ")", (1.0, 10.0)),
            "c_V": Value(10.0, ASSUME + "free-virus clearance ~10/d, as in target-cell models of SARS-CoV-2",
                         (3.0, 20.0)),
            "delta_I": Value(1.85, GONCALVES + " (macaque nasopharynx)", (0.5, 3.0)),
            "K_ifn": Value(1.2e6, "SARS-CoV-2 blunts and delays the type I IFN response (Blanco-Melo et al. 2020 Cell "
                           "181:1036): 30x the influenza value, so the peak (~1e6 TCID50/mL-equivalent) comes near "
                           "symptom onset, day 4-5", (1e5, 1e7)),
            "y_il6_I": Value(3.2e-7, "calibrated with f_serum: non-severe COVID-19 serum IL-6 ~10-20 pg/mL and "
                             "severe +20-40 pg/mL (science.md 3.4)", (3.2e-8, 3.2e-6)),
            "y_il6_N": Value(3.2e-6, "calibrated with y_il6_I (same evidence)", (3.2e-7, 3.2e-5)),
        },
        initial=_HUMAN_INITIAL,
        doc="Clearance ~10-16 d (Neant et al. 2021 PNAS); within-host R0 ~6 and infected-cell t1/2 ~9 h.",
    ),
}


def profile(host: str, virus: str) -> Profile:
    """The profile of ``host``/``virus``; ``virus="none"`` gives the host's uninfected control."""
    if host not in HOSTS:
        raise ScenarioError(f"unknown host {host!r}; choose one of: {', '.join(HOSTS)}")
    if virus not in VIRUSES:
        raise ScenarioError(f"unknown virus {virus!r}; choose one of: {', '.join(VIRUSES)}")
    base = PROFILES[(host, "influenza" if virus == "none" else virus)]
    if virus == "none":
        return Profile(host, "none", "uninfected control (PBS)", 0.0, base.detection_limit, base.parameters,
                       base.initial, "No infection is scheduled.")
    return base
