"""The ``reawaken`` command: parsing, calling :mod:`reawaken.api`, printing. No numerics here.

Every error a user can cause ends in one line on stderr that says what is wrong and how to fix it, and
exit code 2; nothing is written in that case.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .._version import __version__
from ..errors import ReawakenError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints the whole usage otherwise)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _days_list(text: str) -> tuple[float, ...]:
    try:
        days = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of days, e.g. 0,60") from None
    if not days or any(not math.isfinite(d) or d < 0 for d in days):
        raise argparse.ArgumentTypeError(f"{text!r}: infection days must be numbers >= 0, e.g. 0,60")
    return days


def _number(convert: Callable[[str], float], ok: Callable[[float], bool], need: str) -> Callable[[str], float]:
    """An argparse type: ``convert`` the text, then require ``ok`` (``need`` says what is required)."""
    kind = "whole number" if convert is int else "number"

    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{text!r} {need}")
        return value

    return parse


_positive = _number(float, lambda v: math.isfinite(v) and v > 0, "must be a positive number of days")
_fraction = _number(float, lambda v: 0.0 <= v <= 1.0, "must be a fraction between 0 and 1")
_count = _number(int, lambda v: v >= 1, "must be at least 1")
_seed = _number(int, lambda v: 0 <= v < 2**63, "must be between 0 and 2^63 - 1")
_alpha = _number(float, lambda v: 0.0 < v < 0.5, "must be between 0 and 0.5, e.g. 0.05 for 95% intervals")


def _assignment(text: str) -> tuple[str, float]:
    name, eq, value = text.partition("=")
    if not eq or not name.strip():
        raise argparse.ArgumentTypeError(f"--set {text!r}: write PARAM=VALUE, e.g. --set k_wake=0.5")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--set {text!r}: {value!r} is not a number") from None
    return name.strip(), number


def build_parser() -> argparse.ArgumentParser:
    from ..model.library.hosts import HOSTS, VIRUSES

    p = _Parser(prog="reawaken", description="Respiratory infections, IL-6 and dormant lung DCCs.")
    p.add_argument("--version", action="version", version=f"reawaken {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    d = sub.add_parser("demo", help="the main job: mouse panel and calibration targets, human episodes, a 100,000-person "
                       "cohort in four arms and registry studies of it; writes an HTML report",
                       description="Runs the mouse panel of Chia et al. 2025 and the calibration targets, human "
                       "episodes, a virtual cohort of --cohort-n survivors (a 100,000-person cohort by default) in four arms (baseline, vaccinated, "
                       "anti-il6-after-infection, no-infection), its OMOP registry with the flatiron-style and "
                       "ukb-style studies, and a planted-truth registry checked by planted-check; writes "
                       "report.html and the data behind it to --out.")
    d.add_argument("--out", type=Path, default=Path("reawaken-demo"), help="output directory (default: reawaken-demo)")
    d.add_argument("--days", type=_positive, default=270.0, help="horizon in days (default 270 = 9 months)")
    d.add_argument("--cohort-n", type=int, default=100_000, metavar="N",
                   help="people in the demo's virtual cohort (default 100000; 0 skips the cohort and registry steps)")
    d.add_argument("--seed", type=_seed, default=1, help="root seed of the cohorts and registries (default 1)")
    d.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out (default: refuse it)")
    d.add_argument("--json", action="store_true", help="print a JSON summary instead of text")

    s = sub.add_parser("simulate", help="simulate one host/virus/intervention scenario")
    _add_scenario_args(s)
    s.add_argument("--days", type=_positive, default=270.0, help="horizon in days (default 270)")
    s.add_argument("--out", type=Path, required=True, help="output directory (new or empty)")
    s.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out (default: refuse it)")
    s.add_argument("--json", action="store_true", help="print the read-outs as one JSON object")
    s.add_argument("--stochastic", action="store_true", help="also simulate DCCs as stochastic clones")
    s.add_argument("--replicates", type=_count, default=200, help="stochastic replicates (default 200)")
    s.add_argument("--seed", type=_seed, default=0, help="root seed of the stochastic run (default 0)")
    s.add_argument("--method", choices=("exact", "tau-leap"), default="exact", help="stochastic method")
    s.add_argument("--lesion-threshold", type=_positive, default=50.0, metavar="CELLS",
                   help="clone size that counts as a lesion (default 50 cells)")

    x = sub.add_parser("export-sbml", help="write the scenario as SBML Level 3 (validated with libsbml)")
    _add_scenario_args(x)
    x.add_argument("-o", "--out", type=Path, required=True, help="SBML file to write")
    x.add_argument("--overwrite", action="store_true", help="replace an existing file (default: refuse it)")

    q = sub.add_parser("params", help="list parameters with units, priors and sources")
    q.add_argument("--host", choices=HOSTS, default="mouse", help="host (default mouse)")
    q.add_argument("--virus", choices=VIRUSES, default="influenza", help="virus (default influenza)")
    q.add_argument("--json", action="store_true", help="print the table as one JSON list")
    g = sub.add_parser("config", help="list every key of cohort configs (or study files) with type, bounds, "
                       "unit, default, source and doc")
    g.add_argument("--study", action="store_true", help="list the keys of study files instead")
    g.add_argument("--json", action="store_true", help="print the schema as one JSON list")
    _add_cohort_command(sub)
    _add_registry_commands(sub)
    _add_serve_command(sub)
    return p


def _add_serve_command(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("serve", help="the local web dashboard (needs the 'web' extra: pip install 'reawaken[web]')",
                       description="Serves the dashboard and its JSON API (/openapi.json). Binds 127.0.0.1 by default; "
                       "any other --host needs a token (printed, or given with --token).")
    w.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    w.add_argument("--port", type=_number(int, lambda v: 0 < v < 65536, "must be a port 1-65535"), default=8765,
                   help="port (default 8765)")
    w.add_argument("--token", default=None, help="access token when binding beyond loopback (default: a new random one)")
    w.add_argument("--registry-dir", type=Path, default=None, help="folder of `reawaken analyze --out` folders to show")
    w.add_argument("--data-dir", type=Path, default=None, help="folder for cohort jobs (default: a new temporary one)")
    w.add_argument("--max-cohort-n", type=_count, default=20_000, help="largest cohort a job may ask for (default 20000)")
    w.add_argument("--workers", type=_count, default=1, help="cohort jobs run at once (default 1)")
    w.add_argument("--sim-processes", type=_number(int, lambda v: 0 <= v <= 64, "must be 0-64"), default=None,
                   help="worker processes for scenario requests (default: the number of cores; 0 = in the server)")


def _add_scenario_args(p: argparse.ArgumentParser) -> None:
    """The options that describe one scenario (``simulate`` and ``export-sbml``)."""
    from ..model.library.hosts import HOSTS, VIRUSES
    from ..scenarios import REGISTRY

    p.add_argument("--host", choices=HOSTS, default="mouse", help="host parameter set (default mouse)")
    p.add_argument("--virus", choices=VIRUSES, default="influenza",
                   help="virus (default influenza; none = uninfected PBS control)")
    p.add_argument("--intervention", action="append", default=[], metavar="NAME[:key=value,...]",
                   help=f"repeatable; NAME one of: {', '.join(REGISTRY)} (settings: see README)")
    p.add_argument("--infection-days", type=_days_list, default=(0.0,), metavar="D1,D2,...",
                   help="days of infection (default 0)")
    p.add_argument("--set", action="append", type=_assignment, default=[], metavar="PARAM=VALUE",
                   help="override a parameter (see `reawaken params`)")
    p.add_argument("--cross-reactivity", type=_fraction, default=0.003, metavar="F",
                   help="share of neutralising titre acting on each later infection's strain (default 0.003)")


def _arm_list(text: str) -> tuple[str, ...]:
    arms = tuple(a.strip() for a in text.split(",") if a.strip())
    if not arms:
        raise argparse.ArgumentTypeError(f"{text!r}: give arm names separated by commas, e.g. baseline,vaccinated")
    if len(set(arms)) != len(arms):
        raise argparse.ArgumentTypeError(f"{text!r}: an arm is listed twice")
    return arms


def _add_cohort_command(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("cohort", help="simulate a virtual cohort of survivors through seasons and waves")
    c.add_argument("--config", type=Path, default=None, help="cohort TOML (keys replace the embedded defaults)")
    c.add_argument("--n", type=_count, default=100_000, help="number of people (default 100000)")
    c.add_argument("--years", type=_positive, default=None, help="years of follow-up (default: the config's, 15)")
    c.add_argument("--arms", type=_arm_list, default=("baseline",), metavar="A,B,...",
                   help="arms from the config (default baseline; shipped: baseline, vaccinated, "
                        "anti-il6-after-infection, no-infection)")
    c.add_argument("--seed", type=_seed, default=0, help="root seed (default 0)")
    c.add_argument("--set", action="append", type=_assignment, default=[], metavar="PARAM=VALUE",
                   help="human mechanism parameter for every episode (see `reawaken params --host human`)")
    c.add_argument("--out", type=Path, required=True, help="output directory (repeat the command to resume)")
    c.add_argument("--chunk-size", type=_count, default=None, help="people per chunk (default 50000)")
    c.add_argument("--workers", type=_count, default=None,
                   help="local worker processes (default: all cores for large runs); with --dask a local Dask cluster")
    c.add_argument("--dask", action="store_true", help="run chunks on a local Dask distributed cluster")
    c.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", help="run chunks on this Dask scheduler")
    c.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def _add_registry_commands(sub: argparse._SubParsersAction) -> None:
    """``registry`` (cohort -> OMOP CDM) and ``analyze`` (study on a CDM)."""
    r = sub.add_parser("registry", help="write an OMOP CDM v5.4 registry (DuckDB) from a virtual cohort")
    r.add_argument("--cohort", type=Path, required=True, help="cohort directory (reawaken cohort --out DIR)")
    r.add_argument("--out", required=True, help="registry file (registry.duckdb) or postgresql://user@host:port/db")
    r.add_argument("--arm", default=None, help="cohort arm to write (default: baseline, else the first arm)")
    r.add_argument("--seed", type=_seed, default=0, help="seed of the ascertainment draws (default 0)")
    r.add_argument("--ascertainment", default=None, metavar="covid=S,influenza=S",
                   help="share of infections recorded (default covid=0.5,influenza=0.1)")
    r.add_argument("--overwrite", action="store_true",
                   help="replace an existing registry file (default: refuse it)")
    r.add_argument("--json", action="store_true", help="print the truth summary as one JSON object")

    a = sub.add_parser("analyze", help="run a registry study (TOML or shipped name) on an OMOP CDM")
    a.add_argument("--cdm", required=True, help="a DuckDB file path (or duckdb:///absolute/path.duckdb) or postgresql://user@host:port/db")
    a.add_argument("--study", required=True,
                   help="study TOML file or shipped name (ukb-style, flatiron-style, planted-check)")
    a.add_argument("--alpha", type=_alpha, default=0.05,
                   help="1 - confidence level of the intervals (default 0.05: 95%% intervals)")
    a.add_argument("--out", type=Path, required=True, help="output directory (new or empty)")
    a.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out (default: refuse it)")
    a.add_argument("--json", action="store_true", help="print n_persons, n_events, hazard_ratios as one JSON object")
    a.add_argument("--ties", choices=("breslow", "efron"), default=None, metavar="breslow|efron",
                   help="tied event times in the Cox model (default: the study's ties, else breslow)")
    _add_schema_options(a)

    k = sub.add_parser("cdm-check", help="what a study will and will not find in an OMOP CDM (read-only)",
                       description="Compares the CDM with the official OHDSI DDL of its version and lists what "
                       "reawaken's studies read: tables, columns, row counts, vocabulary. Exit 0 when a study "
                       "can run, 1 when something it needs is missing, 2 when the CDM cannot be opened.")
    k.add_argument("cdm", help="a DuckDB file path (or duckdb:///absolute/path.duckdb) or postgresql://user@host:port/db")
    _add_schema_options(k)
    k.add_argument("--json", action="store_true", help="print the report as one JSON object")


class _KeepHyphens(argparse.HelpFormatter):
    """Help text wrapped without breaking at hyphens: names such as flatiron-style and --cdm-schema stay whole
    (the schema options widen the option column, which made argparse split them)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def _add_schema_options(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = _KeepHyphens
    parser.add_argument("--cdm-schema", default=None, metavar="NAME", help="schema of the clinical tables (default: DuckDB main / "
                        "the URL's ?schema= / PostgreSQL search_path)")
    parser.add_argument("--vocab-schema", default=None, metavar="NAME", help="schema of the vocabulary tables (default: --cdm-schema)")
    parser.add_argument("--results-schema", default=None, metavar="NAME",
                        help="schema of the cohort table read by cohort_definition_id (default: --cdm-schema)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except ReawakenError as exc:
        return _fail(str(exc))
    except BrokenPipeError:  # `reawaken params | head`: the reader left; not an error
        sys.stderr.close()
        return 0
    except OSError as exc:  # the machine said no: a full disk, a file size limit, no permission
        where = f" ({exc.filename})" if exc.filename else ""
        return _fail(f"cannot write or read{where}: {exc.strerror or exc}; free space or choose another --out")
    except MemoryError:
        return _fail("out of memory; run a smaller problem (fewer days, replicates or people) or use a bigger machine")


MAX_MESSAGE = 400  # characters: an error is one readable line, even when it lists thousands of ids


def _fail(message: str) -> int:
    """One line on stderr, clipped to a readable length, and the usage exit code."""
    line = " ".join(message.split())
    if len(line) > MAX_MESSAGE:
        line = f"{line[:MAX_MESSAGE]}... ({len(line) - MAX_MESSAGE:,} more characters)"
    print(f"reawaken: error: {line}", file=sys.stderr)
    return EXIT_USAGE


def _progress(done: int, total: int) -> None:
    """Progress of long stochastic runs on an interactive terminal (stderr; stdout stays clean for --json)."""
    end = "\n" if done >= total else ""
    print(f"\rstochastic lungs: {done}/{total} ({100 * done // total}%)", end=end, file=sys.stderr, flush=True)


def _scenario(args: argparse.Namespace):  # noqa: ANN202
    from ..scenarios import Scenario, parse_intervention

    scenario = Scenario(
        host=args.host, virus=args.virus, infection_days=args.infection_days,
        interventions=tuple(parse_intervention(t) for t in args.intervention),
        overrides=dict(args.set), cross_reactivity=args.cross_reactivity,
    )
    scenario.apply()  # validate overrides before anything is written
    return scenario


def _check_out_parent(out: Path, overwrite: bool = False) -> None:
    """Refuse an --out that cannot become this command's folder before any work is done (the save would
    refuse it after): a file, a non-empty folder without --overwrite, a file among its parents. Missing
    parent folders are created at the save, as ``mkdir -p`` would."""
    from ..errors import OutputError
    from ..io.outputs import check_out_dir

    check_out_dir(out, overwrite=overwrite)
    for anc in out.resolve().parents:
        if anc.exists():
            if not anc.is_dir():
                raise OutputError(f"cannot write to {out}: {anc} is a file, not a directory")
            break


def _dispatch(args: argparse.Namespace) -> int:
    from .. import api
    from ..io.outputs import to_json

    if args.command == "serve":
        return _run_serve(args)
    if args.command == "export-sbml":
        scenario = _scenario(args)
        if args.out.exists() and not args.overwrite:
            from ..errors import OutputError

            raise OutputError(f"-o {args.out} exists; choose a new file, or pass --overwrite to replace it")
        from ..io.outputs import make_parents

        make_parents(args.out)  # as mkdir -p; a file among the parents is an error
        api.export_sbml(scenario, args.out)
        print(f"wrote {args.out} (SBML L3V2, {scenario.label})")
        return 0
    if args.command == "simulate":
        scenario = _scenario(args)
        _check_out_parent(args.out, args.overwrite)
        if args.stochastic:
            result = api.simulate_stochastic(scenario, days=args.days, replicates=args.replicates, seed=args.seed,
                                             method=args.method, lesion_threshold=args.lesion_threshold,
                                             progress=_progress if sys.stderr.isatty() else None)
        else:
            result = api.simulate(scenario, days=args.days)
        result.save(args.out, overwrite=args.overwrite)
        if args.json:
            print(to_json(result.to_dict(), indent=None))
        else:
            r = result.to_dict()
            folds = ", ".join(f"{d} d: {v:.3g}x" for d, v in r["dcc_fold"].items())
            print(f"{scenario.label}: DCC fold {folds}; IL-6 peak {r['il6_peak_pg_ml']:.3g} pg/mL on day "
                  f"{r['il6_peak_day']:.2f}; wrote {args.out}")
            if args.stochastic:
                print(f"  {r['replicates']} stochastic lungs ({r['method']}): lesions per lung {r['lesions_mean']:.3g}, "
                      f"P(no lesion) {r['lesions_p_zero']:.3g}")
        return 0
    if args.command == "demo":
        if args.cohort_n < 0:
            from ..errors import ConfigError

            raise ConfigError(f"--cohort-n must be >= 0, got {args.cohort_n}")
        result = api.run_demo(args.out, days=args.days, cohort_n=args.cohort_n, seed=args.seed,
                              overwrite=args.overwrite)
        x = result.to_dict()
        if args.json:
            print(to_json(x, indent=None))
        else:
            print(f"reawaken demo: {x['targets_passed']}/{x['targets_total']} calibration targets met; "
                  f"report: {args.out / 'report.html'} ({result.manifest.get('elapsed_s')} s)")
            if x.get("cohort"):
                c = x["cohort"]
                print(f"  cohort: {c['n_persons']:,} survivors, {c['infections']:,} infections, "
                      f"{c['lung_metastases']:,} lung metastases (baseline arm)")
                for study, hrs in x["registry"].items():
                    inf = ", ".join(f"{h['term'].removeprefix('infection ')} HR {h['hr']:.2f}" for h in hrs
                                    if h["term"].startswith("infection"))
                    print(f"  registry {study}: {inf}")
        return 0
    if args.command in ("registry", "analyze"):
        return _run_registry(args)
    if args.command == "cdm-check":
        return _run_cdm_check(args)
    if args.command == "cohort":
        return _run_cohort(args)
    if args.command == "config":
        return _print_schema(args)
    if args.command == "params":
        rows = api.parameter_table(args.host, args.virus)
        if args.json:
            print(to_json(rows, indent=None))
        else:
            for r in rows:
                print(f"{r['name']:14s} {r['value']:<12.4g} {r['unit']:24s} {r['source']}")
        return 0
    raise AssertionError(args.command)


def _run_serve(args: argparse.Namespace) -> int:
    import os
    import secrets

    try:
        import uvicorn

        from ..dashboard import Settings, create_app
    except ImportError as exc:
        return _fail(f"the dashboard needs the 'web' extra ({exc.name} is missing): pip install 'reawaken[web]'")
    settings = Settings(host=args.host, data_dir=args.data_dir, registry_dir=args.registry_dir,
                        max_cohort_n=args.max_cohort_n, workers=args.workers,
                        sim_processes=(os.cpu_count() or 1) if args.sim_processes is None else args.sim_processes)
    if not settings.loopback:
        settings.token = args.token or secrets.token_urlsafe(24)
    elif args.token:
        settings.token = args.token
    query = f"/?token={settings.token}" if settings.token else "/"
    print(f"reawaken dashboard on http://{args.host}:{args.port}{query} (research use only; Ctrl-C stops it)")
    if settings.token:
        print(f"token: {settings.token}  (scripts: Authorization: Bearer TOKEN)")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")
    return 0


def _print_schema(args: argparse.Namespace) -> int:
    from ..io.outputs import to_json

    if args.study:
        from ..io.omop.study import describe_study

        rows = describe_study()
    else:
        from ..cohort.config import describe

        rows = describe()
    if args.json:
        print(to_json(rows, indent=None))
        return 0
    for r in rows:
        bounds = f"[{r['bounds'][0]:g}, {r['bounds'][1]:g}]" if r.get("bounds") else ""
        default = "(required)" if r.get("required") else r["default"]
        print(f"[{r['section']}] {r['key']}: {r['type']} {bounds} {r['unit']}; default {default}; {r['doc']}"
              + (f" -- {r['source']}" if r.get("source") else ""))
    return 0


def _cohort_progress(done: int, total: int) -> None:
    end = "\n" if done >= total else ""
    print(f"\rcohort chunks: {done}/{total} ({100 * done // max(total, 1)}%)", end=end, file=sys.stderr, flush=True)


def _run_cohort(args: argparse.Namespace) -> int:
    import os

    from .. import api
    from ..cohort.config import load_config
    from ..io.outputs import to_json

    config = load_config(args.config)
    if args.scheduler is not None and not args.scheduler.startswith(("tcp://", "tls://", "inproc://")):
        from ..errors import ConfigError

        raise ConfigError(f"--scheduler {args.scheduler!r}: give a Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    size = args.chunk_size or min(api.DEFAULT_CHUNK, args.n)
    workers = args.workers
    if workers is None and not args.dask and args.scheduler is None:
        workers = (os.cpu_count() or 1) if args.n > size else 1
    params = api.ParameterSet(dict(args.set), provenance="user") if args.set else None
    if args.n >= 1_000_000 and sys.stderr.isatty():
        from ..api.cohort import store_size_estimate

        print(f"cohort: {args.n:,} people in {len(args.arms)} arm(s), about "
              f"{store_size_estimate(args.n, len(args.arms)) / 1e9:.1f} GB on disk", file=sys.stderr)
    summary = api.run_cohort(config, n=args.n, out_dir=args.out, seed=args.seed, years=args.years,
                             arms=args.arms, params=params, chunk_size=args.chunk_size, workers=workers,
                             scheduler=args.scheduler, dask=args.dask,
                             progress=_cohort_progress if sys.stderr.isatty() else None).to_dict()
    if args.json:
        print(to_json(summary, indent=None))
    else:
        ref = summary["reference_arm"]
        print(f"cohort: {summary['n_persons']:,} people, {summary['person_years']:,.0f} person-years, "
              f"{summary['infections']:,} infections, {summary['lung_metastases']:,} lung metastases, "
              f"{summary['cancer_deaths']:,} breast-cancer deaths ({ref}); {summary['elapsed_s']} s; wrote {args.out}")
        for arm, c in summary["arms"].items():
            if arm != ref:
                print(f"  {arm}: {c['lung_metastases']:,} lung metastases; averted vs {ref}: "
                      f"{c['averted_per_1000']:.2f} per 1,000 (paired SE {c['averted_per_1000_se_paired']:.2f})"
                      + (f", {c['averted_per_dose']:.3f} per dose" if c.get("averted_per_dose") is not None else ""))
    return 0


def _run_registry(args: argparse.Namespace) -> int:
    from .. import api
    from ..io.outputs import to_json

    if args.command == "registry":
        summary = api.write_registry(args.cohort, args.out, arm=args.arm, seed=args.seed,
                                     ascertainment=args.ascertainment, overwrite=args.overwrite).truth
        if args.json:
            print(to_json({k: v for k, v in summary.items() if k != "cohort_manifest"}, indent=None))
        else:
            inf = summary["infections"]
            truth = [Path(f) for f in summary["files"] if not str(f).startswith(("postgresql:", "postgres:"))]
            truth = [f for f in truth if f.name != Path(str(args.out)).name]
            folder = truth[0].parent if truth else Path.cwd()
            print(f"wrote {summary['cdm']}: OMOP CDM v5.4, {summary['n_persons']} persons (arm {summary['arm']}); "
                  + ", ".join(f"{k} {v['recorded']}/{v['simulated']} infections recorded" for k, v in inf.items())
                  + f"; truth in {folder} ({', '.join(f.name for f in truth)})")
        return 0
    _check_out_parent(args.out, args.overwrite)
    analysis = api.analyze(args.cdm, args.study, alpha=args.alpha, ties=args.ties, cdm_schema=args.cdm_schema,
                           vocab_schema=args.vocab_schema, results_schema=args.results_schema)
    analysis.save(args.out, overwrite=args.overwrite)
    result = analysis.to_dict()
    for line in analysis.result.get("warnings", ()):  # what the CDM lacks is said, never silent (issue 10)
        print(f"warning: {line}", file=sys.stderr)
    if analysis.result.get("warnings"):
        result["warnings"] = list(analysis.result["warnings"])
    if args.json:
        print(to_json(result, indent=None))
    else:
        print(f"{result['study']}: {result['n_persons']} persons, {result['n_events']} events; "
              f"wrote {args.out / 'summary.html'} ({result['elapsed_s']} s)")
        for h in result["hazard_ratios"]:
            print(f"  {h['term']:24s} HR {h['hr']:.3f} ({h['ci_low']:.3f}-{h['ci_high']:.3f}) p={h['p']:.3g}")
    return 0


def _run_cdm_check(args: argparse.Namespace) -> int:
    from .. import api
    from ..io.outputs import to_json

    report = api.check_cdm(args.cdm, cdm_schema=args.cdm_schema, vocab_schema=args.vocab_schema,
                           results_schema=args.results_schema)
    if args.json:
        print(to_json(report.to_dict(), indent=None))
    else:
        print("\n".join(report.lines()))
    return 0 if report.ready else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
