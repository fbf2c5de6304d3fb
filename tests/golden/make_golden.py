"""Golden CLI outputs for fixed seeds, taken from the commit before the API change (a615664).

Run ``python tests/golden/make_golden.py tests/golden/cli_v1.json`` to regenerate (only when an output is
meant to change, with the reason in the commit). ``tests/integration/test_golden_cli.py`` runs the same
commands and asserts every output equal bit for bit: JSON values compared exactly, Parquet tables by a
SHA-256 of each column's bytes. Wall-clock fields (``elapsed_s``) and absolute paths are left out.

History: taken at a615664. Later, issue 10 added two attrition lines to every study (``with_target_record``,
``first_record_by_entry_cutoff``); a key-by-key diff of the regenerated file against the old one showed those
8 additions and no other change, so they were added and nothing else moved. Regenerated in full for
mechanism v2 (issue 12, commit e64828b): the within-host model changed, so every simulated number moved.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

VOLATILE = {"elapsed_s", "files", "cdm", "cohort_manifest", "out"}

# (name, argv after ``reawaken``); {tmp} is a scratch directory shared by the commands in order.
COMMANDS: list[tuple[str, list[str]]] = [
    ("simulate-mouse-flu", ["simulate", "--host", "mouse", "--virus", "influenza", "--out", "{tmp}/s1", "--json"]),
    ("simulate-mouse-anti-il6", ["simulate", "--host", "mouse", "--virus", "sars-cov-2", "--intervention",
                                 "anti-il6:dose=8,day=1", "--infection-days", "0,60", "--days", "120",
                                 "--out", "{tmp}/s2", "--json"]),
    ("simulate-human-stochastic", ["simulate", "--host", "human", "--virus", "influenza", "--stochastic",
                                   "--replicates", "40", "--seed", "3", "--days", "120", "--out", "{tmp}/s3",
                                   "--json"]),
    ("cohort", ["cohort", "--n", "20000", "--years", "15", "--arms",
                "baseline,vaccinated,anti-il6-after-infection,no-infection", "--seed", "1", "--chunk-size", "7000",
                "--workers", "1", "--out", "{tmp}/c1", "--json"]),
    ("registry", ["registry", "--cohort", "{tmp}/c1", "--out", "{tmp}/reg.duckdb", "--seed", "1", "--json"]),
    ("analyze-flatiron", ["analyze", "--cdm", "{tmp}/reg.duckdb", "--study", "flatiron-style", "--out",
                          "{tmp}/a1", "--json"]),
    ("analyze-ukb", ["analyze", "--cdm", "{tmp}/reg.duckdb", "--study", "ukb-style", "--out", "{tmp}/a2", "--json"]),
]


def _strip(obj):  # noqa: ANN001, ANN202
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _column_hashes(files: list[Path]) -> dict[str, str]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables([pq.read_table(f) for f in files])
    out = {}
    for name in table.column_names:
        col = table[name]
        if pa.types.is_dictionary(col.type):
            col = col.cast(pa.string())
        values = col.to_numpy(zero_copy_only=False)
        data = "\x1f".join(map(str, values)).encode() if values.dtype == object else np.ascontiguousarray(values).tobytes()
        out[name] = hashlib.sha256(data).hexdigest()
    out["_rows"] = str(table.num_rows)
    return out


def run_all(tmp: Path) -> dict[str, object]:
    golden: dict[str, object] = {}
    for name, argv in COMMANDS:
        args = [a.replace("{tmp}", str(tmp)) for a in argv]
        done = subprocess.run([sys.executable, "-m", "reawaken.cli.main", *args], capture_output=True, text=True,
                              check=True)
        golden[name] = _strip(json.loads(done.stdout.replace(str(tmp), "{tmp}")))
    c1 = tmp / "c1"
    golden["cohort-summary.json"] = _strip(json.loads((c1 / "summary.json").read_text()))
    golden["cohort-persons"] = _column_hashes(sorted((c1 / "persons").glob("*.parquet")))
    for arm_dir in sorted((c1 / "events").iterdir()):
        golden[f"cohort-events-{arm_dir.name}"] = _column_hashes(sorted(arm_dir.glob("*.parquet")))
    for a in ("a1", "a2"):
        golden[f"analyze-{a}-results.json"] = _strip(json.loads((tmp / a / "results.json").read_text()))
    golden["simulate-trajectories"] = _column_hashes([tmp / "s1" / "trajectories.parquet"])
    golden["simulate-replicates"] = _column_hashes([tmp / "s3" / "replicates.parquet"])
    return golden


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        result = run_all(Path(d))
    Path(sys.argv[1]).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(f"wrote {sys.argv[1]}")
