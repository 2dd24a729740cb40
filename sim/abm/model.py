"""The Mesa model: firm and person agents of the synthetic population deciding month by month.

The model owns the agents, the random generator and the clock, and posts what every agent needs
for its decision: the month's Bass parameters and ceiling of each population cell (with lever
effects), the adopted shares of each segment and province (peer influence), the replacement
hazard of each cell's device owners. These come from the same drivers as the vectorised core
(:class:`sim.drivers.CellParams`), and the agents (:mod:`sim.abm.agents`) turn them into hazards
by the same recipe (:func:`sim.drivers.hazard`).
"""

from __future__ import annotations

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Network, OrthogonalMooreGrid
from numpy.typing import ArrayLike, NDArray

from sim import drivers
from sim.abm.agents import Adopter, Firm, Person
from sim.population import FIRMS, Population
from sim.spec import TECHS, Spec
from sim.streams import draw_seed


class AdoptionModel(mesa.Model):
    """Adoption of smart terminals and AI agents by the agents of one draw.

    Parameters
    ----------
    spec : Spec
    pop : Population
        The synthetic population (``sim.population.build``); one agent per row.
    params : array_like, shape (n_params,)
        The draw's parameter set, in ``spec.param_names`` order.
    draw : int
        The draw's index: its shocks come from its own streams, as in the core.
    lay : optional
        The population's cell structure (:func:`sim.drivers.layout`), shared between draws.
    neighbours : ndarray of int, shape (n_agents, degree), optional
        Peer network (:func:`sim.engine.network`); required when network influence is on.
    rng : numpy.random.Generator or seed, optional
        The model's generator: agents draw their latent ranks and thresholds from it.

    Attributes
    ----------
    places : mesa.discrete_space.OrthogonalMooreGrid
        One cell per province x segment (person group or sector), holding its agents.
    network : mesa.discrete_space.Network or None
        The peer network, node ``i`` holding agent ``i`` (None when network influence is off).
    adopters : tuple of Adopter
        The agents in population order.
    month : int
        Months simulated so far.
    cell_share : ndarray, shape (4, n_cells)
        Adopted share of each technology (terminal, agent, any, both) in each population cell,
        now.
    correlation : float
        The draw's correlation of an agent's propensities for the two technologies.
    online_share : ndarray, shape (n_cells,)
        Share of each cell's agents online this month (:meth:`sim.drivers.CellParams.online_share`).
    recorder : sim.drivers.Recorder
        National shares by month (province and sector at target-year ends), in the results schema.
    """

    def __init__(
        self,
        spec: Spec,
        pop: Population,
        params: ArrayLike,
        *,
        draw: int = 0,
        lay: drivers.Layout | None = None,
        neighbours: NDArray[np.intp] | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__(rng=rng)
        self.spec, self.pop = spec, pop
        self.lay = lay if lay is not None else drivers.layout(spec, pop)
        self.drivers = drivers.CellParams(
            spec, pop, self.lay, np.asarray(params)[None, :], np.array([draw])
        )
        #: Keyword settings of :func:`sim.drivers.hazard` per technology, as scalars.
        self.recipe = [_scalars(self.drivers.recipe(tech)) for tech in TECHS]
        self.dt = spec.time.dt
        self.correlation = float(self.drivers.correlation[0])
        self.month = 0
        self._resp = self._shock = None
        self._post_drivers()
        self.places = OrthogonalMooreGrid(
            (len(pop.provinces), len(pop.segments)), capacity=None, random=self.random
        )
        start = np.zeros((pop.n_cells, 2))
        if spec.population.kind != "single_market":
            f = self.online_share[:, None]
            for k, tech in enumerate(TECHS):
                reach = f * self.reach_online[k][:, None] + (1 - f) * self.reach_offline[k][:, None]
                start[:, k] = self.drivers.start_share(tech, reach)[:, 0]
        self.adopters = tuple(
            (Firm if pop.cell_kind[c] == FIRMS else Person)(
                self,
                self.places[(int(pop.cell_province[c]), int(pop.cell_segment[c]))],
                index=i,
                stratum=int(c),
                start=start[c],
            )
            for i, c in enumerate(pop.agent_cell)
        )
        self.network = None
        if spec.rules.w_network > 0.0:
            self.network = self._place_on_network(neighbours)
        self.recorder = drivers.Recorder(spec, pop, self.lay, 1)
        self._observe()

    def step(self) -> None:
        """Advance one month: every agent decides on the same state, then the model observes."""
        self.agents.shuffle_do("step")
        self.agents.do("advance")
        self.month += 1
        self._observe()

    def _place_on_network(self, neighbours: NDArray[np.intp] | None) -> Network:
        if neighbours is None:
            raise ValueError("network influence is on: pass neighbours=sim.engine.network(...)")
        graph = nx.MultiDiGraph()
        graph.add_nodes_from(range(len(self.adopters)))
        graph.add_edges_from(
            (i, int(j)) for i, row in enumerate(np.asarray(neighbours)) for j in row
        )
        network = Network(graph, capacity=1, random=self.random, layout=None)
        for i, agent in enumerate(self.adopters):
            network[i].add_agent(agent)
        for i, agent in enumerate(self.adopters):
            agent.peers = tuple(network[j].agents[0] for _, j in graph.out_edges(i))
        return network

    def _post_drivers(self) -> None:
        """Cell-level Bass parameters, ceilings (in the hazard, and of online and offline
        agents), online shares and replacement hazard of the coming month, under the levers and
        shocks in force."""
        t = self.spec.time.t0 + self.month * self.dt
        resp = self.drivers.responses(t)
        shock = self.drivers.shock_state(self.month, resp)
        if (
            self._resp is None
            or not np.array_equal(resp, self._resp)
            or (shock is not None and not shock.same_as(self._shock))
        ):
            self._pqm = self.drivers.levered(resp, shock)
            self.p, self.q = ([self._pqm[tech][j][:, 0] for tech in TECHS] for j in range(2))
            self._resp, self._shock = resp, shock
        ceilings = self.drivers.ceilings(self._pqm, t)
        self.ceiling, self.reach_online, self.reach_offline = (
            [ceilings[tech][j][:, 0] for tech in TECHS] for j in range(3)
        )
        self.online_share = self.drivers.online_share(t)[:, 0]
        self.replacement = self.drivers.replacement(t)[:, 0]

    def _observe(self) -> None:
        """Post the coming month's drivers; adopted shares by cell, segment and province, and
        record them with who is online now."""
        if self.month < self.spec.time.n_steps:
            self._post_drivers()
        else:
            self.online_share = self.drivers.online_share(self.spec.time.t0 + self.month * self.dt)
            self.online_share = self.online_share[:, 0]
        lay = self.lay
        adopted = np.array([a.adopted for a in self.adopters], dtype=np.float32).T[:, :, None]
        online = np.array([a.online for a in self.adopters], dtype=np.float32)[:, None]
        s_cell = np.stack([lay.count @ adopted[k] for k in range(2)]) / self.pop.cell_n[:, None]
        s_any = (lay.count @ adopted.max(axis=0))[:, 0] / self.pop.cell_n
        s_both = (lay.count @ adopted.min(axis=0))[:, 0] / self.pop.cell_n
        self.cell_share = np.vstack([s_cell[:, :, 0], s_any, s_both])
        self.segment_share = [(lay.seg @ s_cell[k])[lay.seg_of, 0] for k in range(2)]
        self.province_share = [(lay.prov @ s_cell[k])[lay.prov_of, 0] for k in range(2)]
        self.recorder.record(self.month, adopted, online)


def _scalars(recipe: dict) -> dict:
    """A draw's keyword settings of :func:`sim.drivers.hazard` with its (1, 1) rows as floats."""
    out = dict(recipe, rule_kwargs={k: v.item() for k, v in recipe["rule_kwargs"].items()})
    if out["strength"] is not None:
        out["strength"] = out["strength"].item()
    return out


def model_rng(seed: int, draw: int) -> np.random.Generator:
    """The generator an :class:`AdoptionModel` of draw ``draw`` owns: the draw's own stream."""
    return np.random.default_rng(draw_seed(seed, draw))


def simulate_chunk(
    spec: Spec,
    pop: Population,
    values: NDArray[np.float64],
    draws: NDArray[np.int64],
    *,
    lay: drivers.Layout | None = None,
    neighbours: NDArray[np.intp] | None = None,
) -> drivers.ChunkResult:
    """Run draws ``draws`` (parameter sets ``values``, shape (n_draws, n_params)) through the
    Mesa model, one model per draw; same signature and output as
    :func:`sim.engine.core.simulate_chunk`."""
    lay = lay if lay is not None else drivers.layout(spec, pop)
    models = []
    for i, d in enumerate(np.asarray(draws)):
        model = AdoptionModel(
            spec,
            pop,
            values[i],
            draw=int(d),
            lay=lay,
            neighbours=neighbours,
            rng=model_rng(spec.mc.seed, d),
        )
        for _ in range(spec.time.n_steps):
            model.step()
        models.append(model)
    events = [m.drivers.events() for m in models]
    return drivers.ChunkResult(
        np.asarray(draws, dtype=np.int64),
        *(
            np.concatenate([getattr(m.recorder, a) for m in models])
            for a in ("share", "share_prov", "share_sect")
        ),
        events=None if events[0] is None else np.concatenate(events),
    )


__all__ = ["Adopter", "AdoptionModel", "model_rng", "simulate_chunk"]
