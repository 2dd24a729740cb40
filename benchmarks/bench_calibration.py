"""Wall time of the default calibrated run, and what its sampler spent.

Runs ``python -m sim`` as a user does (a fresh interpreter, the default configuration: posterior
odds by sequential Monte Carlo, the report's charts off) into a temporary folder and prints the
wall time (goal: under 3 minutes on a 2-core machine), the sampler's rounds, acceptance,
simulations and simulations per effective draw, and the distinct particles (ESS), read from the
run's ``summary.json``.

    python benchmarks/bench_calibration.py [--quick] [--json] [OVERRIDE ...]

``--quick`` runs the same pipeline smaller (500 particles, 200 prior draws, 3,000 agents in the
sampler's rounds): a check that the figures come out, not the default's time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The smaller settings of ``--quick``.
QUICK = [
    "calibration.particles=500",
    "calibration.ess_min=100",
    "calibration.n_agents=3000",
    "mc.draws=200",
]


def calibrated_run(overrides: list[str]) -> dict:
    """Run ``python -m sim report=false OVERRIDES`` and return its wall time and sampler figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "sim", "report=false", *overrides, f"hydra.run.dir={out}"]
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - t
        if r.returncode != 0:
            raise SystemExit(f"the calibrated run failed:\n{r.stderr[-2000:]}")
        summary = json.loads((out / "summary.json").read_text())
    cal = summary["calibration"]
    smc = cal["sampler"]
    return {
        "overrides": overrides,
        "seconds": seconds,
        "status": cal["status"],
        "ess": cal["ess"],
        "particles": smc["particles"],
        "rounds": smc["rounds"],
        "acceptance": smc["acceptance"],
        "simulations": smc["simulations"],
        "simulations_per_effective_draw": smc["simulations_per_effective_draw"],
        "sampler_seconds": smc["seconds"],
        "sampler_agents": smc["n_agents"],
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller settings (a check)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("overrides", nargs="*", help="Hydra overrides added to the run")
    args = ap.parse_args(argv)
    res = calibrated_run([*(QUICK if args.quick else []), *args.overrides])
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print(
        f"calibrated default run: {res['seconds']:.0f} s wall (goal < 180 s); status "
        f"{res['status']}, {res['ess']:.0f} distinct of {res['particles']} particles; sampler "
        f"{res['rounds']} rounds, acceptance {res['acceptance'] or 0:.2f}, "
        f"{res['simulations']:,} simulations ({res['simulations_per_effective_draw']:.1f} per "
        f"effective draw) on {res['sampler_agents']:,} agents in {res['sampler_seconds']:.0f} s"
    )


if __name__ == "__main__":
    main()
