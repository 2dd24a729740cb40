"""What drives adoption in each population cell, and the one recipe that turns it into hazards.

Both engines build on this module: the vectorised core (:mod:`sim.engine.core`) with
``(agents x draws)`` arrays, the Mesa model (:mod:`sim.abm`) with one agent object at a time.

- :class:`Layout` (from :func:`layout`, in :mod:`sim.layout`): the cell structure of a population,
  shared by every chunk.
- :class:`CellParams`: a chunk's parameter sets turned into cell-level drivers: Bass rates and
  ceilings under the levers and shocks in force (:meth:`CellParams.levered`), the replacement
  hazard of device owners, complementarity and the adoption rule's own parameters.
- :func:`hazard`: the recipe. Peer influence, the adoption rule, device replacement and
  complementarity combined in one fixed order, on scalars (an agent) or arrays (cells or agents),
  so that a switch in ``rules`` reaches both engines or neither. Its two parts,
  :func:`cell_hazard` and :func:`agent_hazard`, are what the core's compiled month step splits
  between cells and agents.
- :class:`Recorder` and :class:`ChunkResult` (from :mod:`sim.recording`): adopted shares
  recorded as a run goes, in the shape :mod:`sim.results` reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim import rules, shocks
from sim.layout import ACCESS_YEAR, Layout, layout
from sim.population import FIRMS, PEOPLE, Population
from sim.recording import ChunkResult, Recorder
from sim.rules.compiled import jitable
from sim.spec import CHANNELS, METRICS, TECHS, Spec
from sim.vocab import SIZE_CLASSES


def lever_responses(spec: Spec, lay: Layout, t: float) -> NDArray[np.float64]:
    """Response of each lever in each cell at decimal year ``t``, shape (n_levers, n_cells).

    A cell's intensity is the lever's own (where its scope holds) plus that of every programme on
    the lever covering the cell; the diminishing-returns response applies to the sum. Before the
    first year of a lever's schedule its intensity is today's, 1.0 everywhere (the calibrated trend
    embodies current policy; :meth:`CellParams.levered` measures effects from it).
    """
    out = np.empty(lay.scope.shape)
    for li, lv in enumerate(spec.levers):
        tl = t - lv.lag
        today = lv.before_schedule(tl)
        own = lv.intensity(tl)
        scope = np.ones_like(lay.scope[li]) if today else lay.scope[li]
        progs = [j for j, pr in enumerate(spec.programmes) if pr.lever == lv.name]
        if progs:
            x = own * scope
            for j in progs:
                x = x + spec.programmes[j].intensity(tl) * lay.programme_scope[j]
            out[li] = rules.lever_response(x, spec.lever_curvature)
        else:
            # One intensity wherever the lever acts: its scalar response, masked by the scope.
            out[li] = rules.lever_response(own, spec.lever_curvature) * scope
    return out


class Params:
    """Parameter values of a chunk, by name: each a row of shape (1, n_draws)."""

    def __init__(self, names: tuple[str, ...], values: NDArray[np.float64]) -> None:
        self._cols = {n: values[None, :, j] for j, n in enumerate(names)}

    def __getitem__(self, name: str) -> NDArray[np.float64]:
        return self._cols[name]

    def get(self, name: str, default: float) -> NDArray[np.float64] | float:
        return self._cols.get(name, default)


def cell_p_factor(pop: Population, prm: Params) -> NDArray[np.float64]:
    """Relative innovation propensity of each cell, shape (n_cells, n_draws): sector digital
    propensity and size class for firms, age band and residence for people."""
    # Individual businesses take the micro firms' factor unless a prior of their own is given.
    micro = prm.get("firms.p_factor_micro", 1.0)
    size_f = np.vstack(
        [
            prm.get(f"firms.p_factor_{s}", micro if s == "individual" else 1.0)
            * np.ones_like(prm["agent.p"])
            for s in SIZE_CLASSES
        ]
    )
    f = np.where((pop.cell_size >= 0)[:, None], size_f[np.maximum(pop.cell_size, 0)], 1.0)
    f = f * np.where(pop.cell_age60[:, None], prm.get("people.p_factor_60plus", 1.0), 1.0)
    f = f * np.where(
        ((pop.cell_kind == PEOPLE) & ~pop.cell_urban)[:, None],
        prm.get("people.p_factor_rural", 1.0),
        1.0,
    )
    return f * pop.cell_sector_factor[:, None]


class CellParams:
    """Cell-level drivers of adoption for a set of draws, shared by both engines.

    Turns parameter sets into what the rules need at each cell: innovation factors, reachable
    shares, lever effects, shocks, device replacement, complementarity and the keyword parameters
    of the adoption rule. Arrays are (n_cells, n_draws); parameters (1, n_draws).

    Parameters
    ----------
    spec : Spec
    pop : Population
    lay : Layout
        From :func:`layout`.
    values : ndarray, shape (n_draws, n_params)
        Parameter sets in ``spec.param_names`` order.
    draws : ndarray of int, shape (n_draws,)
        The draws' indices (each draw samples its shocks from its own streams).
    """

    def __init__(
        self, spec: Spec, pop: Population, lay: Layout, values: NDArray, draws: NDArray
    ) -> None:
        self.spec, self.pop, self.lay = spec, pop, lay
        self.prm = prm = Params(spec.param_names, values)
        self.n_draws = n_d = values.shape[0]
        self.hazard_rule = rules.ADOPTION_RULES[spec.rules.adoption]
        #: Keyword parameters of the adoption rule, per technology (see :func:`rule_kwargs`).
        self.rule_kwargs = {tech: rule_kwargs(spec, prm, tech) for tech in TECHS}
        self.p_fac = cell_p_factor(pop, prm)
        self.firms = (pop.cell_kind == FIRMS)[:, None]
        # Only person cells' ceilings depend on internet access, and only those offline at the
        # start have a share online that moves: each month computes these rows alone.
        self._people = np.flatnonzero(pop.cell_kind != FIRMS)
        self._offline = np.flatnonzero(~pop.cell_internet & (pop.cell_kind != FIRMS))
        #: Offline route per technology, (1, n_draws): an offline person's ceiling relative to an
        #: online one's (people without own access reached through others' devices).
        self.offline = {t: prm.get(f"people.offline_ceiling_{t}", 1.0) for t in TECHS}
        #: Logit trend of internet access, 1/year, (1, n_draws).
        self.access_trend = prm.get("people.internet_trend", 0.0)
        #: Correlation of an agent's propensities for the two technologies, (n_draws,).
        self.correlation = np.broadcast_to(prm.get("joint.correlation", 0.0), (1, n_d))[0]
        self.effect = np.zeros((len(spec.levers), len(CHANNELS), n_d))
        for li, lv in enumerate(spec.levers):
            for ch in lv.channels:
                self.effect[li, CHANNELS.index(ch)] = prm[f"lever.{lv.name}.{ch}"][0]
        self.strength = (
            prm["complementarity"].astype(np.float32) if spec.rules.complementarity else None
        )
        #: Cells whose agents own a device to replace, shape (n_cells, 1) (none when
        #: ``rules.replacement`` is off).
        self.device = (pop.cell_device_owner & spec.rules.replacement)[:, None]
        self.repl = {
            "rate": prm["replacement.rate"],
            "mid": prm["replacement.ai_mid"],
            "slope": prm["replacement.ai_slope"],
            "top": prm["replacement.ai_max"],
        }
        # Shocks: each draw's own event history (None when no shock can happen), acting on rates.
        self.history = shocks.history(spec, np.asarray(draws))
        names = [lv.name for lv in spec.levers]
        self._i_compute, self._i_safety = names.index("compute"), names.index("safety")
        self._cache: dict[str, NDArray] = {}
        # Cells share a handful of starting access levels (a person group's): access is computed
        # once per level, by the same operations a cell's would be.
        self._levels, self._level_of = np.unique(lay.access0, return_inverse=True)
        self._access: tuple[float, tuple[NDArray, NDArray], NDArray] | None = None
        self._surge = (
            (prm["agent.surge_people"], prm["agent.surge_months"])
            if "agent.surge_people" in spec.param_names
            else None
        )

    def recipe(self, tech: str) -> dict:
        """Keyword settings of :func:`hazard` for ``tech``, in this chunk's (1, n_draws) rows:
        the adoption rule and its parameters, the peer-influence weights and, for agent use
        with ``rules.complementarity`` on, the complementarity strength (float32)."""
        r = self.spec.rules
        return {
            "rule": self.hazard_rule,
            "rule_kwargs": self.rule_kwargs[tech],
            "weights": {
                "w_segment": r.w_segment,
                "w_province": r.w_province,
                "w_network": r.w_network,
            },
            "strength": self.strength if tech == "agent" else None,
        }

    def replacement(self, t: float) -> NDArray[np.float64]:
        """Annual hazard of getting an AI terminal by replacing a device at decimal year ``t``,
        1/year, shape (n_cells, n_draws): 0 in cells without a device to replace and everywhere
        when ``rules.replacement`` is off."""
        return self.device * rules.replacement_hazard(t, **self.repl)

    def responses(self, t: float) -> NDArray[np.float64]:
        """Each lever's response in each cell at decimal year ``t``, (n_levers, n_cells)."""
        return lever_responses(self.spec, self.lay, t)

    def shock_state(self, step: int, resp: NDArray) -> shocks.ShockState | None:
        """Shock multipliers during month ``step`` under lever responses ``resp``, with the
        fitted 2025 surge (:func:`sim.rules.surge_multiplier`) on people's agent innovation rate."""
        state = None if self.history is None else self.history.state(step, resp[self._i_safety])
        if self._surge is None:
            return state
        t, dt = self.spec.time.t0 + step * self.spec.time.dt, self.spec.time.dt
        jump, months = self._surge
        people = (self.pop.cell_kind == PEOPLE)[:, None]
        surge = np.where(people, rules.surge_multiplier(t, dt, jump=jump, months=months), 1.0)
        if state is None:
            ones = np.ones(self.n_draws)
            return shocks.ShockState(agent_p=surge, agent_q=ones[None, :], compute=ones)
        return replace(state, agent_p=state.agent_p * surge)

    def lever_effects(self, resp: NDArray) -> tuple[NDArray, NDArray]:
        """Summed lever effects per channel, and the compute lever's share of them, each
        (n_channels, n_cells, n_draws), under lever responses ``resp`` (n_levers, n_cells)."""
        cache, effect = self._cache, self.effect
        if "resp" not in cache or not np.array_equal(cache["resp"], resp):
            # Cells share a handful of response patterns (a lever's scope is provinces or
            # sectors): each pattern is summed once, by the same operations a cell's would be.
            cols, where = np.unique(resp, axis=1, return_inverse=True)
            where = where.ravel()
            i_c = self._i_compute
            compute = (effect[i_c][:, None, :] * cols[i_c][None, :, None])[:, where]
            cache.update(resp=resp, eff=self._summed(cols)[:, where], compute=compute)
            cache.pop("levered", None)
        return cache["eff"], cache["compute"]

    def _summed(self, resp: NDArray) -> NDArray[np.float64]:
        """Lever effects summed over levers, (n_channels, n_cells, n_draws), under ``resp``."""
        eff = np.zeros((len(CHANNELS), resp.shape[1], self.n_draws))
        for li in np.flatnonzero(resp.any(axis=1)):
            eff += self.effect[li][:, None, :] * resp[li][None, :, None]
        return eff

    def levered(
        self, resp: NDArray, shock: shocks.ShockState | None = None
    ) -> dict[str, tuple[NDArray, NDArray, NDArray]]:
        """(p, q, m) per technology, each (n_cells, n_draws), under lever responses ``resp``
        (n_levers, n_cells) and the multipliers of the shocks in force.

        The arrays returned may be shared with later calls: read them, never write to them.
        """
        eff, compute = self.lever_effects(resp)
        cut = shock is not None and bool(np.any(shock.compute != 1.0))
        if cut:
            # A compute supply shock cuts the compute lever's effects (by nothing, exactly, in
            # draws without one).
            out = self._levered(eff - (1.0 - shock.compute) * compute)
        else:
            # Without a compute shock the levers' part is the same all the while the responses
            # are (the 2025 surge changes the shock state every month of its course).
            if "levered" not in self._cache:
                self._cache["levered"] = self._levered(eff)
            out = self._cache["levered"]
        if shock is not None:
            p, q, m = out["agent"]
            out = {**out, "agent": (p * shock.agent_p, q * shock.agent_q, m)}
        return out

    def _levered(self, eff: NDArray) -> dict[str, tuple[NDArray, NDArray, NDArray]]:
        """(p, q, m) per technology under summed lever effects ``eff`` (n_channels, n_cells,
        n_draws), before shocks."""
        # Today's summed effects, every lever at response 1, (n_channels, 1, n_draws): summed in
        # the same order as ``eff``, so levers at today's intensities leave p, q, m exactly as is.
        if "today" not in self._cache:
            self._cache["today"] = self._summed(np.ones((len(self.spec.levers), 1)))
        today = self._cache["today"]
        out = {}
        for tech in TECHS:
            # Firms have their own diffusion parameters; people's ceiling m is a share of the
            # whole population (see :meth:`ceilings` for who can reach it).
            # The parameters are today's: they embody current policy (response 1 everywhere), so
            # the levers act by their deviation from it.
            base = {k: self.by_kind(tech, k) for k in ("p", "q", "m")}
            i_p, i_q, i_m = (CHANNELS.index(f"{tech}.{c}") for c in ("p", "q", "ceiling"))
            p = rules.scale_rate(base["p"] * self.p_fac, eff[i_p], today[i_p])
            q = rules.scale_rate(base["q"], eff[i_q], today[i_q])
            m = rules.raise_ceiling(base["m"], eff[i_m], today[i_m])
            out[tech] = (p, q, m)
        return out

    def by_kind(self, tech: str, name: str) -> NDArray[np.float64]:
        """Parameter ``TECH.NAME`` in person cells and ``TECH.NAME_firms`` in firm cells,
        (n_cells, n_draws) (a firm parameter without a prior takes the people's value)."""
        prm = self.prm
        people = prm[f"{tech}.{name}"]
        return np.where(self.firms, prm.get(f"{tech}.{name}_firms", people), people)

    def access(self, t: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Internet access at decimal year ``t``: of each cell's group (n_cells, n_draws; 1 for
        firms) and of the whole population (1, n_draws). The last time's values are kept:
        a month asks for them for its ceilings and its online shares."""
        return self._access_at(t)[0]

    def _access_at(
        self, t: float
    ) -> tuple[tuple[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]:
        """:meth:`access` at ``t``, and the access of each starting level (n_levels, n_draws)."""
        if self._access is not None and self._access[0] == t:
            return self._access[1:]
        by_level = rules.internet_access(
            np.minimum(self._levels, 1.0 - 1e-12)[:, None],
            self.access_trend,
            t - ACCESS_YEAR,
        )
        a = np.where(self.firms, 1.0, by_level[self._level_of])
        out = a, (self.lay.person_share @ a)[None, :] if self.lay.has_people else a[:1]
        self._access = (t, out, by_level)
        return out, by_level

    def online_share(self, t: float) -> NDArray[np.float64]:
        """Share of each cell's agents online at decimal year ``t``, (n_cells, n_draws): 1 in
        cells online at the start and in firm cells; in offline cells the share of the group's
        offline that has come online since :data:`sim.layout.ACCESS_YEAR`. A person agent of an
        offline cell is online while its latent online rank is below it."""
        _, by_level = self._access_at(t)
        since = rules.online_since(self._levels[:, None], by_level)
        out = np.ones((self.pop.n_cells, self.n_draws))
        out[self._offline] = since[self._level_of[self._offline]]
        return out

    def ceilings(
        self, pqm: Mapping[str, tuple[NDArray, NDArray, NDArray]], t: float
    ) -> dict[str, tuple[NDArray, NDArray, NDArray]]:
        """Ceilings at decimal year ``t`` per technology, each (n_cells, n_draws): the market
        potential in the hazard (the population ceiling ``min(m, a + (1 - a) o)`` for people,
        ``m`` for firms), and the latent-rank ceiling of an online and of an offline agent
        (``min(1, m / (a + (1 - a) o))`` and ``o`` times it for people, ``m`` for firms)."""
        _, a_nat = self.access(t)
        people = self._people
        out = {}
        for tech in TECHS:
            m, o = pqm[tech][2], self.offline[tech]
            m_people = m[people]
            on_people = rules.online_ceiling(m_people, a_nat, o)
            pop_c, on, off = m.copy(), m.copy(), m.copy()
            pop_c[people] = rules.population_ceiling(m_people, a_nat, o)
            on[people] = on_people
            off[people] = on_people * o
            out[tech] = (pop_c, on, off)
        return out

    def start_share(self, tech: str, m: NDArray) -> NDArray[np.float64]:
        """Share of each cell's agents that has adopted ``tech`` at the start, (n_cells, n_draws).

        The kind's starting share s0 is spread in proportion to each cell's ceiling ``m``, so the
        weighted share equals s0 and no cell starts above its ceiling.
        """
        pop, prm = self.pop, self.prm
        w_kind = (
            pop.cell_weight[:, METRICS.index("population")]
            + pop.cell_weight[:, METRICS.index("firms")]
        )[:, None]
        firms = (pop.cell_kind == FIRMS)[:, None]
        m_mean = np.where(
            firms,
            *(
                (w_kind * m * sel).sum(axis=0) / (w_kind * sel).sum(axis=0).clip(1e-300)
                for sel in (firms, ~firms)
            ),
        )
        s0 = np.where(firms, prm[f"{tech}.s0_firms"], prm[f"{tech}.s0_people"])
        return np.minimum(s0 * m / m_mean, m)

    def events(self) -> NDArray[np.bool_] | None:
        """Shock onsets for :class:`ChunkResult`, (n_draws, n_shocks, n_steps), or None."""
        return None if self.history is None else self.history.onset.transpose(2, 0, 1)


def rule_kwargs(spec: Spec, prm: Params, tech: str) -> dict[str, NDArray[np.float64]]:
    """Keyword parameters of the configured adoption rule for ``tech``: each keyword-only
    argument ``NAME`` takes the parameter ``TECH.NAME`` if there is one, else ``adoption.NAME``."""
    names = set(spec.param_names)
    return {
        k: prm[f"{tech}.{k}"] if f"{tech}.{k}" in names else prm[f"adoption.{k}"]
        for k in rules.rule_parameters(spec.rules.adoption)
    }


def cell_hazard(
    p: ArrayLike,
    q: ArrayLike,
    m: ArrayLike,
    s_segment: ArrayLike,
    s_province: ArrayLike,
    s_network: ArrayLike = 0.0,
    *,
    rule: Callable[..., NDArray],
    rule_kwargs: Mapping[str, ArrayLike],
    weights: Mapping[str, float],
    replacement: ArrayLike = 0.0,
) -> NDArray[np.floating]:
    """The recipe's first part, alike for every adopter of a cell without a peer network: peer
    influence from the adopted shares around the adopter (:func:`sim.rules.peer_influence`), the
    configured adoption rule on it, plus the replacement hazard of device owners (terminals
    only). Arguments as in :func:`hazard`; returns the hazard before complementarity, 1/year."""
    influence = rules.peer_influence(s_segment, s_province, s_network, **weights)
    return rule(p, q, influence, m, **rule_kwargs) + replacement


@jitable
def agent_hazard(h: ArrayLike, has_terminal: ArrayLike, strength: ArrayLike) -> NDArray:
    """The recipe's last part, per adopter: the hazard ``h`` of :func:`cell_hazard` times the
    complementarity factor of terminal owners (:func:`sim.rules.complement_multiplier`;
    ``strength`` 0 where complementarity does not apply). Compiled in the core's month step
    (:func:`sim.rules.compiled.jitable`)."""
    return h * rules.complement_multiplier(has_terminal, strength)


def hazard(
    p: ArrayLike,
    q: ArrayLike,
    m: ArrayLike,
    s_segment: ArrayLike,
    s_province: ArrayLike,
    s_network: ArrayLike = 0.0,
    *,
    rule: Callable[..., NDArray],
    rule_kwargs: Mapping[str, ArrayLike],
    weights: Mapping[str, float],
    replacement: ArrayLike = 0.0,
    has_terminal: ArrayLike = False,
    strength: ArrayLike | None = None,
) -> NDArray[np.floating]:
    """Annual adoption hazard of a potential adopter: the recipe both engines follow.

    In this order: peer influence from the adopted shares around the adopter
    (:func:`sim.rules.peer_influence`), the configured adoption rule on it, plus the replacement
    hazard of device owners (terminals only), then the complementarity factor of terminal owners
    (agent use only, :func:`sim.rules.complement_multiplier`). Levers and shocks act earlier,
    on ``p``, ``q`` and ``m`` (:meth:`CellParams.levered`). The first three steps are
    :func:`cell_hazard`, the last :func:`agent_hazard`: the vectorised core runs the first on
    cells (or, with a peer network, on agents) and the second, compiled, in its month step.

    Arguments broadcast together: a Mesa agent passes scalars; arrays work alike.

    Parameters
    ----------
    p, q : array_like
        Coefficients of innovation and imitation, 1/year, under the levers and shocks in force.
    m : array_like
        Ceiling (market potential), in (0, 1].
    s_segment, s_province, s_network : array_like
        Adopted shares in [0, 1] in the adopter's segment, among same-kind agents of its province,
        and among its network neighbours.
    rule : callable
        Adoption rule ``rule(p, q, influence, m, **rule_kwargs)``
        (:data:`sim.rules.ADOPTION_RULES`).
    rule_kwargs : mapping of str to array_like
        The rule's own parameters.
    weights : mapping of str to float
        Peer-influence weights ``w_segment``, ``w_province`` and ``w_network``, summing to 1.
    replacement : array_like, optional
        Replacement hazard, 1/year (:meth:`CellParams.replacement`); 0 for agent use.
    has_terminal : array_like of bool or {0, 1}, optional
        Whether the adopter owns an AI terminal, always per adopter.
    strength : array_like, optional
        Complementarity strength; None when complementarity does not apply.

    Returns
    -------
    ndarray or scalar
        Hazard, 1/year, >= 0.

    References
    ----------
    .. [1] Bass, F. M. (1969). Management Science 15(5), 215-227.
    .. [2] Van den Bulte, C. and Stremersch, S. (2004). Marketing Science 23(4), 530-544.
    .. [3] Milgrom, P. and Roberts, J. (1990). American Economic Review 80(3), 511-528.
    """
    h = cell_hazard(
        p,
        q,
        m,
        s_segment,
        s_province,
        s_network,
        rule=rule,
        rule_kwargs=rule_kwargs,
        weights=weights,
        replacement=replacement,
    )
    return h if strength is None else agent_hazard(h, has_terminal, strength)


__all__ = [
    "CellParams",
    "ChunkResult",
    "Layout",
    "Recorder",
    "agent_hazard",
    "cell_hazard",
    "hazard",
    "layout",
]
