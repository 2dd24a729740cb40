"""Scenario discovery: in which futures a target fails, as a box of input ranges (PRIM).

PRIM, the Patient Rule Induction Method of Friedman & Fisher (1999), looks for a box (a range
on some inputs) where the cases of interest (draws that miss a target, say) are dense. It starts
from the box holding every draw and peels: each step removes the thin slice, a share ``alpha``
of the box's weight at the lower or upper end of one input, whose removal leaves the highest
density of cases. The steps form a trajectory from high coverage and low density to low
coverage and high density; the analyst picks a box on it (Bryant & Lempert 2010). Pasting
then widens the picked box's faces while that raises its density.

- coverage: share of all cases (weight of cases) that fall in the box;
- density: share of the box's weight that is a case;
- mass: share of all weight in the box.

Written here rather than taken from a package: ``prim`` on PyPI is GPL-3 (this package is
Apache-2.0) and pulls pandas and matplotlib; the EMA Workbench's PRIM comes with pandas,
scikit-learn, statsmodels, seaborn, SALib and platypus-opt. Neither takes draw weights, which
posterior draws need.

References
----------
.. [1] Friedman, J. H. and Fisher, N. I. (1999). Bump hunting in high-dimensional data.
   Statistics and Computing 9(2), 123-143.
.. [2] Bryant, B. P. and Lempert, R. J. (2010). Thinking inside the box: a participatory,
   computer-assisted approach to scenario discovery. Technological Forecasting and Social
   Change 77(1), 34-49.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class Box:
    """A box of input ranges and how well it captures the cases.

    Attributes
    ----------
    low, high : ndarray, shape (d,)
        The box is ``low <= x <= high``; ``-inf`` and ``inf`` on the sides left open.
    coverage, density, mass : float
        In [0, 1]; see the module docstring.
    """

    low: NDArray[np.float64]
    high: NDArray[np.float64]
    coverage: float
    density: float
    mass: float

    @property
    def restricted(self) -> dict[int, tuple[float, float]]:
        """``{input index: (low, high)}`` of the inputs the box restricts."""
        limited = np.isfinite(self.low) | np.isfinite(self.high)
        return {int(j): (float(self.low[j]), float(self.high[j])) for j in np.flatnonzero(limited)}

    def contains(self, x: ArrayLike) -> NDArray[np.bool_]:
        """Whether each row of ``x`` (shape (n, d)) lies in the box; shape (n,)."""
        xs = np.asarray(x, dtype=np.float64)
        return np.all((xs >= self.low) & (xs <= self.high), axis=1)


@dataclass(frozen=True)
class Trajectory:
    """The boxes of one peeling run, from the full box to the smallest.

    Attributes
    ----------
    boxes : tuple of Box
        Step 0 is the box holding every draw; mass falls at each step.
    """

    boxes: tuple[Box, ...]

    @property
    def coverage(self) -> NDArray[np.float64]:
        """Coverage of each step's box, shape (n_steps,)."""
        return np.array([b.coverage for b in self.boxes])

    @property
    def density(self) -> NDArray[np.float64]:
        """Density of each step's box, shape (n_steps,)."""
        return np.array([b.density for b in self.boxes])

    @property
    def mass(self) -> NDArray[np.float64]:
        """Mass of each step's box, shape (n_steps,)."""
        return np.array([b.mass for b in self.boxes])

    def select(self, *, min_density: float) -> Box:
        """The box of highest coverage among those at least ``min_density`` dense."""
        ok = np.flatnonzero(self.density >= min_density)
        if ok.size == 0:
            raise ValueError(
                f"no box reaches density {min_density}; the densest has {self.density.max():.3f}"
            )
        return self.boxes[ok[np.argmax(self.coverage[ok])]]


def _inputs(
    x: ArrayLike, y: ArrayLike, weights: ArrayLike | None
) -> tuple[NDArray, NDArray, NDArray]:
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y)
    n = xs.shape[0]
    if xs.ndim != 2 or ys.shape != (n,) or not np.all((ys == 0) | (ys == 1)):
        raise ValueError("x must have shape (n, d) and y shape (n,), with y boolean")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or np.any(w < 0):
        raise ValueError(f"weights must be non-negative with shape ({n},)")
    if not np.sum(w * ys) > 0:
        raise ValueError("no case of interest (y true with positive weight)")
    kept = w > 0
    return xs[kept], ys[kept].astype(np.float64) * w[kept], w[kept]


def _box(low: NDArray, high: NDArray, inside: NDArray, w: NDArray, wy: NDArray) -> Box:
    w_in = w[inside].sum()
    return Box(
        low=low.copy(),
        high=high.copy(),
        coverage=float(wy[inside].sum() / wy.sum()),
        density=float(wy[inside].sum() / w_in) if w_in > 0 else 0.0,
        mass=float(w_in / w.sum()),
    )


def _cut(values: NDArray, w: NDArray, wy: NDArray, share: float) -> tuple[int, float, float]:
    """Slice off the first ``share`` of the weight of ``values`` (sorted, ties kept whole).

    Returns the number of values cut, and the weight and case weight left.
    """
    cw = np.cumsum(w)
    k = min(int(np.searchsorted(cw, share * cw[-1])), values.size - 1)
    r = k + int(np.count_nonzero(values[k:] == values[k]))
    return r, float(cw[-1] - cw[r - 1]), float(wy.sum() - wy[:r].sum())


def _best_peel(
    x: NDArray, order: NDArray, inside: NDArray, w: NDArray, wy: NDArray, alpha: float, floor: float
) -> tuple[int, int, float] | None:
    """The peel (input, side 0 low / 1 high, new bound) leaving the densest box, or None."""
    best, best_key = None, (-np.inf, -np.inf)
    for j in range(x.shape[1]):
        ascending = order[:, j][inside[order[:, j]]]
        for side, seq in enumerate((ascending, ascending[::-1])):
            v = x[seq, j]
            r, kept_w, kept_wy = _cut(v, w[seq], wy[seq], alpha)
            if r == v.size or kept_w < floor or kept_w <= 0:
                continue
            key = (kept_wy / kept_w, kept_w)
            if key > best_key:
                best, best_key = (j, side, 0.5 * (v[r - 1] + v[r])), key
    return best


def peel(
    x: ArrayLike,
    y: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    alpha: float = 0.05,
    min_mass: float = 0.05,
) -> Trajectory:
    """Peel boxes around the cases of interest (PRIM's top-down search).

    Parameters
    ----------
    x : array_like, shape (n, d)
        Inputs of each draw.
    y : array_like of bool, shape (n,)
        Whether each draw is a case of interest (misses the target, say).
    weights : array_like, shape (n,), optional
        Non-negative draw weights (posterior importance weights); equal by default.
    alpha : float
        Share of the box's weight peeled at each step, in (0, 1). Ties in an input are
        peeled together, so a step may take more.
    min_mass : float
        Peeling stops before the box's mass would fall below this, in (0, 1).

    Returns
    -------
    Trajectory
        One box per step, the full box first.

    Notes
    -----
    Each step tries both ends of every input and keeps the peel whose remaining box has
    the highest density (ties: the larger box), as in [1]_. A new bound lies halfway between
    the last value peeled and the first kept.
    """
    if not (0 < alpha < 1 and 0 < min_mass < 1):
        raise ValueError(f"alpha and min_mass must be in (0, 1), got {alpha}, {min_mass}")
    xs, wy, w = _inputs(x, y, weights)
    d = xs.shape[1]
    order = np.argsort(xs, axis=0, kind="stable")
    low, high = np.full(d, -np.inf), np.full(d, np.inf)
    inside = np.ones(xs.shape[0], dtype=bool)
    boxes = [_box(low, high, inside, w, wy)]
    while (step := _best_peel(xs, order, inside, w, wy, alpha, min_mass * w.sum())) is not None:
        j, side, bound = step
        if side == 0:
            low[j] = bound
            inside &= xs[:, j] >= bound
        else:
            high[j] = bound
            inside &= xs[:, j] <= bound
        boxes.append(_box(low, high, inside, w, wy))
    return Trajectory(tuple(boxes))


def _best_paste(
    x: NDArray, box: Box, w: NDArray, wy: NDArray, alpha: float
) -> tuple[int, int, float, float] | None:
    """The paste (input, side, new bound, density) that most raises the density, or None."""
    in_dim = (x >= box.low) & (x <= box.high)
    n_in = in_dim.sum(axis=1)
    inside = n_in == x.shape[1]
    w_box, wy_box = w[inside].sum(), wy[inside].sum()
    best, best_density = None, wy_box / w_box if w_box > 0 else 0.0
    for j, (lo, hi) in box.restricted.items():
        beside = (n_in - in_dim[:, j]) == x.shape[1] - 1
        for side, outside in enumerate((beside & (x[:, j] < lo), beside & (x[:, j] > hi))):
            seq = np.flatnonzero(outside)
            if seq.size == 0:
                continue
            seq = seq[np.argsort(-x[seq, j] if side == 0 else x[seq, j], kind="stable")]
            v = x[seq, j]
            share = min(1.0, alpha * w_box / w[seq].sum())
            r, _, _ = _cut(v, w[seq], wy[seq], share)
            density = (wy_box + wy[seq[:r]].sum()) / (w_box + w[seq[:r]].sum())
            if density > best_density:
                edge = 0.5 * (v[r - 1] + v[r]) if r < v.size else (-np.inf, np.inf)[side]
                best, best_density = (j, side, edge, density), density
    return best


def paste(
    x: ArrayLike,
    y: ArrayLike,
    box: Box,
    *,
    weights: ArrayLike | None = None,
    alpha: float = 0.05,
) -> Box:
    """Widen a box's restricted faces while that raises its density (PRIM's pasting).

    Parameters
    ----------
    x, y, weights
        As for :func:`peel`.
    box : Box
        A box from the trajectory (only its bounds are read).
    alpha : float
        Each paste adds draws next to one face worth this share of the box's weight.

    Returns
    -------
    Box
        The widened box, at least as dense as ``box``, containing it.
    """
    xs, wy, w = _inputs(x, y, weights)
    low, high = box.low.copy(), box.high.copy()
    box = _box(low, high, box.contains(xs), w, wy)
    while (step := _best_paste(xs, box, w, wy, alpha)) is not None:
        j, side, edge, _ = step
        (low if side == 0 else high)[j] = edge
        box = _box(low, high, np.all((xs >= low) & (xs <= high), axis=1), w, wy)
    return box


def _number(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def describe(
    box: Box, names: Sequence[str], *, cases: str = "missed futures", verb: str = "miss"
) -> str:
    """The box in plain words, with its coverage, density and mass.

    Parameters
    ----------
    box : Box
    names : sequence of str, length d
        Input names, in the order of the columns of ``x``.
    cases, verb : str
        How to name the cases of interest and what they do ("missed futures", "miss").

    Returns
    -------
    str
        For example ``"agent.m below 0.72 and terminal.q below 0.31: 80% of the missed
        futures (coverage), 91% of futures in the box miss (density), 9% of all futures
        (mass)"``.
    """
    parts = []
    for j, (lo, hi) in box.restricted.items():
        if np.isfinite(lo) and np.isfinite(hi):
            parts.append(f"{names[j]} between {_number(lo)} and {_number(hi)}")
        elif np.isfinite(lo):
            parts.append(f"{names[j]} above {_number(lo)}")
        else:
            parts.append(f"{names[j]} below {_number(hi)}")
    where = " and ".join(parts) if parts else "all futures"
    return (
        f"{where}: {box.coverage:.0%} of the {cases} (coverage), {box.density:.0%} of futures "
        f"in the box {verb} (density), {box.mass:.0%} of all futures (mass)"
    )
