"""Cohort runs end to end: the CLI contract, identical results for any chunking or worker count
(serial, a process pool, a real local Dask cluster), resume after a killed run, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from reawaken.api import run_cohort
from reawaken.cohort.config import load_config
from reawaken.io.cohort_store import read_events, read_persons

ARMS = ["baseline", "anti-il6-after-infection"]


def _table(path: Path, arm: str) -> dict[str, np.ndarray]:
    ev = read_events(path, arm)
    order = np.lexsort((ev["day"], ev["kind"], ev["person_id"]))
    return {k: v[order] for k, v in ev.items()}


def _same(a: Path, b: Path) -> None:
    for arm in ARMS:
        ta, tb = _table(a, arm), _table(b, arm)
        assert ta.keys() == tb.keys()
        for k in ta:
            assert np.array_equal(ta[k], tb[k], equal_nan=ta[k].dtype.kind == "f"), (arm, k)
    pa, pb = read_persons(a), read_persons(b)
    for k in pa:
        oa, ob = np.argsort(pa["person_id"]), np.argsort(pb["person_id"])
        assert np.array_equal(pa[k][oa], pb[k][ob]), k
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    for k in ("n_persons", "infections", "lung_metastases", "cancer_deaths", "arms"):
        if k == "arms":
            for arm in ARMS:
                assert {x: y for x, y in sa[k][arm].items()} == {x: y for x, y in sb[k][arm].items()}
        else:
            assert sa[k] == sb[k]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, cohort_model):
    out = tmp_path_factory.mktemp("cohort") / "one-chunk"
    run_cohort(load_config(), n=3000, out_dir=out, seed=5, arms=ARMS, chunk_size=3000, tables=cohort_model.tables)
    return out


def test_chunking_and_process_pool_give_identical_results(reference, tmp_path, cohort_model):
    out = tmp_path / "pool"
    run_cohort(load_config(), n=3000, out_dir=out, seed=5, arms=ARMS, chunk_size=700, workers=2,
               tables=cohort_model.tables)
    assert len(list((out / "chunks").glob("*.json"))) == 5
    _same(reference, out)


def test_an_executor_the_caller_owns_gives_identical_results_and_stays_open(reference, tmp_path, cohort_model):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    out = tmp_path / "own-pool"
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        res = run_cohort(load_config(), n=3000, out_dir=out, seed=5, arms=ARMS, chunk_size=1000, executor=pool,
                         tables=cohort_model.tables)
        assert pool.submit(abs, -3).result() == 3  # not shut down by the run
    _same(reference, out)
    assert res.path == out


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore:.*:UserWarning")
def test_a_real_local_dask_cluster_gives_identical_results(reference, tmp_path, cohort_model):
    pytest.importorskip("distributed")
    out = tmp_path / "dask"
    run_cohort(load_config(), n=3000, out_dir=out, seed=5, arms=ARMS, chunk_size=1000, workers=2, dask=True,
               tables=cohort_model.tables)
    _same(reference, out)


def test_outputs_carry_a_manifest_and_figures(reference):
    man = json.loads((reference / "manifest.json").read_text())
    assert man["kind"] == "reawaken-cohort" and man["seed"] == 5 and man["arms"] == ARMS
    assert man["config"]["cohort"]["start_date"] == "2012-01-01" and man["planted"] is None
    assert man["versions"]["reawaken"]
    for f in ("incidence.png", "cumulative_lung_metastasis.png"):
        assert (reference / f).stat().st_size > 10_000


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reawaken.cli.main", *args], capture_output=True, text=True,
                          timeout=600, **kw)


def test_cli_json_summary_has_the_promised_keys(tmp_path):
    r = _cli("cohort", "--n", "2000", "--years", "3", "--arms", "baseline,no-infection", "--seed", "2",
             "--out", str(tmp_path / "c"), "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    for key in ("n_persons", "person_years", "infections", "lung_metastases", "cancer_deaths", "elapsed_s", "arms"):
        assert key in s
    assert s["n_persons"] == 2000 and set(s["arms"]) == {"baseline", "no-infection"}
    assert s["arms"]["no-infection"]["infections"] == 0 < s["arms"]["baseline"]["infections"]
    assert 2000 * 2.5 < s["person_years"] <= 2000 * 3


@pytest.mark.parametrize(("args", "named"), [
    (["--config", "CFG"], "attack_rate_65_plus"),
    (["--arms", "baseline,placebo"], "placebo"),
    (["--n", "-5"], "--n"),
    (["--scheduler", "localhost"], "scheduler"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, args, named):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[influenza]\nattack_rate_65_plus = 1.5\n")
    out = tmp_path / "out"
    r = _cli("cohort", *[str(cfg) if a == "CFG" else a for a in args], "--out", str(out))
    assert r.returncode == 2
    assert named in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_killed_run_resumes_without_redoing_or_losing_chunks(tmp_path, cohort_model):
    n, size = 120_000, 10_000
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "reawaken.cli.main", "cohort", "--n", str(n), "--chunk-size",
                             str(size), "--workers", "1", "--arms", ",".join(ARMS), "--seed", "9", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not list((out / "chunks").glob("*.json")) and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {f.name: f.stat().st_mtime_ns for f in (out / "chunks").glob("*.json")}
    assert 1 <= len(done_before) < n // size, "the run must be interrupted part-way for this test to mean anything"
    assert not (out / "summary.json").exists()
    r = _cli("cohort", "--n", str(n), "--chunk-size", str(size), "--workers", "1", "--arms", ",".join(ARMS),
             "--seed", "9", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["resumed"] is True
    after = {f.name: f.stat().st_mtime_ns for f in (out / "chunks").glob("*.json")}
    assert len(after) == n // size
    assert all(after[k] == v for k, v in done_before.items())  # finished chunks were not redone
    assert not list(out.rglob("*.tmp"))  # no half-written file survives
    # the same run, uninterrupted, gives the same cohort
    ref = tmp_path / "straight"
    run_cohort(load_config(), n=n, out_dir=ref, seed=9, arms=ARMS, chunk_size=size, tables=cohort_model.tables)
    _same(ref, out)
    # a different run is refused in that directory
    r = _cli("cohort", "--n", str(n), "--chunk-size", str(size), "--arms", ",".join(ARMS), "--seed", "10",
             "--out", str(out))
    assert r.returncode == 2 and "different cohort run" in r.stderr


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore:.*:UserWarning")
def test_a_running_dask_scheduler_address_gives_identical_results(reference, tmp_path, cohort_model):
    """``--scheduler tcp://HOST:PORT``: chunks go to an already running cluster (here a local one)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        out = tmp_path / "scheduler"
        run_cohort(load_config(), n=3000, out_dir=out, seed=5, arms=ARMS, chunk_size=1000,
                   scheduler=cluster.scheduler_address, tables=cohort_model.tables)
    _same(reference, out)
