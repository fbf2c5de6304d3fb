"""Strict numerics for every test: warnings are errors (pyproject) and floating-point faults raise."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _strict_floating_point():
    with np.errstate(all="raise"):
        yield


@pytest.fixture(scope="session")
def cohort_model():
    """The default cohort's model (episode tables solved once per test session) with the four shipped arms."""
    from reawaken.cohort.config import load_config
    from reawaken.cohort.simulate import arms_from_config, build_model

    config = load_config()
    arms = arms_from_config(config, ["baseline", "vaccinated", "anti-il6-after-infection", "no-infection"])
    return build_model(config, arms)
