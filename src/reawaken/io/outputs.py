"""Atomic outputs: files are staged in a hidden directory and moved into place only when all are written.

A failed or interrupted run leaves the output directory as it was (design: "writes nothing partial").
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from ..errors import OutputError
from ..tables import SCHEMA_VERSION, TableSpec


class OutputDir:
    """A transaction on an output folder: files are written into a fresh staging folder beside ``path`` and
    published by renaming it into place, only when everything is written.

    An existing non-empty ``path`` is refused (an OutputError naming what it holds) unless ``overwrite``: then
    the old folder is swapped out and removed after the new one is in place. Files are never merged into a
    folder another command wrote. Staging folders carry the writer's pid; ones left by dead processes are
    removed by the next run into the same parent.

    >>> with OutputDir("out") as stage:            # doctest: +SKIP
    ...     write_json(stage.path / "a.json", {"x": 1})
    """

    def __init__(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        self.target = Path(path).resolve()  # `--out .` has no name: work with the absolute path
        self.overwrite = overwrite
        check_out_dir(self.target, overwrite=overwrite)
        self.path = Path()
        self.files: list[str] = []
        self._made: Path | None = None  # the first missing ancestor this run created (removed on failure)

    def __enter__(self) -> OutputDir:
        parent = self.target.resolve().parent
        try:
            self._made = make_parents(self.target)
            clean_stale_staging(parent, self.target.name)
            self.path = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.staging-{os.getpid()}-", dir=parent))
        except OutputError:
            raise
        except OSError as exc:
            raise OutputError(f"cannot write to {parent}: {exc.strerror}") from None
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                check_out_dir(self.target, overwrite=self.overwrite)  # nobody filled it while we worked
                os.chmod(self.path, 0o777 & ~_umask())  # mkdtemp made it 0700
                self.files = sorted(p.name for p in self.path.iterdir())
                _publish(self.path, self.target)
        finally:
            shutil.rmtree(self.path, ignore_errors=True)
            if exc_type is not None and self._made is not None:
                remove_empty_parents(self.target, self._made)  # nothing partial: not even the folders we made

    def checksums(self) -> dict[str, str]:
        return {p.name: _sha256(p) for p in sorted(self.path.iterdir()) if p.is_file()}


def check_out_dir(target: Path, *, overwrite: bool = False) -> None:
    """Refuse ``--out`` when it is a file, or a non-empty folder and ``overwrite`` is not given. With
    ``overwrite``, only a folder reawaken wrote (a ``manifest.json`` or ``run.json`` of ours) is replaced, never
    the working folder, one of its parents or the home folder, nor a cohort a live run is writing."""
    if target.exists() and not target.is_dir():
        raise OutputError(f"--out {target} exists and is not a directory; choose a directory path")
    if not target.is_dir():
        return
    items = sorted(p.name for p in target.iterdir())
    if not items:
        return
    shown = ", ".join(items[:4]) + (f", ... ({len(items)} items)" if len(items) > 4 else "")
    if not overwrite:
        raise OutputError(f"--out {target} is not empty ({shown}); choose a new folder, or pass --overwrite "
                          "to replace a folder reawaken wrote")
    real = target.resolve()
    if real == Path.home().resolve() or real == Path.cwd().resolve() or real in Path.cwd().resolve().parents:
        raise OutputError(f"--overwrite will not replace {target}: it is the working folder, one of its parents "
                          "or the home folder; choose a dedicated --out")
    if not _written_by_us(target):
        raise OutputError(f"--overwrite replaces only a folder reawaken wrote; {target} holds {shown} and no "
                          "reawaken manifest.json; choose another --out")
    if _lock_held(target / ".lock"):
        raise OutputError(f"--out {target} is a cohort a running process is writing; wait for it to finish")


def _written_by_us(folder: Path) -> bool:
    for name in ("manifest.json", "run.json"):
        f = folder / name
        try:
            data = json.loads(f.read_text(encoding="utf-8")) if f.is_file() else None
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and ("command" in data or data.get("kind") == "reawaken-cohort"):
            return True
    return False


def _lock_held(lock: Path) -> bool:
    """Whether a live process holds ``lock`` (an flock; released by the kernel when its owner dies)."""
    import fcntl

    if not lock.is_file():
        return False
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def remove_empty_parents(target: Path, top: Path) -> None:
    """Remove the folders from ``target``'s parent up to ``top`` that are empty (what a failed run made);
    stop at the first one that holds anything (another run may have published into it)."""
    d = target.resolve().parent
    top = top.resolve()
    while True:
        try:
            d.rmdir()
        except OSError:
            return
        if d == top or top not in d.parents:
            return
        d = d.parent


def _publish(stage: Path, target: Path) -> None:
    """Rename ``stage`` into place as ``target``; an existing ``target`` is moved aside first and removed only
    once the new one is in place (if that fails, the old one is put back and kept)."""
    if not target.exists():
        os.rename(stage, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
    try:
        os.rename(target, old / "previous")
    except OSError:
        old.rmdir()
        raise
    try:
        os.rename(stage, target)
    except BaseException:
        os.rename(old / "previous", target)  # put the old folder back, keep it
        old.rmdir()
        raise
    shutil.rmtree(old, ignore_errors=True)


def clean_stale_staging(parent: Path, name: str) -> None:
    """Remove ``.NAME.staging-PID-*`` folders whose process is gone (killed runs). A ``.NAME.old-PID-*`` left
    between the two renames of a publish is put back as ``NAME`` when ``NAME`` is missing, else removed."""
    for d in parent.glob(f".{glob.escape(name)}.*-*-*"):
        kind, _, rest = d.name[len(name) + 2:].partition("-")
        pid = dead_pid(rest.split("-", 1)[0])
        if kind not in ("staging", "old") or pid is None or not d.is_dir():
            continue
        previous = d / "previous"
        if kind == "old" and previous.is_dir() and not (parent / name).exists():
            os.rename(previous, parent / name)
        shutil.rmtree(d, ignore_errors=True)


def dead_pid(text: str) -> int | None:
    """The pid written in a temporary name when its process is gone; None if alive or not a pid."""
    if not text.isdigit() or len(text) > 9:
        return None
    pid = int(text)
    return None if _alive(pid) else pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _umask() -> int:
    """The process umask, read without changing it (setting it, even for a moment, races other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:  # pragma: no cover - not Linux
        pass
    mask = os.umask(0o022)  # pragma: no cover - the fallback elsewhere
    os.umask(mask)
    return mask


def make_parents(target: Path) -> Path | None:
    """Create the missing parent folders of ``target`` (as ``mkdir -p``); return the topmost one created (None
    if all existed), so a failed run can remove what it made. A parent that is a file is an OutputError."""
    missing = None
    for anc in target.resolve().parents:
        if anc.exists():
            if not anc.is_dir():
                raise OutputError(f"cannot write to {target}: {anc} is a file, not a directory")
            break
        missing = anc
    if missing is not None:
        target.resolve().parent.mkdir(parents=True, exist_ok=True)
    return missing


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, float) and not np.isfinite(obj):
        return None if np.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def to_json(obj: Any, indent: int | None = 2) -> str:
    """JSON text of ``obj`` with NumPy values converted and non-finite floats made explicit."""
    return json.dumps(_jsonable(obj), indent=indent, allow_nan=False)


def write_json(path: Path, obj: Any) -> None:
    path.write_text(to_json(obj) + "\n")


def write_table(path: Path, columns: Mapping[str, np.ndarray], spec: TableSpec, metadata: Mapping[str, str]) -> None:
    """Write ``columns`` as Parquet, checked against ``spec`` (names, order) with the schema version."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow is a core dependency
        raise ImportError("writing Parquet needs pyarrow: pip install reawaken (it is a core dependency)") from exc
    if tuple(columns) != spec.names:
        raise ValueError(f"table {spec.name}: columns {tuple(columns)} do not match the spec {spec.names}")
    arrow_types = {"float64": pa.float64(), "int64": pa.int64(), "string": pa.string()}
    fields = [pa.field(c.name, arrow_types[c.dtype], metadata={"unit": c.unit, "doc": c.doc}) for c in spec.columns]
    meta = {"schema_version": SCHEMA_VERSION, "table": spec.name, **metadata}
    schema = pa.schema(fields, metadata={k: str(v) for k, v in meta.items()})
    arrays = [pa.array(np.asarray(columns[c.name]).tolist() if c.dtype == "string" else columns[c.name],
                       type=arrow_types[c.dtype]) for c in spec.columns]
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), path, compression="zstd")


def read_table(path: Path) -> dict[str, np.ndarray]:
    """Read a Parquet table written by :func:`write_table` back to NumPy columns."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
