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
