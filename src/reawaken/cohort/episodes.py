"""Episode response tables: every infection of the cohort runs through the human within-host model.

A person's lung DCCs are modelled as independent foci, each with its own local CD4/CD8 response, so the
state of a person is a sum of foci and an episode acts on it linearly: ``X_end = X_start @ M`` where
``X = (dormant, awakened, primed)`` and ``M`` is the end state of a focus that started as one cell in
each DCC state (three solves per condition). The host response (virus, IL-6, T cells, niche) does not
depend on the DCCs, so one batched ODE solve per condition gives ``M``, the cumulative hazard-relevant
burden ``W`` over the episode (cycling cells in dormant-cell equivalents, :func:`hazard_weights`; for the
lung-metastasis hazard), the IL-6
peak and the day IL-6 first passes an anti-IL-6 treatment threshold.

Conditions: virus x vaccinated x antiviral x anti-IL-6 policy x severity. Severity ``s`` multiplies
the IL-6 yields (``SEVERITY_PARAMETERS``: infected cells, neutrophils, macrophages): the person-to-person spread of the cytokine response. The
cohort interpolates linearly in ``log s`` between grid points; ``benchmarks/bench_cohort.py`` reports
the worst error of that interpolation against the full ODE on a fresh sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._typing import FloatArray
from ..experiments.run import output_times
from ..model.compile import compile_model
from ..model.events import EventSchedule
from ..model.library.il6_dormancy import SEVERITY_PARAMETERS
from ..model.params import ParameterSet
from ..model.spec import ModelSpec
from ..scenarios.interventions import AntiIL6, Antiviral, Vaccinated
from ..scenarios.scenario import Scenario
from ..solvers.base import simulate
from ..solvers.dopri_jit import JitDopri5
from ..vocab import INFECTING_VIRUSES

VIRUSES = INFECTING_VIRUSES
DCC_STATES = ("dormant", "awakened", "primed")
LOG_S_MIN, LOG_S_MAX = float(np.log(0.02)), float(np.log(100.0))
SUBSTEP = 0.25  # output step for integrating W (Simpson's rule on 0.25 d; error << interpolation error)


@dataclass(frozen=True)
class AntiIL6Policy:
    """Give the antibody ``delay_days`` after an episode's lung IL-6 first reaches ``threshold`` (pg/mL)."""

    threshold: float
    dose_mg_per_kg: float = 8.0
    delay_days: float = 1.0


@dataclass(frozen=True)
class EpisodeTables:
    """Per-focus episode responses on a grid (see the module docstring). Axes of the arrays:
    ``[virus, vaccinated, antiviral, policy, severity, from_state, ...]``; policy 0 is "no antibody"."""

    log_s: FloatArray  # (n_s,) uniform grid of log severity
    days: FloatArray  # (n_d,) whole days 0 .. episode_days
    end: FloatArray  # (2, 2, 2, n_pol, n_s, 3, 3) end state per unit start state
    cum_w: FloatArray  # (2, 2, 2, n_pol, n_s, 3, n_d) cumulative integral of W per unit start state
    il6_peak: FloatArray  # (2, 2, 2, n_s) untreated IL-6 peak, pg/mL
    treated: FloatArray  # (2, 2, 2, n_pol, n_s) 1 where the policy doses the episode
    dose_day: FloatArray  # (2, 2, 2, n_pol, n_s) day of the dose into the episode (NaN: no dose)
    weights: FloatArray  # (3,) W = weights . (D, A, P)
    policies: tuple[AntiIL6Policy, ...]


def hazard_weights(spec: ModelSpec) -> FloatArray:
    """``W = weights . (dormant, awakened, primed)``: only cycling cells can found a lesion, so W counts
    awakened cells, weighted by the model's ``hazard_weight`` (dormant-cell equivalents per cycling cell at
    the resting host; docs/model.md, "The hazard-relevant burden")."""
    model = compile_model(spec)
    y = np.array([[sp.initial for sp in spec.species]])
    p = np.array([[q.value for q in spec.parameters]])
    return np.array([0.0, float(model.assignment("hazard_weight", y, p)[0]), 0.0])


def _simpson_cumulative(y: FloatArray, h: float, every: int) -> FloatArray:
    """Cumulative integral at every ``every``-th point (``every`` even) by composite Simpson's rule."""
    n = (y.shape[-1] - 1) // every
    blocks = y[..., : n * every + 1]
    a, m, b = blocks[..., 0:-1:2], blocks[..., 1::2], blocks[..., 2::2]
    pairs = (a + 4 * m + b) * (h / 3.0)  # one value per pair of substeps
    per_day = pairs.reshape(*pairs.shape[:-1], n, every // 2).sum(axis=-1)
    return np.concatenate([np.zeros((*y.shape[:-1], 1)), np.cumsum(per_day, axis=-1)], axis=-1)


@dataclass(frozen=True)
class _Batch:
    """Rows for one flag set: (severity, starting state) pairs, as arrays for one ``simulate`` call."""

    y0: FloatArray
    params: FloatArray
    events: list[EventSchedule]


def _batch(virus: str, log_s: FloatArray, vacc: int, av: int, av_start: float,
           doses: list[AntiIL6 | None], params: ParameterSet | None = None) -> tuple[ModelSpec, _Batch]:
    """The scenario is applied once per flag set; severities, starting states and doses are then set as
    array rows (building a validated spec per row cost more than the solves)."""
    items = ([Vaccinated()] if vacc else []) + ([Antiviral(start_day=av_start)] if av else [])
    spec, schedule = Scenario("human", virus, interventions=tuple(items), params=params).apply()
    names = spec.parameter_names
    p0 = np.array([p.value for p in spec.parameters])
    y_rest = np.array([sp.initial for sp in spec.species])
    dcc = [spec.species_names.index(k) for k in DCC_STATES]
    y_rest[dcc] = 0.0
    i_sev = [names.index(k) for k in SEVERITY_PARAMETERS]
    rows_p, rows_y, events = [], [], []
    for ls, dose in zip(log_s, doses):
        p = p0.copy()
        p[i_sev] *= np.exp(ls)
        sched = schedule if dose is None else schedule + dose.effect((0.0,), spec).events
        for a in range(3):
            y = y_rest.copy()
            y[dcc[a]] = 1.0
            rows_p.append(p)
            rows_y.append(y)
            events.append(sched)
    return spec, _Batch(np.array(rows_y), np.array(rows_p), events)


def build_episode_tables(
    *,
    episode_days: float = 90.0,
    n_severity: int = 65,
    policies: tuple[AntiIL6Policy, ...] = (),
    antiviral_start_days: tuple[float, float] = (1.5, 2.0),
    params: ParameterSet | None = None,
) -> EpisodeTables:
    """Solve every condition through the human within-host model with parameter set ``params`` (default:
    the human profiles' values); one batched solve per virus and pass."""
    return build_episode_tables_many([params], episode_days=episode_days, n_severity=n_severity,
                                     policies=policies, antiviral_start_days=antiviral_start_days)[0]


def build_episode_tables_many(
    param_sets: Sequence[ParameterSet | None],
    *,
    episode_days: float = 90.0,
    n_severity: int = 65,
    policies: tuple[AntiIL6Policy, ...] = (),
    antiviral_start_days: tuple[float, float] = (1.5, 2.0),
) -> list[EpisodeTables]:
    """Episode tables for several parameter sets, every set's rows in the same batched solves (the rows of a
    batch are independent, so a set's tables do not depend on which other sets share the batch)."""
    log_s = np.linspace(LOG_S_MIN, LOG_S_MAX, n_severity)
    days = np.arange(0.0, float(episode_days) + 1e-9, 1.0)
    every = int(round(1.0 / SUBSTEP))
    n_pol = 1 + len(policies)
    n_sets = len(param_sets)
    end = np.zeros((n_sets, 2, 2, 2, n_pol, n_severity, 3, 3))
    cum_w = np.zeros((n_sets, 2, 2, 2, n_pol, n_severity, 3, days.size))
    peak = np.zeros((n_sets, 2, 2, 2, n_severity))
    treated = np.zeros((n_sets, 2, 2, 2, n_pol, n_severity))
    dose_day = np.full((n_sets, 2, 2, 2, n_pol, n_severity), np.nan)
    solver = JitDopri5(threads=False)  # compiles in ~3 s instead of ~11: the whole build takes half the time
    flags = [(vacc, av) for vacc in (0, 1) for av in (0, 1)]
    weights = np.ones((n_sets, 3))
    jobs = [(k, f) for k in range(n_sets) for f in range(len(flags))]
    for v, virus in enumerate(VIRUSES):
        # Pass 1: every set and flag combination without antibody, in one batched solve.
        untreated: list[AntiIL6 | None] = [None] * n_severity
        first = [_batch(virus, log_s, *flags[f], antiviral_start_days[v], untreated, param_sets[k]) for k, f in jobs]
        for k in range(n_sets):
            weights[k] = hazard_weights(first[k * len(flags)][0])
        solved = _solve(first, days, solver)
        doses_by_policy = []
        for (k, f), (t, x) in zip(jobs, solved):
            vacc, av = flags[f]
            il6 = x[0::3, :, 3]  # IL-6 does not depend on the starting DCC state: take the dormant-start rows
            peak[k, v, vacc, av] = il6.max(axis=1)
            end[k, v, vacc, av, 0], cum_w[k, v, vacc, av, 0] = _responses(t, x, days, every, weights[k])
            for q, pol in enumerate(policies, start=1):
                doses: list[AntiIL6 | None] = []
                for j in range(n_severity):
                    hit = np.nonzero(il6[j] >= pol.threshold)[0]
                    day = float(t[hit[0]]) + pol.delay_days if hit.size else np.nan
                    doses.append(AntiIL6(pol.dose_mg_per_kg, day) if hit.size else None)
                    treated[k, v, vacc, av, q, j] = float(hit.size > 0)
                    dose_day[k, v, vacc, av, q, j] = day
                doses_by_policy.append((k, f, q, doses))
        # Pass 2: every policy, with the antibody on the day IL-6 passed its threshold.
        if doses_by_policy:
            second = [_batch(virus, log_s, *flags[f], antiviral_start_days[v], doses, param_sets[k])
                      for k, f, _, doses in doses_by_policy]
            for (k, f, q, _), (t, x) in zip(doses_by_policy, _solve(second, days, solver)):
                vacc, av = flags[f]
                end[k, v, vacc, av, q], cum_w[k, v, vacc, av, q] = _responses(t, x, days, every, weights[k])
    return [EpisodeTables(log_s, days, end[k], cum_w[k], peak[k], treated[k], dose_day[k], weights[k],
                          tuple(policies)) for k in range(n_sets)]


def _solve(batches: list[tuple[ModelSpec, _Batch]], days: FloatArray, solver: JitDopri5) -> list[tuple[FloatArray, FloatArray]]:
    """One batched solve for several flag sets; returns (time, DCC states (rows, t, 3)) per flag set."""
    spec = batches[0][0]
    model = compile_model(spec)  # one structure for every human profile; values come in the rows
    t = output_times(float(days[-1]))
    traj = simulate(model, solver, np.concatenate([b.y0 for _, b in batches]),
                    np.concatenate([b.params for _, b in batches]), t_eval=t,
                    events=[e for _, b in batches for e in b.events], on_failure="flag")
    if np.any(traj.status != 0):
        raise RuntimeError(f"episode table: {int(np.sum(traj.status != 0))} solves failed")
    cols = [traj.species.index(k) for k in (*DCC_STATES, "il6")]
    out, i = [], 0
    for _, b in batches:
        n = b.y0.shape[0]
        out.append((t, traj.values[i:i + n][:, :, cols]))
        i += n
    return out


def _responses(t: FloatArray, x: FloatArray, days: FloatArray, every: int, weights: FloatArray):  # noqa: ANN202
    """End states (n_s, 3, 3) and cumulative W at whole days (n_s, 3, n_d) from rows ordered (severity, start)."""
    n_s = x.shape[0] // 3
    dcc = x[:, :, :3].reshape(n_s, 3, t.size, 3)  # [severity, start state, time, state]
    end = dcc[:, :, -1, :]
    w_path = dcc @ weights  # (n_s, 3, n_t)
    fine = np.arange(0.0, days[-1] + 1e-9, SUBSTEP)
    w_fine = np.stack([[np.interp(fine, t, w_path[j, a]) for a in range(3)] for j in range(n_s)])
    return end, _simpson_cumulative(w_fine, SUBSTEP, every)


_ARRAYS = ("log_s", "days", "end", "cum_w", "il6_peak", "treated", "dose_day", "weights")


def tables_to_arrays(t: EpisodeTables) -> dict[str, np.ndarray]:
    pol = np.array([[p.threshold, p.dose_mg_per_kg, p.delay_days] for p in t.policies]).reshape(-1, 3)
    return {**{k: getattr(t, k) for k in _ARRAYS}, "policies": pol}


def tables_from_arrays(a: dict[str, np.ndarray]) -> EpisodeTables:
    pols = tuple(AntiIL6Policy(float(r[0]), float(r[1]), float(r[2])) for r in a["policies"])
    return EpisodeTables(**{k: np.asarray(a[k]) for k in _ARRAYS}, policies=pols)


def geometric_interpolation(a: np.ndarray, b: np.ndarray, w: np.ndarray | float) -> np.ndarray:
    """What the cohort kernel does between grid points: geometric where both values are positive."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    pos = (a > 0) & (b > 0)
    with np.errstate(divide="ignore"):
        geo = np.exp((1 - w) * np.log(np.where(pos, a, 1.0)) + w * np.log(np.where(pos, b, 1.0)))
    return np.where(pos, geo, (1 - w) * a + w * b)


def response_at(t: EpisodeTables, v: int, vf: int, av: int, pol: int, log_s: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """End-state maps (n, 3, 3) and integrated W over the episode (n, 3) at severities ``log_s``."""
    log_s = np.atleast_1d(np.asarray(log_s, dtype=float))
    pos = np.clip((log_s - t.log_s[0]) / (t.log_s[1] - t.log_s[0]), 0, t.log_s.size - 1)
    j = np.minimum(pos.astype(int), t.log_s.size - 2)
    w = (pos - j)[:, None, None]
    end = geometric_interpolation(t.end[v, vf, av, pol, j], t.end[v, vf, av, pol, j + 1], w)
    cum = geometric_interpolation(t.cum_w[v, vf, av, pol, j, :, -1], t.cum_w[v, vf, av, pol, j + 1, :, -1], w[:, :, 0])
    return end, cum
