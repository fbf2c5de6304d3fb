"""Trajectories: labelled selection, final values and the long format."""

from __future__ import annotations

import numpy as np
import pytest

from reawaken.model import ModelSpec, Parameter, Species, Transition, compile_model
from reawaken.solvers import BatchDopri5, Status, Trajectories, simulate


@pytest.fixture
def traj() -> Trajectories:
    # values[s, t, k] = 100 s + 10 t + k: every entry tells where it came from
    n_sub, n_t, n_sp = 2, 3, 4
    s, t, k = np.meshgrid(np.arange(n_sub), np.arange(n_t), np.arange(n_sp), indexing="ij")
    return Trajectories(
        time=np.array([0.0, 0.5, 2.0]),
        species=("a", "b", "c", "d"),
        values=(100 * s + 10 * t + k).astype(float),
        status=np.array([Status.OK, Status.MAX_STEPS], dtype=np.int64),
        model_hash="abc",
    )


def test_sel_returns_subject_by_time(traj):
    c = traj.sel("c")
    assert c.shape == (2, 3)
    np.testing.assert_array_equal(c, [[2, 12, 22], [102, 112, 122]])


def test_final_is_the_last_time(traj):
    np.testing.assert_array_equal(traj.final("b"), [21, 121])


def test_at_picks_the_nearest_output_time(traj):
    np.testing.assert_array_equal(traj.at(0.7), [[10, 11, 12, 13], [110, 111, 112, 113]])  # t = 0.5
    np.testing.assert_array_equal(traj.at(100.0)[:, 0], [20, 120])


def test_unknown_species_is_a_key_error_naming_known_ones(traj):
    with pytest.raises(KeyError, match="unknown species 'e'; known: a, b, c, d"):
        traj.sel("e")
    with pytest.raises(KeyError, match="known: a, b, c, d"):
        traj.final("A")


def test_columns_long_format_lengths_and_order(traj):
    cols = traj.columns()
    assert set(cols) == {"subject", "time_days", "species", "value"}
    n = 2 * 3 * 4
    assert all(len(v) == n for v in cols.values())
    # subject-major, then time, then species (C order of values[subject, time, species])
    np.testing.assert_array_equal(cols["subject"], np.repeat([0, 1], 12))
    np.testing.assert_array_equal(cols["time_days"][:8], [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(cols["time_days"][12:16], [0, 0, 0, 0])
    assert list(cols["species"][:6]) == ["a", "b", "c", "d", "a", "b"]
    # every row's value is consistent with its labels: value = 100 s + 10 t_index + species_index
    t_index = np.searchsorted(traj.time, cols["time_days"])
    k_index = np.array(["abcd".index(x) for x in cols["species"]])
    np.testing.assert_array_equal(cols["value"], 100 * cols["subject"] + 10 * t_index + k_index)
    assert cols["subject"].dtype == np.int64


def test_ok_and_n_subjects(traj):
    assert traj.n_subjects == 2
    np.testing.assert_array_equal(traj.ok(), [True, False])


def test_simulate_labels_the_result():
    spec = ModelSpec(
        "two",
        (Species("X", "1", 1.0), Species("Y", "1", 0.0)),
        (Parameter("k", 0.5, "1/d", "test"),),
        (Transition("conv", {"X": -1, "Y": 1}, "k * X"),),
    )
    model = compile_model(spec)
    t = [0.0, 1.0, 3.0]
    traj = simulate(model, BatchDopri5(rtol=1e-9, atol=1e-12), [[1.0, 0.0], [2.0, 0.0]], t_eval=t)
    assert traj.species == ("X", "Y")
    np.testing.assert_array_equal(traj.time, t)
    assert traj.values.shape == (2, 3, 2)
    assert traj.model_hash == model.hash
    # X = X0 e^{-k t}, Y = X0 (1 - e^{-k t})
    np.testing.assert_allclose(traj.final("Y"), [1 - np.exp(-1.5), 2 * (1 - np.exp(-1.5))], rtol=1e-7)
    cols = traj.columns()
    assert len(cols["value"]) == 2 * 3 * 2
    np.testing.assert_allclose(cols["value"][cols["species"] == "X"], traj.sel("X").reshape(-1))
