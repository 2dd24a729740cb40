"""Execute the analyst notebooks and store them with their outputs (``make notebooks``).

A notebook is stored with its outputs, so that a reader browsing the repository sees its tables
and charts, and with ``metadata.aiplus.code_sha256``: the hash of its code cells when it was
executed. ``tests/test_notebooks.py`` recomputes the hash and fails when a code cell changed
without re-executing the notebook. The hash covers the notebook's own code only: after a change
to the package that moves its numbers or charts, run ``make notebooks`` too.

Outputs are kept free of what changes from one execution to the next: no cell timings, no
execution metadata, the kernel run in a fresh temporary folder (the notebooks print paths
relative to it, never the folder itself).

Usage: ``python notebooks/nbstore.py [NOTEBOOK ...]`` (default: every notebook beside this file).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

FOLDER = Path(__file__).resolve().parent
#: Where the hash of the code cells is stored, under the notebook's metadata.
KEY = "aiplus"
#: Seconds a single cell may run.
CELL_TIMEOUT = 600
#: The kernelspec a stored notebook names (whatever kernel executed it).
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def notebooks() -> list[Path]:
    """The analyst notebooks, in reading order."""
    return sorted(FOLDER.glob("*.ipynb"))


def code_hash(nb: nbformat.NotebookNode) -> str:
    """SHA-256 of the notebook's code cells, in order (their source only)."""
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def stored_hash(nb: nbformat.NotebookNode) -> str | None:
    """The code hash recorded when the notebook was last executed by :func:`store`."""
    return nb.metadata.get(KEY, {}).get("code_sha256")


def kernel_for_this_interpreter(folder: Path) -> KernelManager:
    """A kernel running ``sys.executable`` (the checkout's venv), whatever kernels are installed.

    The kernelspec is written under ``folder``; the kernel inherits this process's environment
    (``PYTHONPATH`` included).
    """
    spec = folder / "kernels" / "aiplus-sim"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "aiplus-sim", "language": "python"})
    )
    ksm = KernelSpecManager(kernel_dirs=[str(folder / "kernels")])
    return KernelManager(kernel_name="aiplus-sim", kernel_spec_manager=ksm)


def execute(nb: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    """Run every cell of ``nb`` in place, top to bottom, with ``folder`` as the kernel's working
    folder; raises ``nbclient.exceptions.CellExecutionError`` naming the first cell that fails."""
    client = NotebookClient(
        nb,
        km=kernel_for_this_interpreter(folder),
        timeout=CELL_TIMEOUT,
        record_timing=False,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return nb


def store(path: Path) -> float:
    """Execute the notebook at ``path`` and write it back with its outputs and code hash.

    Returns the seconds it took. Nothing is written when a cell fails.
    """
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aiplus-notebook-") as tmp:
        execute(nb, Path(tmp))
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata[KEY] = {"code_sha256": code_hash(nb)}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: all)")
    args = parser.parse_args(argv)
    for path in args.paths or notebooks():
        seconds = store(path)
        size = path.stat().st_size
        print(f"{path.name}: executed in {seconds:.0f} s, stored ({size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
