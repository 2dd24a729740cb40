"""The explorer's views without a browser: the same colours, tiles and conventions as the report.

The browser test (tests/test_app.py) checks that the page shows them."""

from __future__ import annotations

from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from sim.report.style import TECH_COLORS
from sim.ui import explorer


def test_explorer_draws_each_technology_in_the_reports_colour():
    model = explorer.Explorer(rng=1)
    model.step()
    ax = explorer.plot_adoption(model, "population", Figure().subplots())
    drawn = {
        ln.get_label(): to_hex(ln.get_color()) for ln in ax.lines if ln.get_label() in TECH_COLORS
    }
    assert drawn == {t: c.lower() for t, c in TECH_COLORS.items()}
