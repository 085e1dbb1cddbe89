"""The plots under Agg: what is drawn (areas, lines, bars, labels), not just no exception."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

import wxframe
from wxframe import (
    ConfigurationError,
    FrameShapeError,
    MissingFontWarning,
    article_lifecycle,
    plot_article_decay,
    plot_channel_mix,
    plot_hourly_heatmap,
    plot_share_scenes,
    plot_top_articles,
    to_frame,
)
from wxframe.simulator import SimulatedAccount, records

BEGIN, END = date(2024, 5, 1), date(2024, 5, 28)
HAS_CJK = wxframe.cjk_font() is not None


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    acct = SimulatedAccount(seed=2, today=date(2024, 6, 1))
    return {
        "read": to_frame("getuserread", records(acct, "getuserread", BEGIN, END)),
        "read_hour": to_frame("getuserreadhour", records(acct, "getuserreadhour", BEGIN, END)),
        "share": to_frame("getusershare", records(acct, "getusershare", BEGIN, END)),
        "total": to_frame("getarticletotal", records(acct, "getarticletotal", BEGIN, END)),
    }


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _render(ax: plt.Axes) -> list[warnings.WarningMessage]:
    """Draw the figure, returning every warning drawing raised (glyph warnings included)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax.figure.canvas.draw()
    return list(caught)


def _legend(ax: plt.Axes) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_channel_mix_draws_one_area_per_channel(frames: dict) -> None:
    ax = plot_channel_mix(frames["read"])
    areas = [c for c in ax.collections if isinstance(c, PolyCollection)]
    channels = ["messages", "chats", "Moments", "account page", "other", "Top Stories", "Search"]
    assert len(areas) == len(channels)
    assert _legend(ax) == channels  # the all row is not a channel; English names by default
    assert ax.get_ylabel() == "share of reads"
    assert ax.get_ylim() == (0.0, 1.0)
    assert not _render(ax)
    # the top of the stack is 1 on every day: fractions of the channels' sum
    top = areas[-1].get_paths()[0].vertices[:, 1]
    assert np.allclose(top.max(), 1.0)


def test_channel_mix_counts_into_a_given_axes_and_hourly_input(frames: dict) -> None:
    _, given = plt.subplots()
    ax = plot_channel_mix(frames["read_hour"], "int_page_read_user", normalize=False, ax=given)
    assert ax is given
    assert ax.get_ylabel() == "readers"
    assert len(_legend(ax)) == 7


def test_chinese_channel_names_fall_back_with_a_single_warning(frames: dict) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = plot_channel_mix(frames["read"], labels="zh")
        drawn = _render(ax)
    font_warnings = [w for w in caught if issubclass(w.category, MissingFontWarning)]
    if HAS_CJK:
        assert _legend(ax)[0] == "公众号消息" and not font_warnings
    else:
        assert _legend(ax)[0] == "messages"
        assert len(font_warnings) == 1
        assert "fonts-noto-cjk" in str(font_warnings[0].message)
    assert not [w for w in drawn if "Glyph" in str(w.message)]


def test_hourly_heatmap_is_weekday_by_hour_means(frames: dict) -> None:
    ax = plot_hourly_heatmap(frames["read_hour"])
    grid = ax.images[0].get_array()
    assert grid.shape == (7, 24)
    hour = frames["read_hour"]
    rows = hour[(hour["channel"] == "all") & (hour["ref_hour"] == 20)]
    mondays = rows[rows["ref_date"].dt.day_of_week == 0]["int_page_read_count"]
    assert grid[0, 20] == pytest.approx(float(mondays.mean()))
    assert ax.get_xlabel() == "hour (Beijing time)" and ax.get_ylabel() == "weekday"
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == ["Mon", "Tue"]
    assert len(ax.figure.axes) == 2  # the colour bar


def test_article_decay_draws_a_line_per_article_reaching_one(frames: dict) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = plot_article_decay(frames["total"], n=6)
        drawn = _render(ax)
    lines = ax.get_lines()
    assert len(lines) == 6
    life = article_lifecycle(frames["total"])
    top = life[life["complete"]].head(6)  # only articles whose 7 days are over
    for line in lines:
        x, y = line.get_data()
        assert list(x) == list(range(7))
        assert y[-1] == pytest.approx(1.0)
        assert np.all(np.diff(y) >= 0)
    labels = _legend(ax)
    font_warnings = [w for w in caught if issubclass(w.category, MissingFontWarning)]
    if HAS_CJK:
        assert labels[0] == top["title"].iloc[0][:18] or labels[0].endswith("…")
    else:
        assert labels == top["msgid"].tolist()
        assert len(font_warnings) == 1
    assert not [w for w in drawn if "Glyph" in str(w.message)]
    assert ax.get_xlabel() == "days after sending"


def test_article_decay_daily_and_chosen_articles(frames: dict) -> None:
    msgids = frames["total"]["msgid"].unique()[:2].tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingFontWarning)
        ax = plot_article_decay(frames["total"], msgids=msgids, cumulative=False)
    daily = wxframe.to_daily(frames["total"])
    first = daily[daily["msgid"] == msgids[0]]["int_page_read_count_daily"].astype(float).tolist()
    drawn = {tuple(line.get_ydata()) for line in ax.get_lines()}
    assert tuple(first) in drawn
    with pytest.raises(ConfigurationError, match="not in the frame"):
        plot_article_decay(frames["total"], msgids=["nope_1"])


def test_top_articles_bars_are_the_largest_in_order(frames: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingFontWarning)
        ax = plot_top_articles(frames["total"], n=5, by="share_count")
    widths = [p.get_width() for p in ax.patches]
    best = article_lifecycle(frames["total"])["share_count"].sort_values().tail(5)
    assert widths == best.astype(float).tolist()  # bottom to top: the largest on top
    assert ax.get_xlabel() == "share_count"
    assert len(ax.get_yticklabels()) == 5
    with pytest.raises(ConfigurationError, match="by='nope'"):
        plot_top_articles(frames["total"], by="nope")


def test_share_scenes_draws_three_areas(frames: dict) -> None:
    ax = plot_share_scenes(frames["share"])
    areas = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(areas) == 3
    assert _legend(ax) == ["chats", "Moments", "other"]  # the scenes' English names
    assert ax.get_ylabel() == "share_count"


def test_a_named_font_file_draws_titles_as_text(
    frames: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    monkeypatch.setenv("WXFRAME_CJK_FONT", str(font))
    assert wxframe.cjk_font() == "DejaVu Sans"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = plot_top_articles(frames["total"], n=3)
    assert not [w for w in caught if issubclass(w.category, MissingFontWarning)]
    titles = article_lifecycle(frames["total"])["title"].head(3).tolist()[::-1]
    assert [t.get_text() for t in ax.get_yticklabels()] == titles
    monkeypatch.setenv("WXFRAME_CJK_FONT", "/no/such/font.ttf")
    with pytest.raises(ConfigurationError, match="not a font file"):
        wxframe.cjk_font()


def test_plots_refuse_frames_of_the_wrong_shape(frames: dict) -> None:
    with pytest.raises(FrameShapeError, match="looks like a getusershare frame"):
        plot_channel_mix(frames["share"])
    with pytest.raises(FrameShapeError, match="ref_hour"):
        plot_hourly_heatmap(frames["read"])
    with pytest.raises(FrameShapeError, match="getarticletotal"):
        plot_article_decay(frames["read"])
    with pytest.raises(ConfigurationError, match="n=0"):
        plot_article_decay(frames["total"], n=0)


def test_the_wx_accessor_reaches_every_helper(frames: dict) -> None:
    read, total = frames["read"], frames["total"]
    assert read.wx.kind == "getuserread" and total.wx.kind == "getarticletotal"
    pd.testing.assert_frame_equal(read.wx.pivot_channels(), wxframe.pivot_channels(read))
    pd.testing.assert_frame_equal(total.wx.to_daily().wx.to_cumulative(), total)
    assert "read_through_rate" in read.wx.add_rates().columns
    assert len(frames["share"].wx.pivot_scenes().columns) == 3
    assert total.wx.article_lifecycle()["msgid"].is_unique
    assert len(read.wx.plot_channel_mix().collections) == 7
    with pytest.raises(FrameShapeError, match="to_daily needs a getarticletotal or"):
        read.wx.to_daily()
    with pytest.raises(FrameShapeError, match=r"getusershare.*looks like a getuserread"):
        read.wx.pivot_scenes()
