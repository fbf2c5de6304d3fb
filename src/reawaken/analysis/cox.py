"""Cox proportional hazards for counting-process (start, stop] data with time-varying covariates.

Estimator contract (design principle 9): settings in ``__init__``, learning in ``fit``, results as
``name_`` attributes and ``summary``. Ties: Breslow's approximation (the default of SAS PHREG, an option in
R ``coxph`` and statsmodels ``PHReg``) or Efron's (R ``coxph``'s default), equal with tie-free event
times; both checked against R ``survival::coxph`` (``tests/peers``). Standard errors:
model-based (inverse information) and, when ``cluster`` is given, the robust sandwich of Lin & Wei
(1989) summed within clusters (persons contribute several rows).

Why our own estimator rather than wrapping lifelines (design principle 9): lifelines'
CoxTimeVaryingFitter has no robust standard errors and is far slower, as is statsmodels PHReg (figures in
``docs/benchmarks.md``); both agree with this code to 1e-6 in the test suite, which is what licenses it.

How it is fast (figures in ``docs/benchmarks.md``): everything that depends only on the data is computed once
per fit. A row is at risk at event time t when ``start < t <= stop`` (as in R ``survival`` and lifelines;
statsmodels PHReg also counts a row that enters exactly at t, which matters only when an entry time equals
an event time), i.e. at the distinct event times ``times[lo:hi]``; ``lo``/``hi`` are found once per row
and fit, and the rows at risk at some event time (the others carry no information) are sorted by ``hi``
into one copy of x. A Newton iteration is then three passes over the rows, with no sorting, no searching
and no (n, p) temporaries: the linear predictor; each row's weight scattered into bins ``hi`` (+) and
``lo`` (-) and suffix-summed over event times (S0, S1; compiled, ``_cox_kernels``); the information from
prefix sums of the Breslow hazard by BLAS over chunks of rows (no S2 array). O(n p^2) per iteration.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .._typing import FloatArray
from ..errors import ReawakenError, StatisticalWarning

TIES = ("breslow", "efron")


class ConvergenceError(ReawakenError, RuntimeError):
    """Newton-Raphson did not converge (separation), or the information matrix is singular (collinear or
    constant covariates among the rows at risk). ``terms`` names the covariates involved, ``kind`` is
    ``"singular"`` or ``"not_converged"``; callers that know what a term is (a study's covariate, an
    exposure window) turn this into advice (:func:`reawaken.analysis.study.analyze_survival`)."""

    def __init__(self, message: str, *, terms: tuple[str, ...] = (), kind: str = "") -> None:
        super().__init__(message)
        self.terms = terms
        self.kind = kind


def _collinear_terms(info: FloatArray, names: tuple[str, ...]) -> tuple[str, ...]:
    """The terms in the (near) null space of a singular information matrix: the covariates that are
    constant or linear combinations of others among the rows at risk (largest weights of the eigenvector
    of the smallest eigenvalue)."""
    try:
        _, vecs = np.linalg.eigh(info)
    except np.linalg.LinAlgError:  # pragma: no cover - eigh of a symmetric finite matrix converges
        return names
    v = np.abs(vecs[:, 0])
    return tuple(n for n, w in zip(names, v) if w >= 0.1 * v.max())


def _gram(x: FloatArray, f: FloatArray, chunk: int = 1 << 15) -> FloatArray:
    """sum_k f_k x_k x_k^T by BLAS over chunks of rows (one (chunk, p) buffer, no (n, p) temporary).

    With f_k = w_k times the Breslow hazard over row k's risk span this is sum_j d_j S2_j / S0_j, the first
    term of the information, without forming S2 or any per-row outer product.
    """
    n, p = x.shape
    out = np.zeros((p, p))
    buf = np.empty((min(chunk, n), p))
    for a in range(0, n, chunk):
        xa = x[a : a + chunk]
        fx = np.multiply(xa, f[a : a + chunk, None], out=buf[: xa.shape[0]])
        out += fx.T @ xa
    return out


def _cluster_codes(cluster: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0..g-1 for the distinct cluster labels, and g. Non-negative integer labels of modest range
    (person ids) are coded by a presence table, O(n); anything else by sorting (``np.unique``)."""
    if cluster.dtype.kind in "iu" and cluster.size and cluster.min() >= 0 and cluster.max() <= 4 * cluster.size:
        present = np.zeros(int(cluster.max()) + 1, dtype=bool)
        present[cluster] = True
        return (np.cumsum(present) - 1)[cluster], int(present.sum())
    _, codes = np.unique(cluster, return_inverse=True)
    codes = codes.reshape(-1)
    return codes, int(codes.max()) + 1


class CoxPH:
    """Cox model on (start, stop] rows.

    Parameters
    ----------
    alpha : 1 - confidence level of the reported intervals.
    ties : ``"breslow"`` (default) or ``"efron"`` (R ``coxph``'s default; Efron 1977): how events tied at
        one time share the risk set. Identical without ties.
    tol : convergence tolerance on the Newton step (max absolute change in beta).
    max_iter : Newton iterations before :class:`ConvergenceError`.

    Attributes (after ``fit``)
    --------------------------
    params_, bse_, bse_model_, cov_, hazard_ratios_, loglik_, n_obs_, n_events_, n_clusters_, summary
    """

    def __init__(self, *, alpha: float = 0.05, ties: str = "breslow", tol: float = 1e-10, max_iter: int = 50) -> None:
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
        if ties not in TIES:
            raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
        self.ties = ties
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter

    def fit(
        self,
        start: FloatArray,
        stop: FloatArray,
        event: np.ndarray,
        x: FloatArray,
        *,
        names: tuple[str, ...] | None = None,
        cluster: np.ndarray | None = None,
    ) -> CoxPH:
        start, stop = np.asarray(start, dtype=float), np.asarray(stop, dtype=float)
        event = np.asarray(event).astype(bool)
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        n, p = x.shape
        for label, arr in (("start", start), ("stop", stop), ("event", event)):
            if arr.shape != (n,):
                raise ValueError(f"{label} must have one entry per row ({n}), got shape {arr.shape}")
        if not (np.all(np.isfinite(start)) and np.all(np.isfinite(stop)) and np.all(np.isfinite(x))):
            raise ValueError("start, stop and covariates must be finite; drop or impute missing rows first")
        if np.any(stop <= start):
            bad = int(np.flatnonzero(stop <= start)[0])
            raise ValueError(f"row {bad}: stop ({stop[bad]}) must be after start ({start[bad]})")
        if not event.any():
            raise ValueError("no events: a Cox model needs at least one event")
        self.names_ = tuple(names) if names is not None else tuple(f"x{i}" for i in range(p))
        if len(self.names_) != p:
            raise ValueError(f"{len(self.names_)} names for {p} covariates")
        if event.sum() < 10 * p:
            import warnings

            warnings.warn(f"only {int(event.sum())} events for {p} covariates (< 10 per covariate)",
                          StatisticalWarning, stacklevel=2)
        if cluster is not None:
            cluster = np.asarray(cluster)
            if cluster.shape != (n,):
                raise ValueError(f"cluster must have one entry per row ({n}), got shape {cluster.shape}")
        from . import _cox_kernels as kern  # numba, compiled once and cached on disk

        # Data-only quantities, once per fit: distinct event times, events per time, each row's risk span.
        times, d = np.unique(stop[event], return_counts=True)
        d = d.astype(float)
        m = times.size
        lo, hi = kern.risk_spans(times, start, stop)  # at risk at times[lo:hi]
        x = np.ascontiguousarray(x)
        x_event_sum = x[event].sum(axis=0)
        # The Newton iterations work on the rows at risk at some event time (the others carry no
        # information), sorted by stop: a copy of x, so the risk-set scatter is nearly sequential in memory.
        order = kern.order_by_stop(lo, hi, m)
        xs, los, his = kern.take_rows(x, order), lo[order], hi[order]

        eta, w, f = np.empty(order.size), np.empty(order.size), np.empty(order.size)  # reused buffers
        efron = self.ties == "efron"
        if efron:
            # Efron: the d_j events tied at t_j leave the risk set gradually: the l-th of them (l = 0..d_j-1)
            # sees the risk-set sums minus l/d_j of the tied events' sums (E0_j, E1_j). One (j, l) pair per
            # event; with no ties every l is 0 and this is Breslow.
            ev_sorted = np.flatnonzero(event[order])  # event rows are at risk at their own time: all in order
            j_ev = his[ev_sorted] - 1
            x_ev = xs[ev_sorted]
            j_pair = np.repeat(np.arange(m), d.astype(np.int64))
            frac = (np.arange(j_pair.size) - np.repeat(np.cumsum(d) - d, d.astype(np.int64))) / d[j_pair]

        def by_time(values: FloatArray, weights: FloatArray | None = None, index: np.ndarray | None = None) -> FloatArray:
            """Sums of ``values`` (per pair or event) into the m event times, column by column."""
            idx = j_pair if index is None else index
            v = values if weights is None else values * (weights if values.ndim == 1 else weights[:, None])
            if v.ndim == 1:
                return np.bincount(idx, v, minlength=m)
            return np.stack([np.bincount(idx, v[:, c], minlength=m) for c in range(v.shape[1])], axis=1) \
                if v.shape[1] else np.zeros((m, 0))

        def evaluate(beta: FloatArray) -> tuple[float, FloatArray, FloatArray, FloatArray, tuple[FloatArray, ...]]:
            """At beta: max linear predictor, log-likelihood, score, information, and the increments of the
            robust variance (dLambda_j, xbar dLambda_j, the event terms' mean xbar_j, the Efron corrections
            of the tied events); fills w (rows in order)."""
            eta_max = kern.linear_predictor(xs, beta, eta)
            s = kern.risk_set_sums(los, his, xs, eta, eta_max, m, w)
            s0 = s[:, 0]
            if not efron:
                xbar = s[:, 1:] / s0[:, None]
                grad = x_event_sum - d @ xbar
                dlam = d / s0
                c_lam = np.concatenate([[0.0], np.cumsum(dlam)])
                kern.span_weights(los, his, w, c_lam, f)
                info = _gram(xs, f) - (d[:, None] * xbar).T @ xbar
                loglik = float(x_event_sum @ beta - (d * (np.log(s0) + eta_max)).sum())
                return eta_max, loglik, grad, info, (dlam, xbar * dlam[:, None], xbar, None, None)
            w_ev = w[ev_sorted]
            e0, e1 = by_time(w_ev, index=j_ev), by_time(x_ev, w_ev, index=j_ev)
            den = s0[j_pair] - frac * e0[j_pair]
            xbar_pair = (s[j_pair, 1:] - frac[:, None] * e1[j_pair]) / den[:, None]
            grad = x_event_sum - xbar_pair.sum(axis=0)
            lam = by_time(1.0 / den)  # A_j = sum_l 1/den_jl: each row at risk at t_j counts fully ...
            lam_tied = by_time(frac / den)  # ... less l/d_j for the tied events themselves
            c_lam = np.concatenate([[0.0], np.cumsum(lam)])
            kern.span_weights(los, his, w, c_lam, f)
            info = _gram(xs, f) - _gram(x_ev, w_ev * lam_tied[j_ev]) - xbar_pair.T @ xbar_pair
            loglik = float(x_event_sum @ beta - np.log(den).sum() - j_pair.size * eta_max)
            xlam = by_time(xbar_pair, 1.0 / den)
            xbar_event = by_time(xbar_pair) / d[:, None]  # each event's term: x minus the mean over l of xbar_jl
            xlam_tied = by_time(xbar_pair, frac / den)
            return eta_max, loglik, grad, info, (lam, xlam, xbar_event, lam_tied, xlam_tied)

        beta = np.zeros(p)
        n_iter = 0
        while n_iter < self.max_iter:
            n_iter += 1
            with np.errstate(all="ignore"):  # checked below: an overshooting step must not raise here
                _, _, grad, info, _ = evaluate(beta)
            if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(info))):
                # A Newton step overshot into overflow: the likelihood has no finite maximum along it.
                worst = (self.names_[int(np.argmax(np.abs(beta)))],)
                raise ConvergenceError(f"Newton-Raphson diverged at iteration {n_iter} (largest coefficient: "
                                       f"{worst[0]} = {beta[np.argmax(np.abs(beta))]:.3g}; check for separation: a covariate that "
                                       "predicts events perfectly)", terms=worst, kind="not_converged")
            try:
                step = np.linalg.solve(info, grad)
            except np.linalg.LinAlgError:
                involved = _collinear_terms(info, self.names_)
                raise ConvergenceError(f"information matrix is singular: {', '.join(involved)} collinear or "
                                       "constant among the rows at risk", terms=involved, kind="singular") from None
            beta = beta + step
            if np.max(np.abs(step)) < self.tol:
                break
        if np.max(np.abs(step)) >= self.tol:
            worst = (self.names_[int(np.argmax(np.abs(beta)))],)
            raise ConvergenceError(f"Newton-Raphson did not converge in {self.max_iter} iterations (largest "
                                   f"coefficient: {worst[0]}; check for separation: a covariate that predicts "
                                   "events perfectly)", terms=worst, kind="not_converged")
        with np.errstate(all="ignore"):  # at a boundary estimate (separation) the callers check finiteness
            _, loglik, _, info, (dlam, xdlam, xbar, lam_tied, xlam_tied) = evaluate(beta)
        try:
            cov_model = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            involved = _collinear_terms(info, self.names_)
            raise ConvergenceError(f"information matrix is singular at the estimate: {', '.join(involved)} "
                                   "collinear or constant among the rows at risk", terms=involved,
                                   kind="singular") from None
        self.n_iter_ = n_iter
        self.params_ = beta
        self.loglik_ = loglik
        with np.errstate(invalid="ignore"):  # NaN, not a warning, when a boundary estimate has no variance
            self.bse_model_ = np.sqrt(np.diag(cov_model))
        self.n_obs_ = n
        self.n_events_ = int(d.sum())
        if cluster is not None:
            # Lin & Wei (1989) score residuals with hazard increments dLambda_j (Breslow: d_j / S0_j; Efron:
            # sum_l 1/den_jl) on the shifted scale of w (so w * dLambda is scale-free), summed within clusters
            # in compiled code.
            codes, n_clusters = _cluster_codes(cluster)
            w_rows = np.zeros(n)  # weights back in row order (person order: the cluster sums stay local)
            w_rows[order] = w  # rows never at risk keep weight 0: their residual is 0
            c_lam = np.concatenate([[0.0], np.cumsum(dlam)])
            c_xlam = np.vstack([np.zeros((1, p)), np.cumsum(xdlam, axis=0)])
            u = kern.cluster_scores(lo, hi, event, x, w_rows, c_lam, c_xlam, xbar, codes, n_clusters)
            if lam_tied is not None:
                # Efron: at its own time a tied event counted only (1 - l/d_j) in the l-th term; give back
                # w_k (x_k sum_l (l/d_j)/den_jl - sum_l (l/d_j) xbar_jl/den_jl).
                rows_ev = order[ev_sorted]
                corr = w_rows[rows_ev, None] * (x[rows_ev] * lam_tied[j_ev, None] - xlam_tied[j_ev])
                np.add.at(u, codes[rows_ev], corr)
            self.cov_ = cov_model @ (u.T @ u) @ cov_model
            self.n_clusters_ = n_clusters
        else:
            self.cov_ = cov_model
            self.n_clusters_ = None
        with np.errstate(invalid="ignore"):
            self.bse_ = np.sqrt(np.diag(self.cov_))
        self.hazard_ratios_ = np.exp(beta)
        return self

    @property
    def summary(self):  # noqa: ANN201 -- a pandas DataFrame
        import pandas as pd

        z = self.params_ / self.bse_
        q = stats.norm.ppf(1 - self.alpha / 2)
        return pd.DataFrame({
            "coef": self.params_, "se": self.bse_, "hr": self.hazard_ratios_,
            "ci_low": np.exp(self.params_ - q * self.bse_), "ci_high": np.exp(self.params_ + q * self.bse_),
            "z": z, "p": 2 * stats.norm.sf(np.abs(z)),
        }, index=list(self.names_))
