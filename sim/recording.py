"""Adopted shares recorded as a run goes, in the shape :mod:`sim.results` reads.

Both engines fill a :class:`Recorder` (the vectorised core with ``(agents x draws)`` arrays, the
Mesa model with one draw) and hand back its :class:`ChunkResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

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
        lay, n_m, n_p, n_s = self.lay, self.n_m, self.n_p, self.n_s
        n_d = adopted.shape[2]
        x = (adopted[0], adopted[1], np.maximum(adopted[0], adopted[1]), adopted[0] * adopted[1])
        self.share[:, step] = np.stack([lay.agent_national @ xk for xk in x]).transpose(2, 0, 1)
        dynamic = online is not None and lay.has_people
        if dynamic:
            online_x = [xk * online for xk in x]
            national = np.stack([lay.person_national @ ox for ox in online_x])[:, 0]
            self.share[:, step, :, self._i_net] = (national / (lay.person_national @ online)).T
        if step in self.year_step:
            j = self.year_step[step]
            s4 = [lay.count @ xk / self.cell_n[:, None] for xk in x]
            prov = np.stack([lay.province @ s for s in s4]).reshape(4, n_m, n_p, n_d)
            sect = np.stack([lay.sector @ s for s in s4]).reshape(4, n_m, n_s, n_d)
            prov = np.where(self.prov_ok, prov, np.nan)
            if dynamic:
                count = lay.person_province @ online
                net = np.stack([lay.person_province @ ox for ox in online_x])
                with np.errstate(invalid="ignore", divide="ignore"):
                    prov[:, self._i_net] = np.where(count > 0, net / count, np.nan)
            self.share_prov[:, j] = prov.transpose(3, 0, 1, 2)
            self.share_sect[:, j] = np.where(self.sect_ok, sect, np.nan).transpose(3, 0, 1, 2)

    def result(self, draws: NDArray, events: NDArray[np.bool_] | None = None) -> ChunkResult:
        return ChunkResult(
            np.asarray(draws, dtype=np.int64),
            self.share,
            self.share_prov,
            self.share_sect,
            events,
        )
