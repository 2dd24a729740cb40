"""The behavioural rules, checked against independent derivations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from sim import rules


def test_bass_hazard_is_p_plus_q_times_influence_over_ceiling():
    assert rules.bass_hazard(0.03, 0.4, 0.2, 0.8) == pytest.approx(0.03 + 0.4 * 0.2 / 0.8)


def test_rules_accept_scalars_and_arrays_alike():
    h = rules.bass_hazard(np.array([0.01, 0.02]), 0.3, np.array([[0.1], [0.5]]), 0.9)
    assert h.shape == (2, 2)
    assert h[1, 0] == pytest.approx(rules.bass_hazard(0.01, 0.3, 0.5, 0.9))


def test_closed_form_bass_share_solves_the_bass_ode():
    p, q, m = 0.02, 0.45, 0.7
    sol = solve_ivp(
        lambda t, n: (p + q * n / m) * (m - n),
        (0, 10),
        [0.0],
        dense_output=True,
        rtol=1e-10,
        atol=1e-12,
    )
    t = np.linspace(0, 10, 41)
    np.testing.assert_allclose(rules.bass_share(t, p, q, m), sol.sol(t)[0], atol=1e-7)


def test_exp_threshold_rule_matches_per_step_probability():
    """Adopting when the integrated hazard passes an Exp(1) threshold gives the survival
    function exp(-h t) of a constant hazard h, i.e. 1 - exp(-h dt) per step."""
    rng = np.random.default_rng(1)
    n, h, dt = 200_000, 0.6, 1 / 12
    threshold = rng.standard_exponential(n)
    cum = np.zeros(n)
    for _ in range(6):
        cum = rules.accumulate_hazard(cum, h, dt, True)
    share = rules.has_adopted(cum, threshold).mean()
    expected = 1 - (1 - rules.step_probability(h, dt)) ** 6
    assert share == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / n))
    assert expected == pytest.approx(1 - np.exp(-h * 0.5))


def test_inactive_agents_accumulate_no_hazard():
    cum = rules.accumulate_hazard(np.zeros(3), 1.0, 0.5, np.array([True, False, True]))
    np.testing.assert_array_equal(cum, [0.5, 0.0, 0.5])


def test_peer_influence_is_the_weighted_share():
    assert rules.peer_influence(
        0.2, 0.6, 1.0, w_segment=0.5, w_province=0.25, w_network=0.25
    ) == pytest.approx(0.1 + 0.15 + 0.25)


def test_peer_influence_broadcasts_against_network_shares_even_at_weight_zero():
    """A network weight of 0 leaves the network's term out but keeps the shape its shares give:
    a caller that passes one share per agent gets one influence per agent."""
    out = rules.peer_influence(0.2, 0.6, np.ones(3), w_segment=0.5, w_province=0.5, w_network=0.0)
    np.testing.assert_allclose(out, [0.4, 0.4, 0.4])


def test_complementarity_raises_only_owners_hazard():
    f = rules.complement_multiplier(np.array([0.0, 1.0]), 0.5)
    np.testing.assert_allclose(f, [1.0, 1.5])


def test_lever_response_is_zero_then_one_and_concave():
    x = np.array([0.0, 0.5, 1.0, 2.0])
    r = rules.lever_response(x, 1.0)
    assert r[0] == 0.0 and r[2] == pytest.approx(1.0)
    assert r[3] < 2 * r[2] and r[1] > 0.5  # diminishing returns
    assert np.all(np.diff(r) > 0)


def test_raised_ceiling_stays_between_m_and_one():
    m = rules.raise_ceiling(0.7, np.array([0.0, 0.5, 50.0]))
    assert m[0] == pytest.approx(0.7) and 0.7 < m[1] < 1.0 and m[2] == pytest.approx(1.0)


def test_replacement_hazard_is_rate_times_ai_share_of_new_devices():
    h = rules.replacement_hazard(2026.5, rate=0.25, mid=2026.5, slope=1.0, top=0.9)
    assert h == pytest.approx(0.25 * 0.45)
    assert rules.ai_share_of_new_devices(2040.0, mid=2026.5, slope=1.0, top=0.9) < 0.9


LOGIT = {"cost": 1.2, "scale": 0.5}


def test_logit_subsidy_rule_is_the_bass_rule_without_subsidy():
    p, q = np.array([0.01, 0.05]), 0.4
    infl, m = np.array([[0.1], [0.6]]), 0.8
    np.testing.assert_array_equal(
        rules.logit_subsidy_hazard(p, q, infl, m, subsidy=0.0, **LOGIT),
        rules.bass_hazard(p, q, infl, m),
    )


def test_logit_subsidy_rule_scales_the_contact_rate_by_the_logit_choice_odds():
    """Independent of the code: with cost c, scale s and subsidy x the acceptance probability is
    1 / (1 + exp(-(1 - c (1 - x)) / s)), relative to its value at x = 0."""
    c, s, x = LOGIT["cost"], LOGIT["scale"], 0.5
    accept = 1 / (1 + np.exp(-(1 - c * (1 - x)) / s))
    base = 1 / (1 + np.exp(-(1 - c) / s))
    h = rules.logit_subsidy_hazard(0.03, 0.4, 0.2, 0.8, subsidy=x, **LOGIT)
    assert h == pytest.approx((0.03 + 0.4 * 0.2 / 0.8) * accept / base)


def test_logit_subsidy_rule_rises_with_the_subsidy_up_to_a_bound():
    x = np.linspace(0.0, 1.0, 11)
    h = rules.logit_subsidy_hazard(0.03, 0.4, 0.2, 0.8, subsidy=x, **LOGIT)
    assert np.all(np.diff(h) > 0)
    # Whole cost paid: acceptance 1 / (1 + exp(-1 / s)); never above 1, hence the bound.
    base = 1 / (1 + np.exp(-(1 - 1.2) / 0.5))
    bass = rules.bass_hazard(0.03, 0.4, 0.2, 0.8)
    assert h[-1] == pytest.approx(bass / (1 + np.exp(-1 / 0.5)) / base)
    assert h[-1] < bass / base


def test_rule_parameters_are_the_rules_keyword_only_arguments():
    assert rules.rule_parameters("bass") == ()
    assert set(rules.rule_parameters("logit_subsidy")) == {"cost", "scale", "subsidy"}


def test_levers_at_todays_effect_leave_the_calibrated_parameters_exactly():
    """The calibrated p, q and m embody today's levers: the same summed effect changes nothing
    (bit for bit); a smaller one (support withdrawn) lowers them, a larger one raises them."""
    today = np.array([0.3])
    assert rules.scale_rate(0.02, today, today)[0] == 0.02
    assert rules.raise_ceiling(0.37, today, today)[0] == 0.37
    assert rules.scale_rate(0.02, 0.0, today)[0] == pytest.approx(0.02 / 1.3)
    assert rules.scale_rate(0.02, 0.6, today)[0] > 0.02
    # Withdrawn: the gap to 1 widens by exp(effect), the ceiling stays at least 0.
    assert rules.raise_ceiling(0.37, 0.0, today)[0] == pytest.approx(1 - 0.63 * np.exp(0.3))
    assert rules.raise_ceiling(0.1, 0.0, np.array([5.0]))[0] == 0.0
    assert 0.37 < rules.raise_ceiling(0.37, 0.6, today)[0] < 1.0
