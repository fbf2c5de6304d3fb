"""A cohort folder is never silently wrong: damaged chunks are recomputed or named, one writer at a time,
leftovers of killed runs are cleaned, files follow the user's umask (issue 11, items 1, 5, 9, 10)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from hostile_helpers import run_error, tree_hash

from reawaken import api
from reawaken.cohort import load_config

ARGS = ["--n", "3000", "--chunk-size", "1000", "--workers", "1", "--arms", "baseline,no-infection", "--seed", "4"]


def _cohort(out, **kw):
    return api.run_cohort(load_config(), n=3000, chunk_size=1000, workers=1, arms=["baseline", "no-infection"],
                          seed=4, out_dir=out, **kw)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, cohort_model):
    return _cohort(tmp_path_factory.mktemp("ref") / "c", tables=cohort_model.tables)


def _events_equal(a, b):
    import pandas as pd

    pd.testing.assert_frame_equal(a.frame("events").sort_values(["arm", "person_id", "day", "kind"]).reset_index(drop=True),
                                  b.frame("events").sort_values(["arm", "person_id", "day", "kind"]).reset_index(drop=True))


@pytest.mark.parametrize("damage", ["delete", "truncate", "flip"])
def test_a_damaged_chunk_is_recomputed_on_repeat_and_refused_by_registry(reference, tmp_path, capsys, damage,
                                                                          cohort_model):
    out = tmp_path / "c"
    first = _cohort(out, tables=cohort_model.tables)
    part = out / "events" / "arm=baseline" / "part-00001.parquet"
    if damage == "delete":
        part.unlink()
    elif damage == "truncate":
        part.write_bytes(part.read_bytes()[:200])
    else:
        data = bytearray(part.read_bytes())
        data[len(data) // 2] ^= 0xFF
        part.write_bytes(bytes(data))
    # registry refuses it, naming the chunk, and writes nothing
    target = tmp_path / "reg.duckdb"
    err = run_error(capsys, "registry", "--cohort", out, "--out", target)
    assert "chunk 1" in err and "part-00001.parquet" in err
    assert not target.exists()
    # repeating the cohort command recomputes exactly that chunk, identical to an undamaged run
    again = _cohort(out)
    assert again.manifest["repaired_chunks"] and again.manifest["repaired_chunks"][0].startswith("chunk 1:")
    _events_equal(again, reference)
    assert again.to_dict()["arms"] == first.to_dict()["arms"] == reference.to_dict()["arms"]


def test_a_deleted_marker_alone_is_just_recomputed(reference, tmp_path, cohort_model):
    out = tmp_path / "c"
    _cohort(out, tables=cohort_model.tables)
    (out / "chunks" / "00002.json").unlink()
    _events_equal(_cohort(out), reference)


def test_an_unfinished_cohort_is_refused_by_registry(tmp_path, capsys, cohort_model):
    out = tmp_path / "c"
    _cohort(out, tables=cohort_model.tables)
    (out / "summary.json").unlink()
    (out / "chunks" / "00000.json").unlink()
    err = run_error(capsys, "registry", "--cohort", out, "--out", tmp_path / "r.duckdb")
    assert "unfinished" in err and "2 of 3 chunks" in err


def _held(lock) -> bool:
    import fcntl

    fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path, capsys, cohort_model):
    out = tmp_path / "c"
    _cohort(out, tables=cohort_model.tables)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(out / '.lock')!r}, os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nos.ftruncate(fd, 0)\nos.write(fd, b'pid 4242 on elsewhere')\n"
        "print('held', flush=True)\ntime.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = tree_hash(out)
        err = run_error(capsys, "cohort", *ARGS, "--out", out)
        assert "pid 4242 on elsewhere" in err
        assert tree_hash(out) == before
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    # the holder is gone (the kernel released its lock): the run proceeds, and removes half-written files
    (out / "events" / "arm=baseline" / ".part-00009.parquet.abc.tmp").write_bytes(b"half")
    res = _cohort(out)
    assert res.to_dict()["resumed"] is True
    assert not _held(out / ".lock") and not list(out.rglob("*.tmp"))


def test_a_marker_cannot_make_the_run_delete_files_outside_the_folder(tmp_path, cohort_model):
    out = tmp_path / "c"
    _cohort(out, tables=cohort_model.tables)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    marker = out / "chunks" / "00000.json"
    m = json.loads(marker.read_text())
    m["files"][str(victim)] = {"rows": 1, "sha256": "0"}
    m["files"]["../victim.txt"] = {"rows": 1, "sha256": "0"}
    m["files"]["persons/part-00000.parquet"]["rows"] = -1  # and mark the chunk damaged
    marker.write_text(json.dumps(m))
    res = _cohort(out)
    assert victim.read_text() == "keep me\n"
    assert res.manifest["repaired_chunks"][0].startswith("chunk 0:")


def test_a_marker_stripped_of_its_checksums_is_not_trusted(reference, tmp_path, capsys, cohort_model):
    out = tmp_path / "c"
    _cohort(out, tables=cohort_model.tables)
    marker = out / "chunks" / "00001.json"
    m = json.loads(marker.read_text())
    del m["files"]
    marker.write_text(json.dumps(m))
    for part in (out / "events").glob("arm=*/part-00001.parquet"):
        part.unlink()
    err = run_error(capsys, "registry", "--cohort", out, "--out", tmp_path / "r.duckdb")
    assert "chunk 1" in err and "checksums" in err
    assert not (tmp_path / "r.duckdb").exists()
    _events_equal(_cohort(out), reference)  # the repeat recomputes it


@pytest.mark.parametrize("junk", ["{not json", "[]"])
def test_a_damaged_marker_is_one_line_for_registry_and_recomputed_by_cohort(reference, tmp_path, capsys, junk,
                                                                          cohort_model):
    out = tmp_path / "c"
    _cohort(out, tables=cohort_model.tables)
    (out / "chunks" / "00002.json").write_text(junk)
    (out / "chunks" / "notes.json").write_text("{")  # not a marker: ignored
    run_error(capsys, "registry", "--cohort", out, "--out", tmp_path / "r.duckdb")
    _events_equal(_cohort(out), reference)


def test_cohort_files_follow_the_umask_not_0600(tmp_path, cohort_model):
    old = os.umask(0o002)  # a group that shares its runs
    try:
        out = tmp_path / "c"
        _cohort(out, tables=cohort_model.tables)
    finally:
        os.umask(old)
    for f in [out / "summary.json", out / "chunks" / "00000.json", out / "persons" / "part-00000.parquet"]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o664, f
    assert json.loads((out / "chunks" / "00000.json").read_text())["files"]


def test_an_arm_name_cannot_escape_the_folder(tmp_path, capsys):
    cfg = tmp_path / "arms.toml"
    cfg.write_text('[arms."x/../../escaped-arm"]\ninfections = false\n')
    out = tmp_path / "c"
    err = run_error(capsys, "cohort", "--config", cfg, "--n", "100", "--arms", "x/../../escaped-arm", "--out", out)
    assert "arm name" in err
    assert not out.exists() and not (tmp_path.parent / "escaped-arm").exists()
