"""Run sizes, command-line runners and made-up results shared by the tests
(``from helpers import FAST, run_cli, results_dataset``).

The sizes are Hydra overrides that keep the real configuration and shrink it, smallest first; a
test that needs more draws adds its own override after them (the last value of a key wins). They
turn the default calibration off (prior odds: no sampler rounds); a test of calibration adds
``SMC_TINY`` or ``calibration.method=importance`` after them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from sim import results
from sim.spec import Target
from sim.vocab import METRICS, TECH_COORDS

#: Two draws: a code path runs; nothing is estimated.
CHEAP = ["mc.draws=2", "mc.chunk=2", "population.n_agents=1000", "calibration.method=none"]
#: Four draws in one chunk: every scenario runs; a report has something to show.
TINY = ["mc.draws=4", "mc.chunk=4", "population.n_agents=1500", "calibration.method=none"]
#: Six draws in two chunks: the command line end to end.
FAST = ["mc.draws=6", "mc.chunk=3", "population.n_agents=2000", "calibration.method=none"]
#: Sixteen draws in two chunks: engine properties and paired comparisons.
SMALL = ["mc.draws=16", "mc.chunk=8", "population.n_agents=4000", "calibration.method=none"]
#: Twenty-four draws: charts and report statistics with some spread between draws.
MEDIUM = ["mc.draws=24", "mc.chunk=12", "population.n_agents=3000", "calibration.method=none"]

#: The target made-up results carry unless told otherwise.
TARGET_2027 = Target(2027, 0.7, "population", "any")
#: Seconds a command-line run may take on a slow, shared machine.
TIMEOUT = 300


def cli_env() -> dict[str, str]:
    """This process's environment without ``HYDRA_FULL_ERROR``: errors print as a user sees them."""
    return {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}


def cli_command(args: Sequence[str], *, module: str = "sim") -> list[str]:
    """``python -m MODULE ARGS`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def run_cli(
    args: Sequence[str], cwd: Path, *, module: str = "sim"
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m MODULE ARGS`` in a fresh interpreter from ``cwd``; output captured."""
    return subprocess.run(
        cli_command(args, module=module),
        cwd=cwd,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=TIMEOUT,
    )


def imports_matplotlib(args: Sequence[str], cwd: Path) -> bool:
    """Run :func:`sim.cli.main` with ``args`` in a fresh interpreter from ``cwd``, check that it
    succeeds, and say whether it imported matplotlib."""
    code = (
        f"import sys; from sim.cli import main; main({list(args)!r}); "
        "print('matplotlib' in sys.modules)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=TIMEOUT,
    )
    assert r.returncode == 0, r.stderr
    return {"True": True, "False": False}[r.stdout.strip().splitlines()[-1]]


def results_dataset(
    time: ArrayLike,
    shares: Mapping[tuple[str, str], ArrayLike],
    *,
    fill: float = 0.0,
    targets: Sequence[Target] = (TARGET_2027,),
    params: Mapping[str, ArrayLike] | None = None,
    weight: ArrayLike | None = None,
) -> xr.Dataset:
    """A made-up results Dataset laid out by the schema (:mod:`sim.results`).

    Parameters
    ----------
    time : array_like of datetime64, shape (n_time,)
        Month ends.
    shares : mapping of (tech, metric) to array_like, shape (n_draws, n_time)
        Each draw's national share over ``time`` (broadcast); every other share is ``fill``.
    targets : sequence of Target
        Recorded in the attributes, as a run records its targets.
    params : mapping of name to array_like, shape (n_draws,), optional
        Sampled parameter values.
    weight : array_like, shape (n_draws,), optional
        Draw weights.
    """
    time = np.asarray(time, dtype="datetime64[ns]")
    n_draws = len(next(iter(shares.values())))
    share = xr.DataArray(
        np.full((n_draws, time.size, len(TECH_COORDS), len(METRICS)), fill, dtype=np.float32),
        dims=results.DIMS["share"],
        coords={
            "draw": np.arange(n_draws),
            "time": time,
            "tech": list(TECH_COORDS),
            "metric": list(METRICS),
        },
    )
    for (tech, metric), values in shares.items():
        share.loc[{"tech": tech, "metric": metric}] = np.broadcast_to(
            np.asarray(values, dtype=np.float32).reshape(n_draws, -1), (n_draws, time.size)
        )
    ds = xr.Dataset({"share": share})
    if params is not None:
        values = np.column_stack([np.broadcast_to(v, n_draws) for v in params.values()])
        ds["param_value"] = (results.DIMS["param_value"], values.astype(np.float64))
        ds = ds.assign_coords(param=list(params))
    if weight is not None:
        ds["weight"] = (results.DIMS["weight"], np.asarray(weight, dtype=np.float64))
    ds.attrs.update(scenario="x", seed=1, targets=results.targets_attr(targets))
    return ds


#: The sequential Monte Carlo calibration at its smallest: a code path runs, nothing is estimated.
SMC_TINY = [
    "calibration.method=smc",
    "calibration.particles=24",
    "calibration.n_agents=800",
    "calibration.moves=1",
    "calibration.max_rounds=8",
    "calibration.ess_min=1",
]
