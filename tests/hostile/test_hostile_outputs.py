"""--out never overwrites or merges without asking, the demo can be rerun, the machine's refusals (full disk,
no permission, size limits) end in one line (issue 11, items 3, 4, 6, 7)."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys

import pytest
from hostile_helpers import run_error, tree_hash

from reawaken.cli.main import MAX_MESSAGE, _fail, main

SIM = ["simulate", "--host", "mouse", "--virus", "influenza", "--days", "5"]


@pytest.fixture(scope="module")
def cohort_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("c") / "cohort"
    assert main(["cohort", "--n", "500", "--workers", "1", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("command", ["simulate", "analyze"])
def test_out_pointing_at_a_cohort_is_refused_and_the_cohort_kept(cohort_dir, command, capsys, small_registry):
    before = tree_hash(cohort_dir)
    argv = [*SIM, "--out", cohort_dir] if command == "simulate" else [
        "analyze", "--cdm", small_registry[1], "--study", "planted-check", "--out", cohort_dir]
    err = run_error(capsys, *argv)
    assert "not empty" in err and "--overwrite" in err
    assert tree_hash(cohort_dir) == before
    assert main(["registry", "--cohort", str(cohort_dir), "--out", str(cohort_dir.parent / f"{command}.duckdb")]) == 0


def test_registry_will_not_replace_a_text_file(tmp_path, capsys, cohort_dir):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    err = run_error(capsys, "registry", "--cohort", cohort_dir, "--out", notes)
    assert "exists" in err and "--overwrite" in err
    assert notes.read_text() == "my notes\n"


def test_simulate_twice_needs_overwrite_and_then_replaces_the_folder_whole(tmp_path, capsys):
    out = tmp_path / "s"
    assert main([*SIM, "--out", str(out)]) == 0
    (out / "mine.txt").write_text("a file of mine\n")
    before = tree_hash(out)
    run_error(capsys, *SIM, "--out", out)
    assert tree_hash(out) == before
    assert main([*SIM, "--out", str(out), "--overwrite"]) == 0
    assert not (out / "mine.txt").exists() and (out / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


@pytest.mark.slow
def test_the_demo_can_be_rerun_into_its_folder(tmp_path):
    out = tmp_path / "demo"
    argv = [sys.executable, "-m", "reawaken.cli.main", "demo", "--out", str(out), "--cohort-n", "0", "--days", "30"]
    assert subprocess.run(argv, capture_output=True, timeout=600).returncode == 0
    before = tree_hash(out)
    again = subprocess.run(argv, capture_output=True, text=True, timeout=600)  # refused at once, before the work
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "--overwrite" in again.stderr
    assert tree_hash(out) == before
    assert subprocess.run([*argv, "--overwrite"], capture_output=True, timeout=600).returncode == 0
    assert (out / "report.html").is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_an_unwritable_out_is_one_line(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere; the permission case needs an ordinary user")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        run_error(capsys, *SIM, "--out", locked / "out")
    finally:
        locked.chmod(0o700)


def _limited(nbytes: int):
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return pre


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path):
    out = tmp_path / "s"
    proc = subprocess.run([sys.executable, "-m", "reawaken.cli.main", *SIM, "--out", str(out)],
                          capture_output=True, text=True, timeout=300, preexec_fn=_limited(20_000))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "cannot write" in proc.stderr or "File too large" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_cohort_too_big_for_the_disk_or_the_limits_is_refused_with_the_estimate(tmp_path, capsys):
    err = run_error(capsys, "cohort", "--n", "1000000000000", "--out", tmp_path / "c")
    assert "1,000,000,000" in err
    err = run_error(capsys, "cohort", "--n", "900000000", "--arms", "baseline,vaccinated,no-infection",
                    "--out", tmp_path / "c")
    assert "GB on disk" in err or "GB free" in err
    err = run_error(capsys, "cohort", "--n", "1000", "--chunk-size", "100000000", "--out", tmp_path / "c")
    assert "chunk_size" in err
    assert list(tmp_path.iterdir()) == []


def test_a_failed_solve_is_an_error_not_empty_readouts(tmp_path, capsys):
    err = run_error(capsys, *SIM, "--set", "k_wake=1e308", "--out", tmp_path / "s")
    assert "failed" in err and "k_wake" in err
    assert list(tmp_path.iterdir()) == []


def test_a_message_listing_200000_ids_is_clipped_to_one_readable_line(capsys):
    assert _fail("unknown ids: " + ", ".join(str(i) for i in range(200_000))) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < MAX_MESSAGE + 100 and "more characters" in err


def test_json_output_of_a_refused_command_is_empty(tmp_path, capsys):
    out = tmp_path / "s"
    out.mkdir()
    (out / "x").write_text("x")
    capsys.readouterr()
    assert main([*SIM, "--out", str(out), "--json"]) == 2
    o, _ = capsys.readouterr()
    assert o == ""
    assert json.loads(json.dumps({"ok": True}))  # stdout stays parseable: nothing half-printed


def test_an_out_the_system_will_not_let_anyone_write_is_one_line(tmp_path, capsys):
    # /proc refuses new entries even to root, so this runs where the permission test above cannot
    run_error(capsys, *SIM, "--out", "/proc/reawaken-hostile-out")
    assert not os.path.exists("/proc/reawaken-hostile-out")


def test_export_sbml_will_not_replace_a_file_without_overwrite(tmp_path, capsys):
    target = tmp_path / "model.xml"
    target.write_text("<mine/>\n")
    err = run_error(capsys, "export-sbml", "-o", target)
    assert "--overwrite" in err and target.read_text() == "<mine/>\n"
    assert main(["export-sbml", "-o", str(target), "--overwrite"]) == 0
    assert "<sbml" in target.read_text()
    err = run_error(capsys, "export-sbml", "-o", target / "inside.xml")  # a file among the parents
    assert "is a file" in err


def test_the_readmes_cohort_out_works_from_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["cohort", "--n", "300", "--workers", "1", "--out", "runs/c1"]) == 0
    assert (tmp_path / "runs" / "c1" / "summary.json").is_file()
    assert main(["registry", "--cohort", "runs/c1", "--out", "registry.duckdb"]) == 0
    assert (tmp_path / "registry.duckdb").is_file()  # `--cdm registry.duckdb` is this file (README)


@pytest.mark.parametrize("assignment, named", [("K_il66=1", "did you mean K_il6"), ("K_il6=-1", "outside its bounds"),
                                               ("K_il6=nan", "finite")])
def test_cohort_set_refuses_bad_parameters_before_writing(tmp_path, capsys, assignment, named):
    out = tmp_path / "c"
    err = run_error(capsys, "cohort", "--n", "100", "--set", assignment, "--out", out)
    assert named in err
    assert not out.exists() and list(tmp_path.iterdir()) == []
