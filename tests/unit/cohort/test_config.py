"""Cohort configuration: defaults load, user keys merge, and bad input names the key."""

from __future__ import annotations

import pytest

from reawaken.cohort.config import default_config, load_config
from reawaken.errors import ConfigError


def test_defaults_are_valid_and_every_section_cites_sources():
    cfg = default_config()
    for section in ("people", "mortality", "influenza", "sars_cov_2", "mechanism"):
        assert cfg.section(section)["sources"], section
    assert set(cfg.arms) >= {"baseline", "vaccinated", "anti-il6-after-infection", "no-infection"}


def test_user_file_changes_only_its_keys(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[influenza]\nattack_rate_65_plus = 0.05\n[arms.my-arm]\ninfluenza_vaccine_coverage = 0.9\n')
    cfg = load_config(f)
    assert cfg.get("influenza", "attack_rate_65_plus") == 0.05
    assert cfg.get("influenza", "attack_rate_under_65") == default_config().get("influenza", "attack_rate_under_65")
    assert cfg.arms["my-arm"] == {"influenza_vaccine_coverage": 0.9}
    assert cfg.hash() != default_config().hash()


@pytest.mark.parametrize(("text", "named"), [
    ("[influenza]\nattack_rate_65_plus = 2.0", "attack_rate_65_plus"),
    ("[influenza]\nattack_rate_65_plus = 'high'", "attack_rate_65_plus"),
    ("[influenza]\nattak_rate = 0.1", "attak_rate"),
    ("[weather]\nrain = 1", "weather"),
    ("[people]\nsubtype_shares = { TNBC = 1.0 }", "subtype_shares"),
    ("[people]\nage_min = 80\nage_mean = 60", "age_min"),
    ("[cohort]\nstart_date = '2012-13-01'", "start_date"),
    ("[sars_cov_2]\nwaves = [{ name = 'x', peak = '2020-01-01', spread_days = -1, attack_rate = 0.1, severity = 1 }]",
     "spread_days"),
    ("[mechanism]\nmode = 'magic'", "mode"),
    ("[mechanism]\nplanted_hazard_ratios = [2.0]", "planted_hazard_ratios"),
    ("[arms.x]\nvaccine = true", "vaccine"),
    ("[arms.x]\nanti_il6_threshold = -5", "anti_il6_threshold"),
    ("not toml = = 1", "TOML"),
])
def test_bad_config_names_the_key(text, named):
    with pytest.raises(ConfigError, match=named):
        load_config(text=text)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
