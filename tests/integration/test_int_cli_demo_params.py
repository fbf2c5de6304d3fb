"""``reawaken demo`` (run once) and ``reawaken params``."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from reawaken.cli.main import main
from reawaken.experiments import mouse_panel
from reawaken.experiments.targets import TARGETS
from reawaken.model.library.hosts import HOSTS, VIRUSES, profile
from reawaken.tables import SCHEMA_VERSION

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "report"
    proc = subprocess.run([sys.executable, "-m", "reawaken.cli.main", "demo", "--out", str(out), "--json"],
                          capture_output=True, text=True, timeout=600, check=False)
    return proc, out


def test_demo_succeeds_and_prints_one_json_summary(demo):
    proc, out = demo
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["targets_total"] == len(TARGETS)
    assert summary["targets_passed"] == summary["targets_total"]
    assert set(summary["files"]) == {p.name for p in out.iterdir()}


def test_demo_writes_its_outputs_and_no_staging(demo):
    _, out = demo
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "targets.json", "manifest.json", "trajectories.parquet", "readouts.json"} <= names
    assert not [p for p in out.parent.iterdir() if "staging" in p.name]


def test_demo_runs_a_cohort_and_its_registry_studies(demo):
    proc, out = demo
    summary = json.loads(proc.stdout)
    c = summary["cohort"]
    assert c["n_persons"] == 100_000 and set(c["arms"]) == {"baseline", "vaccinated", "anti-il6-after-infection",
                                                             "no-infection"}
    assert c["arms"]["no-infection"]["infections"] == 0 < c["infections"]
    assert c["arms"]["anti-il6-after-infection"]["anti_il6_doses"] > 0
    assert set(summary["registry"]) == {"flatiron-style", "ukb-style", "planted-check (planted)"}
    for hrs in summary["registry"].values():
        assert any(h["term"].startswith("infection") for h in hrs)
    assert (out / "cohort" / "summary.json").is_file() and (out / "registry.duckdb").is_file()
    html = (out / "report.html").read_text()
    for text in ("Virtual cohort", "Registry analysis", "planted truth", "Flatiron Health, HR ~1.44",
                 "UK Biobank, OR ~1.85"):
        assert text in html, text


def test_report_is_self_contained(demo):
    html = (demo[1] / "report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html>")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) >= 3
    for data in images:
        assert base64.b64decode(data)[:8] == PNG_MAGIC
    # nothing is fetched from the network to view it
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.IGNORECASE)
    assert not re.search(r"<link[^>]*stylesheet", html, re.IGNORECASE)
    assert not re.search(r"@import", html)


def test_report_shows_every_target_and_arm(demo):
    html = (demo[1] / "report.html").read_text()
    for t in TARGETS:
        assert f">{t.id}<" in html
    assert "FAIL" not in re.sub(r"data:image/png;base64,[^\"]+", "", html)  # embedded images may spell it by chance
    for arm in mouse_panel():
        assert arm.label.replace("&", "&amp;") in html


def test_targets_json_all_ok(demo):
    rows = json.loads((demo[1] / "targets.json").read_text())
    assert [r["id"] for r in rows] == [t.id for t in TARGETS]
    assert all(r["ok"] is True for r in rows), [r["id"] for r in rows if not r["ok"]]
    assert all(r["source"] for r in rows)


def test_demo_manifest_checksums_match(demo):
    _, out = demo
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "demo"
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["versions"]["reawaken"]
    assert set(manifest["files"]) == {p.name for p in out.iterdir() if p.is_file()} - {"manifest.json"}
    for name, digest in manifest["files"].items():
        assert digest == hashlib.sha256((out / name).read_bytes()).hexdigest(), name
    assert set(manifest["status"]) == {"OK"}
    for record in manifest["scenarios"].values():
        assert all(p["source"].strip() for p in record["parameters"])


def test_demo_trajectories_hold_the_mouse_panel(demo):
    table = pq.read_table(demo[1] / "trajectories.parquet")
    assert table.column_names == ["subject", "time_days", "species", "value"]
    assert table.schema.metadata[b"schema_version"] == SCHEMA_VERSION.encode()
    subjects = set(table.column("subject").to_pylist())
    assert subjects == set(range(len(mouse_panel())))
    assert max(table.column("time_days").to_pylist()) == 270.0


def _params(capsys, *argv):
    code = main(["params", *argv, "--json"])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_params_lists_every_parameter_with_a_source(capsys):
    rows = _params(capsys, "--host", "human", "--virus", "sars-cov-2")
    spec = profile("human", "sars-cov-2").spec()
    assert [r["name"] for r in rows] == list(spec.parameter_names)
    for r in rows:
        assert isinstance(r["source"], str) and r["source"].strip(), r["name"]
        assert r["value"] == spec.parameter(r["name"]).value
        assert "unit" in r
    # the host/virus choice reaches the table: human SARS-CoV-2 differs from mouse PR8
    human = {r["name"]: r["value"] for r in rows}
    mouse = {r["name"]: r["value"] for r in _params(capsys, "--host", "mouse", "--virus", "influenza")}
    assert set(human) == set(mouse)
    assert human["T0"] != mouse["T0"] and human["delta_I"] != mouse["delta_I"]


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("virus", VIRUSES)
def test_every_profile_is_fully_sourced(host, virus, capsys):
    rows = _params(capsys, "--host", host, "--virus", virus)
    assert rows and all(r["source"].strip() for r in rows)


def test_params_rejects_unknown_host(capsys):
    with pytest.raises(SystemExit) as info:
        main(["params", "--host", "dog"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("reawaken") and "error" in err
