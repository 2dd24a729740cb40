"""Python API for notebooks: the same configs as the command line, results as a Dataset."""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr

from sim import comparison, pipeline, targets
from sim.config import load_spec


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
        On an unknown scenario or key, or a value out of range.
    """
    ds, _ = pipeline.run_one(load_spec([f"scenario={scenario}", *overrides]))
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
    specs = [load_spec([f"scenario={s}", *overrides]) for s in scenarios]
    _, comp = pipeline.run_comparison(specs)
    return comp
