"""Calibration by importance weights: the weights, the effective sample size and the refusal, the
predictive check, parameter recovery on the real model, and a truncated-data backtest."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from sim import calibration, observations, results
from sim.calibration import calibrate, predictive_quantile
from sim.config import load_spec
from sim.engine import simulate
from sim.observations import Observation
from sim.spec import CalibrationSpec
from sim.stats import effective_sample_size, weighted_quantile, wilson
from sim.targets import summarize

from helpers import FAST, results_dataset, run_cli

TIMES = pd.to_datetime(["2024-12-31", "2025-06-30", "2025-12-31", "2027-12-31"])
PARAMS = ["agent.p", "replacement.ai_max", "replacement.ai_mid", "replacement.ai_slope"]


def _dataset(agent_2025h1, *, share_2027=None, params=None):
    """Results with the agent share of the population at mid-2025 set per draw."""
    n = len(agent_2025h1)
    agent = np.full((n, len(TIMES)), 0.2)
    agent[:, 1] = agent_2025h1
    either = np.full((n, len(TIMES)), 0.2)
    either[:, 3] = 0.5 if share_2027 is None else share_2027
    values = np.tile([0.05, 1.0, 2026.0, 1.0], (n, 1)) if params is None else params
    return results_dataset(
        TIMES,
        {("agent", "population"): agent, ("any", "population"): either},
        fill=0.2,
        params=dict(zip(PARAMS, np.asarray(values).T, strict=True)),
    )


def _obs(date="2025-06-30", value=0.36, sd=0.02, **kw):
    kw = {"output": "share", "tech": "agent", "metric": "population", "group": "national"} | kw
    return Observation(date, kw.pop("series", "genai_users_share"), value, sd, "test", **kw)


def _cal(*obs, **kw):
    return CalibrationSpec(method="importance", observations=obs, **({"ess_min": 1.0} | kw))


def test_weights_are_the_normal_likelihood_of_each_draw():
    x = np.array([0.30, 0.34, 0.36, 0.40], dtype=np.float32)
    ds = calibrate(_dataset(x), _cal(_obs(value=0.36, sd=0.02)))
    expected = stats.norm.pdf(0.36, loc=x.astype(np.float64), scale=0.02)
    np.testing.assert_allclose(ds["weight"].values, expected / expected.sum(), rtol=1e-6)


def test_scale_and_discrepancy_combine_in_quadrature():
    x = np.array([0.30, 0.34, 0.36, 0.40], dtype=np.float32)
    ds = calibrate(_dataset(x), _cal(_obs(sd=0.02), sd_scale=1.5, discrepancy_sd=0.04))
    sd = np.hypot(0.03, 0.04)  # 0.05
    expected = stats.norm.pdf(0.36, loc=x.astype(np.float64), scale=sd)
    np.testing.assert_allclose(ds["weight"].values, expected / expected.sum(), rtol=1e-6)
    assert results.calibration_of(ds)["checks"][0]["sd"] == pytest.approx(0.05)


def test_student_t_weighs_a_discordant_draw_more_than_normal():
    x = np.array([0.36, 0.46], dtype=np.float32)  # second draw 5 sd away
    normal = calibrate(_dataset(x), _cal(_obs(sd=0.02)))["weight"].values
    heavy = calibrate(_dataset(x), _cal(_obs(sd=0.02), likelihood="student_t", df=3))
    assert heavy["weight"].values[1] > 100 * normal[1]
    ratio = stats.t(3).pdf(5.0) / stats.t(3).pdf(0.0)
    assert heavy["weight"].values[1] / heavy["weight"].values[0] == pytest.approx(ratio, rel=1e-5)


def test_effective_sample_size_of_equal_and_degenerate_weights():
    assert effective_sample_size(np.ones(50)) == pytest.approx(50)
    assert effective_sample_size([0, 0, 3.0, 0]) == pytest.approx(1)
    assert effective_sample_size([1, 1, 2, 2]) == pytest.approx(36 / 10)


def test_weighted_quantile_with_equal_weights_is_the_hazen_quantile():
    x = np.random.default_rng(0).random(37)
    q = [0.05, 0.5, 0.9]
    np.testing.assert_allclose(
        weighted_quantile(x, q, weights=np.ones(37)), np.quantile(x, q, method="hazen")
    )


def test_predictive_quantile_is_the_normal_cdf_for_a_single_prediction():
    assert predictive_quantile([0.3], 0.3, 0.02) == pytest.approx(0.5)
    assert predictive_quantile([0.3, 0.3], 0.3 + 1.6449 * 0.02, 0.02) == pytest.approx(0.95, 1e-4)
    # Weights pick the draw: all weight on a prediction far below puts the observation at 1.
    assert predictive_quantile([0.1, 0.3], 0.3, 0.01, [1.0, 0.0]) == pytest.approx(1.0)


def test_too_small_an_effective_sample_refuses_posterior_odds_and_says_why():
    x = np.linspace(0.20, 0.30, 40).astype(np.float32)  # observation 0.365 above every draw
    ds = calibrate(_dataset(x), _cal(_obs(value=0.365, sd=0.015), ess_min=10))
    info = results.calibration_of(ds)
    assert info["status"] == "refused" and info["ess"] < 10
    assert "effective sample size" in info["message"] and "genai_users_share" in info["message"]
    (t,) = summarize(ds)["targets"]
    assert t["p_hit"] is None and t["ci95"] is None and t["share_median"] is None
    assert t["prior_p_hit"] == 0.0 and t["prior_ci95"][1] > 0
    assert "posterior" not in info["checks"][0] and info["checks"][0]["prior"]["pit"] > 0.99


def test_posterior_odds_stand_beside_prior_odds():
    # Draws that hit the target are those that also match the observation.
    x = np.array([0.2, 0.2, 0.36, 0.36], dtype=np.float32)
    hit = np.array([0.6, 0.6, 0.8, 0.8], dtype=np.float32)
    ds = calibrate(_dataset(x, share_2027=hit), _cal(_obs(value=0.36, sd=0.02)))
    s = summarize(ds)
    (t,) = s["targets"]
    assert t["prior_p_hit"] == 0.5 and t["p_hit"] == pytest.approx(1.0, abs=1e-12)
    assert s["calibration"]["status"] == "ok" and s["calibration"]["ess"] == pytest.approx(2.0)
    for key in ("ci95", "share_median", "share_p05", "share_p95"):
        assert key in t and f"prior_{key}" in t


def test_held_out_observations_do_not_move_the_weights():
    rng = np.random.default_rng(1)
    ds0 = _dataset(rng.uniform(0.2, 0.4, 30).astype(np.float32))
    used = _obs(value=0.36)
    kw = {"until": (2025, 6)}
    a = calibrate(ds0, _cal(used, _obs("2025-12-31", 0.42), **kw))
    b = calibrate(ds0, _cal(used, _obs("2025-12-31", 0.90), **kw))
    xr.testing.assert_identical(a["weight"], b["weight"])
    assert [c["status"] for c in results.calibration_of(a)["checks"]] == ["used", "held_out"]


def test_observations_outside_the_horizon_or_unmapped_are_listed_as_not_used():
    ds = calibrate(
        _dataset(np.array([0.3, 0.35], dtype=np.float32)),
        _cal(
            _obs(),
            _obs("2024-06-30", 0.164),
            Observation("2025-12-31", "internet_users_share", 0.8, 0.015, "CNNIC", note="n/a"),
        ),
    )
    not_used = {(u["series"], u["status"]) for u in results.calibration_of(ds)["not_used"]}
    assert not_used == {
        ("genai_users_share", "outside_horizon"),
        ("internet_users_share", "not_mapped"),
    }


def test_a_shipment_share_is_compared_with_the_new_device_share_averaged_over_its_period():
    # The logistic is symmetric about its midpoint: averaged over a year centred on the
    # midpoint, the AI share of new devices is half its ceiling.
    params = np.array([[0.05, 0.9, 2025.5, 1.2], [0.05, 0.9, 2030.0, 1.2]])
    ds = _dataset(np.array([0.3, 0.3], dtype=np.float32), params=params)
    o = Observation(
        "2025-12-31",
        "phones",
        0.45,
        0.05,
        "test",
        "ai_share_of_new_devices",
        period_start="2025-01",
    )
    pred = calibration.predict(ds, o)
    assert pred[0] == pytest.approx(0.45, abs=1e-3) and pred[1] < 0.05


# --------------------------------------------------------------------------------------------------
# The real model
# --------------------------------------------------------------------------------------------------
BASS = [
    "population=single_market",
    "shocks=none",
    "population.n_agents=3000",
    "rules.complementarity=false",
    "time.end=2028-12",
    "targets=[{year: 2028, threshold: 0.7, metric: firms, tech: agent}]",
]
#: The single market's agents are firms, so the firms' own parameters are the ones recovered.
TRUTH = {"agent.p_firms": 0.05, "agent.q_firms": 0.5, "agent.m_firms": 0.8}
DATES = ["2025-06-30", "2025-12-31", "2026-06-30", "2026-12-31", "2027-12-31", "2028-12-31"]


def _write_obs(tmp_path, rows):
    lines = ["date,series,value,uncertainty,source,output,tech,metric,group,period_start,note"]
    lines += [
        f"{d},{s},{v:.4f},{sd},synthetic,share,agent,{m},national,," for d, s, v, sd, m in rows
    ]
    path = tmp_path / "obs.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_parameters_of_a_simulated_series_are_recovered(tmp_path):
    # Data: one adoption history simulated at known p, q, m (its own seed).
    truth = [f"rules.{k.split('.')[1].removesuffix('_firms')}={v}" for k, v in TRUTH.items()]
    data = simulate(load_spec([*BASS, *truth, "uncertainty=none", "mc.draws=1", "mc.seed=99"]))
    y = data["share"].sel(tech="agent", metric="firms", time=pd.to_datetime(DATES)).values[0]
    rows = [(d, "adopters", v, 0.02, "firms") for d, v in zip(DATES, y, strict=True)]
    path = _write_obs(tmp_path, rows)
    spec = load_spec(
        [*BASS, "mc.draws=1000", "mc.chunk=250", "calibration=importance",
         f"calibration.observations={path}", "calibration.discrepancy_sd=0",
         "calibration.ess_min=30"]
    )  # fmt: skip
    ds = calibrate(simulate(spec), spec.calibration)
    info = results.calibration_of(ds)
    assert info["status"] == "ok", info["message"]
    w = ds["weight"].values
    priors = {p.name: p for p in spec.priors}
    for name, true in TRUTH.items():
        x = ds["param_value"].sel(param=name).values
        lo, hi = weighted_quantile(x, [0.025, 0.975], weights=w)
        assert lo <= true <= hi, (name, lo, hi)
    # Four years of data pin the innovation rate p down (its 95% interval is under half the
    # prior's range); the ceiling they leave open, as FACTS.md says of early data.
    x = ds["param_value"].sel(param="agent.p_firms").values
    lo, hi = weighted_quantile(x, [0.025, 0.975], weights=w)
    assert hi - lo < 0.5 * (priors["agent.p_firms"].high - priors["agent.p_firms"].low)


@pytest.fixture(scope="module")
def backtest():
    """Shipped observations, calibrated on those up to mid-2025 (small national population)."""
    spec = load_spec(
        [
            "population.n_agents=4000",
            "mc.draws=1000",
            "mc.chunk=250",
            "time.end=2025-12",
            "targets=[{year: 2025, threshold: 0.4, metric: population, tech: agent}]",
            "calibration=importance",
            "calibration.until=2025-06",
            "calibration.ess_min=30",
        ]
    )
    ds = calibrate(simulate(spec), spec.calibration)
    return results.calibration_of(ds), ds


def _check(info, series, date):
    (c,) = [c for c in info["checks"] if (c["series"], c["date"]) == (series, date)]
    return c


@pytest.mark.slow
def test_backtest_calibrated_to_mid_2025_places_the_end_2025_observation(backtest):
    info, ds = backtest
    end = _check(info, "genai_users_share", "2025-12-31")
    assert end["status"] == "held_out"
    assert _check(info, "genai_users_share", "2025-06-30")["status"] == "used"
    assert info["status"] == "ok", info["message"]
    # Conditioning on the mid-2025 surge raises the forecast for the end of 2025, and the held-out
    # 42.8% falls inside the 90% posterior predictive interval (the backtest criterion).
    prior, post = end["prior"], end["posterior"]
    assert post["median"] > prior["median"]
    assert 0.05 < post["pit"] < 0.95
    # The reported quantile is the weighted predictive CDF at the observation.
    x = ds["share"].sel(time="2025-12-31", tech="agent", metric="population").values
    assert post["pit"] == pytest.approx(
        predictive_quantile(x, 0.428, end["sd"], ds["weight"].values)
    )


def test_shipped_observations_select_series_by_name():
    obs = observations.load()
    spec = _cal(*obs, series=("genai_users_share",))
    ds = _dataset(np.array([0.3, 0.36], dtype=np.float32))
    info = results.calibration_of(calibrate(ds, spec))
    assert {c["series"] for c in info["checks"]} == {"genai_users_share"}
    assert info["n_used"] == 3  # end-2024, mid-2025 and end-2025 are in the horizon


def test_weighted_wilson_interval_with_equal_weights_is_wilsons():
    # Newcombe (1998), Stat. Med. 17, table I: 81 of 263.
    assert wilson(81 / 263, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    # Fewer effective draws, a wider interval around the same proportion.
    lo, hi = wilson(81 / 263, 40.0)
    assert lo < 0.2553 and hi > 0.3662


def test_weighted_odds_count_weight_above_the_threshold():
    from sim.targets import evaluate

    ds = _dataset(np.full(4, 0.3, dtype=np.float32), share_2027=np.array([0.6, 0.8, 0.8, 0.9]))
    (odds,) = evaluate(ds, weights=np.array([3.0, 1.0, 0.0, 0.0]))
    assert odds.p_hit == pytest.approx(0.25)
    assert odds.n_eff == pytest.approx(16 / 10)
    assert odds.share_median == pytest.approx(0.6 + (0.8 - 0.6) * (0.5 - 0.375) / (0.875 - 0.375))


def test_cli_writes_weights_and_prior_beside_posterior(tmp_path):
    out = tmp_path / "run"
    r = run_cli(
        [*FAST, "calibration=importance", "calibration.method=importance", f"hydra.run.dir={out}"],
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    # Six draws cannot carry nine observations: the posterior is refused, loudly.
    assert "posterior odds not reported" in r.stdout and "PRIOR odds" in r.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["calibration"]["status"] == "refused"
    for t in summary["targets"]:
        assert t["p_hit"] is None and 0.0 <= t["prior_p_hit"] <= 1.0
    ds = xr.open_dataset(out / "results.nc", engine="h5netcdf")
    assert ds["weight"].dims == ("draw",) and float(ds["weight"].sum()) == pytest.approx(1.0)
    assert json.loads(ds.attrs["calibration"])["n_draws"] == 6
    ds.close()


def test_api_reports_posterior_odds_when_the_sample_suffices():
    import sim

    s = sim.summarize(
        sim.run(
            "baseline",
            [
                *FAST,
                "calibration=importance",
                "calibration.method=importance",
                "calibration.ess_min=1",
            ],
        )
    )
    assert s["calibration"]["status"] == "ok"
    assert all(t["p_hit"] is not None and "prior_p_hit" in t for t in s["targets"])


def test_no_finite_likelihood_refuses_instead_of_falling_back_to_equal_weights():
    ds = calibrate(_dataset(np.full(5, np.nan, dtype=np.float32)), _cal(_obs()))
    info = results.calibration_of(ds)
    assert info["status"] == "refused" and info["ess"] == 0.0
    assert "finite likelihood" in info["message"]
    assert summarize(ds)["targets"][0]["p_hit"] is None
