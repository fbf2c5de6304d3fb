"""The command line for stochastic runs and SBML export: output contract, reproducibility, and errors.

Deterministic given the seed: no statistical tolerance, no false alarms.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from reawaken.cli.main import main

pytest.importorskip("libsbml")

REPORT_KEYS = ("3", "6", "9", "15", "28", "60")
STOCHASTIC_KEYS = ("replicates", "seed", "method", "lesions_mean", "lesions_p_zero", "lesions_present_mean",
                   "dcc_fold_mean", "dcc_fold_quantiles", "p_lesion_by_day", "dcc_fold")


def _simulate(out: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    code = main(["simulate", "--host", "human", "--virus", "influenza", "--days", "60", "--stochastic",
                 "--replicates", "50", "--seed", "3", "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = [line for line in captured.out.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line, got {captured.out!r}"
    return json.loads(lines[0])


def test_stochastic_simulate_json_contract_and_reproducibility(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    first = _simulate(tmp_path / "a", capsys)
    assert first["replicates"] == 50 and first["seed"] == 3 and first["method"] == "exact"
    assert isinstance(first["lesions_mean"], float) and first["lesions_mean"] >= 0.0
    assert 0.0 <= first["lesions_p_zero"] <= 1.0
    quantiles = first["dcc_fold_quantiles"]
    assert tuple(quantiles) == REPORT_KEYS
    for day, q in quantiles.items():
        assert len(q) == 3, day
        assert all(isinstance(x, float) for x in q)
        assert q[0] <= q[1] <= q[2], f"day {day}: quantiles {q} not increasing"
        assert q[0] >= 0.0
    assert tuple(first["dcc_fold_mean"]) == REPORT_KEYS

    files = {p.name for p in (tmp_path / "a").iterdir()}
    assert {"replicates.parquet", "stochastic.png", "readouts.json", "manifest.json"} <= files
    table = pq.read_table(tmp_path / "a" / "replicates.parquet")
    assert table.column_names == ["replicate", "day", "dcc_total", "lesions_present", "first_lesion_day"]
    assert table.num_rows == 50 * len(REPORT_KEYS)
    assert (tmp_path / "a" / "stochastic.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    second = _simulate(tmp_path / "b", capsys)
    for key in STOCHASTIC_KEYS:
        assert first[key] == second[key], key
    assert pq.read_table(tmp_path / "b" / "replicates.parquet").equals(table)


def test_export_sbml_writes_a_valid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from reawaken.io.sbml import validate_sbml

    out = tmp_path / "model.xml"
    code = main(["export-sbml", "--host", "mouse", "--virus", "influenza", "--intervention", "anti-il6",
                 "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert out.is_file()
    text = out.read_text()
    assert validate_sbml(text) == []
    assert "<event" in text  # the infection and the antibody dose
    assert str(out) in captured.out
    assert [p.name for p in tmp_path.iterdir()] == ["model.xml"]  # no staging leftovers


@pytest.mark.parametrize("intervention", ["no-such-drug", "anti-il6:dose=-1", "anti-il6:speed=3"])
def test_export_sbml_bad_intervention_exits_2_and_writes_nothing(tmp_path: Path, capsys, intervention: str) -> None:
    out = tmp_path / "model.xml"
    code = main(["export-sbml", "--host", "mouse", "--virus", "influenza", "--intervention", intervention,
                 "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("reawaken: error:") and len(captured.err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_export_sbml_creates_missing_parent_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # as `mkdir -p` (and every other --out): the parent folders are made
    out = tmp_path / "missing" / "model.xml"
    code = main(["export-sbml", "--host", "mouse", "--virus", "influenza", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "<sbml" in out.read_text()
