"""Where the configs, scenarios and outputs live, wherever the package is run from.

In a checkout (editable install) they are the repository's ``conf/``, ``scenarios/`` and
``outputs/``; an installed wheel carries copies of ``conf/`` and ``scenarios/`` inside the package.
"""

from __future__ import annotations

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
    """Default parent of run folders: the checkout's ``outputs/``, else ``./outputs``."""
    root = project_root()
    return root / "outputs" if root else Path.cwd() / "outputs"
