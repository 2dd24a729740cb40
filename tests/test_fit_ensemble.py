"""The ensemble curve fit: the rising ceiling, stacking weights against a brute-force optimum,
leave-future-out scoring, the mixture band, which form the weights favour, coverage of held-out
tails of series whose ceiling keeps rising, and the command line."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.fit import (
    EnsembleFit,
    fit_curve,
    gompertz_share,
    logistic_share,
    stacking_weights,
)
from sim.fit.__main__ import main
from sim.fit.curves import _curve

#: A smaller sampler for the ensemble's many refits: tests need its behaviour, not its polish.
SMALL = {"n_walkers": 32, "n_steps": 300}


def test_a_rising_ceiling_is_the_fixed_one_at_the_last_observation_and_never_above_one():
    t = np.array([2020.0, 2025.0, 2030.0, 2200.0])
    theta = np.array([[0.6, 0.8, 2022.0]])
    fixed = _curve("logistic", t, theta)[0]
    rising = _curve("logistic", t, np.array([[0.6, 0.8, 2022.0, 0.02]]), t_last=2025.0)[0]
    flat = _curve("logistic", t, np.array([[0.6, 0.8, 2022.0, 0.0]]), t_last=2025.0)[0]
    np.testing.assert_allclose(flat, fixed)
    assert rising[1] == pytest.approx(fixed[1])
    assert rising[0] < fixed[0] and rising[2] == pytest.approx(fixed[2] / 0.6 * 0.7)
    assert rising[3] == pytest.approx(1.0)


def test_stacking_weights_maximise_the_mixtures_log_score():
    rng = np.random.default_rng(5)
    lpd = rng.normal(0.0, 1.5, size=(8, 3))
    w = stacking_weights(lpd)
    assert np.all(w >= 0) and w.sum() == pytest.approx(1.0)
    # Brute force over a fine grid of the simplex: nothing scores better.
    a, b = np.meshgrid(np.linspace(0, 1, 401), np.linspace(0, 1, 401))
    grid = np.column_stack([a.ravel(), b.ravel(), 1 - a.ravel() - b.ravel()])
    grid = grid[grid[:, 2] >= 0]

    def score(weights):
        return np.log(np.exp(lpd) @ weights.T).sum(axis=0)

    assert score(w[None])[0] >= score(grid).max() - 1e-9


def test_stacking_gives_all_weight_to_a_member_best_at_every_point():
    # The mixture's density never exceeds the best member's at any point: that member alone is
    # the optimum.
    lpd = np.array([[-1.0, 0.5, -3.0], [0.2, 0.9, 0.1], [-2.0, -1.0, -1.5]])
    np.testing.assert_allclose(stacking_weights(lpd), [0.0, 1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(stacking_weights(np.empty((0, 3))), [1 / 3] * 3)


def _series(form, truth, t, sd, seed):
    rng = np.random.default_rng(seed)
    y = _curve(form, t, np.array([truth]))[0] + sd * rng.standard_normal(t.size)
    return np.clip(y, 0.0, 1.0)


def test_scoring_leaves_the_future_out():
    # The first scored point is predicted from the three before it: changing a later point
    # leaves its score alone but changes the fits to the whole series.
    t = 2015.0 + np.arange(6.0)
    y = _series("logistic", [0.7, 0.9, 2017.0], t, 0.01, 0)
    a = fit_curve(t, y, "ensemble", sd=0.01, **SMALL)
    y2 = y.copy()
    y2[-1] += 0.1
    b = fit_curve(t, y2, "ensemble", sd=0.01, **SMALL)
    assert a.n_scored == 3
    np.testing.assert_array_equal(a.lpd[:2], b.lpd[:2])
    assert a.lpd[2, 0] != b.lpd[2, 0]


@pytest.mark.parametrize(
    ("form", "truth"),
    [
        # Concave from its launch at the first point: neither symmetric S-curve starts so.
        ("bass", [0.8, 0.25, 0.25, 2010.0]),
        # Inflection at m/e, a long slow tail.
        ("gompertz", [0.8, 0.35, 2013.0]),
    ],
)
def test_weights_sum_to_one_and_favour_the_generating_form(form, truth):
    t = np.arange(2010.0, 2026.0)
    e = fit_curve(t, _series(form, truth, t, 0.01, 0), "ensemble", sd=0.01, **SMALL)
    assert e.weights.sum() == pytest.approx(1.0) and np.all(e.weights >= 0)
    assert max(e.weight, key=e.weight.get) == form, e.weight


def test_a_logistic_series_goes_to_the_symmetric_forms():
    # A Bass curve with p -> 0 is a logistic (Bass 1969), so the data cannot prefer logistic to
    # Bass; both are symmetric about their inflection, unlike the Gompertz.
    t = np.arange(2010.0, 2026.0)
    e = fit_curve(t, _series("logistic", [0.7, 0.9, 2015.0], t, 0.01, 0), "ensemble", sd=0.01,
                  **SMALL)  # fmt: skip
    assert e.weight["gompertz"] < 0.1, e.weight


def test_the_band_is_the_mixture_of_the_members_bands():
    t = 2015.0 + np.arange(6.0)
    e = fit_curve(t, _series("gompertz", [0.8, 0.35, 2016.0], t, 0.02, 1), "ensemble", **SMALL)
    t_new = [2022.0, 2026.0, 2030.0]
    # A mixture's quantile lies between its components' quantiles (its CDF is their average).
    half = dataclasses.replace(e, weights=np.array([0.5, 0.0, 0.5]))
    _, lo, hi = half.predict(t_new)
    b_lo, b_hi = e.members["bass"].predict(t_new)[1:]
    g_lo, g_hi = e.members["gompertz"].predict(t_new)[1:]
    tol = 0.01  # interpolation between draws
    assert np.all(lo >= np.minimum(b_lo, g_lo) - tol) and np.all(lo <= np.maximum(b_lo, g_lo) + tol)
    assert np.all(hi >= np.minimum(b_hi, g_hi) - tol) and np.all(hi <= np.maximum(b_hi, g_hi) + tol)
    # All weight on one member: its own band.
    only = dataclasses.replace(e, weights=np.array([0.0, 1.0, 0.0]))
    np.testing.assert_allclose(only.predict(t_new)[1:], e.members["logistic"].predict(t_new)[1:],
                               atol=tol)  # fmt: skip


@pytest.mark.slow
def test_held_out_tails_of_series_with_a_rising_ceiling_are_covered_by_the_ensemble():
    """Series whose ceiling keeps rising: adoption among those with access (a logistic or
    Gompertz curve) times access, itself a slow logistic (rate 0.1-0.2 a year). Fitted to the
    first 10 yearly points, by when the fast curve has nearly saturated, and asked for the 15
    after them.

    The single-ceiling Bass and logistic fits see a plateau, pin their ceiling to it, and their
    bands stay narrow under a series that keeps climbing: most held-out points lie above them
    (the issue measured under a quarter covered on a real series). The ensemble's ceiling may
    rise as fast as access ever does here (access's steepest slope, rate / 4 <= 0.05 a year,
    is the top of the rise's prior), so the truth is inside what it allows, though not of its
    linear form: a nominal 90% band should then cover most points, not exactly 90%. Asked: at
    least 70%, and 45 points above the better of the two single fits. Coverage is printed
    (pytest -s)."""
    t = 2000.0 + np.arange(25.0)
    rng = np.random.default_rng(7)
    cover = {"bass": [], "logistic": [], "ensemble": []}
    above = {"bass": [], "logistic": []}
    for rep in range(6):
        access = logistic_share(t, 1.0, rng.uniform(0.1, 0.2), 2000.0 + rng.uniform(-2.0, 8.0))
        k, t_mid = rng.uniform(0.5, 1.0), 2000.0 + rng.uniform(2.0, 5.0)
        shape = logistic_share if rep % 2 == 0 else gompertz_share
        y = np.clip(access * shape(t, 1.0, k, t_mid) + 0.01 * rng.standard_normal(t.size), 0, 1)
        fitted, held = slice(0, 10), slice(10, None)
        for model in cover:
            kw = SMALL if model == "ensemble" else {}
            fit = fit_curve(t[fitted], y[fitted], model, sd=0.01, seed=rep, **kw)
            _, lo, hi = fit.predict(t[held], level=0.9)
            cover[model].append(np.mean((lo <= y[held]) & (y[held] <= hi)))
            if model in above:
                above[model].append(np.mean(y[held] > hi))
    coverage = {m: float(np.mean(c)) for m, c in cover.items()}
    print(f"coverage of the held-out tails by 90% bands: {coverage}")
    assert coverage["bass"] < 0.25 and coverage["logistic"] < 0.25
    # They miss from below: locked onto the early plateau.
    assert min(np.mean(above["bass"]), np.mean(above["logistic"])) > 0.6
    assert coverage["ensemble"] >= 0.7
    assert coverage["ensemble"] - max(coverage["bass"], coverage["logistic"]) >= 0.45


def test_command_line_fits_the_ensemble_by_default_and_prints_the_weights(tmp_path, capsys):
    p = tmp_path / "s.csv"
    p.write_text("t,y\n" + "".join(f"{2015 + i},{0.7 / (1 + np.exp(-0.9 * (i - 3))):.4f}\n"
                                   for i in range(7)))  # fmt: skip
    assert main([str(p), "--at", "2026"]) == 0
    out = capsys.readouterr().out
    assert "ensemble of bass, logistic, gompertz fitted to 7 points, rising ceiling" in out
    assert "stacking of one-step leave-future-out predictive densities (4 points scored)" in out
    rows = {ln.split()[0]: ln.split() for ln in out.splitlines() if ln.split()}
    weights = [float(rows[m][1]) for m in ("bass", "logistic", "gompertz")]
    assert sum(weights) == pytest.approx(1.0, abs=2e-3)
    assert "2026.000" in out


def test_command_line_with_too_few_points_to_score_says_the_weights_are_equal(tmp_path, capsys):
    p = tmp_path / "s.csv"
    p.write_text("t,y\n2020,0.05\n2021,0.12\n2022,0.25\n")
    assert main([str(p), "--ceiling", "fixed"]) == 0
    out = capsys.readouterr().out
    assert "no point to score (too few points): equal weights" in out
    assert "fixed ceiling" in out and out.count("  0.333 ") == 3


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--model", "mixture"], "invalid choice: 'mixture'"),
        (["--ceiling", "falling"], "invalid choice: 'falling'"),
        (["--level", "0"], "--level 0.0: allowed"),
    ],
)
def test_command_line_bad_options_are_one_line(tmp_path, capsys, args, match):
    p = tmp_path / "s.csv"
    p.write_text("t,y\n2020,0.05\n2021,0.12\n2022,0.25\n")
    try:
        code = main([str(p), *args])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sim.fit: error: ") and match in lines[0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"priors": {"z": (0.0, 1.0)}}, "unknown prior 'z'"),
        ({"ceiling": "fixed", "priors": {"g": (0.0, 0.1)}}, "unknown prior 'g'"),
        ({"ceiling": "up"}, "unknown ceiling 'up'"),
    ],
)
def test_bad_ensemble_options_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_curve([2020.0, 2021.0, 2022.0], [0.1, 0.2, 0.3], "ensemble", **kwargs)


def test_an_ensemble_reads_like_a_fit():
    e = fit_curve([2020.0, 2021.0, 2022.0, 2023.0], [0.1, 0.2, 0.3, 0.4], "ensemble", **SMALL)
    assert isinstance(e, EnsembleFit) and e.model == "ensemble" and e.n_scored == 1
    med, lo, hi = e.predict([2024.0, 2030.0])
    assert np.all(lo <= med) and np.all(med <= hi) and np.all((lo >= 0) & (hi <= 1))


def test_help_explains_the_default_ensemble(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "{bass,logistic,gompertz,ensemble}" in out and "(default: ensemble)" in out
    for needle in ("stacking weights", "leave-future-out", "--ceiling", "elpd_lfo"):
        assert needle in out
