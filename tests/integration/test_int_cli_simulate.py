"""``reawaken simulate`` end to end: one JSON object on stdout and four checked files in --out."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from reawaken.cli.main import main
from reawaken.model.library.hosts import profile
from reawaken.tables import SCHEMA_VERSION

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
READOUT_KEYS = {"dcc_fold", "proliferating_fraction", "il6_peak_pg_ml", "il6_peak_day", "virus_peak_day",
                "virus_clearance_day"}
DAYS_60 = {"3", "6", "9", "15", "28", "60"}


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def flu_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "flu"
    proc = subprocess.run(
        [sys.executable, "-m", "reawaken.cli.main", "simulate", "--host", "mouse", "--virus", "influenza",
         "--days", "60", "--out", str(out), "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    return proc, out


def test_exit_code_zero_and_quiet_stderr(flu_run):
    proc, _ = flu_run
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_stdout_is_exactly_one_json_object(flu_run):
    proc, _ = flu_run
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert isinstance(obj, dict)
    assert READOUT_KEYS <= set(obj)


def test_readouts_are_keyed_by_the_sampling_days_within_the_horizon(flu_run):
    obj = json.loads(flu_run[0].stdout)
    assert set(obj["dcc_fold"]) == DAYS_60
    assert "270" not in obj["dcc_fold"]
    assert set(obj["proliferating_fraction"]) == DAYS_60
    assert all(0.0 <= v <= 1.0 for v in obj["proliferating_fraction"].values())


def test_readout_values_make_sense(flu_run):
    obj = json.loads(flu_run[0].stdout)
    assert obj["status"] == "OK"
    assert obj["dcc_fold"]["15"] > 100.0
    assert obj["dcc_fold"]["3"] < obj["dcc_fold"]["6"] < obj["dcc_fold"]["9"] < obj["dcc_fold"]["15"]
    assert obj["il6_peak_pg_ml"] > 10 * profile("mouse", "influenza").spec().parameter("il6_base").value
    assert 1.5 <= obj["il6_peak_day"] <= 3.0
    assert 0.0 < obj["virus_peak_day"] < obj["virus_clearance_day"] < 60.0
    assert obj["virus_detection_limit"] == profile("mouse", "influenza").detection_limit


def test_writes_exactly_the_four_outputs(flu_run):
    _, out = flu_run
    assert sorted(p.name for p in out.iterdir()) == ["figure.png", "manifest.json", "readouts.json",
                                                     "trajectories.parquet"]
    assert not [p for p in out.parent.iterdir() if "staging" in p.name]


def test_trajectories_parquet_schema_and_content(flu_run):
    _, out = flu_run
    table = pq.read_table(out / "trajectories.parquet")
    assert table.column_names == ["subject", "time_days", "species", "value"]
    meta = table.schema.metadata
    assert meta[b"schema_version"] == SCHEMA_VERSION.encode()
    species = profile("mouse", "influenza").spec().species_names
    cols = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    assert set(cols["subject"]) == {0}
    assert set(cols["species"]) == set(species)
    times = np.unique(cols["time_days"])
    assert times[0] == 0.0 and times[-1] == 60.0
    assert table.num_rows == times.size * len(species)
    assert np.all(np.isfinite(cols["value"]))
    dormant0 = cols["value"][(cols["species"] == "dormant") & (cols["time_days"] == 0.0)]
    spec = profile("mouse", "influenza").spec()
    assert dormant0.tolist() == [spec.species[spec.species_names.index("dormant")].initial]


def test_readouts_json_matches_stdout(flu_run):
    proc, out = flu_run
    assert json.loads((out / "readouts.json").read_text()) == json.loads(proc.stdout)


def test_figure_is_a_png(flu_run):
    data = (flu_run[1] / "figure.png").read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 10_000


def test_manifest_records_versions_parameters_and_checksums(flu_run):
    _, out = flu_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "simulate"
    assert manifest["schema_version"] == SCHEMA_VERSION
    for pkg in ("python", "reawaken", "numpy", "scipy", "pyarrow"):
        assert manifest["versions"][pkg]
    assert manifest["settings"]["days"] == 60.0
    (record,) = manifest["scenarios"].values()
    spec = profile("mouse", "influenza").spec()
    assert [p["name"] for p in record["parameters"]] == list(spec.parameter_names)
    for p in record["parameters"]:
        assert isinstance(p["source"], str) and p["source"].strip(), p["name"]
        assert p["value"] == spec.parameter(p["name"]).value
    assert manifest["status"] == {"OK": 1}
    files = manifest["files"]
    assert set(files) == {"trajectories.parquet", "readouts.json", "figure.png"}
    for name, digest in files.items():
        assert digest == _sha256(out / name), name


def test_il6_knockout_lowers_the_fold_a_lot(flu_run, tmp_path, capsys):
    wt = json.loads(flu_run[0].stdout)
    code = main(["simulate", "--host", "mouse", "--virus", "influenza", "--intervention", "il6-ko",
                 "--days", "60", "--out", str(tmp_path / "ko"), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    ko = json.loads(captured.out)
    assert ko["dcc_fold"]["15"] <= 0.01 * wt["dcc_fold"]["15"]
    assert ko["il6_peak_pg_ml"] == 0.0
    assert (tmp_path / "ko" / "manifest.json").exists()


def test_settings_reach_the_model(tmp_path, capsys):
    code = main(["simulate", "--intervention", "anti-il6:dose=8,day=1", "--intervention",
                 "cd4-depletion:start=0,end=28", "--set", "k_wake=0.5", "--infection-days", "0,20",
                 "--days", "30", "--out", str(tmp_path / "o"), "--json"])
    assert code == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["status"] == "OK"
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["settings"]["infection_days"] == [0.0, 20.0]
    assert manifest["settings"]["overrides"] == {"k_wake": 0.5}
    assert len(manifest["settings"]["interventions"]) == 2
    (record,) = manifest["scenarios"].values()
    params = {p["name"]: p for p in record["parameters"]}
    assert params["k_wake"]["value"] == 0.5
    assert params["k_wake"]["source"] == "user override"


def test_mouse_sars_cov_2_il6_knockout_solves(tmp_path, capsys):
    """BUG (solver, see tests/unit/scenarios/test_scn_intervention_combinations.py): this ordinary command
    exits 0 but reports status NEGATIVE_STATE with an all-NaN trajectory (dcc_fold all null)."""
    code = main(["simulate", "--host", "mouse", "--virus", "sars-cov-2", "--intervention", "il6-ko",
                 "--days", "60", "--out", str(tmp_path / "o"), "--json"])
    obj = json.loads(capsys.readouterr().out)
    assert code == 0
    assert obj["status"] == "OK"
    assert all(v is not None for v in obj["dcc_fold"].values())
