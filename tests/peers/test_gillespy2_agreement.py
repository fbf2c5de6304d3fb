"""Cross-implementation check (design principle 13.4): reawaken's DirectSSA against GillesPy2's SSA.

The shared model: 100 dormant cells D awaken into active cells A (a D), active cells divide (b A) and
die (d A); a = 0.1, b = 0.5, d = 0.45 per day, 30 days (a few thousand events per path). Both tools must
produce the same law of A(t): the two samples are compared with a two-sample Kolmogorov-Smirnov test at
alpha = 1e-3 (false-alarm rate <= 1e-3 per comparison; KS is conservative for discrete data, so the
real rate is lower) and their means within 5 standard errors of the difference (5.7e-7 two-sided).
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy.stats import ks_2samp

from reawaken.model import ModelSpec, Parameter, Species, Transition, compile_model
from reawaken.solvers import DirectSSA, simulate

gillespy2 = pytest.importorskip("gillespy2")

A_WAKE, B_DIV, D_DIE, D0 = 0.1, 0.5, 0.45, 100
DAYS = np.arange(0.0, 31.0)
REPORT = (10, 20, 30)
ALPHA = 1e-3
Z = 5.0


def reawaken_spec() -> ModelSpec:
    # Identical (name, values) to the spec in tests/statistical/test_ssa_analytic.py, so a combined run
    # compiles the SSA kernel once (kernels are cached by the spec's content hash).
    return ModelSpec(
        "dormant_awaken_birth_death",
        (Species("D", "cells", float(D0), "dormant cells"), Species("A", "cells", 0.0, "active cells")),
        (
            Parameter("a", A_WAKE, "1/d", "test value: awakening rate per dormant cell"),
            Parameter("b", B_DIV, "1/d", "test value: division rate per active cell"),
            Parameter("d", D_DIE, "1/d", "test value: death rate per active cell"),
            Parameter("m", 0.0, "cells/d", "test value: immigration of active cells"),
        ),
        (
            Transition("awaken", {"D": -1, "A": 1}, "a * D"),
            Transition("divide", {"A": 1}, "b * A"),
            Transition("die", {"A": -1}, "d * A"),
            Transition("immigrate", {"A": 1}, "m"),
        ),
    )


def gillespy2_model():
    model = gillespy2.Model(name="dormant_awaken_birth_death")
    a = gillespy2.Parameter(name="a", expression=A_WAKE)
    b = gillespy2.Parameter(name="b", expression=B_DIV)
    d = gillespy2.Parameter(name="d", expression=D_DIE)
    model.add_parameter([a, b, d])
    dormant = gillespy2.Species(name="D", initial_value=D0, mode="discrete")
    active = gillespy2.Species(name="A", initial_value=0, mode="discrete")
    model.add_species([dormant, active])
    model.add_reaction([  # mass action with one reactant: propensity = rate * count, as in reawaken
        gillespy2.Reaction(name="awaken", reactants={dormant: 1}, products={active: 1}, rate=a),
        gillespy2.Reaction(name="divide", reactants={active: 1}, products={active: 2}, rate=b),
        gillespy2.Reaction(name="die", reactants={active: 1}, products={}, rate=d),
    ])
    model.timespan(DAYS)
    return model


@pytest.fixture(scope="module")
def peer_samples() -> tuple[str, np.ndarray]:
    """A at the report days, one row per GillesPy2 trajectory (C++ SSA if it builds here)."""
    model = gillespy2_model()
    try:
        solver = gillespy2.SSACSolver(model=model)
        name, n = "SSACSolver", 2000
    except Exception:  # noqa: BLE001 - no C++ toolchain: the pure-NumPy solver is slower, use fewer paths
        solver = None
        name, n = "NumPySSASolver", 300
    if solver is None:
        state = random.getstate()  # NumPySSASolver seeds Python's global `random`; leave it as we found it
        try:
            results = model.run(solver=gillespy2.NumPySSASolver, number_of_trajectories=n, seed=7)
        finally:
            random.setstate(state)
    else:
        results = model.run(solver=solver, number_of_trajectories=n, seed=7)
    idx = [int(np.flatnonzero(DAYS == d)[0]) for d in REPORT]
    samples = np.array([[float(traj["A"][i]) for i in idx] for traj in results])
    assert samples.shape == (n, len(REPORT))
    return name, samples


@pytest.fixture(scope="module")
def our_samples() -> np.ndarray:
    traj = simulate(compile_model(reawaken_spec()), DirectSSA(), t_eval=DAYS, rng=2024, n_paths=4000)
    idx = [int(np.flatnonzero(DAYS == d)[0]) for d in REPORT]
    return traj.sel("A")[:, idx]


def analytic_mean(t: float) -> float:
    g = B_DIV - D_DIE
    return D0 * A_WAKE * (math.exp(g * t) - math.exp(-A_WAKE * t)) / (g + A_WAKE)


@pytest.mark.parametrize("k", range(len(REPORT)), ids=[f"day{d}" for d in REPORT])
def test_distribution_of_active_cells_agrees_with_gillespy2(peer_samples, our_samples, k: int) -> None:
    name, theirs = peer_samples
    x, y = our_samples[:, k], theirs[:, k]
    res = ks_2samp(x, y)
    assert res.pvalue > ALPHA, f"KS vs GillesPy2 {name} on day {REPORT[k]}: D={res.statistic:.4f}, p={res.pvalue:.2g}"
    se = math.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
    assert abs(x.mean() - y.mean()) <= Z * se, f"means {x.mean():.2f} (reawaken) vs {y.mean():.2f} ({name})"


@pytest.mark.parametrize("k", range(len(REPORT)), ids=[f"day{d}" for d in REPORT])
def test_both_tools_match_the_analytic_mean(peer_samples, our_samples, k: int) -> None:
    # Guards against both tools sharing one mistake: each sample mean within 5 SE of the closed form.
    exact = analytic_mean(REPORT[k])
    for sample in (our_samples[:, k], peer_samples[1][:, k]):
        assert abs(sample.mean() - exact) <= Z * sample.std(ddof=1) / math.sqrt(sample.size)


@pytest.mark.parametrize("k", range(len(REPORT)), ids=[f"day{d}" for d in REPORT])
def test_variances_agree(peer_samples, our_samples, k: int) -> None:
    # The sample variance's standard error sqrt((mu4 - sigma^4) / n) with plug-in moments; 5 SE of the
    # difference (asymptotically normal; 5.7e-7 two-sided).
    def var_and_se(x: np.ndarray) -> tuple[float, float]:
        v = float(x.var(ddof=1))
        mu4 = float(np.mean((x - x.mean()) ** 4))
        return v, math.sqrt(max(mu4 - v * v, 0.0) / x.size)

    (v1, s1), (v2, s2) = var_and_se(our_samples[:, k]), var_and_se(peer_samples[1][:, k])
    assert abs(v1 - v2) <= Z * math.hypot(s1, s2), f"variances {v1:.1f} vs {v2:.1f} on day {REPORT[k]}"
