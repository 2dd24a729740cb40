"""Compose the validated sections and the scenario overlay into one :class:`~sim.spec.Spec`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.spec import evaluation as ev
from sim.spec import sections as sec
from sim.spec.model import Spec
from sim.spec.reader import Reader, load_tables
from sim.spec.scenario import validate_programmes, validate_scenario

#: Top-level keys of the composed configuration.
TOP_KEYS = (
    "scenario",
    "compare",
    "shocks",
    "mc",
    "time",
    "rules",
    "primary",
    "targets",
    "population",
    "levers",
    "priors",
    "uncertainty",
    "calibration",
    "report",
    "engine",
    "drivers",
    "design",
)


def build_spec(
    cfg: Mapping[str, Any],
    *,
    scenarios_dir: Path,
    sources: Mapping[str, str] | None = None,
) -> Spec:
    """Validate a composed configuration and the scenario it names; return the typed spec.

    Parameters
    ----------
    cfg : mapping
        The composed configuration (Hydra's, as a plain container, without the ``hydra`` node).
    scenarios_dir : Path
        Folder of planner scenario files, ``NAME.yaml``.
    sources : mapping, optional
        Top-level key -> description of the file (or command line) it came from, for messages.

    Raises
    ------
    ConfigError
        On the first unknown key, missing file, malformed value or value out of range.
    """
    sources = dict(sources or {})

    def reader(top: str) -> Reader:
        return Reader(sources.get(top, "conf/config.yaml"), top)

    for top in cfg:  # a key added on the command line (+key=...) is blamed on it
        Reader(sources.get(top, "conf/config.yaml")).known({top: None}, TOP_KEYS)
    engine = sec.validate_engine(reader("engine"), cfg.get("engine", "core"))
    tables = load_tables()
    overlay = validate_scenario(cfg, scenarios_dir=scenarios_dir, sources=sources)
    mc = sec.validate_mc(reader("mc"), cfg.get("mc"), reader("uncertainty"), cfg.get("uncertainty"))
    time = sec.validate_time(reader("time"), cfg.get("time"))
    population = sec.validate_population(reader("population"), cfg.get("population"))
    rules, fixed = sec.validate_rules(reader("rules"), cfg.get("rules"))
    pr = reader("priors")
    praw, priors, curvature = sec.validate_priors(
        pr, cfg.get("priors"), rules=rules, overlay=overlay
    )
    levers, effects = sec.validate_levers(
        reader("levers"), cfg.get("levers"), pr, praw.get("levers"), overlay=overlay, tables=tables
    )
    priors = sec.check_priors(pr, {**priors, **effects}, rules=rules, fixed=fixed)
    programmes = validate_programmes(overlay, tables)
    shocks = sec.validate_shocks(
        reader("shocks"),
        cfg.get("shocks"),
        pr,
        praw.get("shocks"),
        overlay=overlay,
        start=time.start,
    )
    costs = sec.validate_costs(pr, praw.get("costs"), overlay=overlay)
    primary = ev.validate_primary(reader("primary"), cfg.get("primary"))
    targets = ev.validate_targets(reader("targets"), cfg.get("targets"), time, primary)
    return Spec(
        scenario=overlay.scenario,
        population=population,
        rules=rules,
        priors=priors,
        levers=levers,
        lever_curvature=curvature,
        mc=mc,
        time=time,
        targets=targets,
        primary=primary,
        programmes=programmes,
        shocks=shocks,
        costs=costs,
        calibration=ev.validate_calibration(reader("calibration"), cfg.get("calibration")),
        report=sec.validate_report(reader("report"), cfg.get("report", True)),
        engine=engine,
    )
