"""The compiled month step: the previous numpy step's results, the same numbers whatever the
number of threads, and a check with power."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sim.config import load_spec
from sim.engine import context, core, kernel, parameter_sets

import reference_core
from helpers import SMALL

ROOT = Path(__file__).resolve().parents[1]
NETWORK = [
    "rules.influence.segment=0.25",
    "rules.influence.province=0.25",
    "rules.influence.network=0.5",
]
#: Settings that each send the compiled step down another path: the default, a peer network
#: (hazards per agent), the logit rule with complementarity off, observed shocks.
CASES = {
    "default": [],
    "network": NETWORK,
    "logit_no_complementarity": ["rules.adoption=logit_subsidy", "rules.complementarity=false"],
    "shocks": ["scenario=headwinds"],
}


def _shares(spec, chunk_function):
    ctx = context(spec)
    values = parameter_sets(spec)
    draws = np.arange(spec.mc.draws)
    res = chunk_function(spec, ctx.pop, values, draws, lay=ctx.lay, neighbours=ctx.neighbours)
    return res.share


@pytest.mark.parametrize("case", list(CASES))
def test_compiled_step_gives_the_previous_numpy_steps_shares_draw_by_draw(case):
    """Both steps draw the same ranks and thresholds from each draw's streams and apply the same
    rules; they differ only in rounding (the compiled step sums hazards in float32), which
    moves an agent across its threshold a month early or late now and then. So every draw's
    national shares agree to a tenth of a point, month by month."""
    spec = load_spec([*SMALL, *CASES[case]])
    new, old = _shares(spec, core.simulate_chunk), _shares(spec, reference_core.simulate_chunk)
    assert np.nanmax(np.abs(new - old)) < 1e-3


def test_the_agreement_check_has_power():
    """A complementarity strength raised by half in one step only, every draw at the central
    values, shows up at that tolerance."""
    spec = load_spec([*SMALL, "uncertainty=none"])
    broken = replace(
        spec,
        priors=tuple(
            p.fixed_at(p.central * 1.5, "deliberately broken") if p.name == "complementarity" else p
            for p in spec.priors
        ),
    )
    new, old = _shares(broken, core.simulate_chunk), _shares(spec, reference_core.simulate_chunk)
    assert np.nanmax(np.abs(new - old)) >= 1e-3


_RUN = """
import sys, numpy as np
from sim.config import load_spec
from sim.engine import simulate
np.save(sys.argv[1], simulate(load_spec(sys.argv[2:]))["share"].values)
"""


@pytest.mark.slow
def test_results_are_bit_identical_whatever_the_number_of_threads(tmp_path):
    """Cells run in parallel, each on one thread with its draws in fixed order: one thread and
    three give the same bits (each run in its own process, as NUMBA_NUM_THREADS is read at
    start), on a chunk large enough for the parallel step."""
    over = ["mc.draws=26", "mc.chunk=26", "population.n_agents=40000"]
    assert 26 * 40_000 >= kernel.PARALLEL_MIN
    out = []
    for threads in (1, 3):
        path = tmp_path / f"{threads}.npy"
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", _RUN, str(path), *SMALL, *over], check=True, env=env)
        out.append(np.load(path))
    np.testing.assert_array_equal(out[0], out[1])


def test_serial_and_parallel_steps_give_the_same_bits():
    """The chunk's size picks the compiled step (:func:`sim.engine.kernel.month_for`); both
    compile the same function, so a month advanced by either is the same."""
    rng = np.random.default_rng(7)
    n_c, n_a, n_d = 50, 400, 8
    start = np.linspace(0, n_a, n_c + 1).astype(np.intp)
    cells = rng.random((4, 2, n_c, n_d), dtype=np.float32)
    shares = rng.random((2, n_c, n_d), dtype=np.float32)
    agents = rng.random((3, 2, n_a, n_d), dtype=np.float32)
    out = []
    for month in (kernel.month, kernel.month_serial):
        cum = agents[2].copy()
        counts = np.empty((n_c, kernel.N_COUNTS, n_d), dtype=np.int32)
        month(cells[0], False, cells[1, 0, 0], cells[2], cells[3], shares[0], shares[1], start,
              agents[0], agents[1], agents[0, 0], 1 / 12, cum, counts)  # fmt: skip
        out.append((cum, counts))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


@pytest.mark.parametrize("month", [kernel.month, kernel.month_serial], ids=["parallel", "serial"])
def test_hazards_per_agent_that_repeat_their_cells_give_the_per_cell_step(month):
    """With a peer network the step reads a hazard per agent (``per_agent``): per-agent hazards
    equal to their cell's advance the month exactly as the per-cell hazards do, in cells of
    uneven size (some empty)."""
    rng = np.random.default_rng(8)
    n_c, n_a, n_d = 40, 300, 8
    cell_of = np.sort(rng.choice(np.setdiff1d(np.arange(n_c), [3, 17]), n_a))  # 3, 17 empty
    start = np.searchsorted(cell_of, np.arange(n_c + 1)).astype(np.intp)
    cells = rng.random((4, 2, n_c, n_d), dtype=np.float32)
    shares = rng.random((2, n_c, n_d), dtype=np.float32)
    agents = rng.random((3, 2, n_a, n_d), dtype=np.float32)
    per_agent = np.repeat(cells[0], np.diff(start), axis=1)
    out = []
    for hazard, by_agent in ((cells[0], False), (per_agent, True)):
        cum = agents[2].copy()
        counts = np.empty((n_c, kernel.N_COUNTS, n_d), dtype=np.int32)
        month(hazard, by_agent, cells[1, 0, 0], cells[2], cells[3], shares[0], shares[1], start,
              agents[0], agents[1], agents[0, 0], 1 / 12, cum, counts)  # fmt: skip
        out.append((cum, counts))
    assert (np.diff(start) == 0).any()
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_a_hazard_per_agent_reaches_that_agent_alone():
    """Per-agent hazards are read by agent: only the agent given a hazard accumulates one."""
    n_c, n_a, n_d = 5, 20, 4
    start = np.array([0, 3, 3, 10, 16, 20], dtype=np.intp)
    hazard = np.zeros((2, n_a, n_d), dtype=np.float32)
    hazard[0, 12] = 6.0  # an agent of cell 3
    everyone = np.ones((2, n_c, n_d), dtype=np.float32)  # every agent in the market
    online = np.ones((n_c, n_d), dtype=np.float32)
    ranks = np.full((2, n_a, n_d), 0.5, dtype=np.float32)
    cum = np.zeros((2, n_a, n_d), dtype=np.float32)
    counts = np.empty((n_c, kernel.N_COUNTS, n_d), dtype=np.int32)
    off = np.zeros(n_d, np.float32)  # no complementarity
    kernel.month_serial(hazard, True, off, everyone, everyone, online, online, start,
                        ranks, ranks + 1.0, ranks[0], 1 / 12, cum, counts)  # fmt: skip
    assert np.flatnonzero(cum[0].any(axis=1)).tolist() == [12]
    np.testing.assert_allclose(cum[0, 12], 0.5)
    assert not cum[1].any()


_STALE = """
from pathlib import Path
import numpy as np
from sim.engine import kernel
n = np.zeros((1, 4, 1)); u = np.zeros((1, 1), np.float32); out = np.empty((2, 1, 1), np.float32)
kernel.ranks(n, u, np.zeros(1), out, out.copy(), out[0].copy())
assert kernel.ranks.stats.cache_misses, "the first call compiles and saves"
stamp = Path(kernel.month._cache.cache_path) / "kernel.month.rules.sha256"
digest = stamp.read_text()
stamp.write_text("a rule changed since")
kernel._refresh_cache()
assert stamp.read_text() == digest
assert kernel.ranks._cache._cache_file._load_index() == {}
"""


def test_a_changed_rule_flushes_the_compiled_functions_from_the_disk_cache(tmp_path):
    """numba checks only the kernel file's own time stamp, so a rule edited elsewhere (or the
    scipy bindings) must flush the on-disk cache: with a stale digest beside it, the cache of
    the rank draws is emptied and the digest of the rules written again (in a cache directory
    of the test's own)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", _STALE], check=True, env=env)
