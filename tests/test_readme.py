"""Every command in the README runs as written, at a reduced size (``AIPLUS_QUICK=1``).

The commands are the lines of the README's ```bash blocks that start with ``python -m sim``
(``python -m sim.fit`` included) or ``make run``, and its inline ``make run ARGS="..."``, which
runs as ``python -m sim ...`` (the same command without make's virtual environment). Two
placeholders become real paths: ``/tmp/`` a temporary folder and ``path/to/my_scenario.yaml``
a copy of a shipped scenario. Run folders go to a temporary ``AIPLUS_OUTPUTS``.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sim import results, rules

from helpers import TIMEOUT, cli_env

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

pytestmark = pytest.mark.slow


def readme_commands(text: str) -> list[str]:
    """The command lines of the ```bash blocks of ``text`` (continuations joined, comments
    dropped) that run the simulator or the curve fit."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith(("python -m sim", "make run")):
                out.append(" ".join(line.split()))
    out += re.findall(r'`(make run ARGS="[^"`]*")`', text)
    return [c for c in out if "..." not in c]  # "..." stands for the reader's own overrides


def as_argv(command: str, tmp: Path) -> list[str]:
    """The command as an argument list for this interpreter, placeholders made real."""
    command = command.replace("/tmp/", f"{tmp}/").replace(
        "path/to/my_scenario.yaml", str(tmp / "my_scenario.yaml")
    )
    if command.startswith("make run"):
        args = re.search(r'ARGS="([^"]*)"', command)
        command = "python -m sim " + (args.group(1) if args else "")
    argv = shlex.split(command)
    assert argv[:2] == ["python", "-m"], command
    return [sys.executable, *argv[1:]]


COMMANDS = readme_commands(README.read_text())


def command_groups(commands: list[str]) -> list[list[str]]:
    """The commands in groups run one after the other, in README order: those naming the same
    ``/tmp/`` folder together (a run, then the run that resumes or overwrites it), every other
    command alone, so that groups can run in parallel. A command repeated (``make run`` is
    ``python -m sim``) runs once."""
    groups: list[list[str]] = []
    by_folder: dict[str, list[str]] = {}
    seen: set[tuple[str, ...]] = set()
    for command in commands:
        argv = tuple(as_argv(command, Path("/tmp")))
        if argv in seen:
            continue
        seen.add(argv)
        folders = re.findall(r"/tmp/\w+", command)
        group = next((by_folder[f] for f in folders if f in by_folder), None)
        if group is None:
            group = []
            groups.append(group)
        group.append(command)
        by_folder.update(dict.fromkeys(folders, group))
    return groups


GROUPS = command_groups(COMMANDS)


def test_the_readme_has_the_commands_it_documents():
    assert len(COMMANDS) >= 15
    assert any("--list-scenarios" in c for c in COMMANDS)
    assert any("compare=" in c for c in COMMANDS)
    assert any(c.startswith("python -m sim.fit") for c in COMMANDS)
    assert any(c.startswith("make run ARGS=") for c in COMMANDS)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("readme")
    shutil.copy(ROOT / "scenarios" / "compute_push.yaml", tmp / "my_scenario.yaml")
    env = cli_env() | {"AIPLUS_QUICK": "1", "AIPLUS_OUTPUTS": str(tmp / "outputs")}
    return tmp, env


def _run(command: str, sandbox, *extra: str) -> subprocess.CompletedProcess[str]:
    tmp, env = sandbox
    return subprocess.run(
        [*as_argv(command, tmp), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
    )


def test_commands_naming_one_folder_run_together_and_in_order():
    groups = command_groups(["python -m sim a=/tmp/x", "python -m sim b", "make run",
                             "python -m sim", "python -m sim c=/tmp/x"])  # fmt: skip
    assert groups == [["python -m sim a=/tmp/x", "python -m sim c=/tmp/x"],
                      ["python -m sim b"], ["make run"]]  # fmt: skip
    assert sum(map(len, GROUPS)) == len({tuple(as_argv(c, Path("/tmp"))) for c in COMMANDS})


@pytest.mark.parametrize("group", GROUPS, ids=[g[0] for g in GROUPS])
def test_every_readme_command_runs_as_written(group, sandbox):
    failed = []
    for command in group:  # in README order: the resume line follows the run it resumes
        r = _run(command, sandbox)
        if r.returncode != 0 or "Traceback" in r.stderr + r.stdout:
            failed.append(f"$ {command}\n(exit {r.returncode})\n{r.stderr[-1500:]}")
    assert not failed, "\n\n".join(failed)


def test_the_plain_bass_command_follows_the_discrete_bass_curve(sandbox):
    command = next(c for c in COMMANDS if "population=single_market" in c)
    tmp, _ = sandbox
    out = tmp / "bass"
    r = _run(command, sandbox, f"hydra.run.dir={out}")
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["draws"] == 1  # nothing uncertain: one draw
    assert all(s["mean_events"] == 0 for s in summary["shocks"].values())  # no surge
    assert not (out / "charts" / "provinces.png").exists()  # one market: no province map
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    ds = results.read(out / "results.nc")
    n = int(ds.attrs["n_agents"])
    p, q, m, dt = 0.03, 0.38, 0.8, 1 / 12
    expected = [0.0]  # discrete Bass: potential adopters m - N adopt at hazard p + q N / m
    for _ in range(ds.sizes["time"] - 1):
        f = expected[-1]
        expected.append(f + (m - f) * rules.step_probability(p + q * f / m, dt))
    expected = np.array(expected)
    for tech in ("terminal", "agent"):
        share = results.share_path(ds, tech, "population").values[0]
        # One draw of n agents: binomial noise, 4 standard errors and a floor.
        se = np.sqrt(expected * (1 - expected) / n)
        assert np.all(np.abs(share - expected) <= 4 * se + 2e-3), tech
    xr.testing.assert_equal(
        ds["share"].sel(metric="firms", drop=True), ds["share"].sel(metric="population", drop=True)
    )


def test_fit_reads_a_relative_path_from_any_folder_of_the_checkout():
    args = ["sim/data/observations.csv", "--series", "genai_users_share", "--at", "2027"]
    for cwd in (ROOT, ROOT / "tests"):
        r = subprocess.run(
            [sys.executable, "-m", "sim.fit", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=TIMEOUT,
        )
        assert r.returncode == 0, (cwd, r.stderr)
        assert "2027" in r.stdout


def test_help_is_one_short_page_naming_the_main_entry_points():
    r = subprocess.run(
        [sys.executable, "-m", "sim", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=TIMEOUT,
    )
    assert r.returncode == 0
    assert len(r.stdout.splitlines()) < 60
    for needle in ("usage:", "--list-scenarios", "compare=", "--help-all", "examples:"):
        assert needle in r.stdout
    assert "powered by Hydra" not in r.stdout
    full = subprocess.run(
        [sys.executable, "-m", "sim", "--help-all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=TIMEOUT,
    )
    assert full.returncode == 0 and "== Configuration groups ==" in full.stdout
