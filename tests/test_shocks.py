"""Stochastic shocks: the rules, per-draw event histories on their own streams, their effects."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from sim.config import load_spec
from sim.engine import simulate
from sim.rules import shocks as rules
from sim.streams import Decision

from helpers import SMALL

#: Without the observed early-2025 surge that the default replays: no shock at all.
NONE = [*SMALL, "shocks=none"]


def _scenario(tmp_path, body, name="s"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"title: t\ndescription: d\n{body}")
    return f"scenario={path}"


# --- rules ----------------------------------------------------------------------------------------
def test_event_probability_is_that_of_a_poisson_count_being_positive():
    rate, dt = 0.6, 1 / 12
    # P(N >= 1) for N ~ Poisson(rate * dt)
    assert rules.p_event(rate, dt) == pytest.approx(1 - np.exp(-rate * dt))
    assert rules.p_event(0.0, dt) == 0.0


def test_a_pulse_acts_from_its_start_for_its_duration_only():
    age = np.array([-0.1, 0.0, 0.4, 0.5, 2.0])
    np.testing.assert_array_equal(rules.pulse(age, 0.3, 0.5), [0.0, 0.3, 0.3, 0.0, 0.0])


def test_a_stronger_safety_lever_makes_an_incident_milder_and_shorter():
    resp = np.array([0.0, 1.0, 1.5])
    depth, length = rules.mitigate(0.6, 2.0, resp, 1.0)
    np.testing.assert_allclose(depth, [0.6, 0.3, 0.24])  # 0.6 / (1 + resp)
    np.testing.assert_allclose(length, [2.0, 1.0, 0.8])
    depth0, length0 = rules.mitigate(0.6, 2.0, resp, 0.0)
    np.testing.assert_array_equal(depth0, 0.6)
    np.testing.assert_array_equal(length0, 2.0)


def test_pulses_combine_multiplicatively_and_no_pulse_leaves_the_rate_alone():
    assert rules.gain(np.array([0.5, 1.0])) == pytest.approx(1.5 * 2.0)
    assert rules.loss(np.array([0.5, 0.2])) == pytest.approx(0.5 * 0.8)
    assert rules.gain(np.zeros((0, 3))).tolist() == [1.0, 1.0, 1.0]


# --- streams --------------------------------------------------------------------------------------
def test_shock_streams_are_new_decisions_that_shift_no_existing_one():
    assert [Decision.LATENT_TERMINAL, Decision.LATENT_AGENT] == [0, 1]
    assert [Decision.THRESHOLD_TERMINAL, Decision.THRESHOLD_AGENT] == [2, 3]
    # IntEnum silently turns a repeated value into an alias: every name must have its own value.
    assert len(set(Decision.__members__.values())) == len(Decision.__members__)


# --- engine ---------------------------------------------------------------------------------------
def test_shocks_none_records_no_event():
    ds = simulate(load_spec(NONE))
    assert int(ds["events"].sum()) == 0 and bool(ds["event_time"].isnull().all())


def test_by_default_no_shock_happens():
    assert int(simulate(load_spec(SMALL))["events"].sum()) == 0


def test_fitted_surge_raises_peoples_agent_use_in_early_2025():
    from sim import engine
    from sim.engine import core

    spec = load_spec(NONE)
    ctx = engine.context(spec)
    values = engine.parameter_sets(spec)
    col = spec.param_names.index("agent.surge_people")
    flat, surge = values.copy(), values.copy()
    flat[:, col], surge[:, col] = 0.0, 10.0
    surge[:, spec.param_names.index("agent.surge_months")] = 6.0
    draws = np.arange(values.shape[0])
    a = core.simulate_chunk(spec, ctx.pop, flat, draws, lay=ctx.lay).share
    b = core.simulate_chunk(spec, ctx.pop, surge, draws, lay=ctx.lay).share
    june = spec.time.step_of_year_end(2025) - 6  # the state at the end of June 2025
    agent, people = 1, 0  # tech "agent", metric "population"
    assert np.all(b[:, june, agent, people] > a[:, june, agent, people] + 0.02)
    np.testing.assert_array_equal(b[:, 0], a[:, 0])  # nothing changes before the surge


def test_observed_shocks_replay_the_early_2025_surge_in_every_draw():
    ds = simulate(load_spec([*SMALL, "shocks=observed"]))
    events = ds["events"]
    np.testing.assert_array_equal(events.sel(shock="breakthrough").values, 1)
    assert int(events.sum()) == events.sizes["draw"]
    t = ds["event_time"].sel(shock="breakthrough").isel(event=0).values
    np.testing.assert_allclose(t, 2025.0)
    # The surge raises agent use in 2025 against the model without it (same draws otherwise).
    none = simulate(load_spec(NONE))
    mid = {"time": "2025-06-30", "tech": "agent", "metric": "population"}
    assert np.all(ds["share"].sel(**mid).values >= none["share"].sel(**mid).values)


def test_draws_without_an_event_are_identical_to_the_run_without_shocks(tmp_path):
    """Shocks draw only from their own streams and leave rates untouched when none is in force."""
    rare = _scenario(tmp_path, "shocks:\n  safety_incident: {rate: 0.15}\n")
    on = simulate(load_spec([*NONE, "mc.draws=12", "mc.chunk=6", rare]))
    off = simulate(load_spec([*NONE, "mc.draws=12", "mc.chunk=6"]))
    xr.testing.assert_identical(on["param_value"], off["param_value"])
    quiet = (on["events"].sum("shock") == 0).values
    assert 0 < quiet.sum() < quiet.size, "need draws with and without events"
    np.testing.assert_array_equal(on["share"].values[quiet], off["share"].values[quiet])
    assert not np.array_equal(on["share"].values[~quiet], off["share"].values[~quiet])


def test_each_draw_keeps_its_event_history_whatever_the_scenario_and_chunking():
    a = simulate(load_spec([*SMALL, "shocks=stochastic", "mc.chunk=3"]))
    b = simulate(load_spec([*SMALL, "shocks=stochastic", "scenario=full_implementation"]))
    assert int(a["events"].sum()) > 0
    for var in ("events", "event_time"):
        xr.testing.assert_identical(a[var], b[var])


def test_a_scheduled_incident_happens_in_every_draw_and_lowers_agent_use(tmp_path):
    base = simulate(load_spec(SMALL))
    hit = simulate(load_spec([*SMALL, "scenario=trust_incident_2027"]))
    inc = hit["events"].sel(shock="safety_incident")
    assert (inc == 1).all()
    np.testing.assert_allclose(hit["event_time"].sel(shock="safety_incident", event=0), 2027.0)
    # Lower imitation lowers every agent's hazard: with common random numbers, agent use is lower
    # or equal in every draw and month, and terminals (not hit) are unchanged.
    diff = (hit["share"] - base["share"]).sel(tech="agent")
    assert float(diff.max()) <= 1e-6 and float(diff.min()) < -0.001
    assert float(diff.sel(time=slice(None, "2026-12-31")).min()) == 0.0
    xr.testing.assert_identical(
        hit["share"].sel(tech="terminal"), base["share"].sel(tech="terminal")
    )


def test_stronger_mitigation_softens_a_scheduled_incident_in_every_draw(tmp_path):
    def run(mitigation):
        body = f'shocks:\n  safety_incident: {{at: ["2026-01"], mitigation: {mitigation}}}\n'
        return simulate(load_spec([*SMALL, _scenario(tmp_path, body, f"m{mitigation}")]))

    weak, strong = run(0), run(3)
    diff = (strong["share"] - weak["share"]).sel(tech="agent")
    assert float(diff.min()) >= -1e-6 and float(diff.max()) > 0.001


def test_a_scheduled_breakthrough_raises_agent_use_in_every_draw(tmp_path):
    body = 'shocks:\n  breakthrough: {at: ["2026-01"]}\n'
    jump = simulate(load_spec([*SMALL, _scenario(tmp_path, body)]))
    base = simulate(load_spec(SMALL))
    diff = (jump["share"] - base["share"]).sel(tech="agent")
    assert float(diff.min()) >= -1e-6 and float(diff.max()) > 0.005


def test_a_compute_shock_acts_only_through_the_compute_lever(tmp_path):
    body = 'shocks:\n  compute_supply: {at: ["2025-06"], cut: 1.0, duration: 3.0}\n'
    shocked = _scenario(tmp_path, body)
    # With every lever withdrawn from the start (an empty schedule: intensity 0 throughout) the
    # shock has nothing to cut.
    spec = load_spec([*NONE, shocked])
    withdrawn = tuple(replace(lv, schedule=()) for lv in spec.levers)
    xr.testing.assert_identical(
        simulate(replace(spec, levers=withdrawn))["share"],
        simulate(replace(spec, levers=withdrawn, shocks=()))["share"],
    )
    # With the compute lever alone, cutting it lowers adoption in every draw.
    only_compute = tuple(
        lv if lv.name == "compute" else replace(lv, schedule=()) for lv in spec.levers
    )
    cut = simulate(replace(spec, levers=only_compute))["share"]
    full = simulate(replace(spec, levers=only_compute, shocks=()))["share"]
    diff = cut - full
    assert float(diff.max()) <= 1e-6 and float(diff.min()) < -0.0005


def test_random_event_counts_follow_the_configured_rate(tmp_path):
    """A fixed rate of 2 a year over 6 years: on average 12 months with an event start per draw
    (Poisson, at most one start a month: 72 * (1 - exp(-2/12)) = 11.07)."""
    body = "shocks:\n  compute_supply: {rate: 2.0}\n"
    spec = load_spec([*NONE, "mc.draws=40", "population.n_agents=200", _scenario(tmp_path, body)])
    ds = simulate(spec)
    counts = ds["events"].sel(shock="compute_supply").values
    expected = 72 * (1 - np.exp(-2 / 12))
    # Binomial(72, p) per draw: sd 3.1, so the mean of 40 draws has sd 0.5.
    assert abs(counts.mean() - expected) < 2.0
    assert int(ds["events"].sel(shock=["breakthrough", "safety_incident"]).sum()) == 0
