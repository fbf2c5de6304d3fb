"""Cohort configuration: TOML -> a validated, immutable record (design: validate where input enters).

The defaults live in ``default.toml`` beside this module, each value with its source. A user's file
only names the keys it changes; unknown sections or keys, wrong types and out-of-range values are
refused with a message that names the key (``[influenza] attack_rate_65_plus must be ...``).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ConfigError

Check = Callable[[Any], str | None]  # returns what is required, or None when the value is fine


def _num(lo: float = -math.inf, hi: float = math.inf, *, lo_open: bool = False) -> Check:
    def check(v: Any) -> str | None:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        ok = ok and (v > lo if lo_open else v >= lo) and v <= hi
        if ok:
            return None
        low = f"> {lo:g}" if lo_open else f">= {lo:g}"
        return f"a number {low}" + (f" and <= {hi:g}" if hi < math.inf else "")
    return check


def _date(v: Any) -> str | None:
    if isinstance(v, dt.date):
        return None
    if isinstance(v, str):
        try:
            dt.date.fromisoformat(v)
            return None
        except ValueError:
            pass
    return "a date YYYY-MM-DD"


def _shares(keys: tuple[str, ...]) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, Mapping) or set(v) != set(keys):
            return f"a table with exactly the keys {', '.join(keys)}"
        if any(_num(0.0, 1.0)(x) for x in v.values()) or abs(sum(v.values()) - 1.0) > 0.01:
            return "shares between 0 and 1 that sum to 1 (within 0.01; they are renormalised)"
        return None
    return check


def _table_of(keys: tuple[str, ...], item: Check) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, Mapping) or set(v) != set(keys):
            return f"a table with exactly the keys {', '.join(keys)}"
        bad = [item(x) for x in v.values() if item(x)]
        return f"values that are {bad[0]}" if bad else None
    return check


def _list_of(item: Check, *, min_len: int = 1) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, list) or len(v) < min_len:
            return f"a list of at least {min_len} value(s)"
        bad = [item(x) for x in v if item(x)]
        return f"a list of values that are {bad[0]}" if bad else None
    return check


def _choice(*options: str) -> Check:
    return lambda v: None if v in options else "one of " + ", ".join(repr(o) for o in options)


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "true or false"


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) and v else "a non-empty string"


def _quiet(v: Any) -> str | None:
    if not isinstance(v, Mapping):
        return "a table of season start year -> attack-rate multiplier"
    for k, x in v.items():
        if not (isinstance(k, str) and k.isdigit() and len(k) == 4) or _num(0.0)(x):
            return "a table of season start year (e.g. \"2020\") -> multiplier >= 0"
    return None


_SUBTYPES = ("HR+/HER2-", "TNBC", "HR+/HER2+", "HR-/HER2+")
_NODES = ("N0", "N1-3", "N4-9")
_FRACTION = _num(0.0, 1.0)
_POS = _num(0.0, lo_open=True)
_NONNEG = _num(0.0)
_DOY = _num(1, 366)

SCHEMA: dict[str, dict[str, Check]] = {
    "cohort": {"start_date": _date, "years": _num(0.0, 100.0, lo_open=True)},
    "people": {
        "age_mean": _num(18, 100), "age_sd": _NONNEG, "age_min": _num(18, 100), "age_max": _num(18, 110),
        "years_since_diagnosis_min": _NONNEG, "years_since_diagnosis_max": _NONNEG,
        "subtype_shares": _shares(_SUBTYPES), "t_stage_shares": _shares(("T1", "T2")),
        "node_shares": _shares(_NODES),
        "recurrence_15y_T1": _table_of(_NODES, _num(0.0, 1.0)), "recurrence_15y_T2": _table_of(_NODES, _num(0.0, 1.0)),
        "lung_share": _FRACTION, "lung_odds_ratio": _table_of(_SUBTYPES, _POS),
        "dcc_burden_median": _POS, "dcc_burden_sigma": _num(0.0, 3.0), "detection_lag_days": _NONNEG,
    },
    "mortality": {
        "background_annual_at_65": _num(0.0, 1.0), "background_gompertz_slope": _num(0.0, 0.3),
        "metastatic_median_survival_years": _POS, "infection_death_delay_days": _NONNEG,
    },
    "influenza": {
        "attack_rate_under_65": _FRACTION, "attack_rate_65_plus": _FRACTION, "season_sigma": _num(0.0, 2.0),
        "season_peak_day": _DOY, "season_spread_days": _POS, "quiet_seasons": _quiet,
        "severity_sigma": _num(0.0, 2.0), "death_risk_under_65": _FRACTION, "death_risk_65_plus": _FRACTION,
        "vaccine_coverage_under_65": _FRACTION, "vaccine_coverage_65_plus": _FRACTION,
        "vaccine_effectiveness": _FRACTION, "vaccination_day": _DOY, "antiviral_share": _FRACTION,
        "antiviral_start_days": _NONNEG,
    },
    "sars_cov_2": {
        "severity_sigma": _num(0.0, 2.0), "age_attack_multiplier_65_plus": _NONNEG,
        "reinfection_protection": _FRACTION, "protection_waning_days": _POS,
        "ifr_log10_intercept": _num(-10, 2), "ifr_log10_slope": _num(0.0, 0.2), "vaccine_start": _date,
        "vaccine_coverage": _FRACTION, "booster_day": _DOY, "booster_coverage": _FRACTION,
        "vaccine_effectiveness": _FRACTION, "vaccine_waning_days": _POS, "vaccine_death_reduction": _FRACTION,
        "antiviral_start": _date, "antiviral_share": _FRACTION, "antiviral_start_days": _NONNEG,
        "waves": lambda v: _waves(v),
    },
    "mechanism": {
        "mode": _choice("mechanistic", "planted"), "episode_days": _num(30.0, 365.0),
        "planted_windows_days": _list_of(_NONNEG), "planted_hazard_ratios": _list_of(_POS),
    },
}

ARM_KEYS: dict[str, Check] = {
    "influenza_vaccine_coverage": _FRACTION, "sars_cov_2_vaccine_coverage": _FRACTION,
    "sars_cov_2_booster_coverage": _FRACTION, "anti_il6_threshold": _POS, "anti_il6_dose_mg_per_kg": _POS,
    "anti_il6_delay_days": _NONNEG, "body_weight_kg": _POS, "infections": _bool,
    "influenza_antiviral_share": _FRACTION, "sars_cov_2_antiviral_share": _FRACTION,
}

_WAVE_KEYS: dict[str, Check] = {"name": _text, "peak": _date, "spread_days": _POS, "attack_rate": _FRACTION,
                                "severity": _POS}


def _waves(v: Any) -> str | None:
    if not isinstance(v, list):
        return "a list of tables {name, peak, spread_days, attack_rate, severity}"
    for w in v:
        if not isinstance(w, Mapping) or set(w) != set(_WAVE_KEYS):
            return "a list of tables with exactly the keys name, peak, spread_days, attack_rate, severity"
        for k, check in _WAVE_KEYS.items():
            if (need := check(w[k])) is not None:
                return f"waves whose {k} is {need} (wave {w.get('name', '?')!r})"
    return None


@dataclass(frozen=True)
class CohortConfig:
    """A validated cohort configuration: the merged TOML, read-only through :meth:`get`."""

    data: Mapping[str, Any]

    def get(self, section: str, key: str) -> Any:
        return self.data[section][key]

    def section(self, name: str) -> Mapping[str, Any]:
        return self.data[name]

    @property
    def arms(self) -> Mapping[str, Mapping[str, Any]]:
        return self.data["arms"]

    @property
    def start_date(self) -> dt.date:
        return _as_date(self.data["cohort"]["start_date"])

    def day_of(self, when: str | dt.date) -> float:
        """Days from the cohort's start date to ``when``."""
        return float((_as_date(when) - self.start_date).days)

    def to_dict(self) -> dict[str, Any]:
        return _plain(self.data)

    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def with_overrides(self, **sections: Mapping[str, Any]) -> CohortConfig:
        """A copy with some keys replaced, validated again (e.g. ``with_overrides(cohort={"years": 2})``)."""
        return _validated(_merge(_plain(self.data), _plain(sections), where=""))


def _as_date(v: str | dt.date) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(v)


def _plain(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, dt.date):
        return obj.isoformat()
    return obj


def _merge(base: dict[str, Any], user: Mapping[str, Any], where: str) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in user.items():
        path = f"{where}.{key}" if where else key
        if key not in base and where != "arms":
            raise ConfigError(f"unknown key [{path}]; known keys here: {', '.join(sorted(base))}")
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping) and key not in _REPLACE_WHOLE:
            out[key] = _merge(base[key], value, path)
        else:
            out[key] = copy.deepcopy(value)
    return out


# Tables given as a whole (shares must sum to 1; waves form one calendar)
_REPLACE_WHOLE = {"subtype_shares", "t_stage_shares", "node_shares", "lung_odds_ratio", "recurrence_15y_T1",
                  "recurrence_15y_T2", "quiet_seasons"}


def _validated(data: dict[str, Any]) -> CohortConfig:
    for section, keys in SCHEMA.items():
        for key, check in keys.items():
            if key not in data[section]:
                raise ConfigError(f"[{section}] {key} is missing")
            if (need := check(data[section][key])) is not None:
                raise ConfigError(f"[{section}] {key} must be {need}, got {data[section][key]!r}")
        for extra in set(data[section]) - set(keys) - {"sources"}:
            raise ConfigError(f"unknown key [{section}] {extra}; known keys: {', '.join(sorted(keys))}")
    for name, arm in data["arms"].items():
        if not isinstance(arm, Mapping):
            raise ConfigError(f"[arms.{name}] must be a table")
        for key, value in arm.items():
            if key not in ARM_KEYS:
                raise ConfigError(f"unknown key [arms.{name}] {key}; known keys: {', '.join(sorted(ARM_KEYS))}")
            if (need := ARM_KEYS[key](value)) is not None:
                raise ConfigError(f"[arms.{name}] {key} must be {need}, got {value!r}")
    p, m = data["people"], data["mechanism"]
    if not p["age_min"] <= p["age_mean"] <= p["age_max"]:
        raise ConfigError("[people] needs age_min <= age_mean <= age_max")
    if p["years_since_diagnosis_min"] > p["years_since_diagnosis_max"]:
        raise ConfigError("[people] needs years_since_diagnosis_min <= years_since_diagnosis_max")
    windows = m["planted_windows_days"]
    if windows[0] != 0 or any(b <= a for a, b in zip(windows, windows[1:])):
        raise ConfigError("[mechanism] planted_windows_days must start at 0 and increase, e.g. [0, 90, 365]")
    if len(m["planted_hazard_ratios"]) != len(windows):
        raise ConfigError("[mechanism] planted_hazard_ratios needs one value per window in planted_windows_days")
    return CohortConfig(data)


def _read_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from None


def default_config() -> CohortConfig:
    """The embedded defaults (``default.toml``)."""
    text = resources.files(__package__).joinpath("default.toml").read_text(encoding="utf-8")
    return _validated(_read_toml(text, "default.toml"))


def load_config(path: str | Path | None = None, text: str | None = None) -> CohortConfig:
    """Defaults merged with a user's TOML file (or TOML ``text``), validated."""
    base = default_config()
    if path is None and text is None:
        return base
    if text is None:
        p = Path(path)  # type: ignore[arg-type]
        if not p.is_file():
            raise ConfigError(f"config file {p} not found; pass an existing TOML file to --config")
        text = p.read_text(encoding="utf-8")
        where = str(p)
    else:
        where = "config"
    user = _read_toml(text, where)
    for section in user:
        if section not in base.data:
            raise ConfigError(f"unknown section [{section}]; known sections: {', '.join(sorted(base.data))}")
    return _validated(_merge(base.to_dict(), user, where=""))
