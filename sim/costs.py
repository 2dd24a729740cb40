"""Public cost of a scenario: its levers and programmes, in yuan, by year.

A lever costs its unit cost (billion yuan per unit of intensity per year, the priors in
``conf/priors``: ``costs``) times the intensity in force times the coverage of its scope, month by
month; each programme adds its own intensity times its own coverage. Money is spent while an
intensity is in force (no lag); the effects follow after the lever's lag. The unit costs are
assumptions, so every cost is reported at the priors' central value and at their low and high ends.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from sim.population import Population, scope_mask
from sim.spec import Scope, Spec
from sim.vocab import FIRMS, METRICS, PEOPLE

ESTIMATES: tuple[str, ...] = ("central", "low", "high")
YUAN_PER_BN = 1e9


def coverage(scope: Scope, pop: Population, people_share: float) -> float:
    """Share of a nationwide lever's budget that a scope covers, in [0, 1].

    The share of people (by head) and the share of firms (by count) inside the scope, weighted by
    ``people_share`` and ``1 - people_share``; a kind absent from the population does not count.
    """
    mask = scope_mask(scope, pop)
    parts = []
    for kind, metric, share in (
        (PEOPLE, "population", people_share),
        (FIRMS, "firms", 1.0 - people_share),
    ):
        w = pop.cell_weight[:, METRICS.index(metric)] * (pop.cell_kind == kind)
        if w.sum() > 0:
            parts.append((share, w[mask].sum() / w.sum()))
    total = sum(s for s, _ in parts)
    if total <= 0:
        return float(np.mean([f for _, f in parts])) if parts else 0.0
    return float(sum(s * f for s, f in parts) / total)


def variables(spec: Spec, pop: Population) -> dict[str, xr.DataArray]:
    """Cost variables of the results: ``public_cost`` (cost_year, lever, estimate) in yuan, and
    ``programme_cost`` (cost_year, programme, estimate) when the scenario has programmes; empty
    when the configuration defines no costs."""
    if not spec.costs.unit:
        return {}
    n_s, dt = spec.time.n_steps, spec.time.dt
    t = spec.time.t0 + np.arange(n_s) * dt
    years = np.arange(spec.time.start[0], spec.time.end[0] + 1)
    year_of = np.floor(t + 1e-9).astype(int) - years[0]
    share = spec.costs.people_share

    def yearly(yuan_per_year: np.ndarray) -> np.ndarray:
        """Monthly spending (n_steps, ...) at annual rates -> yuan per calendar year."""
        out = np.zeros((years.size, *yuan_per_year.shape[1:]))
        np.add.at(out, year_of, yuan_per_year * dt)
        return out

    def unit(lever: str) -> np.ndarray:
        p = spec.costs.of(lever)
        return np.array([p.central, p.low, p.high]) * YUAN_PER_BN

    progs = spec.programmes
    lever_x = np.stack(
        [lv.intensity(t) * coverage(lv.scope, pop, share) for lv in spec.levers], axis=1
    )
    prog_x = np.zeros((n_s, len(progs)))
    for j, pr in enumerate(progs):
        prog_x[:, j] = pr.intensity(t) * coverage(pr.scope, pop, share)
    units = np.array([unit(lv.name) for lv in spec.levers])  # (L, 3)
    prog_units = np.array([unit(pr.lever) for pr in progs]).reshape(len(progs), 3)
    lever_cost = yearly(lever_x[:, :, None] * units[None])
    prog_cost = yearly(prog_x[:, :, None] * prog_units[None])
    names = [lv.name for lv in spec.levers]
    for j, pr in enumerate(progs):
        lever_cost[:, names.index(pr.lever)] += prog_cost[:, j]
    attrs = {
        "units": "yuan",
        "description": "public cost at the unit-cost priors' central value "
        "and low and high ends (conf/priors: costs)",
    }
    coords = {"cost_year": years, "estimate": list(ESTIMATES)}
    out = {
        "public_cost": xr.DataArray(
            lever_cost,
            dims=("cost_year", "lever", "estimate"),
            coords={**coords, "lever": names},
            attrs={"long_name": "public cost of each lever, programmes included", **attrs},
        )
    }
    if spec.programmes:
        out["programme_cost"] = xr.DataArray(
            prog_cost,
            dims=("cost_year", "programme", "estimate"),
            coords={**coords, "programme": [pr.name for pr in spec.programmes]},
            attrs={"long_name": "public cost of each programme", **attrs},
        )
    return out


def total(ds: xr.Dataset, *, through: int | None = None, estimate: str = "central") -> float:
    """A run's public cost in yuan, over the horizon or up to the end of year ``through``."""
    cost = ds["public_cost"].sel(estimate=estimate).sum("lever")
    if through is not None:
        cost = cost.sel(cost_year=cost["cost_year"] <= through)
    return float(cost.sum())


def summarize(ds: xr.Dataset) -> dict:
    """The ``public_cost`` entry of ``summary.json`` (yuan; central unless named low or high)."""
    cost = ds["public_cost"]
    out = {
        "unit": "yuan",
        "total": total(ds),
        "total_low": total(ds, estimate="low"),
        "total_high": total(ds, estimate="high"),
        "yearly": {
            str(int(y)): float(v)
            for y, v in zip(
                cost["cost_year"].values,
                cost.sel(estimate="central").sum("lever").values,
                strict=True,
            )
        },
        "by_lever": {
            str(lv): float(v)
            for lv, v in zip(
                cost["lever"].values,
                cost.sel(estimate="central").sum("cost_year").values,
                strict=True,
            )
        },
    }
    if "programme_cost" in ds:
        pc = ds["programme_cost"].sel(estimate="central").sum("cost_year")
        out["by_programme"] = {
            str(p): float(v) for p, v in zip(pc["programme"].values, pc.values, strict=True)
        }
    return out
