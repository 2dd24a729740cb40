"""The synthetic population reproduces the sourced national figures it is built from."""

from __future__ import annotations

import numpy as np
import pytest

from sim import data
from sim.population import PERSON_GROUPS, build, internet_access_by_group
from sim.spec import KEY_AREAS, METRICS, PopulationSpec


@pytest.fixture(scope="module")
def national(request):
    from sim.config import load_spec

    return build(load_spec([]).population, seed=7)


def test_every_data_table_names_a_source_for_every_row():
    for table in (data.provinces(), data.sectors(), data.industries(), data.size_classes()):
        assert all(s.strip() for s in table["source"])
    assert all(s.strip() for s in data.observations()["source"])


def test_there_are_31_provinces_and_their_population_is_nbs_2024():
    prov = data.provinces()
    assert len(prov["province"]) == 31
    # FACTS.md: the 31 provinces sum to 1,406.28 M in 2024.
    assert prov["population_2024_10k"].sum() * 1e4 == pytest.approx(1406.28e6, rel=1e-5)


def test_sectors_are_at_least_twelve_and_map_to_the_six_key_areas():
    sect = data.sectors()
    assert len(sect["sector"]) >= 12
    assert set(sect["key_area"]) <= set(KEY_AREAS)


def test_person_weights_add_up_to_the_provinces_population(national):
    w = national.agent_weight("population")
    assert w.sum() == pytest.approx(1406.28e6, rel=1e-6)


def test_firm_weights_add_up_to_the_census_count(national):
    assert national.agent_weight("firms").sum() == pytest.approx(33.27e6, rel=1e-6)


def test_internet_access_reproduces_cnnic_marginals():
    facts = data.national()
    p = internet_access_by_group(facts)
    u, o = facts["urban_share_2024"], facts["age60plus_share_2024"]
    assert (1 - o) * p[0] + o * p[1] == pytest.approx(0.853, abs=1e-6)
    assert (1 - o) * p[2] + o * p[3] == pytest.approx(0.656, abs=1e-6)
    # Not fitted: the national share implied by the urban and rural marginals (CNNIC: 78.6%).
    national_share = u * ((1 - o) * p[0] + o * p[1]) + (1 - u) * ((1 - o) * p[2] + o * p[3])
    assert national_share == pytest.approx(0.786, abs=0.005)
    assert len(p) == len(PERSON_GROUPS)


def test_internet_users_in_the_population_match_cnnic_2024(national):
    w = national.agent_weight("internet_users").sum() / national.agent_weight("population").sum()
    assert w == pytest.approx(0.786, abs=0.01)


@pytest.mark.parametrize("metric", METRICS)
def test_default_agent_count_keeps_sampling_noise_below_half_a_point(national, metric):
    """A share near 50% measured on n_eff agents has standard error 0.5 / sqrt(n_eff)."""
    assert 0.5 / np.sqrt(national.n_effective(metric)) < 0.005


def test_population_is_deterministic_in_the_seed(national):
    from sim.config import load_spec

    again = build(load_spec([]).population, seed=7)
    np.testing.assert_array_equal(again.agent_cell, national.agent_cell)
    np.testing.assert_array_equal(again.cell_weight, national.cell_weight)


def test_agents_are_sorted_by_kind_and_province(national):
    kind = national.cell_kind[national.agent_cell]
    prov = national.cell_province[national.agent_cell]
    key = kind.astype(np.int64) * 100 + prov
    assert np.all(np.diff(key) >= 0)


def test_single_market_counts_every_agent_equally_in_every_metric():
    pop = build(PopulationSpec("single_market", 500, 1.0), seed=0)
    assert pop.n_cells == 1 and pop.n_agents == 500
    for m in METRICS:
        np.testing.assert_array_equal(pop.agent_weight(m), np.ones(500))


def test_network_neighbours_are_same_kind_and_half_local(national):
    nb = national.neighbours(8, np.random.default_rng(0))
    kind = national.cell_kind[national.agent_cell]
    prov = national.cell_province[national.agent_cell]
    assert nb.shape == (national.n_agents, 8)
    assert np.all(kind[nb] == kind[:, None])
    assert np.all(prov[nb[:, :4]] == prov[:, None])
