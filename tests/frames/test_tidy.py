"""Tidy typed frames from the platform's answers, both families: exact dtypes, channel
rows, unknown fields kept, missing values NA, malformed records refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import wxframe
import wxframe.datasets
from tests.conftest import scene_list
from wxframe import (
    CURRENT_ENDPOINTS,
    ENDPOINTS,
    MalformedResponseError,
    to_frame,
)
from wxframe.datasets import api_example
from wxframe.frames import (
    empty_frame,
    frame_dtypes,
)

EXAMPLES = Path(wxframe.datasets.__file__).resolve().parent / "api-examples"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


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


def test_every_endpoint_has_an_example() -> None:
    assert {p.stem for p in EXAMPLES.glob("*.json")} == set(ENDPOINTS)


def test_article_summary_example() -> None:
    df = to_frame("getarticlesummary", example("getarticlesummary"))
    row = df.iloc[0]
    assert row["ref_date"] == pd.Timestamp("2014-12-08")
    assert row["msgid"] == "10000050_1"
    assert (row["msg_data_id"], row["msg_index"]) == (10000050, 1)
    assert row["title"] == "12月27日 DiLi日报"
    assert row["int_page_read_user"] == 23676 and row["int_page_read_count"] == 25615
    assert row["share_count"] == 994 and row["add_to_fav_count"] == 3


def test_article_total_example() -> None:
    df = to_frame("getarticletotal", example("getarticletotal"))
    assert len(df) == 1
    row = df.iloc[0]
    assert row["stat_date"] == pd.Timestamp("2014-12-14") and row["day"] == 0
    assert row["target_user"] == 261917
    assert row["int_page_from_session_read_count"] == 753486
    assert row["feed_share_from_other_cnt"] == 775
    # documented but absent from the example: NA, not 0
    assert pd.isna(row["int_page_from_kanyikan_read_user"])
    assert pd.isna(row["url"])


def test_user_read_example_channel_rows_keep_values_before_2020_02_28_na_after() -> None:
    df = to_frame("getuserread", example("getuserread"))
    all_row = df[df["channel"] == "all"].iloc[0]
    session = df[df["channel"] == "session"].iloc[0]
    assert all_row["int_page_read_user"] == 545497 and all_row["add_to_fav_count"] == 3841
    assert session["int_page_read_count"] == 646629 and session["share_count"] == 16469
    # The example (dated 2020-02-18, written for the 2020-02-28 change) sends 0 for the
    # original page and favourites on the channel row: a day before the change, so the
    # platform's values, kept as sent; from that day they are not given (<NA>).
    cols = ("ori_page_read_user", "ori_page_read_count", "add_to_fav_user", "add_to_fav_count")
    assert [session[c] for c in cols] == [0, 0, 0, 0]
    answer = example("getuserread")
    for record in answer["list"]:
        record["ref_date"] = "2020-02-28"
    session = to_frame("getuserread", answer).set_index("channel").loc["session"]
    for col in cols:
        assert pd.isna(session[col])


def test_user_read_hour_example() -> None:
    df = to_frame("getuserreadhour", example("getuserreadhour"))
    assert "ori_page_read_user" not in df and "add_to_fav_count" not in df
    assert df["ref_hour"].tolist() == [0, 0]
    assert df.set_index("channel")["int_page_read_count"].to_dict() == {
        "session": 9172,
        "all": 11815,
    }


def test_user_share_examples_keep_unknown_scenes() -> None:
    df = to_frame("getusershare", example("getusershare"))
    assert df["scene"].tolist() == ["friends", "code_5"]
    assert df["share_count"].tolist() == [207, 23]
    hourly = to_frame("getusersharehour", example("getusersharehour"))
    assert hourly[["ref_hour", "share_count", "share_user"]].iloc[0].tolist() == [12, 72, 4]


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_dtypes_are_exact(endpoint: str) -> None:
    df = to_frame(endpoint, example(endpoint))
    expected = frame_dtypes(endpoint)
    assert list(df.columns) == list(expected)
    for name, dtype in expected.items():
        if isinstance(dtype, pd.CategoricalDtype):
            # canonical labels first, then a code_<n> for each unknown code present
            got = list(df[name].cat.categories)
            assert got[: len(dtype.categories)] == list(dtype.categories), name
            assert all(c.startswith("code_") for c in got[len(dtype.categories) :])
        else:
            assert df[name].dtype == dtype, name
    assert isinstance(df.index, pd.RangeIndex)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_empty_list_gives_the_full_schema(endpoint: str) -> None:
    df = to_frame(endpoint, {"list": []})
    assert df.empty
    pd.testing.assert_frame_equal(df, empty_frame(endpoint))
    assert dict(df.dtypes) == frame_dtypes(endpoint)


def test_unknown_fields_are_kept_after_the_known_ones() -> None:
    records = example("getusershare")["list"]
    records[0] = records[0] | {"new_metric": 5, "new_label": "x"}
    df = to_frame("getusershare", records)
    assert list(df.columns)[-2:] == ["new_metric", "new_label"]
    assert df["new_metric"].dtype == "Int64" and df["new_label"].dtype == "string"
    assert df["new_metric"].tolist()[0] == 5 and pd.isna(df["new_metric"].iloc[1])
    total = example("getarticletotal")
    total["list"][0]["details"][0]["int_page_from_newthing_read_user"] = 9
    assert to_frame("getarticletotal", total)["int_page_from_newthing_read_user"].iloc[0] == 9


def test_rows_before_2020_02_28_become_the_all_channel() -> None:
    rows = [{"ref_date": "2019-05-01", "int_page_read_user": 3, "int_page_read_count": 4}]
    df = to_frame("getuserread", rows)
    assert df["user_source"].tolist() == [99999999] and df["channel"].tolist() == ["all"]
    assert pd.isna(df["share_count"].iloc[0])  # not sent: NA, never 0


def test_unknown_channel_code_is_a_category_not_an_error() -> None:
    rows = [
        {"ref_date": "2024-01-01", "user_source": 8, "int_page_read_count": 1},
        {"ref_date": "2024-01-01", "user_source": 0, "int_page_read_count": 2},
    ]
    df = to_frame("getuserread", rows)
    assert df["channel"].tolist() == ["session", "code_8"]
    assert list(df["channel"].cat.categories)[-1] == "code_8"


def test_bare_msgid_has_no_index() -> None:
    rows = [{"ref_date": "2024-01-01", "msgid": "2247490000", "title": "t", "share_count": 5}]
    df = to_frame("getarticlesummary", rows)
    assert df["msg_data_id"].iloc[0] == 2247490000 and pd.isna(df["msg_index"].iloc[0])


def test_sorted_and_exact_duplicates_dropped() -> None:
    rows = [
        {"ref_date": "2024-01-02", "share_scene": 1, "share_count": 1, "share_user": 1},
        {"ref_date": "2024-01-01", "share_scene": 2, "share_count": 1, "share_user": 1},
        {"ref_date": "2024-01-01", "share_scene": 2, "share_count": 1, "share_user": 1},
    ]
    df = to_frame("getusershare", rows)
    assert len(df) == 2 and df["ref_date"].is_monotonic_increasing


@pytest.mark.parametrize(
    ("endpoint", "records", "match"),
    [
        ("getusershare", {"data": []}, "must have a 'list'"),
        ("getusershare", {"list": {"a": 1}}, "must be a JSON array"),
        ("getusershare", [1, 2], "not a JSON object"),
        ("getusersharehour", [{"ref_date": "2024-01-01", "ref_hour": 1230, "share_scene": 1}],
         "ref_hour must be one of"),
        ("getusershare", [{"ref_date": "2024-01-01", "share_scene": 1, "share_count": "many"}],
         "'share_count' must be an integer"),
        ("getusershare", [{"ref_date": "2024-01-01", "share_scene": 1, "share_count": 1},
                          {"ref_date": "2024-01-02", "share_scene": 1, "share_count": "x"}],
         "'share_count' mixes"),
        ("getusershare", [{"ref_date": "2024-01-01", "share_scene": 1, "share_count": -3}],
         "cannot be negative"),
        ("getusershare", [{"ref_date": "2024-01-01", "share_scene": 1, "share_count": 2**70}],
         "beyond a 64-bit integer"),
        ("getusershare", [{"ref_date": "2024/01/01", "share_scene": 1}], "'YYYY-MM-DD'"),
        ("getusershare", [{"share_scene": 1, "share_count": 1}], "no 'ref_date'"),
        ("getusershare", [{"ref_date": "2024-01-01", "share_scene": 1, "share_count": 1},
                          {"ref_date": "2024-01-01", "share_scene": 1, "share_count": 2}],
         "disagree"),
        ("getarticletotal", [{"ref_date": "2024-01-01", "msgid": "1_1", "title": "t"}],
         "no 'details'"),
        ("getarticletotaldetail", [{"ref_date": "2025-11-01", "msgid": "1_1", "detail_list": [
            {"stat_date": "2025-11-01", "read_finish_rate": 2**53 + 1}]}],
         "'read_finish_rate' is a number a double cannot hold exactly"),
    ],
)  # fmt: skip
def test_malformed_records_raise_clear_errors(endpoint: str, records: object, match: str) -> None:
    with pytest.raises(MalformedResponseError, match=match):
        to_frame(endpoint, records)


def test_missing_key_values_are_one_key_for_repeats_and_conflicts() -> None:
    # A record without its scene code twice: kept once; two that disagree: refused.
    base = {"ref_date": "2024-05-01", "share_count": 1, "share_user": 1}
    rows = [dict(base, share_scene=None), dict(base, share_scene=1), dict(base, share_scene=None)]
    assert len(to_frame("getusershare", rows)) == 2
    rows[2]["share_count"] = 5
    with pytest.raises(MalformedResponseError, match="share a key"):
        to_frame("getusershare", rows)


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
                    "read_user_source": scene_list(
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
            "detail": {"read_user_source": scene_list(12, ("搜一搜", 3))},
        }
    ]
    df = to_frame("getarticleread", records)
    assert df[["channel", "read_user"]].values.tolist() == [["all", 12], ["souyisou", 3]]


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
    assert list(summary["source"].cat.categories)[:4] == [
        "other", "search", "qr_code_old", "card_share"
    ]  # fmt: skip
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
