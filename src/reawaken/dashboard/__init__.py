"""The local web dashboard (``reawaken serve``; extra ``web``): a thin shell over :mod:`reawaken.api`."""

from .app import Settings, create_app

__all__ = ["Settings", "create_app"]
