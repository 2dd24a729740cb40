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
from sim.engine import context, core, parameter_sets

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


def test_results_are_bit_identical_whatever_the_number_of_threads(tmp_path):
    """Cells run in parallel, each on one thread with its draws in fixed order: one thread and
    three give the same bits (each run in its own process, as NUMBA_NUM_THREADS is read at
    start)."""
    out = []
    for threads in (1, 3):
        path = tmp_path / f"{threads}.npy"
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
        subprocess.run(
            [sys.executable, "-c", _RUN, str(path), *SMALL, *NETWORK], check=True, env=env
        )
        out.append(np.load(path))
    np.testing.assert_array_equal(out[0], out[1])
