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
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import ConfigError
from ..vocab import NODES, SUBTYPES, T_STAGES

_ARM_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}")
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


_FRACTION = _num(0.0, 1.0)
_POS = _num(0.0, lo_open=True)
_NONNEG = _num(0.0)
_DOY = _num(1, 366)


@dataclass(frozen=True)
class Key:
    """One configuration key, declared once: its check (type and bounds), unit and a one-line doc. The
    default and the source come from ``default.toml``; :func:`describe` joins them for docs, forms and
    sensitivity analyses."""

    check: Check
    unit: str
    doc: str
    bounds: tuple[float, float] | None = None  # numeric keys: the range the check enforces


def _k(lo: float, hi: float, unit: str, doc: str, *, lo_open: bool = False) -> Key:
    return Key(_num(lo, hi, lo_open=lo_open), unit, doc, (lo, hi))


def _frac(doc: str) -> Key:
    return _k(0.0, 1.0, "1", doc)


_INF = math.inf
SCHEMA: dict[str, dict[str, Key]] = {
    "cohort": {
        "start_date": Key(_date, "date", "calendar day 0 of the cohort"),
        "years": _k(0.0, 100.0, "y", "follow-up of every person", lo_open=True),
    },
    "people": {
        "age_mean": _k(18, 100, "y", "mean age on the start date"),
        "age_sd": _k(0.0, _INF, "y", "standard deviation of age"),
        "age_min": _k(18, 100, "y", "youngest age (truncation)"),
        "age_max": _k(18, 110, "y", "oldest age (truncation)"),
        "years_since_diagnosis_min": _k(0.0, _INF, "y", "shortest time since diagnosis on the start date"),
        "years_since_diagnosis_max": _k(0.0, _INF, "y", "longest time since diagnosis on the start date"),
        "subtype_shares": Key(_shares(SUBTYPES), "1", "share of each tumour subtype"),
        "t_stage_shares": Key(_shares(T_STAGES), "1", "share of each tumour size stage"),
        "node_shares": Key(_shares(NODES), "1", "share of each nodal stage"),
        # < 1: a 15-year risk of 1 is an infinite hazard (-log(1 - r) / 15); T1 > 0: T1 N0 is the reference
        # hazard the DCC burden is divided by (people.py), so 0 there makes every burden infinite.
        "recurrence_15y_T1": Key(_table_of(NODES, lambda v: None if (
                                     _num(0.0, 1.0, lo_open=True)(v) is None and v < 1) else "a number > 0 and < 1"), "1",
                                 "distant recurrence over years 5-20, T1 tumours, by nodal stage"),
        "recurrence_15y_T2": Key(_table_of(NODES, lambda v: None if (
                                     _num(0.0, 1.0)(v) is None and v < 1) else "a number >= 0 and < 1"), "1",
                                 "distant recurrence over years 5-20, T2 tumours, by nodal stage"),
        # < 1: a share of 1 is infinite odds, and the subtype odds ratios then give NaN lung hazards.
        "lung_share": Key(lambda v: None if _num(0.0, 1.0)(v) is None and v < 1 else "a number >= 0 and < 1", "1",
                          "share of first distant relapses that are in the lung", (0.0, 1.0)),
        "lung_odds_ratio": Key(_table_of(SUBTYPES, _POS), "1", "odds ratio of a lung first site, by subtype"),
        "dcc_burden_median": _k(0.0, _INF, "cells", "median lung DCC burden of a survivor", lo_open=True),
        "dcc_burden_sigma": _k(0.0, 3.0, "1", "lognormal sigma of the lung DCC burden"),
        "detection_lag_days": _k(0.0, _INF, "d", "from a clone's escape to a diagnosed lung metastasis"),
    },
    "mortality": {
        "background_annual_at_65": _k(0.0, 1.0, "1/y", "non-breast-cancer death hazard at age 65"),
        # > 0: the death-time inversion divides by the slope (0 gives NaN: no deaths, no lung metastases).
        "background_gompertz_slope": _k(0.0, 0.3, "1/y", "Gompertz slope of that hazard per year of age",
                                        lo_open=True),
        "metastatic_median_survival_years": _k(0.0, _INF, "y", "median survival after a distant relapse",
                                               lo_open=True),
        "infection_death_delay_days": _k(0.0, _INF, "d", "from infection onset to death from it"),
    },
    "influenza": {
        "attack_rate_under_65": _frac("symptomatic influenza per season, under 65"),
        "attack_rate_65_plus": _frac("symptomatic influenza per season, 65 and over"),
        "season_sigma": _k(0.0, 2.0, "1", "lognormal season-to-season spread of the attack rate"),
        "season_peak_day": _k(1, 366, "day of year", "day of the year of the seasonal peak"),
        "season_spread_days": _k(0.0, _INF, "d", "standard deviation of infection days around the peak",
                                 lo_open=True),
        "quiet_seasons": Key(_quiet, "1", "season start year -> attack-rate multiplier (e.g. 2020/21)"),
        "severity_sigma": _k(0.0, 2.0, "1", "lognormal spread of a person's IL-6 response"),
        "death_risk_under_65": _frac("death from a symptomatic infection, under 65"),
        "death_risk_65_plus": _frac("death from a symptomatic infection, 65 and over"),
        "vaccine_coverage_under_65": _frac("share vaccinated each season, under 65"),
        "vaccine_coverage_65_plus": _frac("share vaccinated each season, 65 and over"),
        "vaccine_effectiveness": _frac("vaccine protection against symptomatic infection"),
        "vaccination_day": _k(1, 366, "day of year", "day of the year of vaccination"),
        "antiviral_share": _frac("share of infections treated with an antiviral"),
        "antiviral_start_days": _k(0.0, _INF, "d", "from infection to the first antiviral dose"),
    },
    "sars_cov_2": {
        "severity_sigma": _k(0.0, 2.0, "1", "lognormal spread of a person's IL-6 response"),
        "age_attack_multiplier_65_plus": _k(0.0, _INF, "1", "attack-rate multiplier at 65 and over"),
        "reinfection_protection": _frac("protection against a new infection right after one"),
        "protection_waning_days": _k(0.0, _INF, "d", "waning time of that protection", lo_open=True),
        "ifr_log10_intercept": _k(-10, 2, "log10 %", "log10 infection fatality ratio (%) at age 0"),
        "ifr_log10_slope": _k(0.0, 0.2, "log10 %/y", "its increase per year of age"),
        "vaccine_start": Key(_date, "date", "first vaccine doses"),
        "vaccine_coverage": _frac("share with the primary series"),
        "booster_day": _k(1, 366, "day of year", "day of the year of the yearly booster"),
        "booster_coverage": _frac("share boosted each year"),
        "vaccine_effectiveness": _frac("protection against infection at the dose (wanes)"),
        "vaccine_waning_days": _k(0.0, _INF, "d", "waning time of vaccine protection", lo_open=True),
        "vaccine_death_reduction": _frac("reduction of death from the infection when vaccinated"),
        "antiviral_start": Key(_date, "date", "first antiviral treatments"),
        "antiviral_share": _frac("share of infections treated with an antiviral"),
        "antiviral_start_days": _k(0.0, _INF, "d", "from infection to the first antiviral dose"),
        "waves": Key(lambda v: _waves(v), "", "wave calendar: name, peak date, spread_days, attack_rate, severity"),
    },
    "mechanism": {
        "mode": Key(_choice("mechanistic", "planted"), "", "mechanistic (episodes through the model) or planted HRs"),
        "episode_days": _k(30.0, 365.0, "d", "length of a simulated episode (and the reinfection gap)"),
        "planted_windows_days": Key(_list_of(_NONNEG), "d", "planted mode: window starts after an infection"),
        "planted_hazard_ratios": Key(_list_of(_POS), "1", "planted mode: hazard ratio per window"),
    },
}

ARM_KEYS: dict[str, Key] = {
    "influenza_vaccine_coverage": _frac("influenza vaccine coverage in the arm (replaces the age-specific ones)"),
    "sars_cov_2_vaccine_coverage": _frac("SARS-CoV-2 primary-series coverage in the arm"),
    "sars_cov_2_booster_coverage": _frac("SARS-CoV-2 booster coverage in the arm"),
    "anti_il6_threshold": _k(0.0, _INF, "pg/mL", "lung IL-6 that triggers an anti-IL-6 dose", lo_open=True),
    "anti_il6_dose_mg_per_kg": _k(0.0, _INF, "mg/kg", "anti-IL-6 dose", lo_open=True),
    "anti_il6_delay_days": _k(0.0, _INF, "d", "from the IL-6 crossing to the dose"),
    "body_weight_kg": _k(0.0, _INF, "kg", "body weight for the dose in mg", lo_open=True),
    "infections": Key(_bool, "", "false: nobody is infected (the no-infection arm)"),
    "influenza_antiviral_share": _frac("share of influenza infections treated with an antiviral"),
    "sars_cov_2_antiviral_share": _frac("share of SARS-CoV-2 infections treated with an antiviral"),
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
    """A validated cohort configuration: the merged TOML, deeply read-only (tables are mappingproxies, lists
    are tuples); read it through :meth:`get`, change it only through :meth:`with_overrides`."""

    data: Mapping[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _frozen(self.data))

    def __reduce__(self) -> tuple[Any, ...]:  # mappingproxies do not pickle; worker processes need the config
        return (CohortConfig, (_plain(self.data),))

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


def _frozen(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return MappingProxyType({str(k): _frozen(v) for k, v in obj.items()})
    if isinstance(obj, list | tuple):
        return tuple(_frozen(v) for v in obj)
    return obj


def describe() -> list[dict[str, Any]]:
    """Every configuration key with section, type, bounds, unit, default, source and doc: one declarative
    schema for error messages, docs, forms and sensitivity analyses (``reawaken cohort --describe``)."""
    text = resources.files(__package__).joinpath("default.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    rows = []
    for section, keys in [*SCHEMA.items(), ("arms.*", ARM_KEYS)]:
        sources = {} if section == "arms.*" else raw[section].get("sources", {})
        for key, spec in keys.items():
            default = None if section == "arms.*" else _plain(raw[section][key])
            src = max((k for k in sources if key.startswith(k) or k.startswith(key)), key=len, default=None)
            rows.append({"section": section, "key": key, "type": _type_name(default, spec), "bounds": spec.bounds,
                         "unit": spec.unit, "default": default,
                         "source": sources.get(src, "") if src else "arm policy: set by the user per arm",
                         "doc": spec.doc})
    return rows


def _type_name(default: Any, spec: Key) -> str:
    if spec.bounds is not None:
        return "number"
    if isinstance(default, bool) or spec.check is _bool:
        return "bool"
    if isinstance(default, dict):
        return "table"
    if isinstance(default, list):
        return "list"
    return "date" if spec.check is _date else "text"


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
        for key, spec in keys.items():
            if key not in data[section]:
                raise ConfigError(f"[{section}] {key} is missing")
            if (need := spec.check(data[section][key])) is not None:
                raise ConfigError(f"[{section}] {key} must be {need}, got {data[section][key]!r}")
        for extra in set(data[section]) - set(keys) - {"sources"}:
            raise ConfigError(f"unknown key [{section}] {extra}; known keys: {', '.join(sorted(keys))}")
    for name, arm in data["arms"].items():
        if not _ARM_NAME.fullmatch(name):
            raise ConfigError(f"[arms.{name}]: an arm name is letters, digits, '-', '_' or '.', at most 64, not "
                              "starting with '.' (it names a folder of the cohort)")
        if not isinstance(arm, Mapping):
            raise ConfigError(f"[arms.{name}] must be a table")
        for key, value in arm.items():
            if key not in ARM_KEYS:
                raise ConfigError(f"unknown key [arms.{name}] {key}; known keys: {', '.join(sorted(ARM_KEYS))}")
            if (need := ARM_KEYS[key].check(value)) is not None:
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


def _read_toml(text: str | bytes, where: str, error: type[ValueError] = ConfigError) -> dict[str, Any]:
    """Parse a TOML document, raising ``error`` (one line naming ``where``) for anything a user can get wrong.

    Bytes are decoded as UTF-8 (TOML's only encoding); a leading byte-order mark, which some editors
    write, is dropped rather than refused. Nesting too deep for the parser is reported, not a
    ``RecursionError``. Shared by cohort configs and study files (``reawaken.io.omop.study``).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise error(f"{where} is not UTF-8 text (byte 0x{text[exc.start]:02x} at offset {exc.start}); "
                        "save it as UTF-8") from None
    text = text.removeprefix("\ufeff")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{where} is not valid TOML: {exc}") from None
    except RecursionError:
        raise error(f"{where} nests arrays or tables too deeply to read; a config or study needs at most "
                    "a few levels") from None


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
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise ConfigError(f"config file {p} cannot be read: {exc.strerror}") from None
        user = _read_toml(data, f"config file {p}")
    else:
        user = _read_toml(text, "config")
    for section in user:
        if section not in base.data:
            raise ConfigError(f"unknown section [{section}]; known sections: {', '.join(sorted(base.data))}")
    return _validated(_merge(base.to_dict(), user, where=""))
