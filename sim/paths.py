"""Where the configs, scenarios and outputs live, wherever the package is run from.

In a checkout (editable install) they are the repository's ``conf/``, ``scenarios/`` and
``outputs/``; an installed wheel carries copies of ``conf/`` and ``scenarios/`` inside the package.
"""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def project_root() -> Path | None:
    """The checkout holding this package, or None for an installed wheel."""
    root = _PKG.parent
    return root if (root / "conf" / "config.yaml").is_file() else None


def conf_dir() -> Path:
    root = project_root()
    return root / "conf" if root else _PKG / "_conf"


def scenarios_dir() -> Path:
    root = project_root()
    return root / "scenarios" if root else _PKG / "_scenarios"


def outputs_dir() -> Path:
    """Default parent of run folders: ``$AIPLUS_OUTPUTS`` when set, else the checkout's
    ``outputs/``, else ``./outputs``."""
    if os.environ.get("AIPLUS_OUTPUTS"):
        return Path(os.environ["AIPLUS_OUTPUTS"]).expanduser()
    root = project_root()
    return root / "outputs" if root else Path.cwd() / "outputs"


def resolve(path: str | Path) -> Path:
    """A file a user names: as given when it exists (relative to the current folder), else,
    for a relative path in a checkout, relative to the checkout's root, so that
    ``sim/data/observations.csv`` works from any folder inside it; else as given (for the
    caller's "not found")."""
    given = Path(path).expanduser()
    root = project_root()
    if given.exists() or given.is_absolute() or root is None:
        return given
    return root / given if (root / given).exists() else given
