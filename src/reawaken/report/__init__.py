"""Figures and the self-contained HTML report (matplotlib, Agg backend; no numerics here)."""

from .figures import episode_figure

__all__ = ["episode_figure"]
