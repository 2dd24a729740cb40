"""Odds of targets: Wilson intervals and the share at the target date."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import sim
from sim.config import load_spec
from sim.spec import ConfigError, Target
from sim.stats import wilson
from sim.targets import evaluate, summarize
from sim.vocab import METRICS, READING_TECHS

from helpers import CHEAP, results_dataset


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        # Reference values of the Wilson score interval (Newcombe 1998, Stat. Med. 17, table I).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_published_values(k, n, lo, hi):
    assert wilson(k / n, n) == pytest.approx((lo, hi), abs=1e-4)


def _dataset(values_2027):
    time = pd.to_datetime(["2026-12-31", "2027-12-31"])
    values = np.asarray(values_2027)
    # Another date at 0.99: must be ignored.
    path = np.column_stack([np.full(values.size, 0.99), values])
    return results_dataset(time, {("any", "population"): path})


def test_p_hit_counts_draws_strictly_above_the_threshold_at_year_end():
    ds = _dataset([0.5, 0.7, 0.71, 0.9])
    (odds,) = evaluate(ds)
    assert odds.p_hit == 0.5  # 0.70 is not above 70%
    assert odds.ci95 == pytest.approx(wilson(2 / 4, 4))
    assert odds.share_median == pytest.approx(np.median([0.5, 0.7, 0.71, 0.9]), abs=1e-6)


def test_summary_has_the_documented_keys():
    s = summarize(_dataset([0.8] * 10))
    assert set(s) == {
        "scenario",
        "title",
        "overrides",
        "draws",
        "seed",
        "primary",
        "targets",
        "denominators",
    }
    t = s["targets"][0]
    assert set(t) == {
        "year",
        "threshold",
        "metric",
        "tech",
        "primary",
        "p_hit",
        "ci95",
        "share_median",
        "share_p05",
        "share_p95",
        "cap",
        "counts",
    }
    assert t["p_hit"] == 1.0 and t["ci95"][1] == 1.0


def test_targets_can_be_given_explicitly():
    ds = _dataset([0.5, 0.6])
    (odds,) = evaluate(ds, (Target(2027, 0.55, "population", "any"),))
    assert odds.p_hit == 0.5


def test_every_reading_is_a_target_and_the_primary_reading_comes_first():
    spec = load_spec(["primary.metric=firms", "primary.tech=any"])
    readings = {(t.metric, t.tech) for t in spec.targets}
    assert readings == {(m, k) for m in METRICS for k in READING_TECHS}
    assert len(readings) == 12
    assert {t.year for t in spec.targets} == {2027, 2030}
    first = spec.targets[:2]
    assert [(t.metric, t.tech, t.primary) for t in first] == [("firms", "any", True)] * 2
    assert not any(t.primary for t in spec.targets[2:])


def test_a_target_row_with_a_reading_names_only_that_reading():
    spec = load_spec(["targets=[{year: 2027, threshold: 0.5, metric: firms, tech: terminal}]"])
    assert [(t.metric, t.tech, t.primary) for t in spec.targets] == [("firms", "terminal", False)]


def test_a_target_row_with_a_metric_but_no_tech_is_refused():
    with pytest.raises(ConfigError, match="both metric and tech"):
        load_spec(["targets=[{year: 2027, threshold: 0.5, metric: firms}]"])


def test_the_summary_names_the_primary_reading_and_flags_its_rows():
    ds = sim.run("baseline", overrides=[*CHEAP, "primary.metric=internet_users"])
    s = summarize(ds)
    assert s["primary"] == {
        "metric": "internet_users",
        "tech": "agent",
        "counts": "Share of internet users (persons online at the time) that use AI agents or "
        "generative-AI services.",
    }
    flagged = [(t["metric"], t["tech"]) for t in s["targets"] if t["primary"]]
    assert flagged == [("internet_users", "agent")] * 2
    assert s["targets"][0]["primary"] and s["targets"][1]["primary"]


def test_a_target_above_its_readings_cap_gets_no_chance_and_a_note():
    """Draws whose share (agent-sampling noise) tops a cap of 0.65 still count nothing for a
    target of 70%: the reading cannot exceed 0.65 by assumption."""
    ds = _dataset([0.8, 0.9, 0.6, 0.77])
    ds.attrs["caps"] = json.dumps([[2027, "population", "any", 0.65]])
    (odds,) = evaluate(ds)
    assert odds.p_hit == 0.0 and odds.cap == 0.65
    assert "out of reach by assumption" in odds.note and "65.0%" in odds.note
    row = summarize(ds)["targets"][0]
    assert row["p_hit"] == 0.0 and row["note"] == odds.note


def test_a_target_below_its_cap_keeps_the_draws_odds_and_reports_the_cap():
    ds = _dataset([0.8, 0.9, 0.6, 0.77])
    ds.attrs["caps"] = json.dumps([[2027, "population", "any", 0.95]])
    (odds,) = evaluate(ds)
    assert odds.p_hit == 0.75 and odds.cap == 0.95 and odds.note == ""


def test_the_summary_carries_each_metrics_denominator_from_the_weights():
    """The denominators are what the population's weights add up to, with unit and year."""
    ds = sim.run("baseline", overrides=CHEAP)
    d = summarize(ds)["denominators"]
    assert list(d) == list(METRICS)
    pop = sim.population.build(load_spec(CHEAP).population, seed=int(ds.attrs["seed"]))
    for j, m in enumerate(METRICS):
        assert d[m]["total"] == pytest.approx(pop.cell_weight[:, j].sum())
        assert d[m]["unit"] and d[m]["year"] in (2023, 2024)
    assert d["internet_users"]["total"] < d["population"]["total"]
