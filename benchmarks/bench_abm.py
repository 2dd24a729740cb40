"""Speed of the Mesa engine against the vectorised core, on the same population and horizon.

One agent-step is one agent advanced one month in both technologies. Prints the Mesa engine's
agent-steps per second (one model per draw), the core's on the same population and months (a
chunk of draws advanced together, as in a Monte Carlo run), and the core's speed-up per agent-step
(goal: at least 300). The population is the configured national one (40,000 agents, about a
minute for one Mesa draw) unless ``--agents`` says otherwise; the core's speed per agent-step
grows with the population (its cell-level work per month is fixed), so smaller populations give
a smaller speed-up.

    python benchmarks/bench_abm.py [--agents N] [--abm-draws 1] [--chunk 50] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from sim import abm, drivers
from sim.config import load_spec
from sim.engine import core, parameter_sets
from sim.population import build


def rates(*, agents: int | None, abm_draws: int, chunk: int, repeats: int = 3) -> dict:
    """Agent-steps per second of each engine on the national baseline: the core's best of
    ``repeats`` runs, the Mesa engine's one run (long enough to time on its own)."""
    size = [] if agents is None else [f"population.n_agents={agents}"]
    spec = load_spec([f"mc.draws={max(chunk, abm_draws)}", *size])
    pop = build(spec.population, seed=spec.mc.seed)
    values = parameter_sets(spec)
    lay = drivers.layout(spec, pop)
    months = spec.time.n_steps

    def best(run, repeats: int) -> float:
        out = np.inf
        for _ in range(repeats):
            t = time.perf_counter()
            run()
            out = min(out, time.perf_counter() - t)
        return out

    t_core = best(
        lambda: core.simulate_chunk(spec, pop, values[:chunk], np.arange(chunk), lay=lay), repeats
    )
    t_abm = best(
        lambda: abm.simulate_chunk(spec, pop, values[:abm_draws], np.arange(abm_draws), lay=lay), 1
    )
    core_rate = chunk * pop.n_agents * months / t_core
    abm_rate = abm_draws * pop.n_agents * months / t_abm
    return {
        "agents": pop.n_agents,
        "months": months,
        "core": {"draws": chunk, "seconds": t_core, "agent_steps_per_s": core_rate},
        "abm": {"draws": abm_draws, "seconds": t_abm, "agent_steps_per_s": abm_rate},
        "speedup": core_rate / abm_rate,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=None)
    ap.add_argument("--abm-draws", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=50)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    r = rates(agents=args.agents, abm_draws=args.abm_draws, chunk=args.chunk)
    if args.json:
        print(json.dumps(r, indent=2))
        return
    head = f"{r['agents']} agents x {r['months']} months"
    for name in ("abm", "core"):
        e = r[name]
        print(
            f"{name:>4}: {e['agent_steps_per_s']:.3e} agent-steps/s "
            f"({e['draws']} draws x {head} in {e['seconds']:.2f} s)"
        )
    print(f"core speed-up per agent-step: {r['speedup']:.0f}x (goal >= 300)")


if __name__ == "__main__":
    main()
