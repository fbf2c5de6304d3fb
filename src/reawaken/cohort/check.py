"""How far the episode tables are from the full within-host ODE, on a fresh random sample.

The cohort interpolates the per-focus response linearly in log severity and sums foci linearly. This
module draws episodes the tables were not built on (random virus, flags, severity and a mixed starting
state), solves each with the full ODE, and reports the relative error of the end-of-episode burden
``W`` and of its integral (which sets the lung-metastasis hazard). Used by the benchmark and a test.
"""

from __future__ import annotations

import numpy as np

from .._rng import as_generator
from ..experiments.run import run_scenarios
from ..model.library.il6_dormancy import SEVERITY_PARAMETERS
from ..model.params import ParameterSet
from ..scenarios.interventions import Antiviral, Vaccinated
from ..scenarios.scenario import Scenario
from ..solvers.dopri_jit import JitDopri5
from .episodes import DCC_STATES, VIRUSES, EpisodeTables, response_at


def emulator_error(tables: EpisodeTables, *, n: int = 64, seed: int = 0, antiviral_start_days: tuple[float, float] = (1.5, 2.0),
                   log_s_range: tuple[float, float] = (-2.0, 2.5), params: ParameterSet | None = None) -> dict[str, float]:
    """Worst and median relative errors (end W, integrated W) of the tables against the full ODE, both under
    parameter set ``params`` (the set the tables were built for)."""
    rng = as_generator(seed)
    days = float(tables.days[-1])
    scen, meta = [], []
    for _ in range(n):
        v, vf, av = int(rng.integers(2)), int(rng.integers(2)), int(rng.integers(2))
        ls = float(rng.uniform(*log_s_range))
        # dormant only (as a survivor starts), or mixed with a few awake and some primed cells
        start = np.array([1.0, 0.0, 0.0]) if rng.random() < 0.5 else np.array([1.0, rng.uniform(0, 0.01), rng.uniform(0, 0.5)])
        base = Scenario("human", VIRUSES[v], params=params).apply()[0]
        s = float(np.exp(ls))
        items = ([Vaccinated()] if vf else []) + ([Antiviral(start_day=antiviral_start_days[v])] if av else [])
        init = dict(zip(DCC_STATES, start.tolist()))
        scen.append(Scenario("human", VIRUSES[v], interventions=tuple(items), initial=init, params=params,
                             overrides={k: base.parameter(k).value * s for k in SEVERITY_PARAMETERS}))
        meta.append((v, vf, av, ls, start))
    eps = run_scenarios(scen, days=days, solver=JitDopri5(threads=False))
    err_end, err_cum = [], []
    for ep, (v, vf, av, ls, start) in zip(eps, meta):
        x = np.stack([ep.column(s) for s in DCC_STATES], axis=-1)
        w_path = x @ tables.weights
        w_end_ode = float(w_path[-1])
        cum_ode = float(np.trapezoid(w_path, ep.time))
        end, cum = (a[0] for a in response_at(tables, v, vf, av, 0, np.array([ls])))
        w_end_emu = float(start @ end @ tables.weights)
        cum_emu = float(start @ cum)
        err_end.append(abs(w_end_emu / w_end_ode - 1))
        err_cum.append(abs(cum_emu / cum_ode - 1))
    return {"n": n, "max_rel_err_end_w": float(np.max(err_end)), "median_rel_err_end_w": float(np.median(err_end)),
            "max_rel_err_cum_w": float(np.max(err_cum)), "median_rel_err_cum_w": float(np.median(err_cum))}
