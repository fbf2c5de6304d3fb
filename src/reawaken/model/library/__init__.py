"""Canonical models as data."""

from .il6_dormancy import il6_dormancy_spec

__all__ = ["il6_dormancy_spec"]
