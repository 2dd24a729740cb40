"""Validation primitives: read one value of a config or scenario file, or fail in one line.

A :class:`Reader` knows the file it reads and the key prefix it is under, so every
:class:`~sim.vocab.ConfigError` it raises names the file, the full key and what is allowed. The
functions below read the pieces that several sections share: priors, yearly schedules and scopes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from sim import data
from sim.spec.model import Prior, Scope
from sim.vocab import DISTS, KEY_AREAS, KINDS, REGIONS, SIZE_CLASSES, ConfigError

#: Last month that a run may simulate.
MAX_END = (2035, 12)
#: Month of the starting state: the priors ``*.s0_*`` are end-2024 data, so a run starts the month
#: after (``time.start``).
ANCHOR = (2024, 12)
_PROB_PARAMS = (
    "terminal.m",
    "agent.m",
    "terminal.m_firms",
    "agent.m_firms",
    "joint.correlation",
)


class Reader:
    """Reads one mapping from one source, raising :class:`ConfigError` that names both.

    Parameters
    ----------
    where : str
        The file (or ``command line``) the values come from.
    prefix : str
        Dotted key the values sit under, prepended to every key named in a message.
    """

    def __init__(self, where: str, prefix: str = "") -> None:
        self.where, self.prefix = where, prefix

    def key(self, k: str) -> str:
        """The full dotted key of ``k`` under this reader's prefix."""
        if not self.prefix or not k:
            return self.prefix or str(k)
        return f"{self.prefix}.{k}"

    def fail(self, k: str, problem: str) -> ConfigError:
        """The error to raise for ``problem`` at key ``k``."""
        return ConfigError(self.where, self.key(k), problem)

    def mapping(self, value: Any, k: str) -> Mapping[str, Any]:
        """``value`` as a mapping (``None`` is empty)."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(k, f"expected a mapping, got {type(value).__name__} {value!r}")
        return value

    def known(self, m: Mapping[str, Any], allowed: Sequence[str], k: str = "") -> None:
        """Fail on the first key of ``m`` (under ``k``) that is not in ``allowed``."""
        for name in m:
            if name not in allowed:
                raise ConfigError(
                    self.where,
                    self.key(f"{k}.{name}" if k else str(name)),
                    f"unknown key; allowed: {', '.join(allowed)}",
                )

    def number(
        self,
        value: Any,
        k: str,
        lo: float = -math.inf,
        hi: float = math.inf,
        *,
        integer: bool = False,
        lo_open: bool = False,
    ) -> float:
        """A finite number (or an integer) in ``[lo, hi]``, or ``(lo, hi]`` when ``lo_open``."""
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or (not integer and not math.isfinite(value)):
            kind = "an integer" if integer else "a number"
            raise self.fail(k, f"expected {kind}, got {value!r}")
        if value < lo or value > hi or (lo_open and value == lo):
            lo_s = f"> {lo:g}" if lo_open else f">= {lo:g}"
            rng = f"{lo_s} and <= {hi:g}" if math.isfinite(hi) else lo_s
            raise self.fail(k, f"{value!r} is out of range; allowed: {rng}")
        return int(value) if integer else float(value)

    def choice(self, value: Any, allowed: Sequence[str], k: str) -> str:
        """``value``, which must be one of ``allowed``."""
        if value not in allowed:
            raise self.fail(k, f"{value!r} is not allowed; allowed: {', '.join(allowed)}")
        return value

    def boolean(self, value: Any, k: str) -> bool:
        """``value``, which must be true or false."""
        if not isinstance(value, bool):
            raise self.fail(k, f"expected true or false, got {value!r}")
        return value

    def names(self, value: Any, allowed: Sequence[str], k: str) -> tuple[str, ...]:
        """A list of names, each one of ``allowed`` (``None`` is empty)."""
        if value is None:
            return ()
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise self.fail(k, f"expected a list, got {value!r}")
        for v in value:
            self.choice(v, allowed, k)
        return tuple(value)

    def month(self, value: Any, k: str) -> tuple[int, int]:
        """A month written ``YYYY-MM``, as (year, month)."""
        try:
            y, m = (int(x) for x in str(value).split("-"))
            if not 1 <= m <= 12:
                raise ValueError
        except ValueError:
            raise self.fail(k, f"expected a month as 'YYYY-MM', got {value!r}") from None
        return y, m


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, strict where a planner would be surprised: a key written twice is an
    error (not the last value silently), and ``1e308`` is a number, as in YAML 1.2 (YAML 1.1
    wants a dot, ``1.0e308``, and reads ``1e308`` as text)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key if isinstance(key, Hashable) else id(key_node))
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_yaml(path: Path) -> Mapping[str, Any]:
    """Read a YAML mapping, turning every failure into a one-line :class:`ConfigError`.

    A key written twice in one mapping is an error; a UTF-8 byte-order mark is allowed.
    """
    if not path.is_file():
        raise ConfigError(str(path), "", "file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            str(path),
            "",
            f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})",
        ) from None
    except OSError as exc:
        raise ConfigError(
            str(path), "", f"cannot read: {exc.strerror or type(exc).__name__}"
        ) from None
    try:
        raw = yaml.load(text, Loader=_Loader)  # a SafeLoader: plain data only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ConfigError(str(path), "", f"malformed YAML{at}: {problem}") from None
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(str(path), "", f"expected a mapping at the top, got {type(raw).__name__}")
    return raw


def read_prior(r: Reader, name: str, raw: Any) -> Prior:
    """A prior from its mapping: ``dist``, its support, ``central`` and a one-line ``reason``."""
    m = r.mapping(raw, name)
    r.known(m, ("dist", "low", "high", "mode", "value", "central", "reason"), name)
    dist = r.choice(m.get("dist", "uniform"), DISTS, f"{name}.dist")
    reason = m.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise r.fail(f"{name}.reason", "every prior needs a one-line reason or source")
    if dist == "fixed":
        if "value" not in m:
            raise r.fail(f"{name}.value", "a fixed prior needs a value")
        v = r.number(m["value"], f"{name}.value")
        return Prior(name, dist, v, v, None, v, reason)
    for need in ("low", "high"):
        if need not in m:
            raise r.fail(f"{name}.{need}", f"a {dist} prior needs low and high")
    low = r.number(
        m["low"],
        f"{name}.low",
        0.0 if dist == "loguniform" else -math.inf,
        lo_open=dist == "loguniform",
    )
    high = r.number(m["high"], f"{name}.high", low)
    mode = None
    if dist == "triangular":
        if "mode" not in m:
            raise r.fail(f"{name}.mode", "a triangular prior needs a mode")
        mode = r.number(m["mode"], f"{name}.mode", low, high)
    prior = Prior(name, dist, low, high, mode, 0.0, reason)
    central = (
        float(prior.ppf(0.5))
        if m.get("central") is None
        else r.number(m["central"], f"{name}.central", low, high)
    )
    return replace(prior, central=central)


def read_value_prior(r: Reader, name: str, raw: Any, reason: str) -> Prior:
    """A prior from its mapping, or, as a planner's shorthand, a fixed value from a bare number."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        v = r.number(raw, name)
        return Prior(name, "fixed", v, v, None, v, reason)
    return read_prior(r, name, raw)


def check_support(r: Reader, key: str, p: Prior, lo: float, hi: float) -> None:
    """Fail unless the prior's support lies in ``[lo, hi]``."""
    if p.low < lo or p.high > hi:
        allowed = f"[{lo:g}, {hi:g}]" if math.isfinite(hi) else f">= {lo:g}"
        raise r.fail(key, f"support [{p.low:g}, {p.high:g}] is out of range; allowed: {allowed}")


def check_param_range(r: Reader, p: Prior) -> None:
    """Parameters that are probabilities, shares or non-negative rates must stay in range."""
    leaf = p.name.rsplit(".", 1)[-1]
    is_share = p.name in _PROB_PARAMS or "s0_" in leaf or "ceiling" in leaf or leaf == "ai_max"
    is_share = is_share or leaf == "subsidy"
    hi = 1.0 if is_share else math.inf
    if p.name.startswith("replacement.ai_mid"):
        return
    if p.low < 0 or p.high > hi:
        allowed = "[0, 1]" if is_share else ">= 0"
        raise r.fail(p.name, f"support [{p.low:g}, {p.high:g}] is out of range; allowed: {allowed}")


def read_schedule(r: Reader, raw: Any, k: str) -> tuple[tuple[int, float], ...]:
    """A ``{year: level}`` mapping as ``(year, level)`` pairs sorted by year; levels in [0, 100]."""
    m = r.mapping(raw, k)
    out = []
    for year, level in m.items():
        # A year is a whole number: 2026.5 is refused, not truncated to 2026.
        whole = (isinstance(year, int) and not isinstance(year, bool)) or (
            isinstance(year, str) and year.strip().isdigit()
        )
        y = int(year) if whole else None
        if y is None or not 2000 <= y <= MAX_END[0]:
            raise r.fail(f"{k}.{year}", f"not a year; allowed: whole years 2000-{MAX_END[0]}")
        out.append((y, r.number(level, f"{k}.{year}", 0.0, 100.0)))
    return tuple(sorted(out))


@dataclass(frozen=True)
class Tables:
    """Names that a scope may list, from the data tables."""

    provinces: tuple[str, ...]
    sectors: tuple[str, ...]


def load_tables() -> Tables:
    """Province and sector names from the shipped data tables."""
    return Tables(tuple(data.provinces()["province"]), tuple(data.sectors()["sector"]))


def read_scope(r: Reader, raw: Any, k: str, tables: Tables) -> Scope:
    """Where a lever or programme acts: lists of names, each checked against what exists."""
    m = r.mapping(raw, k)
    r.known(m, ("provinces", "regions", "compute_hub", "sectors", "key_areas", "kinds", "sizes"), k)
    hub = m.get("compute_hub")
    return Scope(
        provinces=r.names(m.get("provinces"), tables.provinces, f"{k}.provinces"),
        regions=r.names(m.get("regions"), REGIONS, f"{k}.regions"),
        compute_hub=None if hub is None else r.boolean(hub, f"{k}.compute_hub"),
        sectors=r.names(m.get("sectors"), tables.sectors, f"{k}.sectors"),
        key_areas=r.names(m.get("key_areas"), KEY_AREAS, f"{k}.key_areas"),
        kinds=r.names(m.get("kinds"), KINDS, f"{k}.kinds"),
        sizes=r.names(m.get("sizes"), SIZE_CLASSES, f"{k}.sizes"),
    )
