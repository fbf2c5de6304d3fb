"""Cohort jobs that live on the server, not in a browser tab: a bounded store and a small worker pool.

A job is one ``api.run_cohort`` call into its own folder under the server's job root. Progress comes from
the API's ``progress(done, total)`` callback (after every chunk). Cancelling raises from that callback, so a
job stops at the next chunk boundary with every finished chunk kept in the cohort store; resuming repeats the
same call on the same folder, which the store resumes (only the missing chunks are computed). A job whose
run raises is *failed* with the error's message, never *finished*.

Jobs run in threads of this process: the chunk kernels are compiled code, and a thread is what lets the
progress callback reach the job's state without a second channel. ``max_workers`` bounds how many run at
once (the rest queue); ``max_jobs`` bounds how many are remembered (the oldest finished ones are dropped
from the list; their folders stay on disk).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QUEUED, RUNNING, CANCELLING, CANCELLED, FAILED, FINISHED = (
    "queued", "running", "cancelling", "cancelled", "failed", "finished")
TERMINAL = frozenset({CANCELLED, FAILED, FINISHED})


class JobCancelled(Exception):  # noqa: N818 (a signal, not an error a user made)
    """Raised inside the run (from the progress callback) to stop it at a chunk boundary."""


class JobError(Exception):
    """A request about jobs that cannot be honoured; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Job:
    id: str
    request: dict[str, Any]
    folder: Path
    state: str = QUEUED
    done: int = 0
    total: int = 0
    message: str = ""
    created: float = field(default_factory=time.time)
    finished: float | None = None
    attempts: int = 0
    result: Any = None  # the CohortResult of a finished run
    run: Any = None  # the callable that does the work (kept for resume)
    cancel_flag: threading.Event = field(default_factory=threading.Event)
    version: int = 0  # bumped on every change: the SSE stream sends an update when it moves

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "done": self.done, "total": self.total,
                "fraction": (self.done / self.total) if self.total else 0.0, "message": self.message,
                "request": self.request, "attempts": self.attempts, "created": self.created,
                "finished": self.finished}


class JobStore:
    """``submit(request, run)`` where ``run(job, progress)`` does the work and returns its result."""

    def __init__(self, root: Path, *, max_jobs: int = 20, max_workers: int = 1) -> None:
        self.root = Path(root)
        self.max_jobs = max_jobs
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="reawaken-job")

    # --- queries -------------------------------------------------------------------------------------
    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise JobError(f"no job {job_id[:40]!r}; GET /api/jobs lists the jobs", 404)
        return job

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [j.public() for j in reversed(self._jobs.values())]

    # --- commands ------------------------------------------------------------------------------------
    def submit(self, request: dict[str, Any], run: Callable[[Job, Callable[[int, int], None]], Any]) -> Job:
        with self._lock:
            self._make_room()
            job_id = secrets.token_hex(6)  # unguessable and path-safe
            job = Job(job_id, request, self.root / f"job-{job_id}", run=run)
            self._jobs[job_id] = job
        self._remember(job)
        self._start(job, run)
        return job

    def recover(self, runner: Callable[[dict[str, Any]], Any], opened: Callable[[Path], Any]) -> int:
        """Jobs of an earlier server on the same data folder: finished ones come back with their results
        (``opened(folder)``), interrupted ones as cancelled, so resume continues them. ``runner(request)``
        rebuilds the work of a request (validated again: a bad record is skipped, never run)."""
        found = 0
        for meta in sorted(self.root.glob("job-*.json")):
            try:
                rec = json.loads(meta.read_text(encoding="utf-8"))
                job = Job(str(rec["id"]), dict(rec["request"]), self.root / f"job-{rec['id']}",
                          created=float(rec["created"]), run=runner(rec["request"]))
            except Exception:  # noqa: BLE001 -- a damaged record of an old job is not this server's failure
                continue
            if job.id in self._jobs or meta.name != f"job-{job.id}.json":
                continue
            if (job.folder / "summary.json").is_file():
                try:
                    job.result, job.state = opened(job.folder), FINISHED
                except Exception:  # noqa: BLE001
                    job.state, job.message = CANCELLED, "its results could not be read; resume recomputes what is missing"
            elif rec.get("state") == FAILED:  # a failure stays a failure across a restart
                job.state, job.message = FAILED, str(rec.get("message", ""))
            else:
                job.state, job.message = CANCELLED, "interrupted when the server stopped; resume continues it"
            job.finished = meta.stat().st_mtime
            self._jobs[job.id] = job
            found += 1
        while len(self._jobs) > self.max_jobs:  # keep the newest
            self._jobs.popitem(last=False)
        return found

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        with self._lock:
            if job.state in TERMINAL:
                raise JobError(f"job {job_id} is {job.state}; only a queued or running job can be cancelled", 409)
            job.cancel_flag.set()
            job.state = CANCELLING if job.state == RUNNING else CANCELLED
            if job.state == CANCELLED:
                job.finished = time.time()
            job.version += 1
        return job

    def resume(self, job_id: str) -> Job:
        job = self.get(job_id)
        with self._lock:
            if job.state not in (CANCELLED, FAILED):
                raise JobError(f"job {job_id} is {job.state}; only a cancelled or failed job can be resumed", 409)
            job.cancel_flag = threading.Event()
            job.state, job.message, job.finished = QUEUED, "", None
            job.version += 1
        self._start(job, job.run)
        return job

    def shutdown(self) -> None:
        with self._lock:
            for j in self._jobs.values():
                j.cancel_flag.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # --- internals -----------------------------------------------------------------------------------
    def _remember(self, job: Job) -> None:
        """The job's request beside its folder, so a restarted server can list and resume it."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".job-{job.id}.json.tmp"
        tmp.write_text(json.dumps({"id": job.id, "request": job.request, "created": job.created, "state": job.state,
                                   "message": job.message}), encoding="utf-8")
        tmp.replace(self.root / f"job-{job.id}.json")

    def _make_room(self) -> None:
        if len(self._jobs) < self.max_jobs:
            return
        for jid, j in list(self._jobs.items()):  # oldest first
            if j.state in TERMINAL:
                del self._jobs[jid]
                return
        raise JobError(f"the server already holds {self.max_jobs} unfinished jobs; cancel one or wait", 429)

    def _start(self, job: Job, run: Callable[[Job, Callable[[int, int], None]], Any]) -> None:
        def progress(done: int, total: int) -> None:
            with self._lock:
                job.done, job.total = int(done), int(total)
                job.version += 1
            if job.cancel_flag.is_set():
                raise JobCancelled

        def body() -> None:
            with self._lock:
                if job.cancel_flag.is_set():  # cancelled while queued
                    return
                job.state, job.attempts = RUNNING, job.attempts + 1
                job.version += 1
            try:
                result = run(job, progress)
            except JobCancelled:
                state, message, result = CANCELLED, "cancelled; finished chunks are kept, resume continues", None
            except Exception as exc:  # noqa: BLE001 -- any crash must end as "failed" with its message
                state, message, result = FAILED, f"{type(exc).__name__}: {exc}"[:400], None
            else:
                state, message = FINISHED, ""
                if job.cancel_flag.is_set():  # the last chunk finished as the cancel came: it is done
                    message = "finished before the cancel took effect"
            with self._lock:
                job.state, job.message, job.result = state, message, result
                job.finished = time.time()
                job.version += 1
            try:
                self._remember(job)
            except OSError:  # the record is for a later server; this one already knows the outcome
                pass

        self._pool.submit(body)
