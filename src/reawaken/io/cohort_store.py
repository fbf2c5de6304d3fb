"""A cohort run on disk: partitioned Parquet written chunk by chunk, resumable after an interruption.

Layout of ``DIR``::

    run.json                          what this run is (config hash, seed, size, arms, chunking)
    tables.npz                        the episode tables, so a resumed run does not solve them again
    persons/part-NNNNN.parquet        one row per person (shared by all arms)
    events/arm=NAME/part-NNNNN.parquet  infections, vaccinations, treatments, relapses, deaths, exits
    chunks/NNNNN.json                 a chunk's counts; written last, so it marks the chunk as complete
    manifest.json, summary.json, *.png  written when every chunk is complete

Every file is written to a temporary name and renamed into place, so an interrupted run leaves only
complete files; a chunk without its marker is simply redone. Starting the same run again finishes
the missing chunks; a different run in the same directory is refused.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import OutputError
from ..vocab import NODES, SUBTYPES, T_STAGES
from .outputs import _alive, _umask, make_parents, to_json

SCHEMA_VERSION = 1
PERSON_CATEGORIES = {"subtype": SUBTYPES, "t_stage": T_STAGES, "nodes": NODES}


def _atomic(path: Path, write: Any) -> str:
    """Write ``path`` through a temporary file renamed into place (with the user's umask, not mkstemp's 0600);
    returns the SHA-256 of what was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        digest = _sha256(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest



def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_json_atomic(path: Path, obj: Any) -> None:
    _atomic(path, lambda p: p.write_text(to_json(obj) + "\n", encoding="utf-8"))


def _category(codes: np.ndarray, names: Iterable[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int32)), pa.array(list(names)))


class CohortStore:
    """The directory of one cohort run."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    # --- the run's identity -------------------------------------------------------------------------
    def open(self, run: Mapping[str, Any]) -> bool:
        """Create the directory for ``run``, or recognise it for a resume. Returns True when resuming."""
        record = self.path / "run.json"
        if self.path.exists():
            if not self.path.is_dir():
                raise OutputError(f"--out {self.path} exists and is not a directory; choose a directory path")
            if record.is_file():
                old = json.loads(record.read_text(encoding="utf-8"))
                if old != json.loads(to_json(run)):
                    diff = sorted(k for k in set(old) | set(run) if old.get(k) != json.loads(to_json(run)).get(k))
                    raise OutputError(f"--out {self.path} holds a different cohort run (differs in: {', '.join(diff)}); "
                                      "choose another --out, or repeat the original command to resume it")
                return True
            if any(self.path.iterdir()):
                raise OutputError(f"--out {self.path} is not empty and holds no cohort run; choose a new directory")
        else:
            try:
                make_parents(self.path)
                self.path.mkdir()
            except OSError as exc:
                if isinstance(exc, OutputError):
                    raise
                raise OutputError(f"cannot write to {self.path}: {exc.strerror}") from None
        write_json_atomic(record, run)
        return False

    def load_tables(self) -> dict[str, np.ndarray] | None:
        f = self.path / "tables.npz"
        if not f.is_file():
            return None
        with np.load(f) as z:
            return {k: z[k] for k in z.files}

    def save_tables(self, arrays: Mapping[str, np.ndarray]) -> None:
        def write(p: Path) -> None:
            with open(p, "wb") as fh:
                np.savez(fh, **arrays)

        _atomic(self.path / "tables.npz", write)

    # --- chunks -----------------------------------------------------------------------------------------
    def done(self) -> dict[int, dict[str, Any]]:
        """Completed chunks: index -> marker (counts and monthly series per arm)."""
        out = {}
        for f in sorted((self.path / "chunks").glob("*.json")):
            out[int(f.stem)] = json.loads(f.read_text(encoding="utf-8"))
        return out

    def verified(self) -> tuple[dict[int, dict[str, Any]], list[str]]:
        """Completed chunks whose files are intact, and a line per damaged chunk. A damaged chunk (a part
        missing, truncated or changed since its marker was written) loses its marker and files, so a resumed
        run computes it again."""
        good, damaged = {}, []
        for index, marker in self.done().items():
            problem = self.check_chunk(index, marker)
            if problem is None:
                good[index] = marker
                continue
            damaged.append(f"chunk {index}: {problem}")
            (self.path / "chunks" / f"{index:05d}.json").unlink(missing_ok=True)
            for rel in marker.get("files", {}):
                (self.path / rel).unlink(missing_ok=True)
        return good, damaged

    def check_chunk(self, index: int, marker: Mapping[str, Any]) -> str | None:
        """None when every file the marker lists exists with its row count and checksum; else what is wrong.
        Markers written before checksums existed (no ``files``) cannot be checked and pass."""
        for rel, want in marker.get("files", {}).items():
            f = self.path / rel
            if not f.is_file():
                return f"{rel} is missing"
            try:
                rows = pq.read_metadata(f).num_rows
            except (OSError, pa.ArrowException):
                return f"{rel} is not readable Parquet"
            if rows != want["rows"]:
                return f"{rel} has {rows} rows, its marker says {want['rows']}"
            if _sha256(f) != want["sha256"]:
                return f"{rel} changed since it was written (checksum differs)"
        return None

    def check_complete(self) -> None:
        """Refuse a cohort run that is unfinished or damaged (before a registry is written from it). A folder of
        person and event tables made by other means (no run.json, no chunk markers) has nothing to check."""
        record = self.path / "run.json"
        if not record.is_file():
            if (self.path / "chunks").is_dir():
                raise OutputError(f"cohort {self.path} has chunk markers but no run.json: it is damaged; rerun "
                                  "`reawaken cohort` into a new folder")
            return
        run = json.loads(record.read_text(encoding="utf-8"))
        n, size = int(run["n_persons"]), int(run["chunk_size"])
        expected = -(-n // size)
        markers = self.done()
        missing = sorted(set(range(expected)) - set(markers))
        if missing or not (self.path / "summary.json").is_file():
            raise OutputError(f"cohort {self.path} is unfinished ({expected - len(missing)} of {expected} chunks); "
                              "repeat its `reawaken cohort` command to finish it")
        for index, marker in sorted(markers.items()):
            if (problem := self.check_chunk(index, marker)) is not None:
                raise OutputError(f"cohort {self.path} is damaged: chunk {index}: {problem}; repeat its "
                                  "`reawaken cohort` command to recompute the chunk")

    # --- one writer at a time ------------------------------------------------------------------------------
    def lock(self) -> Any:
        """A context holding ``DIR/.lock`` (with this process's pid) while a run writes the folder. A lock
        left by a dead process is taken over; a live one is refused with its pid."""
        import contextlib

        lock = self.path / ".lock"

        @contextlib.contextmanager
        def held() -> Any:
            for _ in range(2):
                try:
                    fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
                except FileExistsError:
                    try:
                        pid = int(lock.read_text().strip() or 0)
                    except (OSError, ValueError):
                        pid = 0
                    if pid and _alive(pid):
                        raise OutputError(f"another run (pid {pid}) is writing {self.path}; wait for it to finish "
                                          f"or choose another --out") from None
                    lock.unlink(missing_ok=True)  # its owner is gone
                    continue
                with os.fdopen(fd, "w") as fh:
                    fh.write(f"{os.getpid()}\n")
                break
            else:  # pragma: no cover - lost two races in a row
                raise OutputError(f"could not lock {self.path}; try again")
            try:
                for tmp in self.path.rglob(".*.tmp"):  # half-written files of a killed run
                    tmp.unlink(missing_ok=True)
                yield
            finally:
                lock.unlink(missing_ok=True)

        return held()

    def write_chunk(self, index: int, persons: Mapping[str, np.ndarray], events: Mapping[str, Mapping[str, np.ndarray]],
                    marker: Mapping[str, Any], *, event_kinds: tuple[str, ...], causes: tuple[str, ...],
                    metadata: Mapping[str, str]) -> None:
        """Write a chunk's parts, then its marker (last: it marks the chunk complete) holding each part's row
        count and SHA-256, checked on resume and before a registry reads the cohort."""
        name = f"part-{index:05d}.parquet"
        files: dict[str, dict[str, Any]] = {}
        meta = {k.encode(): v.encode() for k, v in metadata.items()}
        cols = {}
        for key, values in persons.items():
            cols[key] = _category(values, PERSON_CATEGORIES[key]) if key in PERSON_CATEGORIES else pa.array(values)
        table = pa.table(cols).replace_schema_metadata(meta)
        files[f"persons/{name}"] = {"rows": table.num_rows,
                                    "sha256": _atomic(self.path / "persons" / name, lambda p: pq.write_table(table, p))}
        for arm, ev in events.items():
            t = pa.table({
                "person_id": pa.array(ev["person_id"]), "day": pa.array(ev["day"]),
                "kind": _category(ev["kind"], event_kinds), "severity": pa.array(ev["severity"]),
                "il6_peak": pa.array(ev["il6_peak"]), "cause": _category(ev["cause"], causes),
                "dose_mg": pa.array(ev["dose_mg"]),
            }).replace_schema_metadata(meta)
            rel = f"events/arm={arm}/{name}"
            files[rel] = {"rows": t.num_rows, "sha256": _atomic(self.path / rel, lambda p, t=t: pq.write_table(t, p))}
        write_json_atomic(self.path / "chunks" / f"{index:05d}.json", {**marker, "files": files})


def read_events(path: str | os.PathLike[str], arm: str) -> dict[str, np.ndarray]:
    """All events of one arm as NumPy columns (``kind`` and ``cause`` as strings)."""
    files = sorted((Path(path) / "events" / f"arm={arm}").glob("part-*.parquet"))
    if not files:
        raise OutputError(f"{path} has no events for arm {arm!r}")
    table = pa.concat_tables([pq.read_table(f) for f in files])
    return {c: table[c].to_numpy() if c not in ("kind", "cause") else
            np.asarray(table[c].cast(pa.string()).to_numpy(zero_copy_only=False)) for c in table.column_names}


def read_persons(path: str | os.PathLike[str], *, verify: bool = False) -> dict[str, np.ndarray]:
    """The person table; ``verify``: first refuse an unfinished or damaged cohort (see ``check_complete``)."""
    if verify:
        CohortStore(path).check_complete()
    files = sorted((Path(path) / "persons").glob("part-*.parquet"))
    if not files:
        raise OutputError(f"{path} has no person table; is it a cohort directory?")
    table = pa.concat_tables([pq.read_table(f) for f in files])
    return {c: np.asarray(table[c].cast(pa.string()).to_numpy(zero_copy_only=False))
            if c in PERSON_CATEGORIES else table[c].to_numpy() for c in table.column_names}


def query_store(path: str | os.PathLike[str], query: str) -> Any:
    """``query`` (SQL) in DuckDB over views ``persons`` and ``events`` (with an ``arm`` column) of a cohort
    store; DuckDB reads only the Parquet columns and row groups the query needs. Returns a DataFrame."""
    import duckdb

    root = Path(path)
    con = duckdb.connect()
    try:
        persons = str(root / "persons" / "part-*.parquet").replace("'", "''")
        events = str(root / "events" / "arm=*" / "part-*.parquet").replace("'", "''")
        con.execute(f"CREATE VIEW persons AS SELECT * FROM read_parquet('{persons}')")
        con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{events}', hive_partitioning = true)")
        return con.execute(query).df()
    except duckdb.Error as exc:
        raise OutputError(f"query on cohort {root} failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


def copy_store(src: Path, dst: Path) -> Path:
    """Copy a finished cohort store to a new directory ``dst`` (staged, then renamed into place)."""
    import shutil

    if dst.exists():
        raise OutputError(f"{dst} exists; save a cohort to a new directory")
    if not dst.resolve().parent.is_dir():
        raise OutputError(f"cannot write to {dst}: parent directory {dst.resolve().parent} does not exist")
    stage = Path(tempfile.mkdtemp(prefix=f".{dst.name}.staging-", dir=dst.resolve().parent))
    try:
        shutil.copytree(src, stage, dirs_exist_ok=True)
        os.replace(stage, dst)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return dst
