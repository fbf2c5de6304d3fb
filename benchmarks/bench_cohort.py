"""Virtual cohort throughput: the default cohort at 1e4, 1e5 and 1e6 people x 15 years, end to end
(people, exposure, every infection through the episode tables, Parquet written), against the path a
user would otherwise script: each within-host episode solved one at a time by libRoadRunner from our
SBML export. Also reports the episode tables' error against the full ODE on a fresh sample.

The cohort runs as `reawaken cohort` does by default: chunks of 50,000 people on a local process pool
of all cores (2 here). Peak memory is the largest resident set of this process and of any worker.

Run: python benchmarks/bench_cohort.py [SIZES=10000,100000,1000000] [N_RR=300]
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from reawaken.api import run_cohort
from reawaken.cohort.check import emulator_error
from reawaken.cohort.config import load_config
from reawaken.cohort.episodes import response_at
from reawaken.cohort.simulate import arms_from_config, build_model

YEARS = 15.0


def peak_rss_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, child_kb) / 1024.0


def roadrunner_episodes(tables, n: int, seed: int = 3) -> tuple[float, float]:  # noqa: ANN001
    """Per-episode wall time of libRoadRunner (one instance, reset + parameters + simulate 0..90 d), and
    the worst relative difference of its end-of-episode burden W from our tables on the same episodes."""
    import roadrunner

    from reawaken.io.sbml import to_sbml
    from reawaken.scenarios import Scenario

    rng = np.random.default_rng(seed)
    spec, schedule = Scenario("human", "influenza", initial={"dormant": 1.0}).apply()
    rr = roadrunner.RoadRunner(to_sbml(spec, schedule))
    rr.integrator.relative_tolerance = 1e-6
    rr.integrator.absolute_tolerance = 1e-9
    rr.timeCourseSelections = ["time", "dormant", "awakened", "primed"]
    from reawaken.model.library.il6_dormancy import SEVERITY_PARAMETERS

    base = {k: spec.parameter(k).value for k in SEVERITY_PARAMETERS}
    log_s = rng.uniform(-2.0, 2.5, n)
    days = float(tables.days[-1])
    w_rr = np.empty(n)
    start = time.perf_counter()
    for k in range(n):
        rr.reset()
        for name, value in base.items():
            rr[name] = value * np.exp(log_s[k])
        out = rr.simulate(0.0, days, 91)
        w_rr[k] = out[-1, 1:] @ tables.weights
    per = (time.perf_counter() - start) / n
    end, _ = response_at(tables, 0, 0, 0, 0, log_s)
    ours = end[:, 0] @ tables.weights
    return per, float(np.max(np.abs(ours / w_rr - 1)))


def main() -> None:
    sizes = [int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "10000,100000,1000000").split(",")]
    n_rr = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    cfg = load_config()
    arms = ["baseline"]
    t0 = time.perf_counter()
    model = build_model(cfg, arms_from_config(cfg, arms))
    t_tables = time.perf_counter() - t0
    print(f"episode tables: {t_tables:.1f} s (JIT compile + {model.tables.end.size // 3} episode solves "
          f"= {model.tables.end.size // 9} conditions x 3 starting states, once per run)")
    err = emulator_error(model.tables, n=64, seed=2024)
    print(f"tables vs full ODE, 64 fresh episodes: W at day 90 worst {err['max_rel_err_end_w']:.2%}, median "
          f"{err['median_rel_err_end_w']:.1e}; integrated W worst {err['max_rel_err_cum_w']:.2%}, median "
          f"{err['median_rel_err_cum_w']:.1e}")
    workers = os.cpu_count() or 1
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-cohort-"))
    try:
        # warm the compiled kernels' on-disk cache, in this process and in pool workers (as any second run finds them)
        run_cohort(cfg, n=2000, out_dir=tmp / "warm", seed=1, arms=arms, tables=model.tables, workers=1)
        run_cohort(cfg, n=4000, out_dir=tmp / "warm-pool", seed=1, arms=arms, tables=model.tables, workers=workers,
                   chunk_size=2000)
        for n in sizes:
            out = tmp / f"n{n}"
            start = time.perf_counter()
            s = run_cohort(cfg, n=n, out_dir=out, seed=1, arms=arms, tables=model.tables,
                           workers=workers if n > 50_000 else 1).to_dict()
            wall = time.perf_counter() - start
            results.append((n, wall, s))
            print(f"n = {n:>9,}: {wall:7.2f} s wall; {s['person_years'] / wall:12,.0f} person-years/s; "
                  f"{s['infections'] / wall:10,.0f} episodes/s; {s['infections']:,} infections, "
                  f"{s['lung_metastases']:,} lung metastases; peak RSS so far {peak_rss_mb():,.0f} MB")
            shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    per_rr, diff = roadrunner_episodes(model.tables, n_rr)
    n_big, wall_big, s_big = results[-1]
    ours_per_episode = wall_big / max(s_big["infections"], 1)
    print(f"libRoadRunner, {n_rr} human influenza episodes (90 d) one at a time: {per_rr * 1e3:.3f} ms/episode; "
          f"its W at day 90 differs from our tables by at most {diff:.2%}")
    print(f"episode throughput, whole cohort included (n = {n_big:,}): {ours_per_episode * 1e3:.4f} ms/episode "
          f"=> {per_rr / ours_per_episode:,.0f}x libRoadRunner's per-episode path (floor 20x)")
    if len(results) > 1:
        (n1, w1, _), (n2, w2, _) = results[-2], results[-1]
        marginal = (w2 - w1) / (n2 - n1)
        print(f"scaling {n1:,} -> {n2:,} people: time x{w2 / w1:.2f} for people x{n2 / n1:.0f}; marginal cost "
              f"{marginal * 1e6:.2f} us/person (fixed part {w1 - marginal * n1:.1f} s: pool start-up, tables to workers)")
    print(f"peak memory (largest process): {peak_rss_mb():,.0f} MB (floor 4096 MB)")


if __name__ == "__main__":
    main()
