"""Resources (issue 11 item 6): limits stated as named constants next to the code they protect (listed in
docs/reliability.md, "Limits") and enforced before any work, with one line naming the value and the limit,
exit 2, nothing written. Before: ``--days 1e9`` a MemoryError traceback; ``anti-il6:doses=1e9`` and
``--replicates 100000000`` ran without end; a study with 1,500 windows drove ``analyze`` to 24 GB; an error
listing 200,000 unknown concept ids was 1.8 MB long.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import edited_study, run_error, tree_hash

from reawaken.errors import ScenarioError
from reawaken.experiments.run import MAX_DAYS, output_times
from reawaken.experiments.stochastic import MAX_REPLICATES
from reawaken.io.omop.study import MAX_WINDOWS
from reawaken.scenarios import parse_intervention
from reawaken.scenarios.interventions import MAX_DOSES


def _error_without_output(capsys, tmp_path, *argv) -> str:
    out = tmp_path / "out"
    line = run_error(capsys, *argv, "--out", out)
    assert tree_hash(out) == "absent"
    return line


_study = edited_study


def test_the_limits_are_the_documented_ones():
    assert (MAX_DAYS, MAX_DOSES, MAX_REPLICATES, MAX_WINDOWS) == (36_525, 1_000, 100_000, 50)
    doc = (Path(__file__).parents[2] / "docs" / "reliability.md").read_text()
    limits = doc[doc.index("## Limits"):]
    for name in ("MAX_DAYS", "MAX_DOSES", "MAX_REPLICATES", "MAX_WINDOWS", "MIN_EVENTS",
                 "MAX_STANDARDIZED_COEF", "MAX_STANDARDIZED_SE"):
        assert name in limits, name


@pytest.mark.parametrize("days", ["1e9", "36526", "1e308"])
def test_simulate_days_beyond_the_horizon(capsys, tmp_path, days):
    line = _error_without_output(capsys, tmp_path, "simulate", "--days", days)
    assert "days" in line and "36,525 days (100 years)" in line


def test_demo_days_beyond_the_horizon(capsys, tmp_path):
    line = _error_without_output(capsys, tmp_path, "demo", "--days", "1e9", "--cohort-n", "0")
    assert "36,525 days" in line


def test_the_longest_horizon_is_a_modest_grid():
    t = output_times(MAX_DAYS)
    assert t[-1] == MAX_DAYS and t.size < 40_000 and np.all(np.diff(t) > 0)
    with pytest.raises(ScenarioError, match="longest horizon"):
        output_times(MAX_DAYS + 1)


@pytest.mark.parametrize(("setting", "needle"), [
    ("doses=1e9", "doses=1,000,000,000 is more than 1,000"),
    ("doses=1001", "doses=1,001 is more than 1,000"),
    ("interval=inf", "interval must be a finite number of days"),
])
def test_anti_il6_course_limits(capsys, tmp_path, setting, needle):
    line = _error_without_output(capsys, tmp_path, "simulate", "--intervention", f"anti-il6:{setting}")
    assert needle in line


def test_the_longest_course_is_accepted():
    assert parse_intervention(f"anti-il6:doses={MAX_DOSES}").n_doses == MAX_DOSES


@pytest.mark.parametrize("n", ["100000000", str(MAX_REPLICATES + 1)])
def test_stochastic_replicates_limit(capsys, tmp_path, n):
    line = _error_without_output(capsys, tmp_path, "simulate", "--stochastic", "--replicates", n)
    assert re.search(r"replicates = [\d,]+ is more than 100,000", line)


def test_study_with_too_many_windows(small_registry, capsys, tmp_path):
    windows = ", ".join(str(7 * k) for k in range(1500))
    study = _study(tmp_path, **{"windows_days = [0, 90, 365]": f"windows_days = [{windows}]"})
    line = _error_without_output(capsys, tmp_path, "analyze", "--cdm", small_registry[1], "--study", study)
    assert "windows_days has 1,500 windows; at most 50" in line


def test_most_windows_allowed_still_parse(tmp_path):
    from reawaken.io.omop.study import load_study

    windows = ", ".join(str(7 * k) for k in range(MAX_WINDOWS))
    study = _study(tmp_path, **{"windows_days = [0, 90, 365]": f"windows_days = [{windows}]"})
    assert len(load_study(study).windows_days) == MAX_WINDOWS


def test_a_long_list_of_unknown_concepts_gives_a_short_message(small_registry, capsys, tmp_path):
    ids = ", ".join(str(900_000_000 + k) for k in range(200_000))
    study = _study(tmp_path, **{"concepts = [37311061]": f"concepts = [{ids}]"})
    line = _error_without_output(capsys, tmp_path, "analyze", "--cdm", small_registry[1], "--study", study)
    assert "900000000, 900000001" in line and "and 199,990 more" in line and len(line) < 400
