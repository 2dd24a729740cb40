"""Inputs read as a user would expect, or refused in one line: the horizon against the data,
shares within [0, 1], YAML and CSV details, and who is blamed for a bad value."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from sim import observations, targets
from sim.config import load_spec
from sim.engine import sample, simulate
from sim.spec import ConfigError, Target

SCENARIO = "title: t\ndescription: d\n"


def _scenario(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "mine.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return f"scenario={path}"


# --- item 3: the horizon and the shares ------------------------------------------------------


@pytest.mark.parametrize("start", ["2020-01", "2024-12", "2025-02", "2027-07"])
def test_a_start_other_than_the_month_after_the_data_is_refused(start):
    # The start state is end-2024 data: an earlier start re-dates it (2020-01 turned a 37.5%
    # chance into 100%), a later one skips months and the observed early-2025 surge.
    with pytest.raises(ConfigError, match=r"time\.start: .*end-2024 data.*start in 2025-01"):
        load_spec([f"time.start={start}"])


def test_an_end_before_the_start_blames_the_end():
    with pytest.raises(ConfigError, match=r"command line: time\.end: 2024-01 is before"):
        load_spec(["time.end=2024-01"])


def test_a_scheduled_event_before_the_start_is_refused(tmp_path):
    at = _scenario(tmp_path, SCENARIO + "shocks:\n  safety_incident: {at: ['2024-06']}\n")
    with pytest.raises(ConfigError, match=r"shocks\.safety_incident\.at: 2024-06 is before"):
        load_spec([at])


def test_shares_stay_within_zero_and_one_at_saturation():
    saturating = ["shocks=none", "levers=current_policy", "rules.p=3", "rules.q=3", "rules.m=1"]
    spec = load_spec(["mc.draws=4", "population.n_agents=500", *saturating, "uncertainty=none"])
    raw = np.concatenate([c.share for c in sample(spec)])
    # The case saturates (float32 weighted sums may land a hair above 1: the results must not).
    assert raw.max() >= 1.0 - 1e-6
    ds = simulate(spec)
    assert float(ds["share"].max()) == 1.0 and float(ds["share"].min()) >= 0.0
    for name in ("share_province", "share_sector"):
        assert float(ds[name].max()) <= 1.0
    (odds,) = targets.evaluate(ds, (Target(2030, 1.0, "population", "any"),))
    assert odds.p_hit == 0.0  # "above 100%" can never be hit


# --- items 5 and 7: files and values ---------------------------------------------------------


def test_a_scenario_file_that_is_not_utf8_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"mine\.yaml: not UTF-8 text \(byte 0xff"):
        load_spec([_scenario(tmp_path, SCENARIO.encode() + b"levers: \xff\xfe\n")])


def test_a_scenario_file_that_cannot_be_read_is_one_line(tmp_path, monkeypatch):
    arg = _scenario(tmp_path, SCENARIO)

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(ConfigError, match=r"mine\.yaml: cannot read: Permission denied"):
        load_spec([arg])


def test_a_key_written_twice_is_an_error_naming_it(tmp_path):
    arg = _scenario(tmp_path, SCENARIO + "levers:\n  data: {intensity: {2026: 1}}\ntitle: again\n")
    with pytest.raises(ConfigError, match="duplicate key 'title'"):
        load_spec([arg])


@pytest.mark.parametrize("year", ["2026.5", "'2026.5'", "2026.0"])
def test_a_year_that_is_not_whole_is_refused_not_truncated(tmp_path, year):
    arg = _scenario(tmp_path, SCENARIO + f"levers:\n  data: {{intensity: {{{year}: 1}}}}\n")
    with pytest.raises(ConfigError, match=r"levers\.data\.intensity\.2026\.\d*'?: not a year"):
        load_spec([arg])


def test_numbers_written_with_an_exponent_are_numbers(tmp_path):
    ok = _scenario(tmp_path, SCENARIO + "levers:\n  data: {intensity: {2026: 2e0}}\n")
    data = {lv.name: lv for lv in load_spec([ok]).levers}["data"]
    assert dict(data.schedule)[2026] == 2.0
    big = _scenario(tmp_path, SCENARIO + "levers:\n  data: {intensity: {2026: 1e308}}\n")
    with pytest.raises(ConfigError, match=r"1e\+308 is out of range; allowed: >= 0 and <= 100"):
        load_spec([big])


def test_an_observations_file_with_a_byte_order_mark_is_read(tmp_path):
    shipped = Path(observations.__file__).parent / "data" / "observations.csv"
    path = tmp_path / "obs.csv"
    path.write_bytes(b"\xef\xbb\xbf" + shipped.read_bytes())
    assert observations.load(path) == observations.load(shipped)


def test_a_key_added_on_the_command_line_is_blamed_on_it():
    with pytest.raises(ConfigError, match=r"^command line: no_such: unknown key"):
        load_spec(["+no_such=1"])


def test_a_tiny_population_runs_without_runtime_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ds = simulate(load_spec(["mc.draws=2", "population.n_agents=10", "report=false"]))
        targets.summarize(ds)
