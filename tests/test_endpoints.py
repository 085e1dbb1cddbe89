"""The registry: scene labels and channel codes, successors of the offline six,
and an endpoint made from its declaration alone."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

import wxframe
from tests.conftest import Call, Reply, fixture_server, scene_list
from wxframe import (
    ENDPOINTS,
    OFFLINE_ENDPOINTS,
    ChannelRows,
    Columns,
    Endpoint,
    Field,
    InvalidDateError,
    to_frame,
)


def test_every_documented_scene_label_maps_to_getuserreads_channel() -> None:
    labels = ["全部", "公众号消息", "聊天会话", "朋友圈", "公众号主页", "其他", "推荐", "搜一搜"]
    records = [
        {
            "ref_date": "2025-11-02",
            "detail": {
                "read_user": 100,
                "read_user_source": [{"user_count": 10, "scene_desc": label} for label in labels],
            },
        }
    ]
    biz = to_frame("getbizsummary", records)
    assert biz["channel"].tolist() == [
        "all",
        "session",
        "friends",
        "moments",
        "history",
        "other",
        "kanyikan",
        "souyisou",
    ]
    old = to_frame("getuserread", [{"ref_date": "2024-01-01", "user_source": 0}])
    assert biz["channel"].dtype == old["channel"].dtype  # same categories, same order


def test_every_offline_endpoint_names_current_successors() -> None:
    for spec in OFFLINE_ENDPOINTS.values():
        assert spec.successors and all(ENDPOINTS[s].status == "current" for s in spec.successors)
        assert spec.successors[0] in (wxframe.make_loader(spec).__doc__ or "")


def test_a_made_up_endpoint_works_from_its_declaration_alone() -> None:
    spec = Endpoint(
        name="getmadeupstats",
        max_span=4,
        key=("ref_date", "channel"),
        fields=(
            Field("ref_date", "date"),
            Field("note", "text"),
            Columns(
                "stats",
                (
                    ChannelRows(
                        "by_scene",
                        label="scene_desc",
                        value="user_count",
                        into="visit_user",
                        labels=wxframe.endpoints.CHANNEL_LABELS,
                        codes=wxframe.endpoints.CHANNEL_CODES,
                    ),
                    Field("visit_user", "people"),
                    Field("avg_seconds", "average"),
                ),
            ),
        ),
        description="made-up visits per day and scene",
        loader="load_made_up_stats",
        earliest=date(2026, 1, 1),
        response_fields=(Field("is_delay", "flag"),),
    )

    def answer(call: Call) -> Reply:
        assert call.days <= 4
        return {
            "is_delay": False,
            "list": [
                {
                    "ref_date": (call.begin + timedelta(days=i)).isoformat(),
                    "note": "n",
                    "stats": {
                        "visit_user": 9,
                        "avg_seconds": 1.5,
                        "by_scene": scene_list(9, ("朋友圈", 4), ("新入口", 2)),
                    },
                }
                for i in range(call.days)
            ],
        }

    with fixture_server(answer) as server:
        df = wxframe.make_loader(spec)(server.client(), "2026-11-01", "2026-11-10", progress=False)
        with pytest.raises(InvalidDateError, match="getmadeupstats's first day"):
            wxframe.load(server.client(), spec, "2025-12-31", "2026-01-02")
    assert len(server.calls) == 3  # ceil(10 / 4)
    assert list(df.columns) == [
        "ref_date",
        "note",
        "channel",
        "scene_desc",
        "visit_user",
        "avg_seconds",
        "is_delay",
    ]
    assert len(df) == 30 and df["channel"].tolist()[:3] == ["all", "moments", "新入口"]
    assert df["avg_seconds"].dtype == "Float64" and df["visit_user"].dtype == "Int64"
    assert pd.isna(df["avg_seconds"].iloc[1]) and df["note"].iloc[1] == "n"
    assert wxframe.make_loader(spec).__name__ == "load_made_up_stats"
