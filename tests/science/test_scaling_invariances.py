"""Metamorphic tests: relations between runs that must hold whatever the parameter values are.

* DCC scale: the DCC compartment is linear in cell counts except for the logistic ceiling
  (``dcc_total / dcc_capacity``) and the saturating CD4 recruitment (``awakened / (K_C4A + awakened)``).
  Scaling the initial dormant count together with every parameter counted in DCCs (``dcc_capacity``,
  ``K_C4A``) scales all DCC states and leaves ``dcc_fold`` unchanged. Scaling ``dcc_capacity`` alone does not:
  CD4 recruitment sees the absolute number of awakened cells.
* Batch order: rows of ``run_scenarios`` are independent, so permuting the scenarios permutes the episodes.
"""

from __future__ import annotations

import numpy as np
import pytest

from reawaken.experiments import output_times, run_scenarios
from reawaken.model import compile_model
from reawaken.scenarios import AntiIL6, Antiviral, CD4Depletion, Scenario, Vaccinated
from reawaken.solvers import BatchDopri5, Status, simulate

# Every DCC pool: the bone-marrow and liver pools share dcc_capacity with the lung, so they scale too.
DCC_STATES = ("dormant", "awakened", "primed", "awakenings", *(f"{site}_{state}" for site in ("bone", "liver")
                                                              for state in ("dormant", "awakened", "primed")))
POOLS = ("dormant", "bone_dormant", "liver_dormant")


def _fold(values, species):
    idx = [species.index(s) for s in ("dormant", "awakened", "primed")]
    tot = values[..., idx].sum(axis=-1)
    return tot / tot[..., :1]


def _scaled(scenario, factor, *, with_k_c4a=True):
    spec, _ = scenario.apply()
    initial = {k: spec.species[spec.species_names.index(k)].initial * factor for k in POOLS}
    overrides = {**scenario.overrides, "dcc_capacity": spec.parameter("dcc_capacity").value * factor}
    if with_k_c4a:
        overrides["K_C4A"] = spec.parameter("K_C4A").value * factor
    return Scenario(scenario.host, scenario.virus, scenario.infection_days, scenario.interventions,
                    overrides=overrides, initial=initial, name=f"x{factor}")


BASES = [
    Scenario("mouse", "influenza"),
    Scenario("mouse", "influenza", infection_days=(0.0, 60.0), interventions=(AntiIL6(day=3.0),)),
    Scenario("human", "sars-cov-2"),
]


@pytest.fixture(scope="module")
def scaled_runs():
    arms = []
    for base in BASES:
        arms += [base, _scaled(base, 10.0), _scaled(base, 0.1), _scaled(base, 10.0, with_k_c4a=False)]
    episodes = run_scenarios(arms, days=120.0)
    return [episodes[i:i + 4] for i in range(0, len(episodes), 4)]


@pytest.mark.parametrize("which", range(len(BASES)))
def test_scaling_dccs_with_their_capacities_leaves_fold_unchanged(scaled_runs, which):
    base, up, down, _ = scaled_runs[which]
    assert [e.status for e in (base, up, down)] == [Status.OK] * 3
    f0 = _fold(base.values, base.species)
    for ep in (up, down):
        np.testing.assert_allclose(_fold(ep.values, ep.species), f0, rtol=1e-3)
        for day, value in base.readouts["dcc_fold"].items():
            assert ep.readouts["dcc_fold"][day] == pytest.approx(value, rel=1e-3)


@pytest.mark.parametrize("which", range(len(BASES)))
def test_scaling_dccs_scales_every_dcc_state_and_nothing_else(scaled_runs, which):
    base, up, _, _ = scaled_runs[which]
    for name in base.species:
        a, b = base.column(name), up.column(name)
        if name in DCC_STATES:
            np.testing.assert_allclose(b, 10.0 * a, rtol=1e-3, atol=1e-6 * np.max(np.abs(b)))
        elif name != "cd4":  # CD4 recruitment saturates in awakened cells: invariant only with K_C4A scaled
            np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-6 * max(np.max(np.abs(a)), 1.0))
    np.testing.assert_allclose(up.column("cd4"), base.column("cd4"), rtol=1e-3)


def test_cd4_recruitment_makes_fold_depend_on_absolute_dcc_numbers(scaled_runs):
    """Documents why K_C4A must be scaled too: with dcc_capacity alone scaled by 10, the fold changes (mouse
    PR8) because 10x more awakened cells recruit more CD4 shields."""
    base, _, _, capacity_only = scaled_runs[0]
    f0, f1 = _fold(base.values, base.species), _fold(capacity_only.values, capacity_only.species)
    assert np.max(np.abs(f1 / f0 - 1.0)) > 0.01
    assert np.max(capacity_only.column("cd4")) > np.max(base.column("cd4"))


def test_scaling_invariance_with_the_low_level_api():
    """Same relation through spec.with_initial + compile_model + simulate, both rows in one solve."""
    spec, schedule = Scenario("mouse", "influenza").apply()
    factor = 10.0
    scaled = spec.with_values({"dcc_capacity": spec.parameter("dcc_capacity").value * factor,
                               "K_C4A": spec.parameter("K_C4A").value * factor})
    scaled = scaled.with_initial({"dormant": spec.species[spec.species_names.index("dormant")].initial * factor})
    model = compile_model(spec)
    y0 = np.array([[s.initial for s in sp.species] for sp in (spec, scaled)])
    params = np.array([[p.value for p in sp.parameters] for sp in (spec, scaled)])
    traj = simulate(model, BatchDopri5(), y0, params, t_eval=output_times(60.0), events=[schedule, schedule])
    assert list(traj.status) == [0, 0]
    folds = _fold(traj.values, traj.species)
    np.testing.assert_allclose(folds[1], folds[0], rtol=1e-3)
    assert folds[0, -1] > 100.0  # the relation is checked on a real expansion, not on a flat line


ORDER_ARMS = [
    Scenario("mouse", "influenza"),
    Scenario("mouse", "none"),
    Scenario("mouse", "influenza", interventions=(AntiIL6(),)),
    Scenario("human", "sars-cov-2", interventions=(Antiviral(),)),
    Scenario("mouse", "influenza", infection_days=(0.0, 20.0), interventions=(CD4Depletion(start_day=3.0, end_day=10.0),)),
    Scenario("human", "influenza", interventions=(Vaccinated(),)),
]


@pytest.fixture(scope="module")
def ordered_runs():
    perm = [3, 0, 5, 4, 2, 1]
    forward = run_scenarios(ORDER_ARMS, days=40.0)
    permuted = run_scenarios([ORDER_ARMS[i] for i in perm], days=40.0)
    backward = run_scenarios(ORDER_ARMS[::-1], days=40.0)
    return forward, [permuted[perm.index(i)] for i in range(len(perm))], backward[::-1]


@pytest.mark.parametrize("which", ["permuted", "reversed"])
def test_batch_order_does_not_change_any_episode(ordered_runs, which):
    forward, permuted, backward = ordered_runs
    other = permuted if which == "permuted" else backward
    for a, b in zip(forward, other):
        assert a.scenario == b.scenario
        assert a.status == b.status == Status.OK
        np.testing.assert_allclose(b.values, a.values, rtol=1e-8, atol=1e-9)
        for day, value in a.readouts["dcc_fold"].items():
            assert b.readouts["dcc_fold"][day] == pytest.approx(value, rel=1e-8)
        assert b.readouts["il6_peak_day"] == a.readouts["il6_peak_day"]


def test_arms_in_a_batch_are_not_mixed_up(ordered_runs):
    forward, _, _ = ordered_runs
    pbs = forward[1]
    assert pbs.scenario.virus == "none"
    assert np.max(pbs.column("virus")) == 0.0
    assert all(np.max(ep.column("virus")) > 0 for i, ep in enumerate(forward) if i != 1)
