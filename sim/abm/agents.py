"""Firm and person agents: each decides, month by month, whether to adopt each technology.

An agent holds, per technology (``sim.spec.TECHS`` order: terminal, agent use), a latent rank
``U(0, 1)`` (it is in the market while the rank is below its ceiling), an ``Exp(1)`` threshold and
its integrated hazard, the two technologies' ranks and thresholds linked by the Gaussian copula
both engines use (:func:`sim.rules.correlated_ranks`), and a latent online rank (a person without
own internet access comes online once it falls below its group's new access), all drawn from the
model's generator when it is created. Its
:meth:`Adopter.step` adds the month's hazard, computed by the recipe both engines follow
(:func:`sim.drivers.hazard`) from the drivers the model posts for its population cell;
:meth:`Adopter.advance` then commits the decision, so every agent of a month decides on the same
state whatever the activation order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import Cell, FixedAgent

from sim import drivers, rules
from sim.population import PERSON_GROUPS, SIZE_CLASSES

if TYPE_CHECKING:
    from sim.abm.model import AdoptionModel

TERMINAL, AGENT = 0, 1


class Adopter(FixedAgent):
    """A firm or a person of the synthetic population, placed in its province x segment.

    Parameters
    ----------
    model : AdoptionModel
    place : mesa.discrete_space.Cell
        Its cell of the model's ``places`` grid (province x segment).
    index : int
        Its row in the population's agent arrays.
    stratum : int
        Its population cell (the attribute combination the rules treat alike).
    start : ndarray, shape (2,)
        Share of its population cell that has adopted each technology at the start.

    Attributes
    ----------
    province, region : str
    weight : ndarray, shape (4,)
        Real persons, internet users, firms and firm employees it stands for
        (``sim.spec.METRICS`` order).
    latent, threshold, cum_hazard : ndarray, shape (2,)
    online_rank : float
        Latent online rank ``U(0, 1)``: online while below its cell's online share.
    adopted : ndarray of bool, shape (2,)
        Adoption state at the start of the current month.
    peers : tuple of Adopter
        Network neighbours, with multiplicity (empty without a network).
    """

    def __init__(
        self,
        model: AdoptionModel,
        place: Cell,
        *,
        index: int,
        stratum: int,
        start: np.ndarray,
    ) -> None:
        super().__init__(model)
        self.cell = place
        pop = model.pop
        self.index, self.stratum = index, stratum
        prov = pop.cell_province[stratum]
        self.province, self.region = str(pop.provinces[prov]), str(pop.regions[prov])
        self.weight = pop.cell_weight[stratum] / pop.cell_n[stratum]
        z, w = model.rng.standard_normal(2), model.rng.standard_normal(2)
        self.latent, self.threshold = rules.correlated_ranks(z, w, model.correlation)
        self.online_rank = model.rng.random()
        self.cum_hazard = np.where(rules.in_market(self.latent, start), self.threshold, 0.0)
        self.adopted = rules.has_adopted(self.cum_hazard, self.threshold)
        self.peers: tuple[Adopter, ...] = ()

    def network_share(self, k: int) -> float:
        """Adopted share of technology ``k`` among its network neighbours."""
        if not self.peers:
            return 0.0
        return sum(peer.adopted[k] for peer in self.peers) / len(self.peers)

    @property
    def online(self) -> bool:
        """Whether it has internet access this month (always, for firms)."""
        return bool(self.online_rank < self.model.online_share[self.stratum])

    def step(self) -> None:
        """Add this month's integrated hazard of each technology it has not adopted yet."""
        model, c = self.model, self.stratum
        reach = model.reach_online if self.online else model.reach_offline
        for k in (TERMINAL, AGENT):
            if self.adopted[k] or not rules.in_market(self.latent[k], reach[k][c]):
                continue
            hazard = drivers.hazard(
                model.p[k][c],
                model.q[k][c],
                model.ceiling[k][c],
                model.segment_share[k][c],
                model.province_share[k][c],
                self.network_share(k),
                replacement=model.replacement[c] if k == TERMINAL else 0.0,
                has_terminal=self.adopted[TERMINAL],
                **model.recipe[k],
            )
            self.cum_hazard[k] = rules.accumulate_hazard(self.cum_hazard[k], hazard, model.dt)

    def advance(self) -> None:
        """Commit this month's decisions."""
        self.adopted = rules.has_adopted(self.cum_hazard, self.threshold)


class Person(Adopter):
    """A person: urban or rural, under or over 60, with or without own internet access at the
    start (``internet``; :attr:`online` follows access over time)."""

    def __init__(self, model: AdoptionModel, place: Cell, **kwargs) -> None:
        super().__init__(model, place, **kwargs)
        pop, c = model.pop, self.stratum
        self.group = PERSON_GROUPS[pop.cell_segment[c]]
        self.urban, self.aged_60plus = bool(pop.cell_urban[c]), bool(pop.cell_age60[c])
        self.internet = bool(pop.cell_internet[c])


class Firm(Adopter):
    """A firm: sector (and the opinion's key area it belongs to) and size class."""

    def __init__(self, model: AdoptionModel, place: Cell, **kwargs) -> None:
        super().__init__(model, place, **kwargs)
        pop, c = model.pop, self.stratum
        self.sector = str(pop.sectors[pop.cell_sector[c]])
        self.key_area = str(pop.key_areas[pop.cell_sector[c]])
        size = pop.cell_size[c]
        self.size_class = SIZE_CLASSES[size] if size >= 0 else None
