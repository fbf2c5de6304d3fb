"""DirectSSA and TauLeap against processes with known laws (design principles 6 and 13).

One tiny model serves every test here, so numba compiles each SSA kernel once: dormant cells ``D`` awaken
into active cells ``A`` (rate ``a*D``), active cells divide (``b*A``) and die (``d*A``), and active cells
immigrate at a constant rate ``m``. Setting parameters to zero gives

* immigration-death (a = b = 0): ``A(t)`` from 0 is Poisson with mean ``m/d (1 - exp(-d t))``;
* pure death (a = b = m = 0): ``A(t)`` from ``A0`` is Binomial(A0, exp(-d t));
* dormant-awaken-birth-death (m = 0): mean
  ``E A(t) = D0 a (exp((b-d) t) - exp(-a t)) / (b - d + a)``; the variance comes from the closed ODE of
  the second moments (linear propensities close the moment hierarchy), integrated with SciPy and itself
  checked against the three closed forms above.

Tolerances: every mean or variance is compared within ``Z = 5`` standard errors. For a normal sampling
distribution that is a two-sided false-alarm rate of 5.7e-7 per comparison; this file makes ~40 such
comparisons, so a spurious failure has probability < 3e-5. Seeds are fixed, so a run is reproducible.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from reawaken.model import (
    CompiledModel,
    EventSchedule,
    ModelSpec,
    Parameter,
    Species,
    StateJump,
    Transition,
    compile_model,
)
from reawaken.solvers import DirectSSA, TauLeap, simulate

Z = 5.0  # standard errors; two-sided normal tail 5.7e-7

N_PATHS = 4000


def dab_spec() -> ModelSpec:
    return ModelSpec(
        "dormant_awaken_birth_death",
        (Species("D", "cells", 100.0, "dormant cells"), Species("A", "cells", 0.0, "active cells")),
        (
            Parameter("a", 0.1, "1/d", "test value: awakening rate per dormant cell"),
            Parameter("b", 0.5, "1/d", "test value: division rate per active cell"),
            Parameter("d", 0.45, "1/d", "test value: death rate per active cell"),
            Parameter("m", 0.0, "cells/d", "test value: immigration of active cells"),
        ),
        (
            Transition("awaken", {"D": -1, "A": 1}, "a * D"),
            Transition("divide", {"A": 1}, "b * A"),
            Transition("die", {"A": -1}, "d * A"),
            Transition("immigrate", {"A": 1}, "m"),
        ),
    )


@pytest.fixture(scope="module")
def model() -> CompiledModel:
    return compile_model(dab_spec())


def rates(*, a: float = 0.0, b: float = 0.0, d: float = 0.0, m: float = 0.0) -> np.ndarray:
    return np.array([a, b, d, m])  # the spec's parameter order


# --- the reference: closed second-moment equations ------------------------------------------------


def moment_rhs(a: float, b: float, d: float, m: float):
    """d/dt of (E D, E A, E D^2, E DA, E A^2), from d/dt E f(X) = sum_r E[a_r(X) (f(X + nu_r) - f(X))].

    awaken (D-1, A+1) at a D; divide (A+1) at b A; die (A-1) at d A; immigrate (A+1) at m.
    """

    def rhs(_t: float, x: np.ndarray) -> np.ndarray:
        ed, ea, ed2, eda, ea2 = x
        return np.array([
            -a * ed,
            a * ed + (b - d) * ea + m,
            # (D-1)^2 - D^2 = 1 - 2D
            -2.0 * a * ed2 + a * ed,
            # awaken: (D-1)(A+1) - DA = D - A - 1; divide: +D; die: -D; immigrate: +D
            a * (ed2 - eda - ed) + (b - d) * eda + m * ed,
            # awaken, divide, immigrate: (A+1)^2 - A^2 = 2A + 1; die: 1 - 2A
            a * (2.0 * eda + ed) + b * (2.0 * ea2 + ea) + d * (ea - 2.0 * ea2) + m * (2.0 * ea + 1.0),
        ])

    return rhs


def moments(times: np.ndarray, d0: float, a0: float, **k: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of A at ``times`` from the moment ODE (DOP853, rtol 1e-12)."""
    p = {"a": 0.0, "b": 0.0, "d": 0.0, "m": 0.0, **k}
    x0 = [d0, a0, d0 * d0, d0 * a0, a0 * a0]
    # SciPy's minimum step at t = 0 is 10 * nextafter(0, inf), a subnormal: that underflow is by design.
    with np.errstate(under="ignore"):
        sol = solve_ivp(moment_rhs(**p), (0.0, float(times[-1])), x0, method="DOP853", t_eval=times,
                        rtol=1e-12, atol=1e-12)
    assert sol.success
    mean, second = sol.y[1], sol.y[4]
    return mean, second - mean**2


def dab_mean(t: np.ndarray, d0: float, a: float, b: float, d: float) -> np.ndarray:
    return d0 * a * (np.exp((b - d) * t) - np.exp(-a * t)) / (b - d + a)


def test_moment_equations_reproduce_closed_forms() -> None:
    """The reference itself: the moment ODE reproduces the Poisson, binomial and DAB-mean laws."""
    t = np.array([1.0, 5.0, 20.0, 60.0])
    mean, var = moments(t, 0.0, 0.0, m=20.0, d=0.5)
    lam = 40.0 * (1.0 - np.exp(-0.5 * t))
    np.testing.assert_allclose(mean, lam, rtol=1e-9)
    np.testing.assert_allclose(var, lam, rtol=1e-8)  # Poisson: variance = mean
    t = t[:-1]  # by day 60 the pure-death mean (1e-11) is below the integrator's absolute tolerance
    mean, var = moments(t, 0.0, 100.0, d=0.5)
    p = np.exp(-0.5 * t)
    np.testing.assert_allclose(mean, 100.0 * p, rtol=1e-8)
    np.testing.assert_allclose(var, 100.0 * p * (1.0 - p), rtol=1e-7)
    mean, var = moments(t, 100.0, 0.0, a=0.1, b=0.5, d=0.45)
    np.testing.assert_allclose(mean, dab_mean(t, 100.0, 0.1, 0.5, 0.45), rtol=1e-9)
    assert np.all(var > mean)  # over-dispersed: clones amplify awakening noise


# --- helpers for the statistical comparisons ------------------------------------------------------


def se_of_variance(n: int, sigma2: float, mu4: float) -> float:
    """Exact standard deviation of the unbiased sample variance of n iid draws with central moments."""
    return math.sqrt(mu4 / n - sigma2**2 * (n - 3) / (n * (n - 1)))


def assert_mean_var(x: np.ndarray, mean: float, var: float, mu4: float | None = None, what: str = "") -> None:
    n = x.size
    sample_mean, sample_var = float(x.mean()), float(x.var(ddof=1))
    assert abs(sample_mean - mean) <= Z * math.sqrt(var / n), f"{what}: mean {sample_mean} vs {mean}"
    if mu4 is None:  # plug-in fourth central moment (consistent; n = 4000 makes its error negligible)
        mu4 = float(np.mean((x - sample_mean) ** 4))
    tol = Z * se_of_variance(n, var, mu4)
    assert abs(sample_var - var) <= tol, f"{what}: variance {sample_var} vs {var} (tol {tol:.3g})"


# --- (a) immigration-death: stationary Poisson(40) ------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_immigration_death_stationary_poisson(model: CompiledModel, seed: int) -> None:
    birth, death = 20.0, 0.5
    traj = simulate(model, DirectSSA(), [0.0, 0.0], rates(m=birth, d=death), t_eval=[0.0, 60.0],
                    rng=seed, n_paths=N_PATHS)
    x = traj.final("A")
    lam = birth / death * (1.0 - math.exp(-death * 60.0))  # 40 to 1e-12: stationary
    assert np.all(x == np.round(x)) and x.min() >= 0
    # Poisson: variance = mean, fourth central moment lam (1 + 3 lam).
    assert_mean_var(x, lam, lam, lam * (1.0 + 3.0 * lam), f"seed {seed}")
    # The dormant pool is untouched (a = 0).
    assert np.all(traj.final("D") == 0.0)


# --- (b) pure death: binomial at every output time -----------------------------------------------


def test_pure_death_binomial(model: CompiledModel) -> None:
    x0, death = 100, 0.5
    times = np.array([0.0, 0.25, 1.0, 2.0, 4.0])
    traj = simulate(model, DirectSSA(), [0.0, float(x0)], rates(d=death), t_eval=times, rng=5,
                    n_paths=N_PATHS)
    a = traj.sel("A")
    assert np.all(a[:, 0] == x0)
    assert np.all(np.diff(a, axis=1) <= 0)  # deaths only
    for k, t in enumerate(times[1:], start=1):
        p = math.exp(-death * t)
        var = x0 * p * (1.0 - p)
        mu4 = var * (1.0 + 3.0 * (x0 - 2) * p * (1.0 - p))  # binomial fourth central moment
        assert_mean_var(a[:, k], x0 * p, var, mu4, f"t={t}")


# --- (c) dormant-awaken-birth-death: mean (closed form) and variance (moment ODE) ----------------

DAB = {"a": 0.1, "b": 0.5, "d": 0.45}
DAB_TIMES = np.array([0.0, 10.0, 20.0, 30.0])


@pytest.fixture(scope="module")
def dab_reference() -> tuple[np.ndarray, np.ndarray]:
    mean, var = moments(DAB_TIMES[1:], 100.0, 0.0, **DAB)
    np.testing.assert_allclose(mean, dab_mean(DAB_TIMES[1:], 100.0, **DAB), rtol=1e-9)
    return mean, var


@pytest.mark.parametrize("seed", [3, 4])
def test_dormant_awaken_birth_death_mean_and_variance(model: CompiledModel, dab_reference, seed: int) -> None:
    mean, var = dab_reference
    traj = simulate(model, DirectSSA(), [100.0, 0.0], rates(**DAB), t_eval=DAB_TIMES, rng=seed,
                    n_paths=N_PATHS)
    a = traj.sel("A")
    for k, t in enumerate(DAB_TIMES[1:], start=1):
        assert_mean_var(a[:, k], float(mean[k - 1]), float(var[k - 1]), None, f"t={t}, seed {seed}")
    # The dormant pool alone is a pure death at rate a: Binomial(100, exp(-a t)).
    p = math.exp(-DAB["a"] * 30.0)
    d_var = 100.0 * p * (1.0 - p)
    assert_mean_var(traj.final("D"), 100.0 * p, d_var, d_var * (1.0 + 3.0 * 98.0 * p * (1.0 - p)), "D(30)")


# --- (d) tau-leaping --------------------------------------------------------------------------------


def euler_mean(t_end: float, tau: float, d0: float, a: float, b: float, d: float) -> float:
    """Mean of A under tau-leaping with linear propensities: Poisson increments with means rate*tau make
    the mean follow explicit Euler exactly (guard retries aside), so its O(tau) bias is computable."""
    jac = np.array([[-a, 0.0], [a, b - d]])
    step = np.eye(2) + tau * jac
    n = int(round(t_end / tau))
    return float((np.linalg.matrix_power(step, n) @ np.array([d0, 0.0]))[1])


@pytest.fixture(scope="module")
def tau_paths(model: CompiledModel) -> np.ndarray:
    return simulate(model, TauLeap(tau=0.01), [100.0, 0.0], rates(**DAB), t_eval=DAB_TIMES, rng=8,
                    n_paths=N_PATHS).sel("A")


def test_tau_leap_mean_matches_analytic_within_its_bias(tau_paths: np.ndarray, dab_reference) -> None:
    tau = 0.01
    mean, var = dab_reference
    for k, t in enumerate(DAB_TIMES[1:], start=1):
        exact = float(mean[k - 1])
        # O(tau) bias of the leap's mean: explicit Euler vs exp; (1 + 0.05 tau)^(t/tau) vs e^(0.05 t) is a
        # relative -t tau 0.05^2 / 2 ~ -4e-4 at t = 30, far below one standard error (~0.8%).
        bias = abs(euler_mean(float(t), tau, 100.0, **DAB) - exact)
        assert bias < 0.01 * exact
        se = math.sqrt(float(var[k - 1]) / tau_paths.shape[0])
        got = float(tau_paths[:, k].mean())
        assert abs(got - exact) <= Z * se + bias, f"t={t}: tau-leap mean {got} vs {exact} (bias {bias:.3g})"
        # The spread is also right (same 5-SE rule; the leap's O(tau) variance bias is of the same order).
        tol = Z * se_of_variance(tau_paths.shape[0], float(var[k - 1]),
                                 float(np.mean((tau_paths[:, k] - got) ** 4)))
        assert abs(float(tau_paths[:, k].var(ddof=1)) - float(var[k - 1])) <= tol + 2 * bias * exact


def test_tau_leap_counts_are_whole_and_nonnegative(tau_paths: np.ndarray) -> None:
    assert tau_paths.min() >= 0
    np.testing.assert_array_equal(tau_paths, np.round(tau_paths))


@pytest.mark.parametrize("tau", [1.0, 5.0, 50.0])
def test_large_tau_never_goes_negative_on_pure_death(model: CompiledModel, tau: float) -> None:
    # Mean deaths per leap d * X * tau = 50 .. 2500 from X = 100: most first tries overshoot and must be halved.
    times = np.array([0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 60.0])
    traj = simulate(model, TauLeap(tau=tau), [0.0, 100.0], rates(d=1.0), t_eval=times, rng=9, n_paths=2000)
    a = traj.sel("A")
    assert np.all(traj.ok())
    assert np.all(np.isfinite(a))
    assert a.min() >= 0.0
    assert np.all(np.diff(a, axis=1) <= 0)
    # At day 60 survival is exp(-60): every path is extinct (P(any survivor) < 2000 * 100 * e^-60 ~ 2e-21).
    assert np.all(a[:, -1] == 0)


def test_large_tau_never_goes_negative_with_birth_and_death(model: CompiledModel) -> None:
    traj = simulate(model, TauLeap(tau=2.0), [100.0, 50.0], rates(a=0.3, b=0.2, d=0.9), t_eval=[0.0, 10.0, 30.0],
                    rng=10, n_paths=2000)
    assert np.all(traj.ok())
    assert traj.values.min() >= 0.0


# --- (e) seeds and chunking ---------------------------------------------------------------------------

SOLVERS = [DirectSSA(), TauLeap(tau=0.05)]
CHUNK_TIMES = [0.0, 1.0, 5.0, 10.0, 15.0]
# A jump mid-run: counters must carry across event segments for chunks to stay exact.
RESEED = EventSchedule(jumps=(StateJump(7.5, "D", 20.0, "second seeding"),))


def run(model: CompiledModel, solver, seed: int, n: int, first: int = 0) -> np.ndarray:
    return simulate(model, solver, [100.0, 0.0], rates(**DAB, m=1.0), t_eval=CHUNK_TIMES, events=RESEED,
                    rng=seed, n_paths=n, first_path=first).values


@pytest.mark.parametrize("solver", SOLVERS, ids=["direct", "tau-leap"])
def test_same_seed_same_paths_other_seed_other_paths(model: CompiledModel, solver) -> None:
    a, b, c = run(model, solver, 21, 64), run(model, solver, 21, 64), run(model, solver, 22, 64)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # Paths within a run are not copies of each other either.
    assert np.unique(a[:, -1, 1]).size > 10


@pytest.mark.parametrize("solver", SOLVERS, ids=["direct", "tau-leap"])
@pytest.mark.parametrize("k", [1, 17, 49])
def test_first_path_chunks_reproduce_the_whole_run(model: CompiledModel, solver, k: int) -> None:
    n = 50
    whole = run(model, solver, 33, n)
    head = run(model, solver, 33, k)
    tail = run(model, solver, 33, n - k, first=k)
    np.testing.assert_array_equal(np.concatenate([head, tail]), whole)
    # A single path run on its own with its global index is the same path.
    np.testing.assert_array_equal(run(model, solver, 33, 1, first=k)[0], whole[k])


def test_generator_seed_is_accepted_and_reproducible(model: CompiledModel) -> None:
    a = simulate(model, DirectSSA(), t_eval=[0.0, 5.0], rng=np.random.default_rng(4), n_paths=8).values
    b = simulate(model, DirectSSA(), t_eval=[0.0, 5.0], rng=np.random.default_rng(4), n_paths=8).values
    np.testing.assert_array_equal(a, b)
