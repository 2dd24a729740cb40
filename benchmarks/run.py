"""The benchmark suite: every figure of the performance goals, measured in one run.

    python benchmarks/run.py [--quick] [--json]

Prints, all measured in this run and process (plus the Dask workers it starts):

- the core's agent-steps per second on the national model, numpy's float32 uniform rate and
  their ratio (goal >= 1.0), and the compiled month step's first-call time, compiling and
  loaded from numba's on-disk cache;
- the Mesa engine's agent-steps per second and the core's speed-up over it on the same
  population and horizon, when the Mesa engine (``sim.abm``) is present;
- time and peak memory (this process and any worker processes, resident set sampled every
  0.1 s) to estimate the baseline odds as a user runs them (the default backend: one thread per
  core) with a 95% interval half-width of at most one point:
  9,604 draws, the worst case p = 0.5 (goals < 60 s and < 2 GB);
- the speed-up of 2 threads over 1 (the serial backend, the default) and of 2 Dask workers over
  1 (goal >= 1.7 each), each time the best of three runs;
- the default calibrated run's wall time, as ``python -m sim`` (goal < 3 min), and its sampler's
  simulations per effective draw (``benchmarks/bench_calibration.py``; smaller with ``--quick``);
- time per agent-step from 1,000 to 100,000 agents (goal: flat within 20%), with chunks of the
  same work (about 1.3 million agent-draws, so the arrays are the same size) and with the default
  chunk of draws.

``--quick`` measures the same things smaller (the odds on 385 draws, a 5-point half-width, with
the time scaled up linearly to 9,604 draws and marked as an estimate). ``--json`` prints one JSON
object instead of the table. Figures depend on the machine and its load: they are printed, never
asserted by tests.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_calibration import QUICK as CALIBRATION_QUICK
from bench_calibration import calibrated_run
from bench_core import compile_seconds, core_rate, uniform_rate

from sim import targets
from sim.config import load_spec
from sim.engine import backends, chunks_of, context, parameter_sets, simulate

Z95 = 1.959963984540054


def draws_for_half_width(half_width: float) -> int:
    """Draws for a 95% interval of half-width ``half_width`` at worst (p = 0.5)."""
    return math.ceil(Z95**2 * 0.25 / half_width**2)


class PeakRSS:
    """Peak resident memory, in bytes, of this process and all its children, sampled."""

    def __init__(self, every: float = 0.1) -> None:
        import psutil  # installed with dask.distributed

        self._proc, self.every, self.peak = psutil.Process(), every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = 0
        for p in [self._proc, *self._proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except Exception:  # a worker that just exited
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.every)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def mesa_rate(*, agents: int, core_chunk: int) -> dict:
    """Agent-steps per second of the Mesa engine on one draw, and of the core on the same
    population and horizon; skipped when ``sim.abm`` is not there yet."""
    try:
        from sim import abm
    except ImportError:
        return {"status": "n/a (Mesa engine not present)"}
    run_chunk = getattr(abm, "simulate_chunk", None)
    if run_chunk is None:
        return {"status": "n/a (sim.abm has no simulate_chunk)"}
    spec = load_spec([f"mc.draws={core_chunk}", f"population.n_agents={agents}"])
    ctx = context(spec)
    values = parameter_sets(spec)
    t = time.perf_counter()
    run_chunk(spec, ctx.pop, values[:1], np.arange(1), lay=ctx.lay, neighbours=ctx.neighbours)
    mesa_s = time.perf_counter() - t
    steps = ctx.pop.n_agents * spec.time.n_steps
    core = core_rate(draws=core_chunk, chunk=core_chunk, agents=agents)
    rate = steps / mesa_s
    return {
        "status": "measured",
        "agents": ctx.pop.n_agents,
        "draws": 1,
        "seconds": mesa_s,
        "agent_steps_per_s": rate,
        "core_agent_steps_per_s": core["agent_steps_per_s"],
        "core_speedup": core["agent_steps_per_s"] / rate,
    }


def odds_run(*, draws: int, half_width: float, quick: bool) -> dict:
    """Time and peak memory of a baseline run as a user starts it: the default backend, chunks on
    one thread per core of this process (``mc.threads``)."""
    spec = load_spec([f"mc.draws={draws}"])
    with PeakRSS() as mem:
        t = time.perf_counter()
        summary = targets.summarize(simulate(spec, progress=False))
        seconds = time.perf_counter() - t
    widths = [(t["ci95"][1] - t["ci95"][0]) / 2 for t in summary["targets"]]
    full = draws_for_half_width(0.01)
    return {
        "draws": draws,
        "agents": spec.population.n_agents,
        "chunk": spec.mc.chunk,
        "backend": spec.mc.backend,
        "workers": backends.backend_of(spec.mc).threads,
        "seconds": seconds,
        "peak_rss_bytes": mem.peak,
        "max_ci95_half_width": max(widths),
        "design_half_width": half_width,
        "seconds_for_1pp": seconds if not quick else seconds * full / draws,
        "seconds_for_1pp_is_estimate": quick,
    }


def dask_speedup(*, agents: int, draws: int, chunk: int, repeats: int = 3) -> dict:
    """Chunks on 1 and 2 threads of this process (the serial backend, the default), and through
    the Dask backend with 1 and 2 worker processes (clusters started and warmed up beforehand, so
    the figures are of running, not of starting). Each is the best of ``repeats`` runs, as the
    core's rate is: on a shared machine one run's figure moves by a tenth or more."""
    spec = load_spec([f"mc.draws={draws}", f"mc.chunk={chunk}", f"population.n_agents={agents}"])
    ctx = context(spec)
    values = parameter_sets(spec)

    def tasks(ranges):
        return [(values[a:b], np.arange(a, b)) for a, b in ranges]

    def best(backend) -> float:
        seconds = []
        for _ in range(repeats):
            t = time.perf_counter()
            list(backend.imap(ctx, tasks(chunks_of(spec))))
            seconds.append(time.perf_counter() - t)
        return min(seconds)

    out = {"agents": ctx.pop.n_agents, "draws": draws, "chunk": chunk, "repeats": repeats}
    for n in (1, 2):
        out[f"threads_{n}_seconds"] = best(backends.Serial(threads=n))
    out["serial_seconds"] = out["threads_1_seconds"]
    out["threads_speedup_2_over_1"] = out["threads_1_seconds"] / out["threads_2_seconds"]
    for n in (1, 2):
        with backends.local_cluster(n) as cluster:
            dask = backends.Dask(scheduler=cluster.scheduler_address)
            warm = replace(spec, mc=replace(spec.mc, draws=n, chunk=1))
            list(dask.imap(ctx, tasks(chunks_of(warm))))
            out[f"workers_{n}_seconds"] = best(dask)
    out["speedup_2_over_1"] = out["workers_1_seconds"] / out["workers_2_seconds"]
    return out


def scaling(agent_counts: list[int], *, chunk: int | None, work: int = 40_000 * 32) -> dict:
    """Nanoseconds per agent-step at each agent count, and the spread max/min - 1.

    With ``chunk`` every count runs that many draws; without, each runs about ``work``
    agent-draws per chunk (the same array sizes), so fixed costs per step weigh the same.
    """
    rows = []
    for n in agent_counts:
        d = chunk if chunk is not None else max(1, round(work / n))
        r = core_rate(draws=d, chunk=d, agents=n)
        rows.append({**r, "ns_per_agent_step": 1e9 / r["agent_steps_per_s"]})
    ns = [r["ns_per_agent_step"] for r in rows]
    return {"chunk": chunk, "rows": rows, "spread": max(ns) / min(ns) - 1.0}


def run(quick: bool) -> dict:
    chunk = load_spec([]).mc.chunk
    cpus = os.cpu_count() or 1
    out: dict = {
        "machine": {
            "cpus": cpus,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "processor": platform.processor() or platform.machine(),
            "numba": numba.__version__,
            "numba_threads": numba.get_num_threads(),
        },
        "quick": quick,
    }
    core = core_rate(draws=chunk, chunk=chunk, agents=40_000)
    uniform = uniform_rate()
    out["core"] = {**core, "uniform_f32_per_s": uniform}
    out["core"]["ratio"] = core["agent_steps_per_s"] / uniform
    out["compile"] = compile_seconds()
    out["mesa"] = mesa_rate(agents=1_000 if quick else 40_000, core_chunk=chunk)
    out["dask"] = dask_speedup(
        agents=10_000 if quick else 40_000, draws=4 * chunk if quick else 8 * chunk, chunk=chunk
    )
    counts = [1_000, 10_000, 100_000] if quick else [1_000, 3_000, 10_000, 30_000, 100_000]
    out["scaling"] = scaling(counts, chunk=None)
    out["scaling_fixed_chunk"] = scaling(counts, chunk=chunk)
    hw = 0.05 if quick else 0.01
    out["odds"] = odds_run(draws=draws_for_half_width(hw), half_width=hw, quick=quick)
    # The default calibrated run, as a user starts it (smaller with --quick: a check, not the goal).
    out["calibrated"] = calibrated_run(CALIBRATION_QUICK if quick else [])
    o = out["odds"]
    out["goals"] = {
        "core / uniform rate >= 1.0": out["core"]["ratio"] >= 1.0,
        "1-pp odds < 60 s": o["seconds_for_1pp"] < 60,
        "1-pp odds peak memory < 2 GB": o["peak_rss_bytes"] < 2e9,
        "2 threads >= 1.7 x 1 thread (serial backend)": out["dask"]["threads_speedup_2_over_1"]
        >= 1.7,
        "2 Dask workers >= 1.7 x 1 worker": out["dask"]["speedup_2_over_1"] >= 1.7,
        "time per agent-step flat within 20% (same work per chunk)": out["scaling"]["spread"]
        <= 0.2,
        f"time per agent-step flat within 20% (chunks of {chunk} draws)": out[
            "scaling_fixed_chunk"
        ]["spread"]
        <= 0.2,
    }
    if not quick:
        out["goals"]["default calibrated run < 3 min"] = out["calibrated"]["seconds"] < 180
    if out["mesa"]["status"] == "measured":
        out["goals"]["core >= 300 x Mesa per agent-step"] = out["mesa"]["core_speedup"] >= 300
    return out


def table(r: dict) -> str:
    c, m, d, o, s = r["core"], r["mesa"], r["dask"], r["odds"], r["scaling"]
    mach = r["machine"]
    lines = [
        f"aiplus-sim benchmarks{' (quick)' if r['quick'] else ''}: {mach['cpus']} cpus, "
        f"Python {mach['python']}, numpy {mach['numpy']}, numba {mach['numba']} "
        f"({mach['numba_threads']} threads)",
        f"core, national model      {c['agent_steps_per_s']:.3e} agent-steps/s "
        f"({c['draws']} draws x {c['agents']:,} agents x {c['months']} months in "
        f"{c['seconds']:.2f} s)",
        f"numpy float32 uniforms    {c['uniform_f32_per_s']:.3e} /s",
        f"ratio core / uniform      {c['ratio']:.3f}   (goal >= 1.0)",
        f"compiled step, 1st call   {r['compile']['compile_seconds']:.1f} s compiling, "
        f"{r['compile']['cached_seconds']:.2f} s from numba's cache",
    ]
    if m["status"] == "measured":
        lines.append(
            f"Mesa engine               {m['agent_steps_per_s']:.3e} agent-steps/s "
            f"({m['agents']:,} agents, 1 draw); core {m['core_agent_steps_per_s']:.3e}: "
            f"{m['core_speedup']:,.0f} x faster (goal >= 300)"
        )
    else:
        lines.append(f"Mesa engine               {m['status']}")
    est = " (estimate, scaled from the run above)" if o["seconds_for_1pp_is_estimate"] else ""
    lines += [
        f"baseline odds             {o['draws']:,} draws x {o['agents']:,} agents, "
        f"{o['backend']} on {o['workers']} threads: {o['seconds']:.1f} s, peak memory "
        f"{o['peak_rss_bytes'] / 2**30:.2f} GiB, widest 95% CI half-width "
        f"{o['max_ci95_half_width']:.2%}",
        f"  for 1 pp (9,604 draws)  {o['seconds_for_1pp']:.1f} s{est}   (goals < 60 s, < 2 GB)",
        f"threads, {d['draws']} draws x {d['agents']:,} agents in chunks of {d['chunk']} "
        f"(best of {d['repeats']}): "
        f"1 thread {d['threads_1_seconds']:.2f} s, 2 threads {d['threads_2_seconds']:.2f} s: "
        f"{d['threads_speedup_2_over_1']:.2f} x   (goal >= 1.7)",
        f"Dask, the same chunks: 1 worker {d['workers_1_seconds']:.2f} s, "
        f"2 workers {d['workers_2_seconds']:.2f} s: {d['speedup_2_over_1']:.2f} x   "
        "(goal >= 1.7)",
        *(
            f"time per agent-step, {label}: "
            + ", ".join(
                f"{x['agents']:,} agents ({x['draws']} draws): {x['ns_per_agent_step']:.1f} ns"
                for x in sc["rows"]
            )
            + f"; spread {sc['spread']:.0%}   (goal <= 20%)"
            for label, sc in (
                ("same work per chunk", s),
                (f"chunks of {r['scaling_fixed_chunk']['chunk']} draws", r["scaling_fixed_chunk"]),
            )
        ),
        "calibrated run{} {:.0f} s wall, {} distinct of {} particles; sampler {} rounds, "
        "{:,} simulations ({:.1f} per effective draw) in {:.0f} s   (goal < 180 s)".format(
            " (quick)" if r["quick"] else "",
            r["calibrated"]["seconds"],
            round(r["calibrated"]["ess"]),
            r["calibrated"]["particles"],
            r["calibrated"]["rounds"],
            r["calibrated"]["simulations"],
            r["calibrated"]["simulations_per_effective_draw"],
            r["calibrated"]["sampler_seconds"],
        ),
        "goals:",
        *(f"  {'met    ' if v else 'NOT met'}  {k}" for k, v in r["goals"].items()),
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller runs, about a minute")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    r = run(args.quick)
    print(json.dumps(r, indent=2) if args.json else table(r))


if __name__ == "__main__":
    main()
