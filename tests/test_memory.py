"""Peak memory is bounded by the chunk, not by the number of draws."""

from __future__ import annotations

import tracemalloc

import pytest

from sim.config import load_spec
from sim.engine import simulate


def _peak_mib(draws: int, chunk: int) -> float:
    """Peak traced allocation of a whole run (numpy reports its buffers to tracemalloc)."""
    spec = load_spec(
        [
            f"mc.draws={draws}",
            f"mc.chunk={chunk}",
            "population.n_agents=10000",
            "mc.keep=[national]",
        ]
    )
    tracemalloc.start()
    try:
        simulate(spec)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_many_draws_in_small_chunks_stay_far_below_holding_all_draws():
    all_at_once = _peak_mib(48, 48)
    chunked = _peak_mib(48, 4)
    quarter = _peak_mib(12, 4)
    # The agent state of all 48 draws at once takes several times the memory of 4 at a time...
    assert chunked < all_at_once / 4, (chunked, all_at_once)
    # ... and four times the draws in the same chunks costs only their small kept outputs.
    assert chunked < 1.25 * quarter, (chunked, quarter)
