"""Virtual survivor cohorts: configuration, people, exposure, episode tables, the compiled life course.

The configuration is the public entry (``load_config``, ``default_config``, ``describe``); the use case that
runs a cohort is :func:`reawaken.api.run_cohort`.
"""

from .config import ARM_KEYS, SCHEMA, CohortConfig, Key, default_config, describe, load_config

__all__ = ["ARM_KEYS", "SCHEMA", "CohortConfig", "Key", "default_config", "describe", "load_config"]
