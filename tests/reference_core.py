"""The vectorised core's month step as numpy ran it before the compiled step (up to commit
48838a1): whole (agents x draws) arrays, one pass per operation. Kept only as the oracle the
compiled step (:mod:`sim.engine.kernel`) is checked against; it calls the same rules and the
same recipe (:func:`sim.drivers.hazard`), so it restates no formula."""

from __future__ import annotations

import numpy as np

from sim import drivers, rules
from sim.engine import core
from sim.spec import TECHS


def simulate_chunk(spec, pop, values, draws, *, lay=None, neighbours=None):
    """Same signature and output as :func:`sim.engine.core.simulate_chunk`."""
    lay = lay if lay is not None else drivers.layout(spec, pop)
    cp = drivers.CellParams(spec, pop, lay, values, draws)
    n_d, dt, t0 = draws.size, spec.time.dt, spec.time.t0

    def gather(x):
        return np.repeat(np.broadcast_to(x, (pop.n_cells, n_d)), pop.cell_n, axis=0)

    network = neighbours if spec.rules.w_network > 0.0 else None
    latent, threshold, online_rank = core._draw_ranks(
        spec.mc.seed, draws, pop.n_agents, cp.correlation
    )
    resp0 = drivers.lever_responses(spec, lay, t0)
    pqm = cp.levered(resp0, cp.shock_state(0, resp0))
    f0 = cp.online_share(t0)
    ceil0 = cp.ceilings(pqm, t0)
    reach0 = {tech: f0 * on + (1.0 - f0) * off for tech, (_, on, off) in ceil0.items()}
    cum = core._start_hazard(spec, cp, reach0, latent, threshold)
    recorder = drivers.Recorder(spec, pop, lay, n_d)
    adopted = rules.has_adopted(cum, threshold).astype(np.float32)
    online = (online_rank < gather(f0)).astype(np.float32)
    recorder.record(0, adopted, online)
    for step in range(spec.time.n_steps):
        t = t0 + step * dt
        resp = drivers.lever_responses(spec, lay, t)
        pqm = cp.levered(resp, cp.shock_state(step, resp))
        ceilings = cp.ceilings(pqm, t)
        s_cell = np.stack([lay.count @ adopted[k] for k in range(2)]) / pop.cell_n[:, None]
        for k, tech in enumerate(TECHS):
            p, q, _ = pqm[tech]
            m, on, off = ceilings[tech]
            recipe = cp.recipe(tech)
            s_net = 0.0 if network is None else adopted[k][network].mean(axis=1)
            h = drivers.hazard(
                gather(p),
                gather(q),
                gather(m),
                gather((lay.seg @ s_cell[k])[lay.seg_of]),
                gather((lay.prov @ s_cell[k])[lay.prov_of]),
                s_net,
                replacement=gather(cp.replacement(t)) if tech == "terminal" else 0.0,
                has_terminal=adopted[0],
                **recipe,
            )
            active = rules.in_market(latent[k], np.where(online > 0, gather(on), gather(off)))
            cum[k] = rules.accumulate_hazard(cum[k], h, dt, active)
        adopted = rules.has_adopted(cum, threshold).astype(np.float32)
        online = (online_rank < gather(cp.online_share(t + dt))).astype(np.float32)
        recorder.record(step + 1, adopted, online)
    return recorder.result(draws, cp.events())
