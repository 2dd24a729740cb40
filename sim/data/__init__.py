"""Sourced data tables shipped with the package; every table has a ``source`` column.

Each loader returns a mapping of column name to numpy array (strings stay ``str`` arrays, numeric
columns become ``float64`` with NaN for blanks).
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

Table = dict[str, NDArray]

_NUMERIC = {
    "population_2024_10k",
    "gdp_2024_100m_yuan",
    "enterprise_share",
    "digital_penetration_2022",
    "value",
    "urban_share_2023",
    "urban_share_2024",
    "age60plus_share_2020",
    "age65plus_share_2020",
}


@cache
def _read(name: str) -> Table:
    with resources.files(__name__).joinpath(name).open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out: Table = {}
    for col in rows[0]:
        vals = [r[col] for r in rows]
        if col in _NUMERIC:
            out[col] = np.array([float(v) if v.strip() else np.nan for v in vals])
        else:
            out[col] = np.array(vals)
    return out


def provinces() -> Table:
    """The 31 provinces: population (2024, 10,000 persons), GDP (2024, 100 M yuan), NBS region,
    national computing hub, source."""
    return _read("provinces.csv")


def province_demography() -> Table:
    """Urbanisation (end 2023; end 2024 where published, else NaN) and the 2020 census shares
    aged 60+ and 65+ by province, in ``provinces()`` order, with confidence marks
    (``unverified``: recalled, not seen)."""
    return _read("province_demography.csv")


def sectors() -> Table:
    """19 GB/T 4754 sections mapped to the opinion's key areas, with sourced enterprise shares."""
    return _read("sectors.csv")


def industries() -> Table:
    """Digital-economy penetration by primary/secondary/tertiary industry (CAICT 2022)."""
    return _read("industries.csv")


def size_classes() -> Table:
    """Firm size classes and their NBS definitions."""
    return _read("size_classes.csv")


def national() -> dict[str, float]:
    """National facts (value by key); sources in ``national.csv``."""
    t = _read("national.csv")
    return dict(zip(t["key"].tolist(), t["value"].tolist(), strict=True))


def observations() -> Table:
    """Observed adoption and access series (CNNIC, Canalys, IDC, NBS), with confidence marks."""
    return _read("observations.csv")


def sources() -> dict[str, dict[str, list[str]]]:
    """Every table's sources: file name -> source -> the rows citing it (first-column values)."""
    out: dict[str, dict[str, list[str]]] = {}
    for res in sorted(resources.files(__name__).iterdir(), key=lambda r: r.name):
        if res.name.endswith(".csv"):
            t = _read(res.name)
            keys = t[next(iter(t))].tolist()
            cited: dict[str, list[str]] = {}
            for key, src in zip(keys, t["source"].tolist(), strict=True):
                cited.setdefault(src, []).append(key)
            out[res.name] = cited
    return out
