"""Fault injection: kill `cohort`, `registry` and `analyze` at seeded random moments, fill the disk part-way,
kill the parent of a worker pool. Every repeat either completes identical to an uninterrupted run or stops
with one clear line; nothing is lost, nothing half-written is left (issue 11, "Done means")."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import tree_hash

CLI = [sys.executable, "-m", "reawaken.cli.main"]
COHORT = ["cohort", "--n", "60000", "--chunk-size", "6000", "--workers", "1", "--arms", "baseline,no-infection",
          "--seed", "2"]


def _run(argv, **kw):
    return subprocess.run([*CLI, *map(str, argv)], capture_output=True, text=True, timeout=600, **kw)


def _kill_after(argv, delay_s: float) -> None:
    proc = subprocess.Popen([*CLI, *map(str, argv)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        proc.wait(timeout=delay_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _events(out: Path) -> dict[str, str]:
    """Order-free fingerprint of a cohort store: the sorted summary and every event column."""
    import pandas as pd

    parts = [pd.read_parquet(f).assign(arm=f.parent.name) for f in sorted(out.glob("events/*/part-*.parquet"))]
    df = pd.concat(parts).astype({"kind": str, "cause": str}).sort_values(["arm", "person_id", "day", "kind"])
    summary = json.loads((out / "summary.json").read_text())
    for k in ("elapsed_s", "resumed"):
        summary.pop(k)
    return {"summary": json.dumps(summary, sort_keys=True), "rows": str(len(df)),
            "events": str(pd.util.hash_pandas_object(df.reset_index(drop=True), index=False).sum())}


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight") / "c"
    r = _run([*COHORT, "--out", out])
    assert r.returncode == 0, r.stderr
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_cohort_killed_at_a_random_moment_resumes_identical(straight, tmp_path, seed):
    delay = np.random.default_rng(seed).uniform(1.0, 9.0)  # start-up, tables, and chunks are all hit
    out = tmp_path / "c"
    _kill_after([*COHORT, "--out", out], delay)
    r = _run([*COHORT, "--out", out])
    assert r.returncode == 0, r.stderr
    assert _events(out) == _events(straight)
    assert not list(out.rglob("*.tmp")) and not _lock_held(out / ".lock")
    assert not [p for p in tmp_path.iterdir() if p.name != "c"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_registry_and_analyze_killed_at_a_random_moment_leave_nothing_and_repeat_identically(straight, tmp_path,
                                                                                            seed):
    rng = np.random.default_rng(seed)
    ref_db = tmp_path / "ref" / "r.duckdb"
    ref_db.parent.mkdir()
    assert _run(["registry", "--cohort", straight, "--out", ref_db, "--seed", "1"]).returncode == 0
    ref = _run(["analyze", "--cdm", ref_db, "--study", "flatiron-style", "--out", tmp_path / "ref" / "a", "--json"])
    assert ref.returncode == 0, ref.stderr
    work = tmp_path / "w"
    work.mkdir()
    cohort_before = tree_hash(straight)
    _kill_after(["registry", "--cohort", straight, "--out", work / "r.duckdb", "--seed", "1"], rng.uniform(0.5, 4.0))
    assert tree_hash(straight) == cohort_before  # the cohort is only read
    # either the registry was published whole, or nothing of it is visible; a repeat finishes the job
    visible = sorted(p.name for p in work.iterdir() if not p.name.startswith("."))
    assert visible in ([], ["r.duckdb", "r.truth-persons.parquet", "r.truth.json", "r.truth.parquet"])
    if not visible:
        r = _run(["registry", "--cohort", straight, "--out", work / "r.duckdb", "--seed", "1"])
        assert r.returncode == 0, r.stderr
    assert not list(work.glob(".*.tmp*"))  # the killed run's half-written files are gone
    db_before = tree_hash(work / "r.duckdb")
    _kill_after(["analyze", "--cdm", work / "r.duckdb", "--study", "flatiron-style", "--out", work / "a"],
                rng.uniform(0.5, 3.0))
    assert tree_hash(work / "r.duckdb") == db_before  # analysis never writes into the CDM
    if (work / "a").exists():  # published whole
        assert (work / "a" / "manifest.json").is_file()
    a = _run(["analyze", "--cdm", work / "r.duckdb", "--study", "flatiron-style", "--out", work / "a2", "--json"])
    assert a.returncode == 0, a.stderr
    strip = lambda d: {k: v for k, v in d.items() if k != "elapsed_s"}  # noqa: E731
    assert strip(json.loads(a.stdout)) == strip(json.loads(ref.stdout))


def _fsize_limit(nbytes: int):
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return pre


@pytest.mark.slow
def test_a_cohort_that_fills_the_disk_stops_in_one_line_and_then_resumes_identical(straight, tmp_path):
    out = tmp_path / "c"
    # RLIMIT_FSIZE caps each file: the tables (~1.2 MB) cannot be written at all ...
    r = _run([*COHORT, "--out", out], preexec_fn=_fsize_limit(350_000))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert not list(out.rglob("*.tmp")) and not _lock_held(out / ".lock")
    # ... then, with the tables written by an interrupted run, a chunk's event part (~490 kB) cannot be
    proc = subprocess.Popen([*CLI, *map(str, [*COHORT, "--out", out])], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not list(out.glob("chunks/*.json")) and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    r = _run([*COHORT, "--out", out], preexec_fn=_fsize_limit(350_000))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert "File too large" in r.stderr or "cannot write" in r.stderr
    # space again: the repeat completes, identical to a run that never failed
    r = _run([*COHORT, "--out", out])
    assert r.returncode == 0, r.stderr
    assert _events(out) == _events(straight)
    assert not list(out.rglob("*.tmp"))


@pytest.mark.slow
def test_killing_the_cohort_parent_does_not_orphan_its_pool_workers(tmp_path):
    argv = [*COHORT[:-6], "--workers", "2", "--arms", "baseline", "--seed", "2", "--out", tmp_path / "c"]
    proc = subprocess.Popen([*CLI, *map(str, argv)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    children: list[int] = []
    while time.time() < deadline and len(children) < 2:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True)
        children = [int(x) for x in out.stdout.split()]
        time.sleep(0.2)
    assert children, "the pool never started"
    proc.kill()  # the parent only: its workers must notice and end
    proc.wait()
    deadline = time.time() + 15
    while time.time() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.2)
    assert not [pid for pid in children if _alive(pid)]


def _lock_held(lock: Path) -> bool:
    from reawaken.io.outputs import _lock_held as held

    return held(lock)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"
