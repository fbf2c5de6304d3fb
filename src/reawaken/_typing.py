"""Type aliases shared by every layer."""

from __future__ import annotations

import os
from typing import Union

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SeedLike = Union[int, np.random.Generator, np.random.SeedSequence, None]  # noqa: UP007 (runtime alias on 3.10)
PathLike = Union[str, "os.PathLike[str]"]
