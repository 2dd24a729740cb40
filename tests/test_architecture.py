"""Imports point inward: edge -> engines/report -> rules/levers/results."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"
EDGE = {"cli.py", "config.py", "api.py", "__init__.py", "__main__.py"}
#: The explorer is a user interface, an edge like the command line: it may draw.
UI = {"ui/explorer.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


MODULES = sorted(p for p in SIM.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SIM)))
def test_only_the_edge_knows_hydra(path):
    if path.relative_to(SIM).as_posix() in EDGE:
        return
    bad = {m for m in _imports(path) if m.split(".")[0] in {"hydra", "omegaconf"}}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", sorted((SIM / "rules").glob("*.py")), ids=lambda p: p.name)
def test_rules_import_nothing_from_the_rest_of_sim(path):
    bad = {m for m in _imports(path) if m.startswith("sim") and not m.startswith("sim.rules")}
    assert not bad, f"rules/{path.name} imports {bad}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SIM)))
def test_simulation_modules_never_import_matplotlib(path):
    rel = path.relative_to(SIM).as_posix()
    if rel.startswith("report/") or rel in UI:
        return
    assert not {m for m in _imports(path) if m.startswith("matplotlib")}


def test_no_global_random_state_in_the_package():
    for path in MODULES:
        text = path.read_text()
        for call in (
            "np.random.seed",
            "np.random.rand(",
            "np.random.random(",
            "np.random.normal(",
            "np.random.uniform(",
            "import random",
        ):
            assert call not in text, f"{path.name} uses {call}"


#: What the engines import: none of it may import an engine back (``sim.engine`` imports ``sim.abm``
#: for its registry of engines).
BELOW_ENGINES = ["drivers.py", "shocks.py", "results.py", "costs.py", "population.py", "abm"]


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if p.relative_to(SIM).parts[0] in BELOW_ENGINES],
    ids=lambda p: str(p.relative_to(SIM)),
)
def test_what_the_engines_import_does_not_import_sim_engine(path):
    bad = {m for m in _imports(path) if m == "sim.engine" or m.startswith("sim.engine.")}
    assert not bad, f"{path.relative_to(SIM)} imports {bad}"
