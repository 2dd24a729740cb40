"""Command line of :mod:`sim.fit`: ``python -m sim.fit FILE.csv --model bass --level 0.9``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np
from numpy.typing import NDArray

from sim import paths
from sim.fit import MODELS, YEARS, CurveFit, InputError, fit_curve, read_series


def format_fit(fit: CurveFit, t_new: NDArray, level: float) -> str:
    """Parameters and predictions of a fit as plain-text tables."""
    pct = f"{level:.0%}"
    lines = [
        f"{fit.model} fit to {fit.t.size} points; posterior from {fit.samples.shape[0]} draws "
        f"(acceptance {fit.acceptance:.2f}); {pct} intervals",
        f"{'parameter':<10} {'median':>10} {'lower':>10} {'upper':>10}",
    ]
    med, ci = fit.params, fit.interval(level)
    for n in fit.names:
        lines.append(f"{n:<10} {med[n]:>10.4g} {ci[n][0]:>10.4g} {ci[n][1]:>10.4g}")
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


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line (no usage block), exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"sim.fit: error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.fit``: fit a curve to a CSV series and print parameters and predictions."""
    ap = _Parser(prog="python -m sim.fit", description=main.__doc__)
    ap.add_argument("file", type=Path, help="CSV: date,value[,uncertainty][,series] or t,y[,sd]")
    ap.add_argument("--model", choices=MODELS, default="bass")
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
        fit = fit_curve(t, y, args.model, sd=sd, seed=args.seed)
    except (InputError, ValueError) as exc:
        print(f"sim.fit: error: {exc}", file=sys.stderr)
        return 2
    at = np.array(args.at) if args.at else np.arange(np.floor(t.max()) + 1, np.floor(t.max()) + 7)
    print(format_fit(fit, np.unique(np.concatenate([t, at])), args.level))
    return 0


if __name__ == "__main__":
    sys.exit(main())
