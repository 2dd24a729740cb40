"""The vectorised core: the Bass limit, reproducibility, and monotone lever response."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from sim import rules
from sim.config import load_spec
from sim.drivers import Recorder, layout
from sim.engine import context, simulate
from sim.population import PEOPLE
from sim.spec import METRICS, TECH_COORDS
from sim.streams import draw_seed


def _mean_and_se(ds, tech):
    s = ds["share"].sel(tech=tech, metric="population")
    return s.mean("draw").values, s.std("draw").values / np.sqrt(ds.sizes["draw"])


@pytest.mark.parametrize("tech", ["terminal", "agent"])
def test_single_market_follows_the_discrete_time_bass_model(bass_overrides, tech):
    spec = load_spec([*bass_overrides, "mc.draws=24", "mc.chunk=12"])
    ds = simulate(spec)
    mean, se = _mean_and_se(ds, tech)
    p, q, m, dt = 0.03, 0.38, 0.8, 1 / 12
    # Standard discrete-time Bass: potential adopters m - N adopt at hazard p + q N / m.
    expected = [0.0]
    for _ in range(spec.time.n_steps):
        n = expected[-1]
        expected.append(n + (m - n) * rules.step_probability(p + q * n / m, dt))
    expected = np.array(expected)
    # Agent-level noise shrinks with 20,000 agents x 24 draws; allow 4 standard errors and a
    # floor for the first months, where the share is tiny.
    assert np.all(np.abs(mean - expected) <= 4 * se + 1e-4)
    # ... and the monthly recursion stays within a point of the continuous Bass curve.
    t = np.arange(spec.time.n_steps + 1) * dt
    np.testing.assert_allclose(mean, rules.bass_share(t, p, q, m), atol=0.01)
    assert mean[-1] < m


def test_single_market_rises_to_the_ceiling_over_a_long_horizon(bass_overrides):
    spec = load_spec([*bass_overrides, "rules.q=1.5", "mc.draws=4", "time.end=2035-12"])
    final = simulate(spec)["share"].isel(time=-1).sel(metric="firms", tech="agent")
    np.testing.assert_allclose(final.values, 0.8, atol=0.01)


def test_every_metric_is_the_plain_share_in_a_single_market(bass_overrides):
    ds = simulate(load_spec([*bass_overrides, "mc.draws=2"]))
    s = ds["share"].sel(tech="agent")
    for metric in ("internet_users", "firms", "firm_employment"):
        xr.testing.assert_equal(
            s.sel(metric=metric, drop=True), s.sel(metric="population", drop=True)
        )


def test_same_seed_gives_identical_results(small_spec):
    xr.testing.assert_identical(simulate(small_spec)["share"], simulate(small_spec)["share"])


def test_different_seed_gives_different_results(small_spec):
    other = replace(small_spec, mc=replace(small_spec.mc, seed=small_spec.mc.seed + 1))
    assert not np.array_equal(simulate(small_spec)["share"], simulate(other)["share"])


@pytest.mark.parametrize("chunk", [1, 5, 16])
def test_results_do_not_depend_on_chunk_size(small_spec, chunk):
    a = simulate(small_spec)
    b = simulate(replace(small_spec, mc=replace(small_spec.mc, chunk=chunk)))
    for var in ("share", "share_province", "share_sector", "param_value"):
        xr.testing.assert_identical(a[var], b[var])


def test_draw_stream_is_the_spawned_child_of_the_seed():
    seed, n = 12345, 10
    for d in (0, 3, 9):
        a = np.random.default_rng(draw_seed(seed, d)).random(5)
        b = np.random.default_rng(np.random.SeedSequence(seed).spawn(n)[d]).random(5)
        np.testing.assert_array_equal(a, b)


def _scaled(spec, factor):
    levers = tuple(
        replace(lv, schedule=tuple((y, x * factor) for y, x in lv.schedule)) for lv in spec.levers
    )
    return replace(spec, levers=levers)


def _no_ceiling_effects(spec):
    priors = tuple(
        p.fixed_at(0.0, "test") if p.name.endswith(".ceiling") else p for p in spec.priors
    )
    return replace(spec, priors=priors)


@pytest.mark.parametrize("factor", [0.0, 0.5, 2.0, 4.0])
def test_more_lever_intensity_on_rates_never_lowers_adoption_in_any_draw(small_spec, factor):
    """Levers on p and q raise every agent's hazard: with common random numbers, adoption is
    higher in every draw, at every date, under every metric."""
    spec = _no_ceiling_effects(small_spec)
    diff = (simulate(_scaled(spec, factor))["share"] - simulate(spec)["share"]).values
    if factor > 1:
        assert diff.min() >= -1e-6 and diff.max() > 0.005
    else:
        assert diff.max() <= 1e-6 and diff.min() < -0.005


@pytest.mark.parametrize("factor", [0.0, 2.0])
def test_more_lever_intensity_never_lowers_mean_adoption(factor):
    """A higher ceiling lowers the imitation term q N / m of agents already in the market, so
    single draws can dip by a few agents; the Bass flow (p + q N/m)(m - N) still rises with m, so
    the mean over draws must not fall beyond paired Monte Carlo error."""
    spec = load_spec(["mc.draws=24", "population.n_agents=4000"])
    diff = simulate(_scaled(spec, factor))["share"] - simulate(spec)["share"]
    mean, se = diff.mean("draw"), diff.std("draw") / np.sqrt(diff.sizes["draw"])
    sign = 1 if factor > 1 else -1
    assert float((sign * mean + 3 * se + 1e-6).min()) >= 0
    assert float(sign * mean.max() if factor > 1 else -mean.min()) > 0.005


def test_support_withdrawn_gives_lower_mean_adoption_than_current_policy():
    base = simulate(load_spec(["mc.draws=12", "population.n_agents=3000"]))["share"]
    none = simulate(load_spec(["mc.draws=12", "population.n_agents=3000", "levers=none"]))
    diff = base - none["share"]
    se = diff.std("draw") / np.sqrt(diff.sizes["draw"])
    assert float((diff.mean("draw") + 3 * se + 1e-6).min()) >= 0
    # Withdrawn from 2026, today's effects fade after each lever's lag: detectably lower by 2030
    # (paired draws: the same streams under both).
    end = diff.sel(time="2030-12-31")
    assert float((end.mean("draw") - 3 * se.sel(time="2030-12-31")).min()) > 0


def test_uncertainty_none_runs_every_draw_with_central_values(small_spec):
    spec = replace(small_spec, mc=replace(small_spec.mc, uncertainty="none"))
    ds = simulate(spec)
    values = ds["param_value"].values
    np.testing.assert_array_equal(values, np.broadcast_to(values[0], values.shape))
    central = {p.name: p.central for p in spec.priors}
    assert ds["param_value"].sel(param="agent.q").values[0] == pytest.approx(central["agent.q"])


def test_network_influence_changes_the_path_but_keeps_shares_valid(small_spec):
    net = replace(
        small_spec, rules=replace(small_spec.rules, w_segment=0.25, w_province=0.25, w_network=0.5)
    )
    a, b = simulate(small_spec)["share"], simulate(net)["share"]
    assert not np.array_equal(a.values, b.values)
    assert float(b.min()) >= 0.0 and float(b.max()) <= 1.0


@pytest.mark.parametrize(
    ("tech", "metric", "kind"), [("agent", "population", "people"), ("terminal", "firms", "firms")]
)
def test_shares_start_from_their_sampled_starting_level(tech, metric, kind):
    """E.g. agent use starts at its prior's draw (CNNIC: 17.7% of the population, end 2024)."""
    ds = simulate(load_spec(["mc.draws=6", "population.n_agents=30000"]))
    s0 = ds["share"].sel(tech=tech, metric=metric).isel(time=0)
    prior = ds["param_value"].sel(param=f"{tech}.s0_{kind}")
    # 12,000+ agents of each kind: sampling standard error below 0.5 point.
    assert np.all(np.abs(s0 - prior) < 0.015)


def test_results_have_the_documented_schema(small_spec):
    ds = simulate(small_spec)
    assert ds["share"].dims == ("draw", "time", "tech", "metric")
    assert list(ds["tech"].values) == ["terminal", "agent", "any", "both"]
    assert ds["share_province"].sizes["province"] == 31
    assert list(ds["year"].values) == [2027, 2030]
    assert str(ds["time"].values[0])[:10] == "2024-12-31"
    assert str(ds["time"].values[-1])[:10] == "2030-12-31"
    # any >= each technology, every draw and time
    s = ds["share"]
    assert np.all(s.sel(tech="any") >= s.sel(tech=["terminal", "agent"]).max("tech") - 1e-6)
    # sectors count firms only
    assert ds["share_sector"].sel(metric="population").isnull().all()
    assert ds["share_sector"].sel(metric="firms").notnull().all()


def test_internet_users_count_the_online_persons_weights_nationally_and_by_province():
    """The internet users metric, recorded from counts per cell, is the population-weighted share
    among person agents online now, computed here from each agent's state and weight."""
    spec = load_spec(["mc.draws=3", "population.n_agents=3000"])
    pop = context(spec).pop
    rng = np.random.default_rng(5)
    adopted = (rng.random((2, pop.n_agents, 3)) < 0.4).astype(np.float32)
    online = (rng.random((pop.n_agents, 3)) < 0.7).astype(np.float32)
    recorder = Recorder(spec, pop, layout(spec, pop), 3)
    step = spec.time.step_of_year_end(2027)
    recorder.record(step, adopted, online)
    result = recorder.result(np.arange(3))

    w = pop.agent_weight("population") * (pop.cell_kind[pop.agent_cell] == PEOPLE)
    a0, a1 = adopted
    held = {"terminal": a0, "agent": a1, "any": np.maximum(a0, a1), "both": a0 * a1}
    i_net, j = METRICS.index("internet_users"), sorted({t.year for t in spec.targets}).index(2027)
    for k, tech in enumerate(TECH_COORDS):
        national = (w[:, None] * held[tech] * online).sum(0) / (w[:, None] * online).sum(0)
        np.testing.assert_allclose(result.share[:, step, k, i_net], national, rtol=1e-5)
        prov = pop.cell_province[pop.agent_cell]
        for p in (0, 7, 30):
            wp = np.where(prov == p, w, 0.0)[:, None]
            expected = (wp * held[tech] * online).sum(0) / (wp * online).sum(0)
            np.testing.assert_allclose(
                result.share_province[:, j, k, i_net, p], expected, rtol=1e-5
            )
