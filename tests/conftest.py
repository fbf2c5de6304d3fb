"""Strict numerics for every test: warnings are errors (pyproject) and floating-point faults raise."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _strict_floating_point():
    with np.errstate(all="raise"):
        yield
