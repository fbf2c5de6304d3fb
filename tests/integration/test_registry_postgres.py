"""The same study on DuckDB and on a real PostgreSQL server gives identical numbers.

Needs ``REAWAKEN_TEST_POSTGRES_URL`` (``.ci/run`` starts a throwaway server and sets it, with
``REAWAKEN_REQUIRE_POSTGRES=1`` so that a missing server fails instead of skipping).
"""

from __future__ import annotations

import os

import pytest
from registry_fixture import write_cohort

from reawaken import api
from reawaken.io.omop import copy_cdm

URL = os.environ.get("REAWAKEN_TEST_POSTGRES_URL")
if not URL:
    if os.environ.get("REAWAKEN_REQUIRE_POSTGRES") == "1":
        raise RuntimeError("REAWAKEN_REQUIRE_POSTGRES=1 but REAWAKEN_TEST_POSTGRES_URL is not set")
    pytest.skip("no PostgreSQL server (set REAWAKEN_TEST_POSTGRES_URL)", allow_module_level=True)


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    d = tmp_path_factory.mktemp("pg")
    write_cohort(d / "cohort", 4000, seed=41)
    api.write_registry(d / "cohort", d / "registry.duckdb", seed=2, ascertainment="covid=0.8,influenza=0.5")
    pg = f"{URL}{'&' if '?' in URL else '?'}schema=reawaken_test"
    copied = copy_cdm(d / "registry.duckdb", pg)
    assert {"person", "death", "concept_ancestor", "cdm_source"} <= set(copied)
    return d / "registry.duckdb", pg


@pytest.mark.parametrize("study", ["ukb-style", "flatiron-style"])
def test_duckdb_and_postgresql_give_identical_numbers(both, study):
    duck, pg = both
    a = api.analyze(f"duckdb://{duck}", study).result
    b = api.analyze(pg, study).result
    assert b["cdm"]["backend"] == "postgresql" and a["cdm"]["backend"] == "duckdb"
    for key in ("n_persons", "n_events", "n_rows", "person_years", "hazard_ratios", "incidence", "attrition", "km"):
        assert a[key] == b[key], key  # exact: same rows in the same order, same arithmetic


def test_registry_written_straight_to_postgresql(both, tmp_path, monkeypatch):
    duck, _ = both
    monkeypatch.chdir(tmp_path)
    pg = f"{URL}{'&' if '?' in URL else '?'}schema=reawaken_direct"
    api.write_registry(duck.parent / "cohort", pg, seed=2, ascertainment="covid=0.8,influenza=0.5")
    assert (tmp_path / "registry.truth.json").is_file()
    a = api.analyze(duck, "flatiron-style").result
    b = api.analyze(pg, "flatiron-style").result
    assert a["hazard_ratios"] == b["hazard_ratios"]
