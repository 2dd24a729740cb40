"""Paired comparison of scenarios with common random numbers."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import xarray as xr
from scipy import stats as scipy_stats

import sim
from sim import comparison, costs, results, stats
from sim.config import load_spec
from sim.engine import simulate
from sim.pipeline import run_one

from helpers import CHEAP, SMALL, SMC_TINY


def _table(a: int, b: int, c: int, d: int):
    """Paired indicators with a both-hit, b only-first, c only-second, d neither."""
    first = np.array([1] * a + [1] * b + [0] * c + [0] * d, dtype=bool)
    second = np.array([1] * a + [0] * b + [1] * c + [0] * d, dtype=bool)
    return first, second


def test_paired_interval_matches_a_published_example():
    """Fagerland, Lydersen & Laake (2017), ch. 8, Cavo et al. (2012) data: Newcombe's
    square-and-add interval -0.0621 (-0.1186 to -0.0046)."""
    diff, lo, hi = stats.paired_interval(*_table(59, 6, 16, 80))
    assert (round(diff, 4), round(lo, 4), round(hi, 4)) == (-0.0621, -0.1186, -0.0046)


def test_paired_interval_of_identical_indicators_is_centred_on_zero():
    x, _ = _table(5, 0, 0, 11)
    diff, lo, hi = stats.paired_interval(x, x)
    assert diff == 0.0 and lo < 0.0 < hi and lo == pytest.approx(-hi)


def test_paired_interval_stays_within_minus_one_and_one():
    diff, lo, hi = stats.paired_interval(*_table(0, 12, 0, 0))
    assert diff == 1.0 and 0.0 < lo < 1.0 and hi == 1.0


def test_copies_of_each_pair_in_one_lineage_count_as_that_pair_once():
    """Posterior particles copied from one ancestor carry no more information than it: three
    copies of each pair of the published example, each pair's copies one lineage, give the
    example's own interval (and the share change's interval that of the pairs once)."""
    first, second = _table(59, 6, 16, 80)
    copies = np.stack([np.repeat(v, 3) for v in (first, second)])
    lineage = np.repeat(np.arange(first.size), 3)
    deff = stats.lineage_design_effect(copies, lineage)
    assert deff == pytest.approx(3.0)
    assert stats.paired_interval(*copies, design_effect=deff) == pytest.approx(
        stats.paired_interval(first, second)
    )
    # Without the lineages the copies pass for three times the evidence.
    naive = stats.paired_interval(*copies)
    assert naive[2] - naive[1] < 0.6 * (-0.0046 + 0.1186)
    change = np.random.default_rng(3).normal(0.02, 0.05, 40)
    copied = np.repeat(change, 3)
    deff = stats.lineage_design_effect(copied, np.repeat(np.arange(40), 3))
    # The t interval of the values once, as scipy computes it.
    once = scipy_stats.ttest_1samp(change, 0.0).confidence_interval(0.95)
    assert stats.mean_interval(copied, design_effect=deff)[1:] == pytest.approx(
        (once.low, once.high)
    )


def test_one_lineage_is_one_draw_and_constant_values_count_lineages():
    values = np.random.default_rng(0).normal(size=60)
    assert stats.lineage_design_effect(values, np.zeros(60, dtype=int)) == 60.0
    assert stats.lineage_design_effect(np.full(60, 0.3), np.arange(60) % 4) == 15.0


def test_pairs_from_runs_that_descend_differently_from_shared_ancestors_are_covered():
    """Two runs descend from the same 300 first-round ancestors, one resampled differently for a
    fifth of its particles. Each ancestor carries a level (common to both runs) and a scenario
    effect (mean 0.1, varying by ancestor), so descendants of one ancestor are alike. The 95%
    interval of the mean paired difference over the pairs' lineage design effect covers the
    true effect, 0.1, about 95% of the time; over particles as if independent, far less."""
    rng = np.random.default_rng(11)
    n, m, reps = 1500, 300, 300
    covered = naive = 0
    for _ in range(reps):
        level, effect = rng.normal(size=m), rng.normal(0.1, 0.5, size=m)
        ref = np.sort(rng.integers(0, m, size=n))
        alt = ref.copy()
        moved = rng.random(n) < 0.2
        alt[moved] = rng.integers(0, m, size=moved.sum())
        pairs = np.stack([level[alt] + effect[alt], level[ref]]) + rng.normal(0, 0.3, (2, n))
        deff = stats.lineage_design_effect(pairs, np.stack([alt, ref]))
        _, lo, hi = stats.mean_interval(pairs[0] - pairs[1], design_effect=deff)
        covered += lo <= 0.1 <= hi
        _, lo, hi = stats.mean_interval(pairs[0] - pairs[1])
        naive += lo <= 0.1 <= hi
    assert covered / reps >= 0.9
    assert naive / reps < 0.85


def test_paired_differences_vary_far_less_than_unpaired_ones():
    """Draw i of both scenarios shares its parameters and streams, so the per-draw difference in
    a target's share is mostly the lever effect; with a different seed it is mostly noise."""
    spec = load_spec(SMALL)
    ref = simulate(spec)
    alt_spec = load_spec([*SMALL, "scenario=full_implementation"])
    alt = simulate(alt_spec)
    other = simulate(replace(alt_spec, mc=replace(alt_spec.mc, seed=alt_spec.mc.seed + 1)))
    for t in spec.targets:
        at = (t.year, t.tech, t.metric)
        paired = results.share_at(alt, *at).values - results.share_at(ref, *at).values
        unpaired = results.share_at(other, *at).values - results.share_at(ref, *at).values
        assert paired.var() < 0.1 * unpaired.var(), t.label


def test_comparison_reports_odds_paired_change_and_cost_per_100bn():
    comp = sim.compare(["baseline", "full_implementation", "headwinds"], overrides=SMALL).to_dict()
    assert comp["reference"] == "baseline" and comp["draws"] == 16
    assert "Newcombe" in comp["method"]
    ref, full, head = comp["scenarios"]
    assert [r["scenario"] for r in comp["scenarios"]] == [
        "baseline",
        "full_implementation",
        "headwinds",
    ]
    assert "p_hit_diff" not in ref["targets"][0]
    for r in (full, head):
        for row, ref_row in zip(r["targets"], ref["targets"], strict=True):
            assert row["p_hit_diff"] == pytest.approx(row["p_hit"] - ref_row["p_hit"])
            lo, hi = row["p_hit_diff_ci95"]
            assert lo <= row["p_hit_diff"] <= hi
            s_lo, s_hi = row["share_diff_ci95"]
            assert s_lo <= row["share_diff"] <= s_hi
    for row in full["targets"]:
        # Full implementation costs more, through any target year.
        assert row["extra_cost_yuan"] > 0
        assert row["p_hit_diff_per_100bn_yuan"] == pytest.approx(
            row["p_hit_diff"] / (row["extra_cost_yuan"] / 100e9)
        )
    for row in head["targets"]:
        assert row["extra_cost_yuan"] < 0 and row["p_hit_diff_per_100bn_yuan"] is None
    assert full["public_cost"]["total"] > ref["public_cost"]["total"] > head["public_cost"]["total"]
    json.dumps(comp)


def test_extra_cost_counts_spending_up_to_the_target_year():
    ref = simulate(load_spec(SMALL))
    alt = simulate(load_spec([*SMALL, "scenario=compute_push"]))
    comp = comparison.compare([ref, alt])
    by_year = {r.target.year: r.change.extra_cost_yuan for r in comp.scenarios[1].rows}
    for year, extra in by_year.items():
        expected = costs.total(alt, through=year) - costs.total(ref, through=year)
        assert extra == pytest.approx(expected)
    assert by_year[2030] > by_year[2027] > 0


def test_runs_that_are_not_paired_are_refused():
    spec = load_spec(SMALL)
    a = simulate(spec)
    b = simulate(replace(spec, mc=replace(spec.mc, seed=spec.mc.seed + 1)))
    with pytest.raises(ValueError, match="seed"):
        comparison.compare([a, b])


def test_a_calibrated_comparison_counts_the_posterior_particles_as_each_run_does():
    # After sequential Monte Carlo a run holds prior draws and posterior particles; its odds count
    # the particles only, and so must the comparison (counting both would mix prior and
    # posterior). Withdrawn from 2026, support cannot change the sampler's particles (they are
    # simulated to the last observation, 2025-12), so the pairs share their parameters too.

    size = [*CHEAP, "mc.draws=8", *SMC_TINY]
    runs = [run_one(load_spec([*size, f"scenario={s}"])) for s in ("baseline", "support_withdrawn")]
    comp = comparison.compare([ds for ds, _ in runs])
    assert comp.draws == 24  # the particles, not 8 + 24
    for scen, (_, summary) in zip(comp.scenarios, runs, strict=True):
        for row, t in zip(scen.rows, summary["targets"], strict=True):
            assert row.odds.p_hit == pytest.approx(t["p_hit"])
            # The same interval as the run's own: over the particles' lineages.
            assert row.odds.ci95 == pytest.approx(tuple(t["ci95"]))
    (ref, _), (alt, _) = runs
    post = np.flatnonzero(ref["weight"].values > 0)
    np.testing.assert_array_equal(ref["param_value"].values[post], alt["param_value"].values[post])
    # The paired changes count lineages too: never narrower than over particles as if
    # independent, and wider wherever particles share ancestors and the pairs differ.
    lineage = ref["lineage"].values[post]
    assert np.unique(lineage).size < post.size
    wider = 0
    for row in comp.scenarios[1].rows:
        t = row.odds.target
        hits = [results.share_at(ds, t.year, t.tech, t.metric).values[post] > t.threshold
                for ds in (alt, ref)]  # fmt: skip
        _, lo, hi = stats.paired_interval(*hits)
        width = row.change.p_hit_diff_ci95[1] - row.change.p_hit_diff_ci95[0]
        assert width >= hi - lo - 1e-12, t.label
        wider += width > hi - lo + 1e-9
    assert wider > 0


def test_a_run_without_lineages_is_paired_by_the_other_runs_lineages():
    """Paired draws share their streams, so where one run's posterior was refused (its draws
    counted as independent prior draws) the pairs are still as correlated as the other run's
    particles: each pair takes that run's lineage; with lineages in neither run, pairs are
    independent."""
    alt = xr.Dataset({"lineage": ("draw", np.array([0, 0, 1, 1]))})
    base = xr.Dataset({"lineage": ("draw", np.array([2, 3, 3, 2]))})
    refused = xr.Dataset({"lineage": ("draw", np.array([5, 5, 6, 6]))})
    refused.attrs["calibration"] = json.dumps({"status": "refused"})
    np.testing.assert_array_equal(
        comparison._paired_lineage(base, alt), [[0, 0, 1, 1], [2, 3, 3, 2]]
    )
    np.testing.assert_array_equal(comparison._paired_lineage(refused, alt), [[0, 0, 1, 1]] * 2)
    np.testing.assert_array_equal(comparison._paired_lineage(base, refused), [[2, 3, 3, 2]] * 2)
    assert comparison._paired_lineage(refused, xr.Dataset()) is None
