"""The benchmarks keep working: their smoke mode runs here (figures are not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_benchmarks_smoke_mode_runs_every_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "smoke.md"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--markdown", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    for title in ("1. Calls", "2. Concurrency", "3. Incremental", "4. Parsing", "5a. Store",
                  "5b. Store", "6. Analysis", "7. Store.sync", "7b. Store.sync",
                  "8. Bytes to typed frame", "9a. Store.read",
                  "9b. Saving a manifest", "11. What a read's checks cost",
                  "14. Store on object storage"):  # fmt: skip
        assert f"### {title}" in text, title
    # the exact-count claims hold at any size: they are checked, not just printed
    assert "**MET**: exactly the minimum" in text
    assert text.count("**MET**: ") >= 3 and "== " in text
    assert "Machine: " in text and "Command: `python -m bench --smoke`" in text
