"""Every option of every command says what it does; errors that name an API point to something that exists."""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

import pytest

from reawaken.cli.main import build_parser, main

SRC = Path(__file__).parents[2] / "src" / "reawaken"


def _subparsers():
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sub.choices


def test_every_option_of_every_command_has_help():
    missing = [f"{name} {'/'.join(a.option_strings)}" for name, p in _subparsers().items() for a in p._actions
               if a.option_strings and a.help in (None, "") and a.dest != "help"]
    assert missing == []


def test_help_says_what_the_demo_runs_and_which_studies_ship(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "100,000-person cohort" in text and "--seed" in text
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(s in text for s in ("ukb-style", "flatiron-style", "planted-check", "--alpha"))


@pytest.mark.parametrize("argv", [["analyze", "--cdm", "x.duckdb", "--study", "ukb-style", "--out", "o", "--alpha", "0.7"],
                                  ["demo", "--seed", "-1"]])
def test_new_options_refuse_bad_values_in_one_line(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_api_names_in_messages_and_docs_exist():
    """Every ``reawaken.x.y`` named in a message, docstring or doc resolves to an importable object."""
    texts = [p.read_text() for p in SRC.rglob("*.py")]
    texts += [p.read_text() for p in (SRC.parents[1] / "docs").glob("*.md")]
    texts.append((SRC.parents[1] / "README.md").read_text())
    names = {m for t in texts for m in re.findall(r"\breawaken(?:\.[A-Za-z_][A-Za-z0-9_]*)+", t)}
    names -= {"reawaken.run"}  # a Parquet metadata key of cohort stores, not an API
    assert "reawaken.cohort.load_config" in names  # the name the old error pointed to
    bad = []
    for name in sorted(names):
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                bad.append(name)
            break
        else:
            bad.append(name)
    assert bad == []
