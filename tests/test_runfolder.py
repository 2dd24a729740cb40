"""Run folders: written whole or not at all, owned by one run, never overwritten or mixed unasked,
and only the run's own files removed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sim import runfolder
from sim.cli import main
from sim.config import load_spec
from sim.engine import sample, storage
from sim.spec import ConfigError

#: A CLI run small enough for many tests.
TINY = ["mc.draws=4", "population.n_agents=500", "report=false", "calibration=none"]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aiplus-sim: "), lines
    return lines[0]


def _cli(args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return [sys.executable, "-m", "sim", *args], {"cwd": cwd, "env": env}


# --- the folder machinery --------------------------------------------------------------------


def test_a_run_is_built_aside_and_renamed_into_place_when_complete(tmp_path):
    final = tmp_path / "run"
    with runfolder.claim(final, overwrite=False) as run:
        (run.partial / "summary.json").write_text("{}")
        assert not final.exists()  # nothing under the chosen name until the run is complete
        run.commit()
    assert (final / "summary.json").is_file() and not runfolder.partial_of(final).exists()
    assert not (final / runfolder.LOCK).exists()


def test_a_second_claim_on_a_folder_in_progress_is_refused(tmp_path):
    final = tmp_path / "run"
    with runfolder.claim(final, overwrite=False):
        with pytest.raises(ConfigError, match="another run is writing this folder"):
            runfolder.check(final, overwrite=False)
        with pytest.raises(ConfigError, match="another run is writing this folder"):
            with runfolder.claim(final, overwrite=False):
                pass
    runfolder.check(final, overwrite=False)  # released: the folder is free again


def test_a_failed_run_removes_only_its_own_files(tmp_path):
    final = tmp_path / "run"
    partial = runfolder.partial_of(final)
    (partial / "chunks").mkdir(parents=True)
    (partial / "chunks" / "draws-000000000-000000002.npz").write_bytes(b"a finished chunk")
    (partial / "chunks" / "mydata.txt").write_text("mine")
    with pytest.raises(RuntimeError), runfolder.claim(final, overwrite=False) as run:
        for name in ("config.yaml", "results.nc", ".summary.json.1-ab.tmp", "cli.log"):
            (run.partial / name).write_text("x")
        (run.partial / ".hydra").mkdir()
        (run.partial / ".hydra" / "config.yaml").write_text("x")
        raise RuntimeError("a crash after results.nc")
    assert sorted(str(p.relative_to(partial)) for p in partial.rglob("*")) == [
        "chunks",
        "chunks/draws-000000000-000000002.npz",
        "chunks/mydata.txt",
    ]
    assert not final.exists()


def test_a_failure_before_any_chunk_leaves_nothing(tmp_path):
    final = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt), runfolder.claim(final, overwrite=False) as run:
        (run.partial / "config.yaml").write_text("x")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_chunk_removal_keeps_a_users_file_in_the_chunks_folder(tmp_path):
    chunks = tmp_path / storage.CHUNKS
    chunks.mkdir()
    (chunks / "draws-000000000-000000002.npz").write_bytes(b"x")
    (chunks / ".draws-000000002-000000004.npz.1-ab.tmp").write_bytes(b"x")
    (chunks / "mydata.txt").write_text("mine")
    storage.remove_chunks(tmp_path)
    assert [p.name for p in chunks.iterdir()] == ["mydata.txt"]
    (chunks / "mydata.txt").unlink()
    (chunks / "draws-000000000-000000002.npz").write_bytes(b"x")
    storage.remove_chunks(tmp_path)
    assert not chunks.exists()  # empty once the chunks are gone: removed


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("/dev/null", "exists and is not a folder"),
        ("FILE", "exists and is not a folder"),
        ("FILE/run", "cannot be created: .* is not a folder"),
        ("OTHER", "holds files that are not a finished run"),
        ("FINISHED", "mc.overwrite: holds a finished run; rerun with mc.overwrite=true"),
    ],
)
def test_folders_a_run_cannot_own_are_refused_before_anything_is_written(tmp_path, path, match):
    (tmp_path / "FILE").write_text("a file")
    (tmp_path / "OTHER").mkdir()
    (tmp_path / "OTHER" / "notes.txt").write_text("mine")
    (tmp_path / "FINISHED").mkdir()
    (tmp_path / "FINISHED" / "summary.json").write_text("{}")
    before = _snapshot(tmp_path)
    folder = Path(path) if path.startswith("/") else tmp_path / path
    with pytest.raises(ConfigError, match=match):
        runfolder.check(folder, overwrite=False)
    assert _snapshot(tmp_path) == before


def test_created_files_get_the_usual_mode_not_0600(tmp_path, small_spec):
    from sim import results
    from sim.engine import simulate

    umask = os.umask(0o022)
    try:
        ds = simulate(small_spec, folder=tmp_path)
        it = sample(small_spec, folder=tmp_path / "other")
        chunk = next(iter(it))
        it.close()
        results.write(ds, tmp_path / "results.nc")
        results.write_text("{}", tmp_path / "summary.json")
    finally:
        os.umask(umask)
    files = [tmp_path / "results.nc", tmp_path / "summary.json"]
    files += storage.chunk_folder(tmp_path / "other", small_spec).files()
    assert chunk is not None and len(files) == 3
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {"0o644"}


# --- the command line ----------------------------------------------------------------------


def test_a_second_run_into_a_finished_folder_is_refused_and_the_folder_unchanged(tmp_path, capsys):
    run = tmp_path / "run"
    assert main([*TINY, f"hydra.run.dir={run}"]) == 0
    capsys.readouterr()
    before = _snapshot(run)
    assert main([*TINY, "mc.seed=5", f"hydra.run.dir={run}"]) == 2
    assert "mc.overwrite=true" in _one_error_line(capsys)
    assert _snapshot(run) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_overwrite_replaces_a_finished_run_whole(tmp_path, capsys):
    run = tmp_path / "run"
    assert main([*TINY, f"hydra.run.dir={run}"]) == 0
    (run / "charts").mkdir()
    (run / "charts" / "fan.png").write_bytes(b"a chart of the first run")
    assert main([*TINY, "mc.seed=5", "mc.overwrite=true", f"hydra.run.dir={run}"]) == 0
    assert not (run / "charts").exists()  # never merged: nothing of the first run is left
    assert json.loads((run / "summary.json").read_text())["seed"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert capsys.readouterr().out.strip().endswith(f"results: {run}")


def test_a_users_file_under_chunks_survives_a_resumed_run(tmp_path, capsys):
    run = tmp_path / "run"
    args = [*TINY, "mc.chunk=2"]
    it = sample(load_spec(args), folder=runfolder.partial_of(run))  # interrupted after a chunk
    next(it)
    it.close()
    mine = runfolder.partial_of(run) / storage.CHUNKS / "mydata.txt"
    mine.write_text("kept by a user")
    assert main([*args, f"hydra.run.dir={run}"]) == 2  # finished chunks: resume, don't redo
    assert "mc.resume=true" in _one_error_line(capsys)
    assert main([*args, "mc.resume=true", f"hydra.run.dir={run}"]) == 0
    assert (run / storage.CHUNKS / "mydata.txt").read_text() == "kept by a user"
    assert list((run / storage.CHUNKS).iterdir()) == [run / storage.CHUNKS / "mydata.txt"]
    assert (run / "summary.json").is_file() and not runfolder.partial_of(run).exists()


def test_a_refused_resume_with_plus_plus_run_dir_rewrites_nothing(tmp_path, capsys):
    run = tmp_path / "run"
    args = [*TINY, "mc.chunk=2"]
    it = sample(load_spec(args), folder=runfolder.partial_of(run))
    next(it)
    it.close()
    before = _snapshot(tmp_path)
    assert main([*args, "mc.seed=9", "mc.resume=true", f"++hydra.run.dir={run}"]) == 2
    assert "another configuration" in _one_error_line(capsys)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "form", ["hydra.run.dir={}", "++hydra.run.dir={}", "hydra.run.dir='{}'", "+hydra.run.dir={}"]
)
def test_every_form_of_the_run_folder_is_checked_before_writing(tmp_path, capsys, form):
    (tmp_path / "file").write_text("a file")
    assert main([*TINY, form.format(tmp_path / "file" / "run")]) == 2
    _one_error_line(capsys)
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_run_folder_dev_null_gives_one_line(capsys):
    assert main([*TINY, "hydra.run.dir=/dev/null"]) == 2
    assert "/dev/null: hydra.run.dir: exists and is not a folder" in _one_error_line(capsys)


def test_an_unreachable_scheduler_is_refused_before_the_folder_is_made(tmp_path, capsys):
    run = tmp_path / "run"
    args = [*TINY, "mc.backend=dask", "mc.scheduler=tcp://127.0.0.1:1", f"hydra.run.dir={run}"]
    assert main(args) == 2
    assert "mc.scheduler: cannot reach tcp://127.0.0.1:1" in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_a_relative_scenario_path_holds_under_hydra_job_chdir(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shipped = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
    Path("mine.yaml").write_text(shipped.read_text())
    args = [*TINY, "scenario=mine.yaml", "hydra.job.chdir=true", "hydra.run.dir=run"]
    assert main(args) == 0
    assert json.loads(Path("run/summary.json").read_text())["scenario"] == "mine"
    assert Path.cwd() == tmp_path


def test_a_failure_after_results_are_written_publishes_nothing(tmp_path, monkeypatch, capsys):
    import sim.pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("the report failed")

    monkeypatch.setattr(sim.pipeline, "write_report", broken)
    run = tmp_path / "run"
    with pytest.raises(SystemExit):  # Hydra reports the crash and exits 1
        main([*TINY, "mc.chunk=2", f"hydra.run.dir={run}"])
    partial = runfolder.partial_of(run)
    assert not run.exists()
    left = sorted(str(p.relative_to(partial)) for p in partial.rglob("*") if p.is_file())
    assert left and all(p.startswith("chunks/draws-") for p in left)  # resumable, nothing else


def test_two_concurrent_runs_into_one_folder_one_wins_and_nothing_is_mixed(tmp_path):
    run = tmp_path / "run"
    procs = []
    for seed in (1, 2):
        cmd, kw = _cli([*TINY, "mc.draws=24", f"mc.seed={seed}", f"hydra.run.dir={run}"], tmp_path)
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw))
    outs = [
        (p.wait(timeout=300), p.stdout.read().decode(), p.stderr.read().decode()) for p in procs
    ]
    for p in procs:
        p.stdout.close(), p.stderr.close()
    codes = sorted(code for code, _, _ in outs)
    assert codes == [0, 2], outs
    (_, won_out, _), (_, _, lost_err) = sorted(outs, key=lambda o: o[0])
    assert f"results: {run}" in won_out
    lines = lost_err.strip().splitlines()
    assert len(lines) == 1 and ("another run is writing" in lines[0] or "mc.overwrite" in lines[0])
    seed = json.loads((run / "summary.json").read_text())["seed"]
    assert yaml.safe_load((run / "config.yaml").read_text())["mc"]["seed"] == seed
    assert f"mc.seed={seed}" in (run / ".hydra" / "overrides.yaml").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_ctrl_c_prints_one_line_exits_130_and_keeps_finished_chunks(tmp_path):
    run = tmp_path / "run"
    partial = runfolder.partial_of(run)
    args = [
        "mc.draws=400",
        "mc.chunk=2",
        "population.n_agents=2000",
        "report=false",
        "calibration=none",
    ]
    cmd, kw = _cli([*args, f"hydra.run.dir={run}"], tmp_path)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)
    deadline = time.monotonic() + 240
    chunks = partial / storage.CHUNKS
    while len(list(chunks.glob("draws-*.npz"))) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert err.strip().splitlines() == [
        f"aiplus-sim: interrupted; resume with mc.resume=true hydra.run.dir={run}"
    ]
    assert len(list(chunks.glob("draws-*.npz"))) >= 2 and not run.exists()
    assert not (partial / "config.yaml").exists() and not (partial / runfolder.LOCK).exists()
