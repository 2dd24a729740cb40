"""Command line: ``python -m sim [scenario=NAME] [key=value ...]`` (Hydra overrides).

Inputs are validated before Hydra creates a run folder, so a bad input prints one line, exits with
status 2 and leaves no output behind. Finished chunks go to ``RUN_FOLDER/chunks`` as they complete
and are removed once ``results.nc`` is written; ``mc.resume=true hydra.run.dir=RUN_FOLDER``
finishes an interrupted run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim import paths, results, targets
from sim.config import load_spec, to_spec
from sim.engine import simulate, storage
from sim.spec import ConfigError

PROG = "aiplus-sim"


def format_odds(summary: dict, *, title: str = "") -> str:
    """A short plain-text table of the odds in a summary."""
    lines = [
        f"{PROG}: scenario {summary['scenario']!r}{f' ({title})' if title else ''}, "
        f"{summary['draws']} draws, seed {summary['seed']}",
        f"{'target':<34} {'P(hit)':>6}  {'95% CI':<13}  {'median':>6}  {'5-95% band':<13}",
    ]
    for t in summary["targets"]:
        label = f"{t['year']} > {t['threshold']:.0%}  {t['metric']} ({t['tech']})"
        lo, hi = t["ci95"]
        lines.append(
            f"{label:<34} {t['p_hit']:>6.1%}  [{lo:.1%}, {hi:.1%}]".ljust(57)
            + f"  {t['share_median']:>6.1%}  [{t['share_p05']:.1%}, {t['share_p95']:.1%}]"
        )
    return "\n".join(lines)


def _task(cfg: DictConfig) -> None:
    hc = HydraConfig.get()
    try:
        spec = to_spec(cfg, list(hc.overrides.task))
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    out = Path(hc.runtime.output_dir)
    try:
        ds = simulate(spec, folder=out)
    except ConfigError as exc:  # chunks of another run in the folder, an unreachable scheduler
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    summary = targets.summarize(ds)
    plain = OmegaConf.to_container(cfg, resolve=True)
    results.write_text(OmegaConf.to_yaml(OmegaConf.create(plain)), out / "config.yaml")
    results.write(ds, out / "results.nc")
    results.write_text(json.dumps(summary, indent=2) + "\n", out / "summary.json")
    storage.remove_chunks(out)  # results.nc now holds every draw
    print(format_odds(summary, title=spec.scenario.title))
    print(f"results: {out}")


def _run_dir(argv: list[str]) -> Path | None:
    """The run folder named by a ``hydra.run.dir=`` override (a resumable run's), if any."""
    dirs = [a.split("=", 1)[1] for a in argv if a.startswith("hydra.run.dir=")]
    return Path(dirs[-1]).expanduser() if dirs else None


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m sim`` and the ``aiplus-sim`` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a.startswith("-") for a in argv):
        try:
            spec = load_spec(argv)
            if (run_dir := _run_dir(argv)) is not None:
                storage.chunk_folder(run_dir, spec).check(resume=spec.mc.resume)
        except ConfigError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 2
    sys.argv = [sys.argv[0], *argv]
    run = hydra.main(config_path=str(paths.conf_dir()), config_name="config", version_base="1.3")(
        _task
    )
    run()
    return 0
