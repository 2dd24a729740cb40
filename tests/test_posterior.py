"""Calibration by sequential Monte Carlo on the model (sim.posterior): the latent map, the run's
prior draws and posterior particles, reproducibility, and odds that follow the evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim import observations, posterior, results, stats
from sim.cli import format_calibration
from sim.config import load_spec
from sim.pipeline import run_one
from sim.report import summaries
from sim.report.answer import answer_markdown
from sim.targets import summarize

from helpers import CHEAP, SMC_TINY


def test_latent_origin_maps_to_prior_medians_and_fixed_priors_keep_their_value():
    spec = load_spec(CHEAP)
    values = posterior.to_parameters(spec, np.zeros((1, posterior.n_free(spec))))[0]
    for p, v in zip(spec.priors, values, strict=True):
        assert v == pytest.approx(p.low if p.dist == "fixed" else float(p.ppf(0.5)))


def test_sampler_simulations_stop_at_the_last_observation_used():
    spec = load_spec([*CHEAP, *SMC_TINY, "calibration.until=2025-06"])
    small = posterior.sampler_spec(spec)
    assert small.time.end == (2025, 6) and small.population.n_agents == 800


@pytest.fixture(scope="module")
def calibrated():
    return run_one(load_spec([*CHEAP, "mc.draws=8", *SMC_TINY]))


def test_run_holds_prior_draws_and_posterior_particles_with_their_weights(calibrated):
    ds, summary = calibrated
    assert ds.sizes["draw"] == 8 + 24
    w, prior = ds["weight"].values, results.prior_weights_of(ds)
    assert w[:8].sum() == 0 and w[8:] == pytest.approx(1 / 24)
    assert prior[:8] == pytest.approx(1 / 8) and prior[8:].sum() == 0
    cal = summary["calibration"]
    assert cal["method"] == "smc" and cal["status"] == "ok"
    for key in ("rounds", "acceptance", "simulations", "seconds"):
        assert cal["sampler"][key] is not None
    assert all("posterior" in c for c in cal["checks"])
    t = summary["targets"][0]
    assert 0 <= t["p_hit"] <= 1 and 0 <= t["prior_p_hit"] <= 1


def test_particles_carry_their_lineage_and_the_odds_interval_counts_lineages(calibrated):
    ds, summary = calibrated
    lineage = results.lineage_of(ds)
    assert (lineage[:8] == -1).all()
    assert lineage[8:].min() >= 0 and lineage[8:].max() < 24
    # Particles sharing a lineage are not independent draws: the posterior interval is at least
    # as wide as Wilson's over all 24 particles.
    for t in summary["targets"]:
        if t["p_hit"] is None or t.get("note"):
            continue
        lo, hi = stats.wilson(t["p_hit"], 24)
        assert t["ci95"][0] <= lo + 1e-12 and t["ci95"][1] >= hi - 1e-12
    # The prior draws are independent: the report's prior odds are the summary's.
    prior = summaries.odds(summaries.prior_of(ds))
    for o, t in zip(prior, summary["targets"], strict=True):
        assert o.ci95 == pytest.approx(tuple(t["prior_ci95"]))
    n_eff = summary["calibration"]["primary_n_eff"]
    assert 0 < n_eff <= 24
    assert f"about {n_eff:,.0f} independent draws" in format_calibration(summary)
    assert f"about {n_eff:,.0f} independent draws" in "\n".join(answer_markdown(ds, summary))


def test_same_seed_gives_the_same_posterior(calibrated):
    ds, _ = calibrated
    again, _ = run_one(load_spec([*CHEAP, "mc.draws=8", *SMC_TINY]))
    np.testing.assert_array_equal(ds["param_value"].values, again["param_value"].values)
    np.testing.assert_array_equal(ds["share"].values, again["share"].values)


def test_prior_odds_are_those_of_an_uncalibrated_run(calibrated):
    _, summary = calibrated
    plain = summarize(run_one(load_spec([*CHEAP, "mc.draws=8"]))[0])
    assert [t["prior_p_hit"] for t in summary["targets"]] == [t["p_hit"] for t in plain["targets"]]


def _data_with_end_2025(tmp_path, value):
    src = (Path(observations.__file__).parent / "data" / "observations.csv").read_text()
    lines = [
        ",".join([*row.split(",")[:2], str(value), *row.split(",")[3:]])
        if row.startswith("2025-12-31,genai_users_share,")
        else row
        for row in src.splitlines()
    ]
    path = tmp_path / f"obs_{value}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_higher_end_2025_observation_gives_higher_posterior_odds_for_2027(tmp_path):
    sizes = [*CHEAP, "mc.draws=4", *SMC_TINY, "calibration.particles=120", "calibration.moves=2"]
    summaries = [
        run_one(
            load_spec([*sizes, f"calibration.observations={_data_with_end_2025(tmp_path, v)}"])
        )[1]
        for v in (0.36, 0.50)
    ]
    low, high = (s["targets"][0] for s in summaries)  # the primary reading, 2027
    assert high["share_median"] > low["share_median"] + 0.02
    assert high["p_hit"] >= low["p_hit"]


@pytest.mark.slow
def test_backtest_to_mid_2025_places_end_2025_inside_its_90_percent_predictive_interval():
    spec = load_spec(
        [
            *CHEAP,
            "mc.draws=50",
            "mc.chunk=50",
            "population.n_agents=4000",
            "time.end=2025-12",
            "targets=[{year: 2025, threshold: 0.4, metric: population, tech: agent}]",
            *SMC_TINY,
            "calibration.particles=400",
            "calibration.n_agents=4000",
            "calibration.moves=2",
            "calibration.max_rounds=30",
            "calibration.ess_min=100",
            "calibration.until=2025-06",
        ]
    )
    _, summary = run_one(spec)
    cal = summary["calibration"]
    assert cal["status"] == "ok", cal["message"]
    (end,) = [
        c for c in cal["checks"] if (c["series"], c["date"]) == ("genai_users_share", "2025-12-31")
    ]
    assert end["status"] == "held_out"
    assert 0.05 < end["posterior"]["pit"] < 0.95, end


def test_a_refused_sampler_reports_the_prior_draws_alone():
    # An effective-sample-size floor no run of this size reaches: the posterior is refused, so
    # the odds are the prior draws' own, the particles left out (they are not a prior sample).
    ds, summary = run_one(load_spec([*CHEAP, "mc.draws=8", *SMC_TINY, "calibration.ess_min=1e9"]))
    assert summary["calibration"]["status"] == "refused"
    w = results.weights_of(ds)
    np.testing.assert_array_equal(w, results.prior_weights_of(ds))
    assert w[8:].sum() == 0
    prior_only = summarize(ds.isel(draw=slice(0, 8)).drop_vars(["weight", "prior_weight"]))
    for t, p in zip(summary["targets"], prior_only["targets"], strict=True):
        assert t["p_hit"] == pytest.approx(p["p_hit"])
