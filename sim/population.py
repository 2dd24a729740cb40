"""Synthetic population: weighted firm and person agents grouped in cells.

A *cell* is a combination of attributes that the rules treat alike: for people, province x
urban/rural x age band x internet access; for firms, province x sector x size class. Each province
has its own residence and age mix (``province_mix``), so its internet access and adoption follow
its own population. Agents are drawn by stratified systematic sampling with probability
proportional to size (people within provinces, firms within province x size class), with a floor
of agents per province; each agent stands for a known number of real persons or firms (its
weight), the weights of each metric add up to its published denominator (``denominators``), and
national shares are weighted means. Agents are stored sorted by cell; both engines read the same
arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim import data
from sim.demography import denominators, firm_size_employees, internet_access_by_group, province_mix
from sim.spec.model import PopulationSpec, Scope
from sim.stats import effective_sample_size
from sim.streams import population_rng
from sim.vocab import (
    FIRMS,
    LEGAL_SIZE_CLASSES,
    METRICS,
    PERSON_GROUPS,
    SIZE_CLASSES,
)
from sim.vocab import PEOPLE as PEOPLE  # re-exported beside FIRMS for the engines


@dataclass(frozen=True, eq=False)
class Population:
    """Cells and agents of a synthetic population.

    Attributes
    ----------
    provinces, regions, compute_hub : ndarray, shape (n_provinces,)
        Province names, NBS region of each and whether it hosts a national computing hub.
    sectors, key_areas : ndarray, shape (n_sectors,)
        Sector names and the opinion's key area each belongs to.
    segments : tuple of str
        Peer segments: the person groups, then the sectors. A cell's segment is its sector (firms)
        or person group (people).
    cell_kind : ndarray of int, shape (n_cells,)
        ``PEOPLE`` (0) or ``FIRMS`` (1).
    cell_province, cell_segment, cell_sector, cell_size : ndarray of int, shape (n_cells,)
        Indices; ``cell_sector`` and ``cell_size`` are -1 for people.
    cell_urban, cell_age60, cell_internet, cell_device_owner : ndarray of bool, shape (n_cells,)
        Person attributes (False for firms, except ``cell_device_owner``: firms own PCs).
    cell_sector_factor : ndarray, shape (n_cells,)
        Digital propensity of the cell's sector relative to the firm-weighted mean (1 for people).
    cell_n : ndarray of int, shape (n_cells,)
        Agents in each cell (all >= 1).
    cell_weight : ndarray, shape (n_cells, 4)
        Real units the cell's agents stand for, per metric in ``sim.vocab.METRICS`` order:
        persons, internet users, firms, firm employment.
    agent_cell : ndarray of int, shape (n_agents,)
        Cell of each agent, sorted ascending.
    """

    provinces: NDArray[np.str_]
    regions: NDArray[np.str_]
    compute_hub: NDArray[np.bool_]
    sectors: NDArray[np.str_]
    key_areas: NDArray[np.str_]
    segments: tuple[str, ...]
    cell_kind: NDArray[np.int8]
    cell_province: NDArray[np.intp]
    cell_segment: NDArray[np.intp]
    cell_sector: NDArray[np.intp]
    cell_size: NDArray[np.intp]
    cell_urban: NDArray[np.bool_]
    cell_age60: NDArray[np.bool_]
    cell_internet: NDArray[np.bool_]
    cell_device_owner: NDArray[np.bool_]
    cell_sector_factor: NDArray[np.float64]
    cell_n: NDArray[np.intp]
    cell_weight: NDArray[np.float64]
    agent_cell: NDArray[np.intp]

    @property
    def n_agents(self) -> int:
        return int(self.agent_cell.size)

    @property
    def n_cells(self) -> int:
        return int(self.cell_n.size)

    @property
    def cell_start(self) -> NDArray[np.intp]:
        """Index of each cell's first agent in the sorted agent arrays."""
        return np.concatenate(([0], np.cumsum(self.cell_n)[:-1]))

    def agent_weight(self, metric: str) -> NDArray[np.float64]:
        """Real units each agent stands for under ``metric``, shape (n_agents,)."""
        w = self.cell_weight[:, METRICS.index(metric)] / self.cell_n
        return w[self.agent_cell]

    def n_effective(self, metric: str) -> float:
        """Kish effective sample size of the agents counted by ``metric``."""
        return effective_sample_size(self.agent_weight(metric))

    def neighbours(self, degree: int, rng: np.random.Generator) -> NDArray[np.intp]:
        """A random peer network: ``degree`` out-neighbours per agent among agents of its kind,
        half of them in its own province (supply chains and acquaintances are mostly local).

        Returns
        -------
        ndarray of int, shape (n_agents, degree)
        """
        kind = self.cell_kind[self.agent_cell]
        prov = self.cell_province[self.agent_cell]
        # Agents are sorted by cell and cells by (kind, province): both groups are contiguous runs.
        key = kind.astype(np.int64) * (len(self.provinces) + 1) + prov
        _, first, count = np.unique(key, return_index=True, return_counts=True)
        grp = np.searchsorted(np.unique(key), key)
        k_first = np.searchsorted(kind, kind, side="left")
        k_count = np.searchsorted(kind, kind, side="right") - k_first
        u = rng.random((self.n_agents, degree))
        local = np.arange(degree) < (degree + 1) // 2
        lo = np.where(local, first[grp][:, None], k_first[:, None])
        n = np.where(local, count[grp][:, None], k_count[:, None])
        return (lo + np.minimum((u * n).astype(np.intp), n - 1)).astype(np.intp)


def _systematic(weights: NDArray[np.float64], n: int, rng: np.random.Generator) -> NDArray:
    """Systematic PPS sample: ``n`` cell indices drawn with probability proportional to weight."""
    if n == 0:  # a tiny population can leave a stratum empty
        return np.zeros(0, dtype=np.intp)
    cum = np.cumsum(weights)
    points = (rng.random() + np.arange(n)) * (cum[-1] / n)
    return np.minimum(np.searchsorted(cum, points, side="right"), weights.size - 1)


def build(spec: PopulationSpec, *, seed: int) -> Population:
    """Build the synthetic population of a spec, deterministic in ``seed``.

    Parameters
    ----------
    spec : PopulationSpec
    seed : int
        Run seed; the population uses its own stream, separate from every draw's.
    """
    if spec.kind == "single_market":
        return _single_market(spec.n_agents)
    return _national(spec, population_rng(seed))


def _single_market(n: int) -> Population:
    one = np.zeros(1, dtype=np.intp)
    return Population(
        provinces=np.array(["market"]),
        regions=np.array(["market"]),
        compute_hub=np.array([False]),
        sectors=np.array(["market"]),
        key_areas=np.array(["industry"]),
        segments=("market",),
        cell_kind=np.array([FIRMS], dtype=np.int8),
        cell_province=one,
        cell_segment=one,
        cell_sector=one,
        cell_size=np.array([-1], dtype=np.intp),
        cell_urban=np.array([False]),
        cell_age60=np.array([False]),
        cell_internet=np.array([True]),
        cell_device_owner=np.array([False]),
        cell_sector_factor=np.ones(1),
        cell_n=np.array([n], dtype=np.intp),
        cell_weight=np.full((1, len(METRICS)), float(n)),
        agent_cell=np.zeros(n, dtype=np.intp),
    )


def allocate(measure: NDArray[np.float64], n: int, floor: int) -> NDArray[np.intp]:
    """Split ``n`` agents over strata in proportion to ``measure``, each getting at least
    ``floor`` (strata below it are raised to it and the rest shared in proportion); integers by
    largest remainder. Requires ``n >= floor * measure.size``.

    Returns
    -------
    ndarray of int, shape like ``measure``, summing to ``n``
    """
    share = np.asarray(measure, dtype=float) / np.sum(measure)
    fixed = np.zeros(share.size, dtype=bool)
    while True:
        x = np.where(fixed, float(floor), 0.0)
        free = ~fixed
        x[free] = share[free] / share[free].sum() * (n - floor * fixed.sum())
        low = free & (x < floor)
        if not low.any():
            break
        fixed |= low
    out = np.floor(x + 1e-9).astype(np.intp)
    out[np.argsort(-(x - out), kind="stable")[: n - out.sum()]] += 1
    return out


def _floor(spec: PopulationSpec, n_kind: int, n_prov: int, per_province: int) -> int | None:
    """The floor of agents per province for one kind of agent: the spec's, lowered so that at most
    half the kind's agents are spent on it, and never below one per stratum; None when there are
    too few agents for one per province and stratum (then the kind is sampled nationally)."""
    if n_kind < per_province * n_prov:
        return None
    return max(min(spec.min_agents_per_province, n_kind // (2 * n_prov)), per_province)


def _sample(
    w: NDArray[np.float64], n: NDArray[np.intp], rng: np.random.Generator
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Stratified PPS sample: ``n[s]`` agents in stratum ``s`` over its cells ``w[s]``.

    Parameters
    ----------
    w : ndarray, shape (n_strata, n_cells)
        Real units in each cell of each stratum.
    n : ndarray of int, shape (n_strata,)

    Returns
    -------
    cells : ndarray of int
        Flat indices into ``w`` of the sampled cells, ascending.
    counts : ndarray of int
        Agents in each sampled cell.
    units : ndarray
        Real units the agents of each sampled cell stand for (each agent: its stratum's total
        over its number of agents, so every stratum's total is kept).
    """
    k = w.shape[1]
    picks = np.concatenate(
        [s * k + _systematic(w[s], int(n[s]), rng) for s in range(n.size) if n[s] > 0]
    )
    cells, counts = np.unique(picks, return_counts=True)
    return cells, counts, counts * (w.sum(axis=1) / np.maximum(n, 1))[cells // k]


def _people(spec: PopulationSpec, n_people_agents: int, rng: np.random.Generator) -> tuple:
    """Person cells sampled: province, group, online flag, agents and weight of each cell."""
    prov, facts = data.provinces(), data.national()
    n_prov = len(prov["province"])
    totals = denominators(spec)
    # People: province x urban/rural x age band x internet access, each province its own mix
    # (age and residence independent within a province: no joint table is published).
    pop = prov["population_2024_10k"] * totals["population"] / prov["population_2024_10k"].sum()
    mix = province_mix(spec)
    u, o = mix.urban[:, None], mix.age60[:, None]
    group_share = np.hstack([u * (1 - o), u * o, (1 - u) * (1 - o), (1 - u) * o])
    p_net = internet_access_by_group(facts, np.average(group_share, axis=0, weights=pop))
    w_people = (
        pop[:, None, None] * group_share[:, :, None] * np.stack([p_net, 1 - p_net], axis=-1)[None]
    ).reshape(n_prov, 8)  # (prov, group x [online, offline])
    floor = _floor(spec, n_people_agents, n_prov, 1)
    if floor is None:  # too few agents for every province: one national stratum
        cells, people_n, people_w = _sample(
            w_people.reshape(1, -1), np.array([n_people_agents]), rng
        )
    else:
        cells, people_n, people_w = _sample(w_people, allocate(pop, n_people_agents, floor), rng)
    people_prov, people_rest = np.divmod(cells, 8)
    p_group, p_offline = np.divmod(people_rest, 2)
    p_net_flag = p_offline == 0

    return people_prov, p_group, p_net_flag, people_n, people_w


def _firms(spec: PopulationSpec, n_firm_agents: int, rng: np.random.Generator) -> tuple:
    """Firm cells sampled: province, size class, sector, agents and firm count of each cell, the
    mean employees per size class and the sectors' enterprise shares."""
    prov, sect, facts = data.provinces(), data.sectors(), data.national()
    n_prov, n_sect = len(prov["province"]), len(sect["sector"])
    # Firms: province (GDP-proportional) x sector x size class, sampled within each
    # province x size stratum. Across size classes agents follow the mean of the count and
    # employment shares, so both firm metrics keep a large effective sample.
    sh = sect["enterprise_share"].copy()
    missing = np.isnan(sh)
    sh[missing] = (1.0 - sh[~missing].sum()) / missing.sum()
    gdp_share = prov["gdp_2024_100m_yuan"] / prov["gdp_2024_100m_yuan"].sum()
    sizes = {s.name: s for s in spec.size_classes}
    units = np.array([sizes[s].share for s in LEGAL_SIZE_CLASSES] + [0.0])
    units *= facts["legal_person_units_2023"] * 1e6
    if spec.individual_businesses == "include":
        units[-1] = facts["individual_businesses_2023"] * 1e6
    size_emp = firm_size_employees(spec)
    n_z = len(SIZE_CLASSES if spec.individual_businesses == "include" else LEGAL_SIZE_CLASSES)
    units, size_emp = units[:n_z], size_emp[:n_z]
    w_firms = units[None, None, :] * gdp_share[:, None, None] * sh[None, :, None]
    emp = units * size_emp
    alloc = 0.5 * (units / units.sum() + emp / emp.sum())
    floor = _floor(spec, n_firm_agents, n_prov, n_z)
    if floor is None:  # too few agents for every province: size classes sampled nationally
        n_z_all = allocate(alloc, n_firm_agents, 1 if n_firm_agents >= n_z else 0)
        cells, firm_n, firm_count_w = _sample(
            w_firms.transpose(2, 0, 1).reshape(n_z, -1), n_z_all, rng
        )
        fz, f_prov, f_sect = np.unravel_index(cells, (n_z, n_prov, n_sect))
    else:
        n_fp = allocate(gdp_share, n_firm_agents, floor)
        n_pz = np.stack([allocate(alloc, n, 1) for n in n_fp])  # (prov, size)
        cells, firm_n, firm_count_w = _sample(
            w_firms.transpose(0, 2, 1).reshape(n_prov * n_z, n_sect), n_pz.ravel(), rng
        )
        f_prov, fz, f_sect = np.unravel_index(cells, (n_prov, n_z, n_sect))

    return f_prov, fz, f_sect, firm_n, firm_count_w, size_emp, sh


def _national(spec: PopulationSpec, rng: np.random.Generator) -> Population:
    prov, sect, ind = data.provinces(), data.sectors(), data.industries()
    n_firm_agents = round(spec.n_agents * spec.firm_fraction)
    people_prov, p_group, p_net_flag, people_n, people_w = _people(
        spec, spec.n_agents - n_firm_agents, rng
    )
    f_prov, fz, f_sect, firm_n, firm_count_w, size_emp, sh = _firms(spec, n_firm_agents, rng)
    n_pc, n_fc = people_n.size, firm_n.size
    group_names = np.array(PERSON_GROUPS)
    propensity = dict(zip(ind["industry"], ind["digital_penetration_2022"], strict=True))
    sector_prop = np.array([propensity[i] for i in sect["industry"]])
    sector_prop = sector_prop / np.average(sector_prop, weights=sh)

    cell_weight = np.zeros((n_pc + n_fc, len(METRICS)))
    cell_weight[:n_pc, 0] = people_w
    cell_weight[:n_pc, 1] = people_w * p_net_flag
    cell_weight[n_pc:, 2] = firm_count_w
    cell_weight[n_pc:, 3] = firm_count_w * size_emp[fz]

    cell_n = np.concatenate([people_n, firm_n]).astype(np.intp)
    pop_obj = Population(
        provinces=prov["province"],
        regions=prov["nbs_region"],
        compute_hub=prov["compute_hub"] != "",
        sectors=sect["sector"],
        key_areas=sect["key_area"],
        segments=(*PERSON_GROUPS, *sect["sector"].tolist()),
        cell_kind=np.concatenate([np.zeros(n_pc), np.ones(n_fc)]).astype(np.int8),
        cell_province=np.concatenate([people_prov, f_prov]).astype(np.intp),
        cell_segment=np.concatenate([p_group, 4 + f_sect]).astype(np.intp),
        cell_sector=np.concatenate([np.full(n_pc, -1), f_sect]).astype(np.intp),
        cell_size=np.concatenate([np.full(n_pc, -1), fz]).astype(np.intp),
        cell_urban=np.concatenate(
            [np.isin(group_names[p_group], PERSON_GROUPS[:2]), np.zeros(n_fc, bool)]
        ),
        cell_age60=np.concatenate(
            [np.char.endswith(group_names[p_group], "60plus"), np.zeros(n_fc, bool)]
        ),
        cell_internet=np.concatenate([p_net_flag, np.zeros(n_fc, bool)]),
        cell_device_owner=np.concatenate([p_net_flag, np.ones(n_fc, bool)]),
        cell_sector_factor=np.concatenate([np.ones(n_pc), sector_prop[f_sect]]),
        cell_n=cell_n,
        cell_weight=cell_weight,
        agent_cell=np.repeat(np.arange(cell_n.size), cell_n),
    )
    return _sorted_by_kind_province(pop_obj)


def _sorted_by_kind_province(p: Population) -> Population:
    order = np.lexsort((p.cell_segment, p.cell_province, p.cell_kind))
    fields = {k: getattr(p, k)[order] for k in p.__dataclass_fields__ if k.startswith("cell_")}
    return Population(
        **{
            k: getattr(p, k)
            for k in ("provinces", "regions", "compute_hub", "sectors", "key_areas", "segments")
        },
        **fields,
        agent_cell=np.repeat(np.arange(p.cell_n.size), fields["cell_n"]),
    )


def scope_mask(scope: Scope, pop: Population) -> NDArray[np.bool_]:
    """Cells a lever acts on, shape (n_cells,)."""
    m = np.ones(pop.n_cells, dtype=bool)
    prov = pop.cell_province
    if scope.provinces:
        m &= np.isin(pop.provinces[prov], scope.provinces)
    if scope.regions:
        m &= np.isin(pop.regions[prov], scope.regions)
    if scope.compute_hub is not None:
        m &= pop.compute_hub[prov] == scope.compute_hub
    firm = pop.cell_sector >= 0
    if scope.sectors:
        m &= firm & np.isin(pop.sectors[np.where(firm, pop.cell_sector, 0)], scope.sectors)
    if scope.key_areas:
        m &= firm & np.isin(pop.key_areas[np.where(firm, pop.cell_sector, 0)], scope.key_areas)
    if scope.kinds:
        kinds = np.array(["people", "firms"])[pop.cell_kind]
        m &= np.isin(kinds, scope.kinds)
    if scope.sizes:
        size = pop.cell_size >= 0
        m &= size & np.isin(np.array(SIZE_CLASSES)[np.maximum(pop.cell_size, 0)], scope.sizes)
    return m
