"""The explorer's views without a browser: the report's colours, tile map and conventions, and a
band over several draws beside the single history. The browser test (tests/test_app.py) checks
that the page shows them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from sim.report.style import TECH_COLORS
from sim.report.tiles import TILES
from sim.ui import explorer
from sim.vocab import TECH_COORDS


@pytest.fixture(scope="module")
def model() -> explorer.Explorer:
    m = explorer.Explorer(rng=1)
    for _ in range(3):
        m.step()
    return m


def new_ax():
    return Figure().subplots()


def test_explorer_draws_each_technology_in_the_reports_colour(model):
    ax = explorer.plot_adoption(model, "population", new_ax())
    drawn = {to_hex(ln.get_color()) for ln in ax.lines if ln.get_marker() in ("None", None, "")}
    assert drawn == {c.lower() for c in TECH_COLORS.values()}


def test_explorer_axes_are_labelled_percentages_with_targets_at_the_years_end(model):
    for plot in (explorer.plot_adoption, explorer.plot_ensemble):
        ax = plot(model, "firms", new_ax())
        assert ax.get_ylabel() == "adopted share of firms (by count)"
        assert ax.yaxis.get_major_formatter()(0.5, 0) == "50%"
        marks = [ln for ln in ax.lines if ln.get_marker() == "D"]
        when = sorted(pd.Timestamp(ln.get_xdata()[0]) for ln in marks)
        assert when == [pd.Timestamp("2027-12-31"), pd.Timestamp("2030-12-31")]


def test_explorer_ensemble_is_a_band_over_several_draws_with_its_odds(model):
    share = explorer._ensemble(model.inputs)
    assert share.shape[0] == explorer.N_ENSEMBLE and np.ptp(share[:, -1, 2, 0]) > 0
    ax = explorer.plot_ensemble(model, "population", new_ax())
    # One band per technology reading: terminal, agent, any, both.
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == len(TECH_COORDS)
    dates = model.spec.time.month_ends()
    met = np.mean(share[:, dates == np.datetime64("2027-12-31"), 2, 0] > 0.7)
    assert f"end-2027 {met:.0%}" in ax.get_title()


def test_explorer_map_is_the_reports_tile_map(model):
    ax = explorer.plot_tiles(model, new_ax())
    tiles = {p.get_gid(): p for p in ax.patches}
    assert set(tiles) == set(TILES)
    for prov, (row, col) in TILES.items():
        assert tiles[prov].get_xy() == (col, -row)


def _posterior_run(folder, weight, **attrs):
    """A results file whose draws differ only in ``agent.q`` (0.1 ... 0.5), with ``weight``."""
    spec = explorer.base_spec()
    values = np.tile([p.central for p in spec.priors], (len(weight), 1))
    j = spec.param_names.index("agent.q")
    values[:, j] = np.linspace(0.1, 0.5, len(weight))
    ds = xr.Dataset(
        {"param_value": (("draw", "param"), values), "weight": ("draw", np.asarray(weight, float))},
        coords={"param": list(spec.param_names)},
        attrs=attrs,
    )
    ds.to_netcdf(folder / "results.nc", engine="h5netcdf")
    return j


def test_a_calibrated_runs_posterior_sets_the_sliders_and_the_band(tmp_path, monkeypatch):
    # All the posterior weight on the draw with agent.q = 0.4: the slider starts there and every
    # posterior draw the band uses has it.
    j = _posterior_run(tmp_path, [0, 0, 0, 1, 0], calibration=json.dumps({"status": "ok"}))
    monkeypatch.setenv("AIPLUS_EXPLORE_RUN", str(tmp_path))
    explorer.posterior.cache_clear()
    try:
        start = {s.label: s.value for s in explorer.sliders()}
        assert start["agent.q"] == pytest.approx(0.4)
        assert np.all(explorer.posterior()[:, j] == pytest.approx(0.4))
    finally:
        explorer.posterior.cache_clear()


def test_a_run_without_a_posterior_is_refused_by_name(tmp_path, monkeypatch):
    _posterior_run(tmp_path, [1, 1, 1, 1, 1])
    monkeypatch.setenv("AIPLUS_EXPLORE_RUN", str(tmp_path))
    explorer.posterior.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"AIPLUS_EXPLORE_RUN: .* no calibrated run"):
            explorer.posterior()
    finally:
        explorer.posterior.cache_clear()
