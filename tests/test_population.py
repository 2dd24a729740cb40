"""The synthetic population reproduces the sourced national figures it is built from."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim import data
from sim.config import load_spec
from sim.demography import (
    denominators,
    firm_size_employees,
    firm_units,
    internet_access_by_group,
    province_mix,
)
from sim.population import FIRMS, PEOPLE, PERSON_GROUPS, allocate, build
from sim.spec import KEY_AREAS, METRICS, PopulationSpec
from sim.vocab import SIZE_CLASSES


@pytest.fixture(scope="module")
def national(request):
    return build(load_spec([]).population, seed=7)


def test_every_data_table_names_a_source_for_every_row():
    for table in (
        data.provinces(),
        data.province_demography(),
        data.sectors(),
        data.industries(),
        data.size_classes(),
    ):
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


#: Published denominators (shared/data/FACTS.md), typed from the sources, not from the model:
#: NBS 2024 national population; CNNIC 55th report, 1,108 M internet users; 5th Economic Census
#: (end 2023) legal-person units and their employees, and individual businesses and theirs.
PUBLISHED = {
    "exclude": {"population": 1408.28e6, "internet_users": 1108e6, "firms": 33.27e6,
                "firm_employment": 428.98e6},
    "include": {"population": 1408.28e6, "internet_users": 1108e6, "firms": 33.27e6 + 87.995e6,
                "firm_employment": 428.98e6 + 179.56e6},
}  # fmt: skip


@pytest.mark.parametrize("individual", ["exclude", "include"])
@pytest.mark.parametrize("metric", METRICS)
def test_weights_add_up_to_the_published_denominator(metric, individual):
    spec = replace(load_spec([]).population, individual_businesses=individual)
    total = build(spec, seed=3).agent_weight(metric).sum()
    assert total == pytest.approx(PUBLISHED[individual][metric], rel=0.01)


def test_denominators_name_the_totals_the_weights_add_up_to(national):
    spec = load_spec([]).population
    for metric, total in denominators(spec).items():
        assert national.agent_weight(metric).sum() == pytest.approx(total, rel=1e-9)


def test_rescaled_firm_sizes_lie_inside_the_nbs_size_definitions():
    """The size split is a prior; after the rescale to the census mean each class's mean must still
    fit its definition (sim/data/size_classes.csv: micro < 20, small 20-299, medium 300-999,
    large >= 1,000 employees)."""
    emp = dict(zip(SIZE_CLASSES, firm_size_employees(load_spec([]).population), strict=True))
    assert emp["micro"] < 20 and 20 <= emp["small"] < 300
    assert 300 <= emp["medium"] < 1000 and emp["large"] >= 1000


def test_individual_businesses_are_their_own_size_class_only_when_included(national):
    spec = replace(load_spec([]).population, individual_businesses="include")
    firms = build(spec, seed=3).cell_size
    assert SIZE_CLASSES.index("individual") in firms
    assert SIZE_CLASSES.index("individual") not in national.cell_size


def test_firm_units_sentence_says_which_units_count():
    spec = load_spec([]).population
    assert "left out" in firm_units(spec) and "individual businesses" in firm_units(spec)
    assert "left out" not in firm_units(replace(spec, individual_businesses="include"))


def _weighted_share(pop, flag):
    w = pop.cell_weight[:, 0]
    return float((w * flag).sum() / w.sum())


def test_province_weighted_urban_share_reproduces_the_national_2024_figure(national):
    # NBS: 67.00% urban at end 2024.
    assert _weighted_share(national, national.cell_urban) == pytest.approx(0.6700, abs=0.005)


def test_province_weighted_60plus_share_reproduces_the_national_2024_figure(national):
    # NBS: 22.0% aged 60+ in 2024.
    assert _weighted_share(national, national.cell_age60) == pytest.approx(0.220, abs=0.005)


def test_province_table_reproduces_the_national_2023_and_2020_figures():
    """The table itself, before any ageing: population-weighted means of the recorded values match
    NBS 2023 urbanisation (66.2%) and the 2020 census 60+ share (18.70%) (FACTS.md)."""
    dem, pop = data.province_demography(), data.provinces()["population_2024_10k"]
    assert np.average(dem["urban_share_2023"], weights=pop) == pytest.approx(0.662, abs=0.005)
    assert np.average(dem["age60plus_share_2020"], weights=pop) == pytest.approx(0.187, abs=0.002)
    assert dem["province"].tolist() == data.provinces()["province"].tolist()


def test_provinces_have_their_own_residence_and_age_mix(national):
    prov = national.provinces.tolist()
    urban = np.array([_in(national, i, national.cell_urban) for i in range(len(prov))])
    age = np.array([_in(national, i, national.cell_age60) for i in range(len(prov))])
    assert urban[prov.index("Shanghai")] > 0.85 > 0.45 > urban[prov.index("Tibet")]
    assert age[prov.index("Liaoning")] > 0.27 > 0.12 > age[prov.index("Tibet")]


def _in(pop, province, flag):
    m = (pop.cell_kind == PEOPLE) & (pop.cell_province == province)
    return _weighted_share_of(pop, m, flag)


def _weighted_share_of(pop, mask, flag):
    w = pop.cell_weight[mask, 0]
    return float((w * flag[mask]).sum() / w.sum())


def test_internet_access_follows_each_provinces_population(national):
    n = len(national.provinces)
    urban = [_in(national, i, national.cell_urban) for i in range(n)]
    online = [_in(national, i, national.cell_internet) for i in range(n)]
    assert np.corrcoef(urban, online)[0, 1] > 0.4


def test_the_national_mix_option_gives_every_province_the_national_shares():
    spec = replace(load_spec([]).population, demography="national")
    mix = province_mix(spec)
    assert np.all(mix.urban == 0.67) and np.all(mix.age60 == 0.22) and not mix.unverified


def test_unverified_figures_are_flagged_or_replaced_by_the_national_one():
    spec = load_spec([]).population
    flagged = province_mix(spec)
    assert "Tibet" in flagged.unverified  # urbanisation 2023 marked unverified
    replaced = province_mix(replace(spec, unverified="national"))
    tibet = data.provinces()["province"].tolist().index("Tibet")
    assert flagged.urban[tibet] < 0.45 and replaced.urban[tibet] == 0.67


def test_every_province_has_the_floor_of_person_and_firm_agents(national):
    kind = national.cell_kind[national.agent_cell]
    prov = national.cell_province[national.agent_cell]
    for k in (PEOPLE, FIRMS):
        assert np.bincount(prov[kind == k], minlength=31).min() >= 200


def test_the_floor_keeps_each_provinces_population(national):
    """Over-sampled provinces get lighter agents: a province's persons are still its NBS count
    (plus its pro-rata share of the 2.0 M not assigned to a province)."""
    pop = data.provinces()["population_2024_10k"] * 1e4
    w = national.cell_weight[:, 0]
    by_prov = np.bincount(national.cell_province, w, minlength=31)
    np.testing.assert_allclose(by_prov, pop * 1408.28e6 / pop.sum(), rtol=1e-9)


def test_allocation_respects_the_floor_and_the_total():
    n = allocate(np.array([1.0, 2.0, 100.0, 500.0]), 100, 10)
    assert n.sum() == 100 and n.min() >= 10 and n[3] > n[2]


@pytest.mark.parametrize("metric", ["population", "firms", "firm_employment"])
def test_too_few_agents_for_every_province_still_add_up(metric):
    """With fewer agents than provinces x strata the kinds are sampled nationally, totals kept
    (internet users, a sampled share of persons, are left out: 55 agents estimate it loosely)."""
    spec = replace(load_spec([]).population, n_agents=100)
    total = build(spec, seed=0).agent_weight(metric).sum()
    assert total == pytest.approx(PUBLISHED["exclude"][metric], rel=0.01)


def test_internet_access_with_a_joint_mix_reproduces_cnnic_marginals():
    facts = data.national()
    gs = np.array([0.5, 0.2, 0.2, 0.1])
    p = internet_access_by_group(facts, gs)
    assert (gs[0] * p[0] + gs[1] * p[1]) / 0.7 == pytest.approx(0.853, abs=1e-6)
    assert (gs[2] * p[2] + gs[3] * p[3]) / 0.3 == pytest.approx(0.656, abs=1e-6)
    assert (gs[1] * p[1] + gs[3] * p[3]) / 0.3 == pytest.approx(0.520, abs=1e-6)


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


def test_province_medians_follow_urbanisation_beyond_noise():
    """The real model at its default population: a province's median share of people using agents
    at end 2027 rises with its urbanisation (through internet access and the rural factor), and
    the 95% bootstrap interval of the correlation over provinces excludes 0."""
    from sim import results
    from sim.engine import simulate

    spec = load_spec(["mc.draws=32", "mc.chunk=32", "mc.keep=[national,province]"])
    share = results.share_by(simulate(spec), "province", "agent", "population").sel(year=2027)
    med = share.median("draw").values
    urban = province_mix(spec.population).urban
    rng = np.random.default_rng(0)
    pick = rng.integers(0, med.size, (2000, med.size))
    boot = [np.corrcoef(med[i], urban[i])[0, 1] for i in pick]
    lo, hi = np.quantile(boot, [0.025, 0.975])
    assert np.corrcoef(med, urban)[0, 1] > 0 and lo > 0, (lo, hi)
