"""The one results schema, produced by every engine and read by targets and reports.

Variables
---------
share : (draw, time, tech, metric) float32
    National adopted share; ``time`` holds month ends, the first being the start state; ``tech``
    is terminal, agent, any (either) and both.
share_province : (draw, year, tech, metric, province) float32
share_sector : (draw, year, tech, metric, sector) float32
    At the end of each target year; NaN where a metric counts nobody in the group. Present when
    ``mc.keep`` asks for them (the default).
param_value : (draw, param) float64
    The parameter set sampled for each draw.
events : (draw, shock) int32
    Number of shocks of each kind in each draw's horizon (zero when shocks are off).
event_time : (draw, shock, event) float64
    Decimal year each of those shocks started, in order; NaN-padded.
public_cost : (cost_year, lever, estimate) float64
    Public cost in yuan of each lever (its programmes included) at the unit-cost priors'
    ``central`` value and ``low`` and ``high`` ends; ``programme_cost`` (cost_year, programme,
    estimate) the same for each programme, when the scenario has programmes.

Attributes carry the scenario, seed, engine, versions, targets, priors, lever schedules,
programmes, shocks and unit costs, each metric's denominator and each reading's built-in cap (as
JSON strings where structured), so a results file explains itself. A calibrated run adds
``weight`` (draw,) and the ``calibration`` record.

Other modules read a results Dataset through the accessors here (:func:`targets_of`,
:func:`share_at`, :func:`share_path`, :func:`share_by`, :func:`param_value`,
:func:`calibration_of`, :func:`weights_of`, :func:`overrides_of`, :func:`denominators_of`,
:func:`caps_of`), not by variable names and positions of their own. :func:`write` adds the CF
attributes (:func:`with_cf`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import xarray as xr

from sim import costs, demography, readings
from sim.drivers import ChunkResult, layout
from sim.population import Population
from sim.runfolder import temp_beside
from sim.shocks import event_variables
from sim.spec import METRICS, SHOCKS, TECH_COORDS, Spec, Target

SCHEMA = "aiplus-sim/results/1"
#: Dimensions of each per-draw variable, in the order they are stored.
DIMS: dict[str, tuple[str, ...]] = {
    "share": ("draw", "time", "tech", "metric"),
    "share_province": ("draw", "year", "tech", "metric", "province"),
    "share_sector": ("draw", "year", "tech", "metric", "sector"),
    "param_value": ("draw", "param"),
    "weight": ("draw",),
    "prior_weight": ("draw",),
    "lineage": ("draw",),
}


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("aiplus-sim", "numpy", "scipy", "xarray", "mesa", "hydra-core"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def spec_attrs(spec: Spec, *, engine: str) -> dict[str, str | int]:
    """Run metadata stored as Dataset attributes (netCDF-safe: strings and integers)."""
    return {
        "schema": SCHEMA,
        "scenario": spec.scenario.name,
        "scenario_title": spec.title,
        "scenario_description": spec.description,
        "overrides": json.dumps(
            {"command_line": list(spec.overrides), "scenario": list(spec.scenario.sets)}
        ),
        "seed": spec.mc.seed,
        "draws": spec.mc.draws,
        "engine": engine,
        "uncertainty": spec.mc.uncertainty,
        "sampling": spec.mc.method,
        "population": spec.population.kind,
        "n_agents": spec.population.n_agents,
        "population_units": demography.describe(spec.population),
        "adoption_rule": spec.rules.adoption,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": json.dumps(_versions()),
        "targets": targets_attr(spec.targets),
        "priors": json.dumps(
            [
                {
                    "name": p.name,
                    "dist": p.dist,
                    "low": p.low,
                    "high": p.high,
                    "mode": p.mode,
                    "central": p.central,
                    "reason": p.reason,
                }
                for p in spec.priors
            ]
        ),
        "levers": json.dumps(
            [
                {
                    "name": lv.name,
                    "lag": lv.lag,
                    "intensity": dict(lv.schedule),
                    "channels": list(lv.channels),
                }
                for lv in spec.levers
            ]
        ),
        "programmes": json.dumps(
            [
                {"name": p.name, "lever": p.lever, "intensity": dict(p.schedule)}
                for p in spec.programmes
            ]
        ),
        "shocks": json.dumps(
            [
                {
                    "name": s.name,
                    "at": [f"{y:04d}-{m:02d}" for y, m in s.at],
                    **{
                        p.name.rsplit(".", 1)[-1]: {"dist": p.dist, "low": p.low, "high": p.high}
                        for p in (s.rate, s.size, s.duration, s.mitigation)
                        if p is not None
                    },
                }
                for s in spec.shocks
            ]
        ),
        "costs": json.dumps(
            {
                "unit": "billion yuan per unit of intensity per year",
                "people_share": spec.costs.people_share,
                "levers": [
                    {
                        "name": p.name,
                        "dist": p.dist,
                        "low": p.low,
                        "high": p.high,
                        "central": p.central,
                        "reason": p.reason,
                    }
                    for p in spec.costs.unit
                ],
            }
        ),
    }


def to_dataset(
    spec: Spec,
    pop: Population,
    chunks: Sequence[ChunkResult],
    values: np.ndarray,
    *,
    engine: str = "core",
) -> xr.Dataset:
    """Assemble chunk outputs (in any order) and the sampled parameters into the results Dataset.

    Province and sector detail is included when every chunk carries it (see ``mc.keep``).
    """
    chunks = sorted(chunks, key=lambda c: int(c.draws[0]))
    draws = np.concatenate([c.draws for c in chunks])
    years = sorted({t.year for t in spec.targets})
    coords = {
        "draw": draws,
        "time": spec.time.month_ends(),
        "tech": list(TECH_COORDS),
        "metric": list(METRICS),
        "year": np.array(years, dtype=np.int64),
        "province": pop.provinces.astype(str),
        "sector": pop.sectors.astype(str),
        "param": list(spec.param_names),
    }

    def stacked(field: str) -> np.ndarray | None:
        arrays = [getattr(c, field) for c in chunks]
        if any(a is None for a in arrays):
            return None
        a = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
        # Float32 sums can land a hair outside [0, 1] at saturation (1.0000018); a share cannot,
        # and a threshold of 1.0 must not be "hit". In place: these arrays are the run's own.
        return np.clip(a, 0.0, 1.0, out=a)

    ds = xr.Dataset(
        {
            "share": (DIMS["share"], stacked("share")),
            **{
                name: (DIMS[name], a)
                for name in ("share_province", "share_sector")
                if (a := stacked(name)) is not None
            },
            "param_value": (DIMS["param_value"], values[draws]),
            **event_variables(
                spec,
                np.concatenate(
                    [
                        np.zeros((c.draws.size, len(SHOCKS), spec.time.n_steps), dtype=bool)
                        if c.events is None
                        else c.events
                        for c in chunks
                    ]
                ),
            ),
        },
        coords={**coords, "shock": list(SHOCKS)},
    )
    ds = ds.assign(costs.variables(spec, pop))
    ds = ds.assign_coords(
        region=("province", pop.regions.astype(str)),
        key_area=("sector", pop.key_areas.astype(str)),
    )
    ds["share"].attrs = {
        "long_name": "adopted share",
        "units": "1",
        "description": "weighted share of the metric's population that has adopted",
    }
    ds["param_value"].attrs = {"long_name": "sampled parameter value"}
    ds.attrs.update(spec_attrs(spec, engine=engine))
    ds.attrs["denominators"] = json.dumps(readings.denominators(pop))
    cap = readings.caps(spec, pop, layout(spec, pop))
    ds.attrs["caps"] = json.dumps([[y, m, k, v] for (y, m, k), v in cap.items()])
    return ds


# --------------------------------------------------------------------------------------------------
# Accessors: every module reads a results Dataset through these
# --------------------------------------------------------------------------------------------------
def targets_attr(targets: Sequence[Target]) -> str:
    """The ``targets`` attribute: a JSON list of each target's year, threshold, metric, tech
    and whether it belongs to the primary reading."""
    return json.dumps(
        [
            {
                "year": t.year,
                "threshold": t.threshold,
                "metric": t.metric,
                "tech": t.tech,
                "primary": t.primary,
            }
            for t in targets
        ]
    )


def targets_of(ds: xr.Dataset) -> tuple[Target, ...]:
    """The targets recorded in a results Dataset's attributes, in their recorded order."""
    return tuple(Target(**t) for t in json.loads(ds.attrs["targets"]))


def denominators_of(ds: xr.Dataset) -> dict[str, dict]:
    """Each metric's denominator (``total``, ``unit``, ``year``; :func:`sim.readings.denominators`)
    recorded with the results, or an empty mapping for results written before it was."""
    return json.loads(ds.attrs.get("denominators", "{}"))


def caps_of(ds: xr.Dataset) -> dict[tuple[int, str, str], float]:
    """Built-in cap of each reading, ``(year, metric, tech)`` -> largest reachable share
    (:func:`sim.readings.caps`), or an empty mapping when none was recorded."""
    return {(int(y), m, k): float(v) for y, m, k, v in json.loads(ds.attrs.get("caps", "[]"))}


def year_end(year: int) -> np.datetime64:
    """The ``time`` at which a year's share is read: its last month end, 31 December."""
    return np.datetime64(f"{year}-12-31", "ns")


def share_at(ds: xr.Dataset, year: int, tech: str, metric: str) -> xr.DataArray:
    """Each draw's national share at the end of ``year``, dims (draw,), in [0, 1]."""
    return share_on(ds, year_end(year), tech, metric)


def share_on(ds: xr.Dataset, time: np.datetime64, tech: str, metric: str) -> xr.DataArray:
    """Each draw's national share at month end ``time`` (one of ``ds.time``), dims (draw,)."""
    return ds["share"].sel(time=time, tech=tech, metric=metric)


def share_path(ds: xr.Dataset, tech: str, metric: str) -> xr.DataArray:
    """Each draw's national share by month end, dims (draw, time), in [0, 1]."""
    return ds["share"].sel(tech=tech, metric=metric).transpose("draw", "time")


def share_by(ds: xr.Dataset, by: str, tech: str, metric: str) -> xr.DataArray:
    """Each draw's share in each ``province`` or ``sector`` (``by``) at the end of each target
    year, dims (draw, year, by); NaN where the metric counts nobody in the group."""
    return ds[f"share_{by}"].sel(tech=tech, metric=metric).transpose("draw", "year", by)


def param_names(ds: xr.Dataset) -> tuple[str, ...]:
    """Names of the sampled parameters, in ``param_value`` order."""
    return tuple(str(n) for n in ds["param"].values)


def param_value(ds: xr.Dataset, name: str) -> np.ndarray:
    """Each draw's sampled value of parameter ``name``, shape (n_draws,)."""
    return ds["param_value"].sel(param=name).values


def overrides_of(ds: xr.Dataset) -> dict[str, list[str]]:
    """What the run changed: ``command_line`` (its overrides) and ``scenario`` (the keys its
    scenario file sets); empty lists for a results file written before they were recorded."""
    return json.loads(ds.attrs.get("overrides", '{"command_line": [], "scenario": []}'))


def calibration_of(ds: xr.Dataset) -> dict | None:
    """The calibration record (:func:`sim.calibration.calibrate`), or None when not calibrated."""
    raw = ds.attrs.get("calibration")
    return None if raw is None else json.loads(raw)


def weights_of(ds: xr.Dataset) -> np.ndarray | None:
    """The draw weights to count the draws by, shape (n_draws,), or None when the draws are
    equally likely.

    A calibration that refused its posterior (too few effective draws) still stores its weights,
    but they are not a posterior to report: such a run counts its prior draws equally (every
    draw, except after sequential Monte Carlo, whose particles only ``prior_weight`` leaves out).

    Raises
    ------
    ValueError
        If ``weight`` is negative, not finite, or sums to zero.
    """
    if "weight" not in ds:
        return None
    record = calibration_of(ds)
    if record is not None and record["status"] != "ok":
        return prior_weights_of(ds)
    w = ds["weight"].transpose("draw").values.astype(np.float64)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("draw weights must be finite, non-negative and not all zero")
    return w


#: CF conventions followed by results files [1]_.
CONVENTIONS = "CF-1.10"
#: ``long_name`` and ``units`` of every variable and coordinate a results file may hold. Shares and
#: counts are dimensionless (``"1"``); labels (string coordinates) too. ``time`` gets its units
#: (``days since ...``) from xarray's datetime encoding. Parameters have mixed units, given by
#: each parameter's prior (the ``priors`` attribute).
CF_ATTRS: dict[str, tuple[str, str]] = {
    "share": ("adopted share, national", "1"),
    "share_province": ("adopted share by province at the end of each target year", "1"),
    "share_sector": ("adopted share by sector at the end of each target year", "1"),
    "param_value": ("sampled parameter value (units per parameter: see the priors attribute)", "1"),
    "weight": ("draw weight", "1"),
    "lineage": ("lineage of the posterior particle (-1: a prior draw)", "1"),
    "events": ("number of shocks of each kind in the draw's horizon", "1"),
    "event_time": ("start of each shock, decimal year", "year"),
    "public_cost": ("public cost of each lever, programmes included", "yuan"),
    "programme_cost": ("public cost of each programme", "yuan"),
    "draw": ("Monte Carlo draw", "1"),
    "time": ("month end", ""),
    "tech": ("technology", "1"),
    "metric": ("reading of penetration: what the share counts", "1"),
    "year": ("target year (share read at its end)", "1"),
    "province": ("province", "1"),
    "region": ("region of the province", "1"),
    "sector": ("sector", "1"),
    "key_area": ("key area of the opinion of the sector", "1"),
    "param": ("parameter name", "1"),
    "shock": ("kind of shock", "1"),
    "event": ("shock event index", "1"),
    "cost_year": ("calendar year of the cost", "1"),
    "estimate": ("cost estimate: central, low or high unit costs", "1"),
    "lever": ("support lever", "1"),
    "programme": ("programme", "1"),
}


def with_cf(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with the CF attributes: ``Conventions`` and, on every variable and coordinate,
    ``long_name`` and ``units`` (kept where already set; unknown names get their own name and
    ``"1"``).

    References
    ----------
    .. [1] Eaton, B. et al. NetCDF Climate and Forecast (CF) Metadata Conventions, version 1.10.
       https://cfconventions.org/
    """
    ds = ds.copy()
    for name, var in {**ds.data_vars, **ds.coords}.items():
        long_name, units = CF_ATTRS.get(str(name), (str(name).replace("_", " "), "1"))
        var.attrs.setdefault("long_name", long_name)
        if np.issubdtype(var.dtype, np.datetime64):
            var.attrs.update(standard_name="time", axis="T")
        else:
            var.attrs.setdefault("units", units)
    ds.attrs["Conventions"] = CONVENTIONS
    return ds


def lineage_of(ds: xr.Dataset) -> np.ndarray | None:
    """Each draw's lineage in the posterior sampler, shape (n_draws,), or None when the draws
    counted by :func:`weights_of` are independent (no sampler, or a refused posterior, whose
    prior draws are counted instead).

    Posterior particles descended from the same first-round particle are correlated: the odds'
    intervals count lineages (:func:`sim.stats.lineage_effective_size`) [1]_.

    References
    ----------
    .. [1] Chan, H. P. and Lai, T. L. (2013). Annals of Statistics 41(6), 2877-2904.
    """
    if "lineage" not in ds:
        return None
    record = calibration_of(ds)
    if record is not None and record["status"] != "ok":
        return None
    lineage = ds["lineage"].transpose("draw").values.astype(np.int64)
    # Prior draws alone (label -1) are independent.
    return None if (lineage < 0).all() else lineage


def prior_weights_of(ds: xr.Dataset) -> np.ndarray | None:
    """The weights that count the prior draws, shape (n_draws,), or None when every draw is a
    prior draw. A run calibrated by sequential Monte Carlo (:mod:`sim.posterior`) holds prior
    draws and posterior particles: ``prior_weight`` counts only the former."""
    if "prior_weight" not in ds:
        return None
    return ds["prior_weight"].transpose("draw").values.astype(np.float64)


def write(ds: xr.Dataset, path: Path) -> None:
    """Write ``ds`` to netCDF at ``path`` atomically (a reader never sees a half-written file),
    with the CF attributes (:func:`with_cf`)."""
    ds = with_cf(ds)
    path = Path(path)
    tmp = temp_beside(path)
    try:
        ds.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: Path) -> xr.Dataset:
    """Open a results file written by :func:`write` (loaded into memory)."""
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def write_text(text: str, path: Path) -> None:
    """Write a small text file atomically."""
    path = Path(path)
    tmp = temp_beside(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
