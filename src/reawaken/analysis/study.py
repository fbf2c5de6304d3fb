"""One registry study, from extracted person-level data to hazard ratios, curves and incidence.

Input is plain arrays (:class:`SurvivalData`), produced by ``reawaken.io.omop`` from an OMOP CDM or by
anything else; nothing here knows about SQL. The steps:

1. follow-up from the index date (day 0) to the outcome or censoring, split into (start, stop] rows at
   every infection episode and every window edge after it (:func:`split_windows`), so exposure is
   time-varying and nobody is classified by a future infection (no immortal time);
2. a Cox model with one indicator per window after the most recent infection (reference: no infection
   yet, or only infections more than ``lookback`` before index) plus the adjustment covariates; Breslow
   ties (dates are whole days, so ties are common; Breslow is the default of SAS PHREG and statsmodels,
   and an option of R coxph), robust standard errors clustered by person (Lin & Wei 1989);
3. Kaplan–Meier from index (all persons) and Simon–Makuch curves by current exposure state (the
   (start, stop] rows of each state with delayed entry);
4. events, person-years and rates per 1,000 person-years in each exposure state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from .._typing import FloatArray, IntArray
from ..vocab import DAYS_PER_YEAR
from .cox import CoxPH
from .km import KaplanMeier
from .windows import incidence_by_window, split_windows


@dataclass(frozen=True)
class SurvivalData:
    """Persons of a study, time in days since each person's index date.

    ``exit_day`` > 0 for every person; ``event`` marks the outcome at ``exit_day``; ``infection_person``
    indexes persons (0..n-1) and ``infection_day`` gives the start of each infection episode (may be
    negative: before index). ``covariates`` is (n, p) with ``covariate_names``.
    """

    person_id: IntArray
    exit_day: FloatArray
    event: np.ndarray
    covariates: FloatArray
    covariate_names: tuple[str, ...]
    infection_person: IntArray
    infection_day: FloatArray
    attrition: Mapping[str, int] = field(default_factory=dict)


def _window_terms(edges: Sequence[float]) -> tuple[str, ...]:
    e = (*edges, np.inf)
    return tuple(f"infection {e[k]:g}-{e[k + 1]:g} d" if np.isfinite(e[k + 1]) else f"infection >{e[k]:g} d"
                 for k in range(len(edges)))


def _curve(km: KaplanMeier, max_points: int = 400) -> dict[str, list[float]]:
    """A curve thinned to at most ``max_points`` steps (for JSON and plots; the estimate is unchanged)."""
    idx = np.unique(np.linspace(0, km.timeline_.size - 1, min(max_points, km.timeline_.size)).astype(int))
    return {"day": km.timeline_[idx].tolist(), "survival": km.survival_[idx].tolist(),
            "ci_low": km.ci_low_[idx].tolist(), "ci_high": km.ci_high_[idx].tolist(),
            "at_risk": km.at_risk_[idx].tolist()}


def analyze_survival(data: SurvivalData, windows_days: Sequence[float], *, alpha: float = 0.05) -> dict[str, Any]:
    """Fit the study: time-varying Cox, KM / Simon–Makuch curves, incidence by window. Returns a JSON-able dict.

    ``hazard_ratios`` lists ``{term, coef, se, se_model, hr, ci_low, ci_high, p}`` with robust (person-
    clustered) standard errors; ``cox`` holds the fit's size; ``km`` the curves; ``incidence`` the rates.
    """
    n = data.person_id.size
    rows = split_windows(np.zeros(n), data.exit_day, data.event, data.infection_person, data.infection_day,
                         edges=tuple(windows_days))
    window_x = rows.indicators()
    terms = _window_terms(rows.edges)
    x = np.hstack([window_x, data.covariates[rows.person]]) if data.covariates.size else window_x
    names = (*terms, *data.covariate_names)
    # A window without events has no finite estimate (its coefficient runs to -inf): drop its indicator,
    # so its person-time joins the reference, and report the term in ``dropped_terms``.
    keep = np.ones(x.shape[1], dtype=bool)
    keep[: len(terms)] = (window_x * rows.event[:, None]).sum(axis=0) > 0
    fit = CoxPH(alpha=alpha).fit(rows.start, rows.stop, rows.event, x[:, keep],
                                 names=tuple(np.asarray(names)[keep]), cluster=rows.person)
    q = stats.norm.ppf(1 - alpha / 2)
    z = fit.params_ / fit.bse_
    hrs = [{"term": name, "coef": float(b), "se": float(se), "se_model": float(sm), "hr": float(np.exp(b)),
            "ci_low": float(np.exp(b - q * se)), "ci_high": float(np.exp(b + q * se)),
            "p": float(2 * stats.norm.sf(abs(zz)))}
           for name, b, se, sm, zz in zip(fit.names_, fit.params_, fit.bse_, fit.bse_model_, z)]
    overall = KaplanMeier(alpha=alpha).fit(data.exit_day, data.event)
    curves = {"all persons (from index)": _curve(overall)}
    state_labels = ("no recent infection", *terms)
    for w, label in zip(range(-1, len(rows.edges)), state_labels):
        m = rows.window == w
        if m.any() and rows.event[m].any():
            curves[f"{label} (Simon-Makuch)"] = _curve(KaplanMeier(alpha=alpha).fit(rows.stop[m], rows.event[m],
                                                                                   entry=rows.start[m]))
    incidence = incidence_by_window(rows, per=1000.0 * DAYS_PER_YEAR)
    incidence = {("no recent infection" if k == "unexposed" else f"infection {k}"): {
        "events": v["events"], "person_years": v["person_time"] / DAYS_PER_YEAR,
        "rate_per_1000_py": v["rate"]} for k, v in incidence.items()}
    return {
        "n_persons": int(n), "n_events": int(data.event.sum()), "n_rows": int(rows.start.size),
        "person_years": float(data.exit_day.sum() / DAYS_PER_YEAR),
        "n_infection_episodes": int(data.infection_day.size),
        "ties": "breslow", "se": "robust (Lin-Wei sandwich, clustered by person)", "alpha": alpha,
        "windows_days": list(rows.edges), "dropped_terms": [t for t, k in zip(terms, keep) if not k],
        "hazard_ratios": hrs,
        "cox": {"n_rows": fit.n_obs_, "n_events": fit.n_events_, "n_clusters": fit.n_clusters_,
                "loglik": fit.loglik_, "n_iter": fit.n_iter_},
        "incidence": incidence, "km": curves, "attrition": dict(data.attrition),
        "median_follow_up_days": float(np.median(data.exit_day)),
    }
