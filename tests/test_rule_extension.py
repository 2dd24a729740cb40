"""Extending the agent rules: a function registered in ``sim.rules.ADOPTION_RULES`` and named as
``rules.adoption`` in config is what both engines run, with its parameters drawn from priors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from sim import rules
from sim.config import load_spec
from sim.engine import simulate
from sim.spec import ConfigError

FEW_AGENTS = ["population.n_agents=200", "mc.draws=3", "uncertainty=none"]
ENGINES = ["engine=core", "engine=abm"]


def innovation_only(p, q, influence, ceiling):
    """Adoption without word of mouth: the hazard is the innovation rate alone."""
    return p + 0.0 * np.asarray(influence)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rule_named_in_config_is_the_one_both_engines_run(monkeypatch, engine):
    monkeypatch.setitem(rules.ADOPTION_RULES, "innovation_only", innovation_only)
    new = simulate(load_spec([*FEW_AGENTS, engine, "rules.adoption=innovation_only"]))
    # The same model written with the Bass rule: imitation switched off (q = 0).
    bass_q0 = simulate(load_spec([*FEW_AGENTS, engine, "rules.q=0"]))
    bass = simulate(load_spec([*FEW_AGENTS, engine]))
    xr.testing.assert_identical(new["share"], bass_q0["share"])
    assert float((bass["share"] - new["share"]).isel(time=-1).min()) > 0
    assert new.attrs["adoption_rule"] == "innovation_only"


def _with_subsidy(spec, value):
    priors = tuple(
        p.fixed_at(value, "test") if p.name.endswith(".subsidy") else p for p in spec.priors
    )
    return replace(spec, priors=priors)


@pytest.mark.parametrize("engine", ENGINES)
def test_logit_rule_without_subsidy_is_the_bass_model_in_both_engines(engine):
    logit = _with_subsidy(load_spec([*FEW_AGENTS, engine, "rules.adoption=logit_subsidy"]), 0.0)
    bass = load_spec([*FEW_AGENTS, engine])
    xr.testing.assert_identical(simulate(logit)["share"], simulate(bass)["share"])


@pytest.mark.parametrize("engine", ENGINES)
def test_a_subsidy_under_the_logit_rule_raises_adoption_in_every_draw(engine):
    """With the same random numbers a higher hazard never removes an adopter (common random
    numbers), so every draw's share is at least the Bass one, and higher on average by 2027."""
    spec = load_spec([*FEW_AGENTS, engine, "rules.adoption=logit_subsidy"])
    base = simulate(_with_subsidy(spec, 0.0))["share"]
    subsidised = simulate(_with_subsidy(spec, 0.5))["share"]
    diff = (subsidised - base).sel(tech=["terminal", "agent", "any"])
    assert float(diff.min()) >= 0
    assert float(diff.sel(time="2027-12-31", metric="population").mean("draw").min()) > 0.01


def test_the_logit_rule_takes_its_parameters_from_priors_with_reasons():
    spec = load_spec(["rules.adoption=logit_subsidy"])
    priors = {p.name: p for p in spec.priors}
    for name in ("adoption.cost", "adoption.scale", "terminal.subsidy", "agent.subsidy"):
        assert priors[name].reason
    assert priors["terminal.subsidy"].central == pytest.approx(0.15)
    # Other rules' parameters are not sampled: the Bass rule's draws stay as they were.
    assert not any("subsidy" in n or n.startswith("adoption.") for n in load_spec([]).param_names)


def test_a_scenario_can_set_a_rule_parameter(tmp_path):
    path = tmp_path / "subsidy.yaml"
    path.write_text(
        "title: t\ndescription: d\npriors:\n  agent.subsidy: "
        "{dist: fixed, value: 0.3, reason: a planner's agent-use voucher}\n"
    )
    spec = load_spec([f"scenario={path}", "rules.adoption=logit_subsidy"])
    assert {p.name: p for p in spec.priors}["agent.subsidy"].central == 0.3


def test_a_rule_parameter_without_a_prior_is_a_config_error(monkeypatch):
    def threshold_rule(p, q, influence, ceiling, *, threshold):
        return p + q * (np.asarray(influence) >= threshold)

    monkeypatch.setitem(rules.ADOPTION_RULES, "threshold", threshold_rule)
    with pytest.raises(ConfigError, match=r"priors\.adoption\.threshold.*threshold"):
        load_spec(["rules.adoption=threshold"])


def test_an_unknown_rule_parameter_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"adoption\.logit_subsidy\.tax.*allowed: cost"):
        load_spec(["rules.adoption=logit_subsidy", "+priors.adoption.logit_subsidy.tax.dist=fixed"])
