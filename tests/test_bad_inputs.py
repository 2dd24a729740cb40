"""Property-based: malformed and out-of-range configs and scenario files (any bytes, keys written
twice, years that are not whole), run folders no run may own, in every form of ``hydra.run.dir``
and inside a sweep (``-m``), never crash the command line with a traceback nor leave output; they
give one clean line and exit status 2."""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.config import load_spec
from sim.spec import LEVERS, ConfigError

from helpers import CHEAP

#: Cheap settings first, so that an input wrongly accepted costs a small run, not the default one.
PROPERTY = settings(max_examples=20, deadline=None, derandomize=True, database=None)

non_finite = st.sampled_from([math.nan, math.inf, -math.inf])


def _below(x: float) -> st.SearchStrategy[float]:
    return st.floats(max_value=x, exclude_max=True, allow_nan=False) | non_finite


def _above(x: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=x, exclude_min=True, allow_nan=False) | non_finite


def _ints_outside(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(max_value=lo - 1) | st.integers(min_value=hi + 1)


#: Keys with a range, and values outside it (or of the wrong type).
OUT_OF_RANGE = {
    "mc.draws": _ints_outside(1, 10_000_000),
    "mc.chunk": _ints_outside(1, 100_000),
    "mc.threads": _ints_outside(1, 1024),
    "mc.seed": st.integers(max_value=-1),
    "population.n_agents": _ints_outside(10, 10_000_000),
    "population.firm_fraction": _below(0.0) | _above(1.0),
    "rules.p": _below(0.0),
    "rules.m": _below(0.0) | st.just(0.0) | _above(1.0),
    "rules.network_degree": _ints_outside(1, 100),
    "rules.influence.segment": _below(0.0) | _above(1.0),
    "priors.levers.curvature": _below(0.0) | _above(50.0),
}
WRONG_TYPE = st.sampled_from(["abc", "true", "[1, 2]", "{a: 1}", "null", "1.5", "'7'"])
INT_KEYS = (
    "mc.draws",
    "mc.chunk",
    "mc.threads",
    "mc.seed",
    "population.n_agents",
    "rules.network_degree",
)
CHOICES = {
    "mc.backend": ("serial", "dask"),
    "scenario": ("baseline",),
    "rules.adoption": ("bass",),
    "levers": ("current_policy", "none"),
    "uncertainty": ("lhs", "none", "sobol"),
}
name = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)


@st.composite
def bad_override(draw) -> str:
    kind = draw(st.sampled_from(["range", "type", "choice", "key", "syntax"]))
    if kind == "range":
        key = draw(st.sampled_from(sorted(OUT_OF_RANGE)))
        return f"{key}={draw(OUT_OF_RANGE[key])!r}"
    if kind == "type":
        return f"{draw(st.sampled_from(INT_KEYS))}={draw(WRONG_TYPE)}"
    if kind == "choice":
        key = draw(st.sampled_from(sorted(CHOICES)))
        return f"{key}={draw(name.filter(lambda v: v not in CHOICES[key]))}"
    if kind == "key":
        top = draw(st.sampled_from(["mc", "rules", "time", "population"]))
        return f"{top}.{draw(name.filter(lambda v: v not in {'draws', 'seed', 'chunk'}))}=1"
    return f"mc.draws={draw(st.sampled_from(['[', '{', ']', '${', '${nosuch:}', '${mc.no}']))}"


BASE_SCENARIO = {"title": "t", "description": "d", "levers": {}, "priors": {}}
PROVINCES_LIKE = name.filter(lambda v: v not in {"Beijing", "Shanghai"})


@st.composite
def bad_scenario(draw) -> dict:
    """A scenario with one thing wrong: the rest is valid."""
    s = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE_SCENARIO.items()}
    lever = draw(st.sampled_from(LEVERS))
    year = draw(st.integers(2025, 2030))
    prior = {"dist": "uniform", "low": 0.1, "high": 0.5, "reason": "test"}
    fault = draw(st.integers(0, 10))
    if fault == 0:
        s["levers"] = {draw(name.filter(lambda v: v not in LEVERS)): {"intensity": {year: 1.0}}}
    elif fault == 1:
        level = draw(_below(0.0) | _above(100.0))
        s["levers"] = {lever: {"intensity": {year: level}}}
    elif fault == 2:
        bad_year = draw(st.integers(max_value=1999) | st.integers(min_value=2036) | name)
        s["levers"] = {lever: {"intensity": {bad_year: 1.0}}}
    elif fault == 3:
        s["levers"] = {lever: {"scope": {"provinces": [draw(PROVINCES_LIKE)]}}}
    elif fault == 4:
        s["priors"] = {"agent.m": {**prior, "high": draw(_above(1.0))}}
    elif fault == 5:
        s["priors"] = {f"agent.{draw(name)}": prior}
    elif fault == 6:
        s["priors"] = {"agent.q": {**prior, "low": 0.6}}  # low above high
    elif fault == 7:
        s["priors"] = {"agent.q": {**prior, "dist": draw(name)}}
    elif fault == 8:
        s["priors"] = {"agent.q": {k: v for k, v in prior.items() if k != "reason"}}
    elif fault == 9:
        s[draw(st.sampled_from(["title", "description"]))] = draw(
            st.none() | st.integers() | st.lists(st.integers(), max_size=2) | st.just("  ")
        )
    else:
        s[draw(name.filter(lambda v: v not in BASE_SCENARIO))] = 1
    return s


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


#: The ways a user can name the run folder on the command line.
RUN_DIR_FORMS = ("hydra.run.dir={}", "++hydra.run.dir={}", "hydra.run.dir='{}'")


def _assert_clean_exit(
    argv: list[str], *, existing: bool, form: str = RUN_DIR_FORMS[0], sweep: bool = False
) -> None:
    """Exit status 2, one line on stderr, and the output folder as it was: absent, or (an
    earlier run's folder) untouched. ``sweep``: the same inside a sweep (``-m``) of two runs."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        if existing:
            out.mkdir()
            (out / "results.nc").write_bytes(b"an earlier run")
        before = _snapshot(Path(tmp))
        err = io.StringIO()
        swept = ["-m", "report=false,true"] if sweep else []
        with contextlib.redirect_stderr(err):
            code = main([*swept, *CHEAP, *argv, form.format(out)])
        lines = err.getvalue().strip().splitlines()
        assert code == 2, argv
        assert len(lines) == 1 and lines[0].startswith("aiplus-sim: error: "), lines
        assert _snapshot(Path(tmp)) == before
        assert sorted(p.name for p in Path(tmp).iterdir()) == (["run"] if existing else [])


@PROPERTY
@given(bad_override(), st.booleans(), st.sampled_from(RUN_DIR_FORMS), st.booleans())
def test_bad_overrides_give_a_clean_error(override, existing, form, sweep):
    _assert_clean_exit([override], existing=existing, form=form, sweep=sweep)


#: Run folders no run may write to: what is there, and where the run is pointed.
BAD_RUN_DIRS = {
    "a device": (None, "/dev/null"),
    "a file": ("file", "{tmp}/x"),
    "under a file": ("file", "{tmp}/x/run"),
    "another's folder": ("folder", "{tmp}/x"),
    "a finished run": ("finished", "{tmp}/x"),
}


@settings(PROPERTY, max_examples=10)
@given(st.sampled_from(sorted(BAD_RUN_DIRS)), st.sampled_from(RUN_DIR_FORMS), st.booleans())
def test_a_run_folder_no_run_may_own_gives_a_clean_error(case, form, sweep):
    kind, path = BAD_RUN_DIRS[case]
    with tempfile.TemporaryDirectory() as tmp:
        x = Path(tmp) / "x"
        if kind == "file":
            x.write_text("a user's file")
        elif kind is not None:
            x.mkdir()
            (x / ("summary.json" if kind == "finished" else "notes.txt")).write_text("{}")
        before = _snapshot(Path(tmp))
        err = io.StringIO()
        swept = ["-m", "report=false,true"] if sweep else []
        with contextlib.redirect_stderr(err):
            code = main([*swept, *CHEAP, form.format(path.format(tmp=tmp))])
        lines = err.getvalue().strip().splitlines()
        assert code == 2, lines
        assert len(lines) == 1 and lines[0].startswith("aiplus-sim: error: "), lines
        assert "hydra.run.dir" in lines[0] or "mc.overwrite" in lines[0], lines
        assert _snapshot(Path(tmp)) == before


@PROPERTY
@given(bad_scenario(), st.booleans())
def test_bad_scenario_files_give_a_clean_error(scenario, existing):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mine.yaml"
        path.write_text(yaml.safe_dump(scenario), encoding="utf-8")
        _assert_clean_exit([f"scenario={path}"], existing=existing)


@st.composite
def bad_scenario_text(draw) -> bytes:
    """A valid scenario file's text with one thing wrong that a dict cannot express: a key
    written twice, a year that is not whole, a number written 1e308, bytes that are not UTF-8."""
    lever = draw(st.sampled_from(LEVERS))
    lines = ["title: t", "description: d", "levers:", f"  {lever}:", "    intensity:"]
    lines.append("      2026: 1.0")
    fault = draw(st.integers(0, 4))
    if fault == 0:
        key = draw(st.sampled_from(["title: again", "levers: {}", "description: again"]))
        lines.append(key)
    elif fault == 1:
        lines.append("      2026: 2.0")  # the same year twice in one schedule
    elif fault == 2:
        lines.append(f"      {draw(st.sampled_from(['2026.5', '2027.25', '2030.0']))}: 1.0")
    elif fault == 3:
        lines.append(f"      2027: {draw(st.sampled_from(['1e308', '-1e308', '1E+300']))}")
    text = ("\n".join(lines) + "\n").encode()
    if fault == 4:  # invalid UTF-8 somewhere in the file
        junk = draw(st.sampled_from([b"\xff", b"\xfe\xfe", b"\xc3\x28", b"\xe2\x82"]))
        at = draw(st.integers(0, len(text)))
        text = text[:at] + junk + text[at:]
    return text


@PROPERTY
@given(bad_scenario_text(), st.booleans())
def test_bad_scenario_text_gives_a_clean_error(text, existing):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mine.yaml"
        path.write_bytes(text)
        _assert_clean_exit([f"scenario={path}"], existing=existing)


@settings(PROPERTY, max_examples=8)
@given(st.binary(max_size=200))
def test_any_scenario_bytes_are_either_valid_or_a_clean_error(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mine.yaml"
        path.write_bytes(data)
        try:
            load_spec([*CHEAP, f"scenario={path}"])
        except ConfigError as exc:
            assert "\n" not in str(exc)
            _assert_clean_exit([f"scenario={path}"], existing=False)


@settings(PROPERTY, max_examples=12)
@given(st.text(st.characters(codec="utf-8"), max_size=200))
def test_any_scenario_text_is_either_valid_or_a_clean_error(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mine.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_spec([*CHEAP, f"scenario={path}"])
        except ConfigError as exc:
            assert "\n" not in str(exc)
            _assert_clean_exit([f"scenario={path}"], existing=False)
