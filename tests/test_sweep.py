"""Sweeps (``-m``): every run validated before any is written, folders named by their overrides,
and one table of the odds across the runs."""

from __future__ import annotations

import csv
import json

import pytest

from sim import runfolder, sweep
from sim.cli import main

TINY = ["mc.draws=4", "population.n_agents=500", "report=false", "calibration=none"]


def test_a_bad_value_in_any_run_of_a_sweep_writes_nothing(tmp_path, capsys):
    args = ["-m", *TINY, "mc.seed=1,2", "rules.m=0.5,2", f"hydra.run.dir={tmp_path / 'sweep'}"]
    assert main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "rules.m: 2 is out of range" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_a_sweep_names_its_folders_by_overrides_and_tables_the_odds(tmp_path, capsys):
    out = tmp_path / "sweep"
    args = ["-m", *TINY, "mc.seed=1,2", "levers=current_policy,none", f"hydra.run.dir={out}"]
    assert main(args) == 0
    names = ["mc.seed=1,levers=current_policy", "mc.seed=1,levers=none"]
    names += ["mc.seed=2,levers=current_policy", "mc.seed=2,levers=none"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, "odds.csv"])
    with (out / "odds.csv").open() as f:
        rows = list(csv.DictReader(f))
    for name in names:
        summary = json.loads((out / name / "summary.json").read_text())
        mine = [r for r in rows if r["run"] == name]
        assert [float(r["p_hit"]) for r in mine] == [t["p_hit"] for t in summary["targets"]]
        assert {r["mc.seed"] for r in mine} == {str(summary["seed"])}
    printed = capsys.readouterr().out
    assert "sweep of 4 runs" in printed and f"results: {out}" in printed
    assert not runfolder.partial_of(out).exists()


def test_hydra_mode_multirun_is_a_sweep_too(tmp_path):
    out = tmp_path / "sweep"
    assert main([*TINY, "mc.seed=1,2", "hydra.mode=MULTIRUN", f"hydra.run.dir={out}"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["mc.seed=1", "mc.seed=2", "odds.csv"]


def test_an_interrupted_sweep_resumes_and_keeps_its_finished_runs(tmp_path, capsys):
    out = tmp_path / "sweep"
    done = runfolder.partial_of(out) / "mc.seed=1"
    assert main([*TINY, "mc.seed=1", f"hydra.run.dir='{done}'"]) == 0  # as if the sweep stopped
    before = (done / "results.nc").read_bytes()
    args = ["-m", *TINY, "mc.seed=1,2", f"hydra.run.dir={out}"]
    assert main(args) == 2
    assert "mc.resume=true" in capsys.readouterr().err
    assert main([*args, "mc.resume=true"]) == 0
    assert (out / "mc.seed=1" / "results.nc").read_bytes() == before  # not run again
    assert (out / "mc.seed=2" / "summary.json").is_file()


def test_a_sweep_refuses_to_resume_a_finished_run_of_another_configuration(tmp_path, capsys):
    out = tmp_path / "sweep"
    done = runfolder.partial_of(out) / "mc.seed=1"
    assert main([*TINY, "mc.seed=1", "mc.draws=3", f"hydra.run.dir='{done}'"]) == 0
    assert main(["-m", *TINY, "mc.seed=1,2", "mc.resume=true", f"hydra.run.dir={out}"]) == 2
    assert "another configuration" in capsys.readouterr().err


def test_compare_inside_a_sweep_is_refused(tmp_path, capsys):
    assert main(["-m", *TINY, "compare=baseline,compute_push", f"hydra.run.dir={tmp_path}/s"]) == 2
    assert "compare" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("pairs", "name"),
    [
        ([("scenario", "/tmp/my scenarios/x.yaml")], "scenario=_tmp_my scenarios_x.yaml"),
        ([], "run"),
        ([("a", "1"), ("b", "x")], "a=1,b=x"),
    ],
)
def test_folder_names_are_one_safe_path_component(pairs, name):
    assert sweep.folder_name(pairs) == name


def test_runs_that_look_alike_get_distinct_folders():
    jobs = sweep.jobs([["scenario=a/b.yaml"], ["scenario=a_b.yaml"]], ["scenario"])
    assert len({j.name for j in jobs}) == 2
