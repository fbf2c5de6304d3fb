"""The example that docs/api.md walks through runs as written and produces what it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.slow
def test_quickstart_runs_and_writes_its_outputs(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    for f in ("dcc.png", "flu/manifest.json", "cohort/summary.json", "registry.duckdb", "flatiron/forest.png"):
        assert (tmp_path / f).exists(), f
    assert "<SimulationResult:" in done.stdout and "infection >365 d" in done.stdout


def _python_blocks(path: Path) -> str:
    text = path.read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    return "\n".join(blocks)


@pytest.mark.slow
@pytest.mark.parametrize("doc", ["README.md", "docs/api.md"])
def test_python_examples_in_the_docs_run_as_written_from_an_empty_folder(doc, tmp_path):
    script = tmp_path / "example.py"
    script.write_text("import matplotlib\nmatplotlib.use('Agg')\n" + _python_blocks(ROOT / doc))
    work = tmp_path / "empty"
    work.mkdir()
    done = subprocess.run([sys.executable, str(script)], cwd=work, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
