"""What each reading of the target counts, out of how many, and how far it can go at most.

A *reading* is a metric x technology (e.g. agent use as a share of the population). This module
gives, from a run's spec and synthetic population,

- :func:`denominators`: what each metric's weights add up to (persons, internet users, firms,
  employees) and the year the figure refers to;
- :func:`caps`: the largest share each reading can reach by the end of each target year under the
  priors (its *built-in cap*): the maximum, over the priors' support, of the ceiling the engines
  use (:meth:`sim.drivers.CellParams.ceilings`), weighted over the population's cells. A target
  above its cap cannot be met by assumption (:meth:`sim.stats.Odds.out_of_reach`).
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

from sim import rules
from sim.drivers import CellParams, Layout, lever_responses
from sim.population import FIRMS, PEOPLE, Population
from sim.spec import METRICS, TECHS, Prior, Spec
from sim.vocab import METRIC_UNITS, READING_TECHS

#: Year each metric's denominator refers to: the 2024 population and CNNIC's end-2024 access,
#: the 5th Economic Census (end 2023) for firms and their employees.
DENOMINATOR_YEARS = {"population": 2024, "internet_users": 2024, "firms": 2023,
                     "firm_employment": 2023}  # fmt: skip
#: Grid points per parameter whose effect on a cap is not monotone.
_GRID = 5


def denominators(pop: Population) -> dict[str, dict]:
    """Each metric's total weight (the number its shares are out of), its unit and year."""
    totals = pop.cell_weight.sum(axis=0)
    return {
        m: {"total": float(totals[j]), "unit": METRIC_UNITS[m], "year": DENOMINATOR_YEARS[m]}
        for j, m in enumerate(METRICS)
    }


def _support(p: Prior, spec: Spec) -> tuple[float, float]:
    if spec.mc.uncertainty == "none":
        return p.central, p.central
    return p.low, p.high


def _grid_values(spec: Spec) -> NDArray[np.float64]:
    """Parameter sets at which the ceilings reach their maxima, (n_sets, n_params): ceilings and
    lever effects on them at the top of their support, the correlation at the bottom (the union
    is widest), the offline routes and the access trend on a grid (they raise the population's
    reach but lower an online person's ceiling); everything else central."""
    names = spec.param_names
    base = np.array([p.central for p in spec.priors])
    varied = ("people.internet_trend", *(f"people.offline_ceiling_{t}" for t in TECHS))
    grid_names = [n for n in varied if n in names]
    axes = []
    for n in grid_names:
        lo, hi = _support(spec.priors[names.index(n)], spec)
        axes.append(np.linspace(lo, hi, _GRID if hi > lo else 1))
    for p in spec.priors:
        lo, hi = _support(p, spec)
        leaf = p.name.rsplit(".", 1)[-1]
        if leaf in ("m", "m_firms", "ceiling"):
            base[names.index(p.name)] = hi
        elif p.name == "joint.correlation":
            base[names.index(p.name)] = lo
    rows = []
    for point in itertools.product(*axes):
        row = base.copy()
        for n, v in zip(grid_names, point, strict=True):
            row[names.index(n)] = v
        rows.append(row)
    return np.array(rows)


def _reach(cp: CellParams, t: float) -> dict[str, NDArray[np.float64]]:
    """Expected share of each cell in the market at decimal year ``t``, per reading technology
    and for online persons only (``<tech>_online``), each (n_cells, n_sets)."""
    lay = cp.lay
    pqm = cp.levered(lever_responses(cp.spec, lay, t))
    ceil = cp.ceilings(pqm, t)
    f = cp.online_share(t)
    on = {k: ceil[k][1] for k in TECHS}
    off = {k: ceil[k][2] for k in TECHS}
    rho = cp.correlation[None, :]
    out = {k: f * on[k] + (1 - f) * off[k] for k in TECHS}
    out["any"] = f * _union(on, rho) + (1 - f) * _union(off, rho)
    for k in READING_TECHS:
        out[f"{k}_online"] = _union(on, rho) if k == "any" else on[k]
    return out


def _union(c: dict[str, NDArray], rho: NDArray) -> NDArray[np.float64]:
    """Ceiling of ``any``: :func:`sim.rules.union_share` of the two technologies' ceilings."""
    return rules.union_share(c["terminal"], c["agent"], rho)


def caps(spec: Spec, pop: Population, lay: Layout) -> dict[tuple[int, str, str], float]:
    """Built-in cap of each reading by the end of each target year: ``(year, metric, tech)`` ->
    the largest share in [0, 1] its weighted ceiling reaches from the start to the year's end,
    over the priors' support (levers at the scenario's intensity, shocks aside)."""
    values = _grid_values(spec)
    # In batches of parameter sets: the cap is a maximum over them, and a batch keeps the memory
    # of a run's fixed costs small beside its chunks of draws.
    batches = [
        _caps_of(spec, pop, lay, values[i : i + _BATCH]) for i in range(0, len(values), _BATCH)
    ]
    return {key: max(b[key] for b in batches) for key in batches[0]}


#: Parameter sets evaluated together by :func:`caps`.
_BATCH = 16


def _caps_of(
    spec: Spec, pop: Population, lay: Layout, values: NDArray
) -> dict[tuple[int, str, str], float]:
    """:func:`caps` over the parameter sets ``values`` (n_sets, n_params)."""
    cp = CellParams(spec, pop, lay, values, np.zeros(len(values), dtype=np.int64))
    w = pop.cell_weight[:, :, None]
    people = (pop.cell_kind == PEOPLE)[:, None]
    firms = (pop.cell_kind == FIRMS)[:, None]
    years = sorted({t.year for t in spec.targets})
    out: dict[tuple[int, str, str], float] = {}
    best = {(m, k): 0.0 for m in METRICS for k in READING_TECHS}
    checkpoints = [spec.time.t0, *(float(y + 1) for y in range(spec.time.start[0], years[-1] + 1))]
    for t in checkpoints:
        reach = _reach(cp, t)
        f_on = np.where(pop.cell_internet[:, None], 1.0, cp.online_share(t))
        for k in READING_TECHS:
            shares = {
                "population": _mean(reach[k], w[:, 0] * people),
                "internet_users": _mean(reach[f"{k}_online"], w[:, 0] * people * f_on),
                "firms": _mean(reach[k], w[:, 2] * firms),
                "firm_employment": _mean(reach[k], w[:, 3] * firms),
            }
            for m, v in shares.items():
                best[m, k] = max(best[m, k], v)
        for y in years:
            if t == float(y + 1):
                out.update({(y, m, k): v for (m, k), v in best.items()})
    return out


def _mean(x: NDArray, w: NDArray) -> float:
    """Largest weighted mean over the parameter sets (0 when nothing is weighted)."""
    total = w.sum(axis=0)
    if not np.any(total > 0):
        return 0.0
    return float(np.max((x * w).sum(axis=0) / np.where(total > 0, total, 1.0)))
