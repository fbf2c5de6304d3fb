"""Bad input to ``reawaken simulate``: exit code 2, one line on stderr, and nothing written."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reawaken.cli.main import main

BASE = ["simulate", "--host", "mouse", "--virus", "influenza", "--days", "5"]

BAD_ARGS = {
    "unknown host": ["--host", "rat"],
    "unknown virus": ["--virus", "rsv"],
    "unknown intervention": ["--intervention", "tocilizumab"],
    "negative dose": ["--intervention", "anti-il6:dose=-1"],
    "bad intervention key": ["--intervention", "anti-il6:mg=8"],
    "depletion end before start": ["--intervention", "cd4-depletion:start=10,end=5"],
    "efficacy above one": ["--intervention", "antiviral:efficacy=1.5"],
    "duplicate intervention": ["--intervention", "anti-il6", "--intervention", "anti-il6:dose=4"],
    "set without value": ["--set", "foo"],
    "set non-number": ["--set", "k_wake=abc"],
    "set unknown parameter": ["--set", "nosuchparam=1"],
    "set out of bounds": ["--set", "k_wake=-1"],
    "set switch out of bounds": ["--set", "il6_ko=2"],
    "infection days not numbers": ["--infection-days", "a,b"],
    "negative infection day": ["--infection-days", "0,-60"],
    "duplicate infection days": ["--infection-days", "0,0"],
    "negative horizon": ["--days", "-5"],
    "zero horizon": ["--days", "0"],
    "cross-reactivity above one": ["--cross-reactivity", "2"],
}


def _run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors exit through SystemExit
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_one_error_line(err):
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("reawaken"), err
    assert "error" in lines[0], err
    assert err.endswith("\n")


@pytest.mark.parametrize("extra", list(BAD_ARGS.values()), ids=list(BAD_ARGS))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(extra, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, stderr = _run([*BASE, *extra, "--out", str(out), "--json"], capsys)
    assert code == 2
    assert stdout == ""
    _assert_one_error_line(stderr)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no staging directory either


@pytest.mark.parametrize("extra", [BAD_ARGS["set unknown parameter"], BAD_ARGS["negative dose"],
                                   BAD_ARGS["unknown host"], BAD_ARGS["negative horizon"]],
                         ids=["set unknown parameter", "negative dose", "unknown host", "negative horizon"])
def test_bad_input_leaves_an_existing_out_dir_untouched(extra, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "readouts.json").write_text('{"old": true}\n')
    (out / "notes.txt").write_text("keep me\n")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    code, _, stderr = _run([*BASE, *extra, "--out", str(out)], capsys)
    assert code == 2
    _assert_one_error_line(stderr)
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_error_messages_say_what_is_wrong(tmp_path, capsys):
    _, _, err = _run([*BASE, "--set", "k_wak=1", "--out", str(tmp_path / "o")], capsys)
    assert "k_wak" in err and "k_wake" in err  # names the culprit and suggests the fix
    _, _, err = _run([*BASE, "--intervention", "anti-il6:dose=-1", "--out", str(tmp_path / "o")], capsys)
    assert "dose" in err and "-1" in err
    _, _, err = _run([*BASE, "--host", "rat", "--out", str(tmp_path / "o")], capsys)
    assert "rat" in err and "mouse" in err


def test_out_path_that_is_a_file_is_an_error(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("not a directory\n")
    code, _, err = _run([*BASE, "--out", str(target)], capsys)
    assert code == 2
    _assert_one_error_line(err)
    assert target.read_text() == "not a directory\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_missing_parent_folders_of_out_are_created(tmp_path, capsys):
    # as `mkdir -p`: the README's `--out runs/c1` works from an empty folder
    code, _, err = _run([*BASE, "--out", str(tmp_path / "missing" / "out")], capsys)
    assert code == 0, err
    assert (tmp_path / "missing" / "out" / "manifest.json").is_file()


def test_out_under_a_file_is_an_error(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("keep\n")
    code, _, err = _run([*BASE, "--out", str(tmp_path / "notes.txt" / "out")], capsys)
    assert code == 2
    _assert_one_error_line(err)
    assert (tmp_path / "notes.txt").read_text() == "keep\n" and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_missing_out_is_a_usage_error(capsys):
    code, _, err = _run(["simulate", "--days", "5"], capsys)
    assert code == 2
    _assert_one_error_line(err)


def test_the_real_command_line_exits_2(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "reawaken.cli.main", *BASE, "--days", "-5", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stdout == ""
    _assert_one_error_line(proc.stderr)
    assert not out.exists()
