"""Simulation-based calibration of the whole calibration pipeline (Talts et al. 2018): data drawn
from the model's own prior, calibrated by sequential Monte Carlo; the posterior's 90% interval of
the 2027 primary share must cover the truth about 90% of the time.

References
----------
.. [1] Talts, S., Betancourt, M., Simpson, D., Vehtari, A. and Gelman, A. (2018). Validating
   Bayesian inference algorithms with simulation-based calibration. arXiv:1804.06788.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim import calibration, engine, posterior, results
from sim.config import load_spec
from sim.engine import backends
from sim.observations import Observation

from helpers import CHEAP

N_REPLICATES = 100
SIZES = [
    *CHEAP,
    "population.n_agents=600",
    "population.min_agents_per_province=0",
    "time.end=2027-12",
    "targets=[{year: 2027, threshold: 0.7, metric: population, tech: agent}]",
    "calibration=observed",
    "calibration.method=smc",
    "calibration.particles=120",
    "calibration.n_agents=600",
    "calibration.moves=3",
    "calibration.max_rounds=20",
    "calibration.ess_min=1",
]


def _simulate(spec, ctx, values, first):
    draws = np.arange(first, first + values.shape[0], dtype=np.int64)
    chunk = replace(backends.run_chunk(ctx, values, draws), draws=np.arange(values.shape[0]))
    return results.to_dataset(spec, ctx.pop, [chunk], values)


def _primary_2027(ds):
    return results.share_on(ds, np.datetime64("2027-12-31", "ns"), "agent", "population").values


def _replicate(spec, ctx, r):
    """One SBC replicate: whether the posterior 90% interval covers the truth's 2027 share."""
    rng = np.random.default_rng(r)
    truth = posterior.to_parameters(spec, rng.standard_normal((1, posterior.n_free(spec))))
    ds_true = _simulate(spec, ctx, truth, 10**9 + r)
    cal = spec.calibration
    synthetic = []
    for o in cal.observations:
        pred = calibration.predict(ds_true, o) if o.mapped else None
        if pred is None or o.time > np.datetime64("2025-12-31", "ns"):
            continue
        sd = float(np.hypot(o.sd * cal.sd_scale, cal.discrepancy_sd))
        synthetic.append(replace(o, value=float(pred[0] + sd * rng.standard_normal())))
    spec_r = replace(
        spec,
        mc=replace(spec.mc, seed=r),
        calibration=replace(cal, observations=tuple(synthetic)),
    )
    *_, last = posterior.sample(spec_r)
    post = _simulate(spec, ctx, posterior.to_parameters(spec, last.z), 2 * 10**9 + 1000 * r)
    lo, hi = np.quantile(_primary_2027(post), [0.05, 0.95])
    return lo <= _primary_2027(ds_true)[0] <= hi


@pytest.mark.slow
def test_posterior_90_percent_intervals_of_the_2027_primary_share_cover_the_truth():
    spec = load_spec(SIZES)
    assert all(isinstance(o, Observation) for o in spec.calibration.observations)
    ctx = engine.context(spec)
    covered = [_replicate(spec, ctx, r) for r in range(N_REPLICATES)]
    coverage = float(np.mean(covered))
    print(f"SBC coverage of the 90% posterior interval: {coverage:.2f}")
    assert 0.85 <= coverage <= 0.95
