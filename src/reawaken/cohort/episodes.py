"""Episode response tables: every infection of the cohort runs through the human within-host model.

A person's lung DCCs are modelled as independent foci, each with its own local CD4/CD8 response, so the
state of a person is a sum of foci and an episode acts on it linearly: ``X_end = X_start @ M`` where
``X = (dormant, awakened, primed)`` and ``M`` is the end state of a focus that started as one cell in
each DCC state (three solves per condition). The host response (virus, IL-6, T cells, niche) does not
depend on the DCCs, so one batched ODE solve per condition gives ``M``, the cumulative awakening-prone
burden ``W = D + A + prime_factor * P`` over the episode (for the lung-metastasis hazard), the IL-6
peak and the day IL-6 first passes an anti-IL-6 treatment threshold.

Conditions: virus x vaccinated x antiviral x anti-IL-6 policy x severity. Severity ``s`` multiplies
IL-6 production (``p_il6_I``, ``p_il6_N``): the person-to-person spread of the cytokine response. The
cohort interpolates linearly in ``log s`` between grid points; ``benchmarks/bench_cohort.py`` reports
the worst error of that interpolation against the full ODE on a fresh sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._typing import FloatArray
from ..experiments.run import run_scenarios
from ..scenarios.interventions import AntiIL6, Antiviral, Vaccinated
from ..scenarios.scenario import Scenario
from ..solvers.dopri_jit import JitDopri5

VIRUSES = ("influenza", "sars-cov-2")
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


def _simpson_cumulative(y: FloatArray, h: float, every: int) -> FloatArray:
    """Cumulative integral at every ``every``-th point (``every`` even) by composite Simpson's rule."""
    n = (y.shape[-1] - 1) // every
    blocks = y[..., : n * every + 1]
    a, m, b = blocks[..., 0:-1:2], blocks[..., 1::2], blocks[..., 2::2]
    pairs = (a + 4 * m + b) * (h / 3.0)  # one value per pair of substeps
    per_day = pairs.reshape(*pairs.shape[:-1], n, every // 2).sum(axis=-1)
    return np.concatenate([np.zeros((*y.shape[:-1], 1)), np.cumsum(per_day, axis=-1)], axis=-1)


def _scenarios(virus: str, log_s: FloatArray, vacc: int, av: int, av_start: float,
               anti_il6: list[AntiIL6 | None]) -> list[Scenario]:
    base = Scenario("human", virus).profile.spec()
    p_i, p_n = base.parameter("p_il6_I").value, base.parameter("p_il6_N").value
    out = []
    for ls, ab in zip(log_s, anti_il6):
        s = float(np.exp(ls))
        items = ([Vaccinated()] if vacc else []) + ([Antiviral(start_day=av_start)] if av else []) + ([ab] if ab else [])
        for state in DCC_STATES:
            init = {k: 0.0 for k in DCC_STATES} | {state: 1.0}
            out.append(Scenario("human", virus, interventions=tuple(items), initial=init,
                                overrides={"p_il6_I": p_i * s, "p_il6_N": p_n * s}))
    return out


def build_episode_tables(
    *,
    episode_days: float = 90.0,
    n_severity: int = 65,
    policies: tuple[AntiIL6Policy, ...] = (),
    antiviral_start_days: tuple[float, float] = (1.5, 2.0),
) -> EpisodeTables:
    """Solve every condition through the human within-host model (one batched solve per virus/flag set)."""
    log_s = np.linspace(LOG_S_MIN, LOG_S_MAX, n_severity)
    days = np.arange(0.0, float(episode_days) + 1e-9, 1.0)
    every = int(round(1.0 / SUBSTEP))
    n_pol = 1 + len(policies)
    end = np.zeros((2, 2, 2, n_pol, n_severity, 3, 3))
    cum_w = np.zeros((2, 2, 2, n_pol, n_severity, 3, days.size))
    peak = np.zeros((2, 2, 2, n_severity))
    treated = np.zeros((2, 2, 2, n_pol, n_severity))
    dose_day = np.full((2, 2, 2, n_pol, n_severity), np.nan)
    solver = JitDopri5()
    flags = [(vacc, av) for vacc in (0, 1) for av in (0, 1)]
    weights = np.ones(3)
    for v, virus in enumerate(VIRUSES):
        # Pass 1: every flag combination without antibody, in one batched solve.
        untreated = [None] * n_severity
        eps0 = _solve([_scenarios(virus, log_s, vacc, av, antiviral_start_days[v], untreated) for vacc, av in flags],
                      days, solver)
        t = eps0[0][0].time
        weights = _weights(eps0[0][0])
        doses_by_policy = []
        for f, (vacc, av) in enumerate(flags):
            il6 = np.array([eps0[f][3 * j].column("il6") for j in range(n_severity)])
            peak[v, vacc, av] = il6.max(axis=1)
            end[v, vacc, av, 0], cum_w[v, vacc, av, 0] = _responses(eps0[f], t, days, every, weights)
            for k, pol in enumerate(policies, start=1):
                doses: list[AntiIL6 | None] = []
                for j in range(n_severity):
                    hit = np.nonzero(il6[j] >= pol.threshold)[0]
                    day = float(t[hit[0]]) + pol.delay_days if hit.size else np.nan
                    doses.append(AntiIL6(pol.dose_mg_per_kg, day) if hit.size else None)
                    treated[v, vacc, av, k, j] = float(hit.size > 0)
                    dose_day[v, vacc, av, k, j] = day
                doses_by_policy.append((f, k, doses))
        # Pass 2: every policy, with the antibody on the day IL-6 passed its threshold.
        if doses_by_policy:
            eps1 = _solve([_scenarios(virus, log_s, flags[f][0], flags[f][1], antiviral_start_days[v], doses)
                           for f, _, doses in doses_by_policy], days, solver)
            for (f, k, _), eps in zip(doses_by_policy, eps1):
                vacc, av = flags[f]
                end[v, vacc, av, k], cum_w[v, vacc, av, k] = _responses(eps, t, days, every, weights)
    assert weights is not None
    return EpisodeTables(log_s, days, end, cum_w, peak, treated, dose_day, weights, tuple(policies))


def _solve(groups: list[list[Scenario]], days: FloatArray, solver: JitDopri5) -> list[list]:
    """One batched solve for several groups of scenarios; split back into the groups."""
    flat = [sc for g in groups for sc in g]
    eps = run_scenarios(flat, days=float(days[-1]), solver=solver)
    bad = [e.scenario.label for e in eps if e.status != 0]
    if bad:
        raise RuntimeError(f"episode table: {len(bad)} solves failed (e.g. {bad[0]})")
    out, i = [], 0
    for g in groups:
        out.append(eps[i:i + len(g)])
        i += len(g)
    return out


def _weights(ep) -> FloatArray:  # noqa: ANN001
    return np.array([1.0, 1.0, ep.spec.parameter("prime_factor").value])


def _responses(eps, t: FloatArray, days: FloatArray, every: int, weights: FloatArray):  # noqa: ANN001, ANN202
    n_s = len(eps) // 3
    end = np.zeros((n_s, 3, 3))
    w_path = np.zeros((n_s, 3, t.size))
    for j in range(n_s):
        for a in range(3):
            ep = eps[3 * j + a]
            x = np.stack([ep.column(s) for s in DCC_STATES], axis=-1)  # (n_t, 3)
            end[j, a] = x[-1]
            w_path[j, a] = x @ weights
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
