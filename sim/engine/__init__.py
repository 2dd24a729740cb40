"""Simulation engines. ``simulate`` runs a spec end to end with the engine it names: the
vectorised core (``engine: core``) or the Mesa agent-based model (``engine: abm``,
:mod:`sim.abm`)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from sim import population as population_mod
from sim import priors, results
from sim.engine import core
from sim.spec import Spec
from sim.streams import POPULATION_STREAM


def parameter_sets(spec: Spec) -> np.ndarray:
    """Every draw's parameter set, shape (n_draws, n_params), in ``spec.param_names`` order."""
    if spec.mc.uncertainty == "none":
        return priors.central(spec.priors, spec.mc.draws)
    return priors.sample(spec.priors, spec.mc.draws, seed=spec.mc.seed, method=spec.mc.method)


def network(spec: Spec, pop: population_mod.Population) -> np.ndarray | None:
    """The peer network of a run (None when network influence is off)."""
    if spec.rules.w_network <= 0.0:
        return None
    rng = np.random.default_rng(
        np.random.SeedSequence(spec.mc.seed, spawn_key=(POPULATION_STREAM, 1))
    )
    return pop.neighbours(spec.rules.network_degree, rng)


def simulate(spec: Spec) -> xr.Dataset:
    """Run every draw of ``spec`` with its engine, chunk by chunk; return the results."""
    simulate_chunk = core.simulate_chunk
    if spec.engine == "abm":
        from sim.abm import simulate_chunk
    pop = population_mod.build(spec.population, seed=spec.mc.seed)
    values = parameter_sets(spec)
    lay = core.layout(spec, pop)
    nbrs = network(spec, pop)
    chunks = [
        simulate_chunk(
            spec,
            pop,
            values[a : a + spec.mc.chunk],
            np.arange(a, min(a + spec.mc.chunk, spec.mc.draws)),
            lay=lay,
            neighbours=nbrs,
        )
        for a in range(0, spec.mc.draws, spec.mc.chunk)
    ]
    return results.to_dataset(spec, pop, chunks, values, engine=spec.engine)
