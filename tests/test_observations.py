"""The observations file: every row sourced, mapped to a model output or explained, and read
strictly, so a malformed row is an error and not a silently shifted column."""

from __future__ import annotations

import pytest

from sim import observations
from sim.config import load_spec
from sim.spec import METRICS, TECH_COORDS, ConfigError

HEADER = "date,series,value,uncertainty,source,output,tech,metric,group,period_start,note\n"


def _write(tmp_path, body, header=HEADER):
    p = tmp_path / "obs.csv"
    p.write_text(header + body)
    return p


@pytest.fixture(scope="module")
def shipped():
    return observations.load()


def test_every_shipped_observation_has_a_source_and_a_share_value(shipped):
    assert len(shipped) >= 20
    assert all(o.source and 0.0 <= o.value <= 1.0 and o.sd > 0 for o in shipped)


def test_cnnic_generative_ai_users_measure_the_agent_share_of_the_population(shipped):
    # FACTS.md: CNNIC counts generative-AI users as a share of the TOTAL population.
    genai = [o for o in shipped if o.series == "genai_users_share"]
    assert [o.value for o in genai] == [0.164, 0.177, 0.365, 0.428]
    assert all((o.output, o.tech, o.metric, o.group) == ("share", "agent", "population", "national")
               for o in genai)  # fmt: skip


def test_internet_access_is_never_mapped_to_adoption(shipped):
    internet = [o for o in shipped if o.series.startswith("internet_users_share")]
    assert len(internet) == 10
    assert not any(o.mapped for o in internet)
    assert all("not mapped" in o.note for o in internet)


def test_shipment_shares_map_to_the_new_device_share_never_to_the_installed_base(shipped):
    shipments = [o for o in shipped if "shipments" in o.series]
    assert len(shipments) == 5
    assert {o.output for o in shipments} == {"ai_share_of_new_devices"}
    assert all(o.period_start and o.period_start <= o.date[:7] for o in shipments)


def test_low_confidence_observations_get_wider_uncertainty_than_high_ones(shipped):
    raw = {(r.date, r.series): r for r in shipped}
    from sim import data

    table = data.observations()
    conf = dict(zip(zip(table["date"], table["series"], strict=True), table["confidence"],
                    strict=True))  # fmt: skip
    high = [raw[k].sd for k, c in conf.items() if c == "high"]
    low = [raw[k].sd for k, c in conf.items() if c == "low"]
    assert low and high and min(low) >= 3 * max(high)


def test_every_mapped_share_names_a_reported_tech_and_metric(shipped):
    for o in shipped:
        if o.output == "share":
            assert o.tech in TECH_COORDS and o.metric in METRICS


def test_the_shipped_file_has_no_shifted_columns(shipped):
    # Two rows of the shared file once held an unquoted comma in `basis`, which shifted the
    # source into the confidence column; the loader now rejects such rows outright.
    from sim import data

    table = data.observations()
    assert set(table["confidence"]) <= {"high", "medium-high", "medium", "low"}


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("2025-06-31,a,0.3,0.01,src,share,agent,population,national,,\n", "line 2 date"),
        ("2025-06-30,a,1.3,0.01,src,share,agent,population,national,,\n", "line 2 value"),
        ("2025-06-30,a,0.3,0,src,share,agent,population,national,,\n", "line 2 uncertainty"),
        ("2025-06-30,a,0.3,0.01,src,share,robot,population,national,,\n", "line 2 tech.*allowed"),
        ("2025-06-30,a,0.3,0.01,src,share,agent,people,national,,\n", "line 2 metric.*allowed"),
        ("2025-06-30,a,0.3,0.01,src,share,agent,population,urban,,\n", "line 2 group.*allowed"),
        ("2025-06-30,a,0.3,0.01,src,installed,agent,population,national,,\n", "line 2 output"),
        ("2025-06-30,a,0.3,0.01,src,,,,,,\n", "line 2 note"),
        ("2025-06-30,a,0.3,0.01,src,ai_share_of_new_devices,,,,2025-09,\n", "period_start"),
        ("2025-06-30,a,0.3,0.01,src (China, Q2),share,agent,population,national,,\n", "line 2"),
        ("2025-06-30,a,0.3,0.01,,share,agent,population,national,,\n", "line 2 source"),
    ],
)
def test_a_bad_row_is_reported_with_file_line_and_column(tmp_path, body, match):
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError, match=match) as e:
        observations.load(path)
    assert str(path) in str(e.value) and "\n" not in str(e.value)


def test_a_missing_column_is_named(tmp_path):
    path = _write(tmp_path, "2025-06-30,a,0.3,src\n", header="date,series,value,source\n")
    with pytest.raises(ConfigError, match="uncertainty: missing column"):
        observations.load(path)


def test_another_file_is_chosen_by_config(tmp_path):
    path = _write(tmp_path, "2025-12-31,mine,0.5,0.02,my survey,share,any,firms,national,,\n")
    spec = load_spec(["calibration=observed", f"calibration.observations={path}"])
    (o,) = spec.calibration.observations
    assert (o.series, o.value, o.metric, o.tech) == ("mine", 0.5, "firms", "any")
    assert spec.calibration.source == str(path)


def test_the_default_run_is_calibrated_by_smc_and_none_rejects_a_stray_observations_file(tmp_path):
    assert load_spec([]).calibration.method == "smc"
    with pytest.raises(ConfigError, match="calibration=observed"):
        load_spec(["calibration=none", f"calibration.observations={tmp_path / 'x.csv'}"])


def test_unknown_series_to_select_is_rejected_with_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"calibration\.series.*allowed:.*genai_users_share"):
        load_spec(["calibration=observed", "calibration.series=[nosuch]"])
