"""Batched ODE throughput: reawaken's JitDopri5 vs libRoadRunner on our own SBML export, same run.

Episode: one human influenza infection, 30 days, output daily; the batch varies beta, k_wake and r_A
log-normally (sd 0.3) across episodes. Both tools use rtol = atol = 1e-6. libRoadRunner is used as a
user would script it: one instance, per episode reset(), set parameters, simulate(). Its per-episode
cost is measured on a sample (default 2,000 episodes) and compared with our per-episode cost over the
whole batch. Accuracy: both are compared with a tight reference (Radau, rtol 1e-10) on 20 episodes.

Run: python benchmarks/bench_ode_vs_roadrunner.py [N_BATCH] [N_RR_SAMPLE]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from reawaken.io.sbml import to_sbml
from reawaken.model import compile_model
from reawaken.scenarios import Scenario
from reawaken.solvers import JitDopri5, ScipyODE, simulate

VARIED = ("beta", "k_wake", "r_A")
KEY_SPECIES = ("virus", "il6", "dormant", "awakened", "primed")


def batch_params(model, n: int, seed: int = 7) -> np.ndarray:  # noqa: ANN001
    rng = np.random.default_rng(seed)
    params = np.tile(model.p0, (n, 1))
    for name in VARIED:
        params[:, model.parameter_index(name)] *= np.exp(rng.normal(0.0, 0.3, n))
    return params


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_rr = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
    spec, schedule = Scenario("human", "influenza").apply()
    model = compile_model(spec)
    t = np.arange(0.0, 31.0)
    params = batch_params(model, n)
    solver = JitDopri5(rtol=1e-6, atol=1e-6)
    simulate(model, solver, params=params[:4], t_eval=t, events=schedule)  # JIT compile outside the timing
    start = time.perf_counter()
    ours = simulate(model, solver, params=params, t_eval=t, events=schedule, on_failure="flag")
    t_ours = time.perf_counter() - start

    import roadrunner

    rr = roadrunner.RoadRunner(to_sbml(spec, schedule))
    rr.integrator.relative_tolerance = 1e-6
    rr.integrator.absolute_tolerance = 1e-6
    rr.timeCourseSelections = ["time", *spec.species_names]
    idx = [model.parameter_index(v) for v in VARIED]
    rr_out = np.empty((n_rr, t.size, model.n_species))
    start = time.perf_counter()
    for i in range(n_rr):
        rr.reset()
        for name, j in zip(VARIED, idx):
            rr[name] = params[i, j]
        rr_out[i] = rr.simulate(0.0, 30.0, 31)[:, 1:]
    t_rr = (time.perf_counter() - start) / n_rr

    n_ref = 20
    ref = simulate(model, ScipyODE("Radau", rtol=1e-10, atol=1e-12), params=params[:n_ref], t_eval=t,
                   events=schedule).values
    cols = [model.species_index(s) for s in KEY_SPECIES]

    def worst(values: np.ndarray) -> float:
        r, v = ref[:, :, cols], values[:n_ref][:, :, cols]
        big = np.abs(r) > 1e-6 * np.abs(r).max(axis=(0, 1), keepdims=True)
        return float(np.max(np.abs(v - r)[big] / np.abs(r)[big]))

    per_ours = t_ours / n
    print(f"episode: human influenza, 30 days, {len(VARIED)} parameters varied; rtol = atol = 1e-6; 2 cores")
    print(f"reawaken JitDopri5, batch of {n:>7}: {t_ours:8.2f} s  {per_ours * 1e3:8.4f} ms/episode "
          f"({int(np.sum(ours.status != 0))} failed rows; {ours.stats['steps'] / n:.0f} steps/episode)")
    print(f"libRoadRunner, {n_rr} episodes one at a time: {t_rr * 1e3:8.4f} ms/episode "
          f"(x {n} = {t_rr * n:.1f} s extrapolated)")
    print(f"ratio (libRoadRunner / reawaken time per episode): {t_rr / per_ours:.1f}x")
    print(f"worst relative error vs Radau(1e-10) on {n_ref} episodes, species {', '.join(KEY_SPECIES)}: "
          f"reawaken {worst(ours.values):.2e}, libRoadRunner {worst(rr_out):.2e}")


if __name__ == "__main__":
    main()
