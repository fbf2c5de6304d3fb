"""Every CLI output for fixed seeds is unchanged bit for bit against golden files taken before the Python-API
change (commit a615664; how they were made: tests/golden/make_golden.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parents[1] / "golden"


@pytest.mark.slow
def test_cli_outputs_equal_the_golden_files(tmp_path):
    spec = importlib.util.spec_from_file_location("make_golden", GOLDEN / "make_golden.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    expected = json.loads((GOLDEN / "cli_v1.json").read_text())
    got = json.loads(json.dumps(make.run_all(tmp_path), sort_keys=True))
    assert sorted(got) == sorted(expected)
    for key in expected:
        assert got[key] == expected[key], key
