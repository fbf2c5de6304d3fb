"""``reawaken.io.OutputDir``: all or nothing. Plus the JSON writer's handling of non-finite numbers."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from reawaken.errors import OutputError, ReawakenError
from reawaken.experiments.readouts import summarise
from reawaken.io import OutputDir, write_json
from reawaken.io.outputs import to_json


class Boom(RuntimeError):
    pass


def _staging(parent):
    return [p for p in parent.iterdir() if ".staging-" in p.name]


def test_failure_inside_the_block_creates_nothing(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(Boom):
        with OutputDir(target) as stage:
            assert stage.path.is_dir()
            assert stage.path.parent == tmp_path
            write_json(stage.path / "a.json", {"x": 1})
            (stage.path / "b.bin").write_bytes(b"\x00" * 100)
            raise Boom("simulated crash half-way")
    assert not target.exists()
    assert _staging(tmp_path) == []
    assert list(tmp_path.iterdir()) == []
    assert stage.files == []


def test_failure_leaves_an_existing_directory_as_it_was(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "a.json").write_text('{"old": 1}\n')
    (target / "manifest.json").write_text('{"command": "simulate"}\n')  # a folder reawaken wrote
    with pytest.raises(Boom):
        with OutputDir(target, overwrite=True) as stage:
            write_json(stage.path / "a.json", {"new": 2})
            write_json(stage.path / "c.json", {"new": 3})
            raise Boom
    assert sorted(p.name for p in target.iterdir()) == ["a.json", "manifest.json"]
    assert json.loads((target / "a.json").read_text()) == {"old": 1}
    assert _staging(tmp_path) == []


def test_keyboard_interrupt_also_writes_nothing(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        with OutputDir(target) as stage:
            write_json(stage.path / "a.json", {"x": 1})
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_success_creates_the_directory_with_every_file(tmp_path):
    target = tmp_path / "new"
    with OutputDir(target) as stage:
        write_json(stage.path / "a.json", {"x": 1})
        (stage.path / "b.txt").write_text("hello\n")
        assert not target.exists()  # nothing visible until the block ends
    assert sorted(p.name for p in target.iterdir()) == ["a.json", "b.txt"]
    assert json.loads((target / "a.json").read_text()) == {"x": 1}
    assert sorted(stage.files) == ["a.json", "b.txt"]
    assert _staging(tmp_path) == []


def test_a_non_empty_folder_is_refused_and_overwrite_replaces_it_whole(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "a.json").write_text('{"old": 1}\n')
    (target / "keep.txt").write_text("another command's file\n")
    with pytest.raises(OutputError, match=r"not empty \(a.json, keep.txt\).*--overwrite"):
        OutputDir(target)
    with pytest.raises(OutputError, match="only a folder reawaken wrote"):  # not ours: never deleted
        OutputDir(target, overwrite=True)
    assert sorted(p.name for p in target.iterdir()) == ["a.json", "keep.txt"]  # nothing merged into it
    (target / "manifest.json").write_text('{"command": "analyze"}\n')
    with OutputDir(target, overwrite=True) as stage:
        write_json(stage.path / "a.json", {"new": 2})
    assert sorted(p.name for p in target.iterdir()) == ["a.json"]  # replaced as a whole, never merged
    assert json.loads((target / "a.json").read_text()) == {"new": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or old folder left


def test_an_empty_folder_is_used_and_stale_staging_of_dead_runs_is_removed(tmp_path):
    import subprocess
    import sys

    target = tmp_path / "out"
    target.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    stale = tmp_path / f".out.staging-{int(dead.stdout)}-abcd"
    stale.mkdir()
    (stale / "half.json").write_text("{")
    with OutputDir(target) as stage:
        write_json(stage.path / "a.json", {"x": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_checksums_are_sha256_of_the_staged_files(tmp_path):
    with OutputDir(tmp_path / "out") as stage:
        (stage.path / "x.bin").write_bytes(b"reawaken")
        (stage.path / "y.txt").write_text("dormant\n")
        sums = stage.checksums()
    assert sums == {"x.bin": hashlib.sha256(b"reawaken").hexdigest(),
                    "y.txt": hashlib.sha256(b"dormant\n").hexdigest()}
    for name, digest in sums.items():
        assert hashlib.sha256((tmp_path / "out" / name).read_bytes()).hexdigest() == digest


def test_a_file_in_the_way_is_an_output_error(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(OutputError) as info:
        OutputDir(target)
    assert isinstance(info.value, OSError) and isinstance(info.value, ReawakenError)
    assert target.read_text() == "x"


def test_missing_parents_are_made_and_removed_again_when_the_run_fails(tmp_path):
    with pytest.raises(RuntimeError), OutputDir(tmp_path / "no" / "such" / "dir") as stage:
        (stage.path / "a.json").write_text("{}")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []  # nothing partial, not even the parent folders
    with OutputDir(tmp_path / "no" / "such" / "dir") as stage:
        (stage.path / "a.json").write_text("{}")
    assert (tmp_path / "no" / "such" / "dir" / "a.json").is_file()


def test_a_parent_that_is_a_file_is_an_output_error(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file"), OutputDir(tmp_path / "f" / "dir"):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


# --- JSON of non-finite numbers ----------------------------------------------------------------------------

def test_python_non_finite_floats_become_explicit():
    assert json.loads(to_json({"a": float("nan"), "b": float("inf"), "c": -float("inf")})) == {
        "a": None, "b": "inf", "c": "-inf"}


@pytest.mark.parametrize("value", [np.float64("nan"), np.float64("inf"), np.array([1.0, np.nan]),
                                   np.float32("-inf")], ids=["np.nan", "np.inf", "array-with-nan", "f32-inf"])
def test_numpy_non_finite_values_become_explicit(value):
    """BUG (src/reawaken/io/outputs.py, _jsonable): NumPy scalars and arrays are converted with ``.item()`` /
    ``.tolist()`` and returned without the non-finite check, so ``to_json`` (allow_nan=False) raises
    ``ValueError: Out of range float values are not JSON compliant`` instead of writing null / "inf"."""
    text = to_json({"v": value})
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text)


# --- read-outs of a failed row ----------------------------------------------------------------------------

def test_readouts_of_a_failed_row_do_not_invent_numbers():
    """A row that failed holds NaN from the failure on (solvers/base.py). Its read-outs should say "unknown"
    (NaN -> null in JSON), not report a proliferating fraction of 0.0 or an IL-6 peak on the first step.

    BUG (src/reawaken/experiments/readouts.py, summarise): ``np.divide(..., where=total > 0)`` turns NaN
    totals into a proliferating fraction of 0.0, and ``np.argmax`` over a NaN column picks the first NaN,
    so ``il6_peak_day`` / ``virus_peak_day`` come out as 0.05 (seen from ``reawaken simulate --host mouse
    --virus sars-cov-2 --intervention il6-ko``)."""
    time = np.arange(0.0, 10.01, 0.05)
    names = ("dormant", "awakened", "primed", "il6", "virus", "awakenings")
    cols = {n: np.full(time.size, np.nan) for n in names}
    for n, v0 in zip(names, (100.0, 0.0, 0.0, 5.0, 10.0, 0.0)):
        cols[n][0] = v0
    with np.errstate(invalid="ignore"):
        r = summarise(time, cols, infection_days=(0.0,), detection_limit=10.0)
    assert all(v is None or np.isnan(v) for v in r["dcc_fold"].values())
    assert all(v is None or np.isnan(v) for v in r["proliferating_fraction"].values())
    assert r["il6_peak_day"] is None or np.isnan(r["il6_peak_day"])


def test_overwrite_never_replaces_the_working_folder_or_home(tmp_path, monkeypatch):
    (tmp_path / "manifest.json").write_text('{"command": "simulate"}\n')
    monkeypatch.chdir(tmp_path)
    for target in (tmp_path, Path("."), Path.home()):
        with pytest.raises(OutputError):
            OutputDir(target, overwrite=True)
    assert (tmp_path / "manifest.json").is_file()


def test_a_failed_run_removes_only_the_empty_parents_it_made(tmp_path):
    """Two runs into runs/a and runs/b: b publishes while a, which created runs/, fails; b's result stays."""
    a = OutputDir(tmp_path / "runs" / "a")
    with pytest.raises(Boom), a as stage_a:
        with OutputDir(tmp_path / "runs" / "b") as stage_b:
            write_json(stage_b.path / "x.json", {"b": 1})
        write_json(stage_a.path / "y.json", {"a": 1})
        raise Boom
    assert (tmp_path / "runs" / "b" / "x.json").is_file()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["b"]
