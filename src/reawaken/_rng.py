"""The only place random generators are created (design principle 6).

Nothing here touches global RNG state. Streams are derived from one root ``SeedSequence`` so a result
depends on the seed and the subject index only, never on chunking or worker count.
"""

from __future__ import annotations

import numpy as np

from ._typing import SeedLike


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a ``Generator`` for ``seed`` (an int, a ``SeedSequence``, a ``Generator`` or ``None``)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def subject_streams(root_seed: int, first: int, count: int) -> list[np.random.Generator]:
    """Independent generators for subjects ``first .. first+count-1`` of a run seeded by ``root_seed``.

    A subject's stream is keyed by (root seed, subject index) alone, so any chunk regenerates exactly its
    subjects' draws.
    """
    return [
        np.random.Generator(np.random.Philox(key=_philox_key(root_seed, first + i))) for i in range(count)
    ]


def _philox_key(root_seed: int, index: int) -> int:
    # SeedSequence mixes (root, index) into well-spread entropy; Philox takes a 128-bit key.
    words = np.random.SeedSequence([int(root_seed), int(index)]).generate_state(2, dtype=np.uint64)
    return int(words[0]) | (int(words[1]) << 64)


# --- Counter-based uniforms (vectorised, chunk-invariant) -------------------------------------------
# A stochastic simulation of many paths needs, for path i at its k-th draw, a uniform that depends on
# (root seed, i, k) only. SplitMix64's output function applied to (key_i + k * golden) is exactly the
# SplitMix64 generator seeded with key_i (Steele, Lea & Flood 2014), so each path reads its own
# SplitMix64 stream; keys are themselves mixed from (seed, purpose, path index). NumPy's uint64
# arithmetic wraps modulo 2^64, which is what the algorithm needs.

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix64(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.uint64)
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def stream_keys(root_seed: int, index: np.ndarray, purpose: int = 0) -> np.ndarray:
    """Per-path stream keys from (root seed, purpose, path index): independent of chunking."""
    if not (0 <= int(root_seed) < 2**63):
        raise ValueError(f"seed must be an integer in [0, 2^63), got {root_seed!r}")
    with np.errstate(over="ignore"):
        base = _mix64(np.uint64(root_seed) ^ _mix64(np.uint64(purpose) + _GOLDEN))
        return _mix64(base ^ _mix64(np.asarray(index, dtype=np.uint64) * _GOLDEN + np.uint64(1)))


def counter_uniforms(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """Uniforms in (0, 1): draw number ``counters[i]`` of the stream ``keys[i]``."""
    with np.errstate(over="ignore"):
        z = _mix64(np.asarray(keys, dtype=np.uint64) + (np.asarray(counters, dtype=np.uint64) + np.uint64(1)) * _GOLDEN)
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)
