"""The shipped planner scenarios: each loads and runs, is listed, and a bad file fails cleanly."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from sim import cli, drivers, paths
from sim.config import load_spec
from sim.engine import simulate
from sim.population import build
from sim.spec import ConfigError, scenario_names

from helpers import TINY, run_cli

SHIPPED = scenario_names(paths.scenarios_dir())
REQUIRED = {
    "baseline",
    "full_implementation",
    "headwinds",
    *(f"{lever}_push" for lever in ("models", "data", "compute", "app_environment")),
    *(f"{lever}_push" for lever in ("open_source", "talent", "policy_finance", "safety")),
    "ai_for_science",
    "smart_manufacturing",
    "smart_farm_machinery",
    "connected_vehicles_ai_phones",
    "ai_in_teaching",
    "government_service_agents",
}


def test_the_library_has_the_required_scenarios():
    assert REQUIRED <= set(SHIPPED)


@pytest.fixture(scope="module")
def baseline_params():
    return load_spec(TINY).param_names


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_loads_and_runs(name, baseline_params):
    spec = load_spec([*TINY, f"scenario={name}"])
    assert spec.scenario.name == name and spec.scenario.description
    # A scenario changes values, never the parameter list (common random numbers need it).
    assert spec.param_names == baseline_params
    ds = simulate(spec)
    share = ds["share"].values
    assert np.isfinite(share).all() and share.min() >= 0.0 and share.max() <= 1.0
    assert float(ds["public_cost"].sel(estimate="central").sum()) > 0.0


def test_every_scenario_file_says_what_it_assumes_and_why():
    for name in SHIPPED:
        text = (paths.scenarios_dir() / f"{name}.yaml").read_text()
        assert text.startswith("#"), f"{name}: begin with a comment saying what it assumes and why"
        assert "title:" in text and "description:" in text


def test_list_scenarios_names_every_file_and_the_readme_table_too(capsys):
    assert cli.main(["--list-scenarios"]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]}
    assert listed == set(SHIPPED)
    readme = (paths.project_root() / "README.md").read_text()
    in_table = set(re.findall(r"^\| `([a-z0-9_]+)` \|", readme, flags=re.MULTILINE))
    assert set(SHIPPED) <= in_table


def _response(x: float, k: float = 1.0) -> float:
    """The diminishing-returns response written out: (1 - e^-kx) / (1 - e^-k)."""
    return (1 - np.exp(-k * x)) / (1 - np.exp(-k))


def test_a_programme_adds_its_intensity_in_its_scope_only():
    spec = load_spec([*TINY, "scenario=ai_in_teaching"])
    pop = build(spec.population, seed=spec.mc.seed)
    lay = drivers.layout(spec, pop)
    resp = drivers.lever_responses(spec, lay, 2030.0)
    app = [lv.name for lv in spec.levers].index("app_environment")
    education = pop.cell_sector == list(pop.sectors).index("education")
    # Current policy (1) everywhere, plus 2 for education firms; responses are read beyond
    # today's (current policy is inside the calibrated trend).
    np.testing.assert_allclose(resp[app, education], _response(3.0) - _response(1.0))
    np.testing.assert_allclose(resp[app, ~education], 0.0)
    # Before the programme starts (and the lever's lag), nothing beyond current policy.
    np.testing.assert_allclose(drivers.lever_responses(spec, lay, 2025.5)[app], 0.0)


def test_a_programme_on_rates_raises_adoption_in_every_draw():
    """Purchase support for people's terminals acts on p only: with common random numbers no draw
    adopts less, and some adopt more."""
    base = simulate(load_spec(TINY))
    prog = simulate(load_spec([*TINY, "scenario=connected_vehicles_ai_phones"]))
    diff = (prog["share"] - base["share"]).sel(metric="population")
    assert float(diff.min()) >= -1e-6 and float(diff.max()) > 0.001


def test_a_lever_without_programmes_gives_the_same_results_as_before_programmes():
    """Programmes live in their own field: a spec whose programmes are dropped is baseline."""
    spec = load_spec([*TINY, "scenario=smart_farm_machinery"])
    assert spec.programmes
    xr.testing.assert_identical(
        simulate(replace(spec, programmes=()))["share"], simulate(load_spec(TINY))["share"]
    )


PROGRAMME = "programmes:\n  p: {lever: compute, intensity: {2026: 1.0}}\n"
BAD_FILES = {
    "unknown top-level key": ("budget: 5\n", "budget"),
    "programme on an unknown lever": (
        "programmes:\n  p: {lever: warp, intensity: {2026: 1}}\n",
        "programmes.p.lever",
    ),
    "programme with a bad year": (
        "programmes:\n  p: {lever: compute, intensity: {next: 1}}\n",
        "programmes.p.intensity.next",
    ),
    "programme with an unknown key": (
        "programmes:\n  p: {lever: compute, intensity: {2026: 1}, budget: 3}\n",
        "programmes.p.budget",
    ),
    "programme with an unknown scope": (
        "programmes:\n  p: {lever: compute, intensity: {2026: 1}, scope: {sizes: [huge]}}\n",
        "programmes.p.scope.sizes",
    ),
    "unknown shock": ("shocks:\n  meteor: {rate: 1}\n", "shocks.meteor"),
    "unknown shock parameter": ("shocks:\n  breakthrough: {size: 1}\n", "shocks.breakthrough.size"),
    "shock at a malformed month": (
        "shocks:\n  breakthrough: {at: [2027]}\n",
        "shocks.breakthrough.at",
    ),
    "incident deeper than total": (
        "shocks:\n  safety_incident: {depth: 1.5}\n",
        "shocks.safety_incident.depth",
    ),
    "cost of an unknown lever": ("costs: {warp: 3}\n", "costs.warp"),
    "negative cost": ("costs: {data: -3}\n", "costs.data"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_scenario_file_fails_with_one_line_naming_file_and_key(tmp_path, case):
    body, key = BAD_FILES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(f"title: t\ndescription: d\n{body}")
    with pytest.raises(ConfigError) as e:
        load_spec([f"scenario={path}"])
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg and key in msg, msg


def test_a_bad_scenario_file_exits_2_without_output(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(f"title: t\ndescription: d\n{BAD_FILES['programme on an unknown lever'][0]}")
    out = tmp_path / "out"
    r = run_cli([f"scenario={path}", f"hydra.run.dir={out}"], cwd=tmp_path)
    assert r.returncode == 2 and not out.exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aiplus-sim: error:") and str(path) in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["compare=baseline,nosuch"],
        ["compare=baseline"],
        ["compare=baseline,headwinds,baseline"],
        ["compare=baseline,headwinds", "scenario=headwinds"],
        ["compare=baseline,headwinds", "mc.draws=0"],
    ],
)
def test_a_bad_comparison_exits_2_without_output(tmp_path, capsys, args):
    out = tmp_path / "out"
    assert cli.main([*args, f"hydra.run.dir={out}"]) == 2
    assert not out.exists()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aiplus-sim: error:")
    assert ("compare" in lines[0]) or ("draws" in lines[0])


def test_compare_command_writes_a_comparison_and_prints_a_table(tmp_path):
    out = tmp_path / "cmp"
    r = run_cli(["compare=baseline,compute_push", *TINY, f"hydra.run.dir={out}"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "paired comparison with 'baseline'" in r.stdout and "compute_push" in r.stdout
    comp = json.loads((out / "comparison.json").read_text())
    assert [s["scenario"] for s in comp["scenarios"]] == ["baseline", "compute_push"]
    row = comp["scenarios"][1]["targets"][0]
    assert {"p_hit", "p_hit_diff", "p_hit_diff_ci95", "extra_cost_yuan"} <= set(row)
    for name in ("baseline", "compute_push"):
        summary = json.loads((out / name / "summary.json").read_text())
        assert summary["scenario"] == name and summary["public_cost"]["total"] > 0
        assert (out / name / "results.nc").is_file()
