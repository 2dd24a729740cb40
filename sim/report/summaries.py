"""Summaries that charts and the run report draw: weighted over draws when the Dataset says so.

A results Dataset may carry a draw weight ``weight`` (draw) (importance weights of a calibrated
posterior, for example). Every function here counts the draws by :func:`sim.results.weights_of`,
equally when there are none, so the same chart shows prior and posterior runs. The statistics
themselves are :mod:`sim.stats`'s. Nothing here imports matplotlib: the report writes its tables
from these functions even when it draws no charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from sim import calibration, observations, results
from sim.spec import ConfigError, Target
from sim.stats import Odds, weighted_quantile
from sim.targets import evaluate


def draw_quantiles(da: xr.DataArray, q: Sequence[float], ds: xr.Dataset) -> xr.DataArray:
    """Quantiles over ``draw`` of ``da``, weighted by ``ds``'s draw weights
    (:func:`sim.results.weights_of`); dim ``quantile`` first, then ``da``'s other dims."""
    axis = da.dims.index("draw")
    vals = weighted_quantile(da.values, q, weights=results.weights_of(ds), axis=axis)
    dims = ("quantile", *(d for d in da.dims if d != "draw"))
    coords = {d: da.coords[d] for d in dims[1:] if d in da.coords}
    out = xr.DataArray(vals, dims=dims, coords={"quantile": list(q), **coords})
    for name, c in da.coords.items():
        if name not in out.coords and "draw" not in c.dims and set(c.dims) <= set(dims):
            out = out.assign_coords({name: c})
    return out


def odds(ds: xr.Dataset, targets: Sequence[Target] | None = None) -> list[Odds]:
    """Odds of each target of ``ds`` (its recorded targets by default): :func:`sim.targets.evaluate`
    with the run's draw weights (none when calibration is off or refused)."""
    return evaluate(ds, targets, weights=results.weights_of(ds), lineage=results.lineage_of(ds))


def crossing_year(ds: xr.Dataset, threshold: float, *, metric: str, tech: str) -> xr.DataArray:
    """Year in which each draw's national share first exceeds ``threshold``, dims (draw,).

    The share is read at month ends; a draw already above the threshold in the start state gets
    the start state's year, and a draw that never exceeds it within the horizon gets NaN.
    """
    share = results.share_path(ds, tech, metric)
    above = share.values > threshold
    years = ds["time"].dt.year.values.astype(np.float64)
    first = np.argmax(above, axis=1)
    out = np.where(above.any(axis=1), years[first], np.nan)
    return xr.DataArray(out, dims=("draw",), coords={"draw": share["draw"]})


def year_distribution(
    years: NDArray[np.float64], bins: NDArray[np.int64], w: NDArray[np.float64] | None = None
) -> tuple[NDArray[np.float64], float]:
    """Probability of each year in ``bins``, and of "not within the horizon" (NaN years).

    Returns
    -------
    p_year : ndarray, shape (len(bins),)
    p_never : float
        The two sum to 1.
    """
    w = np.full(years.size, 1.0 / years.size) if w is None else w / w.sum()
    p_year = np.array([w[years == b].sum() for b in bins])
    return p_year, float(w[np.isnan(years)].sum())


# --------------------------------------------------------------------------------------------------
# Calibration: prior against posterior, and the model against the observations
# --------------------------------------------------------------------------------------------------
def prior_draws(ds: xr.Dataset) -> NDArray[np.int64]:
    """Positions of the prior draws of ``ds`` along ``draw``: every draw, except in a run
    calibrated by sequential Monte Carlo, whose other draws are the posterior particles (those
    ``prior_weight`` does not count)."""
    w = results.prior_weights_of(ds)
    return np.arange(ds.sizes["draw"]) if w is None else np.flatnonzero(w > 0)


def prior_of(ds: xr.Dataset) -> xr.Dataset:
    """The prior draws of a calibrated run (:func:`prior_draws`), counted equally."""
    out = ds.drop_vars(["weight", "prior_weight", "lineage"], errors="ignore")
    return out.isel(draw=prior_draws(ds))


def calibration_record(ds: xr.Dataset) -> dict:
    """The calibration record of ``ds`` (see :func:`sim.calibration.calibrate`).

    Raises
    ------
    ValueError
        If ``ds`` was not calibrated.
    """
    record = results.calibration_of(ds)
    if record is None:
        raise ValueError("the run was not calibrated; run it with calibration=observed")
    return record


@dataclass(frozen=True)
class Observed:
    """One observation as a chart shows it.

    Attributes
    ----------
    series : str
    time : numpy.datetime64
        End of the observed period.
    start : numpy.datetime64 or None
        First day of the period a shipment share averages over (None: a point in time).
    value : float
        Observed share, in [0, 1].
    sd : float
        Standard deviation the calibration used (observation uncertainty and model discrepancy
        in quadrature), share units.
    status : str
        ``used`` (weights the draws) or ``held_out`` (dated after ``calibration.until``).
    """

    series: str
    time: np.datetime64
    start: np.datetime64 | None
    value: float
    sd: float
    status: str


def checked_outputs(ds: xr.Dataset) -> list[tuple[str, str, str]]:
    """The model outputs ``(output, tech, metric)`` that observations of ``ds`` were checked
    against, in the order of the observations file."""
    out: list[tuple[str, str, str]] = []
    for c in calibration_record(ds)["checks"]:
        key = (c["output"], c["tech"], c["metric"])
        if key not in out:
            out.append(key)
    return out


def observations_of(ds: xr.Dataset) -> tuple[observations.Observation, ...]:
    """The observations a chart of ``ds`` shows: the calibration's file when ``ds`` was
    calibrated, else the shipped one (() when the file can no longer be read)."""
    record = results.calibration_of(ds) or {}
    source = record.get("observations_file", observations.SHIPPED)
    try:
        return observations.load(None if source == observations.SHIPPED else source)
    except (ConfigError, OSError):
        return ()


def _period_starts(record: dict) -> dict[tuple[str, str], str]:
    """``(series, date) -> period_start`` from the run's observations file ({} if unreadable)."""
    source = record.get("observations_file")
    try:
        rows = observations.load(None if source == observations.SHIPPED else source)
    except (ConfigError, OSError):
        return {}
    return {(o.series, o.date): o.period_start for o in rows if o.period_start}


def observed(ds: xr.Dataset, output: str, tech: str = "", metric: str = "") -> list[Observed]:
    """The observations of model output ``(output, tech, metric)`` that ``ds`` was checked
    against (used and held out)."""
    record = calibration_record(ds)
    starts = _period_starts(record)
    out = []
    for c in record["checks"]:
        if (c["output"], c["tech"], c["metric"]) != (output, tech, metric):
            continue
        start = starts.get((c["series"], c["date"]))
        out.append(
            Observed(
                c["series"],
                np.datetime64(c["date"], "ns"),
                None if start is None else np.datetime64(start, "ns"),
                float(c["value"]),
                float(c["sd"]),
                c["status"],
            )
        )
    return out


def model_path(
    ds: xr.Dataset, output: str, tech: str = "", metric: str = "", *, start: str | None = None
) -> xr.DataArray:
    """Each draw's value of a model output by month, dims (draw, time), time at month ends.

    ``share`` is the results' national share; ``ai_share_of_new_devices`` is the replacement
    rule's AI share of new devices in each month from ``start`` (``YYYY-MM``; default the first
    simulated month) to the horizon, computed as calibration computes it
    (:func:`sim.calibration.predict` over a one-month period).
    """
    if output == "share":
        return results.share_path(ds, tech, metric)
    first = start or str(ds["time"].values[0])[:7]
    month = np.timedelta64(1, "M")
    months = np.arange(
        np.datetime64(first, "M"), ds["time"].values[-1].astype("datetime64[M]") + month
    )
    ends = (months + month).astype("datetime64[D]") - np.timedelta64(1, "D")
    values = []
    for m, end in zip(months, ends, strict=True):
        one = observations.Observation(str(end), "", 0.0, 1.0, "", output, period_start=str(m))
        pred = calibration.predict(ds, one)
        if pred is None:
            raise ValueError(f"the results cannot compute model output {output!r}")
        values.append(pred)
    return xr.DataArray(
        np.column_stack(values),
        dims=("draw", "time"),
        coords={"draw": ds["draw"], "time": ends.astype("datetime64[ns]")},
    )


def province_difference(
    ds: xr.Dataset,
    year: int,
    *,
    tech: str,
    metric: str,
    level: float = 0.9,
    n_boot: int = 400,
) -> xr.DataArray:
    """Each province's median share minus the national median share at the end of ``year``, with
    a bootstrap interval of that difference.

    The interval says whether the run has settled the sign of a province's difference: draws are
    resampled with replacement ``n_boot`` times, the same draws for the provinces and the nation
    (a fixed seed, so a chart is reproducible), and the draw-weighted medians' difference taken;
    a province whose ``level`` interval includes 0 differs from the nation by no more than the
    simulation's own noise.

    Returns
    -------
    DataArray, dims (quantile, province)
        Quantiles ``(1 - level) / 2``, 0.5 and ``(1 + level) / 2``: the interval's ends and, in
        the middle, the difference of the medians itself, in share points (0.01 = 1 point).
    """
    da = results.share_by(ds, "province", tech, metric).sel(year=year).transpose("draw", ...)
    x = np.column_stack([da.values, results.share_at(ds, year, tech, metric).values])
    n = x.shape[0]
    w = results.weights_of(ds)
    w = np.ones(n) if w is None else np.asarray(w, dtype=float)

    def gap(weights: NDArray[np.float64]) -> NDArray[np.float64]:
        med = weighted_quantile(x, 0.5, weights=weights, axis=0)
        return med[:-1] - med[-1]

    counts = np.random.default_rng(0).multinomial(n, np.full(n, 1.0 / n), size=n_boot)
    boot = np.stack([gap(w * c) for c in counts])
    tail = (1.0 - level) / 2.0
    lo, hi = np.nanquantile(boot, [tail, 1.0 - tail], axis=0)
    return xr.DataArray(
        np.stack([lo, gap(w), hi]),
        dims=("quantile", "province"),
        coords={"quantile": [tail, 0.5, 1.0 - tail], "province": da["province"].values},
    )
