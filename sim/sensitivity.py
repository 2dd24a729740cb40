"""Global sensitivity: which uncertain inputs drive an output's variance (Sobol' indices).

Two estimators:

- :func:`sobol` designs its own experiment (Saltelli's A, B and AB matrices on a scrambled
  Sobol' sequence) and runs a vectorised model on it: first- and total-order indices with
  percentile bootstrap intervals. The estimator is :func:`scipy.stats.sobol_indices`
  (Saltelli et al. 2010's first-order and Jansen's total-order formulas); SALib would do the same
  but pulls pandas, multiprocess and matplotlib into a headless sweep, while scipy is already a
  dependency.
- :func:`first_order_given_data` reads first-order indices off draws that already exist, weighted
  ones included (posterior draws): the correlation ratio, Var(E[Y | X_i]) / Var(Y), estimated by
  the conditional means of Y in equal-weight bins of X_i. It needs no extra model run, but gives
  no total-order index.

References
----------
.. [1] Sobol', I. M. (2001). Global sensitivity indices for nonlinear mathematical models and
   their Monte Carlo estimates. Mathematics and Computers in Simulation 55(1-3), 271-280.
.. [2] Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M. and Tarantola, S. (2010).
   Variance based sensitivity analysis of model output. Design and estimator for the total
   sensitivity index. Computer Physics Communications 181(2), 259-270.
.. [3] Saltelli, A., Ratto, M., Andres, T., Campolongo, F., Cariboni, J., Gatelli, D.,
   Saisana, M. and Tarantola, S. (2008). Global Sensitivity Analysis. The Primer. Wiley.
.. [4] Plischke, E., Borgonovo, E. and Smith, C. L. (2013). Global sensitivity measures from
   given data. European Journal of Operational Research 226(3), 536-550.
.. [5] Efron, B. and Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall
   (percentile intervals).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.stats import qmc


class Distribution(Protocol):
    """Anything with an inverse CDF, such as a frozen ``scipy.stats`` distribution."""

    def ppf(self, q: NDArray[np.float64]) -> NDArray[np.float64]: ...


#: An input's marginal: a distribution, or a ``(low, high)`` pair meaning uniform.
Marginal = Distribution | tuple[float, float]


@dataclass(frozen=True)
class SobolResult:
    """Sobol' indices of several outputs with respect to several inputs.

    Attributes
    ----------
    names : tuple of str, length d
        Inputs, in the order of the last axis of the index arrays.
    outputs : tuple of str, length s
        Outputs, in the order of the first axis.
    first_order, total_order : ndarray, shape (s, d)
        Point estimates. Sampling noise can push them slightly below 0 or above 1.
    first_order_interval, total_order_interval : ndarray, shape (2, s, d)
        Lower (``[0]``) and upper (``[1]``) bootstrap bounds at level ``confidence``.
    confidence : float
        Two-sided level of the intervals, in (0, 1).
    n_evaluations : int
        Model evaluations spent, ``n * (d + 2)``.
    output_mean : ndarray, shape (s,), optional
        Each output's mean over the design's A and B rows (a hit indicator's: the share of
        evaluations that hit).
    """

    names: tuple[str, ...]
    outputs: tuple[str, ...]
    first_order: NDArray[np.float64]
    total_order: NDArray[np.float64]
    first_order_interval: NDArray[np.float64]
    total_order_interval: NDArray[np.float64]
    confidence: float
    n_evaluations: int
    output_mean: NDArray[np.float64] | None = None

    def to_dataset(self) -> xr.Dataset:
        """The indices as a Dataset with dims ``(output, input)`` and intervals on ``bound``."""
        coords = {"output": list(self.outputs), "input": list(self.names)}
        bounds = {**coords, "bound": ["low", "high"]}
        dims, idims = ("output", "input"), ("bound", "output", "input")
        return xr.Dataset(
            {
                "first_order": (dims, self.first_order),
                "total_order": (dims, self.total_order),
                "first_order_interval": (idims, self.first_order_interval),
                "total_order_interval": (idims, self.total_order_interval),
            },
            coords=bounds,
            attrs={"confidence": self.confidence, "n_evaluations": self.n_evaluations},
        )


def _ppf(marginal: Marginal) -> Callable[[NDArray], NDArray]:
    if hasattr(marginal, "ppf"):
        return marginal.ppf
    low, high = (float(v) for v in marginal)
    if not high > low:
        raise ValueError(f"uniform bounds need low < high, got ({low}, {high})")
    return lambda u: low + (high - low) * u


def _evaluate(func: Callable[[NDArray], ArrayLike], x: NDArray, n_outputs: int | None) -> NDArray:
    y = np.asarray(func(x), dtype=np.float64)
    y = y.reshape(1, -1) if y.ndim == 1 else y
    if y.shape[1] != x.shape[1] or (n_outputs is not None and y.shape[0] != n_outputs):
        raise ValueError(f"func must return shape (n_outputs, {x.shape[1]}), got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("func returned non-finite values")
    return y


def _run(func: Callable[[NDArray], ArrayLike], a: NDArray, b: NDArray) -> tuple[NDArray, ...]:
    """``func`` on A, B and each AB_i (A with row i from B): shapes (s, n), (s, n), (d, s, n)."""
    f_a = _evaluate(func, a, None)
    f_b = _evaluate(func, b, f_a.shape[0])
    f_ab = np.empty((a.shape[0], *f_a.shape))
    for i in range(a.shape[0]):
        ab = a.copy()
        ab[i] = b[i]
        f_ab[i] = _evaluate(func, ab, f_a.shape[0])
    return f_a, f_b, f_ab


def _indices(f_a: NDArray, f_b: NDArray, f_ab: NDArray) -> NDArray[np.float64]:
    """Stacked (first, total) indices, shape (2, s, d), from scipy's estimator."""
    s, n = f_a.shape
    res = stats.sobol_indices(func={"f_A": f_a, "f_B": f_b, "f_AB": f_ab}, n=n)
    d = f_ab.shape[0]
    return np.stack([np.reshape(res.first_order, (s, d)), np.reshape(res.total_order, (s, d))])


def sobol(
    func: Callable[[NDArray], ArrayLike],
    dists: Mapping[str, Marginal],
    *,
    n: int = 1024,
    rng: np.random.Generator,
    outputs: Sequence[str] | None = None,
    n_resamples: int = 999,
    confidence: float = 0.9,
) -> SobolResult:
    """First- and total-order Sobol' indices of a vectorised model, with bootstrap intervals.

    Parameters
    ----------
    func : callable
        ``func(x) -> y`` with ``x`` of shape (d, m), one column per input set, and ``y`` of
        shape (m,) or (s, m): one row per output. Called ``d + 2`` times with ``m = n``.
        Inputs are taken as independent.
    dists : mapping of str to distribution or (low, high)
        Each input's name and marginal distribution: anything with a ``ppf`` (a frozen
        ``scipy.stats`` distribution) or a ``(low, high)`` pair for a uniform.
    n : int
        Base sample size, a power of 2. Costs ``n * (d + 2)`` evaluations.
    rng : numpy.random.Generator
        Scrambles the Sobol' sequence and drives the bootstrap.
    outputs : sequence of str, optional
        Output names, length s (default ``y0, y1, ...``).
    n_resamples : int
        Bootstrap resamples of the n rows of (A, B, AB).
    confidence : float
        Two-sided level of the percentile intervals, in (0, 1).

    Returns
    -------
    SobolResult
        Indices of shape (s, d).

    Notes
    -----
    The design is Saltelli's: A and B are the two halves of one 2d-dimensional scrambled
    Sobol' sequence [2]_, mapped through each input's inverse CDF, and AB_i is A with column i
    taken from B. The intervals are percentile intervals of the rows resampled with
    replacement [5]_ (scipy's own BCa bootstrap draws from an unseeded generator, and BCa's
    jackknife needs n - 1 rows, which the estimator refuses). Resampling treats the
    quasi-random rows as independent, so the intervals err on the wide side.
    """
    names = tuple(dists)
    if n < 2 or n & (n - 1):
        raise ValueError(f"n must be a power of 2, got {n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    d = len(names)
    ppfs = [_ppf(dists[name]) for name in names]
    u = qmc.Sobol(d=2 * d, rng=rng).random(n).T.reshape(2, d, n)
    a, b = (np.stack([ppf(row) for ppf, row in zip(ppfs, half, strict=True)]) for half in u)
    f_a, f_b, f_ab = _run(func, a, b)
    point = _indices(f_a, f_b, f_ab)
    boot = stats.bootstrap(
        (np.arange(n),),
        lambda rows: _indices(f_a[:, rows], f_b[:, rows], f_ab[..., rows]),
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        vectorized=False,
        rng=rng,
    )
    low, high = boot.confidence_interval
    outs = tuple(outputs) if outputs is not None else tuple(f"y{k}" for k in range(f_a.shape[0]))
    return SobolResult(
        names=names,
        outputs=outs,
        first_order=point[0],
        total_order=point[1],
        first_order_interval=np.stack([low[0], high[0]]),
        total_order_interval=np.stack([low[1], high[1]]),
        confidence=confidence,
        n_evaluations=n * (d + 2),
        output_mean=np.hstack([f_a, f_b]).mean(axis=1),
    )


def _equal_weight_bins(x: NDArray, w: NDArray, n_bins: int) -> NDArray[np.intp]:
    """Bin of each draw, shape (n,): bins of equal weight along ``x``, ties kept together."""
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order])
    mid = (cw - 0.5 * w[order]) / cw[-1]
    sorted_bins = np.minimum((mid * n_bins).astype(np.intp), n_bins - 1)
    _, first, inverse = np.unique(x[order], return_index=True, return_inverse=True)
    bins = np.empty_like(sorted_bins)
    bins[order] = sorted_bins[first][inverse]
    return bins


def first_order_given_data(
    x: ArrayLike,
    y: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    n_bins: int | None = None,
) -> NDArray[np.float64]:
    """First-order indices from existing (weighted) draws: conditional means in bins.

    Parameters
    ----------
    x : array_like, shape (n, d)
        Inputs of each draw.
    y : array_like, shape (n,) or (s, n)
        Outputs of each draw, one row per output.
    weights : array_like, shape (n,), optional
        Non-negative draw weights (posterior importance weights); equal by default.
    n_bins : int, optional
        Bins per input, each holding an equal share of the weight (default ``sqrt(n)``).

    Returns
    -------
    ndarray, shape (s, d)
        ``Var(E[Y | X_i]) / Var(Y)`` under the weighted draws' distribution.

    Notes
    -----
    The index is the correlation ratio: the weighted variance of the bin means of Y around
    the overall mean, over the variance of Y [4]_. Sampling noise in the bin means inflates
    that variance by the mean squared standard error of a bin mean, which is estimated from
    the residuals within the bins and subtracted. Coarse bins bias the index down (the
    conditional mean is averaged over a bin's width), noise in few draws biases it up:
    ``sqrt(n)`` bins trades the two. With correlated inputs (a posterior), an input's index
    includes what it shares with the inputs it is correlated with.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.atleast_2d(np.asarray(y, dtype=np.float64))
    n, d = xs.shape
    if ys.shape[1] != n:
        raise ValueError(f"y must have shape (s, {n}), got {ys.shape}")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError("weights must be non-negative, one per draw, with a positive sum")
    n_bins = n_bins or max(2, round(np.sqrt(np.count_nonzero(w))))
    total = w.sum()
    mean = ys @ w / total
    var = (ys - mean[:, None]) ** 2 @ w / total
    out = np.zeros((ys.shape[0], d))
    for i in range(d):
        bins = _equal_weight_bins(xs[:, i], w, n_bins)
        w_bin = np.bincount(bins, w, n_bins)
        filled = w_bin > 0
        for k, row in enumerate(ys):
            m_bin = np.zeros(n_bins)
            m_bin[filled] = np.bincount(bins, w * row, n_bins)[filled] / w_bin[filled]
            between = w_bin @ (m_bin - mean[k]) ** 2 / total
            noise = np.sum(w**2 * (row - m_bin[bins]) ** 2 / w_bin[bins]) / total
            out[k, i] = (between - noise) / var[k] if var[k] > 0 else 0.0
    return out
