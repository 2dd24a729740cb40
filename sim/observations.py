"""Observed adoption, each observation mapped to a model output: the data that calibration uses.

The shipped file is ``sim/data/observations.csv``; ``calibration.observations=PATH`` names another
file with the same columns:

``date``
    End of the period observed, ``YYYY-MM-DD`` (a month end).
``series``, ``value``, ``source``
    What was observed, its value as a share in [0, 1], and where it comes from.
``uncertainty``
    Standard deviation of the observation, in share units (> 0). The shipped file sets it by the
    confidence mark of ``shared/data/FACTS.md`` (an assumption, no statistic behind it): high
    0.015, medium-high 0.02, medium 0.04, low 0.10, widened 1.5x where the series is a proxy of the
    model output (PCs for all devices, global for China, a survey sample for all firms).
``output``
    The model output it measures: ``share`` (the results' national adopted share of ``tech`` by
    ``metric``, at the month ending on ``date``), ``ai_share_of_new_devices`` (the replacement
    rule's AI-capable share of new devices, :func:`sim.rules.ai_share_of_new_devices`, averaged
    over the months from ``period_start`` to ``date``: a shipment share, never an installed-base
    share), or empty when the model cannot speak to it (``note`` then says why).
``tech``, ``metric``, ``group``
    For ``share``: the technology, the metric (denominator) and the population group (only
    ``national``: the results carry national shares by month).
``period_start``, ``note``
    First month (``YYYY-MM``) of a shipment-share period; one line on the mapping.

Other columns (``basis``, ``confidence``) are kept as they are.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from sim.vocab import METRICS, TECH_COORDS, ConfigError

OUTPUTS: tuple[str, ...] = ("share", "ai_share_of_new_devices")
GROUPS: tuple[str, ...] = ("national",)
REQUIRED: tuple[str, ...] = ("date", "series", "value", "uncertainty", "source", "output")
#: Name shown for the file shipped with the package.
SHIPPED = "sim/data/observations.csv"


@dataclass(frozen=True)
class Observation:
    """One observation and the model output it measures.

    Attributes
    ----------
    date : str
        End of the observed period, ``YYYY-MM-DD``.
    series : str
    value : float
        Observed share, in [0, 1].
    sd : float
        Standard deviation of the observation, share units, > 0.
    source : str
    output : str
        ``share``, ``ai_share_of_new_devices``, or ``""`` (not mapped).
    tech, metric, group : str
        The model share measured (``output == 'share'``), else ``""``.
    period_start : str
        First month ``YYYY-MM`` of a shipment-share period, else ``""``.
    note : str
        How the observation is mapped, or why it is not.
    """

    date: str
    series: str
    value: float
    sd: float
    source: str
    output: str = ""
    tech: str = ""
    metric: str = ""
    group: str = ""
    period_start: str = ""
    note: str = ""

    @property
    def mapped(self) -> bool:
        return bool(self.output)

    @property
    def time(self) -> np.datetime64:
        return np.datetime64(self.date, "ns")

    @property
    def label(self) -> str:
        return f"{self.series} {self.date}"


def _month_end(text: str) -> bool:
    try:
        d = np.datetime64(text, "D")
    except ValueError:
        return False
    nxt = d + np.timedelta64(1, "D")
    return str(d) == text and nxt.astype("datetime64[M]") != d.astype("datetime64[M]")


def _parse(rows: list[list[str]], where: str) -> tuple[Observation, ...]:
    if not rows:
        raise ConfigError(where, "", "empty file; expected a header and observations")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ConfigError(where, missing[0], f"missing column; required: {', '.join(REQUIRED)}")
    out = []
    for i, raw in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in raw):
            continue
        if len(raw) != len(header):
            raise ConfigError(
                where,
                f"line {i}",
                f"{len(raw)} fields for {len(header)} columns (quote fields holding commas)",
            )
        r = {h: v.strip() for h, v in zip(header, raw, strict=True)}

        def fail(col: str, problem: str, line: int = i) -> ConfigError:
            return ConfigError(where, f"line {line} {col}", problem)

        if not _month_end(r["date"]):
            raise fail("date", f"{r['date']!r} is not a month end written YYYY-MM-DD")
        if not r["series"] or not r["source"]:
            raise fail("source" if r["series"] else "series", "must not be empty")
        try:
            value, sd = float(r["value"]), float(r["uncertainty"])
        except ValueError:
            raise fail("value", f"{r['value']!r}, {r['uncertainty']!r}: expected numbers") from None
        if not 0.0 <= value <= 1.0:
            raise fail("value", f"{value!r} is out of range; allowed: a share in [0, 1]")
        if not 0.0 < sd <= 1.0:
            raise fail("uncertainty", f"{sd!r} is out of range; allowed: > 0 and <= 1")
        output = r["output"]
        if output and output not in OUTPUTS:
            raise fail("output", f"{output!r} is not allowed; allowed: {', '.join(OUTPUTS)}, empty")
        tech, metric, group = r.get("tech", ""), r.get("metric", ""), r.get("group", "")
        start = r.get("period_start", "")
        if output == "share":
            if tech not in TECH_COORDS:
                raise fail("tech", f"{tech!r} is not allowed; allowed: {', '.join(TECH_COORDS)}")
            if metric not in METRICS:
                raise fail("metric", f"{metric!r} is not allowed; allowed: {', '.join(METRICS)}")
            if group not in GROUPS:
                raise fail("group", f"{group!r} is not allowed; allowed: {', '.join(GROUPS)}")
        if output == "ai_share_of_new_devices":
            try:
                ok = np.datetime64(start, "M") <= np.datetime64(r["date"], "M") and len(start) == 7
            except ValueError:
                ok = False
            if not ok:
                raise fail("period_start", f"{start!r}: expected YYYY-MM, not after date")
        if not output and not r.get("note"):
            raise fail("note", "an observation that is not mapped needs a note saying why")
        out.append(
            Observation(
                r["date"], r["series"], value, sd, r["source"], output,
                tech if output == "share" else "",
                metric if output == "share" else "",
                group if output == "share" else "",
                start if output == "ai_share_of_new_devices" else "",
                r.get("note", ""),
            )
        )  # fmt: skip
    if not out:
        raise ConfigError(where, "", "no observations")
    return tuple(out)


def load(path: Path | str | None = None) -> tuple[Observation, ...]:
    """Read and validate an observations file (the shipped one when ``path`` is None).

    Raises
    ------
    ConfigError
        Naming the file, the line and the column, on the first problem found.
    """
    if path is None:
        with resources.files("sim.data").joinpath("observations.csv").open(encoding="utf-8") as f:
            return _parse(list(csv.reader(f)), SHIPPED)
    path = Path(path)
    if not path.is_file():
        raise ConfigError(str(path), "", "observations file not found")
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(str(path), "", f"not a readable CSV file ({exc})") from None
    return _parse(rows, str(path))
