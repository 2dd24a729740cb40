"""Backends: the same numbers in this process on one thread or several, and on Dask workers, bit
for bit, whatever the chunking."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from sim.config import load_spec
from sim.engine import backends, context, parameter_sets, simulate
from sim.engine.backends import local_cluster
from sim.engine.progress import Progress
from sim.spec import ConfigError

VARS = ("share", "share_province", "share_sector", "param_value")


@pytest.fixture(scope="module")
def scheduler():
    """A local cluster of two single-threaded worker processes, started by the test itself."""
    with local_cluster(2) as cluster:
        yield cluster.scheduler_address


def _mc(spec, **kw):
    return replace(spec, mc=replace(spec.mc, **kw))


@pytest.mark.parametrize(("threads", "chunk"), [(2, 1), (3, 4), (2, 16)])
def test_chunks_on_threads_give_the_one_thread_results_bit_for_bit(small_spec, threads, chunk):
    one = simulate(_mc(small_spec, threads=1))
    many = simulate(_mc(small_spec, threads=threads, chunk=chunk))
    for var in VARS:
        xr.testing.assert_identical(one[var], many[var])


def test_serial_backend_runs_chunks_on_its_threads_and_returns_them_in_order(
    small_spec, monkeypatch
):
    ran_on = []

    def spy(ctx, values, draws):
        ran_on.append(threading.current_thread().name)
        return backends.run_chunk(ctx, values, draws)

    monkeypatch.setattr(backends, "run_chunk_on_worker", spy)
    spec = _mc(small_spec, chunk=2)
    ctx, values = context(spec), parameter_sets(spec)
    tasks = [(values[a : a + 2], np.arange(a, min(a + 2, len(values)))) for a in range(0, 8, 2)]
    out = list(backends.Serial(threads=2).imap(ctx, tasks))
    assert [int(c.draws[0]) for c in out] == [0, 2, 4, 6]
    assert len(ran_on) == 4 and all(n.startswith("aiplus-chunk") for n in ran_on)
    # One thread, or one chunk: this thread, as before.
    ran_on.clear()
    list(backends.Serial(threads=1).imap(ctx, tasks))
    list(backends.Serial(threads=2).imap(ctx, tasks[:1]))
    assert ran_on == []


def test_mc_threads_only_with_the_serial_backend():
    with pytest.raises(ConfigError, match=r"mc\.threads: needs mc\.backend=serial"):
        load_spec(["mc.backend=dask", "mc.threads=2"])
    assert load_spec(["mc.threads=3"]).mc.threads == 3


@pytest.mark.parametrize("chunk", [1, 3, 16])
def test_dask_backend_gives_the_serial_results_bit_for_bit(small_spec, scheduler, chunk):
    serial = simulate(small_spec)
    dask = simulate(_mc(small_spec, backend="dask", scheduler=scheduler, chunk=chunk))
    for var in VARS:
        xr.testing.assert_identical(serial[var], dask[var])


def test_dask_backend_keeps_only_what_is_asked(small_spec, scheduler):
    ds = simulate(_mc(small_spec, backend="dask", scheduler=scheduler, keep=("national",)))
    assert "share_province" not in ds and "share_sector" not in ds
    xr.testing.assert_identical(ds["share"], simulate(small_spec)["share"])


@pytest.mark.slow
def test_dask_backend_starts_its_own_local_cluster(small_spec):
    serial = simulate(small_spec)
    dask = simulate(_mc(small_spec, backend="dask", workers=2, chunk=5))
    for var in VARS:
        xr.testing.assert_identical(serial[var], dask[var])


@pytest.mark.slow
def test_unreachable_scheduler_is_a_clean_error(small_spec):
    spec = _mc(small_spec, backend="dask", scheduler="tcp://127.0.0.1:1", draws=2)
    with pytest.raises(ConfigError, match=r"mc\.scheduler: cannot reach tcp://127\.0\.0\.1:1"):
        simulate(spec)


class _Terminal:
    def __init__(self, tty: bool) -> None:
        self.tty, self.text = tty, ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, s: str) -> None:
        self.text += s

    def flush(self) -> None:
        pass


def test_progress_reports_draws_rate_and_time_left_on_a_terminal():
    term = _Terminal(tty=True)
    bar = Progress(100, done=20, stream=term, every=0.0)
    bar.update(30)
    bar.close()
    assert "50/100 draws (50%)" in term.text and "draws/s" in term.text and "left" in term.text
    assert term.text.endswith("\n")


def test_progress_is_silent_when_output_is_not_a_terminal():
    pipe = _Terminal(tty=False)
    bar = Progress(10, stream=pipe, every=0.0)
    bar.update(10)
    bar.close()
    assert pipe.text == ""
