"""The cheapest-programme optimiser finds a known answer, says when a level is out of reach, and
its designed scenario file runs and meets the level; the drivers analysis reaches the summary,
the report and the console; the next observation moves the odds the right way."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import numpy as np
import pytest
import yaml
from scipy import stats

import sim
from sim import analysis, cli, design, pipeline
from sim.config import compose_config, load_spec, to_analyses, to_spec
from sim.spec import ConfigError, Target
from sim.spec.analysis import DesignSpec, DriversSpec

from helpers import TARGET_2027, results_dataset

UNIT = np.array([1.0, 2.0, 3.0])


def only_second_helps(x: np.ndarray) -> float:
    """Odds that rise with the second intensity only: reaching 0.6 needs x[1] = 2 + 0.3 z_0.6."""
    return float(stats.norm.cdf((x[1] - 2.0) / 0.3))


def test_optimiser_finds_the_one_lever_that_helps_at_its_cheapest():
    sol = design.cheapest(only_second_helps, UNIT, low=np.ones(3), high=np.full(3, 4.0), level=0.6)
    expected = 2.0 + 0.3 * stats.norm.ppf(0.6)
    assert sol.reached
    np.testing.assert_allclose(sol.point.intensity, [1.0, expected, 1.0], atol=0.03)
    assert sol.point.cost == pytest.approx(UNIT[1] * (expected - 1.0), abs=0.06)


def test_optimiser_prefers_the_cheaper_of_two_equal_levers():
    def either(x: np.ndarray) -> float:
        return float(stats.norm.cdf(x[0] + x[1] - 4.0))

    sol = design.cheapest(
        either, np.array([5.0, 1.0]), low=np.ones(2), high=np.full(2, 5.0), level=0.5
    )
    assert sol.reached
    np.testing.assert_allclose(sol.point.intensity, [1.0, 3.0], atol=0.05)


def test_out_of_reach_says_so_and_gives_the_best_odds_within_the_budget():
    sol = design.cheapest(
        only_second_helps, UNIT, low=np.ones(3), high=np.full(3, 4.0), level=0.6, budget=2.0
    )
    assert not sol.reached
    # The whole budget on the one lever that helps: x[1] = 1 + 2 / 2 = 2.
    assert sol.point.cost <= 2.0 + 1e-6
    assert sol.point.p_hit == pytest.approx(only_second_helps(np.array([1.0, 2.0, 1.0])), abs=0.02)


def test_frontier_is_cheapest_first_and_rising():
    sol = design.cheapest(only_second_helps, UNIT, low=np.ones(3), high=np.full(3, 4.0), level=0.6)
    front = sol.frontier()
    assert len(front) >= 2
    assert all(a.cost <= b.cost and a.p_hit < b.p_hit for a, b in itertools.pairwise(front))


TINY_DESIGN = [
    "mc.draws=12",
    "mc.chunk=12",
    "population.n_agents=600",
    "calibration.method=none",
    "report=false",
]


def test_designed_scenario_runs_and_meets_the_level(tmp_path):
    spec = load_spec(TINY_DESIGN)
    settings = DesignSpec(
        levers=("app_environment", "talent"),
        draws=12,
        n_agents=600,
        bandwidth=0.05,
        high=4.0,
        max_evaluations=20,
    )
    probe, _ = pipeline.run_design(spec, replace(settings, level=0.999))
    assert not probe.solution.reached and "No schedule" in probe.sentence()
    top = probe.solution.point.p_hit
    assert top > probe.p_now, "the levers must move the smoothed odds for this test to mean much"
    level = 0.5 * (probe.p_now + top)
    found, path = pipeline.run_design(spec, replace(settings, level=level), folder=tmp_path)
    assert found.solution.reached and found.solution.point.p_hit >= level
    written = json.loads((tmp_path / "design.json").read_text())
    assert written["reached"] and written["level"] == pytest.approx(level)
    assert json.loads((tmp_path / "summary.json").read_text())["design"] == written
    assert "## The cheapest programme" in (tmp_path / "report.md").read_text()
    # The same draws and streams as the design: the scenario's own run hits as often as the
    # design counted, and its odds meet the level within the binomial error of 12 draws.
    ds, summary = pipeline.run_one(load_spec([*TINY_DESIGN, f"scenario={path}"]))
    row = next(r for r in summary["targets"] if r["primary"] and r["year"] == 2027)
    assert row["p_hit"] == pytest.approx(found.raw_p_hit)
    assert row["p_hit"] >= level - 2 * np.sqrt(level * (1 - level) / 12)
    assert ds.attrs["scenario_title"].startswith("Designed")
    # Priced to the target year, the programme ends there: today's intensity from 2028.
    levers = yaml.safe_load(path.read_text())["levers"]
    assert {name: sched["intensity"][2028] for name, sched in levers.items()} == {
        "app_environment": 1.0,
        "talent": 1.0,
    }


DRIVERS = DriversSpec(n=4, n_agents=300, n_resamples=10)


def test_drivers_reach_the_summary_the_report_and_the_console(tmp_path):
    spec = load_spec(
        ["mc.draws=8", "mc.chunk=8", "population.n_agents=600", "calibration.method=none"]
    )
    _, summary = pipeline.run_one(spec, folder=tmp_path, drivers=DRIVERS)
    drv = summary["drivers"]
    assert {(e["year"], e["output"]) for e in drv["targets"]} == {
        (2027, "p_hit"),
        (2027, "share"),
        (2030, "p_hit"),
        (2030, "share"),
    }
    names = {p["parameter"] for p in drv["targets"][0]["parameters"]}
    assert "agent.m" in names and any(n.startswith("lever.") for n in names)
    first = drv["targets"][1]["parameters"][0]
    assert set(first) == {
        "parameter",
        "first_order",
        "first_order_interval",
        "total_order",
        "total_order_interval",
    }
    # At today's intensities the levers add nothing (1.0 is inside the trend), and the design's
    # rows share their random streams: a lever effect's size cannot move any output, exactly.
    for e in drv["targets"]:
        for p in e["parameters"]:
            if p["parameter"].startswith("lever.") and p["total_order"] is not None:
                assert p["total_order"] == 0.0, (e["year"], e["output"], p)
    assert json.loads((tmp_path / "summary.json").read_text())["drivers"] == drv
    report = (tmp_path / "report.md").read_text()
    assert "## What drives the odds" in report and "explains about" in report
    assert report.index("## What drives the odds") < report.index("## Appendix")
    assert (tmp_path / "drivers.nc").exists() and (tmp_path / "charts" / "drivers.png").exists()
    assert "drivers of the 2030 share (total Sobol' index): " in cli.format_drivers(summary)


def test_drivers_of_a_calibrated_run_draw_from_the_posterior():
    x = np.linspace(0.0, 1.0, 11)
    ds = results_dataset(
        np.array(["2027-12-31"], dtype="datetime64[ns]"),
        {("agent", "population"): x},
        params={"agent.m": x},
        weight=(x > 0.5).astype(float),
    )
    m = analysis.WeightedMarginal(x, ds["weight"].values)
    q = m.ppf(np.linspace(0.0, 1.0, 101))
    assert q.min() > 0.5 and np.all(np.diff(q) >= 0)
    assert m.ppf(np.array([0.5]))[0] == pytest.approx(0.8)
    assert "posterior" in analysis.method_of(ds)


def test_a_higher_next_figure_raises_the_odds():
    time = np.array(["2026-06-30", "2027-12-31"], dtype="datetime64[ns]")
    rng = np.random.default_rng(0)
    early = rng.uniform(0.4, 0.6, 200)
    path = np.column_stack([early, early + 0.2])  # the 2027 share follows the mid-2026 one
    ds = results_dataset(time, {("agent", "population"): path})
    target = Target(2027, 0.7, "population", "agent", primary=True)
    nxt = analysis.next_observation(ds, target, sd=0.02)
    assert np.all(np.diff(nxt.p_hit) >= 0) and nxt.p_hit[-1] > nxt.p_now > nxt.p_hit[0]
    assert "would move the odds of the 2027 target" in nxt.sentence()


def test_prim_box_of_the_missed_futures_names_the_parameter_that_decides():
    x = np.linspace(0.0, 1.0, 200)
    ds = results_dataset(
        np.array(["2027-12-31"], dtype="datetime64[ns]"),
        {("agent", "population"): 0.5 + 0.4 * x},
        params={"agent.m": x, "agent.q": np.random.default_rng(1).random(200)},
    )
    found = analysis.discover(ds, Target(2027, 0.7, "population", "agent", primary=True))
    assert set(found.missed.restricted) == {0}
    # Missed: x <= 0.5. The widest box x <= b with density 0.5 / b >= 0.9 has b <= 0.556.
    assert 0.5 <= found.missed.restricted[0][1] <= 0.5 / 0.9


@pytest.mark.parametrize(
    ("override", "key"),
    [("design.level=1.5", "design.level"), ("design.target=2028", "design.target"),
     ("design.levers=[rockets]", "design.levers"),
     ("design.intensity.low=0.5", "design.intensity.low")],
)  # fmt: skip
def test_a_bad_design_names_its_key(override, key):
    overrides = ["design=reach_2027", override]
    cfg = compose_config(overrides)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        to_analyses(cfg, to_spec(cfg, overrides), overrides)


def test_drivers_are_off_unless_asked():
    cfg = compose_config([])
    assert to_analyses(cfg, to_spec(cfg, [])) == (None, None)
    cfg = compose_config(["drivers=sobol", "drivers.n=6"])
    with pytest.raises(ConfigError, match="power of 2"):
        to_analyses(cfg, to_spec(cfg, []))


def test_targets_of_the_design_are_the_primary_reading():
    spec = load_spec(["calibration.method=none"])
    assert [t.year for t in analysis.primary_targets(spec)] == [2027, 2030]
    assert TARGET_2027.year == 2027


@pytest.mark.parametrize("asked", ["drivers=sobol", "design=reach_2027"])
def test_an_analysis_is_never_ignored(asked):
    with pytest.raises(ConfigError, match=asked.split("=")[0]):
        sim.run("baseline", overrides=[asked, "calibration=none"])
    cfg = compose_config([asked, "compare=[baseline,compute_push]"])
    with pytest.raises(ConfigError, match="compare="):
        to_analyses(cfg, to_spec(cfg, []))
