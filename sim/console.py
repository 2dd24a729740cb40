"""The command line's own words: the short ``--help`` page, and the edge's size switches.

``AIPLUS_QUICK=1`` in the environment appends small-size overrides to every run (at most 2 draws
of 2,000 agents), so that any documented command can be tried, or tested, in seconds; the README
test sets it. ``uncertainty=none`` fixes every uncertain parameter, so a run asks for one draw
unless the command line says how many.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: The short help page of ``python -m sim --help`` (Hydra's own is ``--help-all``).
HELP = """\
usage: python -m sim [--help | --help-all | --list-scenarios] [KEY=VALUE ...]

Odds that China's "AI+" targets are met (smart terminals and agents above 70% by
2027, above 90% by 2030), by Monte Carlo simulation of firms and people.
A run prints the odds and writes outputs/DATE/TIME/: report.md, report.html,
odds.csv, summary.json, results.nc, charts/.

main options (Hydra overrides, key=value):
  scenario=NAME|FILE.yaml   a shipped scenario (--list-scenarios) or your own file
  compare=REF,A,B           paired comparison of scenarios against REF
  mc.draws=N                Monte Carlo draws (1000); mc.seed=N (20250826)
  population.n_agents=N     agents per draw (40000)
  levers=none               support withdrawn from 2026 (default current_policy: today's levers,
                            inside the calibrated trend)
  uncertainty=none          every parameter at its central value (one draw)
  shocks=none|stochastic    no random shock (default) | random shocks at their prior rates
  calibration=none          prior odds (default observed: posterior odds by sequential Monte Carlo)
  engine=abm                the Mesa agent-based engine (keep n_agents small)
  hydra.run.dir=DIR         the output folder
  report=false              no charts (never imports matplotlib)

readings: every target is reported for each metric (population, internet_users,
  firms, firm_employment) x tech (terminal, agent, any); the primary reading
  (primary.metric=population primary.tech=agent) leads every output.

flags:
  --list-scenarios          name every shipped scenario with its title
  --help-all                Hydra's full help: every config group and key
  -m KEY=A,B                Hydra multirun (a sweep over values)

environment:
  AIPLUS_QUICK=1            shrink any run to 2 draws of 2,000 agents (a try-out)
  AIPLUS_OUTPUTS=DIR        parent of the run folders (default outputs/)

examples:
  python -m sim
  python -m sim scenario=compute_push mc.draws=5000
  python -m sim levers=none
  python -m sim compare=baseline,compute_push,full_implementation
  python -m sim.fit sim/data/observations.csv --series genai_users_share

More: README.md (scenario files, readings, calibration, the explorer).
"""

#: The sizes ``AIPLUS_QUICK=1`` caps a run at.
QUICK = {"mc.draws": 2, "mc.chunk": 2, "population.n_agents": 2000}


def _last(argv: Sequence[str], key: str) -> str | None:
    values = [a.split("=", 1)[1] for a in argv if a.lstrip("+").split("=", 1)[0] == key]
    return values[-1] if values else None


def single_draw(argv: Sequence[str]) -> list[str]:
    """``argv`` with ``mc.draws=1`` appended when it fixes every parameter (``uncertainty=none``)
    and does not say how many draws: identical parameter sets would repeat the same run."""
    if _last(argv, "uncertainty") == "none" and _last(argv, "mc.draws") is None:
        return [*argv, "mc.draws=1"]
    return list(argv)


def quick(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """``argv`` with the :data:`QUICK` sizes appended when ``AIPLUS_QUICK`` is set (not ``0``),
    for each size the command asks more of (a smaller one is kept)."""
    if environ.get("AIPLUS_QUICK", "0") in ("", "0"):
        return list(argv)
    out = list(argv)
    for key, size in QUICK.items():
        given = _last(argv, key)
        if given is None or not given.isdigit() or int(given) > size:
            out.append(f"{key}={size}")
    return out
