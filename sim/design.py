"""Policy design: the cheapest lever intensities for which a target's odds reach a level.

:func:`cheapest` is the optimiser, on any odds function: it minimises the extra public cost, a
linear function of the intensities, subject to ``p_hit(x) >= level`` within bounds (and an
optional budget), with scipy's SLSQP [1]_ and forward-difference gradients. Every point it
evaluates is kept: the answer is the cheapest evaluated point that meets the level (SLSQP's own
end point when it does), and the evaluated points' cost-odds Pareto front is the frontier.

:func:`design` sets up the odds function on the model: the run's draws (posterior particles,
resampled by weight, or prior draws) simulated by the vectorised core with the same parameter
sets and random streams at every intensity (common random numbers [2]_), so the difference
between two intensities is the levers' effect and not chance. A hit indicator is a step
function of the intensities, which a gradient method cannot follow; the odds are smoothed as the
mean of ``Phi((share - threshold) / bandwidth)``, and the chosen point's raw odds (the share of
draws that hit) are reported beside it.

The intensities act nationwide from ``start`` on, on top of today's 1.0 (intensity 1.0 is the
current policy, inside the calibrated trend: no extra effect, and no extra cost). A lever's
extra cost is ``(x - 1)`` times its unit cost (``conf/priors``: ``costs``, central value) per
year from ``start`` to the end of the target year; the designed scenario file is priced by
:mod:`sim.costs` like any other when it is run.

References
----------
.. [1] Kraft, D. (1988). A software package for sequential quadratic programming. DFVLR-FB
   88-28 (SLSQP, as in :func:`scipy.optimize.minimize`).
.. [2] Law, A. M. (2015). Simulation Modeling and Analysis, 5th ed. McGraw-Hill, section 11.2
   (common random numbers).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import xarray as xr
import yaml
from numpy.typing import NDArray
from scipy import optimize, stats

from sim import results
from sim.analysis import Simulator
from sim.costs import YUAN_PER_BN
from sim.engine import parameter_sets
from sim.spec import Spec, Target
from sim.spec.analysis import DesignSpec
from sim.streams import analysis_rng


@dataclass(frozen=True)
class Point:
    """One evaluated schedule: intensities, extra cost (yuan) and smoothed odds."""

    intensity: tuple[float, ...]
    cost: float
    p_hit: float


@dataclass(frozen=True)
class Solution:
    """What :func:`cheapest` found.

    Attributes
    ----------
    point : Point
        The cheapest evaluated schedule that meets the level; when none does, the one with the
        best odds (``reached`` False).
    reached : bool
        Whether ``point`` meets the level.
    evaluated : tuple of Point
        Every schedule evaluated, in order.
    """

    point: Point
    reached: bool
    evaluated: tuple[Point, ...]

    def frontier(self) -> tuple[Point, ...]:
        """The evaluated points no other point beats on both cost and odds, cheapest first."""
        out, best = [], -np.inf
        for p in sorted(self.evaluated, key=lambda p: (p.cost, -p.p_hit)):
            if p.p_hit > best:
                out.append(p)
                best = p.p_hit
        return tuple(out)


class _Memo:
    """An odds function that remembers its values and every point it was asked for."""

    def __init__(self, p_hit: Callable[[NDArray], float], cost: Callable[[NDArray], float]):
        self.p_hit, self.cost = p_hit, cost
        self.seen: dict[tuple[float, ...], Point] = {}

    def __call__(self, x: NDArray[np.float64]) -> float:
        key = tuple(round(float(v), 6) for v in x)
        if key not in self.seen:
            self.seen[key] = Point(key, self.cost(np.array(key)), float(self.p_hit(np.array(key))))
        return self.seen[key].p_hit

    def gradient(self, x: NDArray[np.float64], step: float, high: NDArray) -> NDArray:
        f0, g = self(x), np.zeros(x.size)
        for i in range(x.size):
            h = step if x[i] + step <= high[i] else -step
            y = x.copy()
            y[i] += h
            g[i] = (self(y) - f0) / h
        return g


def cheapest(
    p_hit: Callable[[NDArray[np.float64]], float],
    unit_cost: NDArray[np.float64],
    *,
    low: NDArray[np.float64],
    high: NDArray[np.float64],
    level: float,
    budget: float | None = None,
    step: float = 0.1,
    max_evaluations: int = 60,
) -> Solution:
    """The cheapest intensities ``x`` in ``[low, high]`` with ``p_hit(x) >= level``.

    Parameters
    ----------
    p_hit : callable
        ``p_hit(x) -> float``, the odds at intensities ``x`` of shape (k,); assumed to rise
        with each intensity (more support never hurts), smooth enough for finite differences of
        ``step``.
    unit_cost : ndarray, shape (k,)
        Extra cost per unit of intensity above ``low`` (any currency; yuan in :func:`design`).
    low, high : ndarray, shape (k,)
        Bounds; ``low`` costs nothing.
    level : float
        Odds to reach, in (0, 1].
    budget : float, optional
        Most extra cost.
    step : float
        Finite-difference step of the gradients, in intensity units.
    max_evaluations : int
        Most calls of ``p_hit`` (a few more may be spent finishing a gradient).

    Returns
    -------
    Solution
    """
    low, high = np.asarray(low, float), np.asarray(high, float)
    unit_cost = np.asarray(unit_cost, float)
    scale = max(float(unit_cost @ (high - low)), 1e-12)

    def cost(x: NDArray) -> float:
        return float(unit_cost @ (np.asarray(x) - low))

    f = _Memo(p_hit, cost)
    n_iter = max(1, max_evaluations // (low.size + 1))
    bounds = optimize.Bounds(low, high)
    in_budget = (
        []
        if budget is None
        else [optimize.LinearConstraint(unit_cost[None, :] / scale, -np.inf, budget / scale)]
    )
    # The most that can be reached: every lever at its bound, or the best odds within budget.
    top = high.copy()
    if budget is not None and cost(top) > budget:
        # Start from the best of: the budget spread evenly, or spent on one lever alone.
        starts = [low + (high - low) * min(1.0, budget / max(cost(high), 1e-12))]
        for i in range(low.size):
            x = low.copy()
            x[i] = min(high[i], low[i] + budget / max(unit_cost[i], 1e-12))
            starts.append(x)
        res = optimize.minimize(
            lambda x: -f(x),
            x0=max(starts, key=f),
            jac=lambda x: -f.gradient(x, step, high),
            bounds=bounds,
            constraints=in_budget,
            method="SLSQP",
            options={"maxiter": n_iter, "ftol": 1e-4},
        )
        top = np.clip(res.x, low, high)
    if f(low) >= level:
        return Solution(f.seen[tuple(round(float(v), 6) for v in low)], True, _points(f))
    if f(top) >= level:
        # Start from the cheapest single lever at its bound that reaches the level, if any:
        # SLSQP then trims it and adds cheaper ones; else from everything at the bound.
        x0 = top
        if low.size > 1:
            alone = []
            for i in range(low.size):
                x = low.copy()
                x[i] = top[i]
                if f(x) >= level:
                    alone.append(x)
            x0 = min(alone, key=cost, default=top)
        optimize.minimize(
            lambda x: cost(x) / scale,
            x0=x0,
            jac=lambda x: unit_cost / scale,
            bounds=bounds,
            constraints=[
                {
                    "type": "ineq",
                    "fun": lambda x: f(x) - level,
                    "jac": lambda x: f.gradient(x, step, high),
                },
                *in_budget,
            ],
            method="SLSQP",
            options={"maxiter": n_iter, "ftol": 1e-4},
        )
    points = _points(f)
    ok = [p for p in points if p.p_hit >= level and (budget is None or p.cost <= budget * 1.0001)]
    if ok:
        best = _trim(f, np.array(min(ok, key=lambda p: p.cost).intensity), level, low, unit_cost)
        return Solution(best, True, _points(f))
    within = [p for p in points if budget is None or p.cost <= budget * 1.0001]
    return Solution(max(within, key=lambda p: p.p_hit), False, points)


def _trim(
    f: _Memo, x: NDArray, level: float, low: NDArray, unit_cost: NDArray, steps: int = 7
) -> Point:
    """Lower each intensity above its bound, the dearest first, by bisection, as far as the
    odds stay at the level: SLSQP stops within its tolerance, often a little above the level."""
    x = x.copy()
    for i in np.argsort(-unit_cost * (x - low)):
        if x[i] <= low[i]:
            continue
        lo, hi = low[i], x[i]
        for _ in range(steps):
            mid = 0.5 * (lo + hi)
            y = x.copy()
            y[i] = mid
            lo, hi = (lo, mid) if f(y) >= level else (mid, hi)
        x[i] = hi
    f(x)
    return f.seen[tuple(round(float(v), 6) for v in x)]


def _points(f: _Memo) -> tuple[Point, ...]:
    return tuple(f.seen.values())


def with_intensities(spec: Spec, names: tuple[str, ...], x: NDArray, start: int) -> Spec:
    """``spec`` with lever ``names[i]`` at intensity ``x[i]`` from January of ``start`` on
    (nationwide, today's schedule before)."""
    levers = []
    for lv in spec.levers:
        if lv.name in names:
            before = tuple((y, v) for y, v in lv.schedule if y < start)
            lv = replace(lv, schedule=(*before, (start, float(x[names.index(lv.name)]))))
        levers.append(lv)
    return replace(spec, levers=tuple(levers))


def unit_costs(spec: Spec, names: tuple[str, ...], years: int) -> NDArray[np.float64]:
    """Extra yuan per unit of intensity of each of ``names`` over ``years`` years (central)."""
    return np.array([spec.costs.of(n).central * YUAN_PER_BN * years for n in names])


def design_draws(spec: Spec, ds: xr.Dataset | None, n: int) -> NDArray[np.float64]:
    """``n`` parameter sets: the run's posterior particles resampled by weight (systematic
    resampling), or its prior draws (the first ``n``) when it is not calibrated."""
    if ds is None:
        return parameter_sets(replace(spec, mc=replace(spec.mc, draws=n)))
    values = ds["param_value"].values
    w = results.weights_of(ds)
    if w is None:
        w = results.prior_weights_of(ds)
    if w is None:
        return values[:n]
    u = (analysis_rng(spec.mc.seed).random() + np.arange(n)) / n
    return values[np.minimum(np.searchsorted(np.cumsum(w / w.sum()), u), len(w) - 1)]


@dataclass(frozen=True)
class Design:
    """A designed programme and how it was found.

    Attributes
    ----------
    settings : DesignSpec
    target : Target
    solution : Solution
        In yuan and smoothed odds.
    raw_p_hit : float
        Share of the design's draws that hit at the chosen intensities.
    p_now : float
        Smoothed odds at today's intensities.
    """

    settings: DesignSpec
    target: Target
    solution: Solution
    raw_p_hit: float
    p_now: float

    def sentence(self) -> str:
        s, p = self.settings, self.solution.point
        levers = ", ".join(
            f"{n} {v:.2f}" for n, v in zip(s.levers, p.intensity, strict=True) if v > s.low + 1e-3
        )
        what = f"intensities {levers}" if levers else "today's intensities"
        if self.solution.reached:
            head = (
                f"The cheapest programme found for P(hit {self.target.year}) >= {s.level:.0%}: "
                f"{what} from {s.start}"
            )
        else:
            head = (
                f"No schedule within intensities {s.low:g}-{s.high:g}"
                + (f" and a budget of {s.budget:,.0f} bn yuan" if s.budget is not None else "")
                + f" reaches P(hit {self.target.year}) >= {s.level:.0%}; the best reachable is "
                f"{p.p_hit:.0%} with {what} from {s.start}"
            )
        return (
            f"{head}, at an extra {p.cost / YUAN_PER_BN:,.0f} bn yuan to end-{self.target.year} "
            f"(central unit costs); odds {p.p_hit:.0%} smoothed, {self.raw_p_hit:.0%} of the "
            f"{s.draws} design draws hit (today's policy: {self.p_now:.0%})."
        )

    def to_dict(self) -> dict:
        s, p = self.settings, self.solution.point
        return {
            "target": {"year": self.target.year, "threshold": self.target.threshold},
            "level": s.level,
            "reached": self.solution.reached,
            "intensity": dict(zip(s.levers, p.intensity, strict=True)),
            "start": s.start,
            "extra_cost_yuan": p.cost,
            "p_hit_smoothed": p.p_hit,
            "p_hit_raw": self.raw_p_hit,
            "p_hit_today": self.p_now,
            "draws": s.draws,
            "n_agents": s.n_agents,
            "evaluations": len(self.solution.evaluated),
            "frontier": [
                {"extra_cost_yuan": q.cost, "p_hit": q.p_hit, "intensity": list(q.intensity)}
                for q in self.solution.frontier()
            ],
            "sentence": self.sentence(),
        }

    def scenario_yaml(self, spec: Spec) -> str:
        """A scenario file (``scenarios/`` format) of the designed levers, with a comment that
        says how it was found."""
        s, p = self.settings, self.solution.point
        levers = {}
        for lv in spec.levers:
            if lv.name in s.levers:
                x = p.intensity[s.levers.index(lv.name)]
                sched = {y: v for y, v in lv.schedule if y < s.start}
                after = {y: v for y, v in lv.schedule if y > self.target.year}
                if self.target.year < spec.time.end[0]:
                    # The programme is priced to the target year, so it ends there: back to
                    # the lever's own schedule (today's intensity) from the next January.
                    after = {self.target.year + 1: float(lv.intensity(self.target.year + 1.0))}
                    after |= {y: v for y, v in lv.schedule if y > self.target.year + 1}
                levers[lv.name] = {"intensity": {**sched, s.start: round(float(x), 3), **after}}
        body = {
            "title": f"Designed: cheapest levers for P(hit {self.target.year}) >= {s.level:.0%}",
            "description": " ".join(self.sentence().split()),
            "levers": levers,
        }
        head = (
            "# Written by `python -m sim design=...` (sim/design.py): lever intensities from "
            f"{s.start} to {self.target.year} found by SLSQP\n# over {s.draws} draws with "
            "common random numbers, then today's again. Edit and run it: "
            "python -m sim scenario=PATH/TO/THIS.yaml\n"
        )
        return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def design(spec: Spec, settings: DesignSpec, ds: xr.Dataset | None = None) -> Design:
    """The cheapest lever intensities for which the primary target of ``settings.target``'s
    odds reach ``settings.level`` (see the module's notes).

    Parameters
    ----------
    spec : Spec
        The run's configuration (its levers before the design's year are kept).
    settings : DesignSpec
    ds : Dataset, optional
        The run's results: its posterior (or prior) draws are the design's draws.
    """
    target = next(t for t in spec.targets if t.primary and t.year == settings.target)
    sim = Simulator(spec, (target,), n_agents=settings.n_agents)
    values = design_draws(spec, ds, settings.draws)
    names = settings.levers
    k = len(names)
    low, high = np.full(k, settings.low), np.full(k, settings.high)
    today = np.clip(np.ones(k), low, high)

    def shares(x: NDArray) -> NDArray:
        twin = sim.with_levers(with_intensities(sim.spec, names, x, settings.start).levers)
        return twin.shares(values)[0]

    seen: dict[tuple[float, ...], float] = {}

    def p_hit(x: NDArray) -> float:
        key = tuple(round(float(v), 6) for v in x)
        if key not in seen:
            z = (shares(np.array(key)) - target.threshold) / settings.bandwidth
            seen[key] = float(stats.norm.cdf(z).mean())
        return seen[key]

    years = settings.target - settings.start + 1
    unit = unit_costs(spec, names, years)
    budget = None if settings.budget is None else settings.budget * YUAN_PER_BN
    solution = cheapest(
        p_hit,
        unit,
        low=low,
        high=high,
        level=settings.level,
        budget=budget,
        max_evaluations=settings.max_evaluations,
    )
    if not solution.reached:
        # Out of reach: trace the frontier below it, the best odds at a tenth and at a third of
        # the best schedule's cost (each search starts from the budget spent on one lever alone).
        points = {p.intensity: p for p in solution.evaluated}
        for share in (0.1, 0.3):
            part = cheapest(
                p_hit,
                unit,
                low=low,
                high=high,
                level=1.0 + 1e-9,
                budget=share * solution.point.cost,
                max_evaluations=settings.max_evaluations // 3,
            )
            points.update({p.intensity: p for p in part.evaluated})
        solution = replace(solution, evaluated=tuple(points.values()))
    raw = float(np.mean(shares(np.array(solution.point.intensity)) > target.threshold))
    return Design(settings, target, solution, raw, p_hit(today))


def write(d: Design, spec: Spec, folder: Path) -> Path:
    """Write ``design.json`` and ``designed.yaml`` (the scenario) into ``folder``; the
    scenario's path."""
    results.write_text(json.dumps(d.to_dict(), indent=2) + "\n", folder / "design.json")
    path = folder / "designed.yaml"
    results.write_text(d.scenario_yaml(spec), path)
    return path
