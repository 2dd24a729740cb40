"""Vectorised Monte Carlo core: all draws of a chunk advance together as (agents x draws) arrays.

What drives adoption in each cell and the recipe that turns it into hazards are in
:mod:`sim.drivers`, shared with the Mesa engine; the rules themselves in :mod:`sim.rules`. Hazards
depend on an agent's cell (its attributes) and on adopted shares among its peers, so without a
peer network they are computed per cell, ``(n_cells, n_draws)``, and gathered to agents; only the
adoption decision itself runs per agent. There is no Python loop over agents; the loop is over
months.

Each agent draws, once per run and per technology, a latent rank ``U(0, 1)`` (it is in the market
while the rank is below its ceiling) and a threshold ``E ~ Exp(1)``; it adopts when its integrated
hazard reaches ``E``. This is exactly the per-step Bernoulli rule ``1 - exp(-h dt)`` (see
:func:`sim.rules.accumulate_hazard`) at two random numbers per agent per run. The two
technologies' ranks and thresholds are linked by a Gaussian copula
(:func:`sim.rules.correlated_ranks`), which leaves each marginal exact. A person without own
internet access at the start comes online once its latent online rank falls below the share of its
group's offline that has come online since (:meth:`sim.drivers.CellParams.online_share`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from numpy.typing import NDArray

from sim import drivers, rules
from sim.drivers import CellParams, ChunkResult, Layout, Recorder, lever_responses
from sim.population import Population
from sim.spec import TECHS, Spec
from sim.streams import Decision, decision_rng

#: Streams of each technology's latent rank and threshold, in ``TECHS`` order.
_RANK_STREAMS = (
    (Decision.LATENT_TERMINAL, Decision.THRESHOLD_TERMINAL),
    (Decision.LATENT_AGENT, Decision.THRESHOLD_AGENT),
)


def _draw_ranks(
    seed: int, draws: NDArray[np.int64], n_agents: int, rho: NDArray[np.float64]
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Each agent's latent rank ``U(0, 1)`` and threshold ``Exp(1)`` per technology and draw,
    each (2, n_agents, n_draws), linked across technologies by the draw's correlation ``rho``
    (:func:`sim.rules.correlated_ranks`), and its latent online rank ``U(0, 1)``
    (n_agents, n_draws), all from the draw's own streams."""
    latent = np.empty((2, n_agents, draws.size), dtype=np.float32)
    threshold = np.empty((2, n_agents, draws.size), dtype=np.float32)
    online = np.empty((n_agents, draws.size), dtype=np.float32)
    for i, d in enumerate(draws):
        z = [decision_rng(seed, int(d), lat).standard_normal(n_agents) for lat, _ in _RANK_STREAMS]
        w = [decision_rng(seed, int(d), thr).standard_normal(n_agents) for _, thr in _RANK_STREAMS]
        latent[:, :, i], threshold[:, :, i] = rules.correlated_ranks(z, w, rho[i])
        online[:, i] = decision_rng(seed, int(d), Decision.ONLINE).random(n_agents, np.float32)
    return latent, threshold, online


def _to_agents(x: NDArray, *, cell_n: NDArray[np.intp]) -> NDArray[np.float32]:
    """Cell values (n_cells, n_draws) to agent values (n_agents, n_draws): agents of a cell are
    contiguous rows, so gathering is a row repeat."""
    return np.repeat(np.asarray(x, dtype=np.float32), cell_n, axis=0)


def _start_hazard(
    spec: Spec,
    cp: CellParams,
    reach: dict[str, NDArray],
    latent: NDArray[np.float32],
    threshold: NDArray[np.float32],
    gather: Callable[[NDArray], NDArray[np.float32]],
) -> NDArray[np.float32]:
    """Integrated hazards at the start, (2, n_agents, n_draws): at the threshold for the initial
    adopters (agents whose latent rank is below their cell's starting share), else 0. ``reach``
    is each cell's mean latent-rank ceiling per technology at the start."""
    cum = np.zeros_like(threshold)
    if spec.population.kind != "single_market":
        for k, tech in enumerate(TECHS):
            start = rules.in_market(latent[k], gather(cp.start_share(tech, reach[tech])))
            cum[k] = np.where(start, threshold[k], np.float32(0.0))
    return cum


def _in_market_dt(
    latent: NDArray[np.float32],
    online: NDArray[np.float32],
    ceilings: dict[str, tuple[NDArray, NDArray, NDArray]],
    gather: Callable[[NDArray], NDArray[np.float32]],
    dt: float,
    *,
    out: NDArray[np.float32],
) -> NDArray[np.float32]:
    """``dt`` where an agent is in the market for each technology, else 0, written to ``out``
    (2, n_agents, n_draws): its latent rank is below the ceiling of an online agent when it is
    online (``online`` 1), of an offline agent otherwise."""
    for k, tech in enumerate(TECHS):
        _, on, off = ceilings[tech]
        reach = np.where(online > 0, gather(on), gather(off))
        np.multiply(rules.in_market(latent[k], reach), np.float32(dt), out=out[k])
    return out


def _update_state(
    cum: NDArray[np.float32],
    threshold: NDArray[np.float32],
    *,
    adopted: NDArray[np.float32],
    lay: Layout,
    cell_n: NDArray[np.intp],
) -> NDArray[np.float64]:
    """Adoption from integrated hazards, written to ``adopted`` (2, n_agents, n_draws) as 0/1
    floats; returns adopted shares per cell, (2, n_cells, n_draws)."""
    for k in range(2):
        np.greater_equal(cum[k], threshold[k], out=adopted[k], casting="unsafe")
    return np.stack([lay.count @ adopted[k] for k in range(2)]) / cell_n[:, None]


def _agent_hazard(
    cp: CellParams,
    tech: str,
    pqm: tuple[NDArray, NDArray, NDArray],
    s_cell: NDArray[np.float64],
    adopted: NDArray[np.float32],
    *,
    replacement: NDArray[np.float64],
    recipe: dict,
    gather: Callable[[NDArray], NDArray[np.float32]],
    neighbours: NDArray[np.intp] | None,
    out: NDArray[np.float32],
) -> NDArray[np.floating]:
    """This month's hazard of ``tech`` for every agent, (n_agents, n_draws), by
    :func:`sim.drivers.hazard`: on cell values gathered to agents at the end, or, with a peer
    network, on agent values throughout.

    ``pqm`` is the technology's levered (p, q, m) per cell; ``s_cell`` (2, n_cells, n_draws) and
    ``adopted`` (2, n_agents, n_draws) the adoption state; ``replacement`` the cells' replacement
    hazard (used for terminals); ``out`` receives the complementarity factor.
    """
    k, lay = TECHS.index(tech), cp.lay
    s_seg = (lay.seg @ s_cell[k])[lay.seg_of]
    s_prov = (lay.prov @ s_cell[k])[lay.prov_of]
    repl = replacement if tech == "terminal" else 0.0
    if neighbours is None:
        return drivers.hazard(
            *pqm,
            s_seg,
            s_prov,
            replacement=repl,
            has_terminal=adopted[0],
            gather=gather,
            out=out,
            **recipe,
        )
    s_net = adopted[k][neighbours].mean(axis=1)
    return drivers.hazard(
        *(gather(x) for x in (*pqm, s_seg, s_prov)),
        s_net,
        replacement=gather(repl) if tech == "terminal" else 0.0,
        has_terminal=adopted[0],
        out=out,
        **recipe,
    )


def simulate_chunk(
    spec: Spec,
    pop: Population,
    values: NDArray[np.float64],
    draws: NDArray[np.int64],
    *,
    lay: Layout | None = None,
    neighbours: NDArray[np.intp] | None = None,
) -> ChunkResult:
    """Simulate draws ``draws`` with parameter sets ``values``, shape (n_draws, n_params).

    Draw ``d`` uses only its own streams ``(spec.mc.seed, d, decision)``, so the result of a draw
    is the same whatever chunk it is simulated in. ``neighbours`` (n_agents, degree) is the peer
    network (:func:`sim.engine.network`), read when network influence is on.
    """
    lay = lay if lay is not None else drivers.layout(spec, pop)
    cp = CellParams(spec, pop, lay, values, draws)
    n_d, n_a, dt, t0 = draws.size, pop.n_agents, spec.time.dt, spec.time.t0
    cell_n = pop.cell_n
    gather = partial(_to_agents, cell_n=cell_n)
    recipes = {tech: cp.recipe(tech) for tech in TECHS}
    network = neighbours if spec.rules.w_network > 0.0 else None
    latent, threshold, online_rank = _draw_ranks(spec.mc.seed, draws, n_a, cp.correlation)

    # Adoption state as 0/1 floats per technology, and whether each agent is online.
    adopted = np.zeros((2, n_a, n_d), dtype=np.float32)
    online = np.empty((n_a, n_d), dtype=np.float32)
    resp0 = lever_responses(spec, lay, t0)
    pqm = cp.levered(resp0, cp.shock_state(0, resp0))
    f0 = cp.online_share(t0)
    ceil0 = cp.ceilings(pqm, t0)
    reach0 = {tech: f0 * on + (1.0 - f0) * off for tech, (_, on, off) in ceil0.items()}
    cum = _start_hazard(spec, cp, reach0, latent, threshold, gather)

    update_state = partial(_update_state, cum, threshold, adopted=adopted, lay=lay, cell_n=cell_n)
    recorder = Recorder(spec, pop, lay, n_d)
    s_cell = update_state()
    np.less(online_rank, gather(f0), out=online, casting="unsafe")
    recorder.record(0, adopted, online)
    boost = np.empty((n_a, n_d), dtype=np.float32)
    hazard_of = partial(_agent_hazard, cp, gather=gather, neighbours=network, out=boost)
    active_dt = np.empty((2, n_a, n_d), dtype=np.float32)
    resp_prev, shock_prev = None, None
    for step in range(spec.time.n_steps):
        t = t0 + step * dt
        resp = lever_responses(spec, lay, t)
        shock = cp.shock_state(step, resp)
        if (
            resp_prev is None
            or not np.array_equal(resp, resp_prev)
            or (shock is not None and not shock.same_as(shock_prev))
        ):
            # Lever responses change only when a lagged intensity crosses a year boundary, shock
            # multipliers only when an event starts or ends.
            pqm = cp.levered(resp, shock)
            resp_prev, shock_prev = resp, shock
        # Internet access, and with it the ceilings, moves every month.
        ceilings = cp.ceilings(pqm, t)
        _in_market_dt(latent, online, ceilings, gather, dt, out=active_dt)
        replacement = cp.replacement(t)
        for k, tech in enumerate(TECHS):
            p, q, _ = pqm[tech]
            h_agent = hazard_of(
                tech,
                (p, q, ceilings[tech][0]),
                s_cell,
                adopted,
                replacement=replacement,
                recipe=recipes[tech],
            )
            # active_dt carries dt and the in-market indicator.
            np.multiply(h_agent, active_dt[k], out=h_agent)
            rules.accumulate_hazard(cum[k], h_agent, 1.0, out=cum[k])
        s_cell = update_state()
        np.less(online_rank, gather(cp.online_share(t + dt)), out=online, casting="unsafe")
        recorder.record(step + 1, adopted, online)

    return recorder.result(draws, cp.events())
