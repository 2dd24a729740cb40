"""Where chunks of draws run: in this process, or as tasks on a Dask cluster.

A backend has one hook, ``imap(context, tasks)``: it runs :func:`run_chunk` on every task with the
context's engine (a chunk function of :data:`sim.engine.ENGINES`) and
yields the chunk results as they complete, in any order. Tasks carry plain values only (the frozen
spec, the population, numpy arrays), so every worker computes exactly what this process would: a
draw's numbers depend only on its own random streams, never on where or with which others it ran.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numba
import numpy as np
from numpy.typing import NDArray

from sim.drivers import ChunkResult, Layout
from sim.engine.storage import trim
from sim.population import Population
from sim.spec import ConfigError, MCSpec, Spec

#: One task: the parameter sets of a chunk, shape (n, n_params), and its draw indices, shape (n,).
Task = tuple[NDArray[np.float64], NDArray[np.int64]]


class Engine(Protocol):
    """An engine's chunk function (:func:`sim.engine.core.simulate_chunk`,
    :func:`sim.abm.simulate_chunk`): draws ``draws`` with parameter sets ``values``."""

    def __call__(
        self,
        spec: Spec,
        pop: Population,
        values: NDArray[np.float64],
        draws: NDArray[np.int64],
        *,
        lay: Layout | None = None,
        neighbours: NDArray[np.intp] | None = None,
    ) -> ChunkResult: ...


@dataclass(frozen=True, eq=False)
class Context:
    """What every chunk of a run shares, as plain picklable values."""

    spec: Spec
    pop: Population
    lay: Layout
    neighbours: NDArray[np.intp] | None
    #: The spec's engine (a module-level function, so the context pickles).
    engine: Engine


def run_chunk(ctx: Context, values: NDArray[np.float64], draws: NDArray[np.int64]) -> ChunkResult:
    """Simulate one chunk with the context's engine and keep only the outputs that ``mc.keep``
    asks for."""
    res = ctx.engine(ctx.spec, ctx.pop, values, draws, lay=ctx.lay, neighbours=ctx.neighbours)
    return trim(res, ctx.spec.mc.keep)


def run_chunk_on_worker(
    ctx: Context, values: NDArray[np.float64], draws: NDArray[np.int64]
) -> ChunkResult:
    """:func:`run_chunk` with the core's compiled step on one thread (numba's setting is the
    calling thread's): each Dask worker process, or each thread of :class:`Serial`, is one of the
    run's parallel units already."""
    numba.set_num_threads(1)
    return run_chunk(ctx, values, draws)


class Backend(Protocol):
    def imap(self, ctx: Context, tasks: Iterable[Task]) -> Iterator[ChunkResult]: ...


class Serial:
    """Chunks in this process: one after the other, or several at once on threads.

    Parameters
    ----------
    threads : int, optional
        Chunks run at once (default 1). With more than one, each chunk runs on a thread of its
        own with the core's compiled step on that thread alone (:func:`run_chunk_on_worker`):
        numpy and the compiled step release the GIL for the bulk of a chunk, so the threads
        share the cores. The Mesa engine, pure Python, always runs one chunk at a time. Results
        come back in the tasks' order, at most ``2 * threads`` chunks in flight.
    """

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads

    def imap(self, ctx: Context, tasks: Iterable[Task]) -> Iterator[ChunkResult]:
        todo = iter(tasks)
        if self.threads <= 1 or ctx.spec.engine != "core":
            for values, draws in todo:
                yield run_chunk(ctx, values, draws)
            return
        first = next(todo, None)
        second = next(todo, None)
        if second is None:
            # One chunk: on this thread, where the compiled step may use every core.
            if first is not None:
                yield run_chunk(ctx, *first)
            return
        pool = ThreadPoolExecutor(self.threads, thread_name_prefix="aiplus-chunk")
        try:
            window: deque[Future[ChunkResult]] = deque()
            for task in itertools.chain((first, second), todo):
                window.append(pool.submit(run_chunk_on_worker, ctx, *task))
                if len(window) >= 2 * self.threads:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class Dask:
    """Chunks as tasks on a ``dask.distributed`` cluster.

    Parameters
    ----------
    workers : int, optional
        Worker processes of a local cluster started for the run (default: one per core), each
        single-threaded: numpy releases the GIL only in parts of a chunk.
    scheduler : str, optional
        Address of an existing scheduler instead; its workers need this package installed.
    """

    def __init__(self, *, workers: int | None = None, scheduler: str | None = None) -> None:
        self.workers, self.scheduler = workers, scheduler

    def _client(self):
        from dask.distributed import Client

        if self.scheduler is None:
            cluster = local_cluster(self.workers)
            return Client(cluster), cluster
        try:
            return Client(self.scheduler, timeout="10s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(
                "dask backend", "mc.scheduler", f"cannot reach {self.scheduler}: {problem}"
            ) from None

    def imap(self, ctx: Context, tasks: Iterable[Task]) -> Iterator[ChunkResult]:
        from dask.distributed import as_completed

        # The cluster's INFO chatter would drown the run's own output (Hydra logs INFO to the
        # console); warnings, e.g. about worker memory, still show.
        log = logging.getLogger("distributed")
        level = log.level
        log.setLevel(logging.WARNING)
        try:
            client, cluster = self._client()
        except BaseException:
            log.setLevel(level)
            raise
        try:
            shared = client.scatter(ctx, broadcast=True, hash=False)
            todo = iter(tasks)
            running = as_completed()

            def submit() -> None:
                task = next(todo, None)
                if task is not None:
                    running.add(client.submit(run_chunk_on_worker, shared, *task, pure=False))

            # A bounded window of tasks in flight: results wait on the workers for at most two
            # chunks per worker thread, whatever the number of draws.
            for _ in range(2 * max(1, sum(client.nthreads().values()))):
                submit()
            for fut in running:
                res = fut.result()
                fut.release()
                submit()
                yield res
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
            log.setLevel(level)


def local_cluster(n_workers: int | None = None):
    """A ``dask.distributed.LocalCluster`` of single-threaded worker processes for chunks.

    Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_`` in its workers; that pins glibc's mmap
    threshold, so every large temporary array of a chunk is a fresh mapping and page faults
    nearly double a chunk's time. The workers started here keep glibc's default (a variable set
    in the environment still wins).
    """
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # The scheduler's HTTP endpoints on a free port, not 8787 (often taken).
            scheduler_kwargs={"dashboard_address": ":0"},
        )


def check_scheduler(address: str, *, timeout: float = 5.0) -> None:
    """Fail unless the Dask scheduler at ``address`` accepts a connection (before a run starts).

    Only TCP-based addresses (``tcp://``, ``tls://``, ``ws://``, ``wss://``, or a bare
    ``HOST:PORT``) are checked; other transports are left to the client.

    Raises
    ------
    sim.spec.ConfigError
        Naming ``mc.scheduler`` and why it cannot be reached.
    """
    import socket

    from distributed.comm import parse_address, parse_host_port

    try:
        scheme, loc = parse_address(address)
        if scheme not in ("tcp", "tls", "ws", "wss"):
            return
        host, port = parse_host_port(loc, default_port=8786)
        socket.create_connection((host, port), timeout=timeout).close()
    except (OSError, ValueError, TypeError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            "dask backend", "mc.scheduler", f"cannot reach {address}: {problem}"
        ) from None


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def backend_of(mc: MCSpec) -> Backend:
    """The backend a run's ``mc`` settings ask for (``mc.threads`` None: one per usable core)."""
    if mc.backend == "dask":
        return Dask(workers=mc.workers, scheduler=mc.scheduler)
    return Serial(mc.threads if mc.threads is not None else usable_cores())
