"""pivot_channels, pivot_scenes and pivot_sources against the simulator's truth."""

from __future__ import annotations

from datetime import date, timedelta

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import wxframe
from tests.conftest import CURRENT_BEGIN, OFFLINE_DAYS, current_account, offline_account
from wxframe import (
    ConfigurationError,
    FrameShapeError,
    check_consistency,
    pivot_channels,
    pivot_scenes,
    pivot_sources,
    to_frame,
)
from wxframe.endpoints import CHANNELS, CHANNELS_ZH, SOURCES
from wxframe.simulator._account import CHANNEL_CODES
from wxframe.simulator._six import user_read_day


def _aggregate(offline_frames: dict[str, pd.DataFrame], day: date) -> dict:
    return offline_account(offline_frames).aggregate(day)


CHANNEL_NAMES = [CHANNELS[c] for c in CHANNEL_CODES]


def test_pivot_channels_matches_the_accounts_channel_counts(offline_frames: dict) -> None:
    wide = pivot_channels(offline_frames["getuserread"], "int_page_read_count", include_all=True)
    assert wide.index.name == "ref_date"
    assert list(wide.index) == [pd.Timestamp(d) for d in OFFLINE_DAYS]
    labels = [CHANNELS[c] for c in CHANNEL_CODES]
    assert list(wide.columns) == ["all", *labels]  # canonical order, weibo absent
    for day in OFFLINE_DAYS[::7]:
        agg = _aggregate(offline_frames, day)
        row = wide.loc[pd.Timestamp(day)]
        assert row["all"] == agg["int_count"]
        assert [row[label] for label in labels] == agg["ch_count"].tolist()
    assert all(str(t) == "Int64" for t in wide.dtypes)


def test_pivot_channels_share_leaves_the_all_row_out(offline_frames: dict) -> None:
    counts = pivot_channels(offline_frames["getuserread"])  # the all row is not a channel
    assert "all" not in counts.columns
    share = pivot_channels(offline_frames["getuserread"], normalize=True, include_all=True)
    assert "all" not in share.columns
    assert np.allclose(share.sum(axis=1).to_numpy(dtype=float), 1.0)
    day = pd.Timestamp(OFFLINE_DAYS[10])
    expected = counts.loc[day] / counts.loc[day].sum()
    assert np.allclose(share.loc[day].to_numpy(dtype=float), expected.to_numpy(dtype=float))


def test_pivot_channels_hourly_sums_to_daily_and_chinese_labels(offline_frames: dict) -> None:
    hourly = pivot_channels(offline_frames["getuserreadhour"], "share_count", labels="zh",
                            include_all=True)  # fmt: skip
    assert hourly.index.names == ["ref_date", "ref_hour"]
    assert list(hourly.columns) == [CHANNELS_ZH[CHANNELS[c]] for c in (99999999, *CHANNEL_CODES)]
    daily = pivot_channels(
        offline_frames["getuserread"], "share_count", labels="zh", include_all=True
    )
    pd.testing.assert_frame_equal(hourly.groupby(level="ref_date").sum(), daily, check_names=False)


def test_pivot_channels_absent_rows_are_zero_and_missing_values_na(offline_frames: dict) -> None:
    read = offline_frames["getuserread"]
    day = pd.Timestamp(OFFLINE_DAYS[3])
    dropped = read[~((read["ref_date"] == day) & (read["channel"] == "souyisou"))]
    wide = pivot_channels(dropped)
    assert wide.loc[day, "souyisou"] == 0  # no row = no reads that day
    ori = pivot_channels(read, "ori_page_read_user", include_all=True)
    assert ori["session"].isna().all()  # the platform gives ori_* on the all row only
    assert ori["all"].notna().all()


def test_pivot_channels_unknown_codes_go_last_and_accounts_stay_apart(offline_frames: dict) -> None:
    records = [
        {"ref_date": "2024-05-01", "user_source": 42, "int_page_read_user": 1,
         "int_page_read_count": 2, "share_user": 0, "share_count": 0},
        {"ref_date": "2024-05-01", "user_source": 0, "int_page_read_user": 5,
         "int_page_read_count": 7, "share_user": 0, "share_count": 0},
    ]  # fmt: skip
    wide = pivot_channels(to_frame("getuserread", records))
    assert list(wide.columns) == ["session", "code_42"]
    two = pd.concat(
        [
            offline_frames["getuserread"].assign(account="a"),
            offline_frames["getuserread"].assign(account="b"),
        ]
    )
    both = pivot_channels(two)
    assert both.index.names == ["account", "ref_date"]
    assert len(both) == 2 * len(OFFLINE_DAYS)
    with pytest.raises(FrameShapeError, match="duplicated"):
        pivot_channels(pd.concat([offline_frames["getuserread"]] * 2))


def test_pivot_scenes_matches_the_accounts_scene_counts(offline_frames: dict) -> None:
    wide = pivot_scenes(offline_frames["getusershare"])
    assert list(wide.columns) == ["friends", "moments", "other"]
    for day in OFFLINE_DAYS[::9]:
        agg = _aggregate(offline_frames, day)
        assert wide.loc[pd.Timestamp(day)].tolist() == agg["scene_count"].tolist()
    hourly = pivot_scenes(offline_frames["getusersharehour"], normalize=True, labels="zh")
    assert list(hourly.columns) == ["好友转发", "朋友圈", "其他"]
    assert np.allclose(hourly.sum(axis=1).to_numpy(dtype=float), 1.0)


def test_pivots_refuse_frames_of_the_wrong_shape(offline_frames: dict) -> None:
    with pytest.raises(FrameShapeError, match=r"getuserread.*looks like a getusershare frame"):
        pivot_channels(offline_frames["getusershare"])
    with pytest.raises(FrameShapeError, match=r"getusershare.*looks like a getuserread frame"):
        pivot_scenes(offline_frames["getuserread"])
    with pytest.raises(
        ConfigurationError,
        match=r"values='int_page_read_count'.*allowed: .*"
        r"int_page_read_user, .*share_count",
    ):
        pivot_channels(offline_frames["getuserread"].drop(columns="int_page_read_count"))
    with pytest.raises(ConfigurationError, match=r"values='reads'.*allowed: int_page_read_user"):
        pivot_channels(offline_frames["getuserread"], "reads")
    with pytest.raises(FrameShapeError, match="got list"):
        pivot_channels([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="labels='fr'"):
        pivot_channels(offline_frames["getuserread"], labels="fr")  # type: ignore[arg-type]


def test_pivot_channels_on_getbizsummary_is_the_accounts_readers(current_frames: dict) -> None:
    wide = pivot_channels(current_frames["biz"])
    assert list(wide.columns) == CHANNEL_NAMES  # getuserread's order, all left out
    assert all(str(t) == "Int64" for t in wide.dtypes)
    acct = current_account(current_frames)
    for day in [CURRENT_BEGIN + timedelta(days=n) for n in range(0, 60, 9)]:
        truth = {
            int(r["user_source"]): int(r["int_page_read_user"])  # type: ignore[call-overload]
            for r in user_read_day(acct, day)[1:]
        }
        row = wide.loc[pd.Timestamp(day)]
        assert [row[CHANNELS[c]] for c in CHANNEL_CODES] == [truth.get(c, 0) for c in CHANNEL_CODES]
    with_all = pivot_channels(current_frames["biz"], include_all=True)
    assert list(with_all.columns[:1]) == ["all"]
    everyone = current_frames["biz"][current_frames["biz"]["channel"] == "all"].set_index(
        "ref_date"
    )
    assert with_all["all"].tolist() == everyone["read_user"].tolist()


def test_a_channel_mix_across_2025_11_01_is_one_call(current_frames: dict) -> None:
    old, new = current_frames["user_read"], current_frames["biz"]
    october = old[old["ref_date"] < "2025-11-01"]
    both = pivot_channels(pd.concat([october, new[new["ref_date"] <= "2025-11-30"]]))
    assert both.index.tolist() == list(pd.date_range("2025-10-01", "2025-11-30"))
    assert list(both.columns) == CHANNEL_NAMES
    # October is getuserread's readers, November getbizsummary's: one column, one meaning
    before = pivot_channels(october, "int_page_read_user")
    pd.testing.assert_frame_equal(both.loc[:"2025-10-31"], before, check_names=False)
    after = pivot_channels(new[new["ref_date"] <= "2025-11-30"])
    pd.testing.assert_frame_equal(both.loc["2025-11-01":], after, check_names=False)
    # and where both families exist, they agree (getbizsummary's scenes are those channels)
    november = old[old["ref_date"] >= "2025-11-01"]
    pd.testing.assert_frame_equal(
        pivot_channels(november, "int_page_read_user"), after, check_names=False
    )
    fractions = pivot_channels(pd.concat([october, new]), normalize=True)
    assert np.allclose(fractions.sum(axis=1).to_numpy(dtype=float), 1.0)


def test_pivot_channels_on_getarticleread_is_per_article_day(current_frames: dict) -> None:
    wide = pivot_channels(current_frames["read"])
    assert wide.index.names == ["ref_date", "msgid"]
    acct = current_account(current_frames)
    day = date(2025, 11, 12)
    for article, k, numbers in acct.articles_read_on(day):
        if not numbers.int_user[k]:
            continue
        row = wide.loc[(pd.Timestamp(day), article.msgid)]
        assert [row.get(name, 0) for name in CHANNEL_NAMES] == numbers.ch_user[k].tolist()


def test_pivot_sources_per_follower_channel(current_frames: dict) -> None:
    followers = current_frames["followers"]
    wide = pivot_sources(followers)
    order = [name for name in SOURCES.values() if name in wide.columns]
    assert list(wide.columns) == order
    per_day = followers.groupby("ref_date")["new_user"].sum()
    assert (wide.sum(axis=1) == per_day).all()
    cancels = pivot_sources(followers, "cancel_user", normalize=True)
    assert np.allclose(cancels.sum(axis=1).dropna().to_numpy(dtype=float), 1.0)
    with pytest.raises(ConfigurationError, match=r"values='read_user'.*new_user, cancel_user"):
        pivot_sources(followers, "read_user")


def test_newcomer_mistakes_get_wxframe_errors(current_frames: dict) -> None:
    biz, detail = current_frames["biz"], current_frames["detail"]
    # channel rows carry readers only: another counter would be a frame of NA
    with pytest.raises(ConfigurationError, match=r"values='share_user'.*allowed: read_user$"):
        pivot_channels(biz, "share_user")
    assert pivot_channels(biz, "share_user", include_all=True)["all"].notna().all()
    with pytest.raises(ConfigurationError, match="share= is now normalize="):
        wxframe.plot_channel_mix(biz, share=True)
    with pytest.raises(ConfigurationError, match="top= is now n="):
        wxframe.plot_article_decay(detail, top=3)
    with pytest.raises(ConfigurationError, match=r"msgids=\['1_1'\]"):
        wxframe.plot_dropoff(detail, msgids="1_1")
    with pytest.raises(wxframe.FrameShapeError, match="got list"):
        wxframe.plot_engagement([1, 2])
    with pytest.raises(ConfigurationError, match=r"store= takes a wxframe\.Store, got DataFrame"):
        check_consistency(biz)
    plt.close("all")


def test_pivot_channels_names_rows_without_a_channel() -> None:
    rows = [
        {"ref_date": "2024-01-01", "user_source": 99999999, "int_page_read_count": 5},
        {"ref_date": "2024-01-01", "int_page_read_count": 2},
    ]
    df = wxframe.to_frame("getuserread", rows)
    with pytest.raises(wxframe.FrameShapeError, match="1 row\\(s\\) have no channel"):
        wxframe.pivot_channels(df)
    assert isinstance(df, pd.DataFrame)
