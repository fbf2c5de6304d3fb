"""Interventions as frozen, validated records (design principle 7).

Each record knows how it changes a model: parameter values, initial states, and scheduled events.
It never touches IL-6 directly: IL-6 is what the mechanism makes of the virus and the host.
Days are absolute model time; day 0 is the first infection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ..errors import ScenarioError
from ..model.events import EventSchedule, ParameterSwitch, StateJump
from ..model.spec import ModelSpec

#: Most doses of one anti-IL-6 course: 1,000 doses 4 weeks apart cover 77 years. Every dose is an event
#: of the schedule (a Python object and a solver restart), so ``doses=1e9`` used to run without end.
MAX_DOSES = 1_000


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ScenarioError(msg)


def _day(name: str, value: float, *, allow_inf: bool = False) -> None:
    ok = value >= 0 and (math.isfinite(value) or (allow_inf and value == math.inf))
    _check(ok, f"{name} must be a day >= 0, got {value!r}")


@dataclass(frozen=True)
class Effect:
    """What an intervention does to a model: parameter values, initial states, events."""

    parameters: tuple[tuple[str, float], ...] = ()
    initial: tuple[tuple[str, float], ...] = ()
    events: EventSchedule = EventSchedule()


@dataclass(frozen=True)
class IL6Knockout:
    """IL-6-deficient host (Il6-/-): no IL-6 is made (AACR 2023 abstract; Chia et al. 2025)."""

    key = "il6-ko"

    def effect(self, infection_days: tuple[float, ...], spec: ModelSpec) -> Effect:
        return Effect(parameters=(("il6_ko", 1.0),), initial=(("il6", 0.0),))


@dataclass(frozen=True)
class AntiIL6:
    """Anti-IL-6R antibody (tocilizumab-like): ``dose_mg_per_kg`` IV on ``day`` (and every ``interval`` days
    ``n_doses`` times). Default 8 mg/kg once, the COVID-19 label dose (science.md 3.5).

    Tocilizumab does not bind mouse IL-6R; in mice the same record stands for a surrogate (e.g. MR16-1)
    whose PK is assumed tocilizumab-like. The plasma concentration is taken as the concentration at the
    lung receptor (no tissue distribution step)."""

    dose_mg_per_kg: float = 8.0
    day: float = 1.0
    n_doses: int = 1
    interval_days: float = 28.0
    key = "anti-il6"

    def __post_init__(self) -> None:
        _check(math.isfinite(self.dose_mg_per_kg) and self.dose_mg_per_kg > 0,
               f"anti-il6 dose must be > 0 mg/kg, got {self.dose_mg_per_kg!r}")
        _check(self.dose_mg_per_kg <= 100, f"anti-il6 dose {self.dose_mg_per_kg} mg/kg is implausible (label: 8)")
        _day("anti-il6 day", self.day)
        _check(isinstance(self.n_doses, int) and self.n_doses >= 1, f"n_doses must be an int >= 1, got {self.n_doses!r}")
        _check(self.n_doses <= MAX_DOSES, f"anti-il6 doses={self.n_doses:,} is more than {MAX_DOSES:,} (the most one "
               "course takes); use fewer doses")
        _check(math.isfinite(self.interval_days) and self.interval_days > 0,
               f"anti-il6 interval must be a finite number of days > 0, got {self.interval_days!r}")

    def effect(self, infection_days: tuple[float, ...], spec: ModelSpec) -> Effect:
        conc = self.dose_mg_per_kg * 1000.0 / spec.parameter("V_ab").value  # ug/mL right after an IV bolus
        jumps = tuple(
            StateJump(self.day + i * self.interval_days, "antibody", conc, f"anti-IL-6R {self.dose_mg_per_kg} mg/kg")
            for i in range(self.n_doses)
        )
        return Effect(events=EventSchedule(jumps=jumps))


@dataclass(frozen=True)
class _Depletion:
    start_day: float = 0.0
    end_day: float = math.inf
    switch = ""
    key = ""

    def __post_init__(self) -> None:
        _day(f"{self.key} start", self.start_day)
        _day(f"{self.key} end", self.end_day, allow_inf=True)
        _check(self.end_day > self.start_day, f"{self.key}: end ({self.end_day}) must come after start ({self.start_day})")

    def effect(self, infection_days: tuple[float, ...], spec: ModelSpec) -> Effect:
        sw = [ParameterSwitch(self.start_day, self.switch, 1.0, self.key)]
        if math.isfinite(self.end_day):
            sw.append(ParameterSwitch(self.end_day, self.switch, 0.0, self.key))
        return Effect(events=EventSchedule(switches=tuple(sw)))


@dataclass(frozen=True)
class CD4Depletion(_Depletion):
    """Depleting anti-CD4 antibody (GK1.5-like) from ``start_day`` to ``end_day``."""

    switch = "cd4_depleted"
    key = "cd4-depletion"


@dataclass(frozen=True)
class CD8Depletion(_Depletion):
    """Depleting anti-CD8 antibody (2.43-like) from ``start_day`` to ``end_day``."""

    switch = "cd8_depleted"
    key = "cd8-depletion"


@dataclass(frozen=True)
class NeutrophilDepletion(_Depletion):
    """Neutrophil depletion (anti-Ly6G-like) from ``start_day`` to ``end_day`` (AACR 2023 abstract)."""

    switch = "neut_depleted"
    key = "neutrophil-depletion"


@dataclass(frozen=True)
class NETInhibition(_Depletion):
    """NET-targeting treatment (DNase I or a PAD4 inhibitor) from ``start_day`` to ``end_day``: blocks NET
    formation by ``efficacy`` (Albrengues et al. 2018 prevented NET-driven awakening with both)."""

    efficacy: float = 0.9
    switch = "net_block"
    key = "net-inhibition"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(math.isfinite(self.efficacy) and 0 <= self.efficacy <= 1,
               f"net-inhibition efficacy must be in [0, 1], got {self.efficacy!r}")

    def effect(self, infection_days: tuple[float, ...], spec: ModelSpec) -> Effect:
        sw = [ParameterSwitch(self.start_day, self.switch, float(self.efficacy), self.key)]
        if math.isfinite(self.end_day):
            sw.append(ParameterSwitch(self.end_day, self.switch, 0.0, self.key))
        return Effect(events=EventSchedule(switches=tuple(sw)))


@dataclass(frozen=True)
class Inflammation:
    """Sterile lung inflammation (intranasal LPS- or tobacco-smoke-like) for ``duration_days`` from
    ``start_day``: neutrophils are recruited at ``rho_sterile`` without any virus (Albrengues et al. 2018).
    Default: two weeks from day 0."""

    start_day: float = 0.0
    duration_days: float = 14.0
    key = "inflammation"

    def __post_init__(self) -> None:
        _day("inflammation start", self.start_day)
        _check(math.isfinite(self.duration_days) and self.duration_days > 0,
               f"inflammation duration must be a finite number of days > 0, got {self.duration_days!r}")

    def effect(self, infection_days: tuple[float, ...], spec: ModelSpec) -> Effect:
        end = self.start_day + self.duration_days
        sw = (ParameterSwitch(self.start_day, "inflamed", 1.0, self.key), ParameterSwitch(end, "inflamed", 0.0, self.key))
        return Effect(events=EventSchedule(switches=sw))


@dataclass(frozen=True)
class Vaccinated:
    """Prior vaccination: a neutralising titre against the infecting strain and a larger memory CD8 pool.

    ``titre`` is in units where 1 halves infection events; it adds to the naive trace ``nab_base``. Memory
    also raises the resting CD8 pool (``vacc_memory``) and speeds the antibody response (``vacc_recall``).
    The default 0.0002 is the waned titre of a *breakthrough* infection, set from the viral-load evidence
    (science.md 3.6; tested): ~40% less RNA (~0.2 log) with infectious virus reduced more (Puhach et al. 2022
    Nat Med), and shedding shorter by days. Higher titres block more infection events (larger effects, monotone);
    titre 0 keeps only the cellular and recall memory. Vaccine effects on IL-6 are untested.
    """

    titre: float = 0.0002
    key = "vaccinated"

    def __post_init__(self) -> None:
        _check(math.isfinite(self.titre) and self.titre >= 0, f"vaccinated titre must be >= 0, got {self.titre!r}")

    def effect(self, infection_days: tuple[float, ...], spec: ModelSpec) -> Effect:
        # Start at the vaccinated resting state: the memory CD8 pool is already there on day 0.
        memory = spec.parameter("E0").value * spec.parameter("vacc_memory").value
        # The vaccine titre adds to the naive trace (nab_base): titre 0 leaves the antibody response as in an
        # unvaccinated host (a titre below the trace once stopped it, making titre=0 worse than no vaccine).
        nab = spec.parameter("nab_base").value + self.titre
        return Effect(parameters=(("vaccinated", 1.0),), initial=(("nab", nab), ("cd8", memory)))


@dataclass(frozen=True)
class Antiviral:
    """Antiviral course after every infection: production blocked by ``efficacy`` from ``start_day`` after
    the infection, for ``duration_days`` (oseltamivir: 5-day course)."""

    efficacy: float = 0.9
    start_day: float = 2.0
    duration_days: float = 5.0
    key = "antiviral"

    def __post_init__(self) -> None:
        _check(0 <= self.efficacy <= 1, f"antiviral efficacy must be in [0, 1], got {self.efficacy!r}")
        _day("antiviral start", self.start_day)
        _check(self.duration_days > 0, f"antiviral duration must be > 0 days, got {self.duration_days!r}")

    def effect(self, infection_days: tuple[float, ...], spec: ModelSpec) -> Effect:
        sw = []
        for d in infection_days:
            sw.append(ParameterSwitch(d + self.start_day, "antiviral_on", 1.0, "antiviral start"))
            sw.append(ParameterSwitch(d + self.start_day + self.duration_days, "antiviral_on", 0.0, "antiviral end"))
        return Effect(parameters=(("antiviral_eff", self.efficacy),), events=EventSchedule(switches=tuple(sw)))


Intervention = (IL6Knockout | AntiIL6 | CD4Depletion | CD8Depletion | NeutrophilDepletion | NETInhibition
                | Inflammation | Vaccinated | Antiviral)

#: Kebab-case names (as on the command line) -> record type and its settings' short aliases.
REGISTRY: dict[str, tuple[type, dict[str, str]]] = {
    "il6-ko": (IL6Knockout, {}),
    "anti-il6": (AntiIL6, {"dose": "dose_mg_per_kg", "day": "day", "doses": "n_doses", "interval": "interval_days"}),
    "cd4-depletion": (CD4Depletion, {"start": "start_day", "end": "end_day"}),
    "cd8-depletion": (CD8Depletion, {"start": "start_day", "end": "end_day"}),
    "neutrophil-depletion": (NeutrophilDepletion, {"start": "start_day", "end": "end_day"}),
    "net-inhibition": (NETInhibition, {"efficacy": "efficacy", "start": "start_day", "end": "end_day"}),
    "inflammation": (Inflammation, {"start": "start_day", "duration": "duration_days"}),
    "vaccinated": (Vaccinated, {"titre": "titre"}),
    "antiviral": (Antiviral, {"efficacy": "efficacy", "start": "start_day", "duration": "duration_days"}),
}


def parse_intervention(text: str) -> Intervention:
    """Parse ``NAME[:key=value,...]`` (e.g. ``anti-il6:dose=8,day=1``) into an intervention record."""
    name, _, rest = text.strip().partition(":")
    if name not in REGISTRY:
        raise ScenarioError(f"unknown intervention {name!r}; choose one of: {', '.join(REGISTRY)}")
    cls, aliases = REGISTRY[name]
    kwargs: dict[str, float | int] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        field_name = aliases.get(key, key)
        valid = {f.name for f in fields(cls)}
        if not eq or field_name not in valid:
            options = ", ".join(sorted(set(aliases) | valid)) or "none"
            raise ScenarioError(f"intervention {name}: bad setting {item!r}; write key=value with key one of: {options}")
        try:
            number = float(value)
        except ValueError:
            raise ScenarioError(f"intervention {name}: {key}={value!r} is not a number") from None
        kwargs[field_name] = int(number) if field_name == "n_doses" and number.is_integer() else number
    return cls(**kwargs)
