"""The report as a manager reads it (issue 16): its headline numbers against the store read
without wxframe, comparisons only with periods held in full, no growing article in the
figures that need a finished life, both languages, fonts either way, and a real browser."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest

import wxframe
from wxframe.datasets import open_demo_store
from wxframe.report import render_report
from wxframe.simulator import serve


def table(html: str, uuid: str) -> pd.DataFrame:
    """A Styler table of the report (``set_uuid(uuid)``), as the text a reader sees."""
    cells: dict[int, dict[int, str]] = {}
    heads: dict[int, str] = {}
    pattern = rf'<t([hd])[^>]*id="T_{uuid}_(level0_)?row(\d+)(?:_col(\d+))?"[^>]*>(.*?)</t[hd]>'
    for _, _, row, col, text in re.findall(pattern, html, re.S):
        value = unescape(re.sub(r"<[^>]+>", "", text)).strip()
        if col:
            cells.setdefault(int(row), {})[int(col)] = value
        else:
            heads[int(row)] = value
    header = re.search(rf'<table id="T_{uuid}".*?<thead>(.*?)</thead>', html, re.S)
    assert header, f"no table {uuid}"
    names = [
        unescape(re.sub(r"<[^>]+>", "", h)).strip()
        for h in re.findall(r'<th class="col_heading[^"]*"[^>]*>(.*?)</th>', header[1], re.S)
    ]
    rows = [[cells[r][c] for c in sorted(cells[r])] for r in sorted(cells)]
    return pd.DataFrame(rows, index=[heads.get(r, "") for r in sorted(cells)], columns=names)


def raw(root: Path, endpoint: str, begin: date, end: date) -> pd.DataFrame:
    """Rows of the store's parquet files, read with pyarrow alone."""
    df = ds.dataset(root / endpoint, format="parquet", partitioning="hive").to_table().to_pandas()
    days = pd.to_datetime(df["ref_date"])
    return df[(days >= pd.Timestamp(begin)) & (days <= pd.Timestamp(end))]


@pytest.fixture(scope="module")
def sixty_day_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the current family's last 60 days, as a new user's first sync."""
    root = tmp_path_factory.mktemp("sixty")
    with serve(seed=2, today="2026-12-01") as sim:
        wxframe.Store(root).sync(sim.client(), "2026-10-02", "2026-11-30", progress=False)
    return root


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
def test_the_headline_is_the_store_computed_independently(tmp_path: Path) -> None:
    root = open_demo_store().root
    begin, end = date(2025, 12, 4), date(2025, 12, 31)
    before = (date(2025, 11, 6), date(2025, 12, 3))
    out = render_report(root, tmp_path / "r.html", begin=begin, end=end)
    kpis = table(out.read_text(encoding="utf-8"), "kpis")

    def biz(b: date, e: date) -> pd.Series:
        rows = raw(root, "getbizsummary", b, e)
        return rows[rows["channel"] == "all"].sum(numeric_only=True)

    now, then = biz(begin, end), biz(*before)
    counts = {
        "readers": "read_user",
        "shares (people)": "share_user",
        "likes": "like_user",
        "comments": "comment_count",
        "favourites (people)": "collection_user",
        "read the original": "redirect_ori_page_user",
        "articles published": "send_page_count",
    }
    for name, column in counts.items():
        assert kpis.loc[name, "this period"] == f"{now[column]:,.0f}", name
        assert kpis.loc[name, "previous period"] == f"{then[column]:,.0f}", name
        assert kpis.loc[name, "change"] == f"{now[column] / then[column] - 1:+.1%}", name
        assert kpis.loc[name, "source"] == "getbizsummary"
    for name, column in (("share rate", "share_user"), ("like rate", "like_user")):
        rate, before_rate = now[column] / now["read_user"], then[column] / then["read_user"]
        assert kpis.loc[name, "this period"] == f"{rate:.1%}"
        points = round((rate - before_rate) * 100, 1) or 0.0
        assert kpis.loc[name, "change"] == f"{points:+.1f} pp"  # points, not percent
    follows = raw(root, "getusersummary", begin, end)
    assert kpis.loc["new followers", "this period"] == f"{follows['new_user'].sum():,}"
    net = follows["new_user"].sum() - follows["cancel_user"].sum()
    assert kpis.loc["net new followers", "this period"] == f"{net:,}"
    level = raw(root, "getusercumulate", end, end)["cumulate_user"].item()
    assert kpis.loc["followers at the end", "this period"] == f"{level:,}"
    # only the current family's numbers for a period after 2025-11-01: no six's rows
    assert "reads" not in kpis.index and "articles sent" not in kpis.index


@pytest.mark.slow
def test_a_previous_period_the_store_does_not_hold_is_not_compared(
    sixty_day_store: Path, tmp_path: Path
) -> None:
    # the 30 days before 2026-11-01..30 are held; the 60 before the whole store are not
    full = table(
        render_report(
            sixty_day_store, tmp_path / "a.html", begin="2026-10-02", end="2026-11-30"
        ).read_text(encoding="utf-8"),
        "kpis",
    )
    assert set(full["change"]) == {"n/a (0 of 60 days held)"}
    assert set(full["previous period"]) == {"n/a"}
    assert full.loc["readers", "this period"] != "n/a"
    half = table(
        render_report(
            sixty_day_store, tmp_path / "b.html", begin="2026-11-01", end="2026-11-30"
        ).read_text(encoding="utf-8"),
        "kpis",
    )
    assert not half["change"].str.startswith("n/a").any()


@pytest.mark.slow
def test_no_growing_article_in_the_figures_of_a_finished_life(
    sixty_day_store: Path, tmp_path: Path
) -> None:
    begin, end = date(2026, 10, 2), date(2026, 11, 30)
    html = render_report(sixty_day_store, tmp_path / "r.html", begin=begin, end=end).read_text(
        encoding="utf-8"
    )
    published = raw(sixty_day_store, "getarticletotaldetail", begin, end)
    by_article = published.groupby("msgid")["ref_date"].first().dt.date
    finished = int((by_article <= end - timedelta(days=29)).sum())
    growing = len(by_article) - finished
    assert finished and growing
    text = unescape(re.sub(r"<[^>]+>", "", html))
    assert (
        f"{len(by_article)} articles published; {finished} have all 30 days of their life "
        f"in the store, {growing} are still growing"
    ) in text
    articles = table(html, "articles")
    for _, row in articles.iterrows():
        day = date.fromisoformat(row["published"])
        age = (end - day).days
        assert row["status"] == ("final" if age >= 29 else f"day {age}"), row.to_dict()
    assert f"The {growing} still growing are left out." in text


@pytest.mark.slow
def test_the_report_in_chinese_uses_the_platforms_labels(tmp_path: Path) -> None:
    html = render_report(open_demo_store().root, tmp_path / "zh.html", lang="zh").read_text(
        encoding="utf-8"
    )
    kpis = table(html, "kpis")
    assert list(kpis.columns) == ["本期", "上期", "变化", "数据来源"]
    assert {"阅读人数", "分享人数", "点赞人数", "在看人数", "净增关注", "累计关注"} <= set(
        kpis.index
    )
    channels = table(html, "channels")
    assert {"公众号消息", "聊天会话", "朋友圈", "推荐", "搜一搜"} <= set(channels.index)
    for heading in ("核心指标", "阅读来源", "本期文章", "文章表现如何", "关注", "数据核对"):
        assert f">{heading}<" in html
    answers = table(html, "article_answers")
    assert list(answers.columns) == ["数值", "依据"]
    assert answers.loc["阅读最多的发表日", "数值"].startswith("星期")
    assert {"送达阅读率（7 天）", "每千阅读关注人数", "来自推荐的读者", "来自搜一搜的读者"} <= set(
        answers.index
    )
    with pytest.raises(wxframe.ConfigurationError, match="lang='fr'"):
        render_report(open_demo_store().root, tmp_path / "fr.html", lang="fr")


@pytest.mark.slow
@pytest.mark.parametrize("font", ["installed", "none"])
def test_no_font_warning_either_way(font: str, tmp_path: Path, monkeypatch) -> None:
    if font == "none":
        monkeypatch.setenv("WXFRAME_CJK_FONT", "none")  # as on a machine without one
    html = render_report(open_demo_store().root, tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html
    assert "findfont" not in html and "Glyph" not in html
    # articles are marked A1, A2, ... in the plots whatever the fonts, their titles in
    # the HTML beside them: no plot of msgids, no note asking for a font
    assert "label articles by msgid" not in html and "No CJK font" not in html
    assert "A1, A2, A3, A4, A5" in html
    answers = table(html, "article_answers")
    assert (
        ">How this account&#x27;s articles do<" in html or "How this account's articles do" in html
    )
    assert answers.loc["open rate (7 days)", "from"].endswith("estimated)")
    assert answers.loc["readers from Top Stories (推荐)", "value"].endswith("%")


@pytest.mark.slow
def test_the_report_in_a_real_browser(tmp_path: Path) -> None:
    if CHROMIUM is None:
        pytest.skip("no Chromium here: .ci/run installs Debian's chromium where apt-get can")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) drives it")
    out = render_report(open_demo_store().root, tmp_path / "report.html")
    flags = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=flags)
        page = browser.new_page(viewport={"width": 794, "height": 1123})  # A4 at 96 dpi
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(f"request {r.url}"))
        page.goto(out.as_uri(), wait_until="load")
        found = page.evaluate(
            """() => ({
                width: document.documentElement.clientWidth,
                images: [...document.images].map(i => i.complete && i.naturalWidth > 0),
                tables: [...document.querySelectorAll('table')].map(
                    t => t.getBoundingClientRect().right),
                scroll: document.documentElement.scrollWidth,
            })"""
        )
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert errors == []
    assert len(found["images"]) >= 6 and all(found["images"])
    assert max(found["tables"]) <= found["width"]  # wide ones scroll inside their box
    assert found["scroll"] <= found["width"]  # nothing makes the page wider than A4
    assert shot.stat().st_size > 50_000
