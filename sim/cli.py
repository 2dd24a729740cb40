"""Command line: ``python -m sim [scenario=NAME] [key=value ...]`` (Hydra overrides).

``python -m sim compare=REF,NAME,...`` runs several scenarios with common random numbers and
compares each with the first; ``python -m sim -m KEY=A,B ...`` sweeps (:mod:`sim.sweep`);
``python -m sim --list-scenarios`` names the shipped scenarios. ``drivers=sobol`` adds what drives
the odds to a run (:mod:`sim.analysis`); ``design=NAME`` (``conf/design/``) finds the cheapest
programme that reaches a target's odds and writes it as a scenario file (:mod:`sim.design`).

The whole configuration (every run of a sweep, every scenario of a comparison, the run folder, a
Dask scheduler's address) is validated before anything is written, so a bad input prints one
line, exits with status 2 and leaves no output behind. A run is built in ``RUN_FOLDER.partial``
and renamed to ``RUN_FOLDER`` when complete (:mod:`sim.runfolder`); a folder holding a finished
run is replaced only with ``mc.overwrite=true``. Finished chunks go to ``RUN_FOLDER.partial/chunks``
as they complete; after Ctrl-C (exit status 130) or a crash, ``mc.resume=true
hydra.run.dir=RUN_FOLDER`` finishes the run.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim import calibration, comparison, console, paths, pipeline, results, runfolder, sweep
from sim.config import (
    compose_config,
    is_sweep,
    override_key,
    run_dir,
    sweep_jobs,
    to_analyses,
    to_specs,
)
from sim.engine import backends, storage
from sim.spec import ConfigError, Spec, scenario_titles
from sim.spec.analysis import DesignSpec, DriversSpec

PROG = "aiplus-sim"


def format_odds(summary: dict, *, title: str = "") -> str:
    """A short plain-text table of the odds in a summary, the primary reading's first."""
    lines = [
        f"{PROG}: scenario {summary['scenario']!r}{f' ({title})' if title else ''}, "
        f"{calibration.describe_draws(summary)}, seed {summary['seed']}",
    ]
    if over := summary.get("overrides"):
        lines.append(overrides_line(over))
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


def overrides_line(overrides: dict[str, list[str]]) -> str:
    """One line naming what a run changed: command-line overrides and its scenario's keys."""
    cli = " ".join(overrides.get("command_line", [])) or "none"
    scen = ", ".join(overrides.get("scenario", [])) or "none"
    return f"overrides: command line {cli}; scenario file sets {scen}"


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


def format_drivers(summary: dict) -> str:
    """One line per primary target year: the parameters with the largest total-order Sobol'
    index of the target-year share (``summary["drivers"]``)."""
    lines = []
    for e in summary["drivers"]["targets"]:
        if e["output"] != "share":
            continue
        top = [p for p in e["parameters"] if p["total_order"] is not None][:5]
        named = ", ".join(f"{p['parameter']} {p['total_order']:.2f}" for p in top)
        lines.append(f"drivers of the {e['year']} share (total Sobol' index): {named}")
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
    if "sampler" in cal:
        lines.append(calibration.describe_sampler(cal["sampler"]))
    lineages = calibration.describe_lineages(cal) if ok else None
    if lineages is not None:
        lines.append(lineages)
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


def _task(
    cfg: DictConfig,
    specs: tuple[Spec, ...],
    drivers: DriversSpec | None = None,
    plan_design: DesignSpec | None = None,
) -> None:
    """Hydra's task: run ``specs`` (validated before Hydra made the folder, so relative paths
    hold under ``hydra.job.chdir=true``) in the folder Hydra made."""
    out = Path(HydraConfig.get().runtime.output_dir)
    plain = OmegaConf.to_container(cfg, resolve=True)
    results.write_text(OmegaConf.to_yaml(OmegaConf.create(plain)), out / "config.yaml")
    try:
        if cfg.get("compare"):
            _, comp = pipeline.run_comparison(specs, folder=out)
            print(format_comparison(comp))
        elif plan_design is not None:
            found, path = pipeline.run_design(specs[0], plan_design, folder=out)
            print(found.sentence())
            print(f"scenario file: {path.name} in the results folder (run it: scenario=PATH)")
        else:
            _, summary = pipeline.run_one(specs[0], folder=out, drivers=drivers)
            print(format_odds(summary, title=specs[0].title))
            if "calibration" in summary:
                print(format_calibration(summary))
            if "drivers" in summary:
                print(format_drivers(summary))
    except ConfigError as exc:  # a scheduler that went away after the pre-flight check
        _exit(exc)


def _error(exc: ConfigError) -> int:
    """Print a user's error in one line; the exit status to return."""
    print(f"{PROG}: error: {exc}", file=sys.stderr)
    return 2


def _exit(exc: ConfigError) -> NoReturn:
    sys.exit(_error(exc))


#: Hydra options that only print (help, the config, information): handed to Hydra, nothing runs.
PRINT_ONLY = (
    "-h",
    "--help",
    "--hydra-help",
    "-c",
    "--cfg",
    "-i",
    "--info",
    "--resolve",
    "-p",
    "--package",
    "-sc",
    "--shell-completion",
)
#: Options that ask for a sweep: one run per combination of the swept values (:mod:`sim.sweep`).
SWEEP = ("-m", "--multirun")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m sim`` and the ``aiplus-sim`` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--help" in argv or "-h" in argv:
        print(console.HELP, end="")
        return 0
    argv = ["--help" if a == "--help-all" else a for a in argv]
    if not any(a.startswith("-") for a in argv):
        argv = console.single_draw(argv)
    argv = console.quick(argv, os.environ)  # AIPLUS_QUICK shrinks sweeps too
    if "--list-scenarios" in argv:
        try:
            print(format_scenarios())
        except ConfigError as exc:
            return _error(exc)
        return 0
    argv = [_compare_as_list(a) for a in argv]
    if any(a.split("=", 1)[0] in PRINT_ONLY for a in argv):
        _hydra(argv, lambda cfg: None)
        return 0
    try:
        flags = [a for a in argv if a.startswith("-")]
        for flag in flags:
            if flag not in (*SWEEP, "-r", "--run"):
                allowed = "--list-scenarios, -m/--multirun, --help, --help-all, --cfg, --info"
                raise ConfigError("command line", flag, f"unknown option; allowed: {allowed}")
        overrides = [a for a in argv if not a.startswith("-")]
        if set(flags) & set(SWEEP) or is_sweep(overrides):
            return _sweep(overrides)
        return _single(overrides)
    except ConfigError as exc:
        return _error(exc)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing was written", file=sys.stderr)
        return 130


@dataclass(frozen=True)
class _Plan:
    """A validated run: its overrides, the specs it runs and the folder it will own."""

    overrides: tuple[str, ...]
    cfg: DictConfig
    specs: tuple[Spec, ...]
    final: Path
    drivers: DriversSpec | None = None
    design: DesignSpec | None = None

    @property
    def subfolders(self) -> tuple[str, ...]:
        return tuple(s.scenario.name for s in self.specs) if self.cfg.get("compare") else ()


def _validate(overrides: list[str], final: Path | None = None) -> _Plan:
    """Compose and validate a run's whole configuration, every compared scenario included."""
    cfg = compose_config(overrides)
    specs = to_specs(cfg, overrides)  # every compared scenario included
    drivers, design = to_analyses(cfg, specs[0], overrides)
    return _Plan(tuple(overrides), cfg, specs, final or run_dir(cfg), drivers, design)


def _check(plan: _Plan) -> None:
    """What a run needs besides a valid configuration, checked before anything is written: a
    folder it can own, chunks of this configuration only, a reachable scheduler."""
    spec = plan.specs[0]
    runfolder.check(plan.final, overwrite=spec.mc.overwrite)
    if not plan.subfolders:
        storage.chunk_folder(runfolder.partial_of(plan.final), spec).check(resume=spec.mc.resume)
    for s in plan.specs:
        if s.mc.scheduler is not None:
            backends.check_scheduler(s.mc.scheduler)


def _execute(plan: _Plan) -> None:
    """Run a checked plan: Hydra writes into the folder's partial sibling, renamed when done."""
    with runfolder.claim(
        plan.final, overwrite=plan.specs[0].mc.overwrite, subfolders=plan.subfolders
    ) as run:
        partial = f"hydra.run.dir={_quoted(run.partial)}"  # the last override of a key wins
        _hydra(
            [*plan.overrides, partial],
            lambda cfg: _task(cfg, plan.specs, plan.drivers, plan.design),
        )
        run.commit()


def _single(overrides: list[str]) -> int:
    plan = _validate(overrides)
    _check(plan)
    try:
        _execute(plan)
    except KeyboardInterrupt:
        print(f"{PROG}: {_interrupted(plan.final, 'hydra.run.dir')}", file=sys.stderr)
        return 130
    print(f"results: {plan.final}")
    return 0


def _sweep(overrides: list[str]) -> int:
    """``-m``: every run of the sweep validated and checked before any is written; each run in a
    sub-folder named by its overrides; the odds of all of them in ``odds.csv``."""
    if any(override_key(a) == "compare" for a in overrides):
        raise ConfigError(
            "command line", "compare", "a sweep (-m) runs one scenario a run; sweep scenario=a,b"
        )
    runs = sweep.jobs(*sweep_jobs(overrides))
    final = run_dir(compose_config(list(runs[0].overrides)), sweep=True)
    partial = runfolder.partial_of(final)
    plans = [_validate(list(job.overrides), partial / job.name) for job in runs]
    resume, overwrite = plans[0].specs[0].mc.resume, plans[0].specs[0].mc.overwrite
    runfolder.check(final, overwrite=overwrite)
    done = [p.final.is_dir() and runfolder.is_finished(p.final) for p in plans]
    if any(done) and not resume:
        raise ConfigError(
            str(final),
            "mc.resume",
            f"{sum(done)} finished runs of an interrupted sweep are in {partial}; rerun with "
            "mc.resume=true to finish it, or choose another hydra.run.dir",
        )
    for plan, finished in zip(plans, done, strict=True):
        if finished:
            _same_config(plan)
        else:
            _check(plan)
    try:
        with runfolder.claim(final, overwrite=overwrite) as run:
            for plan, finished in zip(plans, done, strict=True):
                if not finished:
                    _execute(plan)
            summaries = [sweep.read_summary(run.partial / job.name) for job in runs]
            sweep.write_table(sweep.table(runs, summaries), run.partial / "odds.csv")
            run.commit()
    except KeyboardInterrupt:
        key = (
            "hydra.sweep.dir"
            if any(override_key(a) == "hydra.sweep.dir" for a in overrides)
            else ""
        )
        print(f"{PROG}: {_interrupted(final, key or 'hydra.run.dir')}", file=sys.stderr)
        return 130
    print(sweep.format_table(runs, summaries, prog=PROG))
    print(f"results: {final}")
    return 0


def _same_config(plan: _Plan) -> None:
    """Refuse to resume a sweep whose finished run has another configuration than this one's."""

    def plain(cfg: Any) -> dict:
        out = yaml.safe_load(OmegaConf.to_yaml(OmegaConf.create(cfg), resolve=True))
        for key in ("resume", "overwrite"):
            out.get("mc", {}).pop(key, None)
        return out

    stored = yaml.safe_load((plan.final / "config.yaml").read_text(encoding="utf-8"))
    ours = OmegaConf.to_container(plan.cfg, resolve=False)
    ours.pop("hydra", None)
    if plain(stored) != plain(ours):
        raise ConfigError(
            str(plan.final),
            "mc.resume",
            "this finished run of the sweep has another configuration; resume with the same "
            "settings, or choose another hydra.run.dir",
        )


def _interrupted(final: Path, key: str) -> str:
    """The one line printed on Ctrl-C: how to resume, if anything was kept."""
    if runfolder.partial_of(final).is_dir():
        return f"interrupted; resume with mc.resume=true {key}={final}"
    return "interrupted before any chunk finished; nothing was kept"


def _hydra(argv: list[str], task: Callable[[DictConfig], None]) -> None:
    sys.argv = [sys.argv[0], *argv]
    hydra.main(config_path=str(paths.conf_dir()), config_name="config", version_base="1.3")(task)()


def _quoted(path: Path) -> str:
    """``path`` as a quoted Hydra override value that reads back as the same text."""
    text = re.sub(r"(\\*)'", lambda m: m.group(1) * 2 + "\\'", str(path))
    text = re.sub(r"(\\+)$", lambda m: m.group(1) * 2, text)
    return "'" + text.replace("${", "\\${") + "'"


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
