"""Synthetic population: weighted firm and person agents grouped in cells.

A *cell* is a combination of attributes that the rules treat alike: for people, province x
urban/rural x age band x internet access; for firms, province x sector x size class. Agents are
drawn into cells by systematic sampling with probability proportional to size, so each agent
stands for a known number of real persons or firms (its weight) and national shares are weighted
means. Agents are stored sorted by cell; both engines read the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

from sim import data
from sim.spec.model import PopulationSpec, Scope
from sim.stats import effective_sample_size
from sim.streams import population_rng
from sim.vocab import FIRMS, METRICS, PERSON_GROUPS, SIZE_CLASSES
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


def internet_access_by_group(facts: dict[str, float]) -> NDArray[np.float64]:
    """Internet access of each person group (``PERSON_GROUPS`` order), from CNNIC marginals.

    Solves a logit model ``logit P = a + b rural + c aged60+`` for the three published marginals
    (urban, rural, aged 60+), assuming age and urban/rural residence independent (no joint table is
    published).
    """
    u, o = facts["urban_share_2024"], facts["age60plus_share_2024"]
    targets = np.array(
        [
            facts["internet_share_urban_2024"],
            facts["internet_share_rural_2024"],
            facts["internet_share_age60plus_2025h1"],
        ]
    )

    def groups(x: NDArray) -> NDArray:
        a, b, c = x
        return special.expit([a, a + c, a + b, a + b + c])

    def gaps(x: NDArray) -> NDArray:
        g = groups(x)
        return (
            np.array(
                [(1 - o) * g[0] + o * g[1], (1 - o) * g[2] + o * g[3], u * g[1] + (1 - u) * g[3]]
            )
            - targets
        )

    return groups(optimize.fsolve(gaps, [1.0, -1.0, -1.0], xtol=1e-12))


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


def _national(spec: PopulationSpec, rng: np.random.Generator) -> Population:
    prov, sect, ind, facts = data.provinces(), data.sectors(), data.industries(), data.national()
    n_prov, n_sect = len(prov["province"]), len(sect["sector"])

    # People: province x urban x age band x internet access.
    pop = prov["population_2024_10k"] * 1e4
    u, o = facts["urban_share_2024"], facts["age60plus_share_2024"]
    group_share = np.array([u * (1 - o), u * o, (1 - u) * (1 - o), (1 - u) * o])
    p_net = internet_access_by_group(facts)
    w_people = (
        pop[:, None, None]
        * group_share[None, :, None]
        * np.stack([p_net, 1 - p_net], axis=-1)[None]
    )  # (prov, group, [online, offline])
    gi, ni = np.meshgrid(np.arange(4), [True, False], indexing="ij")
    people_prov = np.repeat(np.arange(n_prov), 8)
    people_group = np.tile(gi.ravel(), n_prov)
    people_net = np.tile(ni.ravel(), n_prov)

    # Firms: province (GDP-proportional) x sector x size class.
    sh = sect["enterprise_share"].copy()
    missing = np.isnan(sh)
    sh[missing] = (1.0 - sh[~missing].sum()) / missing.sum()
    gdp_share = prov["gdp_2024_100m_yuan"] / prov["gdp_2024_100m_yuan"].sum()
    sizes = {s.name: s for s in spec.size_classes}
    size_share = np.array([sizes[s].share for s in SIZE_CLASSES])
    size_emp = np.array([sizes[s].employees for s in SIZE_CLASSES])
    n_firms_total = facts["legal_person_units_2023"] * 1e6
    w_firms = n_firms_total * gdp_share[:, None, None] * sh[None, :, None] * size_share[None, None]

    # Allocate agents: people by PPS; firms first across size classes in proportion to the mean of
    # their count and employment shares (so both firm metrics keep a large effective sample),
    # then by PPS on counts within each class.
    n_firm_agents = round(spec.n_agents * spec.firm_fraction)
    n_people_agents = spec.n_agents - n_firm_agents
    people_pick = _systematic(w_people.ravel(), n_people_agents, rng)
    emp = size_share * size_emp
    alloc = 0.5 * (size_share + emp / emp.sum())
    n_by_size = np.floor(alloc * n_firm_agents).astype(int)
    n_by_size[np.argmax(alloc)] += n_firm_agents - n_by_size.sum()
    firm_picks = []
    w_firm_size = w_firms.reshape(-1, 4)
    for z in range(4):
        pick = _systematic(w_firm_size[:, z], n_by_size[z], rng)
        firm_picks.append(pick * 4 + z)
    firm_pick = np.concatenate(firm_picks)

    # Cells actually sampled, ordered (kind, province, ...) so same-province agents are contiguous.
    people_cells, people_n = np.unique(people_pick, return_counts=True)
    firm_cells, firm_n = np.unique(firm_pick, return_counts=True)
    # Each agent in a cell stands for the cell's share of its stratum total.
    w_pa = w_people.sum() / n_people_agents
    w_fa_size = w_firm_size.sum(axis=0) / np.maximum(n_by_size, 1)  # firms per agent, by size
    fz = firm_cells % 4
    f_prov, f_sect = np.divmod(firm_cells // 4, n_sect)
    firm_count_w = firm_n * w_fa_size[fz]

    n_pc, n_fc = people_cells.size, firm_cells.size
    group_names = np.array(PERSON_GROUPS)
    propensity = dict(zip(ind["industry"], ind["digital_penetration_2022"], strict=True))
    sector_prop = np.array([propensity[i] for i in sect["industry"]])
    sector_prop = sector_prop / np.average(sector_prop, weights=sh)

    p_group = people_group[people_cells]
    cell_weight = np.zeros((n_pc + n_fc, len(METRICS)))
    cell_weight[:n_pc, 0] = people_n * w_pa
    cell_weight[:n_pc, 1] = people_n * w_pa * people_net[people_cells]
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
        cell_province=np.concatenate([people_prov[people_cells], f_prov]).astype(np.intp),
        cell_segment=np.concatenate([p_group, 4 + f_sect]).astype(np.intp),
        cell_sector=np.concatenate([np.full(n_pc, -1), f_sect]).astype(np.intp),
        cell_size=np.concatenate([np.full(n_pc, -1), fz]).astype(np.intp),
        cell_urban=np.concatenate(
            [np.isin(group_names[p_group], PERSON_GROUPS[:2]), np.zeros(n_fc, bool)]
        ),
        cell_age60=np.concatenate(
            [np.char.endswith(group_names[p_group], "60plus"), np.zeros(n_fc, bool)]
        ),
        cell_internet=np.concatenate([people_net[people_cells], np.zeros(n_fc, bool)]),
        cell_device_owner=np.concatenate([people_net[people_cells], np.ones(n_fc, bool)]),
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
