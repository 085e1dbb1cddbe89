"""The current family and the follower endpoints: tidy frames, fewest calls, clear errors.

The examples are the platform's (``datasets/api-examples``); the HTTP tests run against
a loopback fixture server whose answers each test writes (``tests/fixture_server.py``).
"""

from __future__ import annotations

import json
import math
import warnings
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest

import wxframe
from tests.fixture_server import Call, Reply, fixture_server
from wxframe import (
    CURRENT_ENDPOINTS,
    ENDPOINTS,
    OFFLINE_ENDPOINTS,
    AccessDeniedError,
    ChannelRows,
    Columns,
    DataNotReadyError,
    Endpoint,
    EndpointOfflineError,
    Field,
    InvalidDateError,
    MalformedResponseError,
    RangeClippedWarning,
    to_frame,
)
from wxframe.datasets import api_example
from wxframe.frames import frame_dtypes

CHANNEL_ORDER = [
    "all",
    "session",
    "friends",
    "moments",
    "weibo",
    "history",
    "other",
    "kanyikan",
    "souyisou",
]
YESTERDAY = date(2026, 11, 30)  # the fixture server's clients live on 2026-12-01, noon


def _scene_list(total: int, *pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"user_count": total, "scene_desc": "全部"}] + [
        {"user_count": n, "scene_desc": label} for label, n in pairs
    ]


# ------------------------------------------------------------------ frames from examples
def test_article_read_example_has_an_all_row_and_scene_rows() -> None:
    df = to_frame("getarticleread", api_example("getarticleread"))
    assert list(df.columns) == list(frame_dtypes("getarticleread"))
    assert list(df.columns) == [
        "ref_date",
        "msgid",
        "msg_data_id",
        "msg_index",
        "channel",
        "scene_desc",
        "read_user",
        "is_delay",
    ]
    assert df["channel"].tolist() == ["all", "session"]
    assert df["scene_desc"].tolist() == ["全部", "公众号消息"]
    assert df["read_user"].tolist() == [4123, 234]
    assert (df["msg_data_id"].tolist(), df["msg_index"].tolist()) == ([2247490098] * 2, [1, 1])
    assert list(df["channel"].cat.categories) == CHANNEL_ORDER
    assert df["is_delay"].dtype == "boolean" and not df["is_delay"].any()


def test_biz_summary_example_scene_rows_carry_read_user_only() -> None:
    df = to_frame("getbizsummary", api_example("getbizsummary"))
    assert dict(df.dtypes) == frame_dtypes("getbizsummary")
    everything = df[df["channel"] == "all"].iloc[0]
    assert everything["read_user"] == 4123 and everything["send_page_count"] == 512
    assert everything["share_user"] == 366 and everything["redirect_ori_page_user"] == 369
    session = df[df["channel"] == "session"].iloc[0]
    assert session["read_user"] == 234 and session["scene_desc"] == "公众号消息"
    for column in (
        "share_user",
        "zaikan_user",
        "like_user",
        "comment_count",
        "collection_user",
        "redirect_ori_page_user",
        "send_page_count",
    ):
        assert pd.isna(session[column]), column  # not given per scene: NA, never 0
    assert session["ref_date"] == pd.Timestamp("2025-11-01") and not session["is_delay"]


def test_article_total_detail_example_flattens_to_one_row_per_stat_day_and_channel() -> None:
    df = to_frame("getarticletotaldetail", api_example("getarticletotaldetail"))
    assert dict(df.dtypes) == frame_dtypes("getarticletotaldetail")
    assert len(df) == 1  # the example's only scene is 全部
    row = df.iloc[0]
    assert (row["ref_date"], row["stat_date"], row["day"]) == (
        pd.Timestamp("2025-11-01"),
        pd.Timestamp("2025-11-01"),
        0,
    )
    assert (row["publish_type"], row["title"]) == (0, "标题")
    assert row["content_url"] == "https://mp.weixin.qq.com/s/abc"
    assert row["praise_money"] == 361 and row["read_subscribe_user"] == 327
    for column, dtype in (
        ("read_delivery_rate", "Float64"),
        ("read_finish_rate", "Float64"),
        ("read_avg_activetime", "Float64"),
        ("praise_money", "Int64"),
        ("read_user", "Int64"),
    ):
        assert df[column].dtype == dtype, column
    assert row["read_finish_rate"] == pytest.approx(0.6304348)
    assert row["read_avg_activetime"] == pytest.approx(1.0588236)
    assert row["jump_rate_1"] == pytest.approx(0.5304147)
    assert row["jump_rate_2"] == pytest.approx(0.1023412)
    assert all(pd.isna(row[f"jump_rate_{p}"]) for p in (3, 4, 5))  # absent positions


def test_article_total_detail_channels_jump_rates_and_running_totals() -> None:
    records = [
        {
            "ref_date": "2025-11-03",
            "msgid": "100_2",
            "publish_type": 1,
            "title": "标题二",
            "detail_list": [
                {
                    "stat_date": f"2025-11-0{3 + i}",
                    "read_user": 10 * (i + 1),
                    "read_user_source": _scene_list(
                        10 * (i + 1), ("朋友圈", 4 * (i + 1)), ("视频号推荐", 1)
                    ),
                    "share_user": i,
                    "read_finish_rate": 0.5,
                    "read_jump_position": [{"position": p, "rate": p / 10} for p in (5, 3, 1)],
                }
                for i in range(2)
            ],
        }
    ]
    df = to_frame("getarticletotaldetail", {"list": records, "is_delay": True})
    assert len(df) == 6  # 2 stat days x (all, moments, an unknown scene)
    assert df["channel"].tolist() == ["all", "moments", "视频号推荐"] * 2
    assert list(df["channel"].cat.categories) == [*CHANNEL_ORDER, "视频号推荐"]
    assert df["day"].tolist() == [0, 0, 0, 1, 1, 1]
    assert df["title"].tolist() == ["标题二"] * 6 and df["publish_type"].tolist() == [1] * 6
    moments = df[df["channel"] == "moments"]
    assert moments["read_user"].tolist() == [4, 8]
    assert moments[["share_user", "read_finish_rate", "jump_rate_1"]].isna().all().all()
    everything = df[df["channel"] == "all"]
    assert everything["jump_rate_5"].tolist() == [0.5, 0.5]
    assert everything["jump_rate_3"].tolist() == [0.3, 0.3]
    assert everything["jump_rate_2"].isna().all() and everything["jump_rate_4"].isna().all()
    assert df["is_delay"].all()
    assert wxframe.ENDPOINTS["getarticletotaldetail"].cumulative[:2] == ("read_user", "share_user")


def test_a_record_without_an_all_entry_still_has_its_all_row() -> None:
    records = [
        {
            "ref_date": "2025-11-05",
            "detail": {
                "read_user": 50,
                "share_user": 2,
                "read_user_source": [{"user_count": 20, "scene_desc": "聊天会话"}],
            },
        }
    ]
    df = to_frame("getbizsummary", records)
    assert df["channel"].tolist() == ["all", "friends"]
    assert df["read_user"].tolist() == [50, 20]
    assert pd.isna(df["scene_desc"].iloc[0])  # the platform sent no 全部 label
    assert df["share_user"].iloc[0] == 2 and pd.isna(df["share_user"].iloc[1])
    assert df["is_delay"].isna().all()  # a bare list says nothing about delay
    # no scene list at all: the all row alone
    bare = to_frame("getbizsummary", [{"ref_date": "2025-11-05", "detail": {"read_user": 7}}])
    assert bare["channel"].tolist() == ["all"] and bare["read_user"].tolist() == [7]


def test_an_all_row_takes_its_count_from_the_all_entry_when_the_record_has_none() -> None:
    records = [
        {
            "ref_date": "2025-11-05",
            "msgid": "9_1",
            "detail": {"read_user_source": _scene_list(12, ("搜一搜", 3))},
        }
    ]
    df = to_frame("getarticleread", records)
    assert df[["channel", "read_user"]].values.tolist() == [["all", 12], ["souyisou", 3]]


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


def test_article_share_and_followers() -> None:
    share = to_frame("getarticleshare", api_example("getarticleshare"))
    assert share[["msgid", "share_user"]].values.tolist() == [["2247490098_1", 366]]
    assert dict(share.dtypes) == frame_dtypes("getarticleshare")
    summary = to_frame(
        "getusersummary",
        {
            "list": [
                {"ref_date": "2025-11-02", "user_source": 30, "new_user": 12, "cancel_user": 3},
                {"ref_date": "2025-11-02", "user_source": 0, "new_user": 0, "cancel_user": 0},
                {"ref_date": "2025-11-02", "user_source": 999, "new_user": 1, "cancel_user": 0},
            ]
        },
    )
    assert summary["user_source"].tolist() == [0, 30, 999]
    assert summary["source"].tolist() == ["other", "qr_code", "code_999"]
    assert list(summary["source"].cat.categories)[:3] == ["other", "search", "card_share"]
    assert wxframe.endpoints.SOURCES_ZH["qr_code"] == "扫描二维码"
    cumulate = to_frame("getusercumulate", api_example("getusercumulate"))
    assert list(cumulate.columns) == ["ref_date", "cumulate_user", "is_delay"]
    assert "user_source" not in cumulate.columns  # the undocumented extra field: accepted
    assert cumulate["cumulate_user"].tolist() == [1217056]


@pytest.mark.parametrize("endpoint", list(CURRENT_ENDPOINTS))
def test_is_delay_comes_from_the_response(endpoint: str) -> None:
    body = api_example(endpoint)
    for flag in (True, False):
        df = to_frame(endpoint, body | {"is_delay": flag})
        assert len(df) and df["is_delay"].dtype == "boolean"
        assert df["is_delay"].tolist() == [flag] * len(df)
    with pytest.raises(MalformedResponseError, match="'is_delay' must be true or false"):
        to_frame(endpoint, body | {"is_delay": "yes"})


@pytest.mark.parametrize(
    ("endpoint", "records", "match"),
    [
        (
            "getbizsummary",
            [{"ref_date": "2025-11-01", "detail": [1]}],
            "'detail' must be an object",
        ),
        (
            "getbizsummary",
            [
                {
                    "ref_date": "2025-11-01",
                    "detail": {"read_user_source": [{"user_count": 1, "scene_desc": 5}]},
                }
            ],
            "scene_desc must be text",
        ),
        (
            "getbizsummary",
            [
                {
                    "ref_date": "2025-11-01",
                    "detail": {"read_user_source": [{"user_count": -1, "scene_desc": "朋友圈"}]},
                }
            ],
            "cannot be negative",
        ),
        (
            "getarticleread",
            [
                {
                    "ref_date": "2025-11-01",
                    "msgid": "1_1",
                    "detail": {"read_user_source": {"scene_desc": "全部"}},
                }
            ],
            "must be a list of",
        ),
        (
            "getarticletotaldetail",
            [
                {
                    "ref_date": "2025-11-01",
                    "msgid": "1_1",
                    "detail_list": [
                        {
                            "stat_date": "2025-11-01",
                            "read_jump_position": [{"position": 6, "rate": 0.1}],
                        }
                    ],
                }
            ],
            "position must be 1..5; got \\[6\\]",
        ),
        (
            "getarticletotaldetail",
            [
                {
                    "ref_date": "2025-11-01",
                    "msgid": "1_1",
                    "detail_list": [
                        {
                            "stat_date": "2025-11-01",
                            "read_jump_position": [
                                {"position": 1, "rate": 0.1},
                                {"position": 1, "rate": 0.2},
                            ],
                        }
                    ],
                }
            ],
            "names one position twice",
        ),
        (
            "getarticletotaldetail",
            [
                {
                    "ref_date": "2025-11-01",
                    "msgid": "1_1",
                    "detail_list": [{"stat_date": "2025-11-01", "read_finish_rate": "most"}],
                }
            ],
            "'read_finish_rate' must be a number",
        ),
        ("getarticletotaldetail", [{"ref_date": "2025-11-01", "msgid": "1_1"}], "no 'detail_list'"),
    ],
)
def test_malformed_current_records_raise_clear_errors(
    endpoint: str, records: object, match: str
) -> None:
    with pytest.raises(MalformedResponseError, match=match):
        to_frame(endpoint, records)


def test_rates_sent_as_integers_or_text_are_still_floats() -> None:
    df = to_frame(
        "getarticletotaldetail",
        [
            {
                "ref_date": "2025-11-01",
                "msgid": "1_1",
                "detail_list": [
                    {"stat_date": "2025-11-01", "read_finish_rate": 1, "read_delivery_rate": "0.25"}
                ],
            }
        ],
    )
    assert df["read_finish_rate"].tolist() == [1.0] and df["read_delivery_rate"].tolist() == [0.25]


# ------------------------------------------------------------------------- over HTTP
def _records(call: Call) -> list[dict[str, Any]]:
    """Plausible records for every day of a window, in each endpoint's documented shape."""
    days = [call.begin + timedelta(days=i) for i in range(call.days)]
    out: list[dict[str, Any]] = []
    for n, d in enumerate(days):
        day = d.isoformat()
        reads = 100 + d.toordinal() % 50
        scenes = _scene_list(reads, ("公众号消息", reads // 2), ("朋友圈", reads // 4))
        if call.endpoint == "getbizsummary":
            out.append(
                {
                    "ref_date": day,
                    "detail": {
                        "read_user": reads,
                        "read_user_source": scenes,
                        "share_user": 3,
                        "zaikan_user": 1,
                        "like_user": 2,
                        "comment_count": 0,
                        "collection_user": 1,
                        "redirect_ori_page_user": 0,
                        "send_page_count": 1,
                    },
                }
            )
        elif call.endpoint == "getarticleread":
            out += [
                {
                    "ref_date": day,
                    "msgid": f"{d.toordinal()}_{i}",
                    "detail": {"read_user": reads, "read_user_source": scenes},
                }
                for i in (1, 2)
            ]
        elif call.endpoint == "getarticleshare":
            out.append(
                {"ref_date": day, "msgid": f"{d.toordinal()}_1", "detail": {"share_user": n}}
            )
        elif call.endpoint == "getarticletotaldetail":
            stats = [d + timedelta(days=k) for k in range(30) if d + timedelta(days=k) <= YESTERDAY]
            out.append(
                {
                    "ref_date": day,
                    "msgid": f"{d.toordinal()}_1",
                    "publish_type": 0,
                    "title": f"第{n}篇",
                    "detail_list": [
                        {
                            "stat_date": s.isoformat(),
                            "read_user": 10 * (k + 1),
                            "read_user_source": _scene_list(10 * (k + 1), ("推荐", k)),
                        }
                        for k, s in enumerate(stats)
                    ],
                }
            )
        elif call.endpoint == "getusersummary":
            out.append({"ref_date": day, "user_source": 30, "new_user": 5, "cancel_user": 1})
        elif call.endpoint == "getusercumulate":
            out.append({"ref_date": day, "cumulate_user": 1000 + 4 * n, "user_source": 0})
    return out


def _platform(call: Call) -> Reply:
    """What the platform does with a window: a range error past the span, else data."""
    spec = ENDPOINTS[call.endpoint]
    if call.days > spec.max_span or call.end > YESTERDAY:
        return {"errcode": 61501, "errmsg": "date range error"}
    if call.begin < spec.earliest:
        return {"list": [{"ref_date": "1970-01-01"}]}  # garbage: never asked for
    return {"list": _records(call), "is_delay": call.end == YESTERDAY}


ROWS_PER_DAY = {
    "getbizsummary": 3,
    "getarticleread": 6,
    "getarticleshare": 1,
    "getusersummary": 1,
    "getusercumulate": 1,
}


@pytest.mark.parametrize("endpoint", list(CURRENT_ENDPOINTS))
def test_each_current_loader_makes_the_fewest_calls_over_60_days(endpoint: str) -> None:
    spec = ENDPOINTS[endpoint]
    begin, end = date(2026, 10, 2), YESTERDAY  # 60 days
    with fixture_server(_platform) as server:
        loader = getattr(wxframe, spec.loader)
        df = loader(server.client(max_workers=4), begin, end, progress=False)
    calls = server.calls_to(endpoint)
    assert len(calls) == len(server.calls) == math.ceil(60 / spec.max_span)
    asked = sorted(c.begin + timedelta(days=i) for c in calls for i in range(c.days))
    assert asked == [begin + timedelta(days=i) for i in range(60)]  # each day exactly once
    assert dict(df.dtypes) == frame_dtypes(endpoint)
    assert not df.duplicated(list(spec.key)).any()
    if endpoint in ROWS_PER_DAY:
        assert len(df) == 60 * ROWS_PER_DAY[endpoint]
    # the last window answered is_delay: its rows, and only they, say so
    delayed = df.loc[df["is_delay"], spec.partition].unique()
    last_window = max(calls, key=lambda c: c.end)
    assert all(last_window.begin <= d.date() <= last_window.end for d in delayed)
    assert len(delayed) > 0


def test_a_span_of_30_days_is_used_in_full_by_getbizsummary() -> None:
    with fixture_server(_platform) as server:
        wxframe.load_biz_summary(server.client(), "2026-09-01", "2026-11-29", progress=False)
    assert sorted(c.days for c in server.calls) == [30, 30, 30]


def test_load_many_loads_the_current_family_by_default() -> None:
    with fixture_server(_platform) as server:
        frames = wxframe.load_many(server.client(), "2026-11-01", "2026-11-14", progress=False)
    assert list(frames) == list(CURRENT_ENDPOINTS)
    assert {c.endpoint for c in server.calls} == set(CURRENT_ENDPOINTS)
    expected = sum(spec.calls(14) for spec in CURRENT_ENDPOINTS.values())
    assert len(server.calls) == expected
    assert not set(OFFLINE_ENDPOINTS) & {c.endpoint for c in server.calls}


def test_one_range_can_span_both_families_and_is_clipped_once() -> None:
    with fixture_server(_platform) as server, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frames = wxframe.load_many(
            server.client(),
            "2025-10-25",
            "2025-11-03",
            progress=False,
            endpoints=["getbizsummary", "getarticleread", "getusersummary"],
        )
    clipped = [w for w in caught if issubclass(w.category, RangeClippedWarning)]
    assert len(clipped) == 1
    assert "getbizsummary from 2025-11-01" in str(clipped[0].message)
    assert "getusersummary" not in str(clipped[0].message)  # followers go back to 2014
    assert min(c.begin for c in server.calls_to("getarticleread")) == date(2025, 11, 1)
    assert min(c.begin for c in server.calls_to("getusersummary")) == date(2025, 10, 25)
    assert frames["getbizsummary"]["ref_date"].min() == pd.Timestamp("2025-11-01")
    # a range entirely before an endpoint's first day: an empty frame with the full schema
    with fixture_server(_platform) as server, pytest.warns(RangeClippedWarning, match="not at all"):
        early = wxframe.load_many(
            server.client(),
            "2025-10-01",
            "2025-10-05",
            progress=False,
            endpoints=["getbizsummary", "getusercumulate"],
        )
    assert early["getbizsummary"].empty and dict(early["getbizsummary"].dtypes) == frame_dtypes(
        "getbizsummary"
    )
    assert len(early["getusercumulate"]) == 5
    assert {c.endpoint for c in server.calls} == {"getusercumulate"}


@pytest.mark.parametrize(
    "endpoint", ["getbizsummary", "getarticleread", "getarticleshare", "getarticletotaldetail"]
)
def test_a_single_loader_refuses_days_before_its_first_day_before_any_request(
    endpoint: str,
) -> None:
    with fixture_server(_platform) as server:
        loader = getattr(wxframe, ENDPOINTS[endpoint].loader)
        with pytest.raises(InvalidDateError) as caught:
            loader(server.client(), "2025-10-31", "2025-11-03")
    assert str(caught.value) == (
        f"begin=2025-10-31 is before {endpoint}'s first day; {endpoint} has data from "
        "2025-11-01 to 2026-11-30 (yesterday, Beijing time)"
    )
    assert server.calls == [] and server.token_requests == 0


def test_47009_raises_endpoint_offline_naming_the_successor_after_one_request() -> None:
    def offline(call: Call) -> Reply:
        return {"errcode": 47009, "errmsg": "this api is offline, please use the new api"}

    with fixture_server(offline) as server, pytest.raises(EndpointOfflineError) as caught:
        wxframe.load_user_read(server.client(), "2026-11-01", "2026-11-20", progress=False)
    assert len(server.calls) == 1  # not retried, the other windows not sent
    error = caught.value
    assert isinstance(error, wxframe.ApiError) and error.errcode == 47009
    assert error.endpoint == "getuserread" and error.successors == ("getbizsummary",)
    assert "use getbizsummary instead" in str(error) and "switched getuserread off" in str(error)
    import pickle

    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.successors == error.successors


def test_every_offline_endpoint_names_current_successors() -> None:
    for spec in OFFLINE_ENDPOINTS.values():
        assert spec.successors and all(ENDPOINTS[s].status == "current" for s in spec.successors)
        assert spec.successors[0] in (wxframe.make_loader(spec).__doc__ or "")


def test_48001_says_the_account_must_be_verified() -> None:
    def unverified(call: Call) -> Reply:
        return {"errcode": 48001, "errmsg": "api unauthorized"}

    with fixture_server(unverified) as server, pytest.raises(AccessDeniedError) as caught:
        wxframe.load_biz_summary(server.client(), "2026-11-01", "2026-11-05")
    message = str(caught.value)
    assert "getbizsummary" in message and "errcode 48001" in message
    assert "verified (认证) Official Account" in message and "permission set" in message
    assert "whitelist" not in message  # advice for this code, not every code of the class
    assert len(server.calls) == 1


def test_61503_is_reported_as_data_not_ready() -> None:
    def not_ready(call: Call) -> Reply:
        return {"errcode": 61503, "errmsg": "data not ready"}

    with (
        fixture_server(not_ready) as server,
        pytest.raises(DataNotReadyError, match="try again later"),
    ):
        wxframe.load_user_cumulate(server.client(), "2026-11-29", "2026-11-29")
    assert len(server.calls) == 1


def test_a_text_plain_body_is_decoded_as_utf8() -> None:
    body = {
        "list": [
            {
                "ref_date": "2026-11-02",
                "msgid": "77_1",
                "publish_type": 0,
                "title": "公众号的标题：测试",
                "detail_list": [{"stat_date": "2026-11-02", "read_user": 5}],
            }
        ],
        "is_delay": False,
    }
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")

    with fixture_server(lambda call: (200, "text/plain", raw)) as server:
        df = wxframe.load_article_total_detail(server.client(), "2026-11-02", "2026-11-02")
    assert df["title"].tolist() == ["公众号的标题：测试"]


# ------------------------------------------------------------------- a seventh endpoint
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
                        "by_scene": _scene_list(9, ("朋友圈", 4), ("新入口", 2)),
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


def test_loaders_come_from_the_registry_and_are_exported() -> None:
    for spec in ENDPOINTS.values():
        loader = getattr(wxframe, spec.loader)
        assert loader.__name__ == spec.loader and spec.loader in wxframe.__all__
        assert f"data from {spec.earliest}" in (loader.__doc__ or "")
    assert list(ENDPOINTS)[:6] == list(CURRENT_ENDPOINTS)  # the current family first


# ------------------------------------------------------- shapes the review turned up
def test_empty_nested_lists_are_no_entries_not_malformed() -> None:
    read = to_frame("getarticleread", {"list": [{"ref_date": "2025-11-01", "msgid": "1_1",
        "detail": {"read_user": 0, "read_user_source": []}}], "is_delay": False})  # fmt: skip
    assert read["channel"].tolist() == ["all"] and read["read_user"].tolist() == [0]
    for detail_list in ([], None):
        empty = to_frame("getarticletotaldetail", [{"ref_date": "2025-11-01", "msgid": "1_1",
                                                     "detail_list": detail_list}])  # fmt: skip
        assert empty.empty and dict(empty.dtypes) == frame_dtypes("getarticletotaldetail")
    jumps = to_frame("getarticletotaldetail", [{"ref_date": "2025-11-01", "msgid": "1_1",
        "detail_list": [{"stat_date": "2025-11-01", "read_jump_position": []}]}])  # fmt: skip
    assert jumps[[f"jump_rate_{p}" for p in range(1, 6)]].isna().all().all()


@pytest.mark.parametrize(
    ("records", "match"),
    [
        ([{"msgid": "1_1", "detail": {"share_user": 1}},
          {"ref_date": "2025-11-01", "msgid": "2_1", "detail": {"share_user": 1}}],
         "'ref_date' is missing from 1 record"),
        ([{"ref_date": "2025-11-01", "msgid": "1_1", "detail_list": [None]}],
         "holds null entries"),
        ([{"ref_date": "2025-11-01", "msgid": "1_1", "detail_list": [{"read_user": 1}]}],
         "no 'stat_date' field"),
    ],
)  # fmt: skip
def test_a_row_without_its_key_dates_is_refused(records: list, match: str) -> None:
    endpoint = "getarticletotaldetail" if "detail_list" in records[0] else "getarticleshare"
    with pytest.raises(MalformedResponseError, match=match):
        to_frame(endpoint, records)


def test_unknown_fields_of_list_entries_are_kept_and_labels_matched_without_spaces() -> None:
    scenes = [
        {"user_count": 5, "scene_desc": "全部 ", "new_x": 1},
        {"user_count": 2, "scene_desc": " 朋友圈", "new_x": 2},
    ]
    records = [{"ref_date": "2025-11-01", "detail": {"read_user": 5, "read_user_source": scenes}}]
    df = to_frame("getbizsummary", records)
    assert df["channel"].tolist() == ["all", "moments"]
    assert df["scene_desc"].tolist() == ["全部 ", " 朋友圈"]  # as the platform sent them
    assert df["new_x"].tolist() == [1, 2]
    detail = to_frame("getarticletotaldetail", [{"ref_date": "2025-11-01", "msgid": "1_1",
        "detail_list": [{"stat_date": "2025-11-01", "read_jump_position": [
            {"position": 1, "rate": 0.5, "new_y": 3}]}]}])  # fmt: skip
    assert detail["jump_rate_1"].tolist() == [0.5]
    assert json.loads(detail["read_jump_position"].iloc[0]) == [
        {"position": 1, "rate": 0.5, "new_y": 3}
    ]


NAMES = ["getusercumulate", "getuserread", "getbizsummary"]


def test_load_many_leaves_an_offline_endpoint_out_and_loads_the_others() -> None:
    def platform(call: Call) -> Reply:
        if ENDPOINTS[call.endpoint].status == "offline":
            return {"errcode": 47009, "errmsg": "this api is offline, please use the new api"}
        return _platform(call)

    with (
        fixture_server(platform) as server,
        pytest.warns(wxframe.EndpointSkippedWarning, match="getuserread \\(use getbizsummary\\)"),
    ):
        frames = wxframe.load_many(
            server.client(), "2026-11-01", "2026-11-09", progress=False, endpoints=NAMES
        )
    assert len(server.calls_to("getuserread")) == 1
    assert frames["getuserread"].empty and len(frames["getusercumulate"]) == 9
    assert len(frames["getbizsummary"]) == 27
