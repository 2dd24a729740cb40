"""Speed of the vectorised core on the national model, against numpy's uniform generator.

One agent-step is one agent advanced one month in both technologies. Prints agent-steps per
second, numpy's float32 uniform-generation rate measured in the same process, and their ratio
(goal: at least 1.0, i.e. a whole model step costs no more than one random draw). The compiled
month step runs on every thread numba has (``NUMBA_NUM_THREADS``, default one per core); the
first-call compile time is measured apart (:func:`compile_seconds`).

    python benchmarks/bench_core.py [--draws 100] [--chunk 50] [--agents 40000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sim import drivers
from sim.config import load_spec
from sim.engine import core, parameter_sets
from sim.population import build


def uniform_rate(n: int = 20_000_000, repeats: int = 5) -> float:
    """Best-of-``repeats`` float32 uniforms per second from numpy's default generator."""
    rng = np.random.default_rng(0)
    out = np.empty(n, dtype=np.float32)
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        rng.random(n, dtype=np.float32, out=out)
        best = min(best, time.perf_counter() - t)
    return n / best


_FIRST_CALL = """
import time
t = time.perf_counter()
from dataclasses import replace
import numpy as np
from sim.config import load_spec
from sim.engine import context, core, parameter_sets
spec = load_spec(["mc.draws=1", "population.n_agents=200"])
spec = replace(spec, time=replace(spec.time, end=(2025, 2)))
ctx = context(spec)
ready = time.perf_counter()
core.simulate_chunk(spec, ctx.pop, parameter_sets(spec), np.arange(1), lay=ctx.lay)
print(time.perf_counter() - ready)
"""


def compile_seconds() -> dict:
    """Seconds of the first call of the compiled month step in a fresh process: compiling
    (with an empty on-disk cache) and loading from the cache (a second process), each for a
    two-month, 200-agent run whose own simulation time is negligible."""
    root = Path(__file__).resolve().parents[1]
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        for label in ("compile", "cached"):
            run = subprocess.run(
                [sys.executable, "-c", _FIRST_CALL], env=env, check=True, capture_output=True
            )
            out[f"{label}_seconds"] = float(run.stdout.split()[-1])
    return out


def core_rate(*, draws: int, chunk: int, agents: int, repeats: int = 2) -> dict:
    """Best-of-``repeats`` agent-steps per second of one chunk of the national baseline."""
    spec = load_spec([f"mc.draws={draws}", f"mc.chunk={chunk}", f"population.n_agents={agents}"])
    pop = build(spec.population, seed=spec.mc.seed)
    values = parameter_sets(spec)
    lay = drivers.layout(spec, pop)
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        core.simulate_chunk(spec, pop, values[:chunk], np.arange(chunk), lay=lay)
        best = min(best, time.perf_counter() - t)
    steps = chunk * pop.n_agents * spec.time.n_steps
    return {
        "agents": pop.n_agents,
        "draws": chunk,
        "months": spec.time.n_steps,
        "seconds": best,
        "agent_steps_per_s": steps / best,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunk", type=int, default=50)
    ap.add_argument("--agents", type=int, default=40_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    c = core_rate(draws=args.chunk, chunk=args.chunk, agents=args.agents)
    u = uniform_rate()
    out = {"core": c, "uniform_f32_per_s": u, "ratio": c["agent_steps_per_s"] / u}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(
        f"core: {c['agent_steps_per_s']:.3e} agent-steps/s "
        f"({c['draws']} draws x {c['agents']} agents x {c['months']} months in "
        f"{c['seconds']:.2f} s)"
    )
    print(f"numpy float32 uniforms: {u:.3e} /s")
    print(f"ratio core / uniform: {out['ratio']:.3f} (goal >= 1.0)")


if __name__ == "__main__":
    main()
