"""Helpers of the hostile-input tests: run the CLI expecting a usage error, hash a folder."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))  # registry_fixture

from registry_fixture import write_cohort  # noqa: E402

from reawaken.cli.main import main  # noqa: E402

PG_URL = os.environ.get("REAWAKEN_TEST_POSTGRES_URL")

__all__ = ["PG_URL", "edited_study", "run_error", "tree_hash", "write_cohort"]


def tree_hash(path: Path) -> str:
    """Names and bytes of everything under ``path`` (or of the file itself); ``"absent"`` if missing."""
    path = Path(path)
    if not path.exists():
        return "absent"
    h = hashlib.sha256()
    items = [path] if path.is_file() else sorted(p for p in path.rglob("*"))
    for p in items:
        h.update(str(p.relative_to(path) if p != path else p.name).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def run_error(capsys, *argv: str) -> str:
    """Run the CLI, assert the usage-error contract (exit 2, one line on stderr, no traceback); the line."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert err.startswith("reawaken: error: "), err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err and "Traceback" not in out
    return err


def edited_study(tmp_path: Path, base: str = "flatiron-style", **edits: str) -> Path:
    """A shipped study with text replaced (each ``old`` must occur), written to ``tmp_path/study.toml``."""
    from importlib import resources

    text = resources.files("reawaken.io.omop").joinpath("studies", f"{base}.toml").read_text()
    for old, new in edits.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "study.toml"
    path.write_text(text)
    return path
