"""Charts, their summaries and the run report, drawn from small real runs and small made-up ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from scipy import stats as scipy_stats

import sim
from sim import comparison, data, results
from sim.config import load_spec
from sim.report import charts, summaries, write_report
from sim.report.style import SECTOR_LABELS, pct, plain, section_numbers
from sim.report.tiles import TILES
from sim.results import targets_of
from sim.spec import KEY_AREAS, ConfigError, Target
from sim.stats import weighted_quantile, wilson
from sim.targets import evaluate

from helpers import MEDIUM, TINY, imports_matplotlib, results_dataset


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return sim.run("baseline", overrides=MEDIUM)


def new_ax():
    return Figure(figsize=(6, 4)).subplots()


def made_up(shares: dict[int, list[float]], weight: list[float] | None = None) -> xr.Dataset:
    """A results Dataset whose national share of draw i at month-end t is ``shares[i][t]``.

    Shares are given at year ends (2024 to 2030) and held in between, so crossing years are known.
    """
    time = pd.date_range("2024-12-31", "2030-12-31", freq="ME")
    ends = np.array([f"{y}-12-31" for y in range(2024, 2031)], dtype="datetime64[ns]")
    idx = np.searchsorted(ends, time.values, side="right") - 1
    paths = np.array([np.asarray(shares[i])[idx] for i in range(len(shares))])
    targets = (Target(2027, 0.7, "population", "any"), Target(2030, 0.9, "population", "any"))
    return results_dataset(time, {("any", "population"): paths}, targets=targets, weight=weight)


#: Year-end shares 2024..2030: draw 0 passes 70% in 2026 and 90% in 2029, draw 1 passes 70% in
#: 2027 and never 90%, draw 2 never passes 70%.
CROSSING = {
    0: [0.5, 0.6, 0.75, 0.8, 0.85, 0.95, 0.97],
    1: [0.5, 0.6, 0.65, 0.72, 0.8, 0.85, 0.88],
    2: [0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65],
}


# --------------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------------
def test_unweighted_odds_equal_the_targets_module(ds):
    for mine, ref in zip(summaries.odds(ds), evaluate(ds), strict=True):
        assert mine.target == ref.target
        assert mine.p_hit == pytest.approx(ref.p_hit)
        assert mine.ci95 == pytest.approx(ref.ci95, abs=1e-9)
        assert (mine.share_median, mine.share_p05, mine.share_p95) == pytest.approx(
            (ref.share_median, ref.share_p05, ref.share_p95)
        )


@pytest.mark.parametrize(("k", "n"), [(81, 263), (0, 20), (20, 20), (7, 11)])
def test_closed_form_wilson_matches_scipy(k, n):
    ci = scipy_stats.binomtest(k, n).proportion_ci(method="wilson")
    assert wilson(k / n, n) == (ci.low, ci.high)


def test_weights_move_the_odds_to_the_weighted_draws():
    # Draws 0 and 1 meet the 2027 target, draw 2 does not.
    hit = summaries.odds(made_up(CROSSING, weight=[1.0, 3.0, 0.0]))[0]
    miss = summaries.odds(made_up(CROSSING, weight=[0.0, 0.0, 1.0]))[0]
    even = summaries.odds(made_up(CROSSING))[0]
    assert hit.p_hit == 1.0 and hit.n_eff == pytest.approx(1.6)
    assert miss.p_hit == 0.0 and miss.n_eff == pytest.approx(1.0)
    assert even.p_hit == pytest.approx(2 / 3) and even.n_eff == 3


def test_weighted_median_with_equal_weights_is_the_median():
    x = np.array([[3.0, 1.0, 4.0, 1.5, 9.0, 2.6], [5.0, 3.0, 5.0, 8.0, 9.0, 7.0]]).T
    for w in (None, np.full(6, 2.0)):
        assert weighted_quantile(x, 0.5, weights=w) == pytest.approx(np.median(x, axis=0))


def test_weighted_quantile_ignores_draws_without_weight():
    x = np.array([10.0, 1.0, 2.0, 3.0, -50.0])
    w = np.array([0.0, 1.0, 1.0, 1.0, 0.0])
    assert weighted_quantile(x, [0.0, 0.5, 1.0], weights=w) == pytest.approx([1.0, 2.0, 3.0])


def test_negative_weights_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        results.weights_of(made_up(CROSSING, weight=[1.0, -1.0, 1.0]))


def test_crossing_year_is_the_first_year_above_the_threshold():
    years = summaries.crossing_year(made_up(CROSSING), 0.7, metric="population", tech="any")
    years = years.values
    assert years[:2].tolist() == [2026.0, 2027.0] and np.isnan(years[2])


# --------------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------------
def test_fan_chart_draws_the_median_two_bands_and_the_targets(ds):
    ax = charts.fan_chart(ds, metric="firms", ax=new_ax())
    (median,) = [ln for ln in ax.lines if ln.get_label() == "median: any"]
    expected = np.median(ds["share"].sel(metric="firms", tech="any").values, axis=0)
    assert np.asarray(median.get_ydata()) == pytest.approx(expected, abs=1e-6)
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2
    (marks,) = [ln for ln in ax.lines if ln.get_label() == "target"]
    firm_targets = [t for t in targets_of(ds) if t.metric == "firms"]
    assert sorted(marks.get_ydata()) == sorted(t.threshold for t in firm_targets)
    assert {pd.Timestamp(x).year for x in marks.get_xdata()} == {t.year for t in firm_targets}
    assert ax.get_title() and "%" in ax.yaxis.get_major_formatter()(0.5, 0)


def test_fan_chart_follows_the_draw_weights(ds):
    weighted = ds.assign(weight=("draw", np.eye(ds.sizes["draw"])[3]))
    ax = charts.fan_chart(weighted, ax=new_ax())
    (median,) = [ln for ln in ax.lines if ln.get_label() == "median: any"]
    draw3 = weighted["share"].sel(metric="population", tech="any").isel(draw=3).values
    assert np.asarray(median.get_ydata()) == pytest.approx(draw3, abs=1e-6)


def test_fan_chart_draws_one_median_per_technology(ds):
    ax = charts.fan_chart(ds, tech=["terminal", "agent"], ax=new_ax())
    medians = [ln.get_label() for ln in ax.lines if ln.get_label().startswith("median")]
    assert medians == ["median: terminal", "median: agent"]
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 4


def test_fan_chart_makes_its_own_axes_when_none_is_given(ds):
    import matplotlib.pyplot as plt

    ax = charts.fan_chart(ds)
    assert ax.figure is not None and ax.lines
    plt.close(ax.figure)


def test_odds_chart_puts_each_target_at_its_probability(ds):
    ax = charts.odds_chart(ds, ax=new_ax())
    (bars,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    x = np.asarray(bars.lines[0].get_xdata())
    assert x == pytest.approx([o.p_hit for o in evaluate(ds)])
    assert len(ax.get_yticklabels()) == len(targets_of(ds))


def test_odds_chart_compares_runs_in_one_colour_each(ds):
    none = sim.run("baseline", overrides=[*MEDIUM, "levers=none"])
    comp = comparison.compare([ds, none])
    ax = charts.comparison_odds_chart(comp, ax=new_ax())
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    titles = [plain(d.attrs["scenario_title"]) for d in (ds, none)]
    assert [b.get_label() for b in bars] == titles
    assert bars[0].lines[0].get_color() != bars[1].lines[0].get_color()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == titles


def test_every_province_has_one_tile_of_its_own():
    provinces = set(data.provinces()["province"])
    assert set(TILES) == provinces and len(provinces) == 31
    assert len(set(TILES.values())) == 31


def test_province_map_colours_only_differences_beyond_the_noise(ds):
    ax = charts.province_map(ds, year=2027, ax=new_ax())
    tiles = {p.get_gid(): p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid()}
    assert set(tiles) == set(data.provinces()["province"])
    share = ds["share_province"].sel(year=2027, metric="population", tech="any")
    med = summaries.draw_quantiles(share, [0.5], ds).isel(quantile=0)
    nat = summaries.draw_quantiles(results.share_at(ds, 2027, "any", "population"), [0.5], ds)
    gap = med - float(nat.isel(quantile=0))
    lo, mid, hi = summaries.province_difference(ds, 2027, tech="any", metric="population")
    np.testing.assert_allclose(mid, gap.sel(province=mid["province"]), atol=1e-6)
    texts = {t.get_text() for t in ax.texts}
    for prov, tile in tiles.items():
        assert pct(float(med.sel(province=prov))) in texts
        r, _, b, _ = tile.get_facecolor()
        if float(lo.sel(province=prov)) > 0:
            assert b > r and not tile.get_hatch(), prov
        elif float(hi.sel(province=prov)) < 0:
            assert r > b and not tile.get_hatch(), prov
        else:
            assert tile.get_hatch() and r == b, prov


def test_province_difference_interval_excludes_0_only_for_a_real_gap(ds):
    """Made-up provinces: the first 5 points above the nation in every draw, the second equal to
    it plus noise of either sign."""
    nat = results.share_at(ds, 2027, "any", "population")
    sp = ds["share_province"].copy(deep=True)
    first, second = sp["province"].values[:2]
    at = {"year": 2027, "tech": "any", "metric": "population"}
    noise = np.random.default_rng(1).normal(0.0, 0.03, nat.size)
    sp.loc[{**at, "province": first}] = nat.values + 0.05
    sp.loc[{**at, "province": second}] = nat.values + noise
    lo, _, hi = summaries.province_difference(
        ds.assign(share_province=sp), 2027, tech="any", metric="population"
    )
    assert float(lo.sel(province=first)) > 0.04
    assert float(lo.sel(province=second)) < 0 < float(hi.sel(province=second))


def test_sector_heatmap_groups_sectors_by_key_area(ds):
    ax = charts.sector_heatmap(ds, metric="firms", ax=new_ax())
    (img,) = [im for im in ax.get_images() if isinstance(im, AxesImage)]
    assert img.get_array().shape == (ds.sizes["sector"], ds.sizes["year"])
    names = [t.get_text() for t in ax.get_yticklabels()]
    areas = zip(ds["sector"].values, ds["key_area"].values, strict=True)
    by_label = {SECTOR_LABELS[s]: a for s, a in areas}
    order = [KEY_AREAS.index(by_label[n]) for n in names]
    assert sorted(names) == sorted(by_label) and order == sorted(order)


def test_sector_heatmap_refuses_a_metric_without_sectors(ds):
    with pytest.raises(ValueError, match="firms or firm_employment"):
        charts.sector_heatmap(ds, metric="population", ax=new_ax())


@pytest.mark.parametrize(
    ("weight", "p70"),
    [
        (None, {2026: 1 / 3, 2027: 1 / 3, "never": 1 / 3}),
        ([0.5, 0.25, 0.25], {2026: 0.5, 2027: 0.25, "never": 0.25}),
    ],
)
def test_crossing_year_chart_shows_the_distribution_of_first_years(weight, p70):
    ax = charts.crossing_year_chart(made_up(CROSSING, weight=weight), ax=new_ax())
    b70, b90 = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert b70.get_label().startswith("first above 70%")
    labels = [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()]
    h70 = dict(zip(labels, (r.get_height() for r in b70), strict=True))
    expected = {str(k) if k != "never" else "not by end-2030": v for k, v in p70.items()}
    assert h70 == pytest.approx({lab: expected.get(lab, 0.0) for lab in labels})
    assert sum(r.get_height() for r in b90) == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------------
# Run report
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_folders(tmp_path_factory) -> dict[str, tuple[Path, bool]]:
    """Two CLI runs, with and without charts: folder, and whether matplotlib was imported."""
    out = {}
    for flag in ("true", "false"):
        folder = tmp_path_factory.mktemp(f"report_{flag}") / "run"
        args = [*TINY, f"report={flag}", f"hydra.run.dir={folder}"]
        out[flag] = (folder, imports_matplotlib(args, cwd=folder.parent))
    return out


@pytest.fixture(scope="module")
def report(cli_folders) -> Path:
    return cli_folders["true"][0] / "report.md"


@pytest.mark.slow
def test_report_links_only_files_that_exist(report):
    text = report.read_text()
    links = re.findall(r"\]\(([^)]+)\)", text)
    images = [lnk for lnk in links if lnk.endswith(".png")]
    assert len(images) >= 5
    for lnk in links:
        assert (report.parent / lnk).is_file(), lnk
    for img in images:
        assert (report.parent / img).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_report_states_scenario_odds_assumptions_and_sources(report):
    text = report.read_text()
    ds = xr.load_dataset(report.parent / "results.nc", engine="h5netcdf")
    described = section_numbers(ds.attrs["scenario_description"])  # sections cited as §N
    assert ds.attrs["scenario_title"] in text and described in text
    for o in evaluate(ds):
        assert pct(o.p_hit, decimals=1) in text
    for p in json.loads(ds.attrs["priors"]):
        reason = section_numbers(p["reason"])
        if p["name"].startswith("lever.") and reason.startswith("assumption"):
            # No evidence measures a lever's effect: the report flags each such size.
            reason = "**illustrative assumption**" + reason.removeprefix("assumption")
        assert f"`{p['name']}`" in text and reason in text
    for lv in json.loads(ds.attrs["levers"]):
        assert f"| {lv['name']} |" in text
    for name in data.sources():
        assert f"`{name}`" in text


def test_report_without_charts_says_so_and_draws_nothing(ds, tmp_path):
    path = write_report(ds, tmp_path, charts=False)
    assert "not drawn" in path.read_text() and not (tmp_path / "charts").exists()


@pytest.mark.slow
def test_a_run_without_charts_never_imports_matplotlib(cli_folders):
    folder, imported = cli_folders["false"]
    assert not imported
    assert (folder / "report.md").is_file() and not (folder / "charts").exists()
    # The check can fail: the same run with charts does import it.
    folder, imported = cli_folders["true"]
    assert imported and (folder / "charts" / "odds.png").is_file()


def test_report_flag_must_be_true_or_false():
    assert load_spec(["report=false"]).report is False
    with pytest.raises(ConfigError, match=r"report: expected true or false"):
        load_spec(["report=sometimes"])


def test_report_says_which_units_the_firm_readings_count(ds):
    from sim.report.document import render

    text = render(ds)
    assert "33.27 M legal-person units" in text and "individual businesses" in text


def test_sector_heatmap_colours_the_share_on_one_scale_in_every_panel(ds):
    # Higher shares are brighter whatever the year's target: the colour is the share itself.
    for metric in ("firms", "firm_employment"):
        ax = charts.sector_heatmap(ds, metric=metric, ax=new_ax())
        (img,) = [im for im in ax.get_images() if isinstance(im, AxesImage)]
        assert (img.norm.vmin, img.norm.vmax) == (0.0, 1.0)
        med = np.ma.filled(img.get_array(), np.nan)
        shown = [
            float(t.get_text().rstrip("%")) / 100 for t in ax.texts if t.get_text()[:1].isdigit()
        ]
        np.testing.assert_allclose(
            sorted(shown), sorted(np.round(med[np.isfinite(med)], 2)), atol=0.006
        )


def test_fan_legend_swatches_are_each_technologys_own_band_colour(ds):
    from matplotlib.colors import to_hex

    from sim.report.style import TECH_COLORS, TECH_LABELS

    ax = charts.fan_chart(ds, metric="population", tech=["terminal", "agent"], ax=new_ax())
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert not any(t.startswith("middle") for t in texts)  # no grey band entries
    for tech in ("terminal", "agent"):
        entry = next(i for i, t in enumerate(texts) if t.startswith(TECH_LABELS[tech] + ":"))
        swatch = legend.legend_handles[entry]  # the first of the entry's band patches
        assert to_hex(swatch.get_facecolor(), keep_alpha=False) == TECH_COLORS[tech].lower()


def test_fan_chart_marks_each_observation_on_the_panel_of_the_reading_it_measures(ds):
    from sim.observations import Observation

    def seen(o: Observation, **kw) -> list[ErrorbarContainer]:
        ax = charts.fan_chart(ds, observations=[o], ax=new_ax(), **kw)
        return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]

    agents = Observation("2026-06-30", "s", 0.3, 0.02, "src", "share", "agent", "population")
    (bar,) = seen(agents, metric="population", tech=["terminal", "agent"])
    (x,), (y,) = bar.lines[0].get_data()
    assert (pd.Timestamp(x), y) == (pd.Timestamp("2026-06-30"), 0.3)
    (segment,) = bar.lines[2][0].get_segments()
    # The bar is the observation's 90% interval: +-z(0.95) standard deviations.
    half = scipy_stats.norm.ppf(0.95) * 0.02
    assert [p[1] for p in segment] == pytest.approx([0.3 - half, 0.3 + half])
    assert not seen(agents, metric="firms", tech=["terminal", "agent"])  # another reading
    assert not seen(agents, metric="population", tech="terminal")  # another technology
    unmapped = Observation("2026-06-30", "s", 0.3, 0.02, "src", note="not mapped")
    assert not seen(unmapped, metric="population", tech="agent")


def test_fan_chart_shows_the_shipped_cnnic_series_by_default(ds):
    from sim import observations

    ax = charts.fan_chart(ds, metric="population", tech="agent", ax=new_ax())
    shown = {c.get_label() for c in ax.containers if isinstance(c, ErrorbarContainer)}
    end = ds["time"].values[-1]
    cnnic = [o for o in observations.load() if o.series == "genai_users_share" and o.time <= end]
    values = sorted(
        float(c.lines[0].get_ydata()[0]) for c in ax.containers if isinstance(c, ErrorbarContainer)
    )
    assert len(shown) == 1 and "CNNIC" in shown.pop()
    assert values == pytest.approx(sorted(o.value for o in cnnic))
    assert "CNNIC" in " ".join(t.get_text() for t in ax.get_legend().get_texts())


def test_charts_and_text_cite_the_opinions_sections_the_same_way(ds):
    from sim.report.document import render

    titled = ds.copy()
    titled.attrs["scenario_title"] = "Compute vouchers (三(九)), all of 二 and 三, 个体工商户"
    text = render(titled)
    ax = charts.odds_chart(titled, ax=new_ax())
    shown = " ".join(c.get_label() for c in ax.containers)
    assert "Compute vouchers (§3.9), all of §2 and §3" in shown
    assert text.startswith("# Compute vouchers (§3.9), all of §2 and §3, 个体工商户\n")
    # The original numerals appear once, in the note that says how sections are cited.
    (note,) = [line for line in text.splitlines() if "三(九)" in line]
    assert note.startswith("Sections of the opinion") and text.count("二(二)3") == 1
    assert "(§3.9)" in shown
