"""Exposure: candidate infections from influenza seasons and SARS-CoV-2 waves, and vaccinations.

Every person gets one candidate infection per influenza season and per SARS-CoV-2 wave, with its day,
its base probability (attack rate by age, season-to-season factor) and the uniforms that decide it;
whether it happens is decided later, per arm, in the kernel (vaccination, reinfection protection and
the 90-day refractory period depend on the arm and on earlier infections). The same uniforms serve
every arm: common random numbers, so arms differ only where their policies differ.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numba as nb
import numpy as np
from scipy.special import ndtri

from .._rng import counter_uniforms, stream_keys
from .._typing import FloatArray, IntArray
from ..vocab import INFECTING_VIRUSES
from .config import CohortConfig
from .people import YEAR, People

PURPOSE_FLU, PURPOSE_COVID, PURPOSE_SEASON, PURPOSE_VACC = 2, 3, 4, 5
DRAWS = 5  # uniforms per candidate: day, occurrence, severity, antiviral, death
INFLUENZA, SARS_COV_2 = (INFECTING_VIRUSES.index(v) for v in ("influenza", "sars-cov-2"))


@dataclass(frozen=True)
class Candidates:
    """Per person (rows) and candidate (columns: influenza seasons, then SARS-CoV-2 waves)."""

    day: FloatArray
    virus: IntArray
    p_base: FloatArray  # attack probability before vaccination / reinfection protection
    log_s: FloatArray  # log severity (variant severity x the person's response)
    u_occur: FloatArray
    u_antiviral: FloatArray
    u_death: FloatArray
    death_risk: FloatArray  # unvaccinated risk of dying of this infection
    season: IntArray  # influenza season index (or -1)
    antiviral_available: FloatArray  # 1 where an antiviral exists at this date


def influenza_seasons(config: CohortConfig) -> list[tuple[int, float]]:
    """(season start year, peak day relative to day 0) for every season that can touch follow-up."""
    start = config.start_date
    years = float(config.get("cohort", "years"))
    peak_doy = int(config.get("influenza", "season_peak_day"))
    out = []
    for y in range(start.year - 1, start.year + int(np.ceil(years)) + 1):
        peak = dt.date(y + 1, 1, 1) + dt.timedelta(days=peak_doy - 1)
        day = float((peak - start).days)
        if -120 < day < years * YEAR + 120:
            out.append((y, day))
    return out


def season_factors(config: CohortConfig, seed: int, seasons: list[tuple[int, float]]) -> FloatArray:
    """Season-to-season attack-rate multipliers (lognormal, mean one), one draw per season and seed."""
    sigma = config.get("influenza", "season_sigma")
    quiet = config.get("influenza", "quiet_seasons")
    years = np.array([y for y, _ in seasons])
    u = counter_uniforms(stream_keys(seed, years, PURPOSE_SEASON), np.zeros(len(years), dtype=np.uint64))
    f = np.exp(sigma * ndtri(u) - 0.5 * sigma**2)
    return f * np.array([quiet.get(str(y), 1.0) for y in years])


def draw_candidates(config: CohortConfig, seed: int, people: People) -> Candidates:
    fl, cv = config.section("influenza"), config.section("sars_cov_2")
    seasons = influenza_seasons(config)
    factors = season_factors(config, seed, seasons)
    waves = cv["waves"]
    n, ns, nw = len(people), len(seasons), len(waves)
    uf = counter_uniforms(stream_keys(seed, people.person_id, PURPOSE_FLU)[:, None],
                          np.arange(ns * DRAWS)[None, :]).reshape(n, ns, DRAWS)
    uc = counter_uniforms(stream_keys(seed, people.person_id, PURPOSE_COVID)[:, None],
                          np.arange(nw * DRAWS)[None, :]).reshape(n, nw, DRAWS)
    peak_f = np.array([d for _, d in seasons])
    day_f = peak_f[None, :] + fl["season_spread_days"] * np.clip(ndtri(uf[..., 0]), -3, 3)
    age_f = people.age[:, None] + day_f / YEAR
    p_f = np.where(age_f >= 65, fl["attack_rate_65_plus"], fl["attack_rate_under_65"]) * factors[None, :]
    logs_f = fl["severity_sigma"] * ndtri(uf[..., 2])
    risk_f = np.where(age_f >= 65, fl["death_risk_65_plus"], fl["death_risk_under_65"])

    peak_c = np.array([config.day_of(w["peak"]) for w in waves])
    spread_c = np.array([w["spread_days"] for w in waves])
    day_c = peak_c[None, :] + spread_c[None, :] * np.clip(ndtri(uc[..., 0]), -3, 3)
    age_c = people.age[:, None] + day_c / YEAR
    attack = np.array([w["attack_rate"] for w in waves])[None, :]
    p_c = attack * np.where(age_c >= 65, cv["age_attack_multiplier_65_plus"], 1.0)
    logs_c = np.log(np.array([w["severity"] for w in waves]))[None, :] + cv["severity_sigma"] * ndtri(uc[..., 2])
    ifr = 10.0 ** (cv["ifr_log10_intercept"] + cv["ifr_log10_slope"] * age_c) / 100.0
    risk_c = np.minimum(ifr, 1.0)

    def cat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b], axis=1)

    take = lambda a: a  # noqa: E731  (the kernel visits each person's candidates in time order)
    day = cat(day_f, day_c)
    av_day = config.day_of(cv["antiviral_start"])
    virus = cat(np.zeros((n, ns), np.int64), np.ones((n, nw), np.int64))
    return Candidates(
        day=take(day), virus=take(virus), p_base=take(cat(p_f, p_c)), log_s=take(cat(logs_f, logs_c)),
        u_occur=take(cat(uf[..., 1], uc[..., 1])), u_antiviral=take(cat(uf[..., 3], uc[..., 3])),
        u_death=take(cat(uf[..., 4], uc[..., 4])), death_risk=take(cat(risk_f, risk_c)),
        season=take(cat(np.broadcast_to(np.arange(ns), (n, ns)), np.full((n, nw), -1))),
        antiviral_available=take(cat(np.ones((n, ns)), (day_c >= av_day).astype(float))),
    )


@dataclass(frozen=True)
class Vaccination:
    """One arm's vaccinations: influenza per season, SARS-CoV-2 doses (primary, yearly boosters)."""

    flu_vaccinated: np.ndarray  # (n, n_seasons) bool
    flu_day: FloatArray  # (n_seasons,) vaccination day of each season
    covid_dose_day: FloatArray  # (n, n_doses), inf where no dose


def vaccinations(config: CohortConfig, seed: int, people: People, *, flu_coverage: float | None,
                 covid_coverage: float | None, booster_coverage: float | None) -> Vaccination:
    """Who is vaccinated when. Coverage overrides (an arm's) replace the configured ones; the same
    uniforms are used for every arm, so raising coverage only adds vaccinated people."""
    fl, cv = config.section("influenza"), config.section("sars_cov_2")
    seasons = influenza_seasons(config)
    ns = len(seasons)
    years_out = int(np.ceil(config.get("cohort", "years"))) + 2
    u = counter_uniforms(stream_keys(seed, people.person_id, PURPOSE_VACC)[:, None],
                         np.arange(ns + 2 + years_out)[None, :])
    flu_day = np.array([float((dt.date(y, 1, 1) + dt.timedelta(days=int(fl["vaccination_day"]) - 1)
                               - config.start_date).days) for y, _ in seasons])
    age_at = people.age[:, None] + flu_day[None, :] / YEAR
    cov = np.where(age_at >= 65, fl["vaccine_coverage_65_plus"], fl["vaccine_coverage_under_65"])
    if flu_coverage is not None:
        cov = np.full_like(cov, flu_coverage)
    flu_vacc = u[:, :ns] < cov
    start = config.day_of(cv["vaccine_start"])
    c_cov = cv["vaccine_coverage"] if covid_coverage is None else covid_coverage
    b_cov = cv["booster_coverage"] if booster_coverage is None else booster_coverage
    primary = np.where(u[:, ns] < c_cov, start + 60.0 * u[:, ns + 1], np.inf)
    first_year = _as_year(config, start) + 1
    boosters = []
    for k in range(years_out):
        year = first_year + k
        day = float((dt.date(year, 1, 1) + dt.timedelta(days=int(cv["booster_day"]) - 1) - config.start_date).days)
        boosters.append(np.where(np.isfinite(primary) & (u[:, ns + 2 + k] < b_cov), day, np.inf))
    doses = np.column_stack([primary, *boosters]) if boosters else primary[:, None]
    return Vaccination(flu_vacc, flu_day, doses)


def _as_year(config: CohortConfig, day: float) -> int:
    return (config.start_date + dt.timedelta(days=int(day))).year


def vaccine_state(config: CohortConfig, cand: Candidates, vacc: Vaccination) -> tuple[FloatArray, FloatArray]:
    """Per candidate infection: the vaccine's protection against infection (0..1) and whether the person
    counts as vaccinated for the within-host response (a dose within the last year)."""
    fl, cv = config.section("influenza"), config.section("sars_cov_2")
    protect = np.empty_like(cand.day)
    flag = np.empty_like(cand.day)
    _vaccine_state(cand.day, cand.virus, cand.season, vacc.flu_vaccinated, vacc.flu_day, vacc.covid_dose_day,
                   float(fl["vaccine_effectiveness"]), float(cv["vaccine_effectiveness"]),
                   float(cv["vaccine_waning_days"]), protect, flag)
    return protect, flag


@nb.njit(cache=True)
def _vaccine_state(day, virus, season, flu_vacc, flu_day, doses, ve_flu, ve_cov, waning, protect, flag):  # noqa: ANN001, ANN202
    n, k = day.shape
    for i in range(n):
        for j in range(k):
            t = day[i, j]
            protect[i, j] = 0.0
            flag[i, j] = 0.0
            if virus[i, j] == INFLUENZA:
                s = season[i, j]
                if flu_vacc[i, s] and t >= flu_day[s]:
                    protect[i, j] = ve_flu
                    flag[i, j] = 1.0
            else:
                last = -np.inf
                for d in range(doses.shape[1]):
                    if doses[i, d] <= t and doses[i, d] > last:
                        last = doses[i, d]
                if last > -np.inf:
                    protect[i, j] = ve_cov * np.exp(-(t - last) / waning)
                    if t - last < 365.0:
                        flag[i, j] = 1.0
