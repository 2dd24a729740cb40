"""What drives the odds of a run, in which futures its targets fail, and what the next statistic
would tell: the analyses of a run's draws beside its odds.

- :func:`drivers`: Sobol' first- and total-order indices (:func:`sim.sensitivity.sobol`) of the
  primary targets' hit indicators and target-year shares with respect to every sampled parameter
  (lever effects included), simulated by the vectorised core on a small population.
  For a calibrated run the design is drawn from the posterior's marginals: each parameter's
  weighted empirical quantile function over the posterior particles, the parameters taken as
  independent. Sobol' indices need independent inputs to be a variance decomposition; the
  posterior's correlations (between ``agent.p`` and ``agent.surge_people``, say) are dropped, so
  the design also visits combinations the data rule out. The alternative, a given-data estimator
  on the weighted draws (:func:`sim.sensitivity.first_order_given_data`), keeps the correlations
  but gives no total-order index and attributes shared variance to every correlated parameter.
- :func:`discover`: PRIM boxes (:mod:`sim.discovery`) over the parameters of the futures
  that miss (and hit) the primary target, on the run's own (posterior) draws.
- :func:`next_observation`: how a hypothetical next observation of a share (CNNIC's mid-2026
  generative-AI users, by default) would move the posterior odds, by reweighting the run's
  draws by its likelihood (the calibration's normal likelihood with its model discrepancy).

The analysis's simulations hold the agents' chance common across the rows of the design (row
``r`` of every matrix simulates with stream ``r``): the chance part of the variance is then not
attributed to any parameter, and ``1 - sum(total_order)`` bounds what chance and the approximations
leave unexplained. The hit indicator's variance is P(1 - P): its first-order index of a parameter
is the expected share of that variance removed by learning the parameter [1]_, its value of
information.

References
----------
.. [1] Saltelli, A. et al. (2008). Global Sensitivity Analysis. The Primer. Wiley, section 1.2.5
   (a first-order index is the expected reduction of the output's variance by fixing the input).
.. [2] Oakley, J. E. and O'Hagan, A. (2004). Probabilistic sensitivity analysis of complex models:
   a Bayesian approach. JRSS B 66(3), 751-769 (value of information from variance reduction).
"""

from __future__ import annotations

import time as clock
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import xarray as xr
from numpy.typing import NDArray
from scipy import stats

from sim import discovery, results
from sim import engine as engine_mod
from sim import population as population_mod
from sim.drivers import layout as layout_of
from sim.engine import backends
from sim.sensitivity import Marginal, SobolResult, sobol
from sim.spec import Lever, Spec, Target
from sim.spec.analysis import DriversSpec
from sim.stats import effective_sample_size, weighted_quantile
from sim.streams import analysis_rng
from sim.vocab import METRICS, TECH_COORDS


def primary_targets(spec: Spec) -> tuple[Target, ...]:
    """The primary reading's targets, earliest first."""
    return tuple(sorted((t for t in spec.targets if t.primary), key=lambda t: t.year))


def free_priors(spec: Spec) -> list[int]:
    """Indices into ``spec.priors`` of the sampled (not fixed) parameters."""
    return [k for k, p in enumerate(spec.priors) if not (p.dist == "fixed" or p.low == p.high)]


class Simulator:
    """Shares at the end of target years of given parameter sets, by the vectorised core.

    Parameters
    ----------
    spec : Spec
        The run's configuration; simulated up to December of the last of ``targets``' years, on
        ``n_agents`` agents, national shares only.
    targets : tuple of Target
        What :meth:`shares` reads.
    n_agents : int
        Agents of the population.

    Notes
    -----
    Row ``r`` of every call simulates with draw stream ``r`` (:mod:`sim.streams`): calls with
    the same rows are common-random-number twins.
    """

    def __init__(self, spec: Spec, targets: tuple[Target, ...], *, n_agents: int) -> None:
        end = max(t.year for t in targets)
        self.spec = replace(
            spec,
            population=replace(spec.population, n_agents=n_agents),
            time=replace(spec.time, end=(end, 12)),
            targets=tuple(t for t in spec.targets if t.year <= end),
            engine="core",
            mc=replace(spec.mc, keep=("national",), backend="serial"),
        )
        self.targets = targets
        self.pop = population_mod.build(self.spec.population, seed=spec.mc.seed)
        self.network = engine_mod.network(self.spec, self.pop)
        self.ctx = self._context(self.spec)

    def _context(self, spec: Spec) -> backends.Context:
        return backends.Context(
            spec,
            self.pop,
            layout_of(spec, self.pop),
            self.network,
            engine_mod.ENGINES["core"],
        )

    def with_levers(self, levers: tuple[Lever, ...]) -> Simulator:
        """The same simulator with other lever schedules (same population and streams)."""
        twin = object.__new__(Simulator)
        twin.__dict__.update(self.__dict__)
        twin.spec = replace(self.spec, levers=levers)
        twin.ctx = self._context(twin.spec)
        return twin

    def shares(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Shares of each target's reading at the end of its year, shape (n_targets, n).

        ``values`` has shape (n, n_params), in ``spec.param_names`` order.
        """
        step = self.spec.mc.chunk
        out = np.empty((len(self.targets), len(values)))
        cols = [
            (
                self.spec.time.step_of_year_end(t.year),
                TECH_COORDS.index(t.tech),
                METRICS.index(t.metric),
            )
            for t in self.targets
        ]
        tasks = [
            (values[a : a + step], np.arange(a, min(a + step, len(values)), dtype=np.int64))
            for a in range(0, len(values), step)
        ]
        # Chunks on the run's threads (mc.threads); each result says which draws it holds.
        for res in backends.backend_of(self.spec.mc).imap(self.ctx, tasks):
            for j, (s, i, m) in enumerate(cols):
                out[j, res.draws] = np.clip(res.share[:, s, i, m], 0.0, 1.0)
        return out


class WeightedMarginal:
    """A parameter's distribution over weighted draws: its ``ppf`` is the weighted empirical
    quantile function (:func:`sim.stats.weighted_quantile`)."""

    def __init__(self, x: NDArray[np.float64], w: NDArray[np.float64]) -> None:
        self.x, self.w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)

    def ppf(self, q: NDArray[np.float64]) -> NDArray[np.float64]:
        return weighted_quantile(self.x, np.asarray(q), weights=self.w)


def marginals(spec: Spec, ds: xr.Dataset | None = None) -> dict[str, Marginal]:
    """Each sampled parameter's marginal: its prior, or for a calibrated run (``ds`` with
    posterior weights) its posterior, as weighted empirical quantiles of the particles."""
    w = None if ds is None else results.weights_of(ds)
    out: dict[str, Marginal] = {}
    for k in free_priors(spec):
        p = spec.priors[k]
        if w is None:
            out[p.name] = p
        else:
            out[p.name] = WeightedMarginal(results.param_value(ds, p.name).astype(float), w)
    return out


def method_of(ds: xr.Dataset | None) -> str:
    """The sentence that says over which distribution the drivers were computed, and how."""
    if ds is not None and results.weights_of(ds) is not None:
        return (
            "Sobol' indices over the posterior's marginals (each parameter's weighted quantiles "
            "over the posterior particles, taken as independent: the variance decomposition "
            "needs independent inputs, so the posterior's correlations are dropped)"
        )
    return "Sobol' indices over the priors (the run is not calibrated)"


@dataclass(frozen=True)
class Drivers:
    """The Sobol' analysis of a run.

    Attributes
    ----------
    result : SobolResult
        Indices of outputs ``hit_YEAR`` (1 when the draw's share exceeds the target) and
        ``share_YEAR`` (the primary share at the end of the year) for each primary target.
    targets : tuple of Target
    method : str
        Over which distribution, and how (:func:`method_of`).
    seconds : float
        Wall time of the analysis.
    n_agents : int
    """

    result: SobolResult
    targets: tuple[Target, ...]
    method: str
    seconds: float
    n_agents: int

    def to_dataset(self) -> xr.Dataset:
        """``drivers.nc``: the indices (:meth:`SobolResult.to_dataset`) and how they were made."""
        ds = self.result.to_dataset()
        ds.attrs.update(method=self.method, seconds=self.seconds, n_agents=self.n_agents)
        return ds

    def to_dict(self) -> dict:
        """The ``drivers`` entry of ``summary.json``: per target and output, every parameter's
        indices and intervals, largest total-order index first."""
        r = self.result
        rows = []
        for t in self.targets:
            for kind in ("hit", "share"):
                name = f"{kind}_{t.year}"
                if name not in r.outputs:
                    continue
                s = r.outputs.index(name)
                params = [
                    {
                        "parameter": p,
                        "first_order": _num(r.first_order[s, i]),
                        "first_order_interval": [_num(v) for v in r.first_order_interval[:, s, i]],
                        "total_order": _num(r.total_order[s, i]),
                        "total_order_interval": [_num(v) for v in r.total_order_interval[:, s, i]],
                    }
                    for i, p in enumerate(r.names)
                ]
                params.sort(key=lambda d: -(d["total_order"] or 0.0))
                rows.append(
                    {
                        "year": t.year,
                        "threshold": t.threshold,
                        "tech": t.tech,
                        "metric": t.metric,
                        "output": "p_hit" if kind == "hit" else "share",
                        "design_mean": None
                        if r.output_mean is None
                        else round(float(r.output_mean[s]), 4),
                        "parameters": params,
                    }
                )
        return {
            "method": self.method,
            "n_base": r.n_evaluations // (len(r.names) + 2),
            "n_evaluations": r.n_evaluations,
            "n_agents": self.n_agents,
            "confidence": r.confidence,
            "seconds": round(self.seconds, 1),
            "targets": rows,
        }


def _num(v: float) -> float | None:
    return None if not np.isfinite(v) else round(float(v), 4)


def drivers(spec: Spec, settings: DriversSpec, ds: xr.Dataset | None = None) -> Drivers:
    """Sobol' indices of the primary targets' hits and shares (see the module's notes).

    Parameters
    ----------
    spec : Spec
        The run's configuration.
    settings : DriversSpec
        Base samples, population and bootstrap.
    ds : Dataset, optional
        The run's results: with posterior weights, the design is drawn from the posterior.
    """
    t0 = clock.perf_counter()
    targets = primary_targets(spec)
    sim = Simulator(spec, targets, n_agents=settings.n_agents)
    free = free_priors(spec)
    fixed = np.array([p.low for p in spec.priors])
    dists = marginals(spec, ds)

    def func(x: NDArray[np.float64]) -> NDArray[np.float64]:
        values = np.tile(fixed, (x.shape[1], 1))
        values[:, free] = x.T
        shares = sim.shares(values)
        hits = shares > np.array([t.threshold for t in targets])[:, None]
        return np.vstack([hits, shares]).astype(np.float64)

    outputs = [f"hit_{t.year}" for t in targets] + [f"share_{t.year}" for t in targets]
    with np.errstate(invalid="ignore", divide="ignore"):
        res = sobol(
            func,
            dists,
            n=settings.n,
            rng=analysis_rng(spec.mc.seed),
            outputs=outputs,
            n_resamples=settings.n_resamples,
            confidence=settings.confidence,
        )
    return Drivers(res, targets, method_of(ds), clock.perf_counter() - t0, settings.n_agents)


def top(entry: dict, n: int = 5) -> list[dict]:
    """The ``n`` parameters of a ``drivers`` target entry with the largest total-order index."""
    return [p for p in entry["parameters"] if p["total_order"] is not None][:n]


@dataclass(frozen=True)
class Discovery:
    """PRIM boxes of the primary target's missed and hit futures in one year."""

    year: int
    threshold: float
    missed: discovery.Box | None
    hit: discovery.Box | None
    trajectory: discovery.Trajectory | None
    names: tuple[str, ...]

    def to_dict(self) -> dict:
        def box(b: discovery.Box | None, cases: str, verb: str) -> dict | None:
            if b is None:
                return None
            return {
                "restricted": {
                    self.names[j]: [None if not np.isfinite(v) else float(v) for v in lohi]
                    for j, lohi in b.restricted.items()
                },
                "coverage": b.coverage,
                "density": b.density,
                "mass": b.mass,
                "words": discovery.describe(b, self.names, cases=cases, verb=verb),
            }

        return {
            "year": self.year,
            "threshold": self.threshold,
            "missed": box(self.missed, "missed futures", "miss"),
            "hit": box(self.hit, "futures that hit", "hit"),
        }


def discover(
    ds: xr.Dataset,
    target: Target,
    *,
    names: Sequence[str] | None = None,
    min_density: float = 0.9,
    min_cases: float = 10.0,
) -> Discovery:
    """PRIM boxes over the sampled parameters of the draws that miss (and hit) ``target``.

    The draws are the run's posterior particles (weighted) when calibrated, else its prior
    draws. The box picked on each trajectory is the highest-coverage box whose density reaches
    ``min_density``, or the densest when none does. None when fewer than ``min_cases``
    effective draws (Kish) are of that kind.

    Parameters
    ----------
    names : sequence of str, optional
        The parameters to peel on (default: every one that varies). Peeling on the few that
        drive the target (:func:`drivers`) keeps the box readable: on dozens of parameters PRIM
        also peels on noise.
    """
    w = results.weights_of(ds)
    if w is None:
        w = results.prior_weights_of(ds)
    if w is None:
        w = np.ones(ds.sizes["draw"])
    keep = w > 0
    names = tuple(
        n
        for n in (results.param_names(ds) if names is None else names)
        if np.ptp(results.param_value(ds, n)[keep]) > 0
    )
    x = np.column_stack([results.param_value(ds, n)[keep] for n in names])
    share = results.share_at(ds, target.year, target.tech, target.metric).values[keep]
    miss = share <= target.threshold
    boxes, trajectory = [], None
    wk = w[keep]
    for cases in (miss, ~miss):
        wc = wk[cases]
        if not names or effective_sample_size(wc) < min_cases or cases.all():
            boxes.append(None)
            continue
        tr = discovery.peel(x, cases, weights=w[keep])
        trajectory = trajectory or tr
        densest = max(tr.boxes, key=lambda b: b.density).density
        box = tr.select(min_density=min(min_density, densest))
        boxes.append(discovery.paste(x, cases, box, weights=w[keep]))
    return Discovery(target.year, target.threshold, boxes[0], boxes[1], trajectory, names)


@dataclass(frozen=True)
class NextObservation:
    """How a hypothetical observation of a share would move the odds of a target.

    Attributes
    ----------
    series, date : str
        What is observed, and when (``YYYY-MM-DD``).
    sd : float
        Its likelihood's standard deviation (the observation's and the model discrepancy's).
    values : ndarray, shape (k,)
        Hypothetical observed values: quantiles of the posterior predictive.
    quantiles : ndarray, shape (k,)
        Their predictive quantiles.
    p_hit : ndarray, shape (k,)
        The target's odds after observing each value.
    p_now : float
        The odds today.
    expected_change : float
        Expected absolute change of the odds (preposterior, over the predictive).
    """

    series: str
    date: str
    year: int
    sd: float
    values: NDArray[np.float64]
    quantiles: NDArray[np.float64]
    p_hit: NDArray[np.float64]
    p_now: float
    expected_change: float

    def sentence(self) -> str:
        """``"a genai_users_share above 48.1% in mid-2026 (1 in 4 chance) would raise ..."``."""
        k = int(np.searchsorted(self.quantiles, 0.75))
        j = int(np.searchsorted(self.quantiles, 0.25))
        return (
            f"A {self.series} figure for {self.date[:7]} above {self.values[k]:.1%} (one chance "
            f"in four) would move the odds of the {self.year} target from {self.p_now:.0%} to "
            f"{self.p_hit[k]:.0%}; below {self.values[j]:.1%}, to {self.p_hit[j]:.0%}. Expected "
            f"change of the odds from that figure: {self.expected_change * 100:.1f} points."
        )

    def to_dict(self) -> dict:
        return {
            "series": self.series,
            "date": self.date,
            "year": self.year,
            "sd": self.sd,
            "p_hit_now": self.p_now,
            "expected_abs_change": self.expected_change,
            "table": [
                {"quantile": float(q), "value": float(v), "p_hit": float(p)}
                for q, v, p in zip(self.quantiles, self.values, self.p_hit, strict=True)
            ],
            "sentence": self.sentence(),
        }


def next_observation(
    ds: xr.Dataset,
    target: Target,
    *,
    series: str = "genai_users_share",
    date: str = "2026-06-30",
    tech: str = "agent",
    metric: str = "population",
    sd: float,
    quantiles: NDArray[np.float64] | None = None,
) -> NextObservation | None:
    """Odds of ``target`` after a hypothetical observation of ``(tech, metric)`` on ``date``.

    Each hypothetical value ``v`` reweights the run's (posterior) draws by the likelihood
    ``N(v; share_i, sd)``; the values are quantiles of the predictive distribution (the draws'
    shares plus N(0, sd) noise). None when the date is not simulated.
    """
    t = np.datetime64(date, "ns")
    if t not in ds.indexes["time"]:
        return None
    w = results.weights_of(ds)
    w = results.prior_weights_of(ds) if w is None else w
    w = np.ones(ds.sizes["draw"]) if w is None else w
    w = w / w.sum()
    pred = results.share_on(ds, t, tech, metric).values.astype(np.float64)
    hit = results.share_at(ds, target.year, target.tech, target.metric).values > target.threshold
    q = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]) if quantiles is None else quantiles
    # Predictive: a mixture of normals around the draws' shares; its quantiles by a fine grid.
    grid = np.linspace(pred.min() - 4 * sd, pred.max() + 4 * sd, 2001)
    cdf = stats.norm.cdf((grid[:, None] - pred[None, :]) / sd) @ w
    values = np.interp(q, cdf, grid)

    def odds(v: NDArray[np.float64]) -> NDArray[np.float64]:
        lik = stats.norm.pdf((v[:, None] - pred[None, :]) / sd) * w[None, :]
        return (lik @ hit) / lik.sum(axis=1)

    p_now = float(w @ hit)
    dens = np.diff(cdf)
    mids = 0.5 * (grid[1:] + grid[:-1])
    expected = float(dens @ np.abs(odds(mids) - p_now) / dens.sum())
    return NextObservation(series, date, target.year, sd, values, q, odds(values), p_now, expected)
