"""The command line and the Python API, end to end, and clean errors for bad inputs."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import xarray as xr

import sim
from sim import paths, results
from sim.config import load_spec
from sim.spec import ConfigError

from helpers import FAST, run_cli


def test_cli_runs_end_to_end_from_another_folder(tmp_path):
    out = tmp_path / "run"
    r = run_cli([*FAST, f"hydra.run.dir={out}"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "2027 > 70%" in r.stdout and "P(hit)" in r.stdout
    for name in ("config.yaml", "results.nc", "summary.json"):
        assert (out / name).is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "baseline" and summary["draws"] == 6
    assert {(t["year"], t["metric"]) for t in summary["targets"]} == {
        (y, m)
        for y in (2027, 2030)
        for m in ("population", "internet_users", "firms", "firm_employment")
    }
    ds = xr.open_dataset(out / "results.nc", engine="h5netcdf")
    assert ds["share"].dims == ("draw", "time", "tech", "metric")
    assert ds.attrs["seed"] == summary["seed"] and ds.attrs["scenario"] == "baseline"
    assert "numpy" in json.loads(ds.attrs["versions"])
    ds.close()


def test_abm_engine_writes_the_same_files_and_schema_as_the_core(tmp_path):
    tiny = ["mc.draws=3", "population.n_agents=150", "calibration.method=none"]
    runs = {}
    for engine in ("core", "abm"):
        out = tmp_path / engine
        r = run_cli([*tiny, f"engine={engine}", f"hydra.run.dir={out}"], cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "P(hit)" in r.stdout
        with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
            runs[engine] = (ds.load(), json.loads((out / "summary.json").read_text()))
    (core, s_core), (abm, s_abm) = runs["core"], runs["abm"]
    assert abm.attrs["engine"] == "abm" and core.attrs["engine"] == "core"
    assert set(abm.attrs) == set(core.attrs) and set(abm.variables) == set(core.variables)
    for name, var in core.variables.items():
        assert (abm[name].dims, abm[name].dtype) == (var.dims, var.dtype), name
    assert s_abm.keys() == s_core.keys()
    assert [t.keys() for t in s_abm["targets"]] == [t.keys() for t in s_core["targets"]]


def test_cli_runs_from_a_subfolder_of_the_checkout(tmp_path):
    out = tmp_path / "run"
    r = run_cli([*FAST, "mc.draws=2", f"hydra.run.dir={out}"], cwd=paths.project_root() / "sim")
    assert r.returncode == 0, r.stderr
    assert (out / "summary.json").is_file()


def test_a_comparison_calibrates_each_scenario_as_a_single_run_would(tmp_path):
    out = tmp_path / "comparison"
    cal = ["calibration=importance", "calibration.method=importance", "calibration.ess_min=1"]
    args = ["compare=baseline,compute_push", *FAST, *cal, "report=false", f"hydra.run.dir={out}"]
    r = run_cli(args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for name in ("baseline", "compute_push"):
        single = sim.run(name, [*FAST, *cal])
        ds = results.read(out / name / "results.nc")
        xr.testing.assert_identical(ds["weight"], single["weight"])
        summary = json.loads((out / name / "summary.json").read_text())
        assert summary["calibration"]["status"] == "ok"
        # The same run but for its overrides (report=false here): the same summary.
        expected = json.loads(json.dumps(sim.summarize(single)))
        assert summary.pop("overrides") != expected.pop("overrides")
        assert summary == expected


def _write(tmp_path, text):
    p = tmp_path / "scenario.yaml"
    p.write_text(text)
    return str(p)


UNKNOWN_LEVER = "title: t\ndescription: d\nlevers: {warp: {intensity: {2026: 1}}}"
BAD_YEAR = "title: t\ndescription: d\nlevers: {data: {intensity: {soon: 1}}}"

BAD = {
    "unknown scenario": lambda tmp: ["scenario=nosuch"],
    "unknown key": lambda tmp: ["mc.nosuch=3"],
    "negative draws": lambda tmp: ["mc.draws=-5"],
    "probability above one": lambda tmp: ["rules.m=1.5"],
    "unknown group option": lambda tmp: ["levers=nosuch"],
    "malformed yaml": lambda tmp: [f"scenario={_write(tmp, 'title: [unclosed')}"],
    "missing file": lambda tmp: [f"scenario={tmp / 'absent.yaml'}"],
    "unknown lever": lambda tmp: [f"scenario={_write(tmp, UNKNOWN_LEVER)}"],
    "bad year": lambda tmp: [f"scenario={_write(tmp, BAD_YEAR)}"],
    "unknown engine": lambda tmp: ["engine=gpu"],
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gives_one_clean_line_and_no_output(tmp_path, case):
    out = tmp_path / "out"
    r = run_cli([*BAD[case](tmp_path), f"hydra.run.dir={out}"], cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr and lines[0].startswith("aiplus-sim: error:")
    assert not out.exists()


def test_error_names_file_key_and_allowed_values(tmp_path):
    path = _write(tmp_path, UNKNOWN_LEVER)
    with pytest.raises(ConfigError) as e:
        load_spec([f"scenario={path}"])
    msg = str(e.value)
    assert path in msg and "levers.warp" in msg and "compute" in msg and "allowed" in msg


def test_out_of_range_prior_in_a_scenario_is_rejected(tmp_path):
    path = _write(
        tmp_path,
        "title: t\ndescription: d\npriors:\n  agent.m: "
        "{dist: uniform, low: 0.5, high: 1.2, reason: x}",
    )
    with pytest.raises(ConfigError, match=r"agent\.m.*\[0, 1\]"):
        load_spec([f"scenario={path}"])


def test_every_config_combination_composes():
    conf = paths.conf_dir()
    options = {
        g: sorted(p.stem for p in (conf / g).glob("*.yaml"))
        for g in ("population", "levers", "priors", "uncertainty")
    }
    for combo in itertools.product(*options.values()):
        spec = load_spec([f"{g}={o}" for g, o in zip(options, combo, strict=True)])
        assert spec.mc.draws > 0


def test_every_shipped_scenario_loads():
    for p in paths.scenarios_dir().glob("*.yaml"):
        assert load_spec([f"scenario={p.stem}"]).scenario.name == p.stem


def test_python_api_runs_and_summarizes():
    ds = sim.run("baseline", overrides=FAST)
    s = sim.summarize(ds)
    # Two target years, each under every reading: 4 metrics x 3 technologies.
    assert s["draws"] == 6 and len(s["targets"]) == 2 * 4 * 3
    assert all(0.0 <= t["ci95"][0] <= t["p_hit"] <= t["ci95"][1] <= 1.0 for t in s["targets"])


def test_rule_parameters_can_be_fixed_from_the_command_line():
    spec = load_spec(["rules.p=0.01", "rules.q=0.2", "rules.m=0.9"])
    priors = {p.name: p for p in spec.priors}
    for tech in ("terminal", "agent"):
        assert priors[f"{tech}.p"].dist == "fixed" and priors[f"{tech}.p"].central == 0.01
        assert priors[f"{tech}.m"].central == 0.9


def test_installed_wheel_layout_finds_packaged_configs(monkeypatch, tmp_path):
    """A wheel carries conf/ and scenarios/ inside the package (pyproject force-include)."""
    pyproject = (Path(paths.project_root()) / "pyproject.toml").read_text()
    assert '"conf" = "sim/_conf"' in pyproject and '"scenarios" = "sim/_scenarios"' in pyproject
    monkeypatch.setattr(paths, "project_root", lambda: None)
    assert paths.conf_dir().name == "_conf" and paths.conf_dir().parent.name == "sim"
