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

Estimability (design principle 17: meaning is validated, not only type). A number is reported only when it
estimates something; otherwise :class:`~reawaken.errors.StudyError` names the term and what to do:

* fewer than ``MIN_EVENTS`` outcome events in the analysed cohort;
* a term constant in the rows at risk at some event time (e.g. a covariate every analysed person shares);
* separation (monotone likelihood, the hazard ratio runs to 0 or infinity): before the fit, a term with two
  levels whose events all fall in one of them, or exposure windows with no event in the reference; after
  it, a coefficient or model-based SE beyond ``MAX_STANDARDIZED_COEF`` / ``MAX_STANDARDIZED_SE`` (on the
  scale of the term's standard deviation), which catches separation by continuous or combined terms;
* a Newton-Raphson failure or a singular information matrix (collinear terms).

An exposure *window* without events is not an error: its indicator is dropped (its person-time joins the
reference) and the term is listed in ``dropped_terms``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from .._typing import FloatArray, IntArray
from ..errors import StudyError
from ..vocab import DAYS_PER_YEAR
from .cox import ConvergenceError, CoxPH
from .km import KaplanMeier
from .windows import WindowRows, incidence_by_window, split_windows


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
    warnings: tuple[str, ...] = ()  # what the extraction left out (e.g. covariate concept ids a CDM lacks)


#: A Cox model needs at least this many outcome events; with one, every term is at the boundary.
MIN_EVENTS = 2
#: After the fit, |coef| x SD(term) above this (a hazard ratio per SD above e^20 = 5e8, far beyond any
#: epidemiological effect) means the likelihood is monotone and the estimate runs to infinity.
MAX_STANDARDIZED_COEF = 20.0
#: After the fit, model SE x SD(term) above this (a variance 10^4 times what a single event contributes)
#: means the same; the robust SE can stay small there (0.12 beside a model SE of 4.7e7 in issue 10).
MAX_STANDARDIZED_SE = 100.0


def _advice(term: str, window_terms: set[str]) -> str:
    if term in window_terms:
        return ("use fewer, wider exposure windows ([exposure] windows_days) or a longer study period "
                "([cohort] study_start/study_end)")
    return "remove it from [[covariates]] in the study file (or choose another threshold or scale)"


def _shown(v: float) -> str:
    return f"{v:.6g}"


def _check_before_fit(rows: WindowRows, x: FloatArray, names: tuple[str, ...], window_terms: set[str]) -> None:
    """Terms that cannot be estimated, found from the data alone (before any Newton step)."""
    event = rows.event.astype(bool)
    times = np.unique(rows.stop[event])
    # Rows at risk at some event time carry the information; the others cannot make a term estimable.
    informative = np.searchsorted(times, rows.stop, side="right") > np.searchsorted(times, rows.start, side="right")
    xi, xe = x[informative], x[event]
    n_ev = int(event.sum())
    for k, term in enumerate(names):
        lo, hi = float(xi[:, k].min()), float(xi[:, k].max())
        if lo == hi:
            raise StudyError(f"term {term!r} has the same value ({_shown(lo)}) in every row at risk at an event "
                             f"time, so it has no hazard ratio; {_advice(term, window_terms)}")
        levels = np.unique(xi[:, k])
        if levels.size == 2 and xe[:, k].min() == xe[:, k].max():
            level = _shown(float(xe[0, k]))
            other = _shown(float(levels[levels != xe[0, k]][0]))
            raise StudyError(f"term {term!r}: all {n_ev} outcome events fall where it is {level}, none where it is "
                             f"{other}, so its hazard ratio is infinite or zero (separation); "
                             f"{_advice(term, window_terms)}")
    windows = [k for k, term in enumerate(names) if term in window_terms]
    if windows and not (xe[:, windows] == 0).all(axis=1).any():
        raise StudyError(f"no outcome event falls in the reference (no recent infection): all {n_ev} are in the "
                         f"exposure windows {', '.join(names[k] for k in windows)}, so their hazard ratios are "
                         f"infinite (separation); {_advice(names[windows[0]], window_terms)}")


def _check_after_fit(fit: CoxPH, x: FloatArray, window_terms: set[str]) -> None:
    """Separation the data checks cannot see (continuous or combined terms): an estimate running to infinity."""
    sd = x.std(axis=0)
    for term, b, se, s in zip(fit.names_, fit.params_, fit.bse_model_, sd):
        if not (np.isfinite(b) and np.isfinite(se)) or abs(b) * s > MAX_STANDARDIZED_COEF \
                or se * s > MAX_STANDARDIZED_SE:
            raise StudyError(f"term {term!r} has no finite estimate (coef {b:.3g}, model SE {se:.3g}: the "
                             "likelihood keeps rising as the hazard ratio goes to infinity or zero, i.e. "
                             f"separation); {_advice(term, window_terms)}")


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


def analyze_survival(data: SurvivalData, windows_days: Sequence[float], *, alpha: float = 0.05,
                     ties: str = "breslow") -> dict[str, Any]:
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
    n_events = int(data.event.sum())
    if n_events < MIN_EVENTS:
        raise StudyError(f"only {n_events} outcome event(s) among {n} persons; a Cox model needs at least "
                         f"{MIN_EVENTS} (and about 10 per term): widen the study period ([cohort] study_start/"
                         "study_end) or the [outcome] concepts")
    kept_names = tuple(str(t) for t in np.asarray(names, dtype=object)[keep])
    if not kept_names:
        raise StudyError(f"nothing to estimate: no outcome event falls in any exposure window ({', '.join(terms)}) "
                         "and the study has no [[covariates]]; use wider exposure windows ([exposure] "
                         "windows_days) or a longer study period")
    window_terms = set(terms)
    x = x[:, keep]
    _check_before_fit(rows, x, kept_names, window_terms)
    try:
        fit = CoxPH(alpha=alpha, ties=ties).fit(rows.start, rows.stop, rows.event, x, names=kept_names, cluster=rows.person)
    except ConvergenceError as exc:
        what = ("are collinear (one is a combination of the others) or constant among the rows at risk"
                if exc.kind == "singular" else "did not converge (separation: the term predicts events perfectly)")
        raise StudyError(f"the Cox model cannot be fitted: term {', '.join(repr(t) for t in exc.terms)} {what}; "
                         f"{_advice(exc.terms[0] if exc.terms else '', window_terms)}") from None
    _check_after_fit(fit, x, window_terms)
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
        "ties": ties, "se": "robust (Lin-Wei sandwich, clustered by person)", "alpha": alpha,
        "windows_days": list(rows.edges), "dropped_terms": [t for t, k in zip(terms, keep) if not k],
        "hazard_ratios": hrs,
        "cox": {"n_rows": fit.n_obs_, "n_events": fit.n_events_, "n_clusters": fit.n_clusters_,
                "loglik": fit.loglik_, "n_iter": fit.n_iter_},
        "incidence": incidence, "km": curves, "attrition": dict(data.attrition),
        "median_follow_up_days": float(np.median(data.exit_day)),
    }
