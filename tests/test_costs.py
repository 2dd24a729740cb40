"""Public cost of a scenario: unit costs from the priors, intensities, scopes, yearly totals."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from sim import costs, paths, targets
from sim.config import load_spec
from sim.engine import simulate

from helpers import CHEAP

YEARS = range(2025, 2031)


def _unit_costs_from_the_priors_file() -> dict[str, float]:
    """Central unit cost of each lever, read straight from the config: the median of a loguniform
    prior is the geometric mean of its bounds (billion yuan per unit per year)."""
    raw = yaml.safe_load((paths.conf_dir() / "priors" / "default.yaml").read_text())["costs"]
    out = {}
    for lever, p in raw.items():
        if lever != "people_share":
            assert p["dist"] == "loguniform"
            out[lever] = math.sqrt(p["low"] * p["high"])
    return out


def test_baseline_costs_every_lever_at_unit_intensity_every_year():
    ds = simulate(load_spec(CHEAP))
    units = _unit_costs_from_the_priors_file()
    per_year = sum(units.values()) * 1e9
    summary = targets.summarize(ds)["public_cost"]
    assert summary["unit"] == "yuan"
    assert summary["total"] == pytest.approx(per_year * len(YEARS))
    assert summary["yearly"] == {str(y): pytest.approx(per_year) for y in YEARS}
    for lever, unit in units.items():
        assert summary["by_lever"][lever] == pytest.approx(unit * 1e9 * len(YEARS))
    assert summary["total_low"] < summary["total"] < summary["total_high"]


def test_a_programme_for_firms_costs_the_firm_share_of_its_lever(tmp_path):
    """Half of a nationwide lever's budget goes to firms (costs.people_share = 0.5), so one extra
    unit of compute for all firms from 2026 costs half the compute unit cost a year, 2026-2030."""
    path = tmp_path / "p.yaml"
    path.write_text(
        "title: t\ndescription: d\nprogrammes:\n"
        "  firm_compute: {lever: compute, intensity: {2026: 1.0}, scope: {kinds: [firms]}}\n"
    )
    base = simulate(load_spec(CHEAP))
    prog = simulate(load_spec([*CHEAP, f"scenario={path}"]))
    unit = _unit_costs_from_the_priors_file()["compute"] * 1e9
    assert costs.total(prog) - costs.total(base) == pytest.approx(0.5 * unit * 5)
    assert costs.total(prog, through=2025) == pytest.approx(costs.total(base, through=2025))
    assert float(prog["programme_cost"].sel(estimate="central").sum()) == pytest.approx(
        0.5 * unit * 5
    )


def test_a_scenario_can_set_a_unit_cost_in_billion_yuan(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("title: t\ndescription: d\ncosts: {safety: 10}\n")
    ds = simulate(load_spec([*CHEAP, f"scenario={path}"]))
    safety = ds["public_cost"].sel(lever="safety")
    np.testing.assert_allclose(safety.sel(estimate="low"), 10e9)
    np.testing.assert_allclose(safety.sel(estimate="high"), 10e9)


def test_support_withdrawn_costs_todays_spending_until_it_is_withdrawn():
    # levers=none withdraws every lever from January 2026: 2025 is spent at today's intensity,
    # exactly as under current policy, and nothing after.
    ds = simulate(load_spec([*CHEAP, "levers=none"]))
    base = simulate(load_spec(CHEAP))
    assert costs.total(ds) == pytest.approx(costs.total(base, through=2025)) and costs.total(ds) > 0
    assert costs.total(ds, through=2025) == costs.total(ds)
