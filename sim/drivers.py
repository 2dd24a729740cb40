"""What drives adoption in each population cell, and the one recipe that turns it into hazards.

Both engines build on this module: the vectorised core (:mod:`sim.engine.core`) with
``(agents x draws)`` arrays, the Mesa model (:mod:`sim.abm`) with one agent object at a time.

- :class:`Layout` (from :func:`layout`): the cell structure of a population, shared by every chunk.
- :class:`CellParams`: a chunk's parameter sets turned into cell-level drivers: Bass rates and
  ceilings under the levers and shocks in force (:meth:`CellParams.levered`), the replacement
  hazard of device owners, complementarity and the adoption rule's own parameters.
- :func:`hazard`: the recipe. Peer influence, the adoption rule, device replacement and
  complementarity combined in one fixed order, on scalars (an agent) or arrays (cells or agents),
  so that a switch in ``rules`` reaches both engines or neither.
- :class:`Recorder` and :class:`ChunkResult`: adopted shares recorded as a run goes, in the
  shape :mod:`sim.results` reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from sim import rules, shocks
from sim.population import FIRMS, PEOPLE, Population, scope_mask
from sim.spec import CHANNELS, METRICS, TECHS, Spec
from sim.vocab import SIZE_CLASSES


@dataclass(frozen=True)
class ChunkResult:
    """Outputs of one chunk of draws.

    Attributes
    ----------
    draws : ndarray of int, shape (n,)
    share : ndarray, shape (n, n_times, 3, 4)
        National adopted share by time, technology (terminal, agent, any) and metric.
    share_province : ndarray, shape (n, n_years, 3, 4, n_provinces)
    share_sector : ndarray, shape (n, n_years, 3, 4, n_sectors)
        By province and sector at the end of each report year; NaN where a metric does not count
        any agent of the group (people in sectors). None once dropped by ``mc.keep``.
    """

    draws: NDArray[np.int64]
    share: NDArray[np.float32]
    share_province: NDArray[np.float32] | None
    share_sector: NDArray[np.float32] | None
    #: Shock onsets, shape (n, n_shocks, n_steps); None when no shock can happen.
    events: NDArray[np.bool_] | None = None


def _group_matrix(index: NDArray[np.intp], weight: NDArray[np.float64]) -> NDArray[np.float64]:
    """(n_cells, n_groups) matrix turning cell shares into weighted group shares."""
    g = np.zeros((index.size, index.max() + 1))
    g[np.arange(index.size), index] = weight
    totals = g.sum(axis=0)
    return g / np.where(totals > 0, totals, 1.0)


def _metric_matrix(weight: NDArray[np.float64], groups: NDArray[np.intp], n_groups: int):
    """(n_cells, n_metrics * n_groups) weights turning cell shares into group shares per metric;
    columns with no weight give NaN."""
    n_cells, n_m = weight.shape
    g = np.zeros((n_cells, n_m, n_groups))
    valid = groups >= 0
    g[np.nonzero(valid)[0], :, groups[valid]] = weight[valid]
    totals = g.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (g / totals).reshape(n_cells, -1), totals.reshape(-1) > 0


@dataclass(frozen=True, eq=False)
class Layout:
    """Cell structure of a population and spec, derived once and shared by every chunk of a run.

    Sparse products sum each output column in a fixed order, whatever the number of draws
    (columns), so a draw's numbers do not depend on its chunk; dense BLAS products may.

    Attributes
    ----------
    count : scipy.sparse.csr_matrix, shape (n_cells, n_agents), float32
        Agent -> cell indicator: ``count @ adopted`` counts adopters per cell.
    seg, prov : scipy.sparse.csr_matrix, shape (n_segments, n_cells) and (n_groups, n_cells)
        Weighted averaging of cell shares over each peer segment, and over the same-kind cells of
        each province; ``seg_of`` and ``prov_of`` (n_cells,) index each cell's segment and group.
    national : scipy.sparse.csr_matrix, shape (n_metrics, n_cells)
        Cell shares -> national shares, per metric; ``agent_national`` (n_metrics, n_agents,
        float32) the same from agent states.
    province, sector : scipy.sparse.csr_matrix, shape (n_metrics * n_provinces, n_cells) and
        (n_metrics * n_sectors, n_cells)
        Cell shares -> shares by province and by sector; ``province_ok`` and ``sector_ok`` are
        False where a metric counts nobody in the group.
    scope : ndarray, shape (n_levers, n_cells)
        1 where each lever acts, else 0; ``programme_scope`` (n_programmes, n_cells) the same
        for programmes.
    """

    count: sparse.csr_matrix
    seg: sparse.csr_matrix
    seg_of: NDArray[np.intp]
    prov: sparse.csr_matrix
    prov_of: NDArray[np.intp]
    national: sparse.csr_matrix
    agent_national: sparse.csr_matrix
    province: sparse.csr_matrix
    province_ok: NDArray[np.bool_]
    sector: sparse.csr_matrix
    sector_ok: NDArray[np.bool_]
    scope: NDArray[np.float64]
    programme_scope: NDArray[np.float64]


def layout(spec: Spec, pop: Population) -> Layout:
    """Precompute the cell structure of ``pop`` that every chunk of a run shares."""
    w_peer = (
        pop.cell_weight[:, METRICS.index("population")] + pop.cell_weight[:, METRICS.index("firms")]
    )
    prov_key = pop.cell_kind.astype(np.intp) * len(pop.provinces) + pop.cell_province
    _, prov_of = np.unique(prov_key, return_inverse=True)
    province, province_ok = _metric_matrix(pop.cell_weight, pop.cell_province, len(pop.provinces))
    sector, sector_ok = _metric_matrix(pop.cell_weight, pop.cell_sector, len(pop.sectors))
    n = pop.n_agents
    national = pop.cell_weight / pop.cell_weight.sum(axis=0)
    return Layout(
        count=sparse.csr_matrix(
            (np.ones(n, dtype=np.float32), (pop.agent_cell, np.arange(n))),
            shape=(pop.n_cells, n),
        ),
        seg=sparse.csr_matrix(_group_matrix(pop.cell_segment, w_peer).T),
        seg_of=pop.cell_segment,
        prov=sparse.csr_matrix(_group_matrix(prov_of, w_peer).T),
        prov_of=prov_of,
        national=sparse.csr_matrix(national.T),
        agent_national=sparse.csr_matrix(
            (national / pop.cell_n[:, None])[pop.agent_cell].T.astype(np.float32)
        ),
        province=sparse.csr_matrix(np.nan_to_num(province).T),
        province_ok=province_ok,
        sector=sparse.csr_matrix(np.nan_to_num(sector).T),
        sector_ok=sector_ok,
        scope=np.array([scope_mask(lv.scope, pop) for lv in spec.levers], dtype=np.float64),
        programme_scope=np.array(
            [scope_mask(pr.scope, pop) for pr in spec.programmes], dtype=np.float64
        ).reshape(len(spec.programmes), pop.n_cells),
    )


#: Intensity of every lever today (current policy), the reference of the calibrated trend.
TODAY = 1.0


def _lever_intensity(lv, t: float) -> float:
    """The lever's own intensity at decimal year ``t``: today's (:data:`TODAY`) before the first
    year its schedule lists, the schedule's from then on."""
    if not lv.schedule or t < min(y for y, _ in lv.schedule):
        return TODAY
    return float(lv.intensity(t))


def lever_responses(spec: Spec, lay: Layout, t: float) -> NDArray[np.float64]:
    """Each lever's response in each cell at decimal year ``t`` beyond today's, shape
    (n_levers, n_cells).

    Current policy is inside the calibrated trend: the base diffusion priors, and the calibration,
    rest on 2024-2025 data that already contain it. A lever's intensity is therefore read as a
    deviation from today (1.0): the response is ``r(x) - r(1)``, zero at today's intensity,
    negative where support is withdrawn (``levers=none``: "support withdrawn"). Before the first
    year of its schedule, and outside its scope, a lever stays at today's intensity. A cell's
    intensity is the lever's own plus that of every programme on the lever covering the cell; the
    diminishing-returns response applies to the sum.
    """
    out = np.empty(lay.scope.shape)
    today = rules.lever_response(TODAY, spec.lever_curvature)
    for li, lv in enumerate(spec.levers):
        tl = t - lv.lag
        x = np.where(lay.scope[li] > 0, _lever_intensity(lv, tl), TODAY)
        for j, pr in enumerate(spec.programmes):
            if pr.lever == lv.name:
                x = x + pr.intensity(tl) * lay.programme_scope[j]
        out[li] = rules.lever_response(x, spec.lever_curvature) - today
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


def cell_ceiling_factor(pop: Population, prm: Params, tech: str) -> NDArray[np.float64]:
    """Share of a cell's agents that the technology can reach at all, shape (n_cells, n_draws):
    people without internet access are reached only through shared or embedded devices."""
    offline = (pop.cell_kind == PEOPLE) & ~pop.cell_internet
    return np.where(offline[:, None], prm.get(f"people.offline_ceiling_{tech}", 1.0), 1.0)


#: Decimal year the fitted 2025 surge starts (January 2025: DeepSeek-R1's release, 20 Jan 2025).
SURGE_START = 2025.0


def surge_multiplier(
    t: float, dt: float, *, jump: NDArray[np.float64], months: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Multiplier on people's agent innovation rate during the month starting at decimal year
    ``t``: ``1 + jump x f``, ``f`` the share of the month inside the surge, which lasts ``months``
    months from :data:`SURGE_START`. A regime change whose size and width are parameters
    (``agent.surge_people``, ``agent.surge_months``) that calibration learns from the CNNIC series
    (17.7% of the population at end 2024, 36.5% by June 2025, 42.8% by December), in place of a
    scripted pulse of random size; people only, since no surge among firms was observed.

    ``jump`` and ``months`` have shape (1, n_draws); returns the same shape.
    """
    end = SURGE_START + months / 12.0
    inside = np.clip((np.minimum(end, t + dt) - max(t, SURGE_START)) / dt, 0.0, 1.0)
    return 1.0 + jump * inside


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
        self.ceil_fac = {t: cell_ceiling_factor(pop, prm, t) for t in TECHS}
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
        fitted 2025 surge (:func:`surge_multiplier`) on people's agent innovation rate."""
        # Incidents are mitigated by the safety lever's whole response (today's included).
        safety = resp[self._i_safety] + 1.0
        state = None if self.history is None else self.history.state(step, safety)
        if self._surge is None:
            return state
        t, dt = self.spec.time.t0 + step * self.spec.time.dt, self.spec.time.dt
        jump, months = self._surge
        people = (self.pop.cell_kind == PEOPLE)[:, None]
        surge = np.where(people, surge_multiplier(t, dt, jump=jump, months=months), 1.0)
        if state is None:
            ones = np.ones(self.n_draws)
            return shocks.ShockState(agent_p=surge, agent_q=ones[None, :], compute=ones)
        return replace(state, agent_p=state.agent_p * surge)

    def lever_effects(self, resp: NDArray) -> tuple[NDArray, NDArray]:
        """Summed lever effects per channel, and the compute lever's share of them, each
        (n_channels, n_cells, n_draws), under lever responses ``resp`` (n_levers, n_cells)."""
        cache, effect = self._cache, self.effect
        if "resp" not in cache or not np.array_equal(cache["resp"], resp):
            eff = np.zeros((len(CHANNELS), self.pop.n_cells, self.n_draws))
            for li in np.flatnonzero(resp.any(axis=1)):
                eff += effect[li][:, None, :] * resp[li][None, :, None]
            i_c = self._i_compute
            # A compute supply shock cuts the compute lever's whole effect, today's included.
            compute = effect[i_c][:, None, :] * (resp[i_c] + 1.0)[None, :, None]
            cache.update(resp=resp, eff=eff, compute=compute)
        return cache["eff"], cache["compute"]

    def levered(
        self, resp: NDArray, shock: shocks.ShockState | None = None
    ) -> dict[str, tuple[NDArray, NDArray, NDArray]]:
        """(p, q, m) per technology, each (n_cells, n_draws), under lever responses ``resp``
        (n_levers, n_cells) and the multipliers of the shocks in force."""
        prm = self.prm
        eff, compute = self.lever_effects(resp)
        if shock is not None:
            # A compute supply shock cuts the compute lever's effects (by nothing, exactly, in
            # draws without one).
            eff = eff - (1.0 - shock.compute) * compute
        out = {}
        for tech in TECHS:
            p = rules.scale_rate(prm[f"{tech}.p"] * self.p_fac, eff[CHANNELS.index(f"{tech}.p")])
            q = rules.scale_rate(prm[f"{tech}.q"], eff[CHANNELS.index(f"{tech}.q")])
            m = rules.raise_ceiling(prm[f"{tech}.m"], eff[CHANNELS.index(f"{tech}.ceiling")])
            if shock is not None and tech == "agent":
                p, q = p * shock.agent_p, q * shock.agent_q
            out[tech] = (p, q, m * self.ceil_fac[tech])
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


class Recorder:
    """Adopted shares recorded as a run goes: nationally every month, and by province and sector
    at the end of each target year. Both engines fill one and hand back its :meth:`result`."""

    def __init__(self, spec: Spec, pop: Population, lay: Layout, n_draws: int) -> None:
        self.lay = lay
        years = sorted({t.year for t in spec.targets})
        self.year_step = {spec.time.step_of_year_end(y): j for j, y in enumerate(years)}
        self.n_p, self.n_s, self.n_m = len(pop.provinces), len(pop.sectors), len(METRICS)
        n_d, n_p, n_s, n_m = n_draws, self.n_p, self.n_s, self.n_m
        self.cell_n = pop.cell_n
        self.share = np.empty((n_d, spec.time.n_steps + 1, 3, n_m), dtype=np.float32)
        self.share_prov = np.full((n_d, len(years), 3, n_m, n_p), np.nan, dtype=np.float32)
        self.share_sect = np.full((n_d, len(years), 3, n_m, n_s), np.nan, dtype=np.float32)
        self.prov_ok = lay.province_ok.reshape(n_m, n_p, 1)
        self.sect_ok = lay.sector_ok.reshape(n_m, n_s, 1)

    def record(self, step: int, s_cell: NDArray, either: NDArray) -> None:
        """Store national shares (and by province and sector at target-year ends).

        Parameters
        ----------
        step : int
            Index of the state: 0 the start, ``i`` the end of the i-th simulated month.
        s_cell : ndarray, shape (2, n_cells, n_draws)
            Adopted share of each technology in each cell.
        either : ndarray of {0, 1}, shape (n_agents, n_draws), float32
            Whether each agent has adopted either technology.
        """
        lay, n_m, n_p, n_s = self.lay, self.n_m, self.n_p, self.n_s
        n_d = either.shape[1]
        self.share[:, step, :2] = np.stack([lay.national @ s for s in s_cell]).transpose(2, 0, 1)
        self.share[:, step, 2] = (lay.agent_national @ either).T
        if step in self.year_step:
            j = self.year_step[step]
            s3 = np.concatenate([s_cell, (lay.count @ either / self.cell_n[:, None])[None]])
            prov = np.stack([lay.province @ s for s in s3]).reshape(3, n_m, n_p, n_d)
            sect = np.stack([lay.sector @ s for s in s3]).reshape(3, n_m, n_s, n_d)
            self.share_prov[:, j] = np.where(self.prov_ok, prov, np.nan).transpose(3, 0, 1, 2)
            self.share_sect[:, j] = np.where(self.sect_ok, sect, np.nan).transpose(3, 0, 1, 2)

    def result(self, draws: NDArray, events: NDArray[np.bool_] | None = None) -> ChunkResult:
        return ChunkResult(
            np.asarray(draws, dtype=np.int64),
            self.share,
            self.share_prov,
            self.share_sect,
            events,
        )


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
    gather: Callable[[NDArray], NDArray] | None = None,
    out: NDArray | None = None,
) -> NDArray[np.floating]:
    """Annual adoption hazard of a potential adopter: the recipe both engines follow.

    In this order: peer influence from the adopted shares around the adopter
    (:func:`sim.rules.peer_influence`), the configured adoption rule on it, plus the replacement
    hazard of device owners (terminals only), then the complementarity factor of terminal owners
    (agent use only, :func:`sim.rules.complement_multiplier`). Levers and shocks act earlier,
    on ``p``, ``q`` and ``m`` (:meth:`CellParams.levered`).

    Arguments broadcast together: a Mesa agent passes scalars; the vectorised core passes cell
    values ``(n_cells, n_draws)`` with ``gather``, or agent values ``(n_agents, n_draws)``.

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
    gather : callable, optional
        Maps the hazard before complementarity from cells to agents.
    out : ndarray, optional
        Where to write the complementarity factor.

    Returns
    -------
    ndarray or scalar
        Hazard, 1/year, >= 0; per agent when ``gather`` is given.

    References
    ----------
    .. [1] Bass, F. M. (1969). Management Science 15(5), 215-227.
    .. [2] Van den Bulte, C. and Stremersch, S. (2004). Marketing Science 23(4), 530-544.
    .. [3] Milgrom, P. and Roberts, J. (1990). American Economic Review 80(3), 511-528.
    """
    influence = rules.peer_influence(s_segment, s_province, s_network, **weights)
    h = rule(p, q, influence, m, **rule_kwargs) + replacement
    if gather is not None:
        h = gather(h)
    if strength is not None:
        factor = rules.complement_multiplier(has_terminal, strength, out=out)
        # ``h`` is always a fresh array or a scalar here: multiplying in place is safe.
        h = np.multiply(h, factor, out=h if isinstance(h, np.ndarray) else None)
    return h
