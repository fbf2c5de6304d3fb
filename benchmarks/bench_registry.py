"""Registry end to end: a 1,000,000-person OMOP CDM in DuckDB -> extraction in SQL -> time-varying Cox with
robust SEs -> Kaplan–Meier; then the Cox fit alone against statsmodels PHReg and lifelines
CoxTimeVaryingFitter on the same (start, stop] rows (issue 5 floors: end to end <= 60 s; Cox >= 10x
statsmodels, >= 100x lifelines).

The CDM is written by the test fixture generator (tests/integration/registry_fixture.py: planted HRs 2.0,
1.5, 1.0; all infections recorded) through ``reawaken.io.omop.write_registry``; writing is not timed.
Peers run on a random subsample of persons (statsmodels N_SM, lifelines N_LL persons) and are compared
with our fit on the same subsample; the per-row time is then extrapolated linearly to the full data
(an underestimate for both peers, whose cost grows faster than linearly). Ties: the rows have whole-day
times, so a per-person shift in (0, 0.5) day breaks ties for the peer comparison (lifelines uses Efron).

Run: python benchmarks/bench_registry.py [N_PERSONS] [N_SM] [N_LL]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

from registry_fixture import write_cohort  # noqa: E402

from reawaken.analysis import CoxPH, KaplanMeier, analyze_survival, split_windows  # noqa: E402
from reawaken.io.omop import extract_study, load_study, write_registry  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_sm = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    n_ll = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    import pandas as pd
    import statsmodels.api as sm
    from lifelines import CoxTimeVaryingFitter

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        write_cohort(d / "cohort", n, seed=7)
        write_registry(d / "cohort", d / "cdm.duckdb", seed=1, ascertainment="covid=1,influenza=1")
        print(f"wrote a {n:,}-person CDM in {time.perf_counter() - t0:.1f} s (not timed below)")
        study = load_study("flatiron-style")
        t0 = time.perf_counter()
        data, _ = extract_study(str(d / "cdm.duckdb"), study)
        t_extract = time.perf_counter() - t0
        t1 = time.perf_counter()
        res = analyze_survival(data, study.windows_days)
        t_fit = time.perf_counter() - t1
        total = time.perf_counter() - t0
        print(f"end to end (flatiron-style): {total:.1f} s = extraction {t_extract:.1f} s + Cox/KM/incidence "
              f"{t_fit:.1f} s; {res['n_persons']:,} persons, {res['n_rows']:,} rows, {res['n_events']:,} events")
        for h in res["hazard_ratios"][:3]:
            print(f"  {h['term']:22s} HR {h['hr']:.3f} ({h['ci_low']:.3f}-{h['ci_high']:.3f})")

        rows = split_windows(np.zeros(data.person_id.size), data.exit_day, data.event, data.infection_person,
                             data.infection_day, edges=study.windows_days)
        x = np.hstack([rows.indicators(), data.covariates[rows.person]])
        eps = np.random.default_rng(0).uniform(0.0, 0.5, data.person_id.size)[rows.person]
        start, stop = np.where(rows.start > 0, rows.start + eps, 0.0), rows.stop + eps
        t0 = time.perf_counter()
        CoxPH().fit(start, stop, rows.event, x, cluster=rows.person)
        t_full = time.perf_counter() - t0
        t0 = time.perf_counter()
        KaplanMeier().fit(data.exit_day, data.event)
        print(f"Cox alone, all {rows.start.size:,} rows, robust SEs: {t_full:.2f} s; KM: "
              f"{time.perf_counter() - t0:.3f} s")
        rng = np.random.default_rng(1)
        for label, m in (("statsmodels PHReg", n_sm), ("lifelines CoxTimeVaryingFitter", n_ll)):
            persons = rng.choice(data.person_id.size, min(m, data.person_id.size), replace=False)
            sel = np.isin(rows.person, persons)
            args = (start[sel], stop[sel], rows.event[sel], x[sel])
            t0 = time.perf_counter()
            ours = CoxPH().fit(*args, cluster=rows.person[sel])
            t_ours = time.perf_counter() - t0
            t0 = time.perf_counter()
            if label.startswith("statsmodels"):
                ref = sm.PHReg(args[1], args[3], status=args[2].astype(int), entry=args[0], ties="breslow").fit()
                coef = np.asarray(ref.params)
            else:
                df = pd.DataFrame(args[3], columns=[f"x{i}" for i in range(x.shape[1])])
                df["id"], df["start"], df["stop"], df["event"] = rows.person[sel], args[0], args[1], args[2]
                coef = CoxTimeVaryingFitter().fit(df, id_col="id", start_col="start", stop_col="stop",
                                                  event_col="event").params_.to_numpy()
            t_ref = time.perf_counter() - t0
            scale = rows.start.size / sel.sum()
            print(f"{label}: {m:,} persons, {sel.sum():,} rows: {t_ref:.2f} s vs ours {t_ours:.3f} s "
                  f"(model + robust SEs) = {t_ref / t_ours:.0f}x; extrapolated to all rows: {t_ref * scale:.0f} s vs "
                  f"ours {t_full:.2f} s = {t_ref * scale / t_full:.0f}x; max rel coef diff "
                  f"{np.max(np.abs(ours.params_ - coef) / np.abs(coef)):.1e}")


if __name__ == "__main__":
    main()
