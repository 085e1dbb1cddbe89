"""The main job end to end: `wxframe demo`, `wxframe report` and the bundled demo store."""

from __future__ import annotations

import filecmp
import re
import shlex
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import wxframe
from tests.conftest import run_wxframe
from wxframe.cli import main
from wxframe.datasets import (
    DEMO_BEGIN,
    DEMO_CURRENT_BEGIN,
    DEMO_END,
    build_demo_store,
    open_demo_store,
)
from wxframe.demo import account_demo

ROOT = Path(__file__).resolve().parents[2]


#: The report's sections on a period of the current family (the demo's last 28 days).
SECTIONS = (
    "Headline",
    "Where readers come from",
    "Engagement",
    "Articles of the period",
    "How fast readers come",
    "Followers",
    "History: the six original endpoints",
    "Do the numbers agree?",
)


#: ... and on a period of the six's history.
HISTORY_SECTIONS = (
    "Headline",
    "Where readers come from",
    "History: the six original endpoints",
    "Do the numbers agree?",
)


IMAGE = re.compile(r'<img[^>]+src="data:image/png;base64,')


def _check_report(html: str, sections: tuple[str, ...] = SECTIONS) -> None:
    for section in sections:
        assert f">{section}<" in html, section
    assert len(IMAGE.findall(html)) >= (6 if sections == SECTIONS else 3)
    assert "Traceback" not in html
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html  # no warnings
    assert "def kpis" not in html and "import wxframe" not in html  # code hidden
    for rule in ("threshold", "7-day window", "08:00", "2014-12-01"):
        assert rule in html


def test_readme_quickstart_is_what_ci_and_the_demo_test_run() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quickstart", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    lines = [line for line in block.strip().splitlines() if line.strip()]
    assert lines == [
        "python -m pip install -e . && wxframe demo",
        'python -m pip install -e ".[dev]" && python -m pytest -q -p no:cacheprovider -n auto',
    ]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert lines[1] in ci


@pytest.mark.slow
def test_wxframe_demo_builds_a_store_and_a_complete_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The README's first line, minus the install (this environment has it): `wxframe demo`.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = readme.split("## Quickstart", 1)[1].split("&& ", 1)[1].split("\n", 1)[0]
    args = shlex.split(command)
    assert args[:2] == ["wxframe", "demo"]
    run = run_wxframe(*args[1:], "--quiet", "--today", "2026-12-01", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    demo = tmp_path / "wxframe-demo"
    assert f"{Path('wxframe-demo') / 'report.html'}" in run.stdout
    assert "WX_APPID" in run.stdout and "wxframe report --store" in run.stdout
    assert run.stderr == ""
    store = wxframe.Store(demo)
    coverage = store.coverage().set_index("endpoint")
    # both families: the current one for the last 90 days, a year of the six's history
    assert set(coverage.index) == set(wxframe.ENDPOINTS)
    current = coverage.loc[list(wxframe.CURRENT_ENDPOINTS)]
    assert set(current["days_held"]) == {90} and set(map(str, current["last"])) == {"2026-11-30"}
    history = coverage.loc[list(wxframe.OFFLINE_ENDPOINTS)]
    assert set(map(str, history["last"])) <= {"2025-10-31", "2025-10-30"}
    assert history.drop("getarticletotal")["days_held"].tolist() == [365] * 5
    _check_report((demo / "report.html").read_text(encoding="utf-8"))
    # a rerun, in this process and without a second render (the report is the first
    # run's, checked above): it fetches only what may still change, getarticletotaldetail's
    # 29 growing publish days; the history is imported again without a change
    before = store.coverage()
    assert account_demo(demo, today=date(2026, 12, 1), report=False) == 0
    again = capsys.readouterr().out
    assert re.search(r"\b29 calls\b", again), again
    pd.testing.assert_frame_equal(wxframe.Store(demo).coverage(), before)
    assert main(["demo", "--dir", str(tmp_path / "early"), "--today", "2025-06-01"]) == 2
    assert "before the current family's data" in capsys.readouterr().err
    other = tmp_path / "not-a-store"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert main(["demo", "--dir", str(other)]) == 2
    assert "not a wxframe store" in capsys.readouterr().err


@pytest.mark.slow
def test_wxframe_report_on_the_bundled_store_with_a_period(tmp_path: Path) -> None:
    out = tmp_path / "may.html"
    run = run_wxframe(
        "report", "--store", str(open_demo_store().root), "--begin", "2024-05-01",
        "--end", "2024-05-31", "--out", str(out),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    html = out.read_text(encoding="utf-8")
    _check_report(html, HISTORY_SECTIONS)
    assert "2024-05-01 to 2024-05-31" in html and "(31 days)" in html
    assert "2024-03-31 to 2024-04-30" in html  # the previous period it compares with


@pytest.mark.slow
def test_demo_store_regenerates_byte_for_byte(tmp_path: Path) -> None:
    bundled = open_demo_store().root
    build_demo_store(tmp_path / "demo-store")
    compared = filecmp.dircmp(bundled, tmp_path / "demo-store")

    def same(cmp: filecmp.dircmp[str]) -> int:
        assert not cmp.left_only and not cmp.right_only, (cmp.left_only, cmp.right_only)
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        assert not mismatch and not errors, mismatch
        return len(cmp.common_files) + sum(same(sub) for sub in cmp.subdirs.values())

    # four months of the six, two months of the current family; the manifest's own file
    # and its part of each of those months
    months = len(wxframe.OFFLINE_ENDPOINTS) * 4 + len(wxframe.CURRENT_ENDPOINTS) * 2
    assert same(compared) == 2 * months + 1


def test_the_demo_store_holds_both_families() -> None:
    store = open_demo_store()
    coverage = store.coverage().set_index("endpoint")
    assert set(coverage.index) == set(wxframe.ENDPOINTS)
    history = coverage.loc[list(wxframe.OFFLINE_ENDPOINTS)]
    assert set(history["days_held"]) == {(DEMO_END - DEMO_BEGIN).days + 1} == {120}
    assert set(history["days_final"]) == {120}
    current = coverage.loc[list(wxframe.CURRENT_ENDPOINTS)]
    assert set(map(str, current["first"])) == {str(DEMO_CURRENT_BEGIN)} == {"2025-11-01"}
    assert set(current["days_held"]) == set(current["days_final"]) == {61}
    titles = store.read("getarticletotaldetail")["title"]
    assert titles.notna().all() and titles.str.contains("[\u4e00-\u9fff]").all()
    read = store.read("getuserread", "2024-05-01", "2024-05-31")
    assert read["ref_date"].dt.day.nunique() == 31
