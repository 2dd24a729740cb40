"""The Mesa agent-based engine: built from the core's population, seeded per draw, and in
statistical agreement with the vectorised core."""

from __future__ import annotations

from collections import Counter
from dataclasses import fields, replace
from functools import cache

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from sim.abm import AdoptionModel, Firm, Person, model_rng
from sim.config import load_spec
from sim.engine import network, parameter_sets, simulate
from sim.population import FIRMS, build
from sim.spec import METRICS, Spec
from sim.streams import draw_seed

NETWORK = [
    "rules.influence.segment=0.25",
    "rules.influence.province=0.25",
    "rules.influence.network=0.5",
]


def _model(overrides, draw=0):
    spec = load_spec(["population.n_agents=400", "mc.draws=2", *overrides])
    pop = build(spec.population, seed=spec.mc.seed)
    model = AdoptionModel(
        spec,
        pop,
        parameter_sets(spec)[draw],
        draw=draw,
        neighbours=network(spec, pop),
        rng=model_rng(spec.mc.seed, draw),
    )
    return spec, pop, model


def test_agents_are_the_populations_firms_and_people_with_their_weights():
    _, pop, model = _model([])
    kinds = pop.cell_kind[pop.agent_cell]
    assert len(model.agents_by_type[Firm]) == int((kinds == FIRMS).sum())
    assert len(model.agents_by_type[Person]) == int((kinds != FIRMS).sum())
    weights = np.array([a.weight for a in model.adopters])
    for j, metric in enumerate(METRICS):
        np.testing.assert_allclose(weights[:, j], pop.agent_weight(metric))
    for a in model.adopters[::37]:
        assert a.province == pop.provinces[pop.cell_province[a.stratum]]
        assert a.cell.coordinate == (pop.cell_province[a.stratum], pop.cell_segment[a.stratum])
        assert a in a.cell.agents
    firm = next(iter(model.agents_by_type[Firm]))
    assert firm.sector in pop.sectors and firm.size_class in ("micro", "small", "medium", "large")


def test_network_space_links_each_agent_to_the_cores_neighbours():
    spec, pop, model = _model(NETWORK)
    nbrs = network(spec, pop)
    assert model.network is not None
    for i in (0, 57, len(model.adopters) - 1):
        agent = model.adopters[i]
        assert model.network[i].agents == [agent]
        assert Counter(p.index for p in agent.peers) == Counter(nbrs[i].tolist())


def test_model_owns_a_generator_seeded_from_the_draws_stream():
    spec = load_spec(["population.n_agents=100", "mc.draws=2"])
    pop = build(spec.population, seed=spec.mc.seed)
    rng = model_rng(spec.mc.seed, 1)
    expected = np.random.default_rng(draw_seed(spec.mc.seed, 1)).bit_generator.state
    assert rng.bit_generator.state == expected
    model = AdoptionModel(spec, pop, parameter_sets(spec)[1], rng=rng)
    assert model.rng is rng
    # Agents borrow it: the next numbers it gives are not the first agent's.
    assert not np.isin(model.adopters[0].latent, rng.random(8)).any()


def test_same_seed_gives_identical_abm_results():
    spec = load_spec(["engine=abm", "population.n_agents=200", "mc.draws=2", *NETWORK])
    xr.testing.assert_identical(simulate(spec)["share"], simulate(spec)["share"])


def test_abm_national_share_is_the_weighted_mean_over_its_agents():
    """Each metric weighs its agents; internet users are the persons online this month."""
    _, _, model = _model([])
    for _ in range(6):
        model.step()
    adopted = np.array([a.adopted for a in model.adopters])
    weights = np.array([a.weight for a in model.adopters])
    online = np.array([isinstance(a, Person) and a.online for a in model.adopters])
    weights[:, METRICS.index("internet_users")] = weights[:, 0] * online
    held = {
        "terminal": adopted[:, 0],
        "agent": adopted[:, 1],
        "any": adopted.any(axis=1),
        "both": adopted.all(axis=1),
    }
    for j in range(len(METRICS)):
        w = weights[:, j]
        for k, x in enumerate(held.values()):
            expected = (w * x).sum() / w.sum()
            assert model.recorder.share[0, 6, k, j] == pytest.approx(expected, rel=1e-5)


def test_abm_writes_the_results_schema_of_the_core():
    over = ["population.n_agents=200", "mc.draws=3", "mc.chunk=2"]
    core = simulate(load_spec(over))
    abm = simulate(load_spec([*over, "engine=abm"]))
    assert abm.attrs["engine"] == "abm" and core.attrs["engine"] == "core"
    assert set(abm.attrs) == set(core.attrs)
    assert set(abm.data_vars) == set(core.data_vars)
    for name, var in core.variables.items():
        assert abm[name].dims == var.dims and abm[name].dtype == var.dtype, name
    for name in ("time", "tech", "metric", "year", "province", "sector", "param", "draw"):
        xr.testing.assert_identical(abm[name], core[name])
    xr.testing.assert_identical(abm["param_value"], core["param_value"])
    assert bool(abm["share_sector"].sel(metric="population").isnull().all())


# --------------------------------------------------------------------------------------------------
# Agreement with the core: many seeds, small populations, every parameter at its central value
# --------------------------------------------------------------------------------------------------
N_DRAWS, N_AGENTS = 40, 300
BASE = [
    "uncertainty=none",
    f"mc.draws={N_DRAWS}",
    f"mc.chunk={N_DRAWS}",
    f"population.n_agents={N_AGENTS}",
    "rules.complementarity=false",
]
#: Every switch in ``rules`` is set off its BASE value by some case (complementarity is off in
#: all but one), so a switch one engine ignores makes that case fail.
CASES = {
    "levers_off": ["levers=none"],
    "levers_on": ["levers=current_policy"],
    "network_on": [*NETWORK, "rules.network_degree=6"],
    "complementarity_on": ["rules.complementarity=true"],
    "replacement_off": ["levers=none", "rules.replacement=false"],
    "logit_subsidy": ["rules.adoption=logit_subsidy"],
    # Lever schedules cut from 2026, frequent compute-supply and safety shocks.
    "shocks_on": ["scenario=headwinds"],
}
#: Every case runs at the central correlation of the two technologies (``joint.correlation``,
#: 0.4 > 0), so ``both`` compares the engines' correlated adoption; internet users compare who
#: comes online.
COMPARED = [
    (year, tech, metric)
    for year in (2027, 2030)
    for tech in ("terminal", "agent", "any", "both")
    for metric in ("population", "internet_users", "firms")
]


@cache
def _core_spec(case: str) -> Spec:
    return load_spec([*BASE, *CASES[case]])


@cache
def _abm_run(case: str) -> xr.Dataset:
    return simulate(load_spec([*BASE, *CASES[case], "engine=abm"]))


def disagreements(a: xr.Dataset, b: xr.Dataset) -> list[str]:
    """Where two runs' national shares differ beyond Monte Carlo error: at each target year's end,
    a mean difference over 3 standard errors, or a two-sample Kolmogorov-Smirnov test rejecting
    at 1%."""
    out = []
    for year, tech, metric in COMPARED:
        x, y = (
            ds["share"].sel(time=f"{year}-12-31", tech=tech, metric=metric).values.astype(float)
            for ds in (a, b)
        )
        se = np.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
        z = (x.mean() - y.mean()) / se
        p = stats.ks_2samp(x, y).pvalue
        if abs(z) > 3 or p < 0.01:
            out.append(f"{year} {tech} {metric}: z = {z:.2f}, KS p = {p:.4f}")
    return out


def test_agreement_cases_set_every_rules_switch():
    """A switch added to ``rules`` must get an agreement case, or this fails."""
    base = load_spec(BASE).rules
    changed = {
        f.name
        for case in CASES
        for f in fields(base)
        if getattr(_core_spec(case).rules, f.name) != getattr(base, f.name)
    }
    assert changed == {f.name for f in fields(base)}


@pytest.mark.parametrize("engine", ["core", "abm"])
def test_switching_replacement_off_lowers_terminal_adoption(engine):
    """With common random numbers a device owner's terminal hazard only loses the replacement
    term, so no month's terminal share rises and some fall: an engine that ignored
    ``rules.replacement`` would give equal shares."""
    over = [f"engine={engine}", "population.n_agents=200", "mc.draws=2", "uncertainty=none"]
    on, off = (
        simulate(load_spec([*over, f"rules.replacement={flag}"]))["share"].sel(tech="terminal")
        for flag in ("true", "false")
    )
    assert bool((off <= on).all()) and bool((off < on).any())


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_abm_and_core_agree_over_many_seeds(case):
    core = simulate(_core_spec(case))
    abm = _abm_run(case)
    # Independent samples: the core's decision streams against the Mesa models' own generators;
    # shocks are each draw's own history, the same in both engines.
    assert not np.array_equal(core["share"].values, abm["share"].values)
    xr.testing.assert_identical(core["events"], abm["events"])
    assert disagreements(core, abm) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("param", "factor"), [("agent.q", 1.5), ("agent.m", 0.85), ("joint.correlation", 0.0)]
)
def test_agreement_check_detects_a_rule_parameter_changed_in_one_engine(param, factor):
    """The same check has power: the core alone runs with one parameter off its central value."""
    spec = _core_spec("levers_off")
    assert next(p for p in spec.priors if p.name == "joint.correlation").central > 0
    broken = replace(
        spec,
        priors=tuple(
            p.fixed_at(p.central * factor, "deliberately broken") if p.name == param else p
            for p in spec.priors
        ),
    )
    assert disagreements(simulate(broken), _abm_run("levers_off")) != []


@pytest.mark.slow
def test_agreement_check_detects_an_engine_ignoring_rules_replacement():
    """A Mesa engine that ignored ``rules.replacement=false`` would run the levers_off case: the
    check must tell it from the core with replacement off."""
    core = simulate(_core_spec("replacement_off"))
    assert disagreements(core, _abm_run("levers_off")) != []
