"""Discrete-choice adoption: a random-utility (logit) decision at each contact, with a subsidy."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special


def logit_subsidy_hazard(
    p: ArrayLike,
    q: ArrayLike,
    influence: ArrayLike,
    ceiling: ArrayLike,
    *,
    cost: ArrayLike,
    scale: ArrayLike,
    subsidy: ArrayLike,
) -> NDArray[np.floating]:
    """Annual adoption hazard when each contact leads to a logit cost-benefit decision.

    A potential adopter meets the technology at the Bass contact rate ``p + q * influence / m``
    (media and peers). At each contact it adopts if the net benefit ``1 - cost * (1 - subsidy)``
    (in units of the gross benefit) plus a logistic taste shock of ``scale`` is positive, with
    probability ``expit((1 - cost * (1 - subsidy)) / scale)``. The hazard is the contact rate times
    that probability relative to its value without subsidy, so ``p`` and ``q`` keep their meaning
    as observed (unsubsidised) Bass rates and the rule equals :func:`~sim.rules.bass_hazard` when
    ``subsidy`` is 0.

    Parameters
    ----------
    p, q : array_like
        Coefficients of innovation and imitation, 1/year, >= 0.
    influence : array_like
        Adopted share among the agent's peers, in [0, 1].
    ceiling : array_like
        Market potential ``m``, in (0, 1].
    cost : array_like
        Cost of adopting relative to its gross benefit, for the typical potential adopter, >= 0.
    scale : array_like
        Scale of the logistic taste shock, in units of the gross benefit, > 0.
    subsidy : array_like
        Share of the cost paid by a subsidy, in [0, 1].

    Returns
    -------
    ndarray
        Hazard, 1/year: the Bass hazard without subsidy, rising with the subsidy, always below
        the Bass hazard divided by ``expit((1 - cost) / scale)``.

    References
    ----------
    .. [1] McFadden, D. (1974). Conditional logit analysis of qualitative choice behavior. In
       P. Zarembka (ed.), Frontiers in Econometrics, 105-142. Academic Press.
    .. [2] Brock, W. A. and Durlauf, S. N. (2001). Discrete choice with social interactions.
       Review of Economic Studies 68(2), 235-260.
    """
    contact = p + q * np.divide(influence, ceiling)
    cost = np.asarray(cost)
    gain = special.expit((1.0 - cost * (1.0 - np.asarray(subsidy))) / scale)
    return contact * (gain / special.expit((1.0 - cost) / scale))
