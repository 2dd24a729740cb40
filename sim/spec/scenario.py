"""The planner's scenario overlay: a file in ``scenarios/`` that overrides the configuration.

A scenario names itself (title and description) and may override lever schedules and scopes,
priors, shocks and costs, and add programmes. :func:`validate_scenario` finds and reads the file
and checks its top level; each overridden section is checked where the configuration section it
overrides is validated (:mod:`sim.spec.sections`), so messages keep the order of the sections.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.spec.model import Programme, Scenario
from sim.spec.reader import Reader, Tables, load_yaml, read_schedule, read_scope
from sim.vocab import LEVERS, ConfigError

#: Keys a scenario file may hold.
SCENARIO_KEYS = ("title", "description", "levers", "programmes", "priors", "shocks", "costs")


@dataclass(frozen=True)
class Overlay:
    """A scenario file, read and checked at its top level.

    Attributes
    ----------
    scenario : Scenario
        Its name, title and description.
    reader : Reader
        Reader that names the file in messages.
    raw : mapping
        The file's contents, as read.
    """

    scenario: Scenario
    reader: Reader
    raw: Mapping[str, Any]

    @property
    def name(self) -> str:
        """The scenario's name (the file's stem)."""
        return self.scenario.name

    def section(self, key: str) -> Mapping[str, Any]:
        """The file's ``key`` mapping (empty when absent)."""
        return self.reader.mapping(self.raw.get(key), key)


def scenario_names(scenarios_dir: Path) -> tuple[str, ...]:
    """Names of the scenario files in ``scenarios_dir``, sorted."""
    return tuple(sorted(p.stem for p in scenarios_dir.glob("*.yaml")))


def scenario_titles(scenarios_dir: Path) -> tuple[tuple[str, str], ...]:
    """``(name, title)`` of every shipped scenario, sorted by name."""
    out = []
    for name in scenario_names(scenarios_dir):
        title = load_yaml(scenarios_dir / f"{name}.yaml").get("title")
        out.append((name, " ".join(str(title).split()) if title else "(no title)"))
    return tuple(out)


def locate_scenario(
    name: Any, known: Sequence[str], scenarios_dir: Path, where: str, key: str
) -> tuple[str, Path]:
    """Name and path of a scenario given by name (``scenarios/NAME.yaml``) or by a .yaml path."""
    if isinstance(name, str) and name.endswith((".yaml", ".yml")):
        path = Path(name).expanduser()
        return path.stem, path
    if isinstance(name, str) and name in known:
        return name, scenarios_dir / f"{name}.yaml"
    raise ConfigError(
        where,
        key,
        f"unknown scenario {name!r}; allowed: {', '.join(known)} or a path to a .yaml file",
    )


def validate_compare(compare: Any, known: Sequence[str], scenarios_dir: Path, where: str) -> None:
    """A comparison names a reference scenario and the scenarios compared with it."""
    if isinstance(compare, str) or not isinstance(compare, Sequence) or len(compare) < 2:
        raise ConfigError(
            where,
            "compare",
            "expected two or more scenarios, the reference first, "
            "e.g. compare=baseline,compute_push",
        )
    stems = [locate_scenario(c, known, scenarios_dir, where, "compare")[0] for c in compare]
    if len(set(stems)) < len(stems):
        raise ConfigError(where, "compare", f"a scenario is listed twice: {', '.join(stems)}")


def validate_scenario(
    cfg: Mapping[str, Any], *, scenarios_dir: Path, sources: Mapping[str, str]
) -> Overlay:
    """Check the ``scenario`` and ``compare`` keys and read the scenario file's top level.

    A name picks ``scenarios/NAME.yaml``; a value ending in .yaml is a path to a planner's own file.
    """
    known = scenario_names(scenarios_dir)
    where = sources.get("scenario", "command line")
    name, path = locate_scenario(cfg.get("scenario"), known, scenarios_dir, where, "scenario")
    if cfg.get("compare"):
        where = sources.get("compare", "command line")
        validate_compare(cfg["compare"], known, scenarios_dir, where)
    raw = load_yaml(path)
    r = Reader(str(path))
    r.known(raw, SCENARIO_KEYS)
    for k in ("title", "description"):
        if not isinstance(raw.get(k), str) or not raw[k].strip():
            raise r.fail(k, "every scenario needs a title and a description (text)")
    sets = tuple(
        f"{k}.{sub}" for k in SCENARIO_KEYS[2:] if isinstance(raw.get(k), Mapping) for sub in raw[k]
    )
    scenario = Scenario(name, raw["title"].strip(), " ".join(raw["description"].split()), sets)
    return Overlay(scenario, r, raw)


def validate_programmes(overlay: Overlay, tables: Tables) -> tuple[Programme, ...]:
    """A scenario's ``programmes``: name -> {lever, intensity (by year), scope}."""
    sr = overlay.reader
    out = []
    for name, praw in overlay.section("programmes").items():
        k = f"programmes.{name}"
        m = sr.mapping(praw, k)
        sr.known(m, ("lever", "intensity", "scope"), k)
        lever = sr.choice(m.get("lever"), LEVERS, f"{k}.lever")
        if not m.get("intensity"):
            raise sr.fail(f"{k}.intensity", "needs an intensity schedule by year, e.g. {2026: 1.0}")
        schedule = read_schedule(sr, m["intensity"], f"{k}.intensity")
        scope = read_scope(sr, m.get("scope"), f"{k}.scope", tables)
        out.append(Programme(str(name), lever, schedule, scope))
    return tuple(out)
