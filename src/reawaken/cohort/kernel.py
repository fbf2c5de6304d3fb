"""The per-person life course, compiled: infections through the episode tables, the exact slow dynamics
between them, and the first lung metastasis by inversion of its cumulative hazard.

One call runs one arm for a chunk of people, serially: chunks run in parallel processes, and a threaded
(``prange``) kernel spent most of a cold ``reawaken demo`` compiling and oversubscribed the pool's cores.
Each person reads only its own rows, so results do not depend on chunks or workers. The lung-metastasis hazard of a person
is ``kappa * W(t)`` with ``W = weights . (dormant, awakened, primed)`` per unit of the starting burden;
a person escapes when the integrated hazard reaches their Exp(1) draw, and the metastasis is diagnosed
``detection_lag`` days later. In the "planted" mode (for validating analyses) the hazard is instead
``kappa * HR(window since the most recent infection)``, with known hazard ratios.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np

from ..vocab import CAUSE_CANCER, CAUSE_COVID, CAUSE_FLU, CAUSE_NONE, CAUSE_OTHER  # noqa: F401 (re-exported)


@nb.njit(cache=True)
def _geo(a, b, w):  # noqa: ANN001, ANN202
    """Interpolate between grid values geometrically: episode responses grow ~exponentially in log
    severity through the IL-6 switch, where linear interpolation errs by up to ~4% (measured)."""
    if a > 0.0 and b > 0.0:
        return math.exp((1.0 - w) * math.log(a) + w * math.log(b))
    return (1.0 - w) * a + w * b


@nb.njit(cache=True, fastmath=False)
def _slow_cum(c, g, lam, tau):  # noqa: ANN001, ANN202
    """Integral of W over [0, tau] for eigen-coefficients c (W(t) = sum g c exp(lam t))."""
    s = 0.0
    for m in range(3):
        if lam[m] == 0.0:
            s += g[m] * c[m] * tau
        else:
            s += g[m] * c[m] * math.expm1(lam[m] * tau) / lam[m]
    return s


@nb.njit(cache=True)
def _slow(x, t0, t1, kappa, need, lam, V, Vinv, g):  # noqa: ANN001, ANN202
    """Advance ``x`` over [t0, t1] in place; return (hazard used, crossing time or inf)."""
    c = np.zeros(3)
    for m in range(3):
        c[m] = Vinv[m, 0] * x[0] + Vinv[m, 1] * x[1] + Vinv[m, 2] * x[2]
    tau = t1 - t0
    total = kappa * _slow_cum(c, g, lam, tau)
    cross = math.inf
    if total >= need:
        lo, hi = 0.0, tau
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if kappa * _slow_cum(c, g, lam, mid) >= need:
                hi = mid
            else:
                lo = mid
        cross = t0 + hi
    for i in range(3):
        s = 0.0
        for m in range(3):
            s += V[i, m] * c[m] * math.exp(lam[m] * tau)
        x[i] = s
    return total, cross


@nb.njit(cache=True)
def _planted(t0, t1, last_inf, kappa, need, edges, hrs):  # noqa: ANN001, ANN202
    """Planted hazard kappa * HR(time since last infection) over [t0, t1]: (hazard used, crossing).

    Windows are walked by index (never re-derived from a difference of times, which could round back
    into the window just left and stall)."""
    used = 0.0
    t = t0
    k = -1  # before any infection: baseline
    if last_inf > -math.inf:
        k = 0
        while k + 1 < edges.size and t - last_inf >= edges[k + 1]:
            k += 1
    while t < t1:
        if k < 0:
            rate, nxt = kappa, t1
        else:
            rate = kappa * hrs[k]
            nxt = t1 if k + 1 >= edges.size else min(t1, last_inf + edges[k + 1])
        if nxt > t:
            piece = rate * (nxt - t)
            if used + piece >= need:
                return used + piece, t + (need - used) / rate
            used += piece
            t = nxt
        if k >= 0 and k + 1 < edges.size:
            k += 1
        elif t < t1 and nxt >= t1:
            break
    return used, math.inf


@nb.njit(cache=True)
def _diagnosed(lung, other_dx, survival, stop, cause):  # noqa: ANN001, ANN202
    """A lung metastasis diagnosed at ``lung``: breast-cancer death ``survival`` days after the first
    distant relapse (lung or elsewhere), if that comes before the person's current end."""
    if lung < stop:
        cd = min(lung, other_dx) + survival
        if cd < stop:
            return lung, cd, CAUSE_CANCER
    return lung, stop, cause


class PersonInputs(NamedTuple):
    """Per person (arrays of length n): lung hazard scale, starting DCC state, first stop, other-site
    diagnosis day, the Exp(1) draws of cancer death and lung escape."""

    kappa: np.ndarray
    x0: np.ndarray  # (n, 3)
    stop0: np.ndarray
    other_dx: np.ndarray
    cancer_e: np.ndarray
    e_lung: np.ndarray


class CandidateInputs(NamedTuple):
    """Per person and infection candidate, (n, K): day, virus code, base probability, log severity, the
    uniforms of occurrence, antiviral and death, death risk, antiviral availability, vaccine protection/flag."""

    day: np.ndarray
    virus: np.ndarray
    p_base: np.ndarray
    log_s: np.ndarray
    u_occur: np.ndarray
    u_antiviral: np.ndarray
    u_death: np.ndarray
    death_risk: np.ndarray
    antiviral_available: np.ndarray
    protect: np.ndarray
    vflag: np.ndarray


class ArmSettings(NamedTuple):
    """Scalars and small arrays of the arm and the config."""

    end_day: float
    median_cd: float
    lag: float
    infections_on: bool
    av_share: np.ndarray  # (2,) by virus
    policy: int  # 0: no anti-IL-6, else 1 + index into the tables' policies
    episode_days: float
    reinf_prot: float
    reinf_wane: float
    covid_death_red: float
    death_delay: float
    planted: bool
    edges: np.ndarray
    hrs: np.ndarray


class TableInputs(NamedTuple):
    """The episode tables and slow dynamics as arrays (see ``episodes.EpisodeTables``, ``slow.SlowDynamics``)."""

    end: np.ndarray
    cum_w: np.ndarray
    il6_peak: np.ndarray
    treated: np.ndarray
    dose_day: np.ndarray
    ls0: float
    dls: float
    weights: np.ndarray
    lam: np.ndarray
    V: np.ndarray
    Vinv: np.ndarray


class Outputs(NamedTuple):
    """Filled by the kernel: lung metastasis day, death day, cause, and per candidate whether it occurred,
    its IL-6 peak, antiviral and anti-IL-6 dose day."""

    lung: np.ndarray
    death: np.ndarray
    cause: np.ndarray
    occ: np.ndarray
    il6: np.ndarray
    av: np.ndarray
    dose: np.ndarray


@nb.njit(cache=True)
def run_people(people, cand, arm, tab, out):  # noqa: ANN001, ANN201
    """One arm for a chunk of people (see the module docstring); fills ``out`` in place."""
    kappa, x0, stop0, other_dx, cancer_e, e_lung = people
    c_day, c_virus, c_p, c_logs, c_uocc, c_uav, c_udeath, c_risk, c_avail, c_protect, c_vflag = cand
    (end_day, median_cd, lag, infections_on, av_share, policy, episode_days, reinf_prot, reinf_wane,
     covid_death_red, death_delay, planted, edges, hrs) = arm
    t_end, t_cum, t_peak, t_treated, t_dose, ls0, dls, weights, lam, V, Vinv = tab
    o_lung, o_death, o_cause, o_occ, o_il6, o_av, o_dose = out
    n, K = c_day.shape
    ns = t_peak.shape[3]
    nd = t_cum.shape[6]
    g = np.zeros(3)
    for m in range(3):
        g[m] = weights[0] * V[0, m] + weights[1] * V[1, m] + weights[2] * V[2, m]
    for i in range(n):
        x = x0[i].copy()
        used = 0.0
        need = e_lung[i]
        escape = math.inf
        lung = math.inf
        stop = stop0[i]  # min(end, background death, cancer death after another-site relapse)
        cause = o_cause[i]
        # Hazard runs from -lag: clones that escaped in the last months before day 0 are diagnosed after
        # it (survivors enter disease-free, not free of clones already growing).
        t = -lag
        last_inf = -math.inf
        last_cov = -math.inf
        for k in range(K):
            o_occ[i, k] = 0
            o_il6[i, k] = math.nan
            o_av[i, k] = 0
            o_dose[i, k] = math.nan
        order = np.argsort(c_day[i], kind="mergesort")  # candidates in time order (stable)
        for kk in range(K):
            k = order[kk]
            tc = c_day[i, k]
            if not infections_on or tc < 0.0 or tc >= stop or tc - last_inf < episode_days:
                continue
            v = c_virus[i, k]
            p = c_p[i, k] * (1.0 - c_protect[i, k])
            if v == 1 and last_cov > -math.inf:
                p *= 1.0 - reinf_prot * math.exp(-(tc - last_cov) / reinf_wane)
            if c_uocc[i, k] >= p:
                continue
            # the infection happens: first bring the person to tc
            if escape == math.inf and tc > t:
                if planted:
                    u, cr = _planted(t, tc, last_inf, kappa[i], need - used, edges, hrs)
                    used += u
                else:
                    u, cr = _slow(x, t, tc, kappa[i], need - used, lam, V, Vinv, g)
                    used += u
                if cr < math.inf:
                    escape = cr
            elif not planted and tc > t:
                _slow(x, t, tc, kappa[i], math.inf, lam, V, Vinv, g)
            t = tc
            o_occ[i, k] = 1
            vf = 1 if c_vflag[i, k] > 0.5 else 0
            av = 1 if (c_avail[i, k] > 0.5 and c_uav[i, k] < av_share[v]) else 0
            o_av[i, k] = av
            pos = (c_logs[i, k] - ls0) / dls
            if pos < 0.0:
                pos = 0.0
            if pos > ns - 1.0:
                pos = ns - 1.0
            j = min(int(pos), ns - 2)
            w = pos - j
            o_il6[i, k] = _geo(t_peak[v, vf, av, j], t_peak[v, vf, av, j + 1], w)
            pol = policy
            if pol > 0:
                # the dose follows the table's threshold crossing at the nearer grid point's side
                tr = (1 - w) * t_treated[v, vf, av, pol, j] + w * t_treated[v, vf, av, pol, j + 1]
                if tr >= 0.5:
                    dd = t_dose[v, vf, av, pol, j + 1] if math.isnan(t_dose[v, vf, av, pol, j]) else t_dose[v, vf, av, pol, j]
                    o_dose[i, k] = tc + dd
                else:
                    pol = 0
            # death caused by this infection
            risk = c_risk[i, k] * (1.0 - covid_death_red * vf if v == 1 else 1.0)
            if c_udeath[i, k] < risk and tc + death_delay < stop:
                stop = tc + death_delay
                cause = CAUSE_COVID if v == 1 else CAUSE_FLU
            # the episode
            t_next = min(tc + episode_days, stop)
            if planted:
                if escape == math.inf:
                    u, cr = _planted(tc, t_next, tc, kappa[i], need - used, edges, hrs)
                    used += u
                    if cr < math.inf:
                        escape = cr
            else:
                if escape == math.inf:
                    span = t_next - tc
                    # cumulative W at day 'span' into the episode (daily grid, linear in time)
                    jd = min(int(span), nd - 2)
                    fd = span - jd
                    tot = 0.0
                    for a in range(3):
                        ca = ((1 - fd) * _geo(t_cum[v, vf, av, pol, j, a, jd], t_cum[v, vf, av, pol, j + 1, a, jd], w)
                              + fd * _geo(t_cum[v, vf, av, pol, j, a, jd + 1], t_cum[v, vf, av, pol, j + 1, a, jd + 1], w))
                        tot += x[a] * ca
                    if kappa[i] * tot >= need - used:
                        prev = 0.0
                        for dd in range(1, nd):
                            cur = 0.0
                            for a in range(3):
                                cur += x[a] * _geo(t_cum[v, vf, av, pol, j, a, dd], t_cum[v, vf, av, pol, j + 1, a, dd], w)
                            if kappa[i] * cur >= need - used or dd == nd - 1:
                                frac = (need - used - kappa[i] * prev) / max(kappa[i] * (cur - prev), 1e-300)
                                escape = tc + min(dd - 1 + max(frac, 0.0), span)
                                break
                            prev = cur
                    used += kappa[i] * tot
                xn = np.zeros(3)
                for a in range(3):
                    for b in range(3):
                        xn[b] += x[a] * _geo(t_end[v, vf, av, pol, j, a, b], t_end[v, vf, av, pol, j + 1, a, b], w)
                x[:] = xn
            t = t_next
            last_inf = tc
            if v == 1:
                last_cov = tc
            if escape < math.inf and lung == math.inf:
                lung, stop, cause = _diagnosed(escape + lag, other_dx[i], cancer_e[i] * median_cd, stop, cause)
        # to the end of follow-up
        if stop > t and escape == math.inf:
            if planted:
                u, cr = _planted(t, stop, last_inf, kappa[i], need - used, edges, hrs)
            else:
                u, cr = _slow(x, t, stop, kappa[i], need - used, lam, V, Vinv, g)
            if cr < math.inf:
                escape = cr
                lung, stop, cause = _diagnosed(escape + lag, other_dx[i], cancer_e[i] * median_cd, stop, cause)
        elif stop > t and not planted:
            _slow(x, t, stop, kappa[i], math.inf, lam, V, Vinv, g)
        o_lung[i] = lung if lung < stop else math.inf
        o_death[i] = stop if stop < end_day else math.inf
        o_cause[i] = cause if stop < end_day else CAUSE_NONE
