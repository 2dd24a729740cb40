"""The core's month step, compiled: every agent of every draw of a chunk in one pass.

Per cell, agent and draw, in a fixed order: read the cell's hazard terms, apply the per-adopter part
of the recipe (:func:`sim.drivers.agent_hazard`: complementarity), add the month's integrated
hazard where the agent is in the market (:func:`sim.rules.in_market`,
:func:`sim.rules.accumulate_hazard`), decide (:func:`sim.rules.has_adopted`) and count the
agent in its cell. The rules are the functions of :mod:`sim.rules` and :mod:`sim.drivers`
themselves, compiled by numba (:func:`sim.rules.compiled.jitable`); nothing here restates a
formula. There are no (agents x draws) temporaries: the state arrays are updated in place and
the output is counts per cell.

Cells run in parallel (``prange``) in chunks large enough to pay for it (:func:`month_for`);
each cell, with all its draws, is computed by one thread, agents in order, and counts are
integers, so results are bit for bit the same whatever the number of threads, and whatever the
chunk: every draw's lanes see the same operations.
Compiled code is cached on disk (``cache=True``): a run pays compilation once per machine. The step
releases the GIL (``nogil``), so chunks on several threads of one process
(:class:`sim.engine.backends.Serial`) run it at once.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
from numba import prange
from numpy.typing import NDArray

from sim import rules
from sim.drivers import agent_hazard
from sim.rules import compiled

#: Rows of the counts per cell: adopted terminal, agent use, either (``any``), both; online; and
#: online among each of the four (``TECH_COORDS`` order, as :meth:`sim.drivers.Recorder.tally`
#: reads them).
N_COUNTS = 9


def _month(
    hazard: NDArray[np.float32],
    per_agent: bool,
    strength: NDArray[np.float32],
    reach_online: NDArray[np.float32],
    reach_offline: NDArray[np.float32],
    online_now: NDArray[np.float32],
    online_next: NDArray[np.float32],
    start: NDArray[np.intp],
    latent: NDArray[np.float32],
    threshold: NDArray[np.float32],
    online_rank: NDArray[np.float32],
    dt: float,
    cum: NDArray[np.float32],
    counts: NDArray[np.int32],
) -> None:
    """Advance every agent of every draw one month; count the new state per cell.

    Compiled twice, as :func:`month` (cells on numba's threads) and :func:`month_serial`.
    Within a cell, whose agents are contiguous (``start[c]`` to ``start[c + 1]``), each agent's
    draws are the innermost loop: the cell's terms and the
    agent's state are contiguous rows over draws, and nothing branches on an agent's state, so
    the compiler runs that loop on SIMD lanes.

    Parameters
    ----------
    hazard : ndarray, shape (2, n_cells, n_draws) or (2, n_agents, n_draws), float32
        Each technology's hazard before complementarity (:func:`sim.drivers.cell_hazard`),
        1/year, per cell or, with a peer network (``per_agent``), per agent.
    per_agent : bool
        Whether ``hazard`` is per agent.
    strength : ndarray, shape (n_draws,), float32
        Complementarity strength on agent use (0 when off).
    reach_online, reach_offline : ndarray, shape (2, n_cells, n_draws), float32
        Latent-rank ceilings of an online and an offline agent.
    online_now, online_next : ndarray, shape (n_cells, n_draws), float32
        Share of each cell online during the month and at its end.
    start : ndarray of int, shape (n_cells + 1,)
        First agent of each cell, and the number of agents last.
    latent, threshold : ndarray, shape (2, n_agents, n_draws), float32
        Latent ranks ``U(0, 1)`` and thresholds ``Exp(1)``.
    online_rank : ndarray, shape (n_agents, n_draws), float32
    dt : float
        Step length, years (0 counts the state without advancing it).
    cum : ndarray, shape (2, n_agents, n_draws), float32
        Integrated hazards, updated in place.
    counts : ndarray of int32, shape (n_cells, N_COUNTS, n_draws)
        Receives the counts per cell at the end of the month (rows as :data:`N_COUNTS`).
    """
    step = np.float32(dt)
    n_draws = strength.size
    for c in prange(start.size - 1):
        on0, on1 = reach_online[0, c], reach_online[1, c]
        off0, off1 = reach_offline[0, c], reach_offline[1, c]
        f_now, f_next = online_now[c], online_next[c]
        n = counts[c]
        n[:] = 0
        # The cell's agents as (agents, draws) blocks, taken once per cell: an agent is then a
        # row index, not a set of views made (and reference-counted) for each agent.
        a, b = start[c], start[c + 1]
        x0, x1, t0, t1 = cum[0, a:b], cum[1, a:b], threshold[0, a:b], threshold[1, a:b]
        lat0, lat1, rank = latent[0, a:b], latent[1, a:b], online_rank[a:b]
        h0 = hazard[0, a:b] if per_agent else hazard[0, c : c + 1]
        h1 = hazard[1, a:b] if per_agent else hazard[1, c : c + 1]
        for i in range(b - a):
            row = i if per_agent else 0
            for d in range(n_draws):
                online = rank[i, d] < f_now[d]
                # Both decisions of the month read the state at its start.
                had0 = rules.has_adopted(x0[i, d], t0[i, d])
                had1 = rules.has_adopted(x1[i, d], t1[i, d])
                # Each decision is taken under both ceilings and the one that applies chosen:
                # choosing the ceiling instead compiles to a gather of two addresses (about a
                # fifth of the step's time, measured).
                in0 = rules.in_market(lat0[i, d], on0[d]), rules.in_market(lat0[i, d], off0[d])
                in1 = rules.in_market(lat1[i, d], on1[d]), rules.in_market(lat1[i, d], off1[d])
                m0 = in0[0] if online else in0[1]
                m1 = in1[0] if online else in1[1]
                h = agent_hazard(h1[row, d], had0, strength[d])
                x0[i, d] = rules.accumulate_hazard(x0[i, d], h0[row, d], step, m0 & (not had0))
                x1[i, d] = rules.accumulate_hazard(x1[i, d], h, step, m1 & (not had1))
            for d in range(n_draws):
                a0 = np.int32(rules.has_adopted(x0[i, d], t0[i, d]))
                a1 = np.int32(rules.has_adopted(x1[i, d], t1[i, d]))
                o = np.int32(rank[i, d] < f_next[d])
                n[0, d] += a0
                n[1, d] += a1
                n[3, d] += a0 * a1
                n[4, d] += o
                n[5, d] += a0 * o
                n[6, d] += a1 * o
                n[8, d] += a0 * a1 * o
        for d in range(n_draws):
            n[2, d] = n[0, d] + n[1, d] - n[3, d]
            n[7, d] = n[5, d] + n[6, d] - n[8, d]


def _ranks(
    normals: NDArray[np.float64],
    uniforms: NDArray[np.float32],
    rho: NDArray[np.float64],
    latent: NDArray[np.float32],
    threshold: NDArray[np.float32],
    online_rank: NDArray[np.float32],
) -> None:
    """Each agent's latent ranks and thresholds from its draws' normals, by the copula
    (:func:`sim.rules.copula_ranks`), and its online rank, written agent-major as the step reads
    them.

    Agents go in blocks of :data:`RANK_BLOCK`, all draws of a block at once, so that each draw's
    inputs are read in order and the block's outputs stay in cache while they are written across
    draws.

    Parameters
    ----------
    normals : ndarray, shape (n_draws, 4, n_agents), float64
        Independent standard normals of each draw: the latent ranks' of terminals and agent use,
        then the thresholds'.
    uniforms : ndarray, shape (n_draws, n_agents), float32
        Each draw's online ranks ``U(0, 1)``.
    rho : ndarray, shape (n_draws,)
        Each draw's correlation of the two technologies.
    latent, threshold : ndarray, shape (2, n_agents, n_draws), float32
        Receive the latent ranks and thresholds.
    online_rank : ndarray, shape (n_agents, n_draws), float32
        Receives the online ranks.
    """
    n_draws, _, n_agents = normals.shape
    for a0 in range(0, n_agents, RANK_BLOCK):
        a1 = min(a0 + RANK_BLOCK, n_agents)
        for i in range(n_draws):
            z0, z1, w0, w1 = normals[i, 0], normals[i, 1], normals[i, 2], normals[i, 3]
            for a in range(a0, a1):
                lat0, lat1, thr0, thr1 = rules.copula_ranks(z0[a], z1[a], w0[a], w1[a], rho[i])
                latent[0, a, i], latent[1, a, i] = lat0, lat1
                threshold[0, a, i], threshold[1, a, i] = thr0, thr1
                online_rank[a, i] = uniforms[i, a]


#: Agents per block of :func:`ranks`: a block's outputs over 32 draws (five float32 arrays, 80 kB)
#: stay in a core's L2 cache.
RANK_BLOCK = 128
#: The rank draws, compiled (one thread: chunks run on threads of their own).
ranks = numba.njit(cache=True, nogil=True)(_ranks)
#: The month step with cells run in parallel on numba's threads (``NUMBA_NUM_THREADS``).
month = numba.njit(cache=True, parallel=True, nogil=True)(_month)
#: The same step on one thread: for small chunks, where waking threads costs more than it saves.
month_serial = numba.njit(cache=True, nogil=True)(_month)
#: Agent-draws of a chunk from which the parallel step pays (measured on 2 cores: at 6,000 agents
#: x 32 draws, 1.9e5, thread start-up outweighs the month's work).
PARALLEL_MIN = 1_000_000


def month_for(n_agents: int, n_draws: int) -> Callable[..., None]:
    """:func:`month` or :func:`month_serial`, whichever pays for a chunk of ``n_draws`` draws of
    ``n_agents`` agents; the results are the same bits either way."""
    parallel = n_agents * n_draws >= PARALLEL_MIN and numba.get_num_threads() > 1
    return month if parallel else month_serial


def _refresh_cache() -> None:
    """Drop the compiled functions from numba's on-disk cache when a rule they compile in has
    changed.

    numba keys its cache on this file alone, so an edit to :func:`sim.rules.in_market` (say)
    would otherwise leave the old rule compiled in. A digest of the rules' source, and of
    :mod:`sim.rules.compiled` (which binds scipy's functions for compiled code), is kept beside
    the cache; when it differs, the cache is flushed and each function compiled again on first
    use.
    """
    rules_in = (
        rules.copula_ranks,
        rules.in_market,
        rules.has_adopted,
        rules.accumulate_hazard,
        rules.complement_multiplier,
        agent_hazard,
        compiled,
    )
    digest = hashlib.sha256("".join(inspect.getsource(f) for f in rules_in).encode()).hexdigest()
    stamp = Path(month._cache.cache_path) / "kernel.month.rules.sha256"
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    for function in (month, month_serial, ranks):
        function._cache.flush()
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except OSError:  # a read-only cache: numba then compiles in memory only
        pass


_refresh_cache()

__all__ = ["N_COUNTS", "PARALLEL_MIN", "RANK_BLOCK", "month", "month_for", "month_serial", "ranks"]
