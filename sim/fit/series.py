"""Reading a cumulative-share series for :mod:`sim.fit`: a CSV of dates (or decimal years),
values and optional uncertainties, checked so that a bad row is one clear line."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


def decimal_year(date: str) -> float:
    """Decimal year at the end of day ``date`` (``YYYY-MM-DD``): 2024-12-31 -> 2025.0."""
    end = np.datetime64(date, "D") + np.timedelta64(1, "D")
    year = end.astype("datetime64[Y]")
    start = year.astype("datetime64[D]")
    days = (year + np.timedelta64(1, "Y")).astype("datetime64[D]") - start
    return float(year.astype(np.int64) + 1970 + (end - start) / days)


class InputError(ValueError):
    """A problem with the analyst's file or options, reported in one line."""


#: Decimal years a series may be dated in, and predictions asked for.
YEARS = (1900.0, 2200.0)


def read_series(
    path: Path, *, series: str | None = None, until: str | None = None
) -> tuple[NDArray, NDArray, NDArray | None]:
    """Read ``t, y, sd`` (sd None when absent) from a CSV with ``date,value[,uncertainty]``
    (observations format, optionally several ``series``) or ``t,y[,sd]`` columns.

    Every value must be a finite number (a date ``YYYY-MM-DD`` in a date column) with ``t`` in
    :data:`YEARS`; a UTF-8 byte-order mark is allowed. Raises :class:`InputError` naming the file,
    the line and the column otherwise.
    """
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            table = list(csv.reader(f))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte offset {exc.start})") from None
    except (OSError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if len(table) < 2:
        raise InputError(f"{path}: no rows")
    header = [h.strip() for h in table[0]]
    cols = set(header)
    if {"date", "value"} <= cols:
        t_col, y_col, sd_col = "date", "value", "uncertainty"
    elif {"t", "y"} <= cols:
        t_col, y_col, sd_col = "t", "y", "sd"
    else:
        raise InputError(f"{path}: expected columns date,value[,uncertainty] or t,y[,sd]")
    rows = []
    for line, raw in enumerate(table[1:], start=2):
        if not any(c.strip() for c in raw):
            continue
        if len(raw) != len(header):
            raise InputError(f"{path}: line {line}: {len(raw)} fields for {len(header)} columns")
        rows.append((line, {h: v.strip() for h, v in zip(header, raw, strict=True)}))
    if "series" in cols:
        names = sorted({r["series"] for _, r in rows})
        if series is None and len(names) > 1:
            raise InputError(
                f"{path}: several series; choose one with --series: {', '.join(names)}"
            )
        if series is not None:
            if series not in names:
                raise InputError(
                    f"{path}: --series {series!r} not found; allowed: {', '.join(names)}"
                )
            rows = [(i, r) for i, r in rows if r["series"] == series]
    elif series is not None:
        raise InputError(f"{path}: --series given but the file has no series column")
    if until is not None:
        if t_col != "date":
            raise InputError(f"{path}: --until needs a date column")
        end = read_date(until, "--until")
        rows = [(i, r) for i, r in rows if read_date(r["date"], f"{path}: line {i}: date") <= end]
    if not rows:
        raise InputError(f"{path}: no rows to fit")
    t, y, sd = [], [], []
    for i, r in rows:
        at = f"{path}: line {i}"
        t.append(
            read_date(r[t_col], f"{at}: date") if t_col == "date" else _number(r[t_col], f"{at}: t")
        )
        if not YEARS[0] <= t[-1] <= YEARS[1]:
            raise InputError(f"{at}: {t_col} {r[t_col]}: allowed: years {YEARS[0]:g}-{YEARS[1]:g}")
        y.append(_number(r[y_col], f"{at}: {y_col}"))
        if sd_col in cols:
            sd.append(_number(r[sd_col], f"{at}: {sd_col}"))
    t, y = np.array(t), np.array(y)
    order = np.argsort(t)
    return t[order], y[order], np.array(sd)[order] if sd_col in cols else None


def read_date(text: str, what: str) -> float:
    """A ``YYYY-MM-DD`` date as a decimal year (:func:`decimal_year`), or :class:`InputError`."""
    try:
        day = np.datetime64(text.strip(), "D")
        if str(day) != text.strip():
            raise ValueError
        year = decimal_year(text.strip())
    except ValueError:
        raise InputError(f"{what}: {text!r} is not a date written YYYY-MM-DD") from None
    if not YEARS[0] <= year <= YEARS[1]:
        raise InputError(f"{what}: {text!r}: allowed: years {YEARS[0]:g}-{YEARS[1]:g}")
    return year


def _number(text: str, what: str) -> float:
    """A finite number, or :class:`InputError` naming ``what``."""
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{what}: {text!r} is not a number") from None
    if not np.isfinite(value):
        raise InputError(f"{what}: {text!r}: expected a finite number")
    return value
