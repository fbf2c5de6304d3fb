"""A small NumPy cohort generator that writes the directory layout of ``reawaken cohort --out DIR``.

Stands in for the mechanistic cohort simulator in registry tests and the registry benchmark. The planted
effect is exact: the lung-metastasis hazard of a person is ``baseline x HR[w]`` where ``w`` is the window
([0, 90), [90, 365), >= 365 days) since the person's most recent infection (SARS-CoV-2 or influenza),
and ``baseline`` with no infection yet. Waiting times are drawn by inverting the piecewise-constant
cumulative hazard, so the truth holds to sampling error only.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from reawaken.analysis import split_windows

START_DATE = "2012-01-01"
DAY_2020 = 2922.0  # 2020-01-01 is day 2922 after 2012-01-01
SUBTYPES = np.array(["HR+/HER2-", "HR+/HER2+", "HR-/HER2+", "TNBC"])


def write_cohort(
    out: str | Path,
    n: int = 2000,
    *,
    seed: int = 0,
    years: float = 12.0,
    planted: tuple[float, ...] | None = (2.0, 1.5, 1.0),
    windows_days: tuple[float, ...] = (0.0, 90.0, 365.0),
    lung_rate_per_year: float = 0.04,
    covid_rate_per_year: float = 0.35,
    flu_rate_per_year: float = 0.15,
    arms: tuple[str, ...] = ("baseline",),
) -> Path:
    """Write a cohort directory with ``n`` persons; ``planted=None`` means no infection effect."""
    rng = np.random.default_rng(seed)
    out = Path(out)
    horizon = years * 365.25
    pid = np.arange(1, n + 1, dtype=np.int64) * 7  # ids need not be 0..n-1
    age = rng.normal(58.0, 10.0, n)
    diag = rng.uniform(-10 * 365.25, 1500.0, n)
    subtype = SUBTYPES[rng.choice(4, n, p=[0.6, 0.1, 0.1, 0.2])]
    t_stage = np.where(rng.random(n) < 0.4, "T2", "T1")
    nodes = np.array(["N0", "N1-3", "N4-9"])[rng.choice(3, n, p=[0.6, 0.3, 0.1])]
    burden = rng.lognormal(0.0, 1.0, n)
    covariate_lp = 0.3 * (t_stage == "T2") + 0.4 * (nodes != "N0") + 0.02 * (age - 58.0)
    base = lung_rate_per_year * np.exp(covariate_lp)  # per year
    # infections: influenza over the whole horizon, SARS-CoV-2 from 2020
    n_flu = rng.poisson(flu_rate_per_year * years, n)
    n_cov = rng.poisson(covid_rate_per_year * max(horizon - DAY_2020, 0.0) / 365.25, n)
    inf_i = np.concatenate([np.repeat(np.arange(n), n_flu), np.repeat(np.arange(n), n_cov)])
    inf_t = np.concatenate([rng.uniform(0.0, horizon, n_flu.sum()), rng.uniform(DAY_2020, horizon, n_cov.sum())])
    inf_kind = np.concatenate([np.full(n_flu.sum(), "influenza"), np.full(n_cov.sum(), "sars-cov-2")])
    # lung metastasis by inverting the piecewise-constant cumulative hazard after diagnosis
    entry = np.clip(diag, 0.0, horizon - 1.0)
    rows = split_windows(entry, np.full(n, horizon), np.zeros(n, dtype=bool), inf_i, inf_t, edges=windows_days)
    hr = np.ones(len(windows_days) + 1)
    if planted is not None:
        hr[1:] = planted
    rate = base[rows.person] / 365.25 * hr[rows.window + 1]
    seg = rate * (rows.stop - rows.start)
    cum_end = np.cumsum(seg)
    first = np.r_[True, rows.person[1:] != rows.person[:-1]]
    offset = np.maximum.accumulate(np.where(first, cum_end - seg, 0.0))
    cum_end_p = cum_end - offset  # cumulative hazard at each row's stop, per person
    target = rng.exponential(1.0, n)
    hit = cum_end_p >= target[rows.person]
    t_lung = np.full(n, np.inf)
    hit_rows = np.flatnonzero(hit)
    first_hit = hit_rows[np.r_[True, rows.person[hit_rows][1:] != rows.person[hit_rows][:-1]]] if hit_rows.size else hit_rows
    p_hit = rows.person[first_hit]
    before = cum_end_p[first_hit] - seg[first_hit]
    t_lung[p_hit] = rows.start[first_hit] + (target[p_hit] - before) / rate[first_hit]
    # deaths: other causes, breast cancer after lung metastasis, COVID-19 shortly after some infections
    t_other = rng.exponential(365.25 / 0.01, n)
    t_bc = t_lung + rng.exponential(2.0 * 365.25, n)
    cov_mask = inf_kind == "sars-cov-2"
    covid_death = cov_mask & (rng.random(inf_t.size) < 0.01)
    t_covid = np.full(n, np.inf)
    np.minimum.at(t_covid, inf_i[covid_death], inf_t[covid_death] + 10.0)
    t_death = np.minimum(np.minimum(t_other, t_bc), t_covid)
    died = t_death < horizon
    cause = np.where(t_death == t_bc, "breast_cancer", np.where(t_death == t_covid, "covid-19", "other"))
    end = np.where(died, t_death, horizon)
    # vaccinations and tocilizumab (a few), kept inside follow-up
    vax_i = np.flatnonzero(rng.random(n) < 0.5)
    vax_t = rng.uniform(DAY_2020 + 365.0, horizon, vax_i.size)
    sev = rng.random(inf_t.size)
    toci = cov_mask & (sev > 0.97)

    ev = {
        "person_id": [], "day": [], "kind": [], "severity": [], "il6_peak": [], "cause": [], "dose_mg": [],
    }

    def add(idx, day, kind, severity=None, il6=None, cause_=None, dose=None):  # noqa: ANN001, ANN202
        m = day < end[idx]
        k = int(m.sum())
        ev["person_id"].append(pid[idx][m])
        ev["day"].append(day[m])
        ev["kind"].append(np.full(k, kind, dtype=object) if isinstance(kind, str) else kind[m].astype(object))
        ev["severity"].append(np.full(k, np.nan) if severity is None else severity[m])
        ev["il6_peak"].append(np.full(k, np.nan) if il6 is None else il6[m])
        ev["cause"].append(np.full(k, "", dtype=object))
        ev["dose_mg"].append(np.full(k, np.nan) if dose is None else dose[m])

    add(inf_i, inf_t, inf_kind, sev, 10.0 + 400.0 * sev ** 2)
    add(inf_i[toci], inf_t[toci] + 2.0, "anti-il6", dose=np.full(int(toci.sum()), 560.0))
    add(vax_i, vax_t, "vaccination-sars-cov-2")
    lung = np.isfinite(t_lung) & (t_lung < end)
    add(np.flatnonzero(lung), t_lung[lung], "lung_metastasis")
    k = n
    ev["person_id"].append(pid)
    ev["day"].append(end)
    ev["kind"].append(np.where(died, "death", "end_of_follow_up").astype(object))
    ev["severity"].append(np.full(k, np.nan))
    ev["il6_peak"].append(np.full(k, np.nan))
    ev["cause"].append(np.where(died, cause, "").astype(object))
    ev["dose_mg"].append(np.full(k, np.nan))

    cols = {key: np.concatenate(v) for key, v in ev.items()}
    order = np.lexsort((cols["day"], cols["person_id"]))
    cols = {key: v[order] for key, v in cols.items()}
    (out / "persons").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({
        "person_id": pid, "age_at_start": age, "diagnosis_day": diag, "subtype": subtype.astype(object).tolist(),
        "t_stage": t_stage.astype(object).tolist(), "nodes": nodes.astype(object).tolist(), "dcc_burden": burden,
        "baseline_distant_hazard": base,
    }), out / "persons" / "part-00000.parquet")
    for arm in arms:
        d = out / "events" / f"arm={arm}"
        d.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({
            "person_id": cols["person_id"], "day": cols["day"].astype(float),
            "kind": pa.array(cols["kind"].tolist(), pa.string()), "severity": cols["severity"],
            "il6_peak": cols["il6_peak"], "cause": pa.array(cols["cause"].tolist(), pa.string()),
            "dose_mg": cols["dose_mg"],
        }), d / "part-00000.parquet")
    manifest = {
        "kind": "reawaken-cohort", "schema_version": 1, "start_date": START_DATE, "years": years, "seed": seed,
        "arms": list(arms), "n_persons": n, "config": {"generator": "tests/integration/registry_fixture.py"},
        "planted": None if planted is None else {"windows_days": list(windows_days), "hazard_ratios": list(planted)},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out
