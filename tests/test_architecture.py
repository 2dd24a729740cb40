"""The package's shape: imports point down a declared order of layers, with no cycles; only the
edge knows Hydra; shared concepts live once (statistics in sim.stats, vocabulary in sim.vocab)."""

from __future__ import annotations

import ast
import re
from fnmatch import fnmatch
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"
MODULES = sorted(SIM.rglob("*.py"))

#: Layers, lowest first. A module may import modules of its own layer or of a layer below it,
#: never above. The first pattern a module name matches places it.
LAYERS: tuple[tuple[str, ...], ...] = (
    # Vocabulary, formulas and generic methods: they know nothing of the model.
    ("sim.vocab", "sim.paths", "sim.streams", "sim.stats", "sim.rules", "sim.rules.*",
     "sim.data", "sim.smc", "sim.sensitivity", "sim.discovery", "sim.engine.progress",
     "sim.report.style", "sim.report.tiles", "sim.runfolder"),
    ("sim.observations",),
    ("sim.spec", "sim.spec.*"),
    ("sim.demography", "sim.population", "sim.shocks", "sim.priors", "sim.fit", "sim.fit.*"),
    ("sim.costs", "sim.layout", "sim.drivers", "sim.recording", "sim.readings"),
    ("sim.results",),
    # Engines, and what reads results.
    ("sim.engine.core", "sim.engine.kernel", "sim.abm", "sim.abm.*", "sim.engine.storage",
     "sim.engine.backends", "sim.targets", "sim.calibration"),
    ("sim.engine", "sim.comparison", "sim.posterior", "sim.analysis", "sim.design"),
    ("sim.report", "sim.report.*"),
    ("sim.pipeline",),
    # The edge: command line, Hydra, the Python API, user interfaces.
    ("sim.config", "sim.api", "sim.cli", "sim.console", "sim.sweep", "sim", "sim.__main__",
     "sim.ui", "sim.ui.*"),
)  # fmt: skip
#: Only these modules may import Hydra or OmegaConf.
HYDRA_EDGE = {"sim.cli", "sim.config", "sim.api", "sim", "sim.__main__"}
#: Only these may import matplotlib: the report and the user interface.
DRAWING = ("sim.report", "sim.report.*", "sim.ui", "sim.ui.*")


def _name(path: Path) -> str:
    parts = list(path.relative_to(SIM.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {_name(p): p for p in MODULES}


def _runtime_nodes(tree: ast.AST):
    """Every node outside ``if TYPE_CHECKING:`` blocks (imports for type hints only)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        yield node
        yield from _runtime_nodes(node)


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports at run time: ``from sim.x import y`` counts as ``sim.x.y`` where
    that is a module of the package, else as ``sim.x``."""
    name, out = _name(path), set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name.split(".")[: None if path.name == "__init__.py" else -1]
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join([*pkg, *([node.module] if node.module else [])])
            subs = {f"{base}.{a.name}" for a in node.names} & NAMES.keys()
            out |= subs or {base}
            if len(subs) < len(node.names) and subs:
                out.add(base)
    return out


GRAPH = {n: {m for m in _imports(p) if m in NAMES and m != n} for n, p in NAMES.items()}


def _layer(name: str) -> int:
    for i, patterns in enumerate(LAYERS):
        if any(fnmatch(name, pat) for pat in patterns):
            return i
    raise AssertionError(f"{name} is in no layer: add it to LAYERS in {__file__}")


def _matches(name: str, patterns) -> bool:
    return any(fnmatch(name, p) for p in patterns)


@pytest.mark.parametrize("name", sorted(NAMES))
def test_imports_point_down_the_layers(name):
    above = {m for m in GRAPH[name] if _layer(m) > _layer(name)}
    assert not above, f"{name} (layer {_layer(name)}) imports higher layers: {sorted(above)}"


def test_there_are_no_import_cycles():
    # Tarjan's strongly connected components: any component of two or more modules is a cycle.
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_layer_check_catches_an_upward_import():
    # The check itself must be able to fail: the population importing the report would.
    assert _layer("sim.report.document") > _layer("sim.population")
    assert _layer("sim.cli") == len(LAYERS) - 1


@pytest.mark.parametrize("name", sorted(NAMES))
def test_only_the_edge_knows_hydra(name):
    if name in HYDRA_EDGE:
        return
    bad = {m for m in _imports(NAMES[name]) if m.split(".")[0] in {"hydra", "omegaconf"}}
    assert not bad, f"{name} imports {bad}"


@pytest.mark.parametrize("name", sorted(NAMES))
def test_simulation_modules_never_import_matplotlib(name):
    if _matches(name, DRAWING):
        return
    assert not {m for m in _imports(NAMES[name]) if m.startswith("matplotlib")}


@pytest.mark.parametrize("name", [n for n in sorted(NAMES) if _matches(n, ("sim.rules*",))])
def test_rules_import_nothing_from_the_rest_of_sim(name):
    bad = {
        m for m in _imports(NAMES[name]) if m.startswith("sim") and not m.startswith("sim.rules")
    }
    assert not bad, f"{name} imports {bad}"


def test_the_vocabulary_imports_nothing_from_the_package():
    assert not {m for m in _imports(NAMES["sim.vocab"]) if m.startswith("sim")}


#: Statistics defined once, in sim.stats: a function of one of these names, or one of these
#: formulas (Kish's effective sample size, Wilson's centre), anywhere else is a second copy.
STAT_NAMES = re.compile(r"wilson|weighted_quantile|effective_sample|effective_draws|kish|_ess$")
STAT_FORMULAS = (
    re.compile(r"\*\*\s*2\s*/\s*(np\.)?(sum|square)\("),  # Kish: (sum w)^2 / sum w^2
    re.compile(r"\.sum\(\)\s*\*\*\s*2\s*/"),  # Kish, written on the sum
    re.compile(r"4\s*\*\s*n\s*\*\s*p\s*\*\s*\(1\s*-\s*p\)"),  # Wilson's half-width
    re.compile(r"cumsum\(\w+\)\s*-\s*0\.5\s*\*"),  # a quantile at mid-points of cumulative weights
)


@pytest.mark.parametrize("name", sorted(NAMES))
def test_statistics_are_defined_only_in_sim_stats(name):
    if name == "sim.stats":
        return
    text = NAMES[name].read_text()
    defined = {
        node.name
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef) and STAT_NAMES.search(node.name.lower())
    }
    assert not defined, f"{name} defines {defined}: use sim.stats"
    formulas = [f.pattern for f in STAT_FORMULAS if f.search(text)]
    assert not formulas, f"{name} writes a statistic of sim.stats again: {formulas}"


def test_the_statistics_check_finds_the_definitions_in_sim_stats():
    text = NAMES["sim.stats"].read_text()
    names = {n.name for n in ast.walk(ast.parse(text)) if isinstance(n, ast.FunctionDef)}
    assert {"wilson", "weighted_quantile", "effective_sample_size"} <= names
    assert any(f.search(text) for f in STAT_FORMULAS)


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


def test_random_streams_are_keyed_only_in_sim_streams():
    for name, path in NAMES.items():
        if name != "sim.streams":
            assert "SeedSequence(" not in path.read_text(), f"{name} builds its own stream key"


#: No module over about 500 lines, no function over about 80 lines of code (docstring aside).
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 530, 85


@pytest.mark.parametrize("name", sorted(NAMES))
def test_modules_and_functions_stay_short(name):
    text = NAMES[name].read_text()
    assert text.count("\n") <= MAX_MODULE_LINES, f"{name} has {text.count(chr(10))} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef):
            body = node.body
            doc = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            skip = body[0].end_lineno - body[0].lineno + 1 if doc else 0
            n = node.end_lineno - node.lineno + 1 - skip
            assert n <= MAX_FUNCTION_LINES, f"{name}.{node.name} has {n} lines of code"
