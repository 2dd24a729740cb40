"""Command line: ``python -m sim [scenario=NAME] [key=value ...]`` (Hydra overrides).

``python -m sim compare=REF,NAME,...`` runs several scenarios with common random numbers and
compares each with the first; ``python -m sim --list-scenarios`` names the shipped scenarios.
Inputs are validated before Hydra creates a run folder, so a bad input prints one line, exits with
status 2 and leaves no output behind. Finished chunks go to ``RUN_FOLDER/chunks`` as they complete
and are removed once ``results.nc`` is written; ``mc.resume=true hydra.run.dir=RUN_FOLDER``
finishes an interrupted run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim import comparison, paths, pipeline, results
from sim.config import compose_config, override_key, to_specs
from sim.engine import storage
from sim.spec import ConfigError, Spec, scenario_titles

PROG = "aiplus-sim"


def format_odds(summary: dict, *, title: str = "") -> str:
    """A short plain-text table of the odds in a summary, the primary reading's first."""
    lines = [
        f"{PROG}: scenario {summary['scenario']!r}{f' ({title})' if title else ''}, "
        f"{summary['draws']} draws, seed {summary['seed']}",
    ]
    if primary := summary.get("primary"):
        lines.append(f"* primary reading: {primary['tech']} use, share of {primary['metric']}")
        if "counts" in primary:
            lines.append(f"  {primary['counts']}")
    labels = [
        f"{'*' if t.get('primary') else ' '}{t['year']} > {t['threshold']:.0%}  "
        f"{t['metric']} ({t['tech']})"
        for t in summary["targets"]
    ]
    width = max(len(label) for label in labels) + 1
    lines.append(f"{'target':<{width}} {'P(hit)':>6}  {'95% CI':<15}  {'median':>6}  5-95% band")
    for label, t in zip(labels, summary["targets"], strict=True):
        if t["p_hit"] is None:  # calibration refused the posterior: show the prior odds
            t = {k[6:]: v for k, v in t.items() if k.startswith("prior_")}
        lo, hi = t["ci95"]
        lines.append(
            f"{label:<{width}} {t['p_hit']:>6.1%}  {f'[{lo:.1%}, {hi:.1%}]':<15}"
            f"  {t['share_median']:>6.1%}  [{t['share_p05']:.1%}, {t['share_p95']:.1%}]"
            + (f"  out of reach: cap {t['cap']:.1%}" if t.get("note") else "")
        )
    cost = summary.get("public_cost")
    if cost:
        years = sorted(cost["yearly"])
        lines.append(
            f"public cost {years[0]}-{years[-1]}: {cost['total'] / 1e9:,.0f} bn yuan "
            f"(assumed unit costs, low-high: {cost['total_low'] / 1e9:,.0f}-"
            f"{cost['total_high'] / 1e9:,.0f})"
        )
    shocks = {k: v for k, v in summary.get("shocks", {}).items() if v["mean_events"] > 0}
    if shocks:
        lines.append(
            "shocks, mean events per draw: "
            + ", ".join(f"{k} {v['mean_events']:.2f}" for k, v in shocks.items())
        )
    return "\n".join(lines)


def format_comparison(comp: comparison.Comparison) -> str:
    """A short plain-text table of a comparison: odds, paired change and cost per target."""
    runs = comp.scenarios
    width = max(len(r.scenario) for r in runs) + 2
    lines = [
        f"{PROG}: paired comparison with {comp.reference!r}, {comp.draws} draws, "
        f"seed {comp.seed} (common random numbers)"
    ]
    if runs[0].public_cost:
        years = sorted(runs[0].public_cost["yearly"])
        lines.append(
            f"public cost {years[0]}-{years[-1]}, bn yuan: "
            + ", ".join(f"{r.scenario} {r.public_cost['total'] / 1e9:,.0f}" for r in runs)
        )
    lines.append(
        f"{'target / scenario':<{width}} {'P(hit)':>6}  {'change [95% CI], pp':<22}"
        f"{'share chg':>9}  {'extra cost':>11}  {'per 100 bn':>10}"
    )
    for j, t in enumerate(comp.targets):
        lines.append(f"{t.year} > {t.threshold:.0%}  {t.metric} ({t.tech})")
        for r in runs:
            row = r.rows[j]
            text = f"  {r.scenario:<{width - 2}} {row.odds.p_hit:>6.1%}  "
            c = row.change
            if c is None:
                lines.append(text + "(reference)")
                continue
            lo, hi = c.p_hit_diff_ci95
            change = f"{c.p_hit_diff:+.1%} [{lo:+.1%}, {hi:+.1%}]".replace("%", "")
            extra, per = c.extra_cost_yuan, c.p_hit_diff_per_100bn_yuan
            lines.append(
                text
                + f"{change:<22}"
                + f"{c.share_diff * 100:>+6.1f} pp  "
                + (f"{extra / 1e9:>+8,.0f} bn" if extra is not None else f"{'-':>11}")
                + (f"  {per:>+10.1%}".replace("%", " pp") if per is not None else f"  {'-':>10}")
            )
    return "\n".join(lines)


def format_calibration(summary: dict) -> str:
    """Calibration of a summary: effective sample size, status, prior against posterior odds
    and where each observation falls in the predictive distribution."""
    cal = summary["calibration"]
    ok = cal["status"] == "ok"
    lines = [
        f"calibration: {cal['n_used']} observations from {cal['observations_file']}, "
        f"effective sample size {cal['ess']:.1f} of {cal['n_draws']} draws",
        cal["message"] if ok else f"{cal['message']}. The odds above are PRIOR odds.",
    ]
    if ok:
        lines.append(f"{'target':<34} {'prior':>6}  {'posterior':>9}")
        for t in summary["targets"]:
            label = f"{t['year']} > {t['threshold']:.0%}  {t['metric']} ({t['tech']})"
            lines.append(f"{label:<34} {t['prior_p_hit']:>6.1%}  {t['p_hit']:>9.1%}")
    lines.append(f"{'observation':<48} {'value':>6}  {'prior PIT':>9}  {'post. PIT':>9}  status")
    for c in cal["checks"]:
        post = f"{c['posterior']['pit']:>9.3f}" if "posterior" in c else f"{'-':>9}"
        lines.append(
            f"{c['series'] + ' ' + c['date']:<48} {c['value']:>6.3f}  "
            f"{c['prior']['pit']:>9.3f}  {post}  {c['status']}"
        )
    return "\n".join(lines)


def _task(cfg: DictConfig, specs: tuple[Spec, ...] | None) -> None:
    """Hydra's task: run ``specs`` (validated by :func:`main`) in the run folder Hydra made."""
    hc = HydraConfig.get()
    try:
        # Hydra flags (a sweep, say) skip the pre-flight: each job validates its own config.
        specs = specs or to_specs(cfg, list(hc.overrides.task))
    except ConfigError as exc:
        _exit(exc)
    out = Path(hc.runtime.output_dir)
    plain = OmegaConf.to_container(cfg, resolve=True)
    results.write_text(OmegaConf.to_yaml(OmegaConf.create(plain)), out / "config.yaml")
    try:
        if cfg.get("compare"):
            _, comp = pipeline.run_comparison(specs, folder=out)
            print(format_comparison(comp))
        else:
            _, summary = pipeline.run_one(specs[0], folder=out)
            print(format_odds(summary, title=specs[0].scenario.title))
            if "calibration" in summary:
                print(format_calibration(summary))
    except ConfigError as exc:  # chunks of another run in the folder, an unreachable scheduler
        _exit(exc)
    print(f"results: {out}")


def _error(exc: ConfigError) -> int:
    """Print a user's error in one line; the exit status to return."""
    print(f"{PROG}: error: {exc}", file=sys.stderr)
    return 2


def _exit(exc: ConfigError) -> NoReturn:
    sys.exit(_error(exc))


def _preflight(argv: list[str]) -> tuple[Spec, ...]:
    """Validate the command line before Hydra makes a run folder: the Specs of its runs."""
    specs = to_specs(compose_config(argv), argv)
    dirs = [a.split("=", 1)[1] for a in argv if a.startswith("hydra.run.dir=")]
    if dirs:  # a named run folder may hold an interrupted run's chunks
        storage.chunk_folder(Path(dirs[-1]).expanduser(), specs[0]).check(resume=specs[0].mc.resume)
    return specs


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m sim`` and the ``aiplus-sim`` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--list-scenarios" in argv:
        try:
            print(format_scenarios())
        except ConfigError as exc:
            return _error(exc)
        return 0
    argv = [_compare_as_list(a) for a in argv]
    specs = None
    if not any(a.startswith("-") for a in argv):
        try:
            specs = _preflight(argv)
        except ConfigError as exc:
            return _error(exc)

    def task(cfg: DictConfig) -> None:
        _task(cfg, specs)

    sys.argv = [sys.argv[0], *argv]
    hydra.main(config_path=str(paths.conf_dir()), config_name="config", version_base="1.3")(task)()
    return 0


def format_scenarios() -> str:
    """The shipped scenarios, one a line: name and title."""
    rows = scenario_titles(paths.scenarios_dir())
    width = max(len(n) for n, _ in rows) + 2
    return "\n".join([f"{'scenario':<{width}}title", *(f"{n:<{width}}{t}" for n, t in rows)])


def _compare_as_list(arg: str) -> str:
    """``compare=a,b,c`` -> ``compare=[a,b,c]`` (Hydra reads a bare comma list as a sweep)."""
    key, _, value = arg.partition("=")
    if override_key(arg) == "compare" and "," in value and not value.startswith("["):
        return f"{key}=[{value}]"
    return arg
