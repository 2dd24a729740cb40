"""Charts of a results Dataset (see :mod:`sim.results`) or of a scenario comparison.

Every chart takes one kind of input, a run's Dataset or a :class:`sim.comparison.Comparison`,
and an optional ``ax``; it draws on the Axes and returns them, and computes nothing that
:mod:`sim.stats` or :mod:`sim.report.summaries` does not. Draw weights (``weight`` (draw)) are
used when present. By subject:

- :mod:`~sim.report.charts.fan`: adoption over time.
- :mod:`~sim.report.charts.crossing`: the year each target's threshold is first passed.
- :mod:`~sim.report.charts.odds`: odds of the targets, of a run or of each compared scenario.
- :mod:`~sim.report.charts.maps`: provinces and sectors against the targets.
- :mod:`~sim.report.charts.calibration`: prior against posterior, model against observations.
- :mod:`~sim.report.charts.costs`: extra public cost against change in the odds.
- :mod:`~sim.report.charts.drivers`: what drives the odds (Sobol' indices); a designed
  programme's cost-odds frontier.

>>> import sim
>>> from sim.report import charts
>>> ds = sim.run("baseline", overrides=["mc.draws=100"])      # doctest: +SKIP
>>> charts.fan_chart(ds, metric="firms")                      # doctest: +SKIP
"""

from __future__ import annotations

from sim.report.charts.calibration import posterior_odds_chart, predictive_chart
from sim.report.charts.costs import cost_odds_chart
from sim.report.charts.crossing import crossing_year_chart
from sim.report.charts.drivers import frontier_chart, tornado_chart
from sim.report.charts.fan import fan_chart
from sim.report.charts.maps import province_map, sector_heatmap
from sim.report.charts.odds import comparison_odds_chart, odds_chart

__all__ = [
    "comparison_odds_chart",
    "cost_odds_chart",
    "crossing_year_chart",
    "fan_chart",
    "frontier_chart",
    "odds_chart",
    "posterior_odds_chart",
    "predictive_chart",
    "province_map",
    "sector_heatmap",
    "tornado_chart",
]
