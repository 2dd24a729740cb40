"""Vectorised Monte Carlo core: all draws of a chunk advance together as (draws x agents) arrays.

The rules come from :mod:`sim.rules`. Hazards depend on an agent's cell (its attributes) and on
adopted shares among its peers, so they are computed per cell, ``(n_draws, n_cells)``, and
gathered to agents; only the adoption decision itself runs per agent. There is no Python loop over
agents; the loop is over months.

Each agent draws, once per run and per technology, a latent rank ``U(0, 1)`` (it is in the market
while the rank is below its ceiling) and a threshold ``E ~ Exp(1)``; it adopts when its integrated
hazard reaches ``E``. This is exactly the per-step Bernoulli rule ``1 - exp(-h dt)`` (see
:func:`sim.rules.accumulate_hazard`) at two random numbers per agent per run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from sim import rules
from sim.engine import shocks
from sim.population import FIRMS, PEOPLE, SIZE_CLASSES, Population
from sim.spec import CHANNELS, METRICS, TECHS, Scope, Spec
from sim.streams import Decision, decision_rng


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


def scope_mask(scope: Scope, pop: Population) -> NDArray[np.bool_]:
    """Cells a lever acts on, shape (n_cells,)."""
    m = np.ones(pop.n_cells, dtype=bool)
    prov = pop.cell_province
    if scope.provinces:
        m &= np.isin(pop.provinces[prov], scope.provinces)
    if scope.regions:
        m &= np.isin(pop.regions[prov], scope.regions)
    if scope.compute_hub is not None:
        m &= pop.compute_hub[prov] == scope.compute_hub
    firm = pop.cell_sector >= 0
    if scope.sectors:
        m &= firm & np.isin(pop.sectors[np.where(firm, pop.cell_sector, 0)], scope.sectors)
    if scope.key_areas:
        m &= firm & np.isin(pop.key_areas[np.where(firm, pop.cell_sector, 0)], scope.key_areas)
    if scope.kinds:
        kinds = np.array(["people", "firms"])[pop.cell_kind]
        m &= np.isin(kinds, scope.kinds)
    if scope.sizes:
        size = pop.cell_size >= 0
        m &= size & np.isin(np.array(SIZE_CLASSES)[np.maximum(pop.cell_size, 0)], scope.sizes)
    return m


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
class _Layout:
    """Cell-level structure derived once from the population and spec."""

    # Sparse products sum each output column in a fixed order, whatever the number of draws
    # (columns), so a draw's numbers do not depend on its chunk; dense BLAS products may.
    count: sparse.csr_matrix  # (C, N) agent -> cell indicator
    seg: sparse.csr_matrix  # (G_seg, C) segment averaging
    seg_of: NDArray[np.intp]
    prov: sparse.csr_matrix  # (G_prov, C) same-kind province averaging
    prov_of: NDArray[np.intp]
    national: sparse.csr_matrix  # (M, C)
    agent_national: sparse.csr_matrix  # (M, N), float32
    province: sparse.csr_matrix  # (M * P, C)
    province_ok: NDArray[np.bool_]
    sector: sparse.csr_matrix  # (M * S, C)
    sector_ok: NDArray[np.bool_]
    scope: NDArray[np.float64]  # (L, C)
    programme_scope: NDArray[np.float64]  # (n_programmes, C)


def layout(spec: Spec, pop: Population) -> _Layout:
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
    return _Layout(
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


def lever_responses(spec: Spec, lay: _Layout, t: float) -> NDArray[np.float64]:
    """Response of each lever in each cell at decimal year ``t``, shape (n_levers, n_cells).

    A cell's intensity is the lever's own (where its scope holds) plus that of every programme on
    the lever covering the cell; the diminishing-returns response applies to the sum.
    """
    out = np.empty(lay.scope.shape)
    for li, lv in enumerate(spec.levers):
        tl = t - lv.lag
        progs = [j for j, pr in enumerate(spec.programmes) if pr.lever == lv.name]
        if progs:
            x = lv.intensity(tl) * lay.scope[li]
            for j in progs:
                x = x + spec.programmes[j].intensity(tl) * lay.programme_scope[j]
            out[li] = rules.lever_response(x, spec.lever_curvature)
        else:
            # One intensity wherever the lever acts: its scalar response, masked by the scope.
            out[li] = rules.lever_response(lv.intensity(tl), spec.lever_curvature) * lay.scope[li]
    return out


class _Params:
    """Parameter values of a chunk, by name: each a row of shape (1, n_draws)."""

    def __init__(self, names: tuple[str, ...], values: NDArray[np.float64]) -> None:
        self._cols = {n: values[None, :, j] for j, n in enumerate(names)}

    def __getitem__(self, name: str) -> NDArray[np.float64]:
        return self._cols[name]

    def get(self, name: str, default: float) -> NDArray[np.float64] | float:
        return self._cols.get(name, default)


def cell_p_factor(pop: Population, prm: _Params) -> NDArray[np.float64]:
    """Relative innovation propensity of each cell, shape (n_cells, n_draws): sector digital
    propensity and size class for firms, age band and residence for people."""
    size_f = np.vstack(
        [
            prm.get(f"firms.p_factor_{s}", 1.0) * np.ones_like(prm["agent.p"])
            for s in ("micro", "small", "medium", "large")
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


def cell_ceiling_factor(pop: Population, prm: _Params, tech: str) -> NDArray[np.float64]:
    """Share of a cell's agents that the technology can reach at all, shape (n_cells, n_draws):
    people without internet access are reached only through shared or embedded devices."""
    offline = (pop.cell_kind == PEOPLE) & ~pop.cell_internet
    return np.where(offline[:, None], prm.get(f"people.offline_ceiling_{tech}", 1.0), 1.0)


class CellParams:
    """Cell-level drivers of adoption for a set of draws, shared by both engines.

    Turns parameter sets into what the rules need at each cell: innovation factors, reachable
    shares, lever effects, shocks, device replacement, complementarity and the keyword parameters
    of the adoption rule. Arrays are (n_cells, n_draws); parameters (1, n_draws).

    Parameters
    ----------
    spec : Spec
    pop : Population
    lay : _Layout
        From :func:`layout`.
    values : ndarray, shape (n_draws, n_params)
        Parameter sets in ``spec.param_names`` order.
    draws : ndarray of int, shape (n_draws,)
        The draws' indices (each draw samples its shocks from its own streams).
    """

    def __init__(
        self, spec: Spec, pop: Population, lay: _Layout, values: NDArray, draws: NDArray
    ) -> None:
        self.spec, self.pop, self.lay = spec, pop, lay
        self.prm = prm = _Params(spec.param_names, values)
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
        #: Cells whose agents own a device to replace, shape (n_cells, 1).
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

    def responses(self, t: float) -> NDArray[np.float64]:
        """Each lever's response in each cell at decimal year ``t``, (n_levers, n_cells)."""
        return lever_responses(self.spec, self.lay, t)

    def shock_state(self, step: int, resp: NDArray) -> shocks.ShockState | None:
        """Shock multipliers during month ``step`` under lever responses ``resp``."""
        return None if self.history is None else self.history.state(step, resp[self._i_safety])

    def lever_effects(self, resp: NDArray) -> tuple[NDArray, NDArray]:
        """Summed lever effects per channel, and the compute lever's share of them, each
        (n_channels, n_cells, n_draws), under lever responses ``resp`` (n_levers, n_cells)."""
        cache, effect = self._cache, self.effect
        if "resp" not in cache or not np.array_equal(cache["resp"], resp):
            eff = np.zeros((len(CHANNELS), self.pop.n_cells, self.n_draws))
            for li in np.flatnonzero(resp.any(axis=1)):
                eff += effect[li][:, None, :] * resp[li][None, :, None]
            i_c = self._i_compute
            compute = effect[i_c][:, None, :] * resp[i_c][None, :, None]
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


def rule_kwargs(spec: Spec, prm: _Params, tech: str) -> dict[str, NDArray[np.float64]]:
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

    def __init__(self, spec: Spec, pop: Population, lay: _Layout, n_draws: int) -> None:
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


def simulate_chunk(
    spec: Spec,
    pop: Population,
    values: NDArray[np.float64],
    draws: NDArray[np.int64],
    *,
    lay: _Layout | None = None,
    neighbours: NDArray[np.intp] | None = None,
) -> ChunkResult:
    """Simulate draws ``draws`` with parameter sets ``values``, shape (n_draws, n_params).

    Draw ``d`` uses only its own streams ``(spec.mc.seed, d, decision)``, so the result of a draw
    is the same whatever chunk it is simulated in.
    """
    lay = lay if lay is not None else layout(spec, pop)
    cp = CellParams(spec, pop, lay, values, draws)
    n_d, n_a, dt = draws.size, pop.n_agents, spec.time.dt
    cell_n = pop.cell_n
    w_seg, w_prov, w_net = spec.rules.w_segment, spec.rules.w_province, spec.rules.w_network
    hazard_rule, rule_kw = cp.hazard_rule, cp.rule_kwargs

    # Agent arrays are (n_agents, n_draws): agents of a cell are contiguous rows, so gathering
    # cell values to agents is a row repeat and counting adopters per cell a sparse product.
    latent = np.empty((2, n_a, n_d), dtype=np.float32)
    threshold = np.empty((2, n_a, n_d), dtype=np.float32)
    for i, d in enumerate(draws):
        for k, (lat, thr) in enumerate(
            (
                (Decision.LATENT_TERMINAL, Decision.THRESHOLD_TERMINAL),
                (Decision.LATENT_AGENT, Decision.THRESHOLD_AGENT),
            )
        ):
            latent[k, :, i] = decision_rng(spec.mc.seed, int(d), lat).random(n_a, np.float32)
            threshold[k, :, i] = decision_rng(spec.mc.seed, int(d), thr).standard_exponential(
                n_a, dtype=np.float32
            )

    def to_agents(x: NDArray) -> NDArray[np.float32]:
        """Cell values (n_cells, n_draws) to agent values (n_agents, n_draws)."""
        return np.repeat(np.asarray(x, dtype=np.float32), cell_n, axis=0)

    strength, device, repl = cp.strength, cp.device, cp.repl
    shock_state, levered = cp.shock_state, cp.levered

    # Adoption state as 0/1 floats per technology, and whether either one is adopted.
    adopted = np.zeros((2, n_a, n_d), dtype=np.float32)
    either = np.empty((n_a, n_d), dtype=np.float32)
    cum = np.zeros((2, n_a, n_d), dtype=np.float32)
    t0 = spec.time.t0
    resp0 = lever_responses(spec, lay, t0)
    pqm = levered(resp0, shock_state(0, resp0))
    if spec.population.kind != "single_market":
        # Initial adopters: agents whose latent rank is below their cell's starting share.
        for k, tech in enumerate(TECHS):
            s0 = cp.start_share(tech, pqm[tech][2])
            start = rules.in_market(latent[k], to_agents(s0))
            cum[k] = np.where(start, threshold[k], np.float32(0.0))

    recorder = Recorder(spec, pop, lay, n_d)

    def update_state() -> NDArray[np.float64]:
        """Adoption from integrated hazards; returns adopted shares per cell (2, n_cells, n_d)."""
        for k in range(2):
            np.greater_equal(cum[k], threshold[k], out=adopted[k], casting="unsafe")
        np.maximum(adopted[0], adopted[1], out=either)
        return np.stack([lay.count @ adopted[k] for k in range(2)]) / cell_n[:, None]

    s_cell = update_state()
    recorder.record(0, s_cell, either)
    boost = np.empty((n_a, n_d), dtype=np.float32)
    active_dt = np.empty((2, n_a, n_d), dtype=np.float32)
    resp_prev, shock_prev = None, None
    for step in range(spec.time.n_steps):
        t = t0 + step * dt
        resp = lever_responses(spec, lay, t)
        shock = shock_state(step, resp)
        if (
            resp_prev is None
            or not np.array_equal(resp, resp_prev)
            or (shock is not None and not shock.same_as(shock_prev))
        ):
            # Lever responses change only when a lagged intensity crosses a year boundary, shock
            # multipliers only when an event starts or ends.
            ceilings = [pqm[tech][2] for tech in TECHS]
            pqm = levered(resp, shock)
            for k, tech in enumerate(TECHS):
                if resp_prev is None or not np.array_equal(pqm[tech][2], ceilings[k]):
                    inm = rules.in_market(latent[k], to_agents(pqm[tech][2]))
                    np.multiply(inm, np.float32(dt), out=active_dt[k])
            resp_prev, shock_prev = resp, shock
        for k, tech in enumerate(TECHS):
            p, q, m = pqm[tech]
            infl_seg = (lay.seg @ s_cell[k])[lay.seg_of]
            infl_prov = (lay.prov @ s_cell[k])[lay.prov_of]
            extra = device * rules.replacement_hazard(t, **repl) if tech == "terminal" else 0.0
            if w_net > 0.0:
                s_net = adopted[k][neighbours].mean(axis=1)
                infl = rules.peer_influence(
                    to_agents(infl_seg),
                    to_agents(infl_prov),
                    s_net,
                    w_segment=w_seg,
                    w_province=w_prov,
                    w_network=w_net,
                )
                h_agent = hazard_rule(
                    to_agents(p), to_agents(q), infl, to_agents(m), **rule_kw[tech]
                )
                h_agent += to_agents(np.broadcast_to(extra, p.shape))
            else:
                infl = rules.peer_influence(infl_seg, infl_prov, w_segment=w_seg, w_province=w_prov)
                h_agent = to_agents(hazard_rule(p, q, infl, m, **rule_kw[tech]) + extra)
            if tech == "agent" and strength is not None:
                h_agent *= rules.complement_multiplier(adopted[0], strength, out=boost)
            # active_dt carries dt and the in-market indicator.
            np.multiply(h_agent, active_dt[k], out=h_agent)
            rules.accumulate_hazard(cum[k], h_agent, 1.0, out=cum[k])
        s_cell = update_state()
        recorder.record(step + 1, s_cell, either)

    return recorder.result(draws, cp.events())
