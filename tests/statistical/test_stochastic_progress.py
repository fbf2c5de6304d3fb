"""Long stochastic runs report progress without changing their result."""

from __future__ import annotations

import numpy as np

from reawaken.experiments.stochastic import run_stochastic
from reawaken.scenarios import Scenario


def test_progress_is_reported_per_chunk_and_changes_nothing():
    seen: list[tuple[int, int]] = []
    scenario = Scenario("human", "influenza")
    with_progress = run_stochastic(scenario, days=30, replicates=60, seed=5, progress=lambda d, t: seen.append((d, t)))
    plain = run_stochastic(scenario, days=30, replicates=60, seed=5)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1] == (60, 60)
    assert len(seen) == 20  # split into ~20 chunks when a callback is given
    np.testing.assert_array_equal(with_progress.total, plain.total)
    np.testing.assert_array_equal(with_progress.first_lesion_day, plain.first_lesion_day)
    np.testing.assert_array_equal(with_progress.clone_sizes, plain.clone_sizes)
