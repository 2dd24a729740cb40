"""Command line of :mod:`sim.fit`: ``python -m sim.fit FILE.csv [--model ensemble] --level 0.9``."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np
from numpy.typing import NDArray

from sim import paths
from sim.fit import (
    CEILINGS,
    GROWTH_PRIOR,
    MODELS,
    YEARS,
    CurveFit,
    EnsembleFit,
    InputError,
    fit_curve,
    read_series,
)
from sim.fit.ensemble import METHOD


def format_fit(fit: CurveFit | EnsembleFit, t_new: NDArray, level: float) -> str:
    """Parameters (for an ensemble: the members' weights) and predictions as plain-text
    tables."""
    pct = f"{level:.0%}"
    head = _ensemble_lines(fit, level) if isinstance(fit, EnsembleFit) else _curve_lines(fit, level)
    lines = [head[0] + f"; {pct} intervals", *head[1:]]
    m, lo, hi = fit.predict(t_new, level)
    observed = dict(zip(np.round(fit.t, 6), fit.y, strict=True))
    lines.append(f"{'t':>9} {'observed':>9} {'median':>8} {'lower':>8} {'upper':>8}")
    for ti, a, b, c in zip(t_new, m, lo, hi, strict=True):
        obs = observed.get(round(float(ti), 6))
        o = f"{obs:>9.3f}" if obs is not None else f"{'':>9}"
        lines.append(f"{ti:>9.3f} {o} {a:>8.3f} {b:>8.3f} {c:>8.3f}")
    _, lo, hi = fit.predict(fit.t, level)
    outside = int(np.sum((fit.y < lo) | (fit.y > hi)))
    if outside > (1 - level) * fit.t.size:
        lines.append(
            f"warning: {outside} of {fit.t.size} observed points fall outside their {pct} "
            f"predictive interval: the {fit.model} curve does not describe this series well"
        )
    return "\n".join(lines)


def _curve_lines(fit: CurveFit, level: float) -> list[str]:
    """Header and parameter table of one form's fit."""
    lines = [
        f"{fit.model} fit to {fit.t.size} points, {fit.ceiling} ceiling; posterior from "
        f"{fit.samples.shape[0]} draws (acceptance {fit.acceptance:.2f})",
        f"{'parameter':<10} {'median':>10} {'lower':>10} {'upper':>10}",
    ]
    med, ci = fit.params, fit.interval(level)
    for n in fit.names:
        lines.append(f"{n:<10} {med[n]:>10.4g} {ci[n][0]:>10.4g} {ci[n][1]:>10.4g}")
    return lines


def _ensemble_lines(fit: EnsembleFit, level: float) -> list[str]:
    """Header and table of an ensemble's members: weight, out-of-sample score, ceiling."""
    scored = (
        f"{fit.n_scored} point{'s' * (fit.n_scored > 1)} scored"
        if fit.n_scored
        else "no point to score (too few points): equal weights"
    )
    lines = [
        f"ensemble of {', '.join(fit.members)} fitted to {fit.t.size} points, {fit.ceiling} "
        f"ceiling; weights by {METHOD} ({scored})",
        f"{'member':<10} {'weight':>7} {'elpd_lfo':>9}  {'ceiling m (interval)':<22}"
        + ("  rise g a year (interval)" if fit.ceiling == "rising" else ""),
    ]
    for (name, member), w, e in zip(
        fit.members.items(), fit.weights, fit.elpd.values(), strict=True
    ):
        med, ci = member.params, member.interval(level)
        row = f"{name:<10} {w:>7.3f} {e:>9.2f}  " + f"{_mid(med, ci, 'm'):<22}"
        if fit.ceiling == "rising":
            row += f"  {_mid(med, ci, 'g')}"
        lines.append(row)
    return lines


def _mid(med: dict[str, float], ci: dict[str, tuple[float, float]], name: str) -> str:
    return f"{med[name]:.3f} ({ci[name][0]:.3f}-{ci[name][1]:.3f})"


EPILOG = (
    textwrap.fill(
        "The ensemble (default) fits Bass, logistic and Gompertz curves and averages their "
        "posterior-predictive distributions with stacking weights (Yao et al. 2018): each point "
        "after the third is predicted by each form fitted to the points before it only "
        "(leave-future-out), and the weights are those of the mixture that predicts these points "
        "best. Its ceiling may keep rising: m at the last observation, plus g a year (prior "
        f"uniform on {GROWTH_PRIOR.low:g}-{GROWTH_PRIOR.high:g}, an assumption), because "
        "single-ceiling curves fitted to early data lock onto an early plateau. It prints each "
        "member's weight, its score (elpd_lfo, higher is better) and ceiling, then the mixture's "
        "median and interval at every observation and at the years asked for (--at; default the "
        "next six years). A series of two or three points has nothing to score: equal weights; "
        "with few scored points the weights can all go to one member (the header says how many "
        "were scored).",
        width=79,
    )
    + """

examples:
  python -m sim.fit sim/data/observations.csv --series genai_users_share --at 2027 2030
  python -m sim.fit series.csv --model gompertz --ceiling rising --level 0.8
"""
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line (no usage block), exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"sim.fit: error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.fit``: fit a curve to a CSV series and print parameters and predictions."""
    ap = _Parser(
        prog="python -m sim.fit",
        description=main.__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("file", type=Path, help="CSV: date,value[,uncertainty][,series] or t,y[,sd]")
    ap.add_argument(
        "--model",
        choices=(*MODELS, "ensemble"),
        default="ensemble",
        help="one curve form, or the three averaged (default: ensemble)",
    )
    ap.add_argument(
        "--ceiling",
        choices=CEILINGS,
        help="fixed, or rising linearly (m at the last observation, plus g a year); default: "
        "fixed for one form, rising for the ensemble",
    )
    ap.add_argument("--level", type=float, default=0.9, help="interval probability (0.9)")
    ap.add_argument("--series", help="series to fit, in a file with a series column")
    ap.add_argument("--until", help="use only rows dated up to YYYY-MM-DD (a backtest)")
    ap.add_argument("--at", type=float, nargs="*", help="decimal years to predict at")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        if not 0.0 < args.level < 1.0:
            raise InputError(f"--level {args.level}: allowed: between 0 and 1")
        for at in args.at or ():
            if not YEARS[0] <= at <= YEARS[1]:  # nan fails too
                raise InputError(f"--at {at}: allowed: decimal years {YEARS[0]:g}-{YEARS[1]:g}")
        t, y, sd = read_series(paths.resolve(args.file), series=args.series, until=args.until)
        if not np.all((y >= 0.0) & (y <= 1.0)):
            raise InputError(f"{args.file}: the values must be shares in [0, 1]")
        fit = fit_curve(t, y, args.model, sd=sd, ceiling=args.ceiling, seed=args.seed)
    except (InputError, ValueError) as exc:
        print(f"sim.fit: error: {exc}", file=sys.stderr)
        return 2
    at = np.array(args.at) if args.at else np.arange(np.floor(t.max()) + 1, np.floor(t.max()) + 7)
    print(format_fit(fit, np.unique(np.concatenate([t, at])), args.level))
    return 0


if __name__ == "__main__":
    sys.exit(main())
