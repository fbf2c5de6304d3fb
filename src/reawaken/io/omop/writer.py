"""Synthetic OMOP CDM v5.4 registries written from a virtual cohort (``reawaken cohort --out DIR``).

What goes in the CDM is what a registry would see: persons, observation periods, the breast-cancer
diagnosis with tumour characteristics, *recorded* infections (a seeded random share of the simulated
ones: under-ascertainment), IL-6 where tested, lung metastases, deaths with cause, vaccines and
tocilizumab. What the registry cannot see (every infection and whether it was recorded, each person's
mechanistic state, the planted effect) goes to side files next to the database, never into the CDM:

* ``<name>.truth.parquet``: every cohort event with ``recorded`` and the concept it was recorded under;
* ``<name>.truth-persons.parquet``: the cohort's person table (DCC burden, baseline hazard, ...);
* ``<name>.truth.json``: the cohort manifest (planted hazard ratios), arm, seed, ascertainment, counts.

Not written (documented in docs/registry.md): non-lung distant relapses and antivirals (no verified
concepts), visits, providers. The files appear together or not at all: each is written to a hidden
temporary file in the output directory and renamed into place at the end.
"""

from __future__ import annotations

import datetime as _dt
import glob
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import OutputError, SchemaError
from ...vocab import DAYS_PER_YEAR, SUBTYPE_RECEPTORS
from ..cohort_store import CohortStore
from ..outputs import _umask, dead_pid, make_parents, to_json
from .cdm import TABLES, CdmUrl, connect_postgres, create_table_sql, one_line, redact_url
from .concepts import ancestor_rows, concept_id, concepts

# Default share of infections that reach the registry. Chosen to be of the order reported for the
# pre-vaccine period (most SARS-CoV-2 infections confirmed by a test, few influenza infections); the
# point is a known, adjustable under-ascertainment, not a calibrated one.
DEFAULT_ASCERTAINMENT = {"sars-cov-2": 0.5, "influenza": 0.1}
_ALIASES = {"covid": "sars-cov-2", "covid-19": "sars-cov-2", "sars-cov-2": "sars-cov-2", "flu": "influenza",
            "influenza": "influenza"}
IL6_TESTED = 0.3  # share of recorded infections with an IL-6 measurement (peak value, day after diagnosis)
DESCENDANT_SHARE = {"sars-cov-2": 0.15, "influenza": 0.4}  # recorded under the child concept instead
INFECTIONS = ("sars-cov-2", "influenza")
_CAUSE_ROLE = {"breast_cancer": "breast_cancer", "covid-19": "covid19", "influenza": "influenza"}
_SUBTYPES = SUBTYPE_RECEPTORS
_T = {"T1": 1, "T2": 2}
_N = {"N0": 0, "N1-3": 1, "N4-9": 2}


def parse_ascertainment(text: str | Mapping[str, float] | None) -> dict[str, float]:
    """``"covid=0.5,influenza=0.1"`` (or a mapping) -> shares per virus, defaults for those not named."""
    out = dict(DEFAULT_ASCERTAINMENT)
    if text is None:
        return out
    items = text.items() if isinstance(text, Mapping) else [
        tuple(part.split("=", 1)) if "=" in part else (part, "") for part in str(text).split(",") if part.strip()]
    for key, value in items:
        name = _ALIASES.get(str(key).strip().lower())
        if name is None:
            raise SchemaError(f"--ascertainment: unknown infection {key!r}; use covid=SHARE,influenza=SHARE")
        try:
            share = float(value)
        except ValueError:
            raise SchemaError(f"--ascertainment {key}={value!r}: the share must be a number in [0, 1]") from None
        if not 0.0 <= share <= 1.0:
            raise SchemaError(f"--ascertainment {key}={share}: the share must be in [0, 1]")
        out[name] = share
    return out


def _read_parquet_dir(path: Path, what: str) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    parts = sorted(path.glob("part-*.parquet"))
    if not parts:
        raise SchemaError(f"cohort: no {what} parts (part-NNNNN.parquet) in {path}")
    import pyarrow as pa

    tables = []
    for p in parts:
        try:
            tables.append(pq.read_table(p))
        except (pa.ArrowException, OSError) as exc:
            raise SchemaError(f"cohort: {p} cannot be read ({one_line(exc, 120)}); rerun `reawaken cohort` "
                              "into this folder to recompute it") from None
    try:
        table = pa.concat_tables(tables)
    except pa.ArrowException as exc:
        raise SchemaError(f"cohort: the {what} parts in {path} do not share one schema ({one_line(exc, 120)})") from None
    return {n: table.column(n).to_numpy(zero_copy_only=False) for n in table.column_names}


def _need(cols: Mapping[str, np.ndarray], names: tuple[str, ...], what: str) -> None:
    missing = [n for n in names if n not in cols]
    if missing:
        raise SchemaError(f"cohort {what}: missing column {', '.join(missing)}")


def _clean_dead_temps(parent: Path, name: str) -> None:
    """Remove ``.NAME.PID-*.tmp`` (and DuckDB ``.wal``) files left by a registry run whose process is gone."""
    for tmp in parent.glob(f".{glob.escape(name)}.*-*.tmp*"):
        if dead_pid(tmp.name[len(name) + 2:].split("-", 1)[0]) is not None:
            tmp.unlink(missing_ok=True)


def read_cohort(cohort_dir: str | os.PathLike[str], arm: str | None = None) -> tuple[dict, dict, dict, str]:
    """The cohort's manifest, person columns and the chosen arm's event columns (sorted by person, day)."""
    root = Path(cohort_dir)
    mpath = root / "manifest.json"
    if not mpath.is_file():
        raise SchemaError(f"--cohort {root}: no manifest.json (write one with `reawaken cohort --out {root}`)")
    try:
        manifest = json.loads(mpath.read_bytes())
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, or nested beyond reason
        raise SchemaError(f"--cohort {root}: manifest.json is damaged ({one_line(exc, 120)}); "
                          "rerun `reawaken cohort` into a new folder") from None
    if not isinstance(manifest, dict):
        raise SchemaError(f"--cohort {root}: manifest.json is not a JSON object; rerun `reawaken cohort`")
    if manifest.get("kind") != "reawaken-cohort" or manifest.get("schema_version") != 1:
        raise SchemaError(f"--cohort {root}: manifest kind {manifest.get('kind')!r} schema "
                          f"{manifest.get('schema_version')!r}; need a reawaken-cohort, schema_version 1")
    arms = list(manifest.get("arms") or [])
    if arm is None:
        arm = "baseline" if "baseline" in arms or not arms else arms[0]
    if arms and arm not in arms:
        raise SchemaError(f"--arm {arm!r} is not an arm of this cohort; arms: {', '.join(arms)}")
    CohortStore(root).check_complete()  # every chunk present and intact (checksums in its marker)
    persons = _read_parquet_dir(root / "persons", "persons")
    _need(persons, ("person_id", "age_at_start", "diagnosis_day", "subtype", "t_stage", "nodes"), "persons")
    events = _read_parquet_dir(root / "events" / f"arm={arm}", f"events of arm {arm!r}")
    _need(events, ("person_id", "day", "kind", "severity", "il6_peak", "cause", "dose_mg"), "events")
    order = np.lexsort((events["kind"].astype(str), events["day"], events["person_id"]))
    events = {k: np.asarray(v)[order] for k, v in events.items()}
    return manifest, persons, events, arm


def _arrow_type(sql_type: str) -> Any:
    import pyarrow as pa

    t = sql_type.upper()
    if t == "BIGINT":
        return pa.int64()
    if t == "INTEGER":
        return pa.int32()
    if t == "DATE":
        return pa.date32()
    if t == "TIMESTAMP":
        return pa.timestamp("us")
    if t.startswith("DOUBLE") or t == "NUMERIC":  # the DDL's NUMERIC: the database casts on insert
        return pa.float64()
    return pa.string()


def arrow_table(table: str, columns: Mapping[str, Any]) -> Any:
    """An Arrow table with exactly the v5.4 columns of ``table``; columns not given are all null."""
    import pyarrow as pa

    n = len(next(iter(columns.values())))
    unknown = set(columns) - {c for c, _, _ in TABLES[table]}
    if unknown:
        raise ValueError(f"{table}: not OMOP v5.4 columns: {sorted(unknown)}")
    arrays = []
    for name, typ, _ in TABLES[table]:
        at = _arrow_type(typ)
        if name in columns:
            value = columns[name]
            arrays.append(pa.array(value.tolist() if at == pa.string() else value, type=at))
        else:
            arrays.append(pa.nulls(n, type=at))
    return pa.Table.from_arrays(arrays, names=[c for c, _, _ in TABLES[table]])


def _dates(start: np.datetime64, days: np.ndarray) -> np.ndarray:
    """Calendar dates of simulation days (days since ``start``; floor: day 3.7 is the 4th day)."""
    return start + np.floor(np.asarray(days, dtype=float)).astype("timedelta64[D]")


def _vocabulary_tables() -> dict[str, Any]:
    table = concepts()
    cs = [c for c in table.values() if c.in_registry]  # standard concepts only studies name stay out
    vocab_ids = sorted({c.vocabulary_id for c in cs})
    anc = np.array(ancestor_rows(), dtype=np.int64).reshape(-1, 4)
    return {
        "concept": arrow_table("concept", {
            "concept_id": np.array([c.concept_id for c in cs], dtype=np.int32),
            "concept_name": np.array([c.concept_name for c in cs], dtype=object),
            "domain_id": np.array([c.domain_id for c in cs], dtype=object),
            "vocabulary_id": np.array([c.vocabulary_id for c in cs], dtype=object),
            "concept_class_id": np.array([c.concept_class_id for c in cs], dtype=object),
            "standard_concept": np.array(["S" if c.certainty != "local" else "" for c in cs], dtype=object),
            "concept_code": np.array([c.concept_code for c in cs], dtype=object),
            "valid_start_date": np.full(len(cs), np.datetime64("1970-01-01")),
            "valid_end_date": np.full(len(cs), np.datetime64("2099-12-31")),
        }),
        "concept_ancestor": arrow_table("concept_ancestor", {
            "ancestor_concept_id": anc[:, 0].astype(np.int32), "descendant_concept_id": anc[:, 1].astype(np.int32),
            "min_levels_of_separation": anc[:, 2].astype(np.int32),
            "max_levels_of_separation": anc[:, 3].astype(np.int32),
        }),
        "vocabulary": arrow_table("vocabulary", {
            "vocabulary_id": np.array(vocab_ids, dtype=object),
            "vocabulary_name": np.array([f"{v} (the concepts reawaken uses)" for v in vocab_ids], dtype=object),
            "vocabulary_concept_id": np.zeros(len(vocab_ids), dtype=np.int32),
        }),
    }


def build_cdm(manifest: Mapping[str, Any], persons: Mapping[str, np.ndarray], events: Mapping[str, np.ndarray],
              *, seed: int, ascertainment: Mapping[str, float]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The CDM tables (Arrow) and the truth table (NumPy columns) of one cohort arm."""
    start = np.datetime64(str(manifest["start_date"]), "D")
    rng = {name: np.random.default_rng(np.random.SeedSequence([int(seed), k]))
           for k, name in enumerate(("record", "child", "il6"))}
    ehr = concept_id("ehr")
    pid = np.asarray(persons["person_id"], dtype=np.int64)
    n = pid.size
    order = np.argsort(pid, kind="stable")
    pid = pid[order]
    P = {k: np.asarray(v)[order] for k, v in persons.items()}
    birth = start - np.round(np.asarray(P["age_at_start"], dtype=float) * DAYS_PER_YEAR).astype("timedelta64[D]")
    birth_month = birth.astype("datetime64[M]")
    diag = _dates(start, P["diagnosis_day"])

    ev_pid = np.asarray(events["person_id"], dtype=np.int64)
    kind = np.asarray(events["kind"]).astype(str)
    day = np.asarray(events["day"], dtype=float)
    terminal = np.isin(kind, ("death", "end_of_follow_up"))
    t_pid, t_idx = np.unique(ev_pid[terminal], return_index=True)
    if t_pid.size != n or not np.array_equal(t_pid, pid):
        missing = np.setdiff1d(pid, t_pid)
        raise SchemaError(f"cohort events: every person needs one terminal event (death or end_of_follow_up); "
                          f"{missing.size} persons have none (e.g. person {missing[:1].tolist()})")
    end_day = day[terminal][t_idx]
    pos = np.searchsorted(pid, ev_pid)
    if np.any(pos >= n) or np.any(pid[np.clip(pos, 0, n - 1)] != ev_pid):
        raise SchemaError("cohort events name persons that are not in the person table")
    inside = day <= end_day[pos] + 1e-9
    obs_start = np.minimum(diag, start)
    obs_end = _dates(start, end_day)

    # --- infections: recorded with probability = ascertainment share, independently per infection ---
    infection = np.isin(kind, INFECTIONS) & inside
    share = np.zeros(kind.size)
    for name in INFECTIONS:
        share[kind == name] = ascertainment[name]
    recorded = infection & (rng["record"].random(kind.size) < share)
    child = rng["child"].random(kind.size)
    cond_concept = np.zeros(kind.size, dtype=np.int64)
    cov, flu = kind == "sars-cov-2", kind == "influenza"
    cond_concept[cov] = np.where(child[cov] < DESCENDANT_SHARE["sars-cov-2"], concept_id("covid19_pneumonia"),
                                 concept_id("covid19"))
    cond_concept[flu] = np.where(child[flu] < DESCENDANT_SHARE["influenza"], concept_id("influenza_a"),
                                 concept_id("influenza"))
    lung = (kind == "lung_metastasis") & inside
    cond_concept[lung] = concept_id("lung_metastasis")
    written = recorded | lung
    rec_concept = np.where(written, cond_concept, 0)

    co_pid = np.concatenate([pid, ev_pid[written]])
    co_date = np.concatenate([diag, _dates(start, day[written])])
    co_concept = np.concatenate([np.full(n, concept_id("breast_cancer")), cond_concept[written]])
    co_source = np.concatenate([np.full(n, "C50.9", dtype=object),
                                np.select([kind[written] == "sars-cov-2", kind[written] == "influenza"],
                                          ["U07.1", "J11.1"], "C78.00").astype(object)])
    co_order = np.lexsort((co_date, co_pid))
    condition = arrow_table("condition_occurrence", {
        "condition_occurrence_id": np.arange(1, co_pid.size + 1, dtype=np.int64),
        "person_id": co_pid[co_order], "condition_concept_id": co_concept[co_order].astype(np.int32),
        "condition_start_date": co_date[co_order], "condition_end_date": co_date[co_order],
        "condition_type_concept_id": np.full(co_pid.size, ehr, dtype=np.int32),
        "condition_source_value": co_source[co_order],
    })

    # --- measurements: tumour characteristics at diagnosis; IL-6 for a share of recorded infections ---
    hr_her2 = np.array([_SUBTYPES.get(s, (-1, -1)) for s in P["subtype"].astype(str)], dtype=float)
    t_val = np.array([_T.get(s, -1) for s in P["t_stage"].astype(str)], dtype=float)
    n_val = np.array([_N.get(s, -1) for s in P["nodes"].astype(str)], dtype=float)
    if (hr_her2 < 0).any() or (t_val < 0).any() or (n_val < 0).any():
        raise SchemaError(f"cohort persons: subtype/t_stage/nodes must be in {sorted(_SUBTYPES)}, {sorted(_T)}, "
                          f"{sorted(_N)}")
    il6 = recorded & np.isfinite(np.asarray(events["il6_peak"], dtype=float)) & (rng["il6"].random(kind.size) < IL6_TESTED)
    m_pid = np.concatenate([np.tile(pid, 4), ev_pid[il6]])
    m_concept = np.concatenate([np.repeat([concept_id("t_stage"), concept_id("nodes_category"),
                                           concept_id("her2_positive"), concept_id("hr_positive")], n),
                                np.full(int(il6.sum()), concept_id("il6"))])
    m_date = np.concatenate([np.tile(diag, 4), _dates(start, day[il6] + 1.0)])
    m_value = np.concatenate([t_val, n_val, hr_her2[:, 1], hr_her2[:, 0],
                              np.asarray(events["il6_peak"], dtype=float)[il6]])
    m_unit = np.concatenate([np.zeros(4 * n, dtype=np.int32), np.full(int(il6.sum()), concept_id("pg_per_ml"))])
    m_order = np.lexsort((m_concept, m_date, m_pid))
    measurement = arrow_table("measurement", {
        "measurement_id": np.arange(1, m_pid.size + 1, dtype=np.int64), "person_id": m_pid[m_order],
        "measurement_concept_id": m_concept[m_order].astype(np.int32), "measurement_date": m_date[m_order],
        "measurement_type_concept_id": np.full(m_pid.size, ehr, dtype=np.int32),
        "value_as_number": m_value[m_order], "unit_concept_id": m_unit[m_order].astype(np.int32),
    })

    # --- drugs: vaccines and tocilizumab (antivirals are not written: no verified concept) ---
    drug_role = {"vaccination-influenza": "vaccine_influenza", "vaccination-sars-cov-2": "vaccine_covid19",
                 "anti-il6": "tocilizumab"}
    is_drug = np.isin(kind, list(drug_role)) & inside
    d_kind = kind[is_drug]
    d_date = _dates(start, day[is_drug])
    dose = np.asarray(events["dose_mg"], dtype=float)[is_drug]
    drug = arrow_table("drug_exposure", {
        "drug_exposure_id": np.arange(1, int(is_drug.sum()) + 1, dtype=np.int64), "person_id": ev_pid[is_drug],
        "drug_concept_id": _lookup(d_kind, {k: concept_id(r) for k, r in drug_role.items()}, 0, np.int32),
        "drug_exposure_start_date": d_date, "drug_exposure_end_date": d_date,
        "drug_type_concept_id": np.full(d_kind.size, ehr, dtype=np.int32),
        "quantity": np.where(d_kind == "anti-il6", dose, 1.0),
        "dose_unit_source_value": _lookup(d_kind, {"anti-il6": "mg"}, "", object),
        "drug_source_value": d_kind.astype(object),
    })

    # --- deaths with cause ---
    dead = kind == "death"
    causes = np.asarray(events["cause"]).astype(str)[dead]
    death = arrow_table("death", {
        "person_id": ev_pid[dead], "death_date": _dates(start, day[dead]),
        "death_type_concept_id": np.full(int(dead.sum()), ehr, dtype=np.int32),
        "cause_concept_id": _lookup(causes, {c: concept_id(r) for c, r in _CAUSE_ROLE.items()}, 0, np.int32),
        "cause_source_value": causes.astype(object),
    })

    tables = {
        "person": arrow_table("person", {
            "person_id": pid, "gender_concept_id": np.full(n, concept_id("female"), dtype=np.int32),
            "year_of_birth": (birth.astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.int32),
            "month_of_birth": (birth_month.astype(np.int64) % 12 + 1).astype(np.int32),
            "day_of_birth": ((birth - birth_month.astype("datetime64[D]")).astype(np.int64) + 1).astype(np.int32),
            "race_concept_id": np.zeros(n, dtype=np.int32), "ethnicity_concept_id": np.zeros(n, dtype=np.int32),
            "person_source_value": pid.astype(str).astype(object), "gender_source_value": np.full(n, "F", dtype=object),
        }),
        "observation_period": arrow_table("observation_period", {
            "observation_period_id": np.arange(1, n + 1, dtype=np.int64), "person_id": pid,
            "observation_period_start_date": obs_start, "observation_period_end_date": obs_end,
            "period_type_concept_id": np.full(n, ehr, dtype=np.int32),
        }),
        "condition_occurrence": condition, "measurement": measurement, "drug_exposure": drug, "death": death,
        **_vocabulary_tables(),
        "cdm_source": arrow_table("cdm_source", {
            "cdm_source_name": np.array(["reawaken synthetic registry"], dtype=object),
            "cdm_source_abbreviation": np.array(["reawaken"], dtype=object),
            "cdm_holder": np.array(["reawaken (synthetic data, no real persons)"], dtype=object),
            "source_description": np.array([f"virtual cohort, seed {manifest.get('seed')}, "
                                            f"planted {json.dumps(manifest.get('planted'))}"], dtype=object),
            "source_release_date": np.array([np.datetime64(_dt.date.today())]),
            "cdm_release_date": np.array([np.datetime64(_dt.date.today())]),
            "cdm_version": np.array(["v5.4"], dtype=object),
            "cdm_version_concept_id": np.array([concept_id("cdm_v54")], dtype=np.int32),
            "vocabulary_version": np.array(["reawaken-1"], dtype=object),
        }),
    }
    truth = {
        "person_id": ev_pid, "day": day, "kind": kind.astype(object),
        "date": _dates(start, day).astype(str).astype(object),
        "severity": np.asarray(events["severity"], dtype=float), "il6_peak": np.asarray(events["il6_peak"], dtype=float),
        "cause": np.asarray(events["cause"]).astype(str).astype(object),
        "dose_mg": np.asarray(events["dose_mg"], dtype=float),
        "recorded": written | (is_drug | dead),
        "recorded_concept_id": np.where(written, rec_concept, 0).astype(np.int64),
        "il6_measured": il6,
    }
    return tables, truth


def _lookup(values: np.ndarray, mapping: Mapping[Any, Any], default: Any, dtype: Any) -> np.ndarray:
    """``mapping[v]`` (or ``default``) for every element, computed once per distinct value."""
    uniq, inverse = np.unique(np.asarray(values), return_inverse=True)
    return np.array([mapping.get(u, default) for u in uniq.tolist()], dtype=dtype)[inverse.ravel()]


def _write_duckdb(path: Path, tables: Mapping[str, Any]) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        for name, tbl in tables.items():
            con.execute(create_table_sql(name))
            con.register("_incoming", tbl)
            con.execute(f"INSERT INTO {name} SELECT * FROM _incoming")  # noqa: S608 -- name from TABLES
            con.unregister("_incoming")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _write_parquet(path: Path, columns: Mapping[str, np.ndarray]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {k: pa.array(v.tolist() if v.dtype == object else v) for k, v in columns.items()}
    pq.write_table(pa.table(arrays), path, compression="zstd")


def write_registry(
    cohort_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    arm: str | None = None,
    seed: int = 0,
    ascertainment: str | Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Write an OMOP CDM v5.4 DuckDB file (or a PostgreSQL database) from a cohort arm, plus truth files.

    ``out`` is a file path (``registry.duckdb``) or ``postgresql://...`` (the CDM is built in DuckDB and
    copied; the truth files then go to the current directory as ``registry.truth.*``, and existing ones
    there are refused, not replaced). Returns a summary; ``files`` holds absolute paths, and a URL in it
    is shown with its password redacted.
    """
    shares = parse_ascertainment(ascertainment)
    url = CdmUrl.parse(out, "--out")  # refuses unknown schemes and malformed URLs (redacted)
    to_postgres = url.backend == "postgresql"
    target = Path("registry.duckdb") if to_postgres else Path(url.target)
    parent = target.resolve().parent
    if not to_postgres and target.is_dir():
        raise OutputError(f"--out {target} is a directory; give a file name such as registry.duckdb")
    make_parents(target)  # as mkdir -p, like every --out
    if not to_postgres and target.is_dir():
        raise OutputError(f"--out {target} is a directory; give a file name such as registry.duckdb")
    stem = target.name[: -len(target.suffix)] if target.suffix else target.name
    paths = {"db": target, "truth": parent / f"{stem}.truth.parquet",
             "persons": parent / f"{stem}.truth-persons.parquet", "json": parent / f"{stem}.truth.json"}
    if to_postgres:
        # The truth cannot go into the database; it goes to the working folder, never over older files.
        taken = [p.name for key, p in paths.items() if key != "db" and (p.exists() or p.is_symlink())]
        if taken:
            raise OutputError(f"--out {redact_url(out)}: the truth files go to the working folder {parent}, where "
                              f"{', '.join(taken)} already exist; move them away or run from another folder")
        connect_postgres(url, what="--out", error=OutputError).close()  # fail before the work, not after it
    manifest, persons, events, arm = read_cohort(cohort_dir, arm)
    tables, truth = build_cdm(manifest, persons, events, seed=seed, ascertainment=shares)
    kinds = truth["kind"].astype(str)
    summary = {
        "kind": "reawaken-registry-truth", "schema_version": 1, "cohort": str(Path(cohort_dir).resolve()),
        "arm": arm, "seed": seed, "ascertainment": shares, "planted": manifest.get("planted"),
        "start_date": manifest["start_date"], "n_persons": int(np.unique(persons["person_id"]).size),
        "cdm": redact_url(out), "cdm_version": "v5.4",
        "infections": {k: {"simulated": int((kinds == k).sum()),
                           "recorded": int(((kinds == k) & truth["recorded"]).sum())} for k in INFECTIONS},
        "lung_metastases": int((kinds == "lung_metastasis").sum()),
        "deaths": int((kinds == "death").sum()),
        "rows": {name: int(t.num_rows) for name, t in tables.items()},
        "cohort_manifest": manifest,
    }
    staged: dict[str, Path] = {}
    for key in paths:  # half-written files of killed runs (their pid is in the name) are removed first
        _clean_dead_temps(parent, paths[key].name)
    try:
        for key in paths:
            fd, tmp = tempfile.mkstemp(prefix=f".{paths[key].name}.{os.getpid()}-", suffix=".tmp", dir=parent)
            os.close(fd)
            staged[key] = Path(tmp)
        staged["db"].unlink()  # DuckDB creates its own file
        _write_duckdb(staged["db"], tables)
        _write_parquet(staged["truth"], truth)
        _write_parquet(staged["persons"], {k: np.asarray(v) for k, v in persons.items()})
        staged["json"].write_text(to_json(summary) + "\n")
        if to_postgres:
            from .postgres import copy_cdm

            copy_cdm(staged["db"], str(out))
            staged.pop("db").unlink()
            paths.pop("db")
        mode = 0o666 & ~_umask()  # mkstemp's 0600 would hide the registry from a co-worker in the group
        for key, tmp in staged.items():
            os.chmod(tmp, mode)
            os.replace(tmp, paths[key])
    finally:
        for tmp in staged.values():
            if tmp.exists():
                tmp.unlink()
            wal = tmp.with_name(tmp.name + ".wal")
            if wal.exists():
                wal.unlink()
    # The CDM first (its file, or the redacted URL), then the truth files (absolute paths).
    summary["files"] = [redact_url(out)] * to_postgres + [str(p) for p in paths.values()]
    return summary
