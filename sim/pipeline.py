"""One way through a run: simulate, calibrate, summarise and, given a folder, write.

The command line (:mod:`sim.cli`) and the Python API (:mod:`sim.api`) both call these
functions with validated :class:`~sim.spec.Spec` objects, so a run, or a comparison of runs, is
calibrated and summarised the same way whichever edge started it. Nothing here knows Hydra.

A run folder holds ``results.nc`` (:mod:`sim.results`), ``summary.json``
(:func:`sim.targets.summarize`), ``odds.csv`` (:func:`sim.targets.odds_csv`), ``report.md`` and
``report.html``; a comparison folder holds one such folder
per scenario (without its report), ``comparison.json`` (:func:`sim.comparison.compare`) and the
comparison's ``report.md``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from sim import analysis, calibration, comparison, design, posterior, results, targets
from sim.engine import simulate, storage
from sim.report import write_comparison_report, write_report
from sim.spec import Spec
from sim.spec.analysis import DesignSpec, DriversSpec


def run_one(
    spec: Spec, *, folder: Path | None = None, drivers: DriversSpec | None = None
) -> tuple[xr.Dataset, dict]:
    """Simulate ``spec``, weight its draws by the observations and summarise the odds.

    Parameters
    ----------
    spec : Spec
        A validated configuration (:func:`sim.config.load_spec`).
    folder : Path, optional
        Run folder (exists). Finished chunks are kept there while the draws run (a killed run
        resumes with ``spec.mc.resume``); then ``results.nc``, ``summary.json`` and the run
        report are written and the chunks removed. None: nothing is written.
    drivers : DriversSpec, optional
        Also analyse what drives the odds (:func:`analyse`): ``summary`` gains ``drivers``,
        ``discovery`` and ``next_observation``, the folder ``drivers.nc``.

    Returns
    -------
    ds : Dataset
        The results (:mod:`sim.results`), with ``weight`` when ``spec.calibration`` asks for it.
    summary : dict
        The ``summary.json`` content (:func:`sim.targets.summarize`).

    Raises
    ------
    sim.spec.ConfigError
        When ``folder`` holds chunks of another run, or a dask scheduler cannot be reached.
    """
    if spec.calibration.method == "smc":
        ds = posterior.run_calibrated(spec, folder=folder)
    else:
        ds = calibration.calibrate(simulate(spec, folder=folder), spec.calibration)
    ds = results.with_cf(ds)
    summary = targets.summarize(ds)
    found = None
    if drivers is not None:
        found, extra = analyse(spec, ds, drivers)
        summary.update(extra)
    if folder is not None:
        _write(ds, summary, folder)
        if found is not None:
            found.to_dataset().to_netcdf(Path(folder) / "drivers.nc", engine="h5netcdf")
        write_report(ds, folder, charts=spec.report, summary=summary)
        storage.remove_chunks(folder)  # last: a run that fails before this can still resume
    return ds, summary


def analyse(spec: Spec, ds: xr.Dataset, settings: DriversSpec) -> tuple[analysis.Drivers, dict]:
    """What drives the odds of a run (:func:`sim.analysis.drivers`), its PRIM boxes and the
    next CNNIC figure's effect on the odds; returns the analysis and the summary entries."""
    found = analysis.drivers(spec, settings, ds)
    primary = analysis.primary_targets(spec)
    drv = found.to_dict()
    extra: dict = {
        "drivers": drv,
        "discovery": [
            analysis.discover(ds, t, names=_peel_on(drv, t.year)).to_dict() for t in primary
        ],
    }
    obs = [o for o in spec.calibration.observations if o.series == NEXT_SERIES]
    if obs and primary:
        cal = spec.calibration
        sd = float(np.hypot(obs[-1].sd * cal.sd_scale, cal.discrepancy_sd))
        nxt = analysis.next_observation(ds, primary[0], series=NEXT_SERIES, sd=sd)
        if nxt is not None:
            extra["next_observation"] = nxt.to_dict()
    return found, extra


#: Parameters PRIM peels on: the largest total-order indices of a target's hit and share.
N_PEEL = 5


def _peel_on(drv: dict, year: int) -> list[str]:
    names: list[str] = []
    for e in drv["targets"]:
        if e["year"] == year:
            names += [p["parameter"] for p in analysis.top(e, N_PEEL) if p["total_order"] > 0]
    return list(dict.fromkeys(names))


#: The statistic whose next release :func:`analyse` prices: CNNIC's generative-AI users.
NEXT_SERIES = "genai_users_share"


def run_design(
    spec: Spec, settings: DesignSpec, *, folder: Path | None = None
) -> tuple[design.Design, Path | None]:
    """Run ``spec`` (for its draws: the posterior when calibrated), then find the cheapest
    lever intensities for which the target's odds reach the level (:func:`sim.design.design`).

    With a folder: the run's files (``summary.json`` gains ``design`` and ``report.md`` a
    section on it), ``design.json``, ``designed.yaml`` (a scenario file to run and edit) and,
    with ``spec.report``, ``charts/frontier.png``. Returns the design and the
    scenario file's path.
    """
    ds, summary = run_one(spec, folder=folder)
    found = design.design(spec, settings, ds)
    if folder is None:
        return found, None
    path = design.write(found, spec, Path(folder))
    summary["design"] = found.to_dict()
    _write(ds, summary, Path(folder))
    write_report(ds, Path(folder), charts=spec.report, summary=summary)
    if spec.report:
        from sim.report.figures import save_frontier

        save_frontier(found, Path(folder))
    return found, path


def run_comparison(
    specs: Sequence[Spec], *, folder: Path | None = None
) -> tuple[list[xr.Dataset], comparison.Comparison]:
    """Run each of ``specs`` (:func:`run_one`) and compare each run with the first.

    Parameters
    ----------
    specs : sequence of Spec
        One configuration per scenario, the reference first, alike but for the scenario (same
        seed and draws: common random numbers).
    folder : Path, optional
        Comparison folder (exists): each run's ``results.nc`` and ``summary.json`` go to
        ``folder/SCENARIO/``, then ``comparison.json`` and the comparison report. None: nothing
        is written.

    Returns
    -------
    runs : list of Dataset
        The results, in the order of ``specs``.
    comp : Comparison
        The comparison (:func:`sim.comparison.compare`); ``comp.to_dict()`` is
        ``comparison.json``.
    """
    runs = []
    for spec in specs:
        ds, summary = run_one(spec)
        if folder is not None:
            sub = Path(folder) / spec.scenario.name
            sub.mkdir(parents=True, exist_ok=True)
            _write(ds, summary, sub)
        runs.append(ds)
    comp = comparison.compare(runs)
    if folder is not None:
        results.write_text(
            json.dumps(comp.to_dict(), indent=2) + "\n", Path(folder) / "comparison.json"
        )
        write_comparison_report(comp, folder, charts=specs[0].report)
    return runs, comp


def _write(ds: xr.Dataset, summary: dict, folder: Path) -> None:
    """Write ``results.nc``, ``summary.json`` and ``odds.csv`` into ``folder`` (exists)."""
    results.write(ds, Path(folder) / "results.nc")
    results.write_text(json.dumps(summary, indent=2) + "\n", Path(folder) / "summary.json")
    results.write_text(targets.odds_csv(summary), Path(folder) / "odds.csv")
