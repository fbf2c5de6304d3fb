"""Survivors: who they are and their baseline risks, drawn from per-person counter streams.

Each person's draws depend on (seed, person id) only, so any chunk regenerates exactly its people.
The baseline distant-recurrence hazard comes from Pan et al. 2017 (steady over years 5-20, by tumour
size and nodes), split into lung and other sites by the lung share of first relapses, with subtype
odds ratios for lung. The lung DCC burden scales with that hazard (more nodes, more disseminated cells)
and a lognormal person-to-person factor of mean one, so the cohort's baseline matches Pan on average.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from .._rng import counter_uniforms, stream_keys
from .._typing import FloatArray, IntArray
from ..vocab import DAYS_PER_YEAR, NODES, SUBTYPES, T_STAGES
from .config import CohortConfig

PURPOSE_PEOPLE = 1
YEAR = DAYS_PER_YEAR


@dataclass(frozen=True)
class People:
    person_id: IntArray
    age: FloatArray  # at day 0, years
    diagnosis_day: FloatArray  # days relative to day 0 (negative)
    subtype: IntArray  # index into SUBTYPES
    t_stage: IntArray
    nodes: IntArray
    dcc_burden: FloatArray  # lung DCCs (cells)
    distant_hazard: FloatArray  # per year, all sites
    lung_hazard: FloatArray  # per year, lung (at the starting burden)
    other_hazard: FloatArray  # per year, other sites

    def __len__(self) -> int:
        return int(self.person_id.size)


def _categorical(u: FloatArray, names: tuple[str, ...], shares: dict[str, float]) -> IntArray:
    p = np.array([shares[n] for n in names], dtype=float)
    cdf = np.cumsum(p / p.sum())
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(names) - 1)


def draw_people(config: CohortConfig, seed: int, person_id: IntArray) -> People:
    c = config.section("people")
    keys = stream_keys(seed, person_id, PURPOSE_PEOPLE)
    u = counter_uniforms(keys[:, None], np.arange(6)[None, :])
    z_age = ndtri(u[:, 0])
    age = np.clip(c["age_mean"] + c["age_sd"] * z_age, c["age_min"], c["age_max"])
    since = c["years_since_diagnosis_min"] + u[:, 1] * (c["years_since_diagnosis_max"] - c["years_since_diagnosis_min"])
    subtype = _categorical(u[:, 2], SUBTYPES, c["subtype_shares"])
    t_stage = _categorical(u[:, 3], T_STAGES, c["t_stage_shares"])
    nodes = _categorical(u[:, 4], NODES, c["node_shares"])
    r15 = np.array([[c["recurrence_15y_T1"][n] for n in NODES], [c["recurrence_15y_T2"][n] for n in NODES]])
    hazard = -np.log1p(-r15[t_stage, nodes]) / 15.0  # constant annual hazard giving Pan's 15-year risk
    share = c["lung_share"]
    odds = share / (1.0 - share) * np.array([c["lung_odds_ratio"][s] for s in SUBTYPES])[subtype]
    lung_share = odds / (1.0 + odds)
    sigma = c["dcc_burden_sigma"]
    z = ndtri(u[:, 5])
    factor = np.exp(sigma * z - 0.5 * sigma**2)  # mean one: the cohort keeps Pan's average hazard
    reference = -np.log1p(-r15[0, 0]) / 15.0  # T1N0
    burden = c["dcc_burden_median"] * np.exp(sigma * z) * hazard / reference  # median T1N0 = dcc_burden_median
    return People(
        person_id=np.asarray(person_id, dtype=np.int64), age=age, diagnosis_day=-since * YEAR,
        subtype=subtype, t_stage=t_stage, nodes=nodes, dcc_burden=burden, distant_hazard=hazard,
        lung_hazard=hazard * lung_share * factor, other_hazard=hazard * (1.0 - lung_share),
    )
