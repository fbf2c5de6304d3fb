"""docs/model.md is generated where it can be and complete where it must be.

The generator (docs/gen_parameter_tables.py) writes the parameter, species, equation, target and
assumption sections from the code; these tests fail as soon as the code and the document disagree.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reawaken.experiments.targets import TARGETS
from reawaken.model.library.hosts import PROFILES, profile

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "model.md"
GENERATOR = ROOT / "docs" / "gen_parameter_tables.py"


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_parameter_tables", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen():
    return _load_generator()


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _section(text: str, start: str, stop: str) -> str:
    i = text.index(start)
    return text[i:text.index(stop, i)]


def test_doc_is_up_to_date(gen):
    assert gen.main(["--check"]) == 0, "docs/model.md is stale: run `python docs/gen_parameter_tables.py`"


def test_check_mode_from_the_command_line():
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True,
                            cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr


def test_check_mode_detects_a_stale_file_and_rewrite_fixes_it(gen, doc, tmp_path):
    stale = tmp_path / "model.md"
    begin = "<!-- BEGIN PARAMETER TABLES -->"
    stale.write_text(doc.replace(begin, begin + "\n| `k_wake` | 99 | stale row |"), encoding="utf-8")
    assert gen.main(["--check", "--path", str(stale)]) == 1
    assert gen.main(["--path", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == doc
    assert gen.main(["--check", "--path", str(stale)]) == 0


def test_missing_marker_is_an_error(gen, doc, tmp_path):
    broken = tmp_path / "model.md"
    broken.write_text(doc.replace("<!-- END PARAMETER TABLES -->", ""), encoding="utf-8")
    assert gen.main(["--check", "--path", str(broken)]) == 2


def test_rendering_is_idempotent(gen, doc):
    once = gen.render(doc)
    assert gen.render(once) == once


def test_every_mouse_influenza_parameter_is_in_the_doc(doc):
    names = profile("mouse", "influenza").spec().parameter_names
    missing = [n for n in names if not re.search(rf"`{re.escape(n)}`", doc)]
    assert missing == []


def test_every_parameter_is_in_the_parameter_tables(doc):
    tables = _section(doc, "<!-- BEGIN PARAMETER TABLES -->", "<!-- END PARAMETER TABLES -->")
    for name in profile("mouse", "influenza").spec().parameter_names:
        assert f"| `{name}` |" in tables, name


def test_every_species_and_assignment_is_in_the_doc(doc):
    spec = profile("mouse", "influenza").spec()
    for name in (*spec.species_names, *(a.name for a in spec.assignments)):
        assert f"`{name}`" in doc, name
        assert f"d({name})/dt" in doc or name not in spec.species_names, name


def test_every_target_id_is_in_the_doc(doc):
    table = _section(doc, "<!-- BEGIN TARGETS TABLE -->", "<!-- END TARGETS TABLE -->")
    for t in TARGETS:
        assert f"| {t.id} |" in table, t.id


def test_every_assumed_and_calibrated_parameter_is_listed_in_its_section(doc):
    calibrated = _section(doc, "<!-- BEGIN CALIBRATED PARAMETERS -->", "<!-- END CALIBRATED PARAMETERS -->")
    assumed = _section(doc, "<!-- BEGIN ASSUMED PARAMETERS -->", "<!-- END ASSUMED PARAMETERS -->")
    for pr in PROFILES.values():
        for p in pr.spec().parameters:
            if p.source.startswith("calibrated"):
                assert f"`{p.name}`" in calibrated, p.name
            if p.source.startswith("assumption"):
                assert f"`{p.name}`" in assumed, p.name
