"""Adopted shares recorded as a run goes, in the shape :mod:`sim.results` reads.

Both engines fill a :class:`Recorder` (the vectorised core with ``(agents x draws)`` arrays, the
Mesa model with one draw) and hand back its :class:`ChunkResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from sim.spec import METRICS, TECH_COORDS, Spec

if TYPE_CHECKING:
    from sim.drivers import Layout
    from sim.population import Population


@dataclass(frozen=True)
class ChunkResult:
    """Outputs of one chunk of draws.

    Attributes
    ----------
    draws : ndarray of int, shape (n,)
    share : ndarray, shape (n, n_times, 4, 4)
        National adopted share by time, technology (terminal, agent, any, both) and metric.
    share_province : ndarray, shape (n, n_years, 4, 4, n_provinces)
    share_sector : ndarray, shape (n, n_years, 4, 4, n_sectors)
        By province and sector at the end of each report year; NaN where a metric does not count
        any agent of the group (people in sectors). None once dropped by ``mc.keep``.
    """

    draws: NDArray[np.int64]
    share: NDArray[np.float32]
    share_province: NDArray[np.float32] | None
    share_sector: NDArray[np.float32] | None
    #: Shock onsets, shape (n, n_shocks, n_steps); None when no shock can happen.
    events: NDArray[np.bool_] | None = None


class Recorder:
    """Adopted shares recorded as a run goes: nationally every month, and by province and sector
    at the end of each target year. Both engines fill one and hand back its :meth:`result`.

    Technologies are recorded in ``TECH_COORDS`` order: terminal, agent use, ``any`` (either) and
    ``both``. The internet users metric counts the person agents online at the time."""

    def __init__(self, spec: Spec, pop: Population, lay: Layout, n_draws: int) -> None:
        self.lay = lay
        years = sorted({t.year for t in spec.targets})
        self.year_step = {spec.time.step_of_year_end(y): j for j, y in enumerate(years)}
        self.n_p, self.n_s, self.n_m = len(pop.provinces), len(pop.sectors), len(METRICS)
        n_d, n_p, n_s, n_m, n_t = n_draws, self.n_p, self.n_s, self.n_m, len(TECH_COORDS)
        self.cell_n = pop.cell_n
        self.share = np.empty((n_d, spec.time.n_steps + 1, n_t, n_m), dtype=np.float32)
        self.share_prov = np.full((n_d, len(years), n_t, n_m, n_p), np.nan, dtype=np.float32)
        self.share_sect = np.full((n_d, len(years), n_t, n_m, n_s), np.nan, dtype=np.float32)
        self.prov_ok = lay.province_ok.reshape(n_m, n_p, 1)
        self.sect_ok = lay.sector_ok.reshape(n_m, n_s, 1)
        self._i_net = METRICS.index("internet_users")
        # Persons each person agent of a cell stands for (alike within a cell), by province and
        # nationally: the internet users metric from counts of online agents per cell.
        w = np.zeros(pop.n_cells)
        w[pop.agent_cell] = np.asarray(lay.person_national.todense()).ravel()
        # Only person cells count: their online counts alone are converted and multiplied.
        self._persons = np.flatnonzero(w)
        w = w[self._persons]
        self._person_province = sparse.csr_matrix(
            (w, (pop.cell_province[self._persons], np.arange(w.size))), shape=(n_p, w.size)
        )
        self._person_national = sparse.csr_matrix(w[None, :])

    def record(self, step: int, adopted: NDArray, online: NDArray | None = None) -> None:
        """Store national shares (and by province and sector at target-year ends).

        Parameters
        ----------
        step : int
            Index of the state: 0 the start, ``i`` the end of the i-th simulated month.
        adopted : ndarray of {0, 1}, shape (2, n_agents, n_draws), float32
            Whether each agent has adopted each technology.
        online : ndarray of {0, 1}, shape (n_agents, n_draws), float32, optional
            Whether each agent is online now (internet users metric); the start's access
            when None.
        """
        count = self.lay.count
        x = (adopted[0], adopted[1], np.maximum(adopted[0], adopted[1]), adopted[0] * adopted[1])
        counts = [count @ xk for xk in x]
        if online is not None:
            counts += [count @ online, *(count @ (xk * online) for xk in x)]
        self.tally(step, np.stack(counts, axis=1))

    def tally(self, step: int, counts: NDArray) -> NDArray[np.float64]:
        """Store national shares (and by province and sector at target-year ends) from counts of
        agents per cell.

        Parameters
        ----------
        step : int
            As in :meth:`record`.
        counts : ndarray, shape (n_cells, 4, n_draws) or (n_cells, 9, n_draws)
            Agents per cell that have adopted each of ``TECH_COORDS`` (terminal, agent, any,
            both); with 9 rows, then those online and those online among each of the four (the
            internet users metric), else that metric counts the start's access.

        Returns
        -------
        ndarray, shape (n_cells, 4, n_draws)
            The adopted shares per cell of ``TECH_COORDS`` (what the month's hazards read).
        """
        lay, n_m, n_p, n_s = self.lay, self.n_m, self.n_p, self.n_s
        n_c, n_rows, n_d = counts.shape
        shares = counts[:, :4] / self.cell_n[:, None, None]
        # Each sparse product takes every row and draw at once, as columns of one operand: one
        # pass over the weights per product.
        s4 = shares.reshape(n_c, 4 * n_d)
        self.share[:, step] = (lay.national @ s4).reshape(n_m, 4, n_d).transpose(2, 1, 0)
        dynamic = n_rows == 9 and lay.has_people
        if dynamic:
            # Rows 4-8: online, and online among each technology.
            c = counts[self._persons, 4:].astype(np.float64).reshape(-1, 5 * n_d)
            person = (self._person_national @ c).reshape(5, n_d)
            self.share[:, step, :, self._i_net] = (person[1:] / person[0]).T
        if step in self.year_step:
            j = self.year_step[step]
            prov = (lay.province @ s4).reshape(n_m, n_p, 4, n_d).transpose(2, 0, 1, 3)
            sect = (lay.sector @ s4).reshape(n_m, n_s, 4, n_d).transpose(2, 0, 1, 3)
            prov = np.where(self.prov_ok, prov, np.nan)
            if dynamic:
                person = (self._person_province @ c).reshape(n_p, 5, n_d)
                total, net = person[:, 0], person[:, 1:].transpose(1, 0, 2)
                with np.errstate(invalid="ignore", divide="ignore"):
                    prov[:, self._i_net] = np.where(total > 0, net / total, np.nan)
            self.share_prov[:, j] = prov.transpose(3, 0, 1, 2)
            self.share_sect[:, j] = np.where(self.sect_ok, sect, np.nan).transpose(3, 0, 1, 2)
        return shares

    def result(self, draws: NDArray, events: NDArray[np.bool_] | None = None) -> ChunkResult:
        return ChunkResult(
            np.asarray(draws, dtype=np.int64),
            self.share,
            self.share_prov,
            self.share_sect,
            events,
        )
