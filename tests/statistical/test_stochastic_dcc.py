"""Stochastic lung DCCs (``run_stochastic``): law of large numbers, chunk/worker invariance, controls,
tau-leap vs exact, and monotonicity (design principles 6 and 13).

Statistical tolerances: a mean is compared within ``Z = 5`` standard errors estimated from the replicate
spread. With >= 40 replicates the Student-t two-sided tail at 5 SE is < 1e-5 (normal: 5.7e-7) per
comparison; the ~40 comparisons here give a spurious-failure rate below 4e-4. Seeds are fixed, so a run
is reproducible; the invariance tests are exact (no tolerance, no false alarms).
"""

from __future__ import annotations

import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from scipy.stats import poisson

from reawaken.experiments.stochastic import StochasticResult, cell_process, ode_total, run_stochastic
from reawaken.model import compile_model
from reawaken.scenarios import Scenario

Z = 5.0


def _ode(result: StochasticResult) -> np.ndarray:
    ref = ode_total(result)
    return np.array([ref[f"{d:g}"] for d in result.days])


def _se(x: np.ndarray) -> np.ndarray:
    return x.std(axis=0, ddof=1) / math.sqrt(x.shape[0])


# --- (a) law of large numbers -------------------------------------------------------------------------

# Given the host trajectory, every dormant cell founds an independent clone whose per-cell rates are the
# ODE's average rates, so E[total] solves the same linear equations as the ODE: the ensemble mean equals
# the ODE total. Besides sampling error we allow 0.5% for the only approximation, the per-cell rates being
# linear between the host's output times (observed gaps are < 0.2%).
GRID_ALLOWANCE = 0.005


@pytest.fixture(scope="module")
def lln() -> dict[int, StochasticResult]:
    return {
        100: run_stochastic(Scenario("mouse", "influenza"), days=60, replicates=100, seed=11),
        1000: run_stochastic(Scenario("mouse", "influenza", initial={"dormant": 1000}), days=60, replicates=60,
                             seed=11),
    }


def test_scenario_initial_sets_the_dormant_pool(lln) -> None:
    assert lln[100].d0 == 100 and lln[1000].d0 == 1000
    assert lln[1000].days == (3.0, 6.0, 9.0, 15.0, 28.0, 60.0)


@pytest.mark.parametrize("n_cells", [100, 1000])
def test_ensemble_mean_matches_ode_total(lln, n_cells: int) -> None:
    res = lln[n_cells]
    assert res.failed == 0
    mean, se, ode = res.total.mean(axis=0), _se(res.total), _ode(res)
    tol = Z * se + GRID_ALLOWANCE * ode
    assert np.all(np.abs(mean - ode) <= tol), f"mean {mean} vs ODE {ode} (tol {tol})"
    # The read-out agrees with the raw array.
    fold = res.readouts()["dcc_fold_mean"]
    np.testing.assert_allclose([fold[f"{d:g}"] for d in res.days], mean / n_cells, rtol=1e-12)


def test_relative_spread_shrinks_like_one_over_sqrt_n(lln) -> None:
    """Var(total) grows like N for independent cells, so a lung's relative deviation from the ODE
    shrinks by sqrt(10) from 100 to 1000 cells. Tolerance: 5 SE of log(CV ratio) by the delta method,
    Var(log s) ~ (kurtosis - 1) / (4R) plus the mean's CV^2 / R (plug-in moments)."""
    cv, var_log = {}, {}
    for n, res in lln.items():
        x = res.total
        m, s = x.mean(axis=0), x.std(axis=0, ddof=1)
        kurt = np.mean((x - m) ** 4, axis=0) / np.mean((x - m) ** 2, axis=0) ** 2
        cv[n] = s / m
        var_log[n] = (kurt - 1.0) / (4 * x.shape[0]) + cv[n] ** 2 / x.shape[0]
    log_ratio = np.log(cv[100] / cv[1000])
    tol = Z * np.sqrt(var_log[100] + var_log[1000])
    assert np.all(np.abs(log_ratio - 0.5 * math.log(10.0)) <= tol), f"CV ratios {np.exp(log_ratio)}"
    assert np.all(log_ratio - tol > 0)  # strictly shrinking, at 5 SE
    # And so the relative gap to the ODE (sampling error included) is smaller with more cells.
    rel_se = {n: _se(r.total) * math.sqrt(r.replicates) / _ode(r) for n, r in lln.items()}
    assert np.all(rel_se[1000] < rel_se[100])


# --- (b) chunk and worker invariance -------------------------------------------------------------------

FIELDS = ("total", "lesions_present", "lesions_formed", "first_lesion_day", "clone_sizes")


def _assert_identical(a: StochasticResult, b: StochasticResult) -> None:
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.failed == b.failed


@pytest.fixture(scope="module")
def serial_run() -> StochasticResult:
    return run_stochastic(Scenario("mouse", "influenza"), days=30, replicates=20, seed=5)


def test_chunk_size_does_not_change_results(serial_run) -> None:
    chunked = run_stochastic(Scenario("mouse", "influenza"), days=30, replicates=20, seed=5, chunk_size=7)
    _assert_identical(serial_run, chunked)
    assert serial_run.lesions_formed.sum() > 0 and np.isfinite(serial_run.first_lesion_day).any()


def test_process_pool_does_not_change_results(serial_run) -> None:
    # 'spawn': a fresh interpreter per worker (numba compiles there); no fork of a threaded parent.
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        pooled = run_stochastic(Scenario("mouse", "influenza"), days=30, replicates=20, seed=5, chunk_size=3,
                                executor=pool)
    _assert_identical(serial_run, pooled)


def test_other_seed_gives_other_lungs(serial_run) -> None:
    other = run_stochastic(Scenario("mouse", "influenza"), days=30, replicates=20, seed=6)
    assert not np.array_equal(serial_run.total, other.total)


AWAKE_AT_START = Scenario("mouse", "influenza", initial={"awakened": 2, "primed": 1})


def test_chunk_size_does_not_change_results_with_cells_awake_at_day0() -> None:
    # Cells already awake or primed at day 0 found clones too; chunking must not reorder clone_sizes.
    whole = run_stochastic(AWAKE_AT_START, days=30, replicates=6, seed=5)
    chunked = run_stochastic(AWAKE_AT_START, days=30, replicates=6, seed=5, chunk_size=4)
    _assert_identical(whole, chunked)


def test_clones_awake_at_day0_are_independent() -> None:
    """20 awake cells (no dormant ones) found 20 clones that must evolve independently.

    By day 28 clones have grown to hundreds of cells with sizes spread over many values, so for independent
    clones the lung total is a multiple of 20 with probability about 1/20 per replicate: in all of 10
    replicates with probability ~1e-13. Identical clones (a shared random stream) make it a multiple of 20
    every time.
    """
    res = run_stochastic(Scenario("mouse", "influenza", initial={"dormant": 0, "awakened": 20}), days=30,
                         replicates=10, seed=5)
    day28 = res.total[:, res.days.index(28.0)]
    assert np.median(day28) > 200  # the clones did grow, so their sizes vary
    assert not np.all(day28 % 20 == 0), f"all 20 clones identical in every lung: totals {day28}"


# --- (c) uninfected control ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def control() -> StochasticResult:
    return run_stochastic(Scenario("mouse", "none"), days=60, replicates=200, seed=13)


def test_uninfected_lungs_form_no_lesions_and_keep_their_cells(control) -> None:
    res = control
    assert np.all(res.lesions_formed == 0)
    assert np.all(res.lesions_present == 0)
    assert np.all(np.isinf(res.first_lesion_day))
    r = res.readouts()
    assert r["lesions_p_zero"] == 1.0 and r["lesions_mean"] == 0.0 and r["first_lesion_day_median"] is None
    # Spontaneous awakening (k_w0) is allowed: an awakened cell may divide, be killed or (once primed) be
    # lost, each changing the total by one. Bound the count of such events per lung: expected awakenings
    # d0 (1 - exp(-H)) times the largest per-cell rate of any size-changing channel times the horizon is
    # a Poisson mean lam (~1.5 here); K = the Poisson quantile with tail 1e-6 / replicates, so every
    # replicate stays within d0 +- K with probability > 1 - 1e-6.
    spec, schedule = res.scenario.apply()
    proc = cell_process(compile_model(spec), res.host, schedule)
    hazard = float(np.sum(0.5 * (proc.founder_hazard[1:] + proc.founder_hazard[:-1]) * np.diff(proc.grid)))
    expected_awake = res.d0 * (1.0 - math.exp(-hazard))
    size_changing = np.abs(proc.change.sum(axis=1)) > 0
    rate = float(proc.rates[:, size_changing].sum(axis=1).max())
    lam = expected_awake * rate * 60.0
    k = int(poisson.isf(1e-6 / res.replicates, lam))
    assert lam < 5 and k < 20  # the bound is tight enough to mean "fold 1"
    assert np.all(np.abs(res.total - res.d0) <= k), f"K={k}, extremes {res.total.min()}..{res.total.max()}"
    fold = res.total / res.d0
    assert np.all(np.abs(fold - 1.0) <= k / res.d0)
    assert np.all(np.abs(_ode(res) / res.d0 - 1.0) <= k / res.d0)
    # Most lungs do not change at all: P(no size-changing event) >= exp(-lam).
    assert np.mean(res.total[:, -1] == res.d0) > 0.5 * math.exp(-lam)


# --- (d) tau-leap vs exact --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exact_and_leap() -> tuple[StochasticResult, StochasticResult]:
    sc = Scenario("mouse", "influenza")
    exact = run_stochastic(sc, days=30, replicates=100, seed=17)
    leap = run_stochastic(sc, days=30, replicates=100, seed=17, method="tau-leap", tau=0.01)
    return exact, leap


def test_tau_leap_mean_agrees_with_exact(exact_and_leap) -> None:
    """Founding times come from the same per-cell streams in both methods, so replicate r of each is a
    pair; the paired differences give the SE. The leap's mean bias is O(tau): a clone's mean grows per
    leap by (1 + tau lam1) instead of exp(tau lam1), lam1 the dominant eigenvalue of the per-cell mean
    matrix, a relative bias ~ (tau / 2) int lam1^2 dt (1.5% by day 28 for tau = 0.01), allowed on top."""
    exact, leap = exact_and_leap
    tau = 0.01
    assert leap.method == "tau-leap" and leap.failed == 0
    spec, schedule = exact.scenario.apply()
    proc = cell_process(compile_model(spec), exact.host, schedule)
    n_types = proc.change.shape[1]
    mean_matrix = np.zeros((proc.grid.size, n_types, n_types))
    for c in range(proc.rates.shape[1]):
        mean_matrix[:, :, proc.acting[c]] += proc.rates[:, c, None] * proc.change[c][None, :]
    lam1 = np.array([np.linalg.eigvals(m).real.max() for m in mean_matrix])
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (lam1[1:] ** 2 + lam1[:-1] ** 2) * np.diff(proc.grid))])
    bias = 0.5 * tau * np.interp(exact.days, proc.grid, cum)
    assert np.all(bias < 0.05)
    diff = leap.total - exact.total
    se = _se(diff)
    m_exact = exact.total.mean(axis=0)
    tol = Z * se + bias * m_exact
    assert np.all(np.abs(diff.mean(axis=0)) <= tol), f"leap - exact {diff.mean(axis=0)} vs tol {tol}"
    # Lesion counts too (lesions are clones crossing 50 cells: the same O(tau) bias applies to the timing).
    dl = leap.lesions_formed - exact.lesions_formed
    assert abs(dl.mean()) <= Z * _se(dl) + bias[-1] * exact.lesions_formed.mean()


# --- (e) monotonicity -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_more_dormant_cells_more_lesions(seed: int) -> None:
    means, ses = [], []
    for n in (30, 100, 300):
        res = run_stochastic(Scenario("mouse", "influenza", initial={"dormant": n}), days=30, replicates=30,
                             seed=seed)
        means.append(res.lesions_formed.mean())
        ses.append(_se(res.lesions_formed))
    for i in range(2):
        assert means[i + 1] - means[i] > Z * math.hypot(ses[i], ses[i + 1]), f"lesions {means}"


@pytest.mark.parametrize("seed", [1, 2])
def test_second_infection_more_lesions(seed: int) -> None:
    once = run_stochastic(Scenario("mouse", "influenza"), days=90, replicates=40, seed=seed)
    twice = run_stochastic(Scenario("mouse", "influenza", infection_days=(0.0, 60.0)), days=90, replicates=40,
                           seed=seed)
    # Same seed, same host up to day 60: the lungs are identical before the second infection.
    before = [i for i, d in enumerate(once.days) if d < 60]
    np.testing.assert_array_equal(once.total[:, before], twice.total[:, before])
    extra = twice.lesions_formed - once.lesions_formed
    assert extra.mean() > Z * _se(extra), f"extra lesions per lung {extra.mean()} (SE {_se(extra)})"
    assert np.all(twice.lesions_formed >= 0)


def test_infection_forms_lesions_where_control_does_not(serial_run) -> None:
    assert serial_run.lesions_formed.mean() > 10
