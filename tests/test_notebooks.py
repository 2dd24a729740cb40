"""The analyst notebooks run top to bottom on this checkout's interpreter, and are stored with
fresh outputs (``make notebooks``: ``notebooks/nbstore.py``) so a reader browsing the repository
sees their tables and charts."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbstore import code_hash, execute, notebooks, stored_hash

NOTEBOOKS = notebooks()
ROOT = Path(__file__).resolve().parents[1]
#: A stored notebook stays small enough to browse and diff.
MAX_BYTES = 1_000_000
#: What would make a stored output differ from one execution to the next: a run folder named by
#: its date and time (Hydra's ``outputs/2025-06-30/12-00-00``), a time stamp with its time zone
#: (a results file's ``created``), a random identifier (xarray's HTML view draws one per section)
#: or an absolute path of the machine that executed it.
UNSTABLE = re.compile(
    "|".join(
        [
            r"\d{4}-\d{2}-\d{2}[/_]\d{2}-\d{2}-\d{2}",
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}",
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            *(re.escape(str(p)) for p in (ROOT, Path.home(), Path(tempfile.gettempdir()))),
        ]
    )
)


def _draws_a_chart(source: str) -> bool:
    return "charts." in source or "plt." in source


def test_there_are_notebooks():
    assert {p.stem for p in NOTEBOOKS} >= {
        "01_quickstart",
        "02_compare_scenarios",
        "03_regions_and_sectors",
        "04_extend_a_rule",
        "05_calibration",
    }


def test_the_hash_changes_with_a_code_cell_and_not_with_text():
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# a"), nbformat.v4.new_code_cell("x = 1")]
    )
    before = code_hash(nb)
    nb.cells[0].source = "# b"
    assert code_hash(nb) == before
    nb.cells[1].source = "x = 2"
    assert code_hash(nb) != before


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_are_those_of_the_current_code(path):
    nb = nbformat.read(path, as_version=4)
    assert stored_hash(nb) == code_hash(nb), (
        f"{path.name}: its code cells changed since it was executed; run `make notebooks`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_ran_top_to_bottom_and_shows_its_charts(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1))
    for cell in cells:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source[:80]
        if _draws_a_chart(cell.source):
            shown = [o for o in cell.outputs if "image/png" in o.get("data", {})]
            assert shown, f"{path.name}: no chart stored for: {cell.source[:80]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_is_small_and_its_outputs_stable(path):
    assert path.stat().st_size < MAX_BYTES
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        assert "execution" not in cell.metadata  # no timings
        for out in cell.get("outputs", []):
            text = out.get("text", "") + "".join(
                v for k, v in out.get("data", {}).items() if k.startswith("text/")
            )
            unstable = UNSTABLE.search(text)
            assert unstable is None, f"{path.name}: {unstable and unstable.group()!r} in an output"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    execute(nb, tmp_path)  # raises CellExecutionError, naming the cell, if any cell fails
    assert nb.cells[-1].outputs[0]["text"].strip() == sys.executable
    # Every cell that draws a chart shows it.
    for cell in nb.cells:
        if cell.cell_type == "code" and _draws_a_chart(cell.source):
            shown = [o for o in cell.outputs if "image/png" in o.get("data", {})]
            assert shown, f"no chart shown by: {cell.source[:80]}"
