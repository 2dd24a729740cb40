"""Validators of the sections that say how a run is judged: the primary reading, the targets
and the calibration to observations (one ``validate_<section>`` each)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim import observations
from sim.spec.model import (
    CalibrationSpec,
    Target,
    TimeSpec,
)
from sim.spec.reader import (
    Reader,
)
from sim.vocab import (
    CALIBRATION_METHODS,
    LIKELIHOODS,
    METRICS,
    READING_TECHS,
    TECH_COORDS,
    Metric,
)


def validate_primary(r: Reader, raw: Any) -> tuple[Metric, str]:
    """The primary reading of "penetration": the (metric, tech) whose odds lead every output."""
    m = r.mapping(raw, "")
    r.known(m, ("metric", "tech"))
    metric = r.choice(m.get("metric"), METRICS, "metric")
    return metric, r.choice(m.get("tech"), TECH_COORDS, "tech")


def validate_targets(
    r: Reader, raw: Any, time: TimeSpec, primary: tuple[Metric, str]
) -> tuple[Target, ...]:
    """The targets whose odds are reported, each ending within the simulated months.

    A row without ``metric`` and ``tech`` stands for every reading (each metric x technology);
    the primary reading's targets come first, then the others in vocabulary order.
    """
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise r.fail("", "expected a non-empty list of {year, threshold[, metric, tech]}")
    targets = []
    for i, t in enumerate(raw):
        tm = r.mapping(t, f"[{i}]")
        r.known(tm, ("year", "threshold", "metric", "tech"), f"[{i}]")
        year = int(
            r.number(tm.get("year"), f"[{i}].year", time.start[0], time.end[0], integer=True)
        )
        if time.step_of_year_end(year) > time.n_steps:
            raise r.fail(f"[{i}].year", f"{year} ends after time.end; extend time.end")
        threshold = r.number(tm.get("threshold"), f"[{i}].threshold", 0.0, 1.0)
        if ("metric" in tm) != ("tech" in tm):
            raise r.fail(f"[{i}]", "give both metric and tech, or neither (every reading)")
        readings = (
            [
                (
                    r.choice(tm["metric"], METRICS, f"[{i}].metric"),
                    r.choice(tm["tech"], TECH_COORDS, f"[{i}].tech"),
                )
            ]
            if "metric" in tm
            else [(m, k) for m in METRICS for k in READING_TECHS]
        )
        targets += [Target(year, threshold, m, k, primary=(m, k) == primary) for m, k in readings]
    return tuple(sorted(targets, key=lambda t: not t.primary))


def validate_calibration(r: Reader, raw: Any) -> CalibrationSpec:
    """Validate the ``calibration`` section and read its observations file."""
    m = r.mapping(raw, "")
    keys = ("method", "observations", "series", "until", "likelihood", "df", "sd_scale")
    smc_keys = ("particles", "moves", "ess_target", "max_rounds", "n_agents")
    r.known(m, (*keys, "discrepancy_sd", "ess_min", *smc_keys))
    method = r.choice(m.get("method", "none"), CALIBRATION_METHODS, "method")
    path = m.get("observations")
    if method == "none":
        if path is not None:
            raise r.fail("observations", "calibration is off; add calibration=observed to use it")
        return CalibrationSpec()
    if path is not None and not isinstance(path, str):
        raise r.fail("observations", f"expected a path to a CSV file or null, got {path!r}")
    path = None if path is None else str(Path(path).expanduser().resolve())
    obs = observations.load(path)
    known = sorted({o.series for o in obs if o.mapped})
    series = r.names(m.get("series"), known, "series")
    until = m.get("until")
    return CalibrationSpec(
        method=method,
        observations=obs,
        source=path or observations.SHIPPED,
        series=series,
        until=None if until is None else r.month(until, "until"),
        likelihood=r.choice(m.get("likelihood", "normal"), LIKELIHOODS, "likelihood"),
        df=r.number(m.get("df", 4.0), "df", 0.0, 1000.0, lo_open=True),
        sd_scale=r.number(m.get("sd_scale", 1.0), "sd_scale", 0.0, 100.0, lo_open=True),
        discrepancy_sd=r.number(m.get("discrepancy_sd", 0.0), "discrepancy_sd", 0.0, 1.0),
        ess_min=r.number(m.get("ess_min", 100.0), "ess_min", 1.0),
        particles=r.number(m.get("particles", 2000), "particles", 4, integer=True),
        moves=r.number(m.get("moves", 4), "moves", 1, integer=True),
        ess_target=r.number(m.get("ess_target", 0.5), "ess_target", 0.0, 0.99, lo_open=True),
        max_rounds=r.number(m.get("max_rounds", 40), "max_rounds", 1, integer=True),
        n_agents=r.number(m.get("n_agents", 6000), "n_agents", 100, integer=True),
    )
