"""Ceilings on the population base, internet access over time and each reading's built-in cap."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim import drivers, readings, rules
from sim.config import load_spec
from sim.engine import simulate
from sim.population import build
from sim.vocab import METRICS, READING_TECHS

from helpers import SMALL


@pytest.mark.parametrize(("m", "a", "o"), [(0.6, 0.8, 0.1), (0.95, 0.8, 0.3), (1.0, 0.9, 0.0)])
def test_online_and_offline_ceilings_add_up_to_the_population_ceiling(m, a, o):
    """m_on online and o * m_on offline give min(m, a + (1 - a) o) over the population."""
    on = rules.online_ceiling(m, a, o)
    assert a * on + (1 - a) * o * on == pytest.approx(rules.population_ceiling(m, a, o))
    assert on <= 1.0


@pytest.fixture(scope="module")
def national():
    spec = load_spec(SMALL)
    pop = build(spec.population, seed=spec.mc.seed)
    return spec, pop, drivers.layout(spec, pop)


def test_the_access_trend_prior_brackets_cnnics_end_2025_figure(national):
    """From the end-2024 groups, the trend prior's ends put national access at the end of 2025
    below and above CNNIC's 80.1% (observations.csv), and it rises over time."""
    spec, pop, lay = national
    prior = next(p for p in spec.priors if p.name == "people.internet_trend")
    values = np.tile([p.central for p in spec.priors], (2, 1))
    values[:, spec.param_names.index(prior.name)] = (prior.low, prior.high)
    cp = drivers.CellParams(spec, pop, lay, values, np.zeros(2, dtype=np.int64))
    _, a_2025 = cp.access(2026.0)
    assert a_2025[0, 0] < 0.801 < a_2025[0, 1]
    _, a_2030 = cp.access(2031.0)
    assert np.all(a_2030 > a_2025)


def test_no_readings_share_exceeds_its_cap_beyond_agent_sampling_noise(national):
    """The caps are the engines' own ceilings at their largest: every draw's share stays below
    the cap plus four binomial standard errors over the metric's effective number of agents."""
    spec, pop, lay = national
    caps = readings.caps(spec, pop, lay)
    ds = simulate(spec)
    for (year, metric, tech), cap in caps.items():
        share = ds["share"].sel(time=f"{year}-12-31", metric=metric, tech=tech).values
        n_eff = pop.n_effective(metric)
        assert share.max() <= cap + 4 * np.sqrt(max(cap * (1 - cap), 0.01) / n_eff), (
            year,
            metric,
            tech,
        )
    assert set(caps) == {(y, m, k) for y in (2027, 2030) for m in METRICS for k in READING_TECHS}


def test_a_lower_ceiling_prior_lowers_the_population_cap(national):
    """Capping agent.m at 0.65 (and no lever raising it) caps agent use at 65% of the
    population, whatever internet access does."""
    spec, pop, lay = national
    fixed = {"agent.m": 0.65, "lever.app_environment.agent.ceiling": 0.0,
             "lever.talent.agent.ceiling": 0.0}  # fmt: skip
    priors = tuple(p.fixed_at(fixed[p.name], "test") if p.name in fixed else p for p in spec.priors)
    low = readings.caps(replace(spec, priors=priors), pop, lay)
    assert low[2030, "population", "agent"] == pytest.approx(0.65, abs=1e-9)
    assert readings.caps(spec, pop, lay)[2030, "population", "agent"] > 0.65
