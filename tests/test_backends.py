"""Dask backend: the same numbers as the serial backend, bit for bit, whatever the chunking."""

from __future__ import annotations

from dataclasses import replace

import pytest
import xarray as xr

from sim.engine import simulate
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
