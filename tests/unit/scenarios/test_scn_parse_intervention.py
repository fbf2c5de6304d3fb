"""``parse_intervention``: every registered name, every setting alias, and every kind of bad input."""

from __future__ import annotations

import math

import pytest

from reawaken.errors import ReawakenError, ScenarioError
from reawaken.scenarios import (
    REGISTRY,
    AntiIL6,
    Antiviral,
    CD4Depletion,
    CD8Depletion,
    IL6Knockout,
    Inflammation,
    NETInhibition,
    NeutrophilDepletion,
    Vaccinated,
    parse_intervention,
)

EXPECTED_TYPES = {
    "il6-ko": IL6Knockout,
    "anti-il6": AntiIL6,
    "cd4-depletion": CD4Depletion,
    "cd8-depletion": CD8Depletion,
    "neutrophil-depletion": NeutrophilDepletion,
    "net-inhibition": NETInhibition,
    "inflammation": Inflammation,
    "vaccinated": Vaccinated,
    "antiviral": Antiviral,
}

# One valid value per short alias of every intervention that has settings (chosen != the default).
ALIAS_VALUES = {
    "anti-il6": {"dose": ("dose_mg_per_kg", 4.0), "day": ("day", 2.5), "doses": ("n_doses", 3),
                 "interval": ("interval_days", 7.0)},
    "cd4-depletion": {"start": ("start_day", 1.0), "end": ("end_day", 9.0)},
    "cd8-depletion": {"start": ("start_day", 1.0), "end": ("end_day", 9.0)},
    "neutrophil-depletion": {"start": ("start_day", 1.0), "end": ("end_day", 9.0)},
    "net-inhibition": {"efficacy": ("efficacy", 0.5), "start": ("start_day", 1.0), "end": ("end_day", 9.0)},
    "inflammation": {"start": ("start_day", 20.0), "duration": ("duration_days", 9.0)},
    "vaccinated": {"titre": ("titre", 0.5)},
    "antiviral": {"efficacy": ("efficacy", 0.5), "start": ("start_day", 1.0), "duration": ("duration_days", 3.0)},
}


def test_registry_names_are_the_nine_documented_interventions():
    assert set(REGISTRY) == set(EXPECTED_TYPES)
    for name, (cls, _aliases) in REGISTRY.items():
        assert cls is EXPECTED_TYPES[name]
        assert cls.key == name


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_bare_name_gives_the_default_record(name):
    record = parse_intervention(name)
    assert type(record) is EXPECTED_TYPES[name]
    assert record == EXPECTED_TYPES[name]()


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_surrounding_whitespace_is_ignored(name):
    assert parse_intervention(f"  {name}  ") == EXPECTED_TYPES[name]()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("anti-il6:dose=8,day=1", AntiIL6(dose_mg_per_kg=8.0, day=1.0)),
        ("anti-il6:dose=4,day=3,doses=2,interval=14", AntiIL6(4.0, 3.0, 2, 14.0)),
        ("cd4-depletion:start=0,end=28", CD4Depletion(start_day=0.0, end_day=28.0)),
        ("cd8-depletion:start=2,end=20", CD8Depletion(start_day=2.0, end_day=20.0)),
        ("neutrophil-depletion:start=0,end=7", NeutrophilDepletion(start_day=0.0, end_day=7.0)),
        ("vaccinated:titre=0.1", Vaccinated(titre=0.1)),
        ("antiviral:efficacy=0.9,start=2,duration=5", Antiviral(efficacy=0.9, start_day=2.0, duration_days=5.0)),
        ("anti-il6: dose = 2 , day = 4 ", AntiIL6(dose_mg_per_kg=2.0, day=4.0)),
        ("anti-il6:dose_mg_per_kg=6", AntiIL6(dose_mg_per_kg=6.0)),  # full field names work too
        ("cd4-depletion:end=inf", CD4Depletion(end_day=math.inf)),
        ("anti-il6:", AntiIL6()),
    ],
)
def test_settings_are_parsed(text, expected):
    assert parse_intervention(text) == expected


@pytest.mark.parametrize(("name", "alias"), [(n, a) for n, d in ALIAS_VALUES.items() for a in d])
def test_every_alias_sets_its_field(name, alias):
    field, value = ALIAS_VALUES[name][alias]
    record = parse_intervention(f"{name}:{alias}={value}")
    assert getattr(record, field) == value
    default = EXPECTED_TYPES[name]()
    assert getattr(default, field) != value  # the setting really changed something


def test_every_alias_in_the_registry_is_covered():
    for name, (_cls, aliases) in REGISTRY.items():
        assert set(aliases) == set(ALIAS_VALUES.get(name, {})), name


def test_doses_is_parsed_as_an_integer():
    record = parse_intervention("anti-il6:doses=2")
    assert record.n_doses == 2
    assert isinstance(record.n_doses, int)


BAD = [
    ("anti-il7", "unknown intervention"),
    ("", "unknown intervention"),
    ("ANTI-IL6", "unknown intervention"),
    ("vaccine", "unknown intervention"),
    ("anti-il6:foo=1", "bad setting"),
    ("il6-ko:dose=1", "bad setting"),
    ("vaccinated:dose=1", "bad setting"),
    ("cd4-depletion:stop=3", "bad setting"),
    ("anti-il6:dose", "bad setting"),
    ("anti-il6:dose=abc", "not a number"),
    ("anti-il6:dose=", "not a number"),
    ("antiviral:efficacy=high", "not a number"),
    ("anti-il6:dose=-1", "dose"),
    ("anti-il6:dose=0", "dose"),
    ("anti-il6:dose=nan", "dose"),
    ("anti-il6:dose=1000", "implausible"),
    ("anti-il6:day=-1", "day"),
    ("anti-il6:doses=0", "n_doses"),
    ("anti-il6:doses=1.5", "n_doses"),
    ("anti-il6:interval=0", "interval"),
    ("cd4-depletion:start=0,end=0", "end"),
    ("cd4-depletion:start=10,end=5", "end"),
    ("cd8-depletion:start=-1", "start"),
    ("neutrophil-depletion:start=3,end=3", "end"),
    ("vaccinated:titre=-0.1", "titre"),
    ("vaccinated:titre=inf", "titre"),
    ("antiviral:efficacy=1.1", "efficacy"),
    ("antiviral:efficacy=-0.1", "efficacy"),
    ("antiviral:duration=0", "duration"),
    ("antiviral:start=-2", "start"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD)
def test_bad_input_raises_scenario_error(text, fragment):
    with pytest.raises(ScenarioError) as info:
        parse_intervention(text)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ReawakenError)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_unknown_name_message_lists_the_choices():
    with pytest.raises(ScenarioError) as info:
        parse_intervention("tocilizumab")
    for name in REGISTRY:
        assert name in str(info.value)


def test_bad_key_message_names_the_valid_keys():
    with pytest.raises(ScenarioError) as info:
        parse_intervention("antiviral:eff=0.5")
    assert "efficacy" in str(info.value)
    assert "duration" in str(info.value)


@pytest.mark.parametrize(
    "build",
    [
        lambda: AntiIL6(dose_mg_per_kg=-8.0),
        lambda: AntiIL6(n_doses=2.0),
        lambda: CD4Depletion(start_day=5.0, end_day=1.0),
        lambda: CD8Depletion(start_day=math.nan),
        lambda: Vaccinated(titre=math.nan),
        lambda: Antiviral(efficacy=2.0),
        lambda: Antiviral(duration_days=-1.0),
    ],
)
def test_records_validate_when_built_directly(build):
    with pytest.raises(ScenarioError):
        build()
