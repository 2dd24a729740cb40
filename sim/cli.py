"""Command line: ``python -m sim [scenario=NAME] [key=value ...]`` (Hydra overrides).

Inputs are validated before Hydra creates a run folder, so a bad input prints one line, exits with
status 2 and leaves no output behind.
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
from sim.engine import simulate
from sim.report import write_report
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
    ds = simulate(spec)
    summary = targets.summarize(ds)
    plain = OmegaConf.to_container(cfg, resolve=True)
    results.write_text(OmegaConf.to_yaml(OmegaConf.create(plain)), out / "config.yaml")
    results.write(ds, out / "results.nc")
    results.write_text(json.dumps(summary, indent=2) + "\n", out / "summary.json")
    write_report(ds, out, charts=spec.report)
    print(format_odds(summary, title=spec.scenario.title))
    print(f"results: {out}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m sim`` and the ``aiplus-sim`` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a.startswith("-") for a in argv):
        try:
            load_spec(argv)
        except ConfigError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 2
    sys.argv = [sys.argv[0], *argv]
    run = hydra.main(config_path=str(paths.conf_dir()), config_name="config", version_base="1.3")(
        _task
    )
    run()
    return 0
