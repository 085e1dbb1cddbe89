"""One label vocabulary (issue 26): every code of the three code lists is called by the
registry's English and Chinese name in the pivots, the plots, the ``df.wx`` accessor, the
report and the CLI; the frames keep the codes.

Every check compares what a place shows with ``Codes.display``, code by code: a place
with a name of its own (a table in the report, a rename in a plot) fails here.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import wxframe
from wxframe import analysis, cli, plots
from wxframe.endpoints import (
    CHANNEL_CODES,
    CHANNEL_LABELS,
    CODE_LISTS,
    LANGS,
    SCENE_CODES,
    SOURCE_CODES,
    Codes,
)
from wxframe.report import NOTEBOOKS, render_report
from wxframe.simulator._current import ALL_LABEL, SCENE_LABELS

HAS_CJK = wxframe.cjk_font() is not None
#: A scene label the registry has never seen: the current family keeps it as a channel.
NEW_LABEL = "新渠道"
#: Codes no list declares: they become ``code_<n>`` categories.
UNKNOWN = {"channel": 8, "scene": 5, "source": 999}
DAYS = ("2024-05-01", "2024-05-02")


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    """Frames with a row for every code of every list, and an unknown one each."""
    read = [
        {"ref_date": d, "user_source": c, "int_page_read_user": 10 + i, "int_page_read_count": 20}
        for d in DAYS
        for i, c in enumerate([*CHANNEL_CODES.labels, UNKNOWN["channel"]])
    ]
    scenes = [*CHANNEL_LABELS, NEW_LABEL]
    biz = [
        {
            "ref_date": d,
            "detail": {
                "read_user": 500,
                "read_user_source": [{"user_count": 5, "scene_desc": s} for s in scenes],
            },
        }
        for d in ("2025-12-01", "2025-12-02")
    ]
    share = [
        {"ref_date": d, "share_scene": c, "share_user": 1, "share_count": 3}
        for d in DAYS
        for c in [*SCENE_CODES.labels, UNKNOWN["scene"]]
    ]
    summary = [
        {"ref_date": d, "user_source": c, "new_user": 3, "cancel_user": 1}
        for d in DAYS
        for c in [*SOURCE_CODES.labels, UNKNOWN["source"]]
    ]
    return {
        "read": wxframe.to_frame("getuserread", read),
        "biz": wxframe.to_frame("getbizsummary", biz),
        "share": wxframe.to_frame("getusershare", share),
        "summary": wxframe.to_frame("getusersummary", summary),
    }


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _declared(codes: Codes) -> list[str]:
    return list(codes.labels.values())


# ------------------------------------------------------------------ the declaration
@pytest.mark.parametrize("codes", CODE_LISTS.values(), ids=list(CODE_LISTS))
def test_every_code_has_an_english_and_a_chinese_name(codes: Codes) -> None:
    assert list(codes.names) == _declared(codes)  # one entry per code, nothing else
    for lang in LANGS:
        shown = codes.display_names(_declared(codes), lang)
        assert all(s.strip() == s and s for s in shown), shown
        assert len(set(shown)) == len(shown), f"two {codes.column}s are called alike: {shown}"
    assert all(re.search(r"[\u4e00-\u9fff]", codes.display(n, "zh")) for n in _declared(codes))


def test_the_channels_chinese_names_are_the_platforms_scene_labels() -> None:
    # the parser's table and the simulator (the platform's labels as it sends them)
    for label, name in CHANNEL_LABELS.items():
        assert CHANNEL_CODES.display(name, "zh") == label
    platform = dict(zip(["session", "friends", "moments", "history", "other", "kanyikan",
                         "souyisou"], SCENE_LABELS, strict=True))  # fmt: skip
    platform["all"] = ALL_LABEL
    for name, label in platform.items():
        assert CHANNEL_CODES.display(name, "zh") == label
    # the one channel with no current label keeps its own
    assert CHANNEL_CODES.display("weibo", "zh") == "腾讯微博"


def test_the_english_names_a_reader_knows() -> None:
    assert CHANNEL_CODES.display_names(["session", "friends", "kanyikan", "souyisou"]) == [
        "messages",
        "chats",
        "Top Stories",
        "Search",
    ]
    assert SOURCE_CODES.display("qr_code") == "QR code"


@pytest.mark.parametrize("lang", [*LANGS, None])
def test_unknown_codes_and_labels_display_as_themselves(lang: Any) -> None:
    for codes in CODE_LISTS.values():
        assert codes.display("code_5", lang) == "code_5"
    assert CHANNEL_CODES.display(NEW_LABEL, lang) == NEW_LABEL
    assert CHANNEL_CODES.display("session", None) == "session"


def test_a_language_the_registry_does_not_have_is_refused(frames: dict) -> None:
    with pytest.raises(wxframe.ConfigurationError, match="labels='fr' is not allowed"):
        CHANNEL_CODES.display("session", "fr")  # type: ignore[arg-type]
    with pytest.raises(wxframe.ConfigurationError, match="labels='en_US' is not allowed"):
        wxframe.plot_share_scenes(frames["share"], labels="en_US")  # type: ignore[arg-type]


# ------------------------------------------------------------------ pivots
Pivot = Callable[..., pd.DataFrame]
PIVOTS: list[tuple[str, Pivot, str, Codes, dict[str, Any]]] = [
    ("pivot_channels", wxframe.pivot_channels, "read", CHANNEL_CODES, {"include_all": True}),
    ("pivot_channels", wxframe.pivot_channels, "biz", CHANNEL_CODES, {"include_all": True}),
    ("pivot_scenes", wxframe.pivot_scenes, "share", SCENE_CODES, {}),
    ("pivot_sources", wxframe.pivot_sources, "summary", SOURCE_CODES, {}),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", PIVOTS, ids=[f"{p[0]}-{p[2]}" for p in PIVOTS])
def test_pivots_name_every_code_as_the_registry(case: tuple, lang: str, frames: dict) -> None:
    name, helper, frame, codes, options = case
    df = frames[frame]
    by_code = helper(df, **options)  # the default: the codes, what a user indexes by
    declared = [c for c in _declared(codes) if c != "weibo" or frame == "read"]
    unknown = NEW_LABEL if frame == "biz" else f"code_{UNKNOWN[codes.column]}"
    assert list(by_code.columns) == [*declared, unknown]
    wide = helper(df, labels=lang, **options)
    assert list(wide.columns) == [*(codes.display(c, lang) for c in declared), unknown]
    assert wide.columns.name == codes.column
    assert (wide.to_numpy() == by_code.to_numpy()).all()  # names change, numbers do not
    # the accessor passes labels through, with the helper's default
    method = getattr(df.wx, name)
    assert list(method(labels=lang, **options).columns) == list(wide.columns)
    assert list(method(**options).columns) == list(by_code.columns)
    assert list(helper(df, labels=None, **options).columns) == list(by_code.columns)


# ------------------------------------------------------------------ plots
PLOTS: list[tuple[str, str, Codes]] = [
    ("plot_channel_mix", "read", CHANNEL_CODES),
    ("plot_channel_mix", "biz", CHANNEL_CODES),
    ("plot_share_scenes", "share", SCENE_CODES),
]


def _legend(ax: Any) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.mark.parametrize("lang", [*LANGS, None])
@pytest.mark.parametrize("case", PLOTS, ids=[f"{p[0]}-{p[1]}" for p in PLOTS])
def test_plots_legends_name_every_code_as_the_registry(
    case: tuple, lang: Any, frames: dict
) -> None:
    name, frame, codes = case
    df = frames[frame]
    drawn = [c for c in _declared(codes) if c != "all" and (c != "weibo" or frame == "read")]
    drawn.append(NEW_LABEL if frame == "biz" else f"code_{UNKNOWN[codes.column]}")
    # without a CJK font, Chinese falls back to the registry's English (and says so)
    shown_lang = "en" if lang == "zh" and not HAS_CJK else lang
    expected = codes.display_names(drawn, shown_lang)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wxframe.MissingFontWarning)
        assert _legend(getattr(plots, name)(df, labels=lang)) == expected
        assert _legend(getattr(df.wx, name)(labels=lang)) == expected


def test_plots_default_to_the_reports_language(frames: dict) -> None:
    report_default = inspect.signature(render_report).parameters["lang"].default
    args = cli.build_parser().parse_args(["report", "--store", "s", "--out", "r.html"])
    assert report_default == args.lang == "en"
    for name, frame, _ in PLOTS:
        for function in (getattr(plots, name), getattr(wxframe.WxAccessor, name)):
            assert inspect.signature(function).parameters["labels"].default == report_default
        plot = getattr(plots, name)
        assert _legend(plot(frames[frame])) == _legend(plot(frames[frame], labels=report_default))


def _article_frame() -> pd.DataFrame:
    """getarticletotaldetail rows: a mass send of two (one with a platform rate, one
    without followers data) and a quiet publish, on one day, with a 推荐 row each."""
    sent = pd.Timestamp("2025-12-01")
    rows = [
        (m, pt, ch, r, rate)
        for m, pt, rate in (("1_1", 0, 0.05), ("1_2", 0, None), ("2_1", 1, 0.0))
        for ch, r in (("all", 100), ("kanyikan", 20))
    ]
    df = pd.DataFrame(rows, columns=["msgid", "publish_type", "channel", "read_user", "rate"])
    return df.assign(
        ref_date=sent,
        stat_date=sent,
        publish_type=df["publish_type"].astype("Int64"),
        read_user=df["read_user"].astype("Int64"),
        read_subscribe_user=pd.array([1] * len(df), dtype="Int64"),
        read_delivery_rate=df.pop("rate").astype("Float64").where(df["channel"].eq("all")),
    )


#: The article helpers: name -> (keywords, the columns (or the index) holding codes and
#: the code list each displays from; None: the index of names of the helper's own).
ARTICLE_HELPERS: dict[str, tuple[dict[str, Any], dict[str, Codes | None]]] = {
    "open_rate": (
        {"days": 1},
        {
            "publish_type": analysis.articles.PUBLISH_TYPES,
            "source": analysis.articles.OPEN_RATE_SOURCES,
            "reason": analysis.articles.OPEN_RATE_REASONS,
        },
    ),
    "conversion": ({}, {"publish_type": analysis.articles.PUBLISH_TYPES}),
    "recommendation_share": ({"by": "article"}, {"columns": CHANNEL_CODES}),
    "by_slot": ({"days": 1}, {"index": None}),
    "by_weekday": ({"days": 1}, {"index": None}),
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", list(ARTICLE_HELPERS))
def test_article_helpers_show_codes_by_default_and_names_when_asked(name: str, lang: Any) -> None:
    keywords, shown = ARTICLE_HELPERS[name]
    df = _article_frame()
    codes_out = getattr(wxframe, name)(df, **keywords)
    named = getattr(wxframe, name)(df, labels=lang, **keywords)
    assert getattr(df.wx, name)(labels=lang, **keywords).equals(named)
    for where, codes in shown.items():
        if where == "index":
            assert list(codes_out.index) != list(named.index)
            assert all(isinstance(v, str) and v for v in named.index)
            if lang == "zh":
                assert all(re.search(r"[\u4e00-\u9fff]", v) for v in named.index)
        elif where == "columns":
            assert codes is not None
            beyond = ["kanyikan", "souyisou"]
            assert list(codes_out.columns[1:]) == beyond
            assert list(named.columns[1:]) == codes.display_names(beyond, lang)
        else:
            assert codes is not None
            for code, text in zip(codes_out[where], named[where], strict=True):
                if pd.isna(code):
                    assert pd.isna(text)
                    continue
                category = code if isinstance(code, str) else codes.labels[int(code)]
                assert text == codes.display(category, lang)
            for category in codes.names:  # every name distinct, Chinese in Chinese
                texts = codes.display_names(list(codes.names), lang)
                assert len(set(texts)) == len(texts)
                if lang == "zh":
                    assert re.search(r"[\u4e00-\u9fff]", codes.display(category, "zh"))


def test_every_place_that_takes_labels_is_walked_here() -> None:
    """A new helper or plot with ``labels=`` must be added to the walks above."""
    walked = {p[0] for p in PIVOTS} | {p[0] for p in PLOTS} | set(ARTICLE_HELPERS)
    public = {
        name
        for module in (analysis, plots)
        for name in module.__all__
        if callable(getattr(module, name))
        and "labels" in inspect.signature(getattr(module, name)).parameters
    }
    accessor = {
        name
        for name, member in inspect.getmembers(wxframe.WxAccessor, inspect.isfunction)
        if "labels" in inspect.signature(member).parameters
    }
    assert public == accessor == walked


# ------------------------------------------------------------------ the report
def _notebook_code() -> list[ast.Module]:
    nb = json.loads((NOTEBOOKS / "account_report.ipynb").read_text(encoding="utf-8"))
    return [ast.parse("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "code"]


def test_the_report_notebook_takes_every_name_from_the_helpers_in_its_language() -> None:
    """What the notebook shows of channels and sources comes from the pivots and plots
    with ``labels=lang`` (walked above), and it spells no name of its own."""
    named = {p[0] for p in PIVOTS} | {p[0] for p in PLOTS}
    calls = [
        node
        for tree in _notebook_code()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in named
    ]
    assert {c.func.attr for c in calls} >= {"pivot_channels", "pivot_sources", "plot_channel_mix"}
    for call in calls:
        given = {k.arg: k.value for k in call.keywords}
        assert isinstance(given.get("labels"), ast.Name), ast.unparse(call)
        assert given["labels"].id == "lang", ast.unparse(call)  # type: ignore[attr-defined]
    # a display name as a literal in the notebook would be a table of its own
    own = {
        codes.display(n, lang)
        for codes in CODE_LISTS.values()
        for n in _declared(codes)
        for lang in LANGS
    } - {n for codes in CODE_LISTS.values() for n in _declared(codes)}  # codes it may compare
    literals = {
        node.value.strip()
        for tree in _notebook_code()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert not literals & own


def test_period_has_no_names_of_its_own() -> None:
    from wxframe.report import period

    assert not any(
        v in str(period.LABELS)
        for codes in CODE_LISTS.values()
        for n in _declared(codes)
        for v in [codes.display(n, "zh")]
    )
    assert not {"channel_names", "source_names"} & set(vars(period))


def _row_heads(html: str, uuid: str) -> list[str]:
    """The row headings of one Styler table of the report (``set_uuid(uuid)``)."""
    pattern = rf'<th[^>]*id="T_{uuid}_level0_row(\d+)"[^>]*>(.*?)</th>'
    rows = sorted((int(r), unescape(re.sub(r"<[^>]+>", "", t)).strip())
                  for r, t in re.findall(pattern, html, re.S))  # fmt: skip
    return [text for _, text in rows]


@pytest.mark.slow
def test_the_rendered_chinese_report_names_channels_and_sources_as_the_registry(
    tmp_path: Path,
) -> None:
    from wxframe.datasets import open_demo_store
    from wxframe.report.period import Period

    root = tmp_path / "store"
    shutil.copytree(open_demo_store().root, root)
    html = render_report(root, tmp_path / "zh.html", lang="zh").read_text(encoding="utf-8")
    period = Period(wxframe.Store(root))
    channels = wxframe.pivot_channels(
        pd.concat(
            [period.read("getuserread", *d) for d in [period.family_days("offline")] if d]
            + [period.read("getbizsummary", *d) for d in [period.family_days("current")] if d]
        )
    ).columns
    assert len(channels) >= 5
    assert _row_heads(html, "channels") == CHANNEL_CODES.display_names(channels, "zh")
    follows = wxframe.pivot_sources(period.read("getusersummary")).sum()
    follows = follows[follows > 0].sort_values(ascending=False)
    shown = _row_heads(html, "sources")
    top = list(follows.index[:7] if len(follows) > 8 else follows.index)
    assert shown[: len(top)] == SOURCE_CODES.display_names(top, "zh")
    assert shown[len(top) :] == (["其余来源"] if len(follows) > 8 else [])
    for uuid in ("channels", "sources"):  # no heading of the pivot's column name either
        head = re.search(rf'<table id="T_{uuid}".*?</thead>', html, re.S)
        assert head and "index_name" not in head[0], uuid


# ------------------------------------------------------------------ the CLI
@pytest.mark.parametrize("only", [None, *CODE_LISTS])
def test_the_cli_prints_the_registrys_names(only: str | None, capsys: Any) -> None:
    assert cli.main(["labels", *(["--list", only] if only else [])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["list", "code", "name", "en", "zh"]
    printed = []
    for line in lines[1:]:
        column, code, name, *english, chinese = line.split()
        printed.append((column, int(code), name, " ".join(english), chinese))
    expected = [
        (codes.column, code, name, codes.display(name, "en"), codes.display(name, "zh"))
        for codes in CODE_LISTS.values()
        if only in (None, codes.column)
        for code, name in codes.labels.items()
    ]
    assert printed == expected


def test_the_readmes_table_of_names_is_the_registrys() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**Labels.**") : readme.index("## The store")]
    shown = re.findall(r"`(\w+)` \| ([^|`]+?) \| (\S+) \|", section)
    scenes = section.split("Share scenes")[1].split("\n\n")[0]
    shown += re.findall(r"`(\w+)`\s+(\w+)\s+(\S+?)[,.]", scenes)
    assert len(shown) >= 20
    for name, english, chinese in shown:
        lists = [c for c in CODE_LISTS.values() if name in c.names]
        assert any(
            (c.display(name, "en"), c.display(name, "zh")) == (english.strip(), chinese)
            for c in lists
        ), (name, english, chinese)


def test_the_cli_names_the_first_follower_codes(capsys: Any) -> None:
    """Codes 3, 35 and 39 (the first documentation's QR code and searches) are named,
    in both languages, and follower source 0 is not a second "other"."""
    assert cli.main(["labels", "--list", "source"]) == 0
    rows = {int(line.split()[1]): line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "qr_code_old" in rows[3] and "QR code (old code)" in rows[3] and "扫二维码" in rows[3]
    assert "number_search" in rows[35] and "搜号码" in rows[35]
    assert "account_lookup" in rows[39] and "查询微信公众帐号" in rows[39]
    assert "not itemised" in rows[0] and "其他合计" in rows[0]
