"""Experiments: scenarios run through the mechanism, with read-outs (the mouse panel of Chia et al. 2025)."""

from .panel import mouse_panel
from .readouts import REPORT_DAYS, summarise
from .run import Episode, output_times, run_scenarios

__all__ = ["REPORT_DAYS", "Episode", "mouse_panel", "output_times", "run_scenarios", "summarise"]
