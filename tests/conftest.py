"""Shared fixtures: small, fast configurations of the real model, and made-up results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest
import xarray as xr
from numpy.typing import ArrayLike

from sim import results
from sim.config import load_spec
from sim.spec import METRICS, TECH_COORDS, Spec, Target

#: A national run small enough for unit tests.
SMALL = ["mc.draws=16", "mc.chunk=8", "population.n_agents=4000"]
#: The target made-up results carry unless told otherwise.
TARGET_2027 = Target(2027, 0.7, "population", "any")


@pytest.fixture
def small_spec() -> Spec:
    return load_spec(SMALL)


@pytest.fixture(scope="session")
def bass_overrides() -> list[str]:
    """Single market, levers and complementarity off, fixed Bass parameters."""
    return [
        "population=single_market",
        "shocks=none",
        "levers=none",
        "rules.complementarity=false",
        "rules.p=0.03",
        "rules.q=0.38",
        "rules.m=0.8",
        "uncertainty=none",
    ]


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
