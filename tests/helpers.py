"""Run sizes and command-line runners shared by the tests (``from helpers import FAST, run_cli``).

The sizes are Hydra overrides that keep the real configuration and shrink it, smallest first; a
test that needs more draws adds its own override after them (the last value of a key wins).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

#: Two draws: a code path runs; nothing is estimated.
CHEAP = ["mc.draws=2", "mc.chunk=2", "population.n_agents=1000"]
#: Four draws in one chunk: every scenario runs; a report has something to show.
TINY = ["mc.draws=4", "mc.chunk=4", "population.n_agents=1500"]
#: Six draws in two chunks: the command line end to end.
FAST = ["mc.draws=6", "mc.chunk=3", "population.n_agents=2000"]
#: Sixteen draws in two chunks: engine properties and paired comparisons.
SMALL = ["mc.draws=16", "mc.chunk=8", "population.n_agents=4000"]
#: Twenty-four draws: charts and report statistics with some spread between draws.
MEDIUM = ["mc.draws=24", "mc.chunk=12", "population.n_agents=3000"]

#: Seconds a command-line run may take on a slow, shared machine.
TIMEOUT = 300


def cli_env() -> dict[str, str]:
    """This process's environment without ``HYDRA_FULL_ERROR``: errors print as a user sees them."""
    return {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}


def cli_command(args: Sequence[str], *, module: str = "sim") -> list[str]:
    """``python -m MODULE ARGS`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def run_cli(
    args: Sequence[str], cwd: Path, *, module: str = "sim"
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m MODULE ARGS`` in a fresh interpreter from ``cwd``; output captured."""
    return subprocess.run(
        cli_command(args, module=module),
        cwd=cwd,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=TIMEOUT,
    )


def imports_matplotlib(args: Sequence[str], cwd: Path) -> bool:
    """Run :func:`sim.cli.main` with ``args`` in a fresh interpreter from ``cwd``, check that it
    succeeds, and say whether it imported matplotlib."""
    code = (
        f"import sys; from sim.cli import main; main({list(args)!r}); "
        "print('matplotlib' in sys.modules)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=TIMEOUT,
    )
    assert r.returncode == 0, r.stderr
    return {"True": True, "False": False}[r.stdout.strip().splitlines()[-1]]
