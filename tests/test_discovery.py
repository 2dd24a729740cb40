"""PRIM finds a planted box, treats weights as counts, and describes boxes in words."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.discovery import Box, describe, paste, peel

NAMES = [f"x{j}" for j in range(5)]


def planted(seed: int, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Five uniform inputs; cases 90% likely inside x0 <= 0.3 and x2 >= 0.6, 5% outside.

    The planted box holds 12% of the draws, so its density is about 0.9 and its coverage
    about 0.108 / (0.108 + 0.88 * 0.05) = 0.71.
    """
    rng = np.random.default_rng(seed)
    x = rng.random((n, 5))
    inside = (x[:, 0] <= 0.3) & (x[:, 2] >= 0.6)
    return x, np.where(inside, rng.random(n) < 0.9, rng.random(n) < 0.05)


def test_prim_finds_the_planted_box():
    x, y = planted(0)
    box = peel(x, y).select(min_density=0.8)
    assert set(box.restricted) == {0, 2}
    (lo0, hi0), (lo2, hi2) = box.restricted[0], box.restricted[2]
    assert lo0 == -np.inf and hi0 == pytest.approx(0.3, abs=0.05)
    assert lo2 == pytest.approx(0.6, abs=0.05) and hi2 == np.inf
    assert box.density > 0.8 and box.coverage > 0.6


def test_trajectory_shrinks_step_by_step():
    trajectory = peel(*planted(1))
    assert trajectory.mass[0] == 1.0 and trajectory.coverage[0] == 1.0
    assert np.all(np.diff(trajectory.mass) < 0)
    assert np.all(np.diff(trajectory.coverage) <= 0)
    assert trajectory.mass[-1] >= 0.05
    assert trajectory.density[-1] > 3 * trajectory.density[0]


def test_box_statistics_count_the_draws_in_the_box():
    x, y = planted(2)
    box = peel(x, y).boxes[20]
    inside = box.contains(x)
    assert box.mass == pytest.approx(inside.mean())
    assert box.density == pytest.approx(y[inside].mean())
    assert box.coverage == pytest.approx(y[inside].sum() / y.sum())


def assert_same_trajectory(a, b):
    assert len(a.boxes) == len(b.boxes)
    for box_a, box_b in zip(a.boxes, b.boxes, strict=True):
        np.testing.assert_array_equal(box_a.low, box_b.low)
        np.testing.assert_array_equal(box_a.high, box_b.high)
        assert (box_a.coverage, box_a.density, box_a.mass) == pytest.approx(
            (box_b.coverage, box_b.density, box_b.mass)
        )


def test_duplicating_draws_equals_doubling_their_weight():
    x, y = planted(3, n=600)
    twice = np.random.default_rng(0).random(600) < 0.3
    weights = np.where(twice, 2.0, 1.0)
    duplicated = np.concatenate([np.arange(600), np.flatnonzero(twice)])
    assert_same_trajectory(peel(x, y, weights=weights), peel(x[duplicated], y[duplicated]))


def test_a_zero_weight_draw_is_a_removed_draw():
    x, y = planted(4, n=600)
    dropped = np.random.default_rng(1).random(600) < 0.3
    weighted = peel(x, y, weights=np.where(dropped, 0.0, 1.0))
    assert_same_trajectory(weighted, peel(x[~dropped], y[~dropped]))


def test_weights_move_the_box():
    """Cases with x2 >= 0.8 counting 1/20 each cap the box's x2 near 0.8."""
    x, y = planted(5)
    weights = np.where(y & (x[:, 2] >= 0.8), 0.05, 1.0)
    box = peel(x, y, weights=weights).select(min_density=0.8)
    assert box.restricted[2][1] < 0.85 < peel(x, y).select(min_density=0.8).restricted[2][1]


def test_pasting_widens_a_face_when_the_slab_beside_it_is_denser():
    """Cases fill the triangle x0 + x1 < 0.5. The box 0.1 <= x0 <= 0.4, x1 <= 0.15 clips a
    little of the triangle's edge (density about 0.97); the slab x0 < 0.1 is all cases."""
    rng = np.random.default_rng(6)
    x = rng.random((4000, 2))
    y = x.sum(axis=1) < 0.5
    full = peel(x, y).boxes[0]
    box = dataclasses.replace(full, low=np.array([0.1, -np.inf]), high=np.array([0.4, 0.15]))
    pasted = paste(x, y, box)
    assert pasted.low[0] < 0.1 and pasted.high[0] == 0.4 and pasted.high[1] == 0.15
    assert pasted.density > y[box.contains(x)].mean()
    assert np.all(pasted.contains(x)[box.contains(x)])


def test_select_refuses_an_unreachable_density():
    with pytest.raises(ValueError, match="no box reaches density"):
        peel(*planted(7)).select(min_density=1.01)


def test_describe_reads_the_box_in_words():
    box = Box(
        low=np.array([-np.inf, 0.25, -np.inf]),
        high=np.array([0.72, 0.5, np.inf]),
        coverage=0.8,
        density=0.91,
        mass=0.09,
    )
    assert describe(box, ["agent.m", "terminal.q", "z"]) == (
        "agent.m below 0.72 and terminal.q between 0.25 and 0.5: 80% of the missed futures "
        "(coverage), 91% of futures in the box miss (density), 9% of all futures (mass)"
    )


def test_describe_names_a_lower_bound_with_above():
    box = Box(np.array([0.6]), np.array([np.inf]), coverage=1.0, density=0.5, mass=0.4)
    assert describe(box, ["x"], cases="hits", verb="hit").startswith(
        "x above 0.6: 100% of the hits"
    )
