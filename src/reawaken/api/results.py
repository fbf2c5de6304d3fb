"""Frozen result objects: what every use case returns (design principle 16).

Every result has the same shape, after lifelines' ``summary`` and PySB's ``SimulationResult.dataframe``:

- ``.frame(name)``: a pandas DataFrame whose columns are declared (with units) in :mod:`reawaken.tables`;
  ``.frames`` lists the names a result offers;
- ``.summary``: a small DataFrame that prints in a screenful;
- ``.to_dict()``: the JSON object the CLI prints with ``--json``;
- ``.manifest``: provenance (parameters, parameter set, seed, versions, model hash);
- ``.save(dir)``: the files, published atomically (the CLI calls nothing else to write).

Results hold what they computed in memory, except a cohort, whose tables stay in its Parquet store and are
read only when a frame is asked for.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..errors import OutputError, ReawakenError
from ..tables import (
    ATTRITION,
    COHORT_ARMS,
    EPISODES,
    EVENTS,
    HAZARD_RATIOS,
    INCIDENCE,
    KM,
    PERSONS,
    REPLICATES,
    TARGETS,
    TRAJECTORIES,
    Column,
    TableSpec,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..experiments import Episode
    from ..experiments.stochastic import StochasticRun
    from ..scenarios import Scenario

READOUT_DAYS = TableSpec(
    "readouts",
    (
        Column("day", "float64", "d", "day after the first infection"),
        Column("dcc_fold", "float64", "1", "total lung DCCs over the day-0 count"),
        Column("proliferating_fraction", "float64", "1", "awakened / total DCCs"),
    ),
)

WIDE = TableSpec("wide", (Column("time_days", "float64", "d", "time since day 0; then one column per species"),))


class UnknownFrameError(ReawakenError, KeyError):
    """``frame(name)`` was asked for a table the result does not have."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def _frame_from(spec: TableSpec, columns: Mapping[str, Any]) -> pd.DataFrame:
    import pandas as pd

    df = pd.DataFrame({c.name: columns[c.name] for c in spec.columns})
    df.attrs["units"] = {c.name: c.unit for c in spec.columns}
    df.attrs["table"] = spec.name
    return df


class Result(abc.ABC):
    """The interface every use case's result implements (leaves are final; no deeper subclassing)."""

    frames: ClassVar[dict[str, TableSpec]] = {}

    manifest: Mapping[str, Any]

    def frame(self, name: str) -> pd.DataFrame:
        """The table ``name`` as a DataFrame (columns and units: ``frames[name]``; units also in ``.attrs``)."""
        if name not in self.frames:
            raise UnknownFrameError(f"{type(self).__name__} has no frame {name!r}; frames: {', '.join(self.frames)}")
        return self._frame(name)

    @abc.abstractmethod
    def _frame(self, name: str) -> pd.DataFrame: ...

    @property
    @abc.abstractmethod
    def summary(self) -> pd.DataFrame:
        """A small table that prints in a screenful."""

    @abc.abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The JSON object the CLI prints with ``--json``."""

    @abc.abstractmethod
    def save(self, out_dir: str | Path, *, overwrite: bool = False) -> Path:
        """Write the result's files into a new folder ``out_dir``, atomically (a staging folder renamed into
        place); an existing non-empty folder is refused unless ``overwrite``. Returns the folder."""

    @abc.abstractmethod
    def _headline(self) -> str: ...

    def __repr__(self) -> str:
        import pandas as pd

        with pd.option_context("display.max_rows", 12, "display.max_columns", 8, "display.width", 100,
                               "display.max_colwidth", 28):
            table = repr(self.summary)
        return f"<{type(self).__name__}: {self._headline()}>\n{table}\nframes: {', '.join(self.frames)}"

    def _repr_html_(self) -> str:
        import html

        return (f"<p><b>{html.escape(type(self).__name__)}</b>: {html.escape(self._headline())}</p>"
                + self.summary.head(20).to_html() + f"<p>frames: {html.escape(', '.join(self.frames))}</p>")


def _stamp(manifest: dict[str, Any], stage: Path, elapsed: float) -> None:
    from ..io import write_json
    from ..io.outputs import _sha256

    manifest["files"] = {p.name: _sha256(p) for p in sorted(stage.iterdir()) if p.is_file()}
    manifest["elapsed_s"] = round(elapsed, 3)
    write_json(stage / "manifest.json", manifest)


# --- the mechanism ---------------------------------------------------------------------------------------


def _trajectory_columns(episodes: Sequence[Episode]) -> dict[str, np.ndarray]:
    """Long-format columns of episodes that share one time grid (the layout of ``Trajectories.columns``)."""
    from ..solvers import Trajectories

    first = episodes[0]
    traj = Trajectories(first.time, first.species, np.stack([ep.values for ep in episodes]),
                        np.array([ep.status for ep in episodes], dtype=np.int64))
    return traj.columns()


def _readout_days(readouts: Mapping[str, Any]) -> dict[str, list[float]]:
    days = list(readouts["dcc_fold"])
    return {"day": [float(d) for d in days], "dcc_fold": [readouts["dcc_fold"][d] for d in days],
            "proliferating_fraction": [readouts["proliferating_fraction"].get(d, np.nan) for d in days]}


@dataclass(frozen=True, repr=False, eq=False)
class SimulationResult(Result):
    """One deterministic scenario: its course (``trajectories``, ``wide``), read-outs and manifest."""

    scenario: Scenario
    episode: Episode
    days: float
    readouts: Mapping[str, Any]
    manifest: Mapping[str, Any]
    elapsed_s: float = 0.0

    frames: ClassVar[dict[str, TableSpec]] = {"trajectories": TRAJECTORIES, "wide": WIDE, "readouts": READOUT_DAYS,
                                              "episodes": EPISODES}

    def _frame(self, name: str) -> pd.DataFrame:
        import pandas as pd

        if name == "episodes":
            rows = list(self.readouts.get("episodes", []))
            return _frame_from(EPISODES, {c: [np.nan if r.get(c) is None else r.get(c, np.nan) for r in rows]
                                          for c in EPISODES.names})
        if name == "trajectories":
            return _frame_from(TRAJECTORIES, _trajectory_columns([self.episode]))
        if name == "wide":
            df = pd.DataFrame({"time_days": self.episode.time, **self.episode.columns()})
            df.attrs["table"] = "wide"
            return df
        return _frame_from(READOUT_DAYS, _readout_days(self.readouts))

    @property
    def summary(self) -> pd.DataFrame:
        return self.frame("readouts").set_index("day")

    def to_dict(self) -> dict[str, Any]:
        return dict(self.readouts)

    def _headline(self) -> str:
        r = self.readouts
        return (f"{self.scenario.label}, {self.days:g} d, status {r['status']}; IL-6 peak {r['il6_peak_pg_ml']:.3g} "
                f"pg/mL on day {r['il6_peak_day']:.2f}")

    def save(self, out_dir: str | Path, *, overwrite: bool = False) -> Path:
        """trajectories.parquet, readouts.json, figure.png and manifest.json."""
        from ..io import OutputDir, write_json, write_table
        from ..report.figures import episode_figure

        started = time.perf_counter()
        manifest = dict(self.manifest)
        with OutputDir(out_dir, overwrite=overwrite) as stage:
            write_table(stage.path / "trajectories.parquet", _trajectory_columns([self.episode]), TRAJECTORIES,
                        {"scenario": self.scenario.label,
                         "model_hash": manifest["scenarios"][self.scenario.label]["model_hash"]})
            write_json(stage.path / "readouts.json", self.readouts)
            episode_figure([self.episode], stage.path / "figure.png", title=self.scenario.label)
            _stamp(manifest, stage.path, self.elapsed_s + time.perf_counter() - started)
        return Path(out_dir)


@dataclass(frozen=True, repr=False, eq=False)
class StochasticResult(Result):
    """The deterministic host episode plus stochastic lungs (clones, lesions) driven by it."""

    scenario: Scenario
    episode: Episode
    run: StochasticRun
    days: float
    readouts: Mapping[str, Any]
    manifest: Mapping[str, Any]
    elapsed_s: float = 0.0

    frames: ClassVar[dict[str, TableSpec]] = {"trajectories": TRAJECTORIES, "replicates": REPLICATES,
                                              "readouts": READOUT_DAYS}

    def _replicate_columns(self) -> dict[str, np.ndarray]:
        sto = self.run
        n_rep, n_days = sto.total.shape
        return {"replicate": np.repeat(np.arange(n_rep, dtype=np.int64), n_days),
                "day": np.tile(np.asarray(sto.days, dtype=float), n_rep),
                "dcc_total": sto.total.reshape(-1), "lesions_present": sto.lesions_present.reshape(-1),
                "first_lesion_day": np.repeat(sto.first_lesion_day, n_days)}

    def _frame(self, name: str) -> pd.DataFrame:
        if name == "trajectories":
            return _frame_from(TRAJECTORIES, _trajectory_columns([self.episode]))
        if name == "replicates":
            return _frame_from(REPLICATES, self._replicate_columns())
        return _frame_from(READOUT_DAYS, _readout_days(self.readouts))

    @property
    def summary(self) -> pd.DataFrame:
        import pandas as pd

        r = self.readouts
        keys = [k for k in ("replicates", "method", "lesions_mean", "lesions_p_zero", "failed") if k in r]
        return pd.DataFrame({"value": [r[k] for k in keys]}, index=keys)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.readouts)

    def _headline(self) -> str:
        r = self.readouts
        return (f"{self.scenario.label}, {r.get('replicates')} stochastic lungs ({r.get('method')}), "
                f"seed {self.manifest.get('seed')}")

    def save(self, out_dir: str | Path, *, overwrite: bool = False) -> Path:
        """What :meth:`SimulationResult.save` writes plus replicates.parquet and stochastic.png."""
        from ..io import OutputDir, write_json, write_table
        from ..report.figures import episode_figure, stochastic_figure

        started = time.perf_counter()
        manifest = dict(self.manifest)
        with OutputDir(out_dir, overwrite=overwrite) as stage:
            write_table(stage.path / "trajectories.parquet", _trajectory_columns([self.episode]), TRAJECTORIES,
                        {"scenario": self.scenario.label})
            write_table(stage.path / "replicates.parquet", self._replicate_columns(), REPLICATES,
                        {"scenario": self.scenario.label, "seed": str(manifest.get("seed")),
                         "method": str(self.readouts.get("method"))})
            write_json(stage.path / "readouts.json", self.readouts)
            episode_figure([self.episode], stage.path / "figure.png", title=self.scenario.label)
            stochastic_figure(self.run, stage.path / "stochastic.png")
            _stamp(manifest, stage.path, self.elapsed_s + time.perf_counter() - started)
        return Path(out_dir)


# --- cohorts --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class CohortResult(Result):
    """A virtual cohort. Its person and event tables stay in the Parquet store at ``path`` and are read when
    a frame is asked for (``frame("events", arm=...)`` reads one arm; ``sql(...)`` queries the store in DuckDB
    without loading it)."""

    path: Path
    summary_dict: Mapping[str, Any]
    manifest: Mapping[str, Any]

    frames: ClassVar[dict[str, TableSpec]] = {"persons": PERSONS, "events": EVENTS, "arms": COHORT_ARMS}

    @property
    def arms(self) -> tuple[str, ...]:
        return tuple(self.summary_dict["arms"])

    def frame(self, name: str, *, arm: str | None = None) -> pd.DataFrame:  # type: ignore[override]
        """``persons``, ``events`` (all arms, or ``arm``) or ``arms`` (the summary per arm)."""
        if arm is not None and name != "events":
            raise UnknownFrameError(f"only the events frame is split by arm, not {name!r}")
        if arm is not None and arm not in self.arms:
            raise UnknownFrameError(f"the cohort has no arm {arm!r}; arms: {', '.join(self.arms)}")
        if name == "events":
            return self._events(self.arms if arm is None else (arm,))
        return super().frame(name)

    def _events(self, arms: Sequence[str]) -> pd.DataFrame:
        import pandas as pd

        from ..io.cohort_store import read_events

        parts = []
        for a in arms:
            cols = read_events(self.path, a)
            parts.append(pd.DataFrame({"arm": pd.Categorical([a] * cols["person_id"].size, categories=self.arms),
                                       **cols}))
        df = pd.concat(parts, ignore_index=True)[list(EVENTS.names)]
        df.attrs["units"] = {c.name: c.unit for c in EVENTS.columns}
        return df

    def _frame(self, name: str) -> pd.DataFrame:
        if name == "persons":
            from ..io.cohort_store import read_persons

            return _frame_from(PERSONS, read_persons(self.path))
        rows = {c.name: [] for c in COHORT_ARMS.columns}
        for arm, counts in self.summary_dict["arms"].items():
            rows["arm"].append(arm)
            for c in COHORT_ARMS.columns[1:]:
                rows[c.name].append(counts.get(c.name))
        return _frame_from(COHORT_ARMS, rows)

    def sql(self, query: str) -> pd.DataFrame:
        """Run ``query`` in DuckDB over views ``persons`` and ``events`` (all arms, with an ``arm`` column)
        of the store; nothing is loaded beyond what the query returns."""
        from ..io.cohort_store import query_store

        return query_store(self.path, query)

    @property
    def summary(self) -> pd.DataFrame:
        keep = ["arm", "lung_metastases", "cancer_deaths", "infections", "anti_il6_doses", "averted_per_1000",
                "averted_per_1000_se_paired"]
        return self.frame("arms")[keep].set_index("arm")

    def to_dict(self) -> dict[str, Any]:
        return dict(self.summary_dict)

    def _headline(self) -> str:
        s = self.summary_dict
        return (f"{s['n_persons']:,} people, {s['person_years']:,.0f} person-years, {len(self.arms)} arm(s), "
                f"seed {self.manifest.get('seed')}, parameters {self.manifest.get('parameter_set', {}).get('provenance')}"
                f", at {self.path}")

    def save(self, out_dir: str | Path, *, overwrite: bool = False) -> Path:
        """Copy the cohort store to ``out_dir`` (a new directory); the store itself is already on disk."""
        from ..io.cohort_store import copy_store

        if overwrite:
            raise OutputError("a cohort is saved to a new folder only; remove the old one first")
        return copy_store(self.path, Path(out_dir))


@dataclass(frozen=True, repr=False, eq=False)
class CohortBatchResult(Result):
    """Several parameter sets run through the same people and infection draws (one call, shared tables
    solve): one :class:`CohortResult` per set, and a summary with one row per set and arm."""

    results: tuple[CohortResult, ...]
    manifest: Mapping[str, Any]

    frames: ClassVar[dict[str, TableSpec]] = {"arms": COHORT_ARMS}

    def __getitem__(self, k: int) -> CohortResult:
        return self.results[k]

    def __len__(self) -> int:
        return len(self.results)

    def _frame(self, name: str) -> pd.DataFrame:
        import pandas as pd

        parts = []
        for k, r in enumerate(self.results):
            df = r.frame("arms")
            df.insert(0, "parameter_set", k)
            parts.append(df)
        out = pd.concat(parts, ignore_index=True)
        out.attrs["units"] = {c.name: c.unit for c in COHORT_ARMS.columns}
        return out

    @property
    def summary(self) -> pd.DataFrame:
        return self.frame("arms")[["parameter_set", "arm", "lung_metastases", "cancer_deaths", "averted_per_1000"]]

    def to_dict(self) -> dict[str, Any]:
        return {"parameter_sets": [r.manifest.get("parameter_set") for r in self.results],
                "results": [r.to_dict() for r in self.results]}

    def _headline(self) -> str:
        return f"{len(self.results)} parameter sets x {self.results[0].summary_dict['n_persons']:,} people"

    def save(self, out_dir: str | Path, *, overwrite: bool = False) -> Path:
        out = Path(out_dir)
        for k, r in enumerate(self.results):
            r.save(out / f"set-{k:03d}")
        return out


# --- registries and studies -----------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class RegistryResult(Result):
    """An OMOP CDM written from a cohort; the truth (every infection, recorded or not) is in side files."""

    target: str
    truth: Mapping[str, Any]
    manifest: Mapping[str, Any]

    frames: ClassVar[dict[str, TableSpec]] = {"rows": TableSpec("rows", (Column("table", "string"),
                                                                         Column("rows", "int64")))}

    def _frame(self, name: str) -> pd.DataFrame:
        rows = self.truth["rows"]
        return _frame_from(self.frames["rows"], {"table": list(rows), "rows": list(rows.values())})

    @property
    def summary(self) -> pd.DataFrame:
        import pandas as pd

        inf = self.truth["infections"]
        return pd.DataFrame({k: v for k, v in inf.items()}).T

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.truth.items() if k != "cohort_manifest"}

    def _headline(self) -> str:
        from ..io.omop.cdm import redact_url

        return (f"OMOP CDM {self.truth.get('cdm_version')} at {redact_url(self.target)}, "
                f"{self.truth['n_persons']:,} persons")

    def save(self, out_dir: str | Path, *, overwrite: bool = False) -> Path:
        raise OutputError("a registry is written where write_registry(..., out=...) was told; it has no save()")


@dataclass(frozen=True, repr=False, eq=False)
class AnalysisResult(Result):
    """A registry study: hazard ratios, Kaplan-Meier curves, attrition and incidence by window."""

    result: Mapping[str, Any]
    study: Mapping[str, Any]
    manifest: Mapping[str, Any]
    elapsed_s: float = 0.0

    frames: ClassVar[dict[str, TableSpec]] = {"hazard_ratios": HAZARD_RATIOS, "km": KM, "attrition": ATTRITION,
                                              "incidence": INCIDENCE}

    CLI_KEYS: ClassVar[tuple[str, ...]] = ("study", "n_persons", "n_events", "n_rows", "person_years", "ties", "se",
                                           "hazard_ratios", "incidence", "attrition", "dropped_terms", "planted",
                                           "elapsed_s")

    def _frame(self, name: str) -> pd.DataFrame:
        r = self.result
        if name == "hazard_ratios":
            hrs = r["hazard_ratios"]
            return _frame_from(HAZARD_RATIOS, {c.name: [h[c.name] for h in hrs] for c in HAZARD_RATIOS.columns})
        if name == "km":
            cols: dict[str, list[Any]] = {c.name: [] for c in KM.columns}
            for curve, pts in r["km"].items():
                cols["curve"] += [curve] * len(pts["day"])
                for c in KM.columns[1:]:
                    cols[c.name] += list(pts[c.name])
            return _frame_from(KM, cols)
        if name == "attrition":
            steps = r["attrition"]
            return _frame_from(ATTRITION, {"step": list(steps), "n_persons": list(steps.values())})
        inc = r["incidence"]
        return _frame_from(INCIDENCE, {"window": list(inc), **{c.name: [v[c.name] for v in inc.values()]
                                                               for c in INCIDENCE.columns[1:]}})

    @property
    def summary(self) -> pd.DataFrame:
        return self.frame("hazard_ratios")[["term", "hr", "ci_low", "ci_high", "p"]].set_index("term")

    def to_dict(self) -> dict[str, Any]:
        full = {**self.result, "elapsed_s": self.elapsed_s}
        return {k: full[k] for k in self.CLI_KEYS if k in full}

    def _headline(self) -> str:
        r = self.result
        return f"study {r['study']}: {r['n_persons']:,} persons, {r['n_events']:,} events"

    def save(self, out_dir: str | Path, *, overwrite: bool = False) -> Path:
        """results.json, km.json, forest.png, km.png, summary.html and manifest.json."""
        from ..io import OutputDir, write_json
        from ..report.registry import PUBLISHED, forest_plot, km_figure, render_registry_report

        started = time.perf_counter()
        result, truth, name = dict(self.result), self.result.get("planted"), self.result["study"]
        manifest = dict(self.manifest)
        with OutputDir(out_dir, overwrite=overwrite) as stage:
            km = result["km"]
            write_json(stage.path / "results.json", {k: v for k, v in result.items() if k != "km"})
            write_json(stage.path / "km.json", km)
            forest_plot(result["hazard_ratios"], stage.path / "forest.png", title=name, truth=truth,
                        published=PUBLISHED.get(name))
            km_figure(km, stage.path / "km.png", title=name)
            render_registry_report(stage.path / "summary.html", result, study=dict(self.study),
                                   forest_png=stage.path / "forest.png", km_png=stage.path / "km.png", truth=truth)
            _stamp(manifest, stage.path, self.elapsed_s + time.perf_counter() - started)
        return Path(out_dir)


@dataclass(frozen=True, repr=False, eq=False)
class DemoResult(Result):
    """The main job: the mouse panel and its targets, human episodes, a cohort and registry studies."""

    path: Path
    targets: tuple[Mapping[str, Any], ...]
    readouts: Mapping[str, Any]
    cohort: CohortResult | None
    analyses: Mapping[str, AnalysisResult]
    manifest: Mapping[str, Any]
    files: tuple[str, ...] = field(default=())

    frames: ClassVar[dict[str, TableSpec]] = {"targets": TARGETS, "hazard_ratios": HAZARD_RATIOS}

    @property
    def targets_passed(self) -> int:
        return sum(1 for t in self.targets if t["ok"])

    def _frame(self, name: str) -> pd.DataFrame:
        import pandas as pd

        if name == "targets":
            return _frame_from(TARGETS, {c.name: [t[c.name] for t in self.targets] for c in TARGETS.columns})
        parts = []
        for study, res in self.analyses.items():
            df = res.frame("hazard_ratios")
            df.insert(0, "study", study)
            parts.append(df)
        return pd.concat(parts, ignore_index=True) if parts else _frame_from(
            HAZARD_RATIOS, {c.name: [] for c in HAZARD_RATIOS.columns})

    @property
    def summary(self) -> pd.DataFrame:
        return self.frame("targets")[["id", "value", "low", "high", "ok"]].set_index("id")

    def to_dict(self) -> dict[str, Any]:
        c = self.cohort
        return {"out": str(self.path), "targets_passed": self.targets_passed, "targets_total": len(self.targets),
                "elapsed_s": self.manifest.get("elapsed_s"),
                "cohort": None if c is None else {k: c.summary_dict[k] for k in (
                    "n_persons", "person_years", "infections", "lung_metastases", "cancer_deaths", "arms")},
                "registry": {k: v.result["hazard_ratios"] for k, v in self.analyses.items()} or None,
                "files": list(self.files)}

    def _headline(self) -> str:
        return f"{self.targets_passed}/{len(self.targets)} calibration targets met; report {self.path / 'report.html'}"

    def save(self, out_dir: str | Path, *, overwrite: bool = False) -> Path:
        raise OutputError(f"the demo writes its report where it was told ({self.path}); it has no save()")
