"""Stochastic throughput: reawaken's DirectSSA vs GillesPy2's fastest solver (SSACSolver, C++), same run.

Model (peers.md): D -> A (a D), A -> 2A (b A), A -> 0 (d A); 100 dormant cells; 30 days.
Both tools simulate N trajectories with output at days 0..30; GillesPy2's C++ compile is excluded (done
once before timing), as is numba's JIT compile for reawaken. Prints trajectories/second and the ratio,
and checks the two agree on the mean of A(30) (5 standard errors).

Run: python benchmarks/bench_ssa_vs_gillespy2.py [N]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from reawaken.model import ModelSpec, Parameter, Species, Transition, compile_model
from reawaken.solvers import DirectSSA, simulate

A_RATE, B_RATE, D_RATE, D0, DAYS = 0.1, 0.33, 0.28, 100, 30.0


def ours(n: int, seed: int) -> tuple[float, np.ndarray, float]:
    spec = ModelSpec("dab", (Species("D", "cells", D0), Species("A", "cells", 0.0)),
                     (Parameter("a", A_RATE, "1/d", "benchmark"), Parameter("b", B_RATE, "1/d", "benchmark"),
                      Parameter("d", D_RATE, "1/d", "benchmark")),
                     (Transition("wake", {"D": -1, "A": 1}, "a * D"), Transition("birth", {"A": 1}, "b * A"),
                      Transition("death", {"A": -1}, "d * A")))
    model = compile_model(spec)
    t = np.arange(0.0, DAYS + 1)
    simulate(model, DirectSSA(), t_eval=t, n_paths=10, rng=seed)  # JIT compile outside the timing
    start = time.perf_counter()
    tr = simulate(model, DirectSSA(), t_eval=t, n_paths=n, rng=seed)
    elapsed = time.perf_counter() - start
    return elapsed, tr.final("A"), tr.stats["draws"] / 2 / n


def gillespy2_run(n: int, seed: int) -> tuple[float, np.ndarray, str]:
    import gillespy2

    model = gillespy2.Model(name="dab")
    a, b, d = (gillespy2.Parameter(name=k, expression=v) for k, v in (("a", A_RATE), ("b", B_RATE), ("d", D_RATE)))
    model.add_parameter([a, b, d])
    sd, sa = gillespy2.Species(name="D", initial_value=D0), gillespy2.Species(name="A", initial_value=0)
    model.add_species([sd, sa])
    model.add_reaction([
        gillespy2.Reaction(name="wake", reactants={sd: 1}, products={sa: 1}, rate=a),
        gillespy2.Reaction(name="birth", reactants={sa: 1}, products={sa: 2}, rate=b),
        gillespy2.Reaction(name="death", reactants={sa: 1}, products={}, rate=d),
    ])
    model.timespan(np.arange(0.0, DAYS + 1))
    try:
        solver = gillespy2.SSACSolver(model=model)
        name = "SSACSolver (C++)"
        model.run(solver=solver, number_of_trajectories=2, seed=seed)  # compile outside the timing
    except Exception as exc:  # noqa: BLE001 - report and fall back to the pure-Python solver
        print(f"SSACSolver unavailable ({exc}); using NumPySSASolver")
        solver = gillespy2.NumPySSASolver(model=model)
        name = "NumPySSASolver"
    start = time.perf_counter()
    res = model.run(solver=solver, number_of_trajectories=n, seed=seed)
    elapsed = time.perf_counter() - start
    final = np.array([traj["A"][-1] for traj in res])
    return elapsed, final, name


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    t_ours, a_ours, events = ours(n, seed=1)
    t_peer, a_peer, name = gillespy2_run(n, seed=1)
    se = np.sqrt(a_ours.var() / n + a_peer.var() / n)
    print(f"model: D->A, A->2A, A->0; D0={D0}; {DAYS:g} days; {n} trajectories; ~{events:.0f} events per trajectory")
    print(f"reawaken DirectSSA     : {t_ours:8.3f} s  {n / t_ours:10.0f} trajectories/s")
    print(f"GillesPy2 {name:14s}: {t_peer:8.3f} s  {n / t_peer:10.0f} trajectories/s")
    print(f"ratio (reawaken / GillesPy2 throughput): {t_peer / t_ours:.1f}x")
    print(f"mean A(30): reawaken {a_ours.mean():.2f}, GillesPy2 {a_peer.mean():.2f}; |diff| = "
          f"{abs(a_ours.mean() - a_peer.mean()) / se:.2f} SE (agreement check: < 5 SE)")


if __name__ == "__main__":
    main()
