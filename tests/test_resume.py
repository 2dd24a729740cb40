"""Finished chunks are kept as they complete, and an interrupted run resumes to the same results."""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from sim import runfolder
from sim.config import load_spec
from sim.engine import backends, sample, simulate, storage

from helpers import cli_command, cli_env, run_cli

VARS = ("share", "share_province", "share_sector", "param_value")


@pytest.fixture
def spec():
    return load_spec(["mc.draws=12", "mc.chunk=3", "population.n_agents=2000", "calibration=none"])


def _mc(spec, **kw):
    return replace(spec, mc=replace(spec.mc, **kw))


def _assert_same(a, b):
    for var in VARS:
        xr.testing.assert_identical(a[var], b[var])


def _chunk_files(run):
    return sorted((run / storage.CHUNKS).glob("draws-*.npz"))


def test_finished_chunks_are_written_as_they_complete(spec, tmp_path):
    it = sample(spec, folder=tmp_path)
    next(it)
    assert [p.name for p in _chunk_files(tmp_path)] == ["draws-000000000-000000003.npz"]
    next(it)
    assert len(_chunk_files(tmp_path)) == 2
    it.close()


def test_interrupted_run_resumes_to_the_uninterrupted_results(spec, tmp_path, monkeypatch):
    it = sample(spec, folder=tmp_path)
    next(it), next(it)
    it.close()  # as if the run were stopped after two chunks
    simulated = []
    run_chunk = backends.run_chunk

    def counting(ctx, values, draws):
        simulated.extend(draws.tolist())
        return run_chunk(ctx, values, draws)

    monkeypatch.setattr(backends, "run_chunk", counting)
    resumed = simulate(_mc(spec, resume=True), folder=tmp_path)
    assert simulated == list(range(6, 12))  # the finished chunks were not simulated again
    _assert_same(resumed, simulate(spec))


def test_a_crash_keeps_the_chunks_finished_before_it(spec, tmp_path, monkeypatch):
    run_chunk, calls = backends.run_chunk, []

    def crashing(ctx, values, draws):
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("simulated crash")
        return run_chunk(ctx, values, draws)

    monkeypatch.setattr(backends, "run_chunk", crashing)
    with pytest.raises(MemoryError):
        simulate(spec, folder=tmp_path)
    assert len(_chunk_files(tmp_path)) == 2
    monkeypatch.setattr(backends, "run_chunk", run_chunk)
    _assert_same(simulate(_mc(spec, resume=True), folder=tmp_path), simulate(spec))


def test_half_written_files_are_never_taken_for_finished_chunks(spec, tmp_path):
    it = sample(spec, folder=tmp_path)
    next(it), next(it)
    it.close()
    first, second = _chunk_files(tmp_path)
    # A temporary file left by a crash mid-write, and a finished name holding a truncated file.
    (first.parent / f".{first.name}.abc.tmp").write_bytes(first.read_bytes()[:100])
    second.write_bytes(second.read_bytes()[: second.stat().st_size // 2])
    store = storage.chunk_folder(tmp_path, spec)
    assert store.load(0, 3) is not None and store.load(3, 6) is None
    _assert_same(simulate(_mc(spec, resume=True), folder=tmp_path), simulate(spec))


def test_chunks_of_another_configuration_are_refused(spec, tmp_path):
    it = sample(spec, folder=tmp_path)
    next(it)
    it.close()
    other = _mc(spec, seed=spec.mc.seed + 1, resume=True)
    with pytest.raises(storage.ConfigError, match=r"mc\.resume: .*another configuration"):
        simulate(other, folder=tmp_path)


def test_finished_chunks_are_not_overwritten_without_resume(spec, tmp_path):
    it = sample(spec, folder=tmp_path)
    next(it)
    it.close()
    before = _chunk_files(tmp_path)[0].read_bytes()
    with pytest.raises(storage.ConfigError, match=r"mc\.resume=true"):
        simulate(spec, folder=tmp_path)
    assert _chunk_files(tmp_path)[0].read_bytes() == before


def test_the_fingerprint_ignores_where_chunks_run_but_not_what_they_compute(spec):
    key = storage.spec_key(spec)
    assert key == storage.spec_key(_mc(spec, backend="dask", workers=3, resume=True))
    for changed in (_mc(spec, seed=1), _mc(spec, draws=13), _mc(spec, chunk=4)):
        assert storage.spec_key(changed) != key
    levers = tuple(replace(lv, lag=lv.lag + 0.5) for lv in spec.levers)
    assert storage.spec_key(replace(spec, levers=levers)) != key


@pytest.mark.slow
def test_cli_resumes_a_killed_run_to_the_same_results(tmp_path):
    """A real interruption: the process is killed once it has finished a few chunks."""
    args = ["mc.draws=48", "mc.chunk=2", "population.n_agents=2000", "calibration=none"]
    run = tmp_path / "run"
    partial = runfolder.partial_of(run)  # where the run is built until it is complete
    proc = subprocess.Popen(
        cli_command([*args, f"hydra.run.dir={run}"]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=cli_env(),
    )
    deadline = time.monotonic() + 240
    while len(_chunk_files(partial)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be interrupted"
    finished = len(_chunk_files(partial))
    assert 3 <= finished < 24 and not run.exists()

    r = run_cli([*args, "mc.resume=true", f"hydra.run.dir={run}"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert not (run / storage.CHUNKS).exists()  # removed once results.nc holds every draw
    assert not partial.exists()
    assert run_cli([*args, f"hydra.run.dir={tmp_path / 'whole'}"], tmp_path).returncode == 0
    resumed = xr.open_dataset(run / "results.nc", engine="h5netcdf").load()
    whole = xr.open_dataset(tmp_path / "whole" / "results.nc", engine="h5netcdf").load()
    _assert_same(resumed, whole)
    assert np.array_equal(resumed["draw"], np.arange(48))


def test_cli_refuses_foreign_chunks_before_touching_the_folder(spec, tmp_path, capsys):
    from sim.cli import main

    run = tmp_path / "run"
    it = sample(spec, folder=runfolder.partial_of(run))  # an interrupted run's chunks
    next(it)
    it.close()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    args = [
        "mc.draws=12",
        "mc.chunk=3",
        "population.n_agents=2000",
        "mc.seed=1",
        "calibration=none",
    ]
    assert main([*args, "mc.resume=true", f"++hydra.run.dir={run}"]) == 2
    assert "another configuration" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_resumed_run_keeps_each_draws_shock_history(tmp_path):
    """Shock onsets are per-draw outputs too: they are stored with the chunks and come back."""
    spec = load_spec(
        [
            "mc.draws=8",
            "mc.chunk=2",
            "population.n_agents=1500",
            "scenario=headwinds",
            "calibration=none",
        ]
    )
    whole = simulate(spec)
    assert int(whole["events"].sum()) > 0
    it = sample(spec, folder=tmp_path)
    next(it), next(it)
    it.close()
    resumed = simulate(_mc(spec, resume=True), folder=tmp_path)
    for var in ("share", "events", "event_time"):
        xr.testing.assert_identical(whole[var], resumed[var])
