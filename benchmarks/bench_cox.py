"""Time-varying Cox fit: reawaken CoxPH vs statsmodels PHReg and lifelines CoxTimeVaryingFitter, same data.

Data (peers.md): persons followed 20 years; a binary exposure switches on at an exponential time (mean
10 y); hazard 0.05 exp(0.3 age) x 1.8 while exposed; (start, stop] rows. Ties: Breslow for reawaken and
statsmodels; lifelines uses Efron, identical here because event times are continuous. Prints seconds,
ratios and the largest relative coefficient / SE difference. Our compiled kernels (numba, cached on disk)
are loaded by a warm-up fit on 200 persons before timing, as the peers are imported before timing.

Run: python benchmarks/bench_cox.py [N_PERSONS] [N_LIFELINES]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from reawaken.analysis import CoxPH


def person_rows(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(0.0, 1.0, n)
    t_exp = rng.exponential(10.0, n)
    h0 = 0.05 * np.exp(0.3 * age)
    t1 = rng.exponential(1.0 / h0)
    t2 = t_exp + rng.exponential(1.0 / (h0 * 1.8))
    early = t1 < np.minimum(t_exp, 20.0)
    never = ~early & (t_exp >= 20.0)
    split = ~early & ~never
    ids = np.arange(n)
    parts = [
        pd.DataFrame({"id": ids[early], "start": 0.0, "stop": t1[early], "event": True, "exposed": 0.0, "age": age[early]}),
        pd.DataFrame({"id": ids[never], "start": 0.0, "stop": 20.0, "event": False, "exposed": 0.0, "age": age[never]}),
        pd.DataFrame({"id": ids[split], "start": 0.0, "stop": t_exp[split], "event": False, "exposed": 0.0,
                      "age": age[split]}),
        pd.DataFrame({"id": ids[split], "start": t_exp[split], "stop": np.minimum(t2[split], 20.0),
                      "event": t2[split] < 20.0, "exposed": 1.0, "age": age[split]}),
    ]
    return pd.concat(parts, ignore_index=True)


def ours(df: pd.DataFrame) -> tuple[float, CoxPH]:
    start = time.perf_counter()
    fit = CoxPH().fit(df["start"].to_numpy(), df["stop"].to_numpy(), df["event"].to_numpy(),
                      df[["exposed", "age"]].to_numpy(), names=("exposed", "age"), cluster=df["id"].to_numpy())
    return time.perf_counter() - start, fit


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_ll = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    import statsmodels.api as sm
    from lifelines import CoxTimeVaryingFitter

    t_cold, _ = ours(person_rows(200, seed=3))  # loads (or, on a first run, compiles) the numba kernels
    df = person_rows(n)
    t_ours, fit = ours(df)
    start = time.perf_counter()
    ref = sm.PHReg(df["stop"].to_numpy(), df[["exposed", "age"]].to_numpy(), status=df["event"].to_numpy().astype(int),
                   entry=df["start"].to_numpy(), ties="breslow").fit()
    t_sm = time.perf_counter() - start
    small = person_rows(n_ll, seed=2)
    # statsmodels' robust (grouped) covariance loops over rows x event times: timed on the small sample only.
    start = time.perf_counter()
    ref_small = sm.PHReg(small["stop"].to_numpy(), small[["exposed", "age"]].to_numpy(),
                         status=small["event"].to_numpy().astype(int), entry=small["start"].to_numpy(),
                         ties="breslow").fit(groups=small["id"].to_numpy())
    t_sm_robust = time.perf_counter() - start
    t_ours_small, fit_small = ours(small)
    start = time.perf_counter()
    ll = CoxTimeVaryingFitter().fit(small, id_col="id", event_col="event", start_col="start", stop_col="stop")
    t_ll = time.perf_counter() - start
    print(f"{n} persons, {len(df)} rows, {int(df['event'].sum())} events; true HR 1.8, estimated "
          f"{fit.hazard_ratios_[0]:.3f} (robust 95% CI {fit.summary.loc['exposed', 'ci_low']:.3f}-"
          f"{fit.summary.loc['exposed', 'ci_high']:.3f})")
    print(f"reawaken CoxPH (with robust SEs)     : {t_ours:8.3f} s   (warm-up fit, kernels loaded: {t_cold:.2f} s)")
    print(f"statsmodels PHReg (model SEs only)   : {t_sm:8.3f} s   ratio {t_sm / t_ours:6.1f}x   "
          f"max rel diff coef {np.max(np.abs(fit.params_ / ref.params - 1)):.1e}, "
          f"model SE {np.max(np.abs(fit.bse_model_ / ref.bse - 1)):.1e}")
    print(f"statsmodels PHReg with robust SEs on {n_ll} persons: {t_sm_robust:8.3f} s vs reawaken {t_ours_small:.3f} s: "
          f"ratio {t_sm_robust / t_ours_small:6.1f}x; max rel diff robust SE "
          f"{np.max(np.abs(fit_small.bse_ / ref_small.bse - 1)):.1e}")
    print(f"lifelines CoxTimeVaryingFitter on {n_ll} persons ({len(small)} rows): {t_ll:8.3f} s vs reawaken "
          f"{t_ours_small:.3f} s: ratio {t_ll / t_ours_small:6.1f}x; max rel diff coef "
          f"{np.max(np.abs(fit_small.params_ / ll.params_[['exposed', 'age']].to_numpy() - 1)):.1e}")


if __name__ == "__main__":
    main()
