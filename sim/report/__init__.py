"""Charts and the run report, drawn from a results Dataset; nothing here runs a simulation.

- :mod:`sim.report.charts`: fan, odds, province-map, sector-heatmap and crossing-year charts;
  prior-against-posterior odds and model-against-observations charts of a calibrated run; odds
  and cost against change in odds for a scenario comparison (matplotlib, imported only when a
  chart is asked for).
- :mod:`sim.report.document` and :mod:`sim.report.comparison_document`: ``report.md`` for a run
  folder or a comparison folder, with or without charts.
- :mod:`sim.report.summaries`: draw-weighted quantiles, odds and crossing years behind both.

A headless sweep that writes no charts never imports matplotlib: the chart names below load
:mod:`sim.report.charts` on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from sim.report.comparison_document import write_comparison_report
from sim.report.document import write_report

CHARTS = (
    "fan_chart",
    "odds_chart",
    "comparison_odds_chart",
    "province_map",
    "sector_heatmap",
    "crossing_year_chart",
    "posterior_odds_chart",
    "predictive_chart",
    "cost_odds_chart",
    "tornado_chart",
    "frontier_chart",
)

__all__ = ["write_comparison_report", "write_report", *CHARTS]


def __getattr__(name: str) -> Any:
    if name in CHARTS:
        return getattr(importlib.import_module("sim.report.charts"), name)
    raise AttributeError(f"module 'sim.report' has no attribute {name!r}")
