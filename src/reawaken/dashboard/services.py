"""From validated requests to ``reawaken.api`` calls and back to JSON. No model numerics here.

Names are never listed in this module: hosts and viruses come from the model library, interventions from
``reawaken.scenarios.REGISTRY``, species (with units and docs) from the simulated spec, arms and cohort keys
from the cohort config and its ``describe()`` schema. When the model gains a species or an intervention it
shows up in the page without a change here.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import api
from ..errors import ConfigError, ScenarioError
from .schemas import CohortJobIn, ScenarioIn, StochasticIn

MAX_POINTS = 600  # points per curve sent to the page: plenty for a 1,000-pixel chart


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n\n")[0].replace("\n", " ")


def _jsonable(x: Any) -> Any:
    """NaN and infinities are not JSON: send null (the page shows a dash)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str):  # numpy scalars
        return _jsonable(x.item())
    return x


def interventions() -> list[dict[str, Any]]:
    """Every intervention of the registry with its settings (alias, field, default) and its doc line."""
    from ..scenarios.interventions import REGISTRY

    out = []
    for name, (cls, aliases) in REGISTRY.items():
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        settings = [{"key": alias, "field": fname, "default": _jsonable(defaults.get(fname))}
                    for alias, fname in aliases.items()]
        out.append({"name": name, "doc": _first_line(cls.__doc__), "settings": settings})
    return out


# Which calibration targets can be drawn on the DCC-fold chart: target id -> the arm it was measured on, the
# day, and whether the accepted range is on the log10 scale. The ranges themselves are read from TARGETS.
TARGET_OVERLAYS = {"T2": ("mouse", "influenza", 6.0, False), "T3": ("mouse", "influenza", 15.0, True),
                   "T9": ("mouse", "sars-cov-2", 15.0, False)}


def target_overlays() -> list[dict[str, Any]]:
    from ..experiments.targets import TARGETS

    out = []
    for t in TARGETS:
        if t.id in TARGET_OVERLAYS:
            host, virus, day, log10 = TARGET_OVERLAYS[t.id]
            low, high = (10**t.low, 10**t.high) if log10 else (t.low, t.high)
            out.append(_jsonable({"id": t.id, "host": host, "virus": virus, "day": day, "low": low, "high": high,
                                  "label": f"{t.id}: {t.claim} [{t.source}]"}))
    return out


def options(limits: dict[str, Any]) -> dict[str, Any]:
    from ..cohort.config import load_config
    from ..experiments.targets import TARGETS
    from ..model.library.hosts import HOSTS, VIRUSES
    from ..vocab import INFECTING_VIRUSES, NODES, SUBTYPES, T_STAGES

    return {
        "hosts": list(HOSTS), "viruses": list(VIRUSES), "infecting_viruses": list(INFECTING_VIRUSES),
        "interventions": interventions(), "arms": list(load_config().arms),
        "subtypes": list(SUBTYPES), "t_stages": list(T_STAGES), "nodes": list(NODES),
        "targets": [_jsonable({"id": t.id, "claim": t.claim, "low": t.low, "high": t.high, "unit": t.unit,
                               "source": t.source}) for t in TARGETS],
        "target_overlays": target_overlays(), "limits": limits,
    }


def scenario_of(req: ScenarioIn) -> Any:
    from ..scenarios import Scenario, parse_intervention

    items = tuple(parse_intervention(i.as_text()) for i in req.interventions)
    scenario = Scenario(host=req.host, virus=req.virus, infection_days=tuple(req.infection_days),
                        interventions=items, cross_reactivity=req.cross_reactivity)
    scenario.apply()  # names and settings checked before any solve (as the CLI does)
    return scenario


def _thin(n: int) -> list[int]:
    step = max(1, math.ceil(n / MAX_POINTS))
    idx = list(range(0, n, step))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    return idx


def simulate(req: ScenarioIn) -> dict[str, Any]:
    scenario = scenario_of(req)
    res = api.simulate(scenario, days=req.days)
    wide = res.frame("wide")
    rows = _thin(len(wide))
    species = [{"name": s.name, "unit": s.unit, "doc": s.doc} for s in res.episode.spec.species]
    series = {s["name"]: wide[s["name"]].to_numpy()[rows].tolist() for s in species if s["name"] in wide}
    return _jsonable({"label": scenario.label, "host": scenario.host, "virus": scenario.virus,
                      "infection_days": list(scenario.effective_infection_days),
                      "time_days": wide["time_days"].to_numpy()[rows].tolist(), "species": species,
                      "series": series, "readouts": res.to_dict(), "elapsed_s": round(res.elapsed_s, 3),
                      "parameter_set": res.manifest.get("parameter_set", {}).get("provenance")})


def run_request(function: str, model: str, body: dict[str, Any]) -> dict[str, Any]:
    """Entry point of a worker process: rebuild the validated request and run one use case (both by name from
    fixed tables, so nothing but these two can be reached)."""
    models = {"ScenarioIn": ScenarioIn, "StochasticIn": StochasticIn}
    functions = {"simulate": simulate, "simulate_stochastic": simulate_stochastic}
    return functions[function](models[model].model_validate(body))


def simulate_stochastic(req: StochasticIn) -> dict[str, Any]:
    scenario = scenario_of(req)
    res = api.simulate_stochastic(scenario, days=req.days, replicates=req.replicates, seed=req.seed,
                                  method=req.method, lesion_threshold=req.lesion_threshold)
    reps = res.frame("replicates")
    last = reps[reps["day"] == reps["day"].max()]
    return _jsonable({"label": scenario.label, "readouts": res.to_dict(),
                      "lesions_last_day": last["lesions_present"].tolist(),
                      "last_day": float(reps["day"].max()), "elapsed_s": round(res.elapsed_s, 3)})


# --- cohorts -----------------------------------------------------------------------------------------


def cohort_schema() -> list[dict[str, Any]]:
    from ..cohort.config import describe

    return _jsonable(describe())


def cohort_config(req: CohortJobIn, max_n: int) -> Any:
    """The validated config of a cohort job (errors name the key), checked before the job is queued."""
    from ..cohort.config import load_config

    if req.n > max_n:
        raise ConfigError(f"n={req.n:,} people is more than this server allows ({max_n:,}); "
                          "start the server with a larger --max-cohort-n or run the CLI")
    cfg = load_config()
    unknown = [a for a in req.arms if a not in cfg.arms]
    if unknown:
        raise ConfigError(f"unknown arm {unknown[0]!r}; choose from: {', '.join(cfg.arms)}")
    if req.overrides:
        cfg = cfg.with_overrides(**req.overrides)
    return cfg.with_overrides(cohort={"years": float(req.years)})


def cohort_runner(req: CohortJobIn, cfg: Any) -> Callable[[Any, Callable[[int, int], None]], Any]:
    chunk = max(1, math.ceil(req.n / req.chunks))

    def run(job: Any, progress: Callable[[int, int], None]) -> Any:
        job.folder.parent.mkdir(parents=True, exist_ok=True)
        return api.run_cohort(cfg, n=req.n, out_dir=job.folder, seed=req.seed, arms=req.arms,
                              chunk_size=chunk, workers=1, progress=progress)

    return run


def open_cohort(folder: Path) -> Any:
    """The result of a cohort run that finished in ``folder`` (its summary and manifest, as run_cohort wrote
    them; the tables stay in the store)."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return api.CohortResult(folder, summary, manifest)


def cohort_results(result: Any) -> dict[str, Any]:
    """Arms with relapses averted (paired SE) and cumulative lung-metastasis curves with 95% bands."""
    from .curves import cumulative_incidence

    summary = result.to_dict()
    return _jsonable({"summary": {k: v for k, v in summary.items() if not k.startswith("_")},
                      "curves": cumulative_incidence(result), "arms_table": result.frame("arms").to_dict("list"),
                      "units": result.frame("arms").attrs.get("units", {})})


# --- registry results --------------------------------------------------------------------------------


def registry_folders(root: Path | None) -> list[dict[str, Any]]:
    if root is None or not root.is_dir():
        return []
    out = []
    for p in sorted(root.iterdir()):
        if (p / "results.json").is_file() and p.name.isprintable():
            try:
                study = json.loads((p / "results.json").read_text(encoding="utf-8")).get("study")
            except (OSError, ValueError):
                study = None
            out.append({"name": p.name, "study": study, "has_km": (p / "km.json").is_file()})
    return out


def registry_result(folder: Path) -> dict[str, Any]:
    """``results.json`` and ``km.json`` of an ``analyze --out`` folder, as written (no recomputation)."""
    try:
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        km = json.loads((folder / "km.json").read_text(encoding="utf-8")) if (folder / "km.json").is_file() else {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{folder.name}: results.json or km.json is unreadable ({exc}); run analyze again") from None
    from ..report.registry import PUBLISHED

    pub = PUBLISHED.get(str(results.get("study")))
    return _jsonable({"name": folder.name, "results": results, "km": km,
                      "published": None if pub is None else {"label": pub[0], "hr": pub[1]}})


# --- survivor risk (research use only) ----------------------------------------------------------------

RISK_START = "2021-07-01"  # follow-up starts here: five years of the config's SARS-CoV-2 waves and flu seasons
RISK_ARMS = ("no-infection", "baseline", "anti-il6-after-infection", "vaccinated")


def risk_config(req: Any) -> Any:
    """The cohort config of a profile-matched cohort: everyone has the profile; exposure to ``req.virus`` only."""
    from ..cohort.config import load_config
    from ..vocab import INFECTING_VIRUSES, NODES, SUBTYPES, T_STAGES

    if req.virus not in INFECTING_VIRUSES:
        raise ConfigError(f"unknown infecting virus {req.virus[:40]!r}; choose one of: {', '.join(INFECTING_VIRUSES)}")
    cfg = load_config()

    def one_hot(keys: tuple[str, ...], chosen: str) -> dict[str, float]:
        return {k: 1.0 if k == chosen else 0.0 for k in keys}

    people = {"age_mean": req.age, "age_sd": 0.5, "age_min": max(18.0, req.age - 1.0),
              "age_max": min(110.0, req.age + 1.0), "years_since_diagnosis_min": req.years_since_diagnosis,
              "years_since_diagnosis_max": req.years_since_diagnosis,
              "subtype_shares": one_hot(SUBTYPES, req.subtype), "t_stage_shares": one_hot(T_STAGES, req.t_stage),
              "node_shares": one_hot(NODES, req.nodes)}
    sections: dict[str, dict[str, Any]] = {"cohort": {"years": 5.0, "start_date": RISK_START}, "people": people}
    cover = 1.0 if req.vaccinated else 0.0  # the 'vaccinated' arm still shows full coverage for comparison
    sections["influenza"] = {"vaccine_coverage_under_65": cover, "vaccine_coverage_65_plus": cover}
    sections["sars_cov_2"] = {"vaccine_coverage": cover, "booster_coverage": cover}
    if req.virus != "influenza":  # exposure to the chosen virus only
        sections["influenza"].update(attack_rate_under_65=0.0, attack_rate_65_plus=0.0)
    if req.virus != "sars-cov-2":
        sections["sars_cov_2"]["waves"] = [{**dict(w), "attack_rate": 0.0} for w in cfg.get("sars_cov_2", "waves")]
    return cfg.with_overrides(**sections)


def risk(req: Any, max_n: int) -> dict[str, Any]:
    import tempfile

    from .curves import risk_table

    if req.n > max_n:
        raise ConfigError(f"n={req.n:,} virtual people is more than this server allows ({max_n:,})")
    cfg = risk_config(req)
    arms = [a for a in RISK_ARMS if a in cfg.arms]
    with tempfile.TemporaryDirectory(prefix="reawaken-risk-") as tmp:
        result = api.run_cohort(cfg, n=req.n, out_dir=Path(tmp) / "cohort", seed=req.seed, arms=arms, workers=1,
                                chunk_size=max(1, math.ceil(req.n / 4)))
        table = risk_table(result, reference=arms[0])
        ps = result.manifest.get("parameter_set", {})
    return _jsonable({**table, "arms": arms, "profile": req.model_dump(),
                      "parameter_set": {"provenance": ps.get("provenance"), "hash": ps.get("hash")},
                      "follow_up": {"start": RISK_START, "years": 5.0}})


__all__ = ["ScenarioError", "options", "risk", "simulate", "simulate_stochastic"]
