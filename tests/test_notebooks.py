"""The analyst notebooks run top to bottom on this checkout's interpreter and are stored clean."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert {p.stem for p in NOTEBOOKS} >= {
        "01_quickstart",
        "02_compare_scenarios",
        "03_regions_and_sectors",
        "05_calibration",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def kernel_for_this_interpreter(folder: Path) -> KernelManager:
    """A kernel running ``sys.executable`` (the checkout's venv), whatever kernels are installed."""
    spec = folder / "kernels" / "aiplus-sim-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "aiplus-sim (tests)", "language": "python"})
    )
    ksm = KernelSpecManager(kernel_dirs=[str(folder / "kernels")])
    return KernelManager(kernel_name="aiplus-sim-test", kernel_spec_manager=ksm)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    client = NotebookClient(
        nb,
        km=kernel_for_this_interpreter(tmp_path),
        timeout=600,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    assert nb.cells[-1].outputs[0]["text"].strip() == sys.executable
    # Every cell that draws a chart shows it.
    for cell in nb.cells:
        if cell.cell_type == "code" and "charts." in cell.source:
            shown = [o for o in cell.outputs if "image/png" in o.get("data", {})]
            assert shown, f"no chart shown by: {cell.source[:80]}"
