"""From a scenario to a cohort to a registry study, in Python, with DataFrames and figures.

Run it as ``python examples/quickstart.py [OUTDIR]`` (about 20 s on 2 cores); docs/api.md walks through
the same steps. tests/integration/test_examples.py runs it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import reawaken.api as api  # noqa: E402
from reawaken import ParameterSet  # noqa: E402
from reawaken.cohort import load_config  # noqa: E402
from reawaken.scenarios import AntiIL6, Scenario  # noqa: E402

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="reawaken-quickstart-"))
out.mkdir(parents=True, exist_ok=True)

# 1. One mouse, one influenza infection, with and without anti-IL-6 on day 1.
flu = api.simulate(Scenario("mouse", "influenza"), days=60)
treated = api.simulate(Scenario("mouse", "influenza", interventions=(AntiIL6(day=1.0),)), days=60)
print(flu)                                         # a screenful: headline, read-outs by day, frame names
wide = flu.frame("wide")                           # time_days + one column per species
fig, ax = plt.subplots(figsize=(6, 3.5))
for res, label in ((flu, "influenza"), (treated, "influenza + anti-IL-6 day 1")):
    w = res.frame("wide")
    ax.semilogy(w.time_days, w.dormant + w.awakened + w.primed, label=label)
ax.set_xlabel("days after infection")
ax.set_ylabel("lung DCCs (cells)")
ax.legend()
fig.tight_layout()
fig.savefig(out / "dcc.png", dpi=120)
flu.save(out / "flu")                               # trajectories.parquet, readouts.json, figure.png, manifest

# 2. The same human episode under another parameter set (e.g. a posterior draw).
draw = ParameterSet({"K_il6": 200.0}, provenance="example draw")
human = api.simulate(Scenario("human", "sars-cov-2"), days=90, params=draw)
print(human.frame("readouts"))

# 3. A virtual cohort of survivors in two arms, with that parameter set. Tables stay on disk.
cohort = api.run_cohort(load_config(), n=5_000, seed=1, arms=["baseline", "no-infection"], params=draw,
                        out_dir=out / "cohort", workers=1)
print(cohort.summary)
events = cohort.frame("events", arm="baseline")
print(events[events.kind == "lung_metastasis"].head())
print(cohort.sql("SELECT arm, count(*) AS infections FROM events "
                 "WHERE kind IN ('influenza', 'sars-cov-2') GROUP BY arm ORDER BY arm"))

# 4. Its OMOP CDM registry, and the Flatiron-style study on it.
registry = api.write_registry(cohort, out / "registry.duckdb", seed=1)
study = api.analyze(registry, "flatiron-style", alpha=0.05)
print(study.summary)                                 # HR with 95% CI per term
print(study.frame("attrition"))
study.save(out / "flatiron")                         # results.json, km.json, forest.png, km.png, summary.html
print(f"wrote {out}")
