"""The notebooks: committed without outputs, and they run without errors."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from wxframe.datasets import (
    open_demo_store,
)
from wxframe.report import NOTEBOOKS, execute_notebook

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["quickstart.ipynb", "account_report.ipynb"])
def test_notebooks_are_committed_clean_and_run_without_errors(name: str) -> None:
    path = ROOT / "notebooks" / name
    assert path.resolve() == (NOTEBOOKS / name).resolve()
    committed = nbformat.read(path, as_version=4)
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    params = {"store_dir": str(open_demo_store().root)} if name == "account_report.ipynb" else {}
    nb = execute_notebook(path, params)
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
