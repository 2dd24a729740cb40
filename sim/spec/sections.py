"""One validator per top-level configuration key: each turns its section into typed values.

Each ``validate_<key>`` takes a :class:`~sim.spec.reader.Reader` for the section (it names the
file and the key in messages) and the section's raw value, and raises a one-line
:class:`~sim.vocab.ConfigError` on the first problem. Sections that a scenario can override also
take the scenario's :class:`~sim.spec.scenario.Overlay`. :func:`sim.spec.build_spec` calls them in
a fixed order, which is the order in which problems are reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sim.rules import ADOPTION_RULES, rule_parameters
from sim.spec.model import (
    Costs,
    Lever,
    MCSpec,
    PopulationSpec,
    Prior,
    RuleSpec,
    Shock,
    SizeClass,
    TimeSpec,
)
from sim.spec.reader import (
    ANCHOR,
    MAX_END,
    Reader,
    Tables,
    check_param_range,
    check_support,
    read_prior,
    read_schedule,
    read_scope,
    read_value_prior,
)
from sim.spec.scenario import Overlay
from sim.vocab import (
    BACKENDS,
    CHANNELS,
    DEMOGRAPHY_BASES,
    ENGINES,
    INDIVIDUAL_BUSINESS_CHOICES,
    KEEP,
    LEGAL_SIZE_CLASSES,
    LEVERS,
    POPULATION_KINDS,
    SAMPLING_METHODS,
    SHOCK_PARAMS,
    SHOCKS,
    TECHS,
    UNCERTAINTY_MODES,
    UNVERIFIED_CHOICES,
    ConfigError,
)

_SCALE_OUT = ("backend", "workers", "threads", "scheduler", "keep", "resume", "overwrite")
#: Allowed support of each shock parameter (effects that cut a rate must stay in [0, 1]).
_SHOCK_RANGE = {"jump": (0.0, math.inf), "depth": (0.0, 1.0), "cut": (0.0, 1.0)}


def validate_engine(r: Reader, raw: Any) -> str:
    """The engine that runs the spec."""
    return r.choice(raw, ENGINES, "")


def validate_report(r: Reader, raw: Any) -> bool:
    """Whether the run report draws its charts."""
    return r.boolean(raw, "")


def validate_mc(r: Reader, raw: Any, ur: Reader, unc_raw: Any) -> MCSpec:
    """The ``mc`` section and the ``uncertainty`` section (read by ``ur``), which it completes."""
    mc = r.mapping(raw, "")
    r.known(mc, ("draws", "seed", "chunk", *_SCALE_OUT))
    unc = ur.mapping(unc_raw, "")
    ur.known(unc, ("mode", "method"))
    return MCSpec(
        draws=int(r.number(mc.get("draws"), "draws", 1, 10_000_000, integer=True)),
        seed=int(r.number(mc.get("seed"), "seed", 0, 2**63 - 1, integer=True)),
        chunk=int(r.number(mc.get("chunk"), "chunk", 1, 100_000, integer=True)),
        uncertainty=ur.choice(unc.get("mode"), UNCERTAINTY_MODES, "mode"),
        method=ur.choice(unc.get("method", "lhs"), SAMPLING_METHODS, "method"),
        **_scale_out(r, mc),
    )


def _scale_out(r: Reader, m: Mapping[str, Any]) -> dict[str, Any]:
    """The ``mc`` keys that choose where chunks run, what is kept, whether to resume and whether
    to replace a finished run."""
    backend = r.choice(m.get("backend", "serial"), BACKENDS, "backend")
    workers, scheduler = m.get("workers"), m.get("scheduler")
    if workers is not None:
        workers = int(r.number(workers, "workers", 1, 1024, integer=True))
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise r.fail("scheduler", f"expected an address such as tcp://HOST:8786, got {scheduler!r}")
    if backend == "serial" and (workers is not None or scheduler is not None):
        raise r.fail("workers" if workers is not None else "scheduler", "needs mc.backend=dask")
    if workers is not None and scheduler is not None:
        raise r.fail("workers", "give mc.workers (a local cluster) or mc.scheduler, not both")
    threads = m.get("threads")
    if threads is not None:
        threads = int(r.number(threads, "threads", 1, 1024, integer=True))
        if backend != "serial":
            raise r.fail("threads", "needs mc.backend=serial (Dask runs chunks on mc.workers)")
    keep = r.names(m.get("keep", list(KEEP)), KEEP, "keep")
    if "national" not in keep:
        raise r.fail("keep", "must include national (national trajectories are always kept)")
    return {
        "backend": backend,
        "workers": workers,
        "threads": threads,
        "scheduler": None if scheduler is None else scheduler.strip(),
        "keep": tuple(k for k in KEEP if k in keep),
        "resume": r.boolean(m.get("resume", False), "resume"),
        "overwrite": r.boolean(m.get("overwrite", False), "overwrite"),
    }


def validate_time(r: Reader, raw: Any) -> TimeSpec:
    """The simulated months, ``start`` to ``end``."""
    m = r.mapping(raw, "")
    r.known(m, ("start", "end"))
    start, end = r.month(m.get("start"), "start"), r.month(m.get("end"), "end")
    first = _month_after(ANCHOR)
    if start != first:
        # The state before the first month is the data's (end 2024): an earlier start would re-date
        # it, a later one would skip the months (and the observed events) in between.
        raise r.fail(
            "start",
            f"{start[0]}-{start[1]:02d} is not allowed; the starting state is end-"
            f"{ANCHOR[0]} data (priors *.s0_*), so runs start in {first[0]}-{first[1]:02d}",
        )
    if end < start:
        raise r.fail("end", f"{end[0]}-{end[1]:02d} is before time.start {start[0]}-{start[1]:02d}")
    if end > MAX_END:
        raise r.fail("end", f"{end[0]}-{end[1]:02d} is too late; allowed: up to 2035-12")
    return TimeSpec(start, end)


def _month_after(month: tuple[int, int]) -> tuple[int, int]:
    y, m = month
    return (y + 1, 1) if m == 12 else (y, m + 1)


def validate_population(r: Reader, raw: Any) -> PopulationSpec:
    """Kind and size of the synthetic population, the firm size classes, which firm units count,
    and where the provinces' residence and age mix come from."""
    pop = r.mapping(raw, "")
    r.known(
        pop,
        (
            "kind",
            "n_agents",
            "firm_fraction",
            "size_classes",
            "unsourced_sector_shares",
            "firm_province_basis",
            "individual_businesses",
            "demography",
            "unverified",
            "min_agents_per_province",
        ),
    )
    kind = r.choice(pop.get("kind"), POPULATION_KINDS, "kind")
    r.choice(
        pop.get("unsourced_sector_shares", "equal_remainder"),
        ("equal_remainder",),
        "unsourced_sector_shares",
    )
    r.choice(pop.get("firm_province_basis", "gdp"), ("gdp",), "firm_province_basis")
    sizes = []
    for name, sraw in r.mapping(pop.get("size_classes"), "size_classes").items():
        k = f"size_classes.{name}"
        sm = r.mapping(sraw, k)
        r.known(sm, ("share", "employees", "reason"), k)
        r.choice(name, LEGAL_SIZE_CLASSES, "size_classes")
        share = r.number(sm.get("share"), f"{k}.share", 0.0, 1.0)
        sizes.append(SizeClass(name, share, r.number(sm.get("employees"), f"{k}.employees", 1.0)))
    if kind == "national":
        if {s.name for s in sizes} != set(LEGAL_SIZE_CLASSES):
            raise r.fail("size_classes", f"allowed and required: {', '.join(LEGAL_SIZE_CLASSES)}")
        if not math.isclose(sum(s.share for s in sizes), 1.0, abs_tol=1e-6):
            raise r.fail("size_classes", "shares must sum to 1")
    population = PopulationSpec(
        kind=kind,
        n_agents=int(r.number(pop.get("n_agents"), "n_agents", 10, 10_000_000, integer=True)),
        firm_fraction=r.number(pop.get("firm_fraction"), "firm_fraction", 0.0, 1.0),
        size_classes=tuple(sizes),
        individual_businesses=r.choice(
            pop.get("individual_businesses", "exclude"),
            INDIVIDUAL_BUSINESS_CHOICES,
            "individual_businesses",
        ),
        demography=r.choice(pop.get("demography", "province"), DEMOGRAPHY_BASES, "demography"),
        unverified=r.choice(pop.get("unverified", "flag"), UNVERIFIED_CHOICES, "unverified"),
        min_agents_per_province=int(
            r.number(
                pop.get("min_agents_per_province", 200),
                "min_agents_per_province",
                0,
                1_000_000,
                integer=True,
            )
        ),
    )
    if kind == "national" and not 0.0 < population.firm_fraction < 1.0:
        raise r.fail("firm_fraction", "must be > 0 and < 1 for the national population")
    return population


def validate_rules(r: Reader, raw: Any) -> tuple[RuleSpec, dict[str, float]]:
    """The adoption rule and its settings, and the values that ``rules.p``, ``rules.q`` and
    ``rules.m`` fix for both technologies (empty when none is given)."""
    ru = r.mapping(raw, "")
    r.known(
        ru,
        (
            "adoption",
            "p",
            "q",
            "m",
            "influence",
            "network_degree",
            "complementarity",
            "replacement",
        ),
    )
    infl = r.mapping(ru.get("influence"), "influence")
    r.known(infl, ("segment", "province", "network"), "influence")
    w = {
        k: r.number(infl.get(k, 0.0), f"influence.{k}", 0.0, 1.0)
        for k in ("segment", "province", "network")
    }
    if not math.isclose(sum(w.values()), 1.0, abs_tol=1e-9):
        raise r.fail("influence", f"weights must sum to 1, got {sum(w.values()):g}")
    rules = RuleSpec(
        adoption=r.choice(ru.get("adoption", "bass"), tuple(ADOPTION_RULES), "adoption"),
        w_segment=w["segment"],
        w_province=w["province"],
        w_network=w["network"],
        network_degree=int(
            r.number(ru.get("network_degree", 8), "network_degree", 1, 100, integer=True)
        ),
        complementarity=r.boolean(ru.get("complementarity", True), "complementarity"),
        replacement=r.boolean(ru.get("replacement", True), "replacement"),
    )
    fixed = {}
    for k, hi in (("p", math.inf), ("q", math.inf), ("m", 1.0)):
        if ru.get(k) is not None:
            fixed[k] = r.number(ru[k], k, 0.0, hi, lo_open=k == "m")
    return rules, fixed


def validate_priors(
    r: Reader, raw: Any, *, rules: RuleSpec, overlay: Overlay
) -> tuple[Mapping[str, Any], dict[str, Prior], float]:
    """The ``priors`` section: its checked mapping (whose ``levers``, ``shocks`` and ``costs`` the
    other sections read), the priors of the parameters and of the adoption rule with the
    scenario's overrides, and the levers' curvature."""
    praw = r.mapping(raw, "")
    r.known(praw, ("params", "levers", "shocks", "costs", "adoption"))
    params = dict(r.mapping(praw.get("params"), "params"))
    lever_defs = r.mapping(praw.get("levers"), "levers")
    r.known(lever_defs, ("curvature", *LEVERS), "levers")
    curvature = r.number(
        lever_defs.get("curvature", 1.0), "levers.curvature", 0.0, 50.0, lo_open=True
    )
    priors: dict[str, Prior] = {}
    for name, p in params.items():
        priors[name] = read_prior(Reader(r.where, "priors.params"), name, p)
    priors.update(_rule_priors(r, praw.get("adoption"), rules.adoption))
    for name, p in overlay.section("priors").items():
        if name not in priors:
            raise ConfigError(
                overlay.reader.where,
                f"priors.{name}",
                f"unknown parameter; allowed: {', '.join(sorted(priors))}",
            )
        priors[name] = read_prior(Reader(overlay.reader.where, "priors"), name, p)
    return praw, priors, curvature


def _rule_priors(r: Reader, raw: Any, rule: str) -> dict[str, Prior]:
    """Priors of the chosen adoption rule's own parameters (``adoption.RULE`` in the priors file):
    ``NAME`` becomes the parameter ``adoption.NAME``, ``TECH.NAME`` stays as it is. Other rules'
    parameters are not sampled, so adding a rule leaves every other rule's draws unchanged."""
    m = r.mapping(raw, "adoption")
    r.known(m, tuple(ADOPTION_RULES), "adoption")
    names = rule_parameters(rule)
    allowed = (*names, *(f"{t}.{n}" for t in TECHS for n in names))
    rr = Reader(r.where, f"{r.prefix}.adoption.{rule}")
    own = rr.mapping(m.get(rule), "")
    rr.known(own, allowed)
    out = {}
    for k, v in own.items():
        name = k if "." in k else f"adoption.{k}"
        out[name] = replace(read_prior(rr, k, v), name=name)
    return out


def validate_levers(
    r: Reader, raw: Any, pr: Reader, defs: Any, *, overlay: Overlay, tables: Tables
) -> tuple[tuple[Lever, ...], dict[str, Prior]]:
    """The ``levers`` section (intensity and scope of each lever) with the scenario's overrides,
    and the levers' definitions in ``priors.levers`` (read by ``pr``): their lags and the priors of
    their effects, ``lever.LEVER.CHANNEL``, which are returned beside the levers."""
    lev_raw = r.mapping(raw, "")
    r.known(lev_raw, LEVERS)
    sr = overlay.reader
    s_lev = overlay.section("levers")
    sr.known(s_lev, LEVERS, "levers")
    lever_defs = pr.mapping(defs, "levers")
    s_over = overlay.section("priors")
    levers, effect_priors = [], {}
    for lname in LEVERS:
        d = pr.mapping(lever_defs.get(lname), f"levers.{lname}")
        pr.known(d, ("lag", "effects"), f"levers.{lname}")
        effects = pr.mapping(d.get("effects"), f"levers.{lname}.effects")
        pr.known(effects, CHANNELS, f"levers.{lname}.effects")
        er = Reader(pr.where, f"priors.levers.{lname}.effects")
        for ch, praw in effects.items():
            pname = f"lever.{lname}.{ch}"
            effect_priors[pname] = read_prior(er, pname, praw)
            # Scenario overrides name effect priors by their full parameter name.
            if pname in s_over:
                effect_priors[pname] = read_prior(Reader(sr.where, "priors"), pname, s_over[pname])
        base = r.mapping(lev_raw.get(lname), lname)
        r.known(base, ("intensity", "scope"), lname)
        over = sr.mapping(s_lev.get(lname), f"levers.{lname}")
        sr.known(over, ("intensity", "scope"), f"levers.{lname}")
        src, rd = (sr, f"levers.{lname}") if "intensity" in over else (r, lname)
        intensity = (over if "intensity" in over else base).get("intensity")
        schedule = read_schedule(src, intensity, f"{rd}.intensity")
        src, rd = (sr, f"levers.{lname}") if "scope" in over else (r, lname)
        scope = read_scope(
            src, (over if "scope" in over else base).get("scope"), f"{rd}.scope", tables
        )
        lag = pr.number(d.get("lag", 0.0), f"levers.{lname}.lag", 0.0, 10.0)
        levers.append(Lever(lname, lag, schedule, tuple(effects), scope))
    return tuple(levers), effect_priors


def check_priors(
    r: Reader, priors: Mapping[str, Prior], *, rules: RuleSpec, fixed: Mapping[str, float]
) -> tuple[Prior, ...]:
    """Check every prior's range and that each required parameter has one, apply the values that
    ``rules`` fixes (to people's and firms' parameters alike), and return the priors sorted by
    name."""
    out = dict(priors)
    pr_check = Reader(r.where, "priors.params")
    for p in out.values():
        check_param_range(pr_check, p)
    _check_rule_parameters(Reader(r.where, f"priors.adoption.{rules.adoption}"), out, rules)
    for k, v in fixed.items():
        for name in {f"{t}.{k}{kind}" for t in TECHS for kind in ("", "_firms")} & set(out):
            out[name] = out[name].fixed_at(v, f"fixed by rules.{k}")
    keys = ("p", "q", "m", "p_firms", "q_firms", "m_firms", "s0_people", "s0_firms")
    required = {f"{t}.{k}" for t in TECHS for k in keys}
    missing = sorted(required - set(out))
    if missing:
        raise pr_check.fail(missing[0], "required parameter has no prior")
    return tuple(out[k] for k in sorted(out))


def _check_rule_parameters(r: Reader, priors: Mapping[str, Prior], rules: RuleSpec) -> None:
    """Every parameter of the adoption rule needs a prior, per technology or shared."""
    for name in rule_parameters(rules.adoption):
        for tech in TECHS:
            if f"{tech}.{name}" not in priors and f"adoption.{name}" not in priors:
                raise r.fail(name, f"the {rules.adoption!r} rule needs a prior for {name}")


def validate_shocks(
    r: Reader,
    raw: Any,
    pr: Reader,
    defs: Any,
    *,
    overlay: Overlay,
    start: tuple[int, int] = (2025, 1),
) -> tuple[Shock, ...]:
    """Shocks from their priors (``priors.shocks``, read by ``pr``), switched on or off by
    ``shocks.mode``, then overridden by the scenario's ``shocks`` (numbers or priors, and scheduled
    months ``at``). Observed events (``shocks.history``) are scheduled in every scenario. A
    scheduled month before ``start`` (``time.start``) is refused: the run would drop it."""
    m = r.mapping(raw, "")
    r.known(m, ("mode", "history"))
    mode = r.choice(m.get("mode", "none"), ("none", "stochastic"), "mode")
    defs = pr.mapping(defs, "shocks")
    over_all = overlay.section("shocks")
    history = _history(r, m.get("history"), start)
    pr.known(defs, SHOCKS, "shocks")
    overlay.reader.known(over_all, SHOCKS, "shocks")
    out = []
    for kind in SHOCKS:
        d = pr.mapping(defs.get(kind), f"shocks.{kind}")
        pr.known(d, SHOCK_PARAMS[kind], f"shocks.{kind}")
        over = overlay.reader.mapping(over_all.get(kind), f"shocks.{kind}")
        overlay.reader.known(over, (*SHOCK_PARAMS[kind], "at"), f"shocks.{kind}")
        if not d and not over and mode == "none" and kind not in history:
            continue
        out.append(
            _shock(kind, d, over, pr, mode=mode, overlay=overlay, history=history, start=start)
        )
    return tuple(out)


def _shock(
    kind: str,
    d: Mapping[str, Any],
    over: Mapping[str, Any],
    pr: Reader,
    *,
    mode: str,
    overlay: Overlay,
    history: Mapping[str, tuple[tuple[int, int], ...]],
    start: tuple[int, int],
) -> Shock:
    """One kind of shock from its priors ``d`` and the scenario's overrides ``over``."""
    params = SHOCK_PARAMS[kind]
    sr = overlay.reader
    values = {}
    for par in params:
        if par in over:
            r = Reader(sr.where, f"shocks.{kind}")
            p = read_value_prior(r, par, over[par], f"set by scenario {overlay.name}")
        elif par in d:
            r = Reader(pr.where, f"priors.shocks.{kind}")
            p = read_prior(r, par, d[par])
        else:
            raise pr.fail(f"shocks.{kind}.{par}", f"needs a prior; required: {', '.join(params)}")
        check_support(r, par, p, *_SHOCK_RANGE.get(par, (0.0, math.inf)))
        values[par] = replace(p, name=f"shock.{kind}.{par}")
    if mode == "none" and "rate" not in over:
        values["rate"] = values["rate"].fixed_at(0.0, "random events off (shocks=none)")
    at_raw = over.get("at") or ()
    if isinstance(at_raw, str) or not isinstance(at_raw, Sequence):
        raise sr.fail(f"shocks.{kind}.at", f"expected a list of months 'YYYY-MM', got {at_raw!r}")
    at = []
    for v in at_raw:
        y, mo = sr.month(v, f"shocks.{kind}.at")
        if not 2000 <= y <= MAX_END[0]:
            raise sr.fail(f"shocks.{kind}.at", f"{v!r}: allowed: months of years 2000-{MAX_END[0]}")
        _after_start(sr, f"shocks.{kind}.at", (y, mo), start)
        at.append((y, mo))
    at.extend(history.get(kind, ()))
    return Shock(
        kind,
        values["rate"],
        values[params[1]],
        values["duration"],
        values.get("mitigation"),
        tuple(sorted(set(at))),
    )


def _history(r: Reader, raw: Any, start: tuple[int, int]) -> dict[str, tuple[tuple[int, int], ...]]:
    """Observed events (``shocks.history``: kind -> months 'YYYY-MM'), which happen in every draw
    of every scenario."""
    m = r.mapping(raw, "history")
    r.known(m, SHOCKS, "history")
    out = {}
    for kind, months in m.items():
        if isinstance(months, str) or not isinstance(months, Sequence):
            raise r.fail(f"history.{kind}", f"expected a list of months 'YYYY-MM', got {months!r}")
        out[kind] = tuple(r.month(v, f"history.{kind}") for v in months)
        for month in out[kind]:
            _after_start(r, f"history.{kind}", month, start)
    return out


def _after_start(r: Reader, k: str, month: tuple[int, int], start: tuple[int, int]) -> None:
    """Fail on an event scheduled before the first simulated month: the run would drop it."""
    if month < start:
        raise r.fail(
            k,
            f"{month[0]}-{month[1]:02d} is before time.start {start[0]}-{start[1]:02d}; "
            "the run would drop it",
        )


def validate_costs(pr: Reader, raw: Any, *, overlay: Overlay) -> Costs:
    """Cost priors by lever (``priors.costs``, read by ``pr``; billion yuan per unit intensity per
    year), with the scenario's ``costs`` overrides (numbers or priors)."""
    raw = pr.mapping(raw, "costs")
    over = overlay.section("costs")
    keys = ("people_share", *LEVERS)
    pr.known(raw, keys, "costs")
    overlay.reader.known(over, keys, "costs")
    if not raw and not over:
        return Costs()
    values = {}
    for k in keys:
        if k in over:
            r = Reader(overlay.reader.where, "costs")
            p = read_value_prior(r, k, over[k], f"set by scenario {overlay.name}")
        elif k in raw:
            r = Reader(pr.where, "priors.costs")
            p = read_prior(r, k, raw[k])
        else:
            raise pr.fail(f"costs.{k}", "needs a prior (billion yuan per unit intensity per year)")
        check_support(r, k, p, 0.0, 1.0 if k == "people_share" else math.inf)
        values[k] = replace(p, name=f"cost.{k}")
    return Costs(unit=tuple(values[k] for k in LEVERS), people_share=values["people_share"].central)
