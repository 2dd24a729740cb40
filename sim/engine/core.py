"""Vectorised Monte Carlo core: all draws of a chunk advance together, month by month.

What drives adoption in each cell and the recipe that turns it into hazards are in
:mod:`sim.drivers`, shared with the Mesa engine; the rules themselves in :mod:`sim.rules`. Hazards
depend on an agent's cell (its attributes) and on adopted shares among its peers, so without a
peer network they are computed per cell, ``(n_cells, n_draws)``, with numpy; the agents' part of
the month (complementarity, who is in the market, the decision, counting) runs in one compiled
pass over agents and draws (:func:`sim.engine.kernel.month`). The loop here is over months.

Each agent draws, once per run and per technology, a latent rank ``U(0, 1)`` (it is in the market
while the rank is below its ceiling) and a threshold ``E ~ Exp(1)``; it adopts when its integrated
hazard reaches ``E``. This is exactly the per-step Bernoulli rule ``1 - exp(-h dt)`` (see
:func:`sim.rules.accumulate_hazard`) at two random numbers per agent per run. The two
technologies' ranks and thresholds are linked by a Gaussian copula
(:func:`sim.rules.copula_ranks`), which leaves each marginal exact; they are drawn in one
compiled pass (:func:`sim.engine.kernel.ranks`). A person without own
internet access at the start comes online once its latent online rank falls below the share of its
group's offline that has come online since (:meth:`sim.drivers.CellParams.online_share`).

Agent state is held as ``(2, n_agents, n_draws)`` float32 arrays: an agent's draws are
contiguous, the innermost loop of the compiled step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim import drivers, rules
from sim.drivers import CellParams, ChunkResult, Layout, Recorder, lever_responses
from sim.engine import kernel
from sim.population import Population
from sim.spec import TECHS, Spec
from sim.streams import Decision, decision_rng

#: Streams of the normals of the latent ranks (terminal, agent use), then the thresholds.
_RANK_STREAMS = (
    Decision.LATENT_TERMINAL,
    Decision.LATENT_AGENT,
    Decision.THRESHOLD_TERMINAL,
    Decision.THRESHOLD_AGENT,
)


def _draw_ranks(
    seed: int, draws: NDArray[np.int64], n_agents: int, rho: NDArray[np.float64]
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Each agent's latent rank ``U(0, 1)`` and threshold ``Exp(1)`` per technology and draw,
    each (2, n_agents, n_draws), linked across technologies by the draw's correlation ``rho``
    (:func:`sim.rules.copula_ranks`), and its latent online rank ``U(0, 1)``
    (n_agents, n_draws), all from the draw's own streams."""
    normals = np.empty((draws.size, 4, n_agents))
    uniforms = np.empty((draws.size, n_agents), dtype=np.float32)
    for i, d in enumerate(draws):
        for j, decision in enumerate(_RANK_STREAMS):
            decision_rng(seed, int(d), decision).standard_normal(out=normals[i, j])
        decision_rng(seed, int(d), Decision.ONLINE).random(dtype=np.float32, out=uniforms[i])
    latent = np.empty((2, n_agents, draws.size), dtype=np.float32)
    threshold = np.empty((2, n_agents, draws.size), dtype=np.float32)
    online = np.empty((n_agents, draws.size), dtype=np.float32)
    kernel.ranks(normals, uniforms, np.asarray(rho, dtype=np.float64), latent, threshold, online)
    return latent, threshold, online


def _f32(x: NDArray, shape: tuple[int, ...]) -> NDArray[np.float32]:
    """``x`` broadcast to ``shape`` as a contiguous float32 array, as the compiled step reads
    it."""
    return np.ascontiguousarray(np.broadcast_to(x, shape), dtype=np.float32)


def _start_hazard(
    spec: Spec,
    cp: CellParams,
    reach: dict[str, NDArray],
    latent: NDArray[np.float32],
    threshold: NDArray[np.float32],
) -> NDArray[np.float32]:
    """Integrated hazards at the start, (2, n_agents, n_draws): at the threshold for the initial
    adopters (agents whose latent rank is below their cell's starting share), else 0. ``reach``
    is each cell's mean latent-rank ceiling per technology at the start."""
    cum = np.zeros_like(threshold)
    if spec.population.kind != "single_market":
        cell_n = cp.pop.cell_n
        for k, tech in enumerate(TECHS):
            share = np.repeat(cp.start_share(tech, reach[tech]).astype(np.float32), cell_n, axis=0)
            cum[k] = np.where(rules.in_market(latent[k], share), threshold[k], 0.0)
    return cum


def _hazards(
    cp: CellParams,
    pqm: dict[str, tuple[NDArray, NDArray, NDArray]],
    s_cell: NDArray[np.float64],
    *,
    replacement: NDArray[np.float64],
    network: tuple[NDArray[np.intp], NDArray[np.bool_]] | None,
) -> NDArray[np.float32]:
    """This month's hazard of each technology before complementarity, by
    :func:`sim.drivers.cell_hazard`: per cell, (2, n_cells, n_draws), or, with a peer network,
    per agent, (2, n_agents, n_draws).

    ``pqm`` is each technology's levered (p, q) and ceiling in the hazard per cell; ``s_cell``
    (n_cells, 2, n_draws) the adopted shares per cell; ``replacement`` the cells' replacement
    hazard (used for terminals); ``network`` the neighbours (n_agents, degree) and who has
    adopted, (2, n_agents, n_draws).
    """
    lay, pop, n_d = cp.lay, cp.pop, cp.n_draws
    n_rows = pop.n_cells if network is None else pop.n_agents
    out = np.empty((2, n_rows, n_d), dtype=np.float32)
    # Shares of both technologies by segment and by province: one sparse product each, of one
    # contiguous copy (a sparse product would copy a strided operand for itself).
    flat = np.ascontiguousarray(s_cell).reshape(pop.n_cells, 2 * n_d)
    by_seg = (lay.seg @ flat).reshape(-1, 2, n_d)[lay.seg_of]
    by_prov = (lay.prov @ flat).reshape(-1, 2, n_d)[lay.prov_of]
    for k, tech in enumerate(TECHS):
        r = cp.recipe(tech)
        kw = {"rule": r["rule"], "rule_kwargs": r["rule_kwargs"], "weights": r["weights"]}
        repl = replacement if tech == "terminal" else 0.0
        s_seg, s_prov = by_seg[:, k], by_prov[:, k]
        if network is None:
            out[k] = drivers.cell_hazard(*pqm[tech], s_seg, s_prov, replacement=repl, **kw)
            continue
        neighbours, adopted = network
        s_net = adopted[k][neighbours].mean(axis=1)
        per_cell = (*pqm[tech], s_seg, s_prov, np.broadcast_to(repl, (pop.n_cells, n_d)))
        *args, repl = (np.repeat(x, pop.cell_n, axis=0) for x in per_cell)
        out[k] = drivers.cell_hazard(*args, s_net, replacement=repl, **kw)
    return out


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
    n_d, n_a, n_c, dt, t0 = draws.size, pop.n_agents, pop.n_cells, spec.time.dt, spec.time.t0
    cells = (n_c, n_d)
    # Agents of a cell are contiguous rows: cell c holds agents start[c]:start[c + 1].
    start = np.concatenate([[0], np.cumsum(pop.cell_n)]).astype(np.intp)
    network = neighbours if spec.rules.w_network > 0.0 else None
    strength = _f32(0.0 if cp.strength is None else cp.strength[0], (n_d,))
    latent, threshold, online_rank = _draw_ranks(spec.mc.seed, draws, n_a, cp.correlation)

    resp0 = lever_responses(spec, lay, t0)
    pqm = cp.levered(resp0, cp.shock_state(0, resp0))
    f0 = cp.online_share(t0)
    ceil0 = cp.ceilings(pqm, t0)
    reach0 = {tech: f0 * on + (1.0 - f0) * off for tech, (_, on, off) in ceil0.items()}
    cum = _start_hazard(spec, cp, reach0, latent, threshold)

    month = kernel.month_for(n_a, n_d)
    recorder = Recorder(spec, pop, lay, n_d)
    counts = np.empty((n_c, kernel.N_COUNTS, n_d), dtype=np.int32)
    # Latent-rank ceilings of an online and an offline agent, per technology, as the step reads
    # them.
    reach = np.empty((2, 2, *cells), dtype=np.float32)
    online_next = _f32(f0, cells)
    # The starting state, counted by a month of zero length.
    nothing = np.zeros((2, *cells), dtype=np.float32)
    month(nothing, False, strength, nothing, nothing, online_next, online_next, start,
          latent, threshold, online_rank, 0.0, cum, counts)  # fmt: skip
    shares = recorder.tally(0, counts)
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
        hazard = _hazards(
            cp,
            {tech: (p, q, ceilings[tech][0]) for tech, (p, q, _) in pqm.items()},
            shares[:, :2],
            replacement=cp.replacement(t),
            network=None if network is None else (network, rules.has_adopted(cum, threshold)),
        )
        online_now, online_next = online_next, _f32(cp.online_share(t + dt), cells)
        for k, tech in enumerate(TECHS):
            reach[0, k], reach[1, k] = ceilings[tech][1:]
        month(
            hazard,
            network is not None,
            strength,
            reach[0],
            reach[1],
            online_now,
            online_next,
            start,
            latent,
            threshold,
            online_rank,
            dt,
            cum,
            counts,
        )
        shares = recorder.tally(step + 1, counts)

    return recorder.result(draws, cp.events())
