"""Hostile-input tests: every mistake a user can make ends in one line on stderr, exit 2, no traceback,
and nothing written or changed (issue 11). Helpers are in ``hostile_helpers``; the PostgreSQL tests use
the server of the integration tests when ``REAWAKEN_TEST_POSTGRES_URL`` is set (``.ci/start-postgres``).
"""

from __future__ import annotations

import pytest
from hostile_helpers import write_cohort

from reawaken import api


@pytest.fixture(scope="session")
def small_registry(tmp_path_factory):
    """``(cohort_dir, registry.duckdb)``: 1,500 synthetic persons, every infection recorded."""
    d = tmp_path_factory.mktemp("hostile")
    write_cohort(d / "cohort", 1500, seed=3)
    api.write_registry(d / "cohort", d / "registry.duckdb", seed=1, ascertainment="covid=1,influenza=1")
    return d / "cohort", d / "registry.duckdb"
