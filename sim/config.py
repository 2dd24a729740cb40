"""The Hydra edge: compose ``conf/`` with overrides and turn the result into a typed Spec.

Only this module, :mod:`sim.cli` and :mod:`sim.api` import Hydra or OmegaConf.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim import paths, runfolder
from sim.spec import ConfigError, Spec, build_spec
from sim.spec.analysis import DesignSpec, DriversSpec, read_design, read_drivers

GROUPS = (
    "population",
    "levers",
    "priors",
    "uncertainty",
    "shocks",
    "calibration",
    "drivers",
    "design",
)

if not OmegaConf.has_resolver("aiplus_outputs"):
    OmegaConf.register_new_resolver("aiplus_outputs", lambda: str(paths.outputs_dir()))


def sources(choices: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, str]:
    """Which file (or the command line) each top-level key came from, for error messages."""
    out = {g: f"conf/{g}/{choices.get(g)}.yaml" for g in GROUPS if choices.get(g)}
    for o in overrides:
        key = override_key(o).split(".", 1)[0]
        out[key] = "command line"
    return out


def _compose(overrides: Sequence[str]) -> DictConfig:
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(paths.conf_dir()), version_base="1.3"):
            return compose("config", overrides=list(overrides), return_hydra_config=True)
    finally:
        GlobalHydra.instance().clear()


def compose_config(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose ``conf/config.yaml`` with Hydra overrides; problems become :class:`ConfigError`."""
    try:
        return _compose(overrides)
    except Exception as exc:  # Hydra raises several types; all mean a bad override
        raise _explain(exc, overrides) from None


def _explain(exc: Exception, overrides: Sequence[str]) -> ConfigError:
    """Name the override, the key and what is allowed, in one line."""
    base = _compose(())
    for o in overrides:
        key, _, value = o.lstrip("+~").partition("=")
        if key in GROUPS:
            options = sorted(p.stem for p in (paths.conf_dir() / key).glob("*.yaml"))
            if value not in options:
                return ConfigError(
                    "command line", key, f"unknown option {value!r}; allowed: {', '.join(options)}"
                )
            continue
        node, parts = base, key.split(".")
        for i, part in enumerate(parts):
            if not isinstance(node, DictConfig) or part not in node:
                parent = ".".join(parts[:i]) or "top level"
                allowed = ", ".join(str(k) for k in node) if isinstance(node, DictConfig) else ""
                return ConfigError(
                    "command line", key, f"unknown key under {parent}; allowed: {allowed}"
                )
            node = node[part]
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "Parse" in type(exc).__name__:
        return ConfigError("command line", "", f"malformed override ({first}); expected key=value")
    return ConfigError("command line", "", first)


def to_spec(cfg: DictConfig, overrides: Sequence[str] = ()) -> Spec:
    """Validate a composed config (with or without its ``hydra`` node) into a :class:`Spec`."""
    choices = {}
    if "hydra" in cfg:
        choices = OmegaConf.to_container(cfg.hydra.runtime.choices)
    plain = OmegaConf.to_container(cfg, resolve=False)
    plain.pop("hydra", None)
    where = sources(choices, overrides)
    try:
        plain = OmegaConf.to_container(OmegaConf.create(plain), resolve=True)
    except OmegaConfBaseException as exc:  # an interpolation ${...} that does not resolve
        key = str(getattr(exc, "full_key", None) or "")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            where.get(key.split(".", 1)[0], "conf/config.yaml"), key, f"cannot resolve: {first}"
        ) from None
    spec = build_spec(plain, scenarios_dir=paths.scenarios_dir(), sources=where)
    return dataclasses.replace(spec, overrides=run_overrides(overrides))


def run_overrides(overrides: Sequence[str]) -> tuple[str, ...]:
    """The overrides that change a run (Hydra's own ``hydra.*`` and the scenario's name left
    out: the scenario is recorded on its own)."""
    return tuple(
        o for o in overrides if not override_key(o).startswith(("hydra.", "scenario", "compare"))
    )


def to_specs(cfg: DictConfig, overrides: Sequence[str] = ()) -> tuple[Spec, ...]:
    """The runs a composed config asks for: its own, or one per scenario of ``compare``.

    Parameters
    ----------
    cfg : DictConfig
        A composed config (:func:`compose_config`, or the one Hydra hands a task).
    overrides : sequence of str
        The overrides it was composed with, to name the source of a bad value.

    Returns
    -------
    tuple of Spec
        One Spec; or, when ``cfg.compare`` names scenarios, one per scenario in that order (the
        reference first), alike but for the scenario.

    Raises
    ------
    sim.spec.ConfigError
        On the first bad value of any of the runs, or a ``scenario=`` beside ``compare=``.
    """
    spec = to_spec(cfg, overrides)  # checks compare= itself: two or more known scenarios
    compared = [str(name) for name in cfg.get("compare") or ()]
    if not compared:
        return (spec,)
    if any(override_key(o) == "scenario" for o in overrides):
        raise ConfigError(
            "command line", "compare", "give the scenarios in compare=, not scenario="
        )
    specs = []
    for name in compared:
        one = copy.deepcopy(cfg)
        one.scenario = name
        specs.append(to_spec(one, overrides))
    return tuple(specs)


def override_key(override: str) -> str:
    """The key an override sets: ``+mc.draws=5`` -> ``mc.draws``."""
    return override.lstrip("+~").split("=", 1)[0]


def run_dir(cfg: DictConfig, *, sweep: bool = False) -> Path:
    """The folder a composed config's run writes to: ``hydra.run.dir`` (``hydra.sweep.dir`` for a
    sweep) resolved, whichever way it was set, with ``~`` expanded, absolute."""
    key = f"hydra.{'sweep' if sweep else 'run'}.dir"
    try:
        value = OmegaConf.select(cfg, key, throw_on_resolution_failure=True)
    except OmegaConfBaseException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError("command line", key, f"cannot resolve: {first}") from None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("command line", key, f"expected a folder, got {value!r}")
    return runfolder.absolute(value)


def is_sweep(overrides: Sequence[str]) -> bool:
    """Whether the overrides ask Hydra for a sweep without ``-m`` (``hydra.mode=MULTIRUN``)."""
    return any(
        override_key(o) == "hydra.mode" and o.partition("=")[2].strip().upper() == "MULTIRUN"
        for o in overrides
    )


def sweep_jobs(overrides: Sequence[str]) -> tuple[list[list[str]], list[str]]:
    """Expand a sweep's overrides (``key=a,b``, ``range(...)``, ``choice(...)``, ``glob(...)``) as
    Hydra's basic sweeper does: every combination, in order.

    Returns
    -------
    jobs : list of list of str
        Each job's overrides, without ``hydra.mode``.
    swept : list of str
        The keys swept over, in the order given.

    Raises
    ------
    sim.spec.ConfigError
        On an override that does not parse or a sweep the basic sweeper cannot expand.
    """
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra._internal.utils import create_config_search_path
    from hydra.core.override_parser.overrides_parser import OverridesParser

    plain = [o for o in overrides if override_key(o) != "hydra.mode"]
    # The loader lets glob(...) list a group's options, as in Hydra's own sweeps.
    loader = ConfigLoaderImpl(config_search_path=create_config_search_path(str(paths.conf_dir())))
    try:
        parsed = OverridesParser.create(config_loader=loader).parse_overrides(plain)
        swept = [o.get_key_element() for o in parsed if o.is_sweep_override()]
        (jobs,) = BasicSweeper.split_arguments(parsed, None)
    except Exception as exc:  # Hydra raises several types; all mean a bad sweep
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError("command line", "", f"cannot expand the sweep: {first}") from None
    return [list(j) for j in jobs], swept


def load_spec(overrides: Sequence[str] = ()) -> Spec:
    """Compose and validate in one step."""
    return to_spec(compose_config(overrides), overrides)


def to_analyses(
    cfg: DictConfig, spec: Spec, overrides: Sequence[str] = ()
) -> tuple[DriversSpec | None, DesignSpec | None]:
    """The analyses a composed config asks for beside its run: the drivers analysis
    (``drivers=sobol``) and the policy design (``design=NAME``), validated; None when not asked.

    Raises
    ------
    sim.spec.ConfigError
        On a bad value, or drivers or a design beside ``compare=``.
    """
    choices = OmegaConf.to_container(cfg.hydra.runtime.choices) if "hydra" in cfg else {}
    where = sources(choices, overrides)

    def plain(key: str) -> Any:
        node = cfg.get(key)
        return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node

    drivers = read_drivers(plain("drivers"), where.get("drivers", "conf/config.yaml"))
    if drivers is not None and cfg.get("compare"):
        raise ConfigError("command line", "drivers", "drivers analyse one run, not compare=")
    if cfg.get("design") is None:
        return drivers, None
    if cfg.get("compare"):
        raise ConfigError("command line", "design", "a design runs one scenario, not compare=")
    years = tuple(t.year for t in spec.targets if t.primary)
    return drivers, read_design(plain("design"), where.get("design", "conf/config.yaml"), years)
