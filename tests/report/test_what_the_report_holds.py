"""What a report says of its data: a period the store holds nothing of is refused, a
partly held one says so at the top and draws nothing from no data, the Chinese report is
Chinese (page language and title included), articles are marked A1, A2, ... with their
titles in the HTML, and a notebook that fails is one line."""

from __future__ import annotations

import re
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wxframe
from tests.conftest import SYNCED_ENDPOINTS, made_once
from tests.report.test_period import table
from wxframe.cli import main
from wxframe.datasets import open_demo_store
from wxframe.report import render_report
from wxframe.report.period import Period

IMAGE = re.compile(r'<img[^>]+src="data:image/png;base64,')

#: The consistency section's explanations as the English report writes them.
ENGLISH_CAUSES = (
    "articles under getarticlesummary's threshold are not listed in it",
    "a reader of several articles is one reader of the account",
    "a reader who comes back is not a new reader",
    "a platform rule explains it",
    "a partial day: fetched before 08:00",
    "a missing window",
    "unexplained: the numbers should agree",
)


# ----------------------------------------------------------------- nothing held
@pytest.mark.parametrize(
    "period", [["--end", "2030-01-01"], ["--begin", "2020-01-01", "--end", "2020-01-31"]]
)
def test_a_period_the_store_holds_nothing_of_is_refused_in_one_line(
    period: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    started = time.perf_counter()
    code = main(["report", "--store", str(open_demo_store().root), *period, "--out", str(out)])
    took = time.perf_counter() - started
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    wanted = "2029-12-05..2030-01-01" if "2030-01-01" in period else "2020-01-01..2020-01-31"
    assert f"the store holds nothing of {wanted} for wx5im0000000000001" in err
    # what it holds instead, to choose from
    assert "2025-11-01..2025-12-31 of getarticleread" in err and "2024-02-02..2024-05-31" in err
    assert not out.exists()
    assert took < 3, took  # refused before a kernel starts (one takes seconds)


_DEMO = open_demo_store()
_HELD = _DEMO.days()
_SPANS = ((date(2024, 2, 2), date(2024, 5, 31)), (date(2025, 11, 1), date(2025, 12, 31)))


@settings(max_examples=60, deadline=None)
@given(
    begin=st.dates(date(2023, 6, 1), date(2026, 6, 1)),
    days=st.integers(0, 200),
)
def test_a_period_is_refused_exactly_when_it_holds_no_day(begin: date, days: int) -> None:
    end = begin + timedelta(days=days)
    period = Period(_DEMO, begin, end, held=_HELD)
    overlaps = any(begin <= last and first <= end for first, last in _SPANS)
    if overlaps:
        period.require_data()
    else:
        with pytest.raises(wxframe.EmptyPeriodError, match=f"nothing of {begin}..{end}"):
            period.require_data()


# ----------------------------------------------------------------- partly held
@pytest.fixture(scope="session")
def half_held(tmp_path_factory: pytest.TempPathFactory, synced_once: Path) -> str:
    """A report of 2026-10-15..2026-11-11 on a store holding the followers' two endpoints
    up to 2026-10-31: 17 of its 28 days, and no reader or article data at all."""

    def render(out: Path) -> None:
        root = out.parent / "half-held-store"
        shutil.copytree(synced_once, root, dirs_exist_ok=True)
        render_report(root, out, begin="2026-10-15", end="2026-11-11")

    return made_once(tmp_path_factory, "half-held.html", render).read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_partly_held_period_says_at_the_top_what_it_holds(half_held: str) -> None:
    top = half_held.split(">Headline<", 1)[0]
    assert "The store holds only part of this period." in top
    assert "All 2 endpoints lack days" in top
    holdings = table(half_held, "holdings")
    assert set(holdings.index) == set(SYNCED_ENDPOINTS)
    for endpoint in SYNCED_ENDPOINTS:
        assert holdings.loc[endpoint, "days held"] == "17 / 28"
        assert holdings.loc[endpoint, "days missing"] == "2026-11-01..2026-11-11"


@pytest.mark.slow
def test_a_partly_held_period_draws_no_chart_from_no_data(half_held: str) -> None:
    # the followers' chart alone: no reader, engagement or article chart of nothing
    assert len(IMAGE.findall(half_held)) == 1
    assert "The store holds no channel data for these days." in half_held
    assert "The store holds no getbizsummary day from 2026-08-14 to 2026-11-11" in half_held
    assert "The store holds no getarticletotaldetail day of the period" in half_held
    assert "Every day of the period is final." not in half_held
    assert "endpoint-days of the period the store holds are final" in half_held
    assert "Traceback" not in half_held


# ----------------------------------------------------------------- in Chinese
@pytest.fixture
def chinese(demo_report_zh: Path) -> str:
    return demo_report_zh.read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_chinese_report_is_chinese_page_language_and_title_included(chinese: str) -> None:
    assert '<html lang="zh-CN">' in chinese
    title = "<title>wx5im0000000000001 · 2025-12-04..2025-12-31 · wxframe 数据报告</title>"
    assert title in chinese
    for english in ENGLISH_CAUSES:
        assert english not in chinese, english
    assert "回访的读者不是新读者" in chinese  # the consistency section's explanation
    assert "n/a" not in chinese and " pp" not in chinese
    kpis = table(chinese, "kpis")
    assert kpis.loc["分享率", "变化"].endswith("个百分点")


@pytest.mark.slow
def test_the_english_report_names_its_language_and_period(half_held: str) -> None:
    assert '<html lang="en">' in half_held
    assert re.search(r"<title>wx\w+ · 2026-10-15\.\.2026-11-11 · wxframe report</title>", half_held)


@pytest.mark.slow
def test_articles_are_marked_by_rank_with_their_titles_in_the_html(chinese: str) -> None:
    articles = table(chinese, "articles")
    assert articles["文章"].tolist() == [f"A{k}" for k in range(1, 11)]
    assert articles["标题"].str.contains("[\u4e00-\u9fff]").all()  # titles, not msgids
    assert "A1、A2、A3、A4、A5" in chinese  # the drop-off plot's caption names its marks
    decay = table(chinese, "decay_articles")
    assert decay["文章"].str.fullmatch(r"A\d+").all()
    assert decay["标题"].str.contains("[\u4e00-\u9fff]").all()
    # one mark per article: an article of both tables has the same mark in each
    both = articles.merge(decay, on="标题", suffixes=("", " decay"))
    assert (both["文章"] == both["文章 decay"]).all()
    msgids = set(_DEMO.read("getarticletotaldetail")["msgid"].astype(str))
    assert not [m for m in msgids if m in chinese]


# ----------------------------------------------------------------- a failing cell
@pytest.mark.slow
def test_a_notebook_that_fails_is_one_line_naming_the_damaged_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "store"
    shutil.copytree(open_demo_store().root, root)
    damaged = next(root.glob("getbizsummary/*/month=2025-12/data-*.parquet"))
    damaged.write_bytes(b"not parquet at all " * 50)
    with pytest.raises(wxframe.ReportError) as caught:
        render_report(root, tmp_path / "r.html")
    message = str(caught.value)
    assert message.startswith("account_report.ipynb failed: ")
    assert str(damaged.relative_to(root)) in message and "wxframe verify" in message
    assert "\x1b[" not in message and "Traceback" not in message
    assert "\n" not in message
    code = main(["report", "--store", str(root), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"wxframe report: {message}\n"
    assert not (tmp_path / "r.html").exists()
