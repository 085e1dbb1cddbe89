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
    ):
        helper = list(inspect.signature(getattr(wxframe, name)).parameters.values())[1:]
        method = list(inspect.signature(getattr(wxframe.WxAccessor, name)).parameters.values())
        assert [(p.name, p.kind, p.default) for p in method[1:]] == [
            (p.name, p.kind, p.default) for p in helper
        ], name
