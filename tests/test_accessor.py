"""The df.wx accessor: every helper reachable, with the helper's own signature."""

from __future__ import annotations

import inspect

import pandas as pd
import pytest

import wxframe
from wxframe import (
    FrameShapeError,
)


def test_the_wx_accessor_reaches_every_helper(plot_frames: dict) -> None:
    read, total = plot_frames["read"], plot_frames["total"]
    assert read.wx.kind == "getuserread" and total.wx.kind == "getarticletotal"
    pd.testing.assert_frame_equal(read.wx.pivot_channels(), wxframe.pivot_channels(read))
    pd.testing.assert_frame_equal(total.wx.to_daily().wx.to_cumulative(), total)
    assert "read_through_rate" in read.wx.add_rates().columns
    assert len(plot_frames["share"].wx.pivot_scenes().columns) == 3
    assert total.wx.article_lifecycle()["msgid"].is_unique
    assert len(read.wx.plot_channel_mix().collections) == 7
    with pytest.raises(FrameShapeError, match="to_daily needs a getarticletotal or"):
        read.wx.to_daily()
    with pytest.raises(FrameShapeError, match=r"getusershare.*looks like a getuserread"):
        read.wx.pivot_scenes()


def test_the_accessor_has_the_helpers_signatures() -> None:
    for name in (
        "pivot_channels",
        "pivot_scenes",
        "pivot_sources",
        "article_lifecycle",
        "follower_growth",
        "plot_channel_mix",
        "plot_hourly_heatmap",
        "plot_article_decay",
        "plot_top_articles",
        "plot_share_scenes",
        "plot_engagement",
        "plot_dropoff",
        "plot_followers",
        "open_rate",
        "conversion",
        "by_slot",
        "by_weekday",
        "recommendation_share",
    ):
        helper = list(inspect.signature(getattr(wxframe, name)).parameters.values())[1:]
        method = list(inspect.signature(getattr(wxframe.WxAccessor, name)).parameters.values())
        assert [(p.name, p.kind, p.default) for p in method[1:]] == [
            (p.name, p.kind, p.default) for p in helper
        ], name


def test_the_article_helpers_are_methods_of_one_frame() -> None:
    sent = pd.to_datetime(["2025-11-03"] * 4)
    details = pd.DataFrame(
        {
            "msgid": ["1_1", "1_1", "1_2", "1_2"],
            "ref_date": sent,
            "stat_date": sent,
            "channel": ["all", "kanyikan", "all", "kanyikan"],
            "read_user": pd.array([100, 20, 40, 4], dtype="Int64"),
            "read_subscribe_user": pd.array([3, pd.NA, 1, pd.NA], dtype="Int64"),
            "read_delivery_rate": pd.array([0.05, pd.NA, 0.01, pd.NA], dtype="Float64"),
        }
    )
    assert details.wx.open_rate(days=1)["open_rate"].tolist() == [0.05, 0.01]
    assert details.wx.conversion()["per_1000"].tolist() == [30.0, 25.0]
    assert details.wx.by_slot(days=1)["readers_vs_headline"].tolist() == [1.0, 0.4]
    assert details.wx.by_weekday(days=1, labels="en").loc["Monday", "articles"] == 2
    by_article = details.wx.recommendation_share(by="article", labels="zh")
    assert by_article["推荐"].tolist() == [0.2, 0.1]
