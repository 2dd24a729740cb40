"""Python API for notebooks: the same configs as the command line, results as a Dataset."""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr

from sim import comparison, design, pipeline, targets
from sim.config import compose_config, load_spec, to_analyses, to_spec
from sim.spec import ConfigError
from sim.spec.analysis import DesignSpec, DriversSpec


def run(scenario: str = "baseline", overrides: Sequence[str] = ()) -> xr.Dataset:
    """Run a scenario and return its results Dataset (see :mod:`sim.results`).

    Parameters
    ----------
    scenario : str
        Name of a file in ``scenarios/`` (without ``.yaml``).
    overrides : sequence of str
        Hydra overrides, as on the command line: ``["mc.draws=200", "levers=none"]``.

    Raises
    ------
    sim.spec.ConfigError
        On an unknown scenario or key, a value out of range, or ``design=`` (a design is
        :func:`design_programme`; ``drivers=sobol`` is :func:`analyse`).
    """
    overrides = [f"scenario={scenario}", *overrides]
    cfg = compose_config(overrides)
    spec = to_spec(cfg, overrides)
    drivers, designed = to_analyses(cfg, spec, overrides)
    if drivers is not None or designed is not None:
        raise ConfigError(
            "command line",
            "drivers" if designed is None else "design",
            "sim.run returns the results only; use sim.analyse (drivers=sobol) or "
            "sim.design_programme (design=NAME)",
        )
    ds, _ = pipeline.run_one(spec)
    return ds


def summarize(ds: xr.Dataset) -> dict:
    """Odds of every target recorded in ``ds``, as written to ``summary.json``."""
    return targets.summarize(ds)


def compare(scenarios: Sequence[str], overrides: Sequence[str] = ()) -> comparison.Comparison:
    """Run ``scenarios`` with common random numbers and compare each with the first.

    Every scenario is validated before any runs. Returns the comparison
    (:func:`sim.comparison.compare`); its ``to_dict()`` is the ``comparison.json`` content of
    ``python -m sim compare=...``.
    """
    cfg = compose_config([f"compare=[{','.join(scenarios)}]", *overrides])
    to_analyses(cfg, load_spec(overrides), overrides)  # refuses drivers= and design=
    specs = [load_spec([f"scenario={s}", *overrides]) for s in scenarios]
    _, comp = pipeline.run_comparison(specs)
    return comp


def analyse(scenario: str = "baseline", overrides: Sequence[str] = ()) -> tuple[xr.Dataset, dict]:
    """Run a scenario and analyse what drives its odds (``python -m sim drivers=sobol``).

    The analysis's settings are ``conf/drivers/sobol.yaml``'s, changed by ``drivers.*``
    overrides (``["drivers.n=16"]``). Returns the results and the summary, whose ``drivers``,
    ``discovery`` and ``next_observation`` entries hold the analysis (:mod:`sim.analysis`).
    """
    overrides = [f"scenario={scenario}", "drivers=sobol", *overrides]
    cfg = compose_config(overrides)
    spec = to_spec(cfg, overrides)
    settings, _ = to_analyses(cfg, spec, overrides)
    return pipeline.run_one(spec, drivers=settings or DriversSpec())


def design_programme(
    name: str = "reach_2027", scenario: str = "baseline", overrides: Sequence[str] = ()
) -> design.Design:
    """The cheapest lever intensities for a target's odds (``python -m sim design=NAME``):
    ``name`` is a file of ``conf/design/``, changed by ``design.*`` overrides. Its
    ``scenario_yaml(spec)`` is the scenario file; :func:`sim.report.charts.frontier_chart`
    draws it."""
    overrides = [f"scenario={scenario}", f"design={name}", *overrides]
    cfg = compose_config(overrides)
    spec = to_spec(cfg, overrides)
    _, settings = to_analyses(cfg, spec, overrides)
    found, _ = pipeline.run_design(spec, settings or DesignSpec())
    return found
