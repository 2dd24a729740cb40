"""Simulation engines. ``simulate`` runs a spec end to end with the engine it names in
:data:`ENGINES`: the vectorised core (``engine: core``, :mod:`sim.engine.core`) or the Mesa
agent-based model (``engine: abm``, :mod:`sim.abm`). Both take a chunk of draws and return a
:class:`sim.drivers.ChunkResult`.

:func:`sample` is the driver: a generator of chunk results as they complete, on the backend the
spec names (:mod:`sim.engine.backends`), written to the run folder as they arrive
(:mod:`sim.engine.storage`); :func:`simulate` is the thin wrapper that gathers them into the
results Dataset.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import xarray as xr

from sim import abm, drivers, priors, results
from sim import population as population_mod
from sim.drivers import ChunkResult
from sim.engine import backends, core, storage
from sim.engine.progress import Progress
from sim.spec import Spec
from sim.streams import network_rng

#: Each engine's chunk function, by the name ``engine`` takes in config.
ENGINES: dict[str, backends.Engine] = {"core": core.simulate_chunk, "abm": abm.simulate_chunk}


def parameter_sets(spec: Spec) -> np.ndarray:
    """Every draw's parameter set, shape (n_draws, n_params), in ``spec.param_names`` order."""
    if spec.mc.uncertainty == "none":
        return priors.central(spec.priors, spec.mc.draws)
    return priors.sample(spec.priors, spec.mc.draws, seed=spec.mc.seed, method=spec.mc.method)


def network(spec: Spec, pop: population_mod.Population) -> np.ndarray | None:
    """The peer network of a run (None when network influence is off)."""
    if spec.rules.w_network <= 0.0:
        return None
    return pop.neighbours(spec.rules.network_degree, network_rng(spec.mc.seed))


def context(spec: Spec) -> backends.Context:
    """What every chunk of a run shares: the population, its cell layout and peer network, and
    the engine that simulates it."""
    pop = population_mod.build(spec.population, seed=spec.mc.seed)
    return backends.Context(
        spec, pop, drivers.layout(spec, pop), network(spec, pop), ENGINES[spec.engine]
    )


def chunks_of(spec: Spec) -> list[tuple[int, int]]:
    """The run's chunks as ``(first, stop)`` draw ranges."""
    n, c = spec.mc.draws, spec.mc.chunk
    return [(a, min(a + c, n)) for a in range(0, n, c)]


def sample(
    spec: Spec,
    *,
    folder: Path | None = None,
    ctx: backends.Context | None = None,
    values: np.ndarray | None = None,
    progress: bool | None = None,
) -> Iterator[ChunkResult]:
    """Yield every chunk of the run, with the outputs ``spec.mc.keep`` asks for, as it completes.

    Parameters
    ----------
    spec : Spec
    folder : Path, optional
        Run folder. Each chunk is written to ``folder/chunks`` as soon as it completes; with
        ``spec.mc.resume`` the chunks already there are yielded first and not simulated again.
    ctx, values : optional
        The run's :func:`context` and :func:`parameter_sets`, when the caller has them already.
    progress : bool, optional
        Show draws done, rate and time left on stderr; by default only on a terminal.

    Yields
    ------
    ChunkResult
        In completion order (any order with the Dask backend); draws never repeat.

    Raises
    ------
    sim.spec.ConfigError
        When ``folder`` holds chunks of another configuration, or finished chunks while
        ``spec.mc.resume`` is false.
    """
    store = storage.chunk_folder(folder, spec) if folder is not None else None
    todo, resumed = chunks_of(spec), 0
    if store is not None:
        store.check(resume=spec.mc.resume)
        left = []
        for first, stop in todo:
            done = store.load(first, stop) if spec.mc.resume else None
            if done is None:
                left.append((first, stop))
            else:
                resumed += done.draws.size
                yield done
        todo = left
    if not todo:
        return
    ctx = context(spec) if ctx is None else ctx
    values = parameter_sets(spec) if values is None else values
    tasks = ((values[a:b], np.arange(a, b, dtype=np.int64)) for a, b in todo)
    bar = Progress(spec.mc.draws, done=resumed, enabled=progress)
    try:
        for chunk in backends.backend_of(spec.mc).imap(ctx, tasks):
            if store is not None:
                store.save(chunk)
            bar.update(chunk.draws.size)
            yield chunk
    finally:
        bar.close()


def simulate(
    spec: Spec,
    *,
    folder: Path | None = None,
    progress: bool | None = None,
    values: np.ndarray | None = None,
) -> xr.Dataset:
    """Run every draw of ``spec`` with its engine; return the results Dataset.

    Chunks are gathered as they complete (see :func:`sample`), so memory holds the chunks in
    flight plus the kept per-draw outputs, whatever the number of draws.

    Parameters
    ----------
    spec : Spec
    folder : Path, optional
        Run folder for finished chunks (resumable runs); none by default.
    progress : bool, optional
        Show draws done, rate and time left on stderr; by default only on a terminal.
    values : ndarray, shape (n_draws, n_params), optional
        The draws' parameter sets (posterior particles, say); the prior design by default.
    """
    ctx = context(spec)
    values = parameter_sets(spec) if values is None else values
    acc = storage.Collector(spec.mc.draws)
    for chunk in sample(spec, folder=folder, ctx=ctx, values=values, progress=progress):
        acc.add(chunk)
    return results.to_dataset(spec, ctx.pop, [acc.result()], values, engine=spec.engine)
