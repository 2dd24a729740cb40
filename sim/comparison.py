"""Paired comparison of scenarios run with common random numbers.

Draw ``i`` of every scenario shares its parameter sample and its random streams, so the per-draw
difference between a scenario and the reference reflects the levers, not sampling noise. The
difference in the odds of a target is the mean difference of per-draw hit indicators, with
Newcombe's interval for paired proportions; the difference in the share itself is the mean
per-draw difference, with a t interval (:mod:`sim.stats`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from sim import costs, results
from sim.spec import Target
from sim.stats import Odds, lineage_design_effect, mean_interval, paired_interval
from sim.targets import evaluate

#: Public money in which "change in odds per ... yuan" is expressed.
PER_YUAN = 100e9
METHOD = (
    "paired: draw i of every scenario shares its parameter sample and random streams (common "
    "random numbers); p_hit difference = mean of per-draw hit-indicator differences with "
    "Newcombe's (1998) hybrid score interval for paired proportions (method 10); share "
    "difference = mean of per-draw share differences with a t interval; over posterior "
    "particles both intervals count independent pairs, not particles (the pairs' lineage design "
    "effect); cost differences at the unit-cost priors' central values, up "
    "to the end of the target year"
)


@dataclass(frozen=True)
class Change:
    """A scenario's paired change against the reference in one target.

    Attributes
    ----------
    p_hit_diff : float
        Mean over draws of (target met in the scenario) minus (met in the reference), in [-1, 1].
    p_hit_diff_ci95 : tuple of float
        Its 95% interval for paired proportions (:func:`sim.stats.paired_interval`); over
        posterior particles it counts independent pairs, not particles (the pairs' lineage
        design effect, :func:`sim.stats.lineage_design_effect`).
    share_diff : float
        Mean per-draw difference in the share at the end of the target year.
    share_diff_ci95 : tuple of float
        Its 95% t interval (over independent pairs, likewise).
    extra_cost_yuan : float or None
        Public cost minus the reference's, up to the end of the target year, at the central unit
        costs (yuan); None when a run has no public cost.
    p_hit_diff_per_100bn_yuan : float or None
        ``p_hit_diff`` per 100 bn yuan of ``extra_cost_yuan``; None when the scenario costs no
        more than the reference (or has no cost).
    """

    p_hit_diff: float
    p_hit_diff_ci95: tuple[float, float]
    share_diff: float
    share_diff_ci95: tuple[float, float]
    extra_cost_yuan: float | None = None
    p_hit_diff_per_100bn_yuan: float | None = None

    def to_dict(self) -> dict:
        out = {
            "p_hit_diff": self.p_hit_diff,
            "p_hit_diff_ci95": list(self.p_hit_diff_ci95),
            "share_diff": self.share_diff,
            "share_diff_ci95": list(self.share_diff_ci95),
        }
        if self.extra_cost_yuan is not None:
            out["extra_cost_yuan"] = self.extra_cost_yuan
            out["p_hit_diff_per_100bn_yuan"] = self.p_hit_diff_per_100bn_yuan
        return out


@dataclass(frozen=True)
class Row:
    """One target of one scenario: its own odds and, but for the reference, its change."""

    odds: Odds
    change: Change | None = None

    @property
    def target(self) -> Target:
        return self.odds.target

    def to_dict(self) -> dict:
        return self.odds.to_dict() | ({} if self.change is None else self.change.to_dict())


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario of a comparison.

    Attributes
    ----------
    scenario, title : str
    public_cost : dict or None
        :func:`sim.costs.summarize` of the run; None when it has no public cost.
    rows : tuple of Row
        One per target, in the comparison's target order.
    """

    scenario: str
    title: str
    public_cost: dict | None
    rows: tuple[Row, ...]

    def to_dict(self) -> dict:
        return {
            "scenario": self.scenario,
            "title": self.title,
            "public_cost": self.public_cost,
            "targets": [r.to_dict() for r in self.rows],
        }


@dataclass(frozen=True)
class Comparison:
    """Each scenario against the first (the reference), paired draw by draw.

    Attributes
    ----------
    reference : str
        The reference scenario's name.
    draws, seed : int
        Shared by every scenario.
    method : str
        How the changes are computed, in words.
    scenarios : tuple of ScenarioResult
        The reference first.
    """

    reference: str
    draws: int
    seed: int
    method: str
    scenarios: tuple[ScenarioResult, ...]

    @property
    def targets(self) -> tuple[Target, ...]:
        """The targets compared, in row order."""
        return tuple(r.target for r in self.scenarios[0].rows)

    @property
    def has_costs(self) -> bool:
        """Whether every scenario's changes carry an extra public cost."""
        return all(
            r.change is not None and r.change.extra_cost_yuan is not None
            for s in self.scenarios[1:]
            for r in s.rows
        )

    def index(self, target: Target) -> int:
        """Row of ``target``.

        Raises
        ------
        ValueError
            If ``target`` is not compared.
        """
        if target not in self.targets:
            raise ValueError(f"target {target.label} is not in the comparison")
        return self.targets.index(target)

    def to_dict(self) -> dict:
        """The ``comparison.json`` content."""
        return {
            "reference": self.reference,
            "draws": self.draws,
            "seed": self.seed,
            "method": self.method,
            "scenarios": [s.to_dict() for s in self.scenarios],
        }


def _check_paired(ref: xr.Dataset, ds: xr.Dataset) -> None:
    for what, a, b in (
        ("seed", ref.attrs["seed"], ds.attrs["seed"]),
        ("draws", list(ref["draw"].values), list(ds["draw"].values)),
        ("parameters", results.param_names(ref), results.param_names(ds)),
        ("targets", results.targets_of(ref), results.targets_of(ds)),
    ):
        if a != b:
            raise ValueError(
                f"scenario {ds.attrs['scenario']!r} is not paired with the reference: "
                f"its {what} differ"
            )


def _paired_lineage(ref: xr.Dataset, ds: xr.Dataset) -> np.ndarray | None:
    """Each pair's lineages, shape (2, n): the scenario's particle's first, the reference's second
    (:func:`sim.results.lineage_of`); None when neither run holds posterior particles. A label
    names the same first-round particle of the sampler in both runs (both draw their first round
    from the same seed); a run without lineages takes the other's."""
    alt, base = results.lineage_of(ds), results.lineage_of(ref)
    if alt is None and base is None:
        return None
    return np.stack([base if alt is None else alt, alt if base is None else base])


def _change(ds: xr.Dataset, ref: xr.Dataset, t: Target) -> Change:
    """The paired change of ``ds`` against ``ref`` in target ``t``; over posterior particles, the
    intervals count independent pairs, not particles (:func:`sim.stats.lineage_design_effect`
    of the pairs' lineages), as the runs' odds do."""
    s_alt = results.share_at(ds, t.year, t.tech, t.metric).values.astype(np.float64)
    s_ref = results.share_at(ref, t.year, t.tech, t.metric).values.astype(np.float64)
    hit_alt, hit_ref = s_alt > t.threshold, s_ref > t.threshold
    lineage = _paired_lineage(ref, ds)
    deff_hit = deff_share = 1.0
    if lineage is not None:
        deff_hit = lineage_design_effect(np.stack([hit_alt, hit_ref]), lineage)
        deff_share = lineage_design_effect(np.stack([s_alt, s_ref]), lineage)
    diff, lo, hi = paired_interval(hit_alt, hit_ref, design_effect=deff_hit)
    sd, sd_lo, sd_hi = mean_interval(s_alt - s_ref, design_effect=deff_share)
    if "public_cost" not in ds or "public_cost" not in ref:
        return Change(diff, (lo, hi), sd, (sd_lo, sd_hi))
    extra = costs.total(ds, through=t.year) - costs.total(ref, through=t.year)
    per = diff / (extra / PER_YUAN) if extra > 0 else None
    return Change(diff, (lo, hi), sd, (sd_lo, sd_hi), extra, per)


def counted_draws(ds: xr.Dataset) -> xr.Dataset:
    """The draws a run's odds count, all equally likely: after sequential Monte Carlo its posterior
    particles (or, refused, its prior draws), without the draws ``weight`` leaves out; every draw
    otherwise. Paired runs keep the same positions: draw ``i`` of the particles shares its streams
    in every scenario (and its parameters too, when the scenarios' posteriors agree)."""
    w = results.weights_of(ds)
    if w is None or results.prior_weights_of(ds) is None:
        return ds
    return ds.isel(draw=np.flatnonzero(w > 0)).drop_vars(["weight", "prior_weight"])


def compare(runs: Sequence[xr.Dataset]) -> Comparison:
    """Compare each run with the first (the reference).

    Parameters
    ----------
    runs : sequence of Dataset
        Results of the same configuration under different scenarios (same seed, draws,
        parameters and targets), the reference first.

    Returns
    -------
    Comparison
        For each scenario its title, public cost and, per target, its odds (every draw counted
        equally; after sequential Monte Carlo, every posterior particle: :func:`counted_draws`,
        the interval counting the particles' lineages)
        and, against the reference, the paired change in the odds and in the share,
        the extra cost and the change per 100 bn yuan. ``to_dict()`` is ``comparison.json``.

    Raises
    ------
    ValueError
        If a run is not paired with the reference.
    """
    runs = [counted_draws(ds) for ds in runs]
    ref = runs[0]
    for ds in runs[1:]:
        _check_paired(ref, ds)
    targets = results.targets_of(ref)
    scenarios = tuple(
        ScenarioResult(
            ds.attrs["scenario"],
            ds.attrs["scenario_title"],
            costs.summarize(ds) if "public_cost" in ds else None,
            tuple(
                Row(o, None if ds is ref else _change(ds, ref, o.target))
                for o in evaluate(ds, targets, lineage=results.lineage_of(ds))
            ),
        )
        for ds in runs
    )
    return Comparison(
        ref.attrs["scenario"], int(ref.sizes["draw"]), int(ref.attrs["seed"]), METHOD, scenarios
    )
