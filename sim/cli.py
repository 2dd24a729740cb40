"""Command line: ``python -m sim [scenario=NAME] [key=value ...]`` (Hydra overrides).

``python -m sim compare=REF,NAME,...`` runs several scenarios with common random numbers and
compares each with the first; ``python -m sim --list-scenarios`` names the shipped scenarios.
Inputs are validated before Hydra creates a run folder, so a bad input prints one line, exits with
status 2 and leaves no output behind. Finished chunks go to ``RUN_FOLDER/chunks`` as they complete
and are removed once ``results.nc`` is written; ``mc.resume=true hydra.run.dir=RUN_FOLDER``
finishes an interrupted run.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim import calibration, comparison, paths, results, targets
from sim.config import compose_config, load_spec, to_spec
from sim.engine import simulate, storage
from sim.report import write_comparison_report, write_report
from sim.spec import ConfigError, scenario_titles

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
        if t["p_hit"] is None:  # calibration refused the posterior: show the prior odds
            t = {k[6:]: v for k, v in t.items() if k.startswith("prior_")}
        lo, hi = t["ci95"]
        lines.append(
            f"{label:<34} {t['p_hit']:>6.1%}  [{lo:.1%}, {hi:.1%}]".ljust(57)
            + f"  {t['share_median']:>6.1%}  [{t['share_p05']:.1%}, {t['share_p95']:.1%}]"
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


def _compare(cfg: DictConfig, overrides: list[str], out: Path) -> None:
    """Run each scenario of ``cfg.compare`` and compare it with the first."""
    runs = []
    for name in cfg.compare:
        one = copy.deepcopy(cfg)
        one.scenario = str(name)
        spec = to_spec(one, overrides)
        ds = simulate(spec)
        folder = out / spec.scenario.name
        folder.mkdir(parents=True, exist_ok=True)
        results.write(ds, folder / "results.nc")
        summary = targets.summarize(ds)
        results.write_text(json.dumps(summary, indent=2) + "\n", folder / "summary.json")
        runs.append(ds)
    comp = comparison.compare(runs)
    results.write_text(json.dumps(comp.to_dict(), indent=2) + "\n", out / "comparison.json")
    write_comparison_report(comp, out, charts=spec.report)
    print(format_comparison(comp))
    print(f"results: {out}")


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


def _task(cfg: DictConfig) -> None:
    hc = HydraConfig.get()
    try:
        spec = to_spec(cfg, list(hc.overrides.task))
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    out = Path(hc.runtime.output_dir)
    plain = OmegaConf.to_container(cfg, resolve=True)
    results.write_text(OmegaConf.to_yaml(OmegaConf.create(plain)), out / "config.yaml")
    if cfg.get("compare"):
        _compare(cfg, list(hc.overrides.task), out)
        return
    try:
        ds = simulate(spec, folder=out)
    except ConfigError as exc:  # chunks of another run in the folder, an unreachable scheduler
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    ds = calibration.calibrate(ds, spec.calibration)
    summary = targets.summarize(ds)
    results.write(ds, out / "results.nc")
    results.write_text(json.dumps(summary, indent=2) + "\n", out / "summary.json")
    storage.remove_chunks(out)  # results.nc now holds every draw
    write_report(ds, out, charts=spec.report)
    print(format_odds(summary, title=spec.scenario.title))
    if "calibration" in summary:
        print(format_calibration(summary))
    print(f"results: {out}")


def _run_dir(argv: list[str]) -> Path | None:
    """The run folder named by a ``hydra.run.dir=`` override (a resumable run's), if any."""
    dirs = [a.split("=", 1)[1] for a in argv if a.startswith("hydra.run.dir=")]
    return Path(dirs[-1]).expanduser() if dirs else None


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m sim`` and the ``aiplus-sim`` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--list-scenarios" in argv:
        try:
            print(format_scenarios())
        except ConfigError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 2
        return 0
    argv = [_compare_as_list(a) for a in argv]
    if not any(a.startswith("-") for a in argv):
        try:
            cfg = compose_config(argv)
            spec = to_spec(cfg, argv)
            if (run_dir := _run_dir(argv)) is not None:
                storage.chunk_folder(run_dir, spec).check(resume=spec.mc.resume)
            # A comparison: every scenario it names must load under the same overrides.
            compared = list(cfg.get("compare") or ())
            if compared and any(_key(a) == "scenario" for a in argv):
                raise ConfigError(
                    "command line", "compare", "give the scenarios in compare=, not scenario="
                )
            rest = [a for a in argv if _key(a) != "compare"]
            for name in compared:
                load_spec([*rest, f"scenario={name}"])
        except ConfigError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 2
    sys.argv = [sys.argv[0], *argv]
    run = hydra.main(config_path=str(paths.conf_dir()), config_name="config", version_base="1.3")(
        _task
    )
    run()
    return 0


def format_scenarios() -> str:
    """The shipped scenarios, one a line: name and title."""
    rows = scenario_titles(paths.scenarios_dir())
    width = max(len(n) for n, _ in rows) + 2
    return "\n".join([f"{'scenario':<{width}}title", *(f"{n:<{width}}{t}" for n, t in rows)])


def _key(arg: str) -> str:
    return arg.lstrip("+~").split("=", 1)[0]


def _compare_as_list(arg: str) -> str:
    """``compare=a,b,c`` -> ``compare=[a,b,c]`` (Hydra reads a bare comma list as a sweep)."""
    key, _, value = arg.partition("=")
    if _key(arg) == "compare" and "," in value and not value.startswith("["):
        return f"{key}=[{value}]"
    return arg
