"""Calibration and comparison charts and reports, drawn from small real runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

import sim
from sim import calibration, comparison, results, rules
from sim.comparison import Comparison
from sim.config import load_spec
from sim.report import charts, summaries, write_comparison_report, write_report
from sim.report.style import pct, plain
from sim.results import share_at, targets_of
from sim.targets import evaluate

from helpers import MEDIUM, TINY, imports_matplotlib

#: Loose enough for 24 draws to pass: a check of the drawing, not a calibration to quote.
LOOSE = [
    "calibration=importance",
    "calibration.discrepancy_sd=0.1",
    "calibration.until=2025-06",
    "calibration.ess_min=5",
]


@pytest.fixture(scope="module")
def base() -> xr.Dataset:
    return sim.run("baseline", overrides=MEDIUM)


@pytest.fixture(scope="module")
def posterior(base) -> xr.Dataset:
    ds = calibration.calibrate(base, load_spec(LOOSE).calibration)
    assert results.calibration_of(ds)["status"] == "ok"
    return ds


@pytest.fixture(scope="module")
def refused(base) -> xr.Dataset:
    ds = calibration.calibrate(base, load_spec(["calibration=importance"]).calibration)
    assert results.calibration_of(ds)["status"] == "refused"
    return ds


@pytest.fixture(scope="module")
def runs(base) -> list[xr.Dataset]:
    return [base, *(sim.run(s, MEDIUM) for s in ("full_implementation", "headwinds"))]


@pytest.fixture(scope="module")
def comp(runs) -> Comparison:
    return comparison.compare(runs)


def new_ax():
    return Figure(figsize=(7, 4.5)).subplots()


def bars(ax) -> list[ErrorbarContainer]:
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def bar_ends(container: ErrorbarContainer) -> list[tuple[float, float]]:
    """(low, high) of each vertical error bar of ``container``."""
    (segments,) = [c for c in container.lines[2] if len(c.get_segments())][:1]
    return [(float(s[0][1]), float(s[1][1])) for s in segments.get_segments()]


def weighted_p_hit(ds: xr.Dataset, target) -> float:
    w = ds["weight"].values
    hit = share_at(ds, target.year, target.tech, target.metric).values > target.threshold
    return float(np.sum(w * hit) / np.sum(w))


# --------------------------------------------------------------------------------------------------
# Labels and weights
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("AI for science (二(一))", "AI for science (§2.1)"),
        ("AI in teaching and learning (二(四)2)", "AI in teaching and learning (§2.4.2)"),
        ("Safety and trust pushed hard (三(十四))", "Safety and trust pushed hard (§3.14)"),
        ("Full implementation (all of 二 and 三)", "Full implementation (all of §2 and §3)"),
        ("Headwinds", "Headwinds"),
    ],
)
def test_scenario_titles_print_without_a_cjk_font(title, shown):
    assert plain(title) == shown


def test_a_refused_calibration_counts_every_draw_equally(refused):
    assert results.weights_of(refused) is None
    for mine, ref in zip(summaries.odds(refused), evaluate(refused), strict=True):
        assert mine.p_hit == pytest.approx(ref.p_hit)


# --------------------------------------------------------------------------------------------------
# Prior against posterior odds
# --------------------------------------------------------------------------------------------------
def test_posterior_odds_chart_puts_prior_and_posterior_at_their_odds(posterior):
    ax = charts.posterior_odds_chart(posterior, ax=new_ax())
    prior, post = bars(ax)
    assert prior.get_label().startswith("prior") and post.get_label().startswith("posterior")
    targets = targets_of(posterior)
    assert np.asarray(prior.lines[0].get_xdata()) == pytest.approx(
        [o.p_hit for o in evaluate(posterior)]
    )
    assert np.asarray(post.lines[0].get_xdata()) == pytest.approx(
        [weighted_p_hit(posterior, t) for t in targets]
    )
    assert to_rgba(prior.lines[0].get_markerfacecolor()) == to_rgba("white")
    assert len(ax.get_yticklabels()) == len(targets)


def test_posterior_odds_chart_says_so_when_the_calibration_refused(refused):
    ax = charts.posterior_odds_chart(refused, ax=new_ax())
    (prior,) = bars(ax)
    assert prior.get_label().startswith("prior")
    assert np.asarray(prior.lines[0].get_xdata()) == pytest.approx(
        [o.p_hit for o in evaluate(refused)]
    )
    ess = f"{results.calibration_of(refused)['ess']:.1f}"
    (note,) = [t.get_text() for t in ax.texts if "refused" in t.get_text()]
    assert ess in note and "posterior" not in ax.get_legend().get_texts()[0].get_text()
    assert "refused" in ax.get_title()


def test_calibration_charts_need_a_calibrated_run(base):
    for chart in (charts.posterior_odds_chart, charts.predictive_chart):
        with pytest.raises(ValueError, match="not calibrated"):
            chart(base, ax=new_ax())


# --------------------------------------------------------------------------------------------------
# Model against observations
# --------------------------------------------------------------------------------------------------
def observations_on(ax) -> dict[str, list[ErrorbarContainer]]:
    out: dict[str, list[ErrorbarContainer]] = {}
    for c in bars(ax):
        out.setdefault(c.get_label(), []).append(c)
    return out


def test_predictive_chart_draws_both_bands_and_every_observation_of_the_share(posterior):
    ax = charts.predictive_chart(posterior, ax=new_ax())
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2
    (prior_median,) = [ln for ln in ax.lines if ln.get_label() == "median: prior"]
    shown = pd.DatetimeIndex(prior_median.get_xdata())
    draws = posterior["share"].sel(tech="agent", metric="population", time=shown.values)
    assert np.asarray(prior_median.get_ydata()) == pytest.approx(np.median(draws, axis=0))
    checks = [c for c in results.calibration_of(posterior)["checks"] if c["metric"] == "population"]
    (series,) = observations_on(ax).values()
    assert len(series) == len(checks)
    for c, eb in zip(checks, series, strict=True):
        assert eb.lines[0].get_ydata()[0] == pytest.approx(c["value"])
        ((lo, hi),) = bar_ends(eb)
        assert (hi - lo) / 2 == pytest.approx(1.6449 * c["sd"], rel=1e-3)
        held = to_rgba(eb.lines[0].get_markerfacecolor()) == to_rgba("white")
        assert held == (c["status"] == "held_out")
    assert any(c["status"] == "held_out" for c in checks)


def test_predictive_chart_follows_the_posterior_weights(posterior):
    one = posterior.assign(weight=("draw", np.eye(posterior.sizes["draw"])[5]))
    ax = charts.predictive_chart(one, ax=new_ax())
    (median,) = [ln for ln in ax.lines if ln.get_label() == "median: posterior"]
    shown = pd.DatetimeIndex(median.get_xdata())
    draw5 = one["share"].sel(tech="agent", metric="population", time=shown.values).isel(draw=5)
    assert np.asarray(median.get_ydata()) == pytest.approx(draw5.values)


def test_predictive_chart_of_new_devices_follows_the_replacement_rule(posterior):
    ax = charts.predictive_chart(posterior, output="ai_share_of_new_devices", ax=new_ax())
    (median,) = [ln for ln in ax.lines if ln.get_label() == "median: prior"]
    month = pd.DatetimeIndex(median.get_xdata()).to_period("M")
    mid_month = month.year + (month.month - 0.5) / 12.0
    p = posterior["param_value"]
    expected = rules.ai_share_of_new_devices(
        np.asarray(mid_month)[None, :],
        mid=p.sel(param="replacement.ai_mid").values[:, None],
        slope=p.sel(param="replacement.ai_slope").values[:, None],
        top=p.sel(param="replacement.ai_max").values[:, None],
    )
    assert np.asarray(median.get_ydata()) == pytest.approx(np.median(expected, axis=0))
    shipped = {c["series"] for c in results.calibration_of(posterior)["checks"]} - {
        "genai_users_share",
        "firms_started_ai_agents_share",
    }
    assert set(observations_on(ax)) == shipped


def test_predictive_chart_shows_no_posterior_when_the_calibration_refused(refused):
    ax = charts.predictive_chart(refused, ax=new_ax())
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1
    assert not [ln for ln in ax.lines if "posterior" in ln.get_label()]
    assert "refused" in ax.get_legend().get_title().get_text()


# --------------------------------------------------------------------------------------------------
# Cost against odds
# --------------------------------------------------------------------------------------------------
def central_cost(ds: xr.Dataset, year: int) -> float:
    cost = ds["public_cost"].sel(estimate="central")
    return float(cost.where(cost["cost_year"] <= year, 0.0).sum())


@pytest.mark.parametrize("j", [0, 5])
def test_cost_odds_chart_puts_each_scenario_at_its_extra_cost_and_paired_change(runs, comp, j):
    ax = charts.cost_odds_chart(comp, target=j, ax=new_ax())
    t = targets_of(runs[0])[j]
    ref, *alts = bars(ax)
    assert ref.get_label() == plain(runs[0].attrs["scenario_title"])
    assert (ref.lines[0].get_xdata()[0], ref.lines[0].get_ydata()[0]) == (0.0, 0.0)
    hit_ref = share_at(runs[0], t.year, t.tech, t.metric).values > t.threshold
    for ds, eb, s in zip(runs[1:], alts, comp.scenarios[1:], strict=True):
        assert eb.get_label() == plain(ds.attrs["scenario_title"])
        extra = (central_cost(ds, t.year) - central_cost(runs[0], t.year)) / 1e9
        hit = share_at(ds, t.year, t.tech, t.metric).values > t.threshold
        assert eb.lines[0].get_xdata()[0] == pytest.approx(extra)
        assert eb.lines[0].get_ydata()[0] == pytest.approx(np.mean(hit) - np.mean(hit_ref))
        assert bar_ends(eb) == [pytest.approx(s.rows[j].change.p_hit_diff_ci95)]
    assert f"end-{t.year}" in ax.get_xlabel() and pct(t.threshold) in ax.get_title()


def test_cost_odds_chart_takes_the_datasets_or_a_target_as_well(runs, comp):
    t = targets_of(runs[0])[3]
    a = charts.cost_odds_chart(comp, target=3, ax=new_ax())
    b = charts.cost_odds_chart(comparison.compare(runs), target=t, ax=new_ax())
    for x, y in zip(bars(a), bars(b), strict=True):
        assert x.lines[0].get_xydata() == pytest.approx(y.lines[0].get_xydata())


def test_odds_chart_draws_a_comparison_scenario_by_scenario(runs, comp):
    ax = charts.comparison_odds_chart(comp, ax=new_ax())
    drawn = bars(ax)
    assert [b.get_label() for b in drawn] == [plain(d.attrs["scenario_title"]) for d in runs]
    for ds, b in zip(runs, drawn, strict=True):
        assert np.asarray(b.lines[0].get_xdata()) == pytest.approx([o.p_hit for o in evaluate(ds)])


# --------------------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------------------
def pp(x: float) -> str:
    """Signed percentage points with one decimal, zero unsigned."""
    return f"{100 * x:+.1f}" if round(100 * x, 1) else "0.0"


def links(report: Path) -> list[str]:
    return re.findall(r"\]\(([^)]+)\)", report.read_text())


@pytest.mark.slow
def test_a_calibrated_report_shows_prior_and_posterior_and_links_its_charts(posterior, tmp_path):
    report = write_report(posterior, tmp_path)
    text = report.read_text()
    for lnk in links(report):
        assert (tmp_path / lnk).is_file(), lnk
    assert {"charts/calibration_odds.png", "charts/calibration_check.png"} <= set(links(report))
    assert "## Calibration to observed adoption" in text and "**ok**" in text
    for prior, post in zip(evaluate(posterior), targets_of(posterior), strict=True):
        assert pct(prior.p_hit, decimals=1) in text
        assert pct(weighted_p_hit(posterior, post), decimals=1) in text
    for c in results.calibration_of(posterior)["checks"]:
        assert f"{c['series']} {c['date']}" in text


def test_a_refused_report_says_its_odds_are_prior_odds(refused, tmp_path):
    text = write_report(refused, tmp_path, charts=False).read_text()
    assert "**refused**" in text and "prior odds" in text
    for o in evaluate(refused):
        assert f"**{pct(o.p_hit, decimals=1)}**" in text


@pytest.mark.slow
def test_a_comparison_report_tabulates_the_paired_changes_and_links_its_charts(comp, tmp_path):
    report = write_comparison_report(comp, tmp_path)
    text = report.read_text()
    assert set(links(report)) >= {"charts/odds_comparison.png", "charts/cost_vs_odds.png"}
    for lnk in links(report):
        if lnk.endswith(".png"):
            assert (tmp_path / lnk).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            assert (tmp_path / lnk).is_file(), lnk
    for s in comp.scenarios[1:]:
        for row in s.rows:
            lo, hi = row.change.p_hit_diff_ci95
            assert f"{pp(row.change.p_hit_diff)}** ({pp(lo)} to {pp(hi)})" in text


@pytest.mark.slow
def test_a_comparison_run_writes_its_report_without_importing_matplotlib(tmp_path):
    folder = tmp_path / "comparison"
    args = ["compare=baseline,headwinds", *TINY, "report=false", f"hydra.run.dir={folder}"]
    assert not imports_matplotlib(args, cwd=tmp_path)
    report = folder / "report.md"
    assert "not drawn" in report.read_text() and not (folder / "charts").exists()
    assert {"comparison.json", "baseline/results.nc", "headwinds/summary.json"} <= set(
        links(report)
    )
    for lnk in links(report):
        assert (folder / lnk).is_file(), lnk
    comp = json.loads((folder / "comparison.json").read_text())
    assert comp["scenarios"][1]["title"] in report.read_text()
