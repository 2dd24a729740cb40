"""The cell structure of a population: which agents sit in which cell, how cell shares average into
segments, provinces, sectors and the nation, and where each lever acts. Derived once per run from
the population and the spec, and shared by every chunk of draws and by both engines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from sim.population import PEOPLE, Population, scope_mask
from sim.spec import METRICS, Spec


def _group_matrix(index: NDArray[np.intp], weight: NDArray[np.float64]) -> NDArray[np.float64]:
    """(n_cells, n_groups) matrix turning cell shares into weighted group shares."""
    g = np.zeros((index.size, index.max() + 1))
    g[np.arange(index.size), index] = weight
    totals = g.sum(axis=0)
    return g / np.where(totals > 0, totals, 1.0)


def _metric_matrix(weight: NDArray[np.float64], groups: NDArray[np.intp], n_groups: int):
    """(n_cells, n_metrics * n_groups) weights turning cell shares into group shares per metric;
    columns with no weight give NaN."""
    n_cells, n_m = weight.shape
    g = np.zeros((n_cells, n_m, n_groups))
    valid = groups >= 0
    g[np.nonzero(valid)[0], :, groups[valid]] = weight[valid]
    totals = g.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (g / totals).reshape(n_cells, -1), totals.reshape(-1) > 0


@dataclass(frozen=True, eq=False)
class Layout:
    """Cell structure of a population and spec, derived once and shared by every chunk of a run.

    Sparse products sum each output column in a fixed order, whatever the number of draws
    (columns), so a draw's numbers do not depend on its chunk; dense BLAS products may.

    Attributes
    ----------
    count : scipy.sparse.csr_matrix, shape (n_cells, n_agents), float32
        Agent -> cell indicator: ``count @ adopted`` counts adopters per cell.
    seg, prov : scipy.sparse.csr_matrix, shape (n_segments, n_cells) and (n_groups, n_cells)
        Weighted averaging of cell shares over each peer segment, and over the same-kind cells of
        each province; ``seg_of`` and ``prov_of`` (n_cells,) index each cell's segment and group.
    national : scipy.sparse.csr_matrix, shape (n_metrics, n_cells)
        Cell shares -> national shares, per metric; ``agent_national`` (n_metrics, n_agents,
        float32) the same from agent states.
    province, sector : scipy.sparse.csr_matrix, shape (n_metrics * n_provinces, n_cells) and
        (n_metrics * n_sectors, n_cells)
        Cell shares -> shares by province and by sector; ``province_ok`` and ``sector_ok`` are
        False where a metric counts nobody in the group.
    scope : ndarray, shape (n_levers, n_cells)
        1 where each lever acts, else 0; ``programme_scope`` (n_programmes, n_cells) the same
        for programmes.
    person_province, person_national : scipy.sparse.csr_matrix, shape (n_provinces, n_agents)
        and (1, n_agents)
        Persons each person agent stands for, by province and nationally (empty without
        people): the internet users metric counts the agents online at the time
        (:meth:`Recorder.record`).
    access0 : ndarray, shape (n_cells,)
        Internet access at the reference date of each person cell's group (:data:`ACCESS_YEAR`),
        from the population's weights; 1 for firms.
    person_share : ndarray, shape (n_cells,)
        Each person cell's share of all persons (0 for firms).
    """

    count: sparse.csr_matrix
    seg: sparse.csr_matrix
    seg_of: NDArray[np.intp]
    prov: sparse.csr_matrix
    prov_of: NDArray[np.intp]
    national: sparse.csr_matrix
    agent_national: sparse.csr_matrix
    province: sparse.csr_matrix
    province_ok: NDArray[np.bool_]
    sector: sparse.csr_matrix
    sector_ok: NDArray[np.bool_]
    scope: NDArray[np.float64]
    programme_scope: NDArray[np.float64]
    person_province: sparse.csr_matrix
    person_national: sparse.csr_matrix
    access0: NDArray[np.float64]
    person_share: NDArray[np.float64]

    @property
    def has_people(self) -> bool:
        return bool(self.person_share.any())


#: Decimal year to which the population's internet access refers (end of 2024, the CNNIC data
#: behind ``sim.population``); access is projected from there.
ACCESS_YEAR = 2025.0


def _group_access(pop: Population) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Internet access of each person cell's group and each person cell's share of persons."""
    people = pop.cell_kind == PEOPLE
    w_pop = np.where(people, pop.cell_weight[:, METRICS.index("population")], 0.0)
    w_net = np.where(people, pop.cell_weight[:, METRICS.index("internet_users")], 0.0)
    n_seg = int(pop.cell_segment.max()) + 1
    tot = np.bincount(pop.cell_segment, w_pop, n_seg)
    online = np.bincount(pop.cell_segment, w_net, n_seg)
    with np.errstate(invalid="ignore", divide="ignore"):
        group = np.where(tot > 0, online / tot, 1.0)
    access0 = np.where(people, group[pop.cell_segment], 1.0)
    total = w_pop.sum()
    return access0, (w_pop / total if total > 0 else w_pop)


def layout(spec: Spec, pop: Population) -> Layout:
    """Precompute the cell structure of ``pop`` that every chunk of a run shares."""
    w_peer = (
        pop.cell_weight[:, METRICS.index("population")] + pop.cell_weight[:, METRICS.index("firms")]
    )
    prov_key = pop.cell_kind.astype(np.intp) * len(pop.provinces) + pop.cell_province
    _, prov_of = np.unique(prov_key, return_inverse=True)
    province, province_ok = _metric_matrix(pop.cell_weight, pop.cell_province, len(pop.provinces))
    sector, sector_ok = _metric_matrix(pop.cell_weight, pop.cell_sector, len(pop.sectors))
    n = pop.n_agents
    national = pop.cell_weight / pop.cell_weight.sum(axis=0)
    access0, person_share = _group_access(pop)
    person_province = _person_province(pop)
    return Layout(
        count=sparse.csr_matrix(
            (np.ones(n, dtype=np.float32), (pop.agent_cell, np.arange(n))),
            shape=(pop.n_cells, n),
        ),
        seg=sparse.csr_matrix(_group_matrix(pop.cell_segment, w_peer).T),
        seg_of=pop.cell_segment,
        prov=sparse.csr_matrix(_group_matrix(prov_of, w_peer).T),
        prov_of=prov_of,
        national=sparse.csr_matrix(national.T),
        agent_national=sparse.csr_matrix(
            (national / pop.cell_n[:, None])[pop.agent_cell].T.astype(np.float32)
        ),
        province=sparse.csr_matrix(np.nan_to_num(province).T),
        province_ok=province_ok,
        sector=sparse.csr_matrix(np.nan_to_num(sector).T),
        sector_ok=sector_ok,
        scope=np.array([scope_mask(lv.scope, pop) for lv in spec.levers], dtype=np.float64),
        programme_scope=np.array(
            [scope_mask(pr.scope, pop) for pr in spec.programmes], dtype=np.float64
        ).reshape(len(spec.programmes), pop.n_cells),
        person_province=person_province,
        person_national=sparse.csr_matrix(person_province.sum(axis=0)),
        access0=access0,
        person_share=person_share,
    )


def _person_province(pop: Population) -> sparse.csr_matrix:
    """(n_provinces, n_agents) persons each person agent stands for, in its province's row."""
    w = pop.agent_weight("population") * (pop.cell_kind[pop.agent_cell] == PEOPLE)
    rows = pop.cell_province[pop.agent_cell]
    return sparse.csr_matrix(
        (w, (rows, np.arange(pop.n_agents))), shape=(len(pop.provinces), pop.n_agents)
    )
