"""A sweep, ``python -m sim -m KEY=A,B ...``: one run per combination of the swept values, each in a
sub-folder named by its overrides, and one table of the odds across the runs.

The command line expands the sweep (:func:`sim.config.sweep_jobs`), validates every run before any
is written, and runs each as a plain run would; this module names the runs' folders and gathers
their ``summary.json`` into the sweep's ``odds.csv`` and console table.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sim import results
from sim.config import override_key

#: Columns of ``odds.csv`` after the job's folder and its swept values.
COLUMNS = (
    "year",
    "threshold",
    "metric",
    "tech",
    "odds",
    "p_hit",
    "ci95_low",
    "ci95_high",
    "share_median",
    "share_p05",
    "share_p95",
)
_MAX_NAME = 120


@dataclass(frozen=True)
class Job:
    """One run of a sweep.

    Attributes
    ----------
    name : str
        Its folder's name: the swept overrides, ``key=value`` joined by commas.
    overrides : tuple of str
        Every override of the run, as for a plain run.
    swept : tuple of (str, str)
        The swept keys and this run's value of each.
    """

    name: str
    overrides: tuple[str, ...]
    swept: tuple[tuple[str, str], ...]


def jobs(expanded: Sequence[Sequence[str]], swept: Sequence[str]) -> tuple[Job, ...]:
    """The sweep's runs, each named by the values of the swept keys.

    Parameters
    ----------
    expanded : sequence of sequence of str
        Each run's overrides (:func:`sim.config.sweep_jobs`).
    swept : sequence of str
        The keys swept over.
    """
    out, seen = [], set()
    for overrides in expanded:
        pairs = []
        for key in swept:
            value = next(o.partition("=")[2] for o in overrides if override_key(o) == key)
            pairs.append((key, value))
        name = folder_name(pairs)
        if name in seen:  # two values that look alike once made safe for a file name
            name = f"{name}-{len(out)}"
        seen.add(name)
        out.append(Job(name, tuple(overrides), tuple(pairs)))
    return tuple(out)


def folder_name(pairs: Sequence[tuple[str, str]]) -> str:
    """``key=value,key=value``, safe as one folder name (no ``/``, not hidden, not too long)."""
    text = ",".join(f"{k}={v}" for k, v in pairs) or "run"
    text = "".join("_" if c in "/\\\0" or not c.isprintable() else c for c in text)
    text = text.lstrip(".") or "run"
    return text[:_MAX_NAME]


def table(runs: Sequence[Job], summaries: Sequence[Mapping]) -> list[dict]:
    """One row per run and target: the run's folder and swept values, then :data:`COLUMNS`.

    ``odds`` says which odds a row holds: ``posterior`` (weighted by the observations) or
    ``prior`` (no calibration, or calibration refused the posterior).
    """
    rows = []
    for job, summary in zip(runs, summaries, strict=True):
        calibrated = "calibration" in summary
        for t in summary["targets"]:
            odds = "posterior" if calibrated and t["p_hit"] is not None else "prior"
            if t["p_hit"] is None:
                t = {**t, **{k[6:]: v for k, v in t.items() if k.startswith("prior_")}}
            rows.append(
                {
                    "run": job.name,
                    **dict(job.swept),
                    "year": t["year"],
                    "threshold": t["threshold"],
                    "metric": t["metric"],
                    "tech": t["tech"],
                    "odds": odds,
                    "p_hit": t["p_hit"],
                    "ci95_low": t["ci95"][0],
                    "ci95_high": t["ci95"][1],
                    "share_median": t["share_median"],
                    "share_p05": t["share_p05"],
                    "share_p95": t["share_p95"],
                }
            )
    return rows


def write_table(rows: Sequence[Mapping], path: Path) -> None:
    """Write :func:`table` rows as CSV (atomically)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    results.write_text(out.getvalue(), path)


def read_summary(folder: Path) -> dict:
    """A finished run's ``summary.json``."""
    return json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))


def format_table(runs: Sequence[Job], summaries: Sequence[Mapping], *, prog: str) -> str:
    """The odds of every target in every run, one column per run, numbered, with a legend."""
    lines = [f"{prog}: sweep of {len(runs)} runs, P(hit) of each target"]
    lines += [f"  [{i}] {job.name}" for i, job in enumerate(runs, start=1)]
    cells: dict[str, dict[str, float]] = {}
    for row in table(runs, summaries):
        label = f"{row['year']} > {row['threshold']:.0%}  {row['metric']} ({row['tech']})"
        cells.setdefault(label, {})[row["run"]] = row["p_hit"]
    width = max(7, len(f"[{len(runs)}]") + 2)
    heads = "".join(f"{f'[{i}]':>{width}}" for i in range(1, len(runs) + 1))
    lines.append(f"{'target':<34}{heads}")
    for label, by_run in cells.items():
        row = "".join(
            f"{by_run[job.name]:>{width}.1%}" if job.name in by_run else f"{'-':>{width}}"
            for job in runs
        )
        lines.append(f"{label:<34}{row}")
    refused = [
        s for s in summaries if "calibration" in s and None in [t["p_hit"] for t in s["targets"]]
    ]
    if refused:
        lines.append("some runs show PRIOR odds: their calibration refused the posterior")
    return "\n".join(lines)
