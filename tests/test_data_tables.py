"""The shipped data tables parse as written: every row has one value per column."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from sim import data

TABLES = sorted(r.name for r in resources.files(data).iterdir() if r.name.endswith(".csv"))


@pytest.mark.parametrize("name", TABLES)
def test_every_row_has_one_value_per_column(name):
    with resources.files(data).joinpath(name).open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    bad = [i + 1 for i, r in enumerate(rows) if len(r) != len(rows[0])]
    assert not bad, f"{name}: lines {bad} do not have {len(rows[0])} fields (unquoted comma?)"


def test_sources_name_the_rows_that_cite_them():
    cited = data.sources()["provinces.csv"]
    rows = [p for keys in cited.values() for p in keys]
    assert sorted(rows) == sorted(data.provinces()["province"])
    assert all(src.strip() for t in data.sources().values() for src in t)
