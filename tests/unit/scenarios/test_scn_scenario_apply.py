"""``Scenario.apply``: pure, builds the expected spec and events, validates its inputs."""

from __future__ import annotations

import math

import pytest

from reawaken.errors import ParameterError, ReawakenError, ScenarioError
from reawaken.model.events import ParameterSwitch, StateJump, StateScale
from reawaken.model.library.hosts import profile
from reawaken.scenarios import (
    AntiIL6,
    Antiviral,
    CD4Depletion,
    CD8Depletion,
    IL6Knockout,
    NeutrophilDepletion,
    Scenario,
    Vaccinated,
)

ALL_INTERVENTIONS = (IL6Knockout(), AntiIL6(), CD4Depletion(start_day=0.0, end_day=28.0), CD8Depletion(),
                     NeutrophilDepletion(), Vaccinated(), Antiviral())


def _initial(spec, name):
    return spec.species[spec.species_names.index(name)].initial


def _jumps(schedule, species):
    return [j for j in schedule.jumps if j.species == species]


def _switches(schedule, parameter):
    return sorted((s.time, s.value) for s in schedule.switches if s.parameter == parameter)


# --- purity ---------------------------------------------------------------------------------------------

def test_apply_twice_gives_equal_results():
    s = Scenario("mouse", "influenza", infection_days=(0.0, 60.0), interventions=ALL_INTERVENTIONS,
                 overrides={"k_wake": 0.5})
    spec1, sched1 = s.apply()
    spec2, sched2 = s.apply()
    assert spec1 == spec2
    assert sched1 == sched2
    assert spec1.parameter("k_wake").value == 0.5


def test_apply_leaves_the_base_spec_untouched():
    base = profile("mouse", "influenza").spec()
    pristine = profile("mouse", "influenza").spec()
    assert base == pristine
    s = Scenario("mouse", "influenza", interventions=ALL_INTERVENTIONS, overrides={"k_wake": 0.5, "r_A": 1.0})
    spec, _ = s.apply(base)
    assert base == pristine
    assert base.parameter("k_wake").value == pristine.parameter("k_wake").value != 0.5
    assert base.parameter("il6_ko").value == 0.0
    assert _initial(base, "il6") == _initial(pristine, "il6") > 0.0
    # ...while the result did change
    assert spec != base
    assert spec.parameter("k_wake").value == 0.5
    assert spec.parameter("il6_ko").value == 1.0
    assert _initial(spec, "il6") == 0.0


def test_apply_uses_the_given_base():
    base = profile("mouse", "influenza").spec().with_values({"k_wake": 0.3})
    spec, _ = Scenario("mouse", "influenza").apply(base)
    assert spec.parameter("k_wake").value == 0.3
    default_spec, _ = Scenario("mouse", "influenza").apply()
    assert default_spec.parameter("k_wake").value == profile("mouse", "influenza").spec().parameter("k_wake").value
    assert default_spec.parameter("k_wake").value != 0.3


def test_overrides_are_copied_and_read_only():
    overrides = {"k_wake": 0.5}
    s = Scenario("mouse", "influenza", overrides=overrides)
    overrides["k_wake"] = 2.0
    assert s.overrides["k_wake"] == 0.5
    with pytest.raises(TypeError):
        s.overrides["k_wake"] = 3.0  # type: ignore[index]


def test_overrides_replace_values_and_record_the_source():
    spec, _ = Scenario("mouse", "influenza", overrides={"k_kill": 0.5}).apply()
    p = spec.parameter("k_kill")
    assert p.value == 0.5
    assert p.source == "user override"


def test_intervention_parameters_record_their_source():
    spec, _ = Scenario("mouse", "influenza", interventions=(IL6Knockout(),)).apply()
    assert spec.parameter("il6_ko").source == "intervention"


# --- infection events -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("host", "virus"), [("mouse", "influenza"), ("mouse", "sars-cov-2"),
                                             ("human", "influenza"), ("human", "sars-cov-2")])
def test_one_virus_jump_per_infection_day(host, virus):
    days = (0.0, 60.0, 120.0)
    _, sched = Scenario(host, virus, infection_days=days).apply()
    jumps = _jumps(sched, "virus")
    assert [j.time for j in jumps] == list(days)
    assert all(j.amount == profile(host, virus).inoculum for j in jumps)
    assert profile(host, virus).inoculum > 0


def test_later_infections_scale_the_neutralising_titre():
    """A drifted strain escapes the titre and needs new B-cell (germinal-centre) activation."""
    _, sched = Scenario("mouse", "influenza", infection_days=(0.0, 60.0, 120.0), cross_reactivity=0.2).apply()
    assert sched.scales == tuple(StateScale(d, name, 0.2, "drifted strain") for d in (60.0, 120.0)
                                 for name in ("nab", "gc"))


def test_a_single_infection_has_no_scale():
    _, sched = Scenario("mouse", "influenza").apply()
    assert sched.scales == ()
    assert [j.time for j in sched.jumps] == [0.0]


def test_infection_days_are_sorted():
    s = Scenario("mouse", "influenza", infection_days=(60, 0))
    assert s.infection_days == (0.0, 60.0)
    _, sched = s.apply()
    assert [j.time for j in _jumps(sched, "virus")] == [0.0, 60.0]
    assert [sc.time for sc in sched.scales] == [60.0, 60.0]  # nab and gc


def test_uninfected_control_has_no_infection_events():
    s = Scenario("mouse", "none", infection_days=(0.0, 60.0), interventions=(Antiviral(),))
    _, sched = s.apply()
    assert _jumps(sched, "virus") == []
    assert sched.scales == ()
    assert _switches(sched, "antiviral_on") == []
    assert s.effective_infection_days == ()


# --- intervention events ------------------------------------------------------------------------------

def test_anti_il6_jump_is_dose_over_volume():
    spec, sched = Scenario("mouse", "influenza", interventions=(AntiIL6(dose_mg_per_kg=8.0, day=1.0),)).apply()
    (jump,) = _jumps(sched, "antibody")
    v_ab = spec.parameter("V_ab").value  # mL/kg (tocilizumab label, science.md 3.5)
    assert jump.time == 1.0
    assert jump.amount == pytest.approx(8.0 * 1000.0 / v_ab)  # mg/kg -> ug/mL over V (mL/kg)


def test_anti_il6_repeated_doses():
    spec, sched = Scenario("mouse", "influenza",
                        interventions=(AntiIL6(dose_mg_per_kg=4.0, day=3.0, n_doses=3, interval_days=14.0),)).apply()
    jumps = _jumps(sched, "antibody")
    assert [j.time for j in jumps] == [3.0, 17.0, 31.0]
    assert all(j.amount == pytest.approx(4000.0 / spec.parameter("V_ab").value) for j in jumps)


@pytest.mark.parametrize(("record", "overrides", "species", "expected"), [
    # the antibody concentration must follow an overridden volume of distribution
    (AntiIL6(dose_mg_per_kg=8.0, day=1.0), {"V_ab": 126.0}, "antibody", lambda spec: 8000.0 / 126.0),
    # the vaccinated resting CD8 pool must follow an overridden memory factor
    (Vaccinated(), {"vacc_memory": 10.0}, "cd8", lambda spec: spec.parameter("E0").value * 10.0),
], ids=["V_ab-sets-antibody-dose", "vacc_memory-sets-cd8-pool"])
def test_intervention_effects_use_the_overridden_parameters(record, overrides, species, expected):
    """BUG (src/reawaken/scenarios/scenario.py, Scenario.apply): interventions see the spec *before* the
    ``overrides`` are applied, so ``--set V_ab=...`` does not change the antibody concentration of a dose and
    ``--set vacc_memory=...`` does not change the vaccinated CD8 pool at day 0."""
    spec, sched = Scenario("mouse", "influenza", interventions=(record,), overrides=overrides).apply()
    expected = expected(spec)
    for name, value in overrides.items():
        assert spec.parameter(name).value == value
    if species == "antibody":
        (jump,) = _jumps(sched, "antibody")
        assert jump.amount == pytest.approx(expected)
    else:
        assert _initial(spec, species) == pytest.approx(expected)


@pytest.mark.parametrize(("cls", "switch"), [(CD4Depletion, "cd4_depleted"), (CD8Depletion, "cd8_depleted"),
                                             (NeutrophilDepletion, "neut_depleted")])
def test_depletion_switches_on_and_off(cls, switch):
    _, sched = Scenario("mouse", "influenza", interventions=(cls(start_day=0.0, end_day=28.0),)).apply()
    assert _switches(sched, switch) == [(0.0, 1.0), (28.0, 0.0)]
    others = {"cd4_depleted", "cd8_depleted", "neut_depleted"} - {switch}
    assert all(_switches(sched, o) == [] for o in others)


@pytest.mark.parametrize("cls", [CD4Depletion, CD8Depletion, NeutrophilDepletion])
def test_open_ended_depletion_never_switches_off(cls):
    _, sched = Scenario("mouse", "influenza", interventions=(cls(start_day=3.0),)).apply()
    assert [(s.time, s.value) for s in sched.switches] == [(3.0, 1.0)]


def test_antiviral_course_after_every_infection():
    av = Antiviral(efficacy=0.8, start_day=2.0, duration_days=5.0)
    spec, sched = Scenario("mouse", "influenza", infection_days=(0.0, 60.0), interventions=(av,)).apply()
    assert _switches(sched, "antiviral_on") == [(2.0, 1.0), (7.0, 0.0), (62.0, 1.0), (67.0, 0.0)]
    assert spec.parameter("antiviral_eff").value == 0.8
    assert spec.parameter("antiviral_on").value == 0.0  # off until the course starts


def test_il6_knockout_sets_the_switch_and_zero_il6():
    spec, sched = Scenario("mouse", "influenza", interventions=(IL6Knockout(),)).apply()
    assert spec.parameter("il6_ko").value == 1.0
    assert _initial(spec, "il6") == 0.0
    assert sched.switches == ()


def test_vaccinated_sets_titre_and_memory_pool():
    spec, _ = Scenario("human", "influenza", interventions=(Vaccinated(titre=0.3),)).apply()
    assert spec.parameter("vaccinated").value == 1.0
    assert _initial(spec, "nab") == pytest.approx(0.3 + spec.parameter("nab_base").value)  # on top of the trace
    expected = spec.parameter("E0").value * spec.parameter("vacc_memory").value
    assert _initial(spec, "cd8") == pytest.approx(expected)
    assert spec.parameter("vacc_memory").value > 1.0


def test_all_interventions_combine_into_one_schedule():
    s = Scenario("mouse", "influenza", infection_days=(0.0, 60.0), interventions=ALL_INTERVENTIONS)
    spec, sched = s.apply()
    assert len(_jumps(sched, "virus")) == 2
    assert len(_jumps(sched, "antibody")) == 1
    assert _switches(sched, "cd4_depleted") == [(0.0, 1.0), (28.0, 0.0)]
    assert _switches(sched, "cd8_depleted") == [(0.0, 1.0)]
    assert _switches(sched, "neut_depleted") == [(0.0, 1.0)]
    assert len(_switches(sched, "antiviral_on")) == 4
    for name in ("il6_ko", "vaccinated"):
        assert spec.parameter(name).value == 1.0
    assert list(sched.times) == sorted(set(sched.times))


# --- validation ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("interventions", [
    (AntiIL6(), AntiIL6(dose_mg_per_kg=4.0)),
    (CD4Depletion(), IL6Knockout(), CD4Depletion(start_day=5.0)),
    (IL6Knockout(), IL6Knockout()),
])
def test_duplicate_interventions_are_rejected(interventions):
    with pytest.raises(ScenarioError, match="given twice"):
        Scenario("mouse", "influenza", interventions=interventions)


def test_depletions_of_different_cells_are_not_duplicates():
    s = Scenario("mouse", "influenza", interventions=(CD4Depletion(), CD8Depletion(), NeutrophilDepletion()))
    assert len(s.interventions) == 3


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"host": "rat"}, "unknown host"),
    ({"host": "Mouse"}, "unknown host"),
    ({"virus": "rsv"}, "unknown virus"),
    ({"virus": ""}, "unknown virus"),
    ({"infection_days": (-1.0,)}, "infection days"),
    ({"infection_days": (0.0, -60.0)}, "infection days"),
    ({"infection_days": (math.nan,)}, "infection days"),
    ({"infection_days": (math.inf,)}, "infection days"),
    ({"infection_days": (0.0, 0.0)}, "distinct"),
    ({"infection_days": (60, 0.0, 60.0)}, "distinct"),
    ({"cross_reactivity": 1.5}, "cross_reactivity"),
    ({"cross_reactivity": -0.1}, "cross_reactivity"),
])
def test_invalid_scenarios_are_rejected(kwargs, fragment):
    with pytest.raises(ScenarioError, match=fragment) as info:
        Scenario(**kwargs)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("overrides", [{"nosuchparam": 1.0}, {"k_wake": -1.0}, {"il6_ko": 2.0},
                                       {"k_wake": math.nan}])
def test_invalid_overrides_are_rejected_on_apply(overrides):
    s = Scenario("mouse", "influenza", overrides=overrides)
    with pytest.raises(ParameterError) as info:
        s.apply()
    assert isinstance(info.value, ReawakenError)
    assert isinstance(info.value, ValueError)


def test_label_names_host_virus_interventions_and_days():
    s = Scenario("mouse", "influenza", infection_days=(0.0, 60.0), interventions=(IL6Knockout(), AntiIL6()))
    assert s.label == "mouse / influenza / il6-ko / anti-il6 / 0x60"
    assert Scenario("mouse", "none", name="PBS").label == "PBS"


def test_events_are_plain_records():
    _, sched = Scenario("mouse", "influenza", interventions=(CD4Depletion(start_day=1, end_day=2),)).apply()
    assert all(isinstance(j, StateJump) for j in sched.jumps)
    assert all(isinstance(s, ParameterSwitch) for s in sched.switches)
    assert all(type(s.time) is float for s in sched.switches)  # integer days are coerced


# --- initial-state overrides ----------------------------------------------------------------------------

def test_initial_overrides_replace_profile_and_intervention_states():
    s = Scenario("mouse", "influenza", interventions=(IL6Knockout(),), initial={"dormant": 1000.0, "il6": 3.0})
    spec, _ = s.apply()
    assert _initial(spec, "dormant") == 1000.0
    assert _initial(spec, "il6") == 3.0  # applied last, over the knockout's il6 = 0
    base, _ = Scenario("mouse", "influenza").apply()
    assert _initial(base, "dormant") == 100.0


def test_initial_overrides_are_copied():
    initial = {"dormant": 50.0}
    s = Scenario("mouse", "influenza", initial=initial)
    initial["dormant"] = 5.0
    assert _initial(s.apply()[0], "dormant") == 50.0


@pytest.mark.parametrize("initial", [{"tumour": 1.0}, {"dormant": -1.0}, {"dormant": math.inf}])
def test_invalid_initial_overrides_are_rejected_on_apply(initial):
    with pytest.raises(ParameterError):
        Scenario("mouse", "influenza", initial=initial).apply()
