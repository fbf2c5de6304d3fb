"""Every use case returns a frozen result: documented frames with units, a summary that fits a screen,
the CLI's JSON, a manifest with the parameter set, and files written only by ``save``."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from reawaken import api
from reawaken.errors import ParameterError, ReawakenError
from reawaken.model.params import ParameterSet
from reawaken.scenarios import AntiIL6, Scenario

SCREEN_LINES, SCREEN_CHARS = 40, 4000  # a screenful: 40 lines of 100 characters


def _fits_a_screen(obj) -> None:
    text = repr(obj)
    assert len(text.splitlines()) <= SCREEN_LINES and len(text) <= SCREEN_CHARS, text


@pytest.fixture(scope="module")
def flu():
    return api.simulate(Scenario("mouse", "influenza"), days=60)


def test_simulation_frames_have_the_documented_columns_and_units(flu):
    for name, spec in flu.frames.items():
        df = flu.frame(name)
        assert isinstance(df, pd.DataFrame) and len(df) > 0
        if name != "wide":  # wide: time_days then one column per species
            assert tuple(df.columns) == spec.names
            assert df.attrs["units"] == {c.name: c.unit for c in spec.columns}
    wide = flu.frame("wide")
    assert list(wide.columns) == ["time_days", *flu.episode.species]
    long = flu.frame("trajectories")
    dcc = long[(long.species == "dormant") & (long.time_days == 0.0)].value.iloc[0]
    assert dcc == wide.dormant.iloc[0]


def test_printing_a_result_fits_a_screen_and_is_not_a_dump(flu):
    _fits_a_screen(flu)
    assert "SimulationResult" in repr(flu) and "frames:" in repr(flu)
    assert flu.summary.shape[0] <= 10
    assert "<table" in flu._repr_html_()


def test_to_dict_is_the_cli_json(flu, tmp_path):
    from reawaken.cli.main import main

    out = tmp_path / "o"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["simulate", "--host", "mouse", "--virus", "influenza", "--days", "60", "--out", str(out),
                     "--json"]) == 0
    assert json.loads(buf.getvalue()) == json.loads(json.dumps(flu.to_dict(), default=str).replace("NaN", "null"))


def test_results_are_frozen_and_save_is_the_only_writer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    flu = api.simulate(Scenario("mouse", "influenza"), days=20)
    with pytest.raises(dataclasses.FrozenInstanceError):
        flu.days = 3  # type: ignore[misc]
    assert not any(tmp_path.iterdir())  # computing wrote nothing, not even in the working folder
    flu.save(tmp_path / "run")
    assert {p.name for p in (tmp_path / "run").iterdir()} == {"trajectories.parquet", "readouts.json", "figure.png",
                                                               "manifest.json"}
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["parameter_set"]["provenance"] == "default" and set(manifest["files"]) >= {"readouts.json"}


def test_unknown_frame_names_the_frames(flu):
    with pytest.raises(ReawakenError, match="frames: trajectories, wide, readouts"):
        flu.frame("persons")


def test_a_parameter_set_reaches_the_mechanism_and_the_manifest():
    base = api.simulate(Scenario("mouse", "influenza"), days=30)
    ps = ParameterSet({"K_il6": 20.0}, provenance="posterior draw 7", host="mouse")
    fast = api.simulate(Scenario("mouse", "influenza"), days=30, params=ps)
    # a lower half-saturation of IL-6 signalling wakes more DCCs by day 15 (the dose-response of Chia et al.)
    assert fast.to_dict()["dcc_fold"]["15"] > base.to_dict()["dcc_fold"]["15"]
    assert fast.manifest["parameter_set"] == ps.to_dict()
    # overrides given on the scenario still win over the set
    from reawaken.model.library.hosts import profile

    default_k = profile("mouse", "influenza").spec().parameter("K_il6").value
    both = api.simulate(Scenario("mouse", "influenza", overrides={"K_il6": default_k}), days=30, params=ps)
    assert both.to_dict()["dcc_fold"] == base.to_dict()["dcc_fold"]


def test_parameter_sets_are_validated_with_a_fix_in_the_message():
    with pytest.raises(ParameterError, match="did you mean K_il6"):
        ParameterSet({"K_il66": 1.0})
    with pytest.raises(ParameterError, match="outside its bounds"):
        ParameterSet({"K_il6": -1.0})
    with pytest.raises(ParameterError, match="finite"):
        ParameterSet({"K_il6": float("nan")})
    with pytest.raises(ReawakenError, match="host 'mouse'"):
        api.simulate(Scenario("human", "influenza"), params=ParameterSet({"K_il6": 20.0}, host="mouse"))
    ps = ParameterSet({"K_il6": 250.0})
    assert ps.hash() == ParameterSet({"K_il6": 250}, provenance="other").hash() != ParameterSet.default().hash()
    assert len(repr(ps)) < 200


def test_stochastic_result_frames_and_seed():
    res = api.simulate_stochastic(Scenario("human", "influenza", interventions=(AntiIL6(),)), days=40,
                                  replicates=20, seed=4)
    rep = res.frame("replicates")
    assert tuple(rep.columns) == res.frames["replicates"].names and rep.replicate.nunique() == 20
    assert res.manifest["seed"] == 4
    _fits_a_screen(res)
    again = api.simulate_stochastic(Scenario("human", "influenza", interventions=(AntiIL6(),)), days=40,
                                    replicates=20, seed=4)
    pd.testing.assert_frame_equal(rep, again.frame("replicates"))
