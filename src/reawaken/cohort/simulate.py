"""Simulate a virtual cohort in chunks of people: a pure function of (config, tables, seed, id range).

``simulate_chunk`` returns plain NumPy columns (a person table, and per arm an event table and counts)
that ``reawaken.io`` writes to Parquet. Every random draw is keyed by (seed, person id, purpose), so a
chunk's result does not depend on how the cohort was cut or where the chunk ran.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._rng import counter_uniforms, stream_keys
from .._typing import FloatArray
from ..model.params import ParameterSet
from ..vocab import (  # noqa: F401 (EVENT_KINDS and CAUSES are re-exported for the store)
    CAUSE_CANCER,
    CAUSE_COVID,
    CAUSE_FLU,
    CAUSE_NONE,
    CAUSE_OTHER,
    CAUSES,
    EVENT_KINDS,
    K_ANTI_IL6,
    K_ANTIVIRAL,
    K_COVID,
    K_DEATH,
    K_END,
    K_FLU,
    K_LUNG,
    K_OTHER_RELAPSE,
    K_VACC_COVID,
    K_VACC_FLU,
)
from .config import CohortConfig
from .episodes import AntiIL6Policy, EpisodeTables, build_episode_tables_many
from .exposure import INFLUENZA, Candidates, draw_candidates, vaccinations, vaccine_state
from .kernel import ArmSettings, CandidateInputs, Outputs, PersonInputs, TableInputs, run_people
from .people import YEAR, People, draw_people
from .slow import SlowDynamics, slow_dynamics

PURPOSE_EXP = 6
MONTH = YEAR / 12.0
MAX_DOSE_MG = 800.0  # tocilizumab COVID-19 label: 8 mg/kg, at most 800 mg (science.md 3.5)


@dataclass(frozen=True)
class Arm:
    """One policy applied to the same people and infection draws (common random numbers)."""

    name: str
    infections: bool = True
    influenza_vaccine_coverage: float | None = None
    sars_cov_2_vaccine_coverage: float | None = None
    sars_cov_2_booster_coverage: float | None = None
    influenza_antiviral_share: float | None = None
    sars_cov_2_antiviral_share: float | None = None
    anti_il6: AntiIL6Policy | None = None
    body_weight_kg: float = 70.0


def arms_from_config(config: CohortConfig, names: Sequence[str]) -> tuple[Arm, ...]:
    from ..errors import ConfigError

    out = []
    for name in names:
        if name not in config.arms:
            raise ConfigError(f"unknown arm {name!r}; the config defines: {', '.join(config.arms)}")
        a = dict(config.arms[name])
        policy = None
        if "anti_il6_threshold" in a:
            policy = AntiIL6Policy(a.pop("anti_il6_threshold"), a.pop("anti_il6_dose_mg_per_kg", 8.0),
                                   a.pop("anti_il6_delay_days", 1.0))
        elif {"anti_il6_dose_mg_per_kg", "anti_il6_delay_days"} & set(a):
            raise ConfigError(f"[arms.{name}] sets an anti-IL-6 dose but no anti_il6_threshold")
        out.append(Arm(name=name, anti_il6=policy, **a))
    return tuple(out)


@dataclass(frozen=True)
class Model:
    """Everything a chunk needs besides its id range: config, episode tables, slow dynamics, arms."""

    config: CohortConfig
    arms: tuple[Arm, ...]
    tables: EpisodeTables
    slow: SlowDynamics
    years: float
    params: ParameterSet = field(default_factory=ParameterSet.default)

    @property
    def policies(self) -> tuple[AntiIL6Policy, ...]:
        return self.tables.policies


def table_settings(config: CohortConfig, arms: Sequence[Arm], *, n_severity: int = 65) -> dict[str, Any]:
    """What the episode tables depend on besides the parameter set (their cache key, with the set's hash)."""
    return {"episode_days": float(config.get("mechanism", "episode_days")), "n_severity": int(n_severity),
            "policies": tuple(dict.fromkeys(a.anti_il6 for a in arms if a.anti_il6 is not None)),
            "antiviral_start_days": (float(config.get("influenza", "antiviral_start_days")),
                                     float(config.get("sars_cov_2", "antiviral_start_days")))}


_TABLE_CACHE: dict[str, EpisodeTables] = {}
_TABLE_CACHE_SIZE = 32  # ~2 MB a set of tables: a posterior's worth stays in memory, no more


def tables_key(settings: Mapping[str, Any], params: ParameterSet) -> str:
    """Content hash of everything episode tables depend on: settings, parameter values, the human model."""
    import hashlib
    import json

    from ..model.serialize import spec_hash
    from ..scenarios.scenario import Scenario

    text = json.dumps({**settings, "policies": [list(vars(p).values()) for p in settings["policies"]],
                       "params": params.hash(), "model": spec_hash(Scenario("human", "influenza").apply()[0])},
                      sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def solve_tables(settings: Mapping[str, Any], param_sets: Sequence[ParameterSet]) -> list[EpisodeTables]:
    """Episode tables for every set, from the in-process cache by content hash where present; the missing
    sets are solved together in one batched solve per virus and pass."""
    keys = [tables_key(settings, ps) for ps in param_sets]
    missing = list(dict.fromkeys(k for k in keys if k not in _TABLE_CACHE))
    if missing:
        first = {k: ps for k, ps in zip(keys, param_sets)}
        solved = build_episode_tables_many([first[k] for k in missing], **settings)
        for k, t in zip(missing, solved):
            if len(_TABLE_CACHE) >= _TABLE_CACHE_SIZE:
                _TABLE_CACHE.pop(next(iter(_TABLE_CACHE)))
            _TABLE_CACHE[k] = t
    return [_TABLE_CACHE[k] for k in keys]


def build_model(config: CohortConfig, arms: Sequence[Arm], *, years: float | None = None,
                n_severity: int = 65, params: ParameterSet | None = None) -> Model:
    """Solve the episode tables (the within-host model for every condition) and the slow dynamics for
    parameter set ``params`` (default: the human profiles' values); tables are cached by content hash."""
    ps = params or ParameterSet.default()
    (tables,) = solve_tables(table_settings(config, arms, n_severity=n_severity), [ps])
    return model_with_tables(config, arms, tables, years, params=ps)


def model_with_tables(config: CohortConfig, arms: Sequence[Arm], tables: EpisodeTables,
                      years: float | None = None, *, params: ParameterSet | None = None) -> Model:
    """A model from previously solved tables (a resumed run, or a batch of parameter sets)."""
    missing = [a.name for a in arms if a.anti_il6 is not None and a.anti_il6 not in tables.policies]
    if missing:
        raise ValueError(f"the episode tables have no anti-IL-6 policy of arm(s) {missing}; solve them again")
    ps = params or ParameterSet.default()
    return Model(config, tuple(arms), tables, slow_dynamics(ps),
                 float(config.get("cohort", "years") if years is None else years), ps)


def simulate_chunk_task(args: tuple[Model, int, int, int]) -> ChunkResult:
    """``simulate_chunk`` on one tuple (for executors' ``map``/``submit``)."""
    return simulate_chunk(*args)


@dataclass
class ChunkResult:
    first: int
    count: int
    persons: dict[str, np.ndarray]
    events: dict[str, dict[str, np.ndarray]]  # arm -> columns
    counts: dict[str, dict[str, float]]  # arm -> summary counts
    monthly: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # arm -> series by month
    lung_flag: dict[str, np.ndarray] = field(default_factory=dict)  # arm -> lung metastasis per person

    def marker(self) -> dict[str, Any]:
        """What a finished chunk records: its counts, monthly series and paired (CRN) differences
        in lung metastases against the first arm."""
        arms = list(self.counts)
        ref = self.lung_flag[arms[0]].astype(np.int64)
        paired = {}
        for a in arms:
            d = ref - self.lung_flag[a].astype(np.int64)
            paired[a] = {"sum": int(d.sum()), "sum_sq": int((d * d).sum())}
        return {"first": self.first, "count": self.count, "counts": self.counts,
                "monthly": {a: {k: v.tolist() for k, v in m.items()} for a, m in self.monthly.items()},
                "paired_vs_first_arm": paired}


def _exponentials(seed: int, ids: np.ndarray, n: int) -> FloatArray:
    u = counter_uniforms(stream_keys(seed, ids, PURPOSE_EXP)[:, None], np.arange(n)[None, :])
    return -np.log(u)


def simulate_chunk(model: Model, seed: int, first: int, count: int) -> ChunkResult:
    cfg = model.config
    ids = np.arange(first, first + count, dtype=np.int64)
    people = draw_people(cfg, seed, ids)
    cand = draw_candidates(cfg, seed, people)
    end_day = model.years * YEAR
    e = _exponentials(seed, ids, 4)  # lung, other site, background death, cancer death
    mort = cfg.section("mortality")
    h65, b = mort["background_annual_at_65"], mort["background_gompertz_slope"]
    # Gompertz background death: H(t) = h65/b e^{b(a0-65)} (e^{bt} - 1), inverted at an Exp(1) draw
    bg_years = np.log1p(e[:, 2] * b / (h65 * np.exp(b * (people.age - 65.0)))) / b
    bg_day = bg_years * YEAR
    other_dx = e[:, 1] / (people.other_hazard / YEAR)
    median_cd = mort["metastatic_median_survival_years"] * YEAR / math.log(2.0)
    cancer_other = other_dx + e[:, 3] * median_cd
    stop0 = np.minimum(end_day, np.minimum(bg_day, cancer_other))
    cause0 = np.where(stop0 >= end_day, CAUSE_NONE, np.where(bg_day <= cancer_other, CAUSE_OTHER, CAUSE_CANCER))
    slow = model.slow
    w = model.tables.weights
    since = -people.diagnosis_day
    x0 = slow.propagate_many(np.array([1.0, 0.0, 0.0]), since)  # from one dormant cell at diagnosis
    x0 = x0 / (x0 @ w)[:, None]  # W(0) = 1: kappa carries the person's baseline lung hazard
    kappa = people.lung_hazard / YEAR
    mech = cfg.section("mechanism")
    planted = mech["mode"] == "planted"
    t = model.tables
    result = ChunkResult(first, count, _person_columns(people), {}, {}, {})
    for arm in model.arms:
        vacc = vaccinations(cfg, seed, people, flu_coverage=arm.influenza_vaccine_coverage,
                            covid_coverage=arm.sars_cov_2_vaccine_coverage,
                            booster_coverage=arm.sars_cov_2_booster_coverage)
        protect, vflag = vaccine_state(cfg, cand, vacc)
        av_share = np.array([
            cfg.get("influenza", "antiviral_share") if arm.influenza_antiviral_share is None else arm.influenza_antiviral_share,
            cfg.get("sars_cov_2", "antiviral_share") if arm.sars_cov_2_antiviral_share is None else arm.sars_cov_2_antiviral_share,
        ])
        policy = 0 if arm.anti_il6 is None else 1 + model.policies.index(arm.anti_il6)
        n, k = cand.day.shape
        o_lung, o_death = np.empty(n), np.empty(n)
        o_cause = cause0.astype(np.int64).copy()
        o_occ, o_av = np.empty((n, k), np.int8), np.empty((n, k), np.int8)
        o_il6, o_dose = np.empty((n, k)), np.empty((n, k))
        run_people(
            PersonInputs(kappa, x0, stop0, other_dx, e[:, 3], e[:, 0]),
            CandidateInputs(cand.day, cand.virus, cand.p_base, cand.log_s, cand.u_occur, cand.u_antiviral,
                            cand.u_death, cand.death_risk, cand.antiviral_available, protect, vflag),
            ArmSettings(float(end_day), float(median_cd),
                        0.0 if planted else float(cfg.get("people", "detection_lag_days")), bool(arm.infections),
                        av_share, int(policy), float(mech["episode_days"]),
                        float(cfg.get("sars_cov_2", "reinfection_protection")),
                        float(cfg.get("sars_cov_2", "protection_waning_days")),
                        float(cfg.get("sars_cov_2", "vaccine_death_reduction")),
                        float(mort["infection_death_delay_days"]), bool(planted),
                        np.asarray(mech["planted_windows_days"], float), np.asarray(mech["planted_hazard_ratios"], float)),
            TableInputs(t.end, t.cum_w, t.il6_peak, t.treated, t.dose_day, float(t.log_s[0]),
                        float(t.log_s[1] - t.log_s[0]), w, slow.lam, slow.V, slow.Vinv),
            Outputs(o_lung, o_death, o_cause, o_occ, o_il6, o_av, o_dose),
        )
        exit_day = np.minimum(o_death, end_day)
        dose_mg = min(arm.anti_il6.dose_mg_per_kg * arm.body_weight_kg, MAX_DOSE_MG) if arm.anti_il6 else math.nan
        ev = _events(cfg, people, cand, vacc, o_occ, o_il6, o_av, o_dose, o_lung, other_dx, o_death, o_cause,
                     exit_day, end_day, dose_mg)
        result.events[arm.name] = ev
        result.counts[arm.name] = _counts(ev, exit_day)
        result.monthly[arm.name] = _monthly(ev, end_day)
        result.lung_flag[arm.name] = np.isfinite(o_lung)
    return result


def _person_columns(p: People) -> dict[str, np.ndarray]:
    return {"person_id": p.person_id, "age_at_start": p.age, "diagnosis_day": p.diagnosis_day,
            "subtype": p.subtype, "t_stage": p.t_stage, "nodes": p.nodes, "dcc_burden": p.dcc_burden,
            "baseline_distant_hazard": p.distant_hazard, "baseline_lung_hazard": p.lung_hazard,
            "baseline_other_hazard": p.other_hazard}


def _events(cfg: CohortConfig, people: People, cand: Candidates, vacc: Any, occ: np.ndarray, il6: FloatArray,
            av: np.ndarray, dose: FloatArray, lung: FloatArray, other_dx: FloatArray, death: FloatArray,
            cause: np.ndarray, exit_day: FloatArray, end_day: float, dose_mg: float) -> dict[str, np.ndarray]:
    pid = people.person_id
    parts: list[tuple[np.ndarray, ...]] = []  # (person, day, kind, severity, il6, cause, dose_mg)

    def add(mask: np.ndarray, days: np.ndarray, kind: np.ndarray | int, sev: np.ndarray | None = None,
            peak: np.ndarray | None = None, why: np.ndarray | None = None, mg: float = math.nan) -> None:
        rows, cols = np.nonzero(mask) if mask.ndim == 2 else (np.nonzero(mask)[0], None)
        pick = (lambda a: a[rows, cols]) if cols is not None else (lambda a: a[rows])  # noqa: E731
        m = rows.size
        parts.append((pid[rows], pick(days), np.broadcast_to(pick(kind) if isinstance(kind, np.ndarray) else kind, (m,)),
                      pick(sev) if sev is not None else np.full(m, np.nan),
                      pick(peak) if peak is not None else np.full(m, np.nan),
                      pick(why) if why is not None else np.zeros(m, np.int64), np.full(m, mg)))

    live = cand.day < exit_day[:, None]
    inf_mask = (occ == 1) & live
    add(inf_mask, cand.day, cand.virus, np.exp(cand.log_s), il6)  # kind 0/1 = influenza / sars-cov-2
    av_start = np.where(cand.virus == INFLUENZA, cfg.get("influenza", "antiviral_start_days"),
                        cfg.get("sars_cov_2", "antiviral_start_days"))
    av_day = cand.day + av_start
    add(inf_mask & (av == 1) & (av_day < exit_day[:, None]), av_day, K_ANTIVIRAL)
    add(inf_mask & np.isfinite(dose) & (dose < exit_day[:, None]), np.where(np.isfinite(dose), dose, 0.0), K_ANTI_IL6, mg=dose_mg)
    fday = np.broadcast_to(vacc.flu_day[None, :], vacc.flu_vaccinated.shape)
    add(vacc.flu_vaccinated & (fday >= 0) & (fday < exit_day[:, None]), fday, K_VACC_FLU)
    cd = vacc.covid_dose_day
    add(np.isfinite(cd) & (cd >= 0) & (cd < exit_day[:, None]), np.where(np.isfinite(cd), cd, 0.0), K_VACC_COVID)
    add(np.isfinite(lung), np.where(np.isfinite(lung), lung, 0.0), K_LUNG)
    add(other_dx < exit_day, other_dx, K_OTHER_RELAPSE)
    died = np.isfinite(death)
    add(died, np.where(died, death, 0.0), K_DEATH, why=cause)
    add(~died, np.full(pid.size, end_day), K_END)
    cols = [np.concatenate(c) for c in zip(*parts)]
    order = np.argsort(cols[0], kind="stable")  # by person; within a person, by kind as added above
    names = ("person_id", "day", "kind", "severity", "il6_peak", "cause", "dose_mg")
    types = (np.int64, np.float64, np.int8, np.float64, np.float64, np.int8, np.float64)
    return {n: c[order].astype(ty, copy=False) for n, c, ty in zip(names, cols, types)}


def _counts(ev: Mapping[str, np.ndarray], exit_day: FloatArray) -> dict[str, float]:
    kind, cause = ev["kind"], ev["cause"]
    died = kind == K_DEATH

    def n(mask: np.ndarray) -> float:
        return float(np.count_nonzero(mask))

    return {
        "n_persons": float(exit_day.size),
        "person_years": float(exit_day.sum() / YEAR),
        "infections": n((kind == K_FLU) | (kind == K_COVID)),
        "influenza": n(kind == K_FLU),
        "sars_cov_2": n(kind == K_COVID),
        "lung_metastases": n(kind == K_LUNG),
        "distant_relapses_other": n(kind == K_OTHER_RELAPSE),
        "cancer_deaths": n(died & (cause == CAUSE_CANCER)),
        "infection_deaths": n(died & ((cause == CAUSE_COVID) | (cause == CAUSE_FLU))),
        "deaths": n(died),
        "anti_il6_doses": n(kind == K_ANTI_IL6),
        "vaccinations": n((kind == K_VACC_FLU) | (kind == K_VACC_COVID)),
    }


def _monthly(ev: Mapping[str, np.ndarray], end_day: float) -> dict[str, np.ndarray]:
    bins = np.arange(0.0, end_day + MONTH, MONTH)
    out = {}
    for name, code in (("influenza", K_FLU), ("sars_cov_2", K_COVID), ("lung_metastases", K_LUNG),
                       ("cancer_deaths", K_DEATH)):
        sel = ev["kind"] == code
        if code == K_DEATH:
            sel &= ev["cause"] == CAUSE_CANCER
        out[name] = np.histogram(ev["day"][sel], bins=bins)[0].astype(np.int64)
    return out
