"""The benchmarks keep working: each one's smoke mode runs here (figures are not asserted).

One test per benchmark so that xdist spreads them; each runs ``bench``'s own ``main`` in the
worker (the same code ``python -m bench`` runs, minus a fresh interpreter's imports), but
``calls``, which runs as the command itself in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import BENCHMARKS
from bench.__main__ import main as bench_main

ROOT = Path(__file__).resolve().parent.parent

# the tables each benchmark must write
TITLES: dict[str, tuple[str, ...]] = {
    "calls": ("1. Calls",),
    "concurrency": ("2. Concurrency",),
    "incremental": ("3. Incremental",),
    "parsing": ("4. Parsing: 20,000 getuserreadhour", "4. Parsing: 1,000 getarticletotal"),
    "store": ("5a. Store", "5b. Store"),
    "analysis": ("6. Analysis",),
    "sync_bound": ("7. Store.sync",),
    "decoding": ("8. Bytes to typed frame",),
    "scale": ("9a. Store.read", "9b. Saving a manifest"),
    "many_accounts": ("10. Many accounts",),
    "sync_pairs": ("7b. Store.sync",),
    "checksums": ("11. What a read's checks cost",),
    "portfolio": ("12. compare_accounts",),
    "cluster": ("13. Many accounts on a Dask cluster",),
    "object_storage": ("14. Store on object storage",),
}
# the exact-count claims hold at any size: they are checked, not just printed
CLAIMS: dict[str, tuple[str, ...]] = {"incremental": ("**MET**: ", " == ")}


def test_every_benchmark_is_smoke_tested() -> None:
    assert set(TITLES) == set(BENCHMARKS)


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in BENCHMARKS if name != "calls"])
def test_a_benchmark_runs_in_smoke_mode(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "smoke.md"
    assert bench_main(["--smoke", "--only", name, "--markdown", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    for title in TITLES[name]:
        assert f"### {title}" in text, title
    assert text.count("\n### ") == len(TITLES[name])
    for claim in CLAIMS.get(name, ()):
        assert claim in text, claim
    assert "Machine: " in text and f"Command: `python -m bench --smoke --only {name}`" in text
    assert f"### {TITLES[name][0]}" in capsys.readouterr().out


@pytest.mark.slow
def test_python_m_bench_runs_as_a_command(tmp_path: Path) -> None:
    out = tmp_path / "smoke.md"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--only", "calls", "--markdown", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert "### 1. Calls" in text and "**MET**: exactly the minimum (" in text and " == " in text
    assert "Command: `python -m bench --smoke --only calls`" in text
    assert "### 1. Calls" in run.stdout
