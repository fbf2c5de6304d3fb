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

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import OutputError
from ..vocab import NODES, SUBTYPES, T_STAGES
from .outputs import _sha256, _umask, make_parents, to_json

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



def write_json_atomic(path: Path, obj: Any) -> None:
    _atomic(path, lambda p: p.write_text(to_json(obj) + "\n", encoding="utf-8"))


def _category(codes: np.ndarray, names: Iterable[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int32)), pa.array(list(names)))


class CohortStore:
    """The directory of one cohort run."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    # --- the run's identity -------------------------------------------------------------------------
    def _prepare(self) -> None:
        """The folder exists and may hold this store: create it (and missing parents), or accept an empty
        folder or one holding a cohort run; refuse anything else before touching it."""
        if self.path.exists():
            if not self.path.is_dir():
                raise OutputError(f"--out {self.path} exists and is not a directory; choose a directory path")
            others = [p.name for p in self.path.iterdir() if p.name != ".lock"]
            if others and not (self.path / "run.json").is_file():
                raise OutputError(f"--out {self.path} is not empty and holds no cohort run; choose a new directory")
            return
        try:
            make_parents(self.path)
            self.path.mkdir()
        except OutputError:
            raise
        except OSError as exc:
            raise OutputError(f"cannot write to {self.path}: {exc.strerror}") from None

    def open(self, run: Mapping[str, Any]) -> bool:
        """Recognise the folder as ``run`` for a resume (True), or record ``run`` in a new one (False). Call it
        while holding :meth:`lock`."""
        record = self.path / "run.json"
        if record.is_file():
            old = self._read_json(record)
            if old != json.loads(to_json(run)):
                diff = sorted(k for k in set(old) | set(run) if old.get(k) != json.loads(to_json(run)).get(k))
                raise OutputError(f"--out {self.path} holds a different cohort run (differs in: {', '.join(diff)}); "
                                  "choose another --out, or repeat the original command to resume it")
            return True
        write_json_atomic(record, run)
        return False

    def _read_json(self, f: Path) -> Any:
        try:
            return json.loads(f.read_text(encoding="utf-8"))
        except (ValueError, RecursionError) as exc:
            raise OutputError(f"{f} is damaged ({str(exc)[:80]}); repeat the cohort command into a new folder") from None

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
            if f.stem.isdigit():
                out[int(f.stem)] = self._read_json(f)
        return out

    def _expected_parts(self, index: int, arms: list[str]) -> list[str]:
        """The parts a chunk must have: fixed by its index and the run's arms, never read from a marker."""
        name = f"part-{index:05d}.parquet"
        return [f"persons/{name}", *(f"events/arm={a}/{name}" for a in arms)]

    def _run_record(self) -> dict[str, Any]:
        return self._read_json(self.path / "run.json")

    def verified(self) -> tuple[dict[int, dict[str, Any]], list[str]]:
        """Completed chunks whose parts are intact, and a line per damaged chunk. A damaged chunk (a marker
        that cannot be read or has no checksums, a part missing, or one whose row count or checksum differs
        from its marker) loses its marker and its (fixed-name) parts, so the run computes it again. A part
        that cannot be read at all (permissions, I/O) stops the run instead: nothing is deleted then."""
        arms = list(self._run_record()["arms"])
        good, damaged = {}, []
        for f in sorted((self.path / "chunks").glob("*.json")):
            index = int(f.stem) if f.stem.isdigit() else None
            if index is None:
                continue  # not ours
            try:
                marker = json.loads(f.read_text(encoding="utf-8"))
                problem = self.check_chunk(index, marker, arms)
            except (ValueError, KeyError, TypeError, AttributeError):
                problem = "its marker is damaged"
            if problem is None:
                good[index] = marker
                continue
            damaged.append(f"chunk {index}: {problem}")
            f.unlink(missing_ok=True)
            for rel in self._expected_parts(index, arms):
                (self.path / rel).unlink(missing_ok=True)
        return good, damaged

    def check_chunk(self, index: int, marker: Mapping[str, Any], arms: list[str]) -> str | None:
        """None when every part the chunk must have is present with the row count and SHA-256 its marker
        recorded; else what is wrong. Raises OutputError when a part cannot be read at all."""
        files = marker.get("files") if isinstance(marker, Mapping) else None
        if not isinstance(files, Mapping):
            return "its marker has no checksums (written by an older version)"
        for rel in self._expected_parts(index, arms):
            f, want = self.path / rel, files.get(rel)
            if want is None:
                return f"its marker does not list {rel}"
            if not f.is_file():
                return f"{rel} is missing"
            try:
                rows = pq.read_metadata(f).num_rows
            except pa.ArrowInvalid:
                return f"{rel} is not readable Parquet"
            except OSError as exc:
                raise OutputError(f"cannot read {f}: {exc.strerror or exc}") from None
            if rows != int(want["rows"]):
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
        run = self._run_record()
        try:
            n, size, arms = int(run["n_persons"]), int(run["chunk_size"]), list(run["arms"])
        except (KeyError, TypeError, ValueError):
            raise OutputError(f"{record} is damaged; repeat the cohort command into a new folder") from None
        expected = -(-n // size)
        for index in range(expected):
            f = self.path / "chunks" / f"{index:05d}.json"
            if not f.is_file() or not (self.path / "summary.json").is_file():
                done = sum((self.path / "chunks" / f"{k:05d}.json").is_file() for k in range(expected))
                raise OutputError(f"cohort {self.path} is unfinished ({done} of {expected} chunks); repeat its "
                                  "`reawaken cohort` command to finish it")
            try:
                problem = self.check_chunk(index, json.loads(f.read_text(encoding="utf-8")), arms)
            except (ValueError, KeyError, TypeError, AttributeError):
                problem = "its marker is damaged"
            if problem is None and int(json.loads(f.read_text(encoding="utf-8")).get("count", -1)) != min(
                    size, n - index * size):
                problem = "its marker counts the wrong number of people"
            if problem is not None:
                raise OutputError(f"cohort {self.path} is damaged: chunk {index}: {problem}; repeat its "
                                  "`reawaken cohort` command to recompute the chunk")

    # --- one writer at a time ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive ``flock`` on ``DIR/.lock`` for the whole run (the kernel releases it when the
        process ends, however it ends); a second writer is refused, naming the holder written in the file.
        Creates the folder first (see ``_prepare``); removes half-written files of killed runs once held."""
        import fcntl
        import socket

        self._prepare()
        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise OutputError(f"{holder} is writing {self.path}; wait for it to finish or choose another --out") from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
            for tmp in self.path.rglob(".*.tmp"):  # half-written files of a killed run
                tmp.unlink(missing_ok=True)
            yield
        finally:
            os.close(fd)  # releases the lock; the file stays (unlinking it would race a waiting writer)

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
    make_parents(dst)
    stage = Path(tempfile.mkdtemp(prefix=f".{dst.name}.staging-{os.getpid()}-", dir=dst.resolve().parent))
    try:
        shutil.copytree(src, stage, dirs_exist_ok=True)
        os.replace(stage, dst)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return dst
