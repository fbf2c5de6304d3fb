"""Hostile input to what mechanism v2 added (issue "Mechanism v2"): the NET-inhibition and sterile-inflammation
interventions and the inoculum parameter V0. One line, exit 2, nothing written."""

from __future__ import annotations

import pytest
from hostile_helpers import run_error, tree_hash

BAD = [
    (("--intervention", "net-inhibition:efficacy=2"), "efficacy must be in [0, 1]"),
    (("--intervention", "net-inhibition:efficacy=nan"), "efficacy must be in [0, 1]"),
    (("--intervention", "net-inhibition:start=5,end=1"), "must come after start"),
    (("--intervention", "inflammation:duration=0"), "duration must be a finite number of days > 0"),
    (("--intervention", "inflammation:duration=inf"), "duration must be a finite number of days > 0"),
    (("--intervention", "inflammation:start=-3"), "must be a day >= 0"),
    (("--intervention", "inflammation:end=14"), "bad setting"),
    (("--set", "V0=-1"), "V0"),
    (("--set", "V0=1e12"), "V0"),
    (("--set", "late_phase=2"), "late_phase"),
]


@pytest.mark.parametrize(("args", "expected"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_v2_inputs_fail_in_one_line_and_write_nothing(capsys, tmp_path, args, expected):
    out = tmp_path / "out"
    line = run_error(capsys, "simulate", "--host", "mouse", "--virus", "none", *args, "--out", out)
    assert expected in line, line
    assert tree_hash(out) == "absent"
