"""to_daily and to_cumulative: each day's numbers from running totals and back."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wxframe
from tests.conftest import CURRENT_BEGIN, OFFLINE_DAYS, current_account, offline_account
from wxframe import (
    FrameShapeError,
    to_cumulative,
    to_daily,
)
from wxframe.analysis import CUMULATIVE_COLUMNS


@st.composite
def cumulative_frames(draw: st.DrawFn) -> pd.DataFrame:
    """Articles with 1..7 stat days (gaps allowed), any counters, NAs, any row order."""
    rows = []
    for i in range(draw(st.integers(1, 4))):
        days = sorted(draw(st.sets(st.integers(0, 9), min_size=1, max_size=7)))
        reads = draw(st.lists(st.integers(0, 10**9), min_size=len(days), max_size=len(days)))
        users = draw(st.lists(st.one_of(st.none(), st.integers(-5, 10**6)),
                              min_size=len(days), max_size=len(days)))  # fmt: skip
        for d, r, u in zip(days, reads, users, strict=True):
            rows.append(
                {
                    "msgid": f"{1000 + i}_1",
                    "ref_date": pd.Timestamp("2024-05-01"),
                    "stat_date": pd.Timestamp("2024-05-01") + pd.Timedelta(days=d),
                    "day": d,
                    "target_user": 500,
                    "int_page_read_count": r,
                    "int_page_read_user": u,
                }
            )
    df = pd.DataFrame(rows).astype(
        {"msgid": "string", "day": "Int64", "target_user": "Int64",
         "int_page_read_count": "Int64", "int_page_read_user": "Int64"}
    )  # fmt: skip
    return df.sample(frac=1, random_state=draw(st.integers(0, 2**16)))


#: Publish days whose 30 days are all over by CURRENT_END.
SETTLED = [CURRENT_BEGIN + timedelta(days=n) for n in range(6)]


@st.composite
def detail_frames(draw: st.DrawFn) -> pd.DataFrame:
    """getarticletotaldetail-shaped rows: articles x channels x 1..30 stat days (gaps
    allowed), running totals with NAs, rates that must pass through, any order."""
    rows = []
    for i in range(draw(st.integers(1, 3))):
        for channel in draw(st.sets(st.sampled_from(["all", "session", "moments"]), min_size=1)):
            days = sorted(draw(st.sets(st.integers(0, 29), min_size=1, max_size=30)))
            values = draw(
                st.lists(
                    st.one_of(st.none(), st.integers(0, 10**7)),
                    min_size=len(days),
                    max_size=len(days),
                )
            )
            for d, v in zip(days, values, strict=True):
                rows.append(
                    {
                        "ref_date": pd.Timestamp("2025-11-01"),
                        "msgid": f"{2000 + i}_1",
                        "stat_date": pd.Timestamp("2025-11-01") + pd.Timedelta(days=d),
                        "day": d,
                        "channel": channel,
                        "read_user": v,
                        "read_finish_rate": d / 100,
                    }
                )
    df = pd.DataFrame(rows).astype(
        {"msgid": "string", "day": "Int64", "read_user": "Int64", "read_finish_rate": "Float64"}
    )
    return df.sample(frac=1, random_state=draw(st.integers(0, 2**16)))


def test_to_daily_gives_each_days_numbers_from_the_simulator(offline_frames: dict) -> None:
    total = offline_frames["getarticletotal"]
    daily = to_daily(total)
    assert not daily["spans_gap"].any() and not daily["correction"].any()
    acct = offline_account(offline_frames)
    checked = 0
    for day in OFFLINE_DAYS[::6]:
        for article in acct.sends(day):
            truth = acct.article_days(article)
            rows = daily[daily["msgid"] == article.msgid].sort_values("day")
            k = rows["day"].to_numpy(dtype=int)
            reads = rows["int_page_read_count_daily"].tolist()
            assert reads == truth.ch_count[k].sum(axis=1).tolist()
            session = rows["int_page_from_session_read_count_daily"].tolist()
            assert session == truth.ch_count[k, 0].tolist()
            assert rows["share_count_daily"].tolist() == truth.share_count[k].tolist()
            assert (rows["target_user"] == article.target_user).all()  # a level, not differenced
            checked += 1
    assert checked > 10


def test_to_daily_flags_gaps_and_keeps_corrections(offline_frames: dict) -> None:
    total = offline_frames["getarticletotal"]
    msgid = total["msgid"].iloc[0]
    one = total[total["msgid"] == msgid].sort_values("stat_date", ignore_index=True)
    gappy = one.drop(index=[2])  # stat day 2 missing
    daily = to_daily(gappy)
    assert daily["spans_gap"].tolist() == [False, False, True, False, False, False]
    full = to_daily(one)
    spanning = daily.loc[daily["day"] == 3, "int_page_read_count_daily"].item()
    assert spanning == full.loc[full["day"].isin([2, 3]), "int_page_read_count_daily"].sum()
    late = to_daily(one.drop(index=[0]))
    assert late["spans_gap"].iloc[0]  # day 0 missing: the first increment spans it
    corrected = one.copy()
    corrected.loc[4, "int_page_read_count"] = corrected.loc[3, "int_page_read_count"] - 5
    fixed = to_daily(corrected)
    assert fixed.loc[fixed["day"] == 4, "int_page_read_count_daily"].item() == -5  # not clipped
    assert fixed["correction"].tolist() == [False, False, False, False, True, False, False]
    pd.testing.assert_frame_equal(to_cumulative(fixed), corrected)


def test_to_daily_refuses_frames_without_details(offline_frames: dict) -> None:
    with pytest.raises(FrameShapeError, match=r"getarticletotal.*looks like a getarticlesummary"):
        to_daily(offline_frames["getarticlesummary"])
    no_details = offline_frames["getarticletotal"][["msgid", "stat_date", "title", "target_user"]]
    with pytest.raises(FrameShapeError, match="needs running totals"):
        to_daily(no_details)
    with pytest.raises(FrameShapeError, match="duplicated article-day"):
        to_daily(pd.concat([offline_frames["getarticletotal"]] * 2))
    with pytest.raises(FrameShapeError, match="to_daily's own output"):
        to_daily(to_daily(offline_frames["getarticletotal"]))
    with pytest.raises(FrameShapeError, match="spans_gap"):
        to_cumulative(offline_frames["getarticletotal"])


@pytest.mark.slow
# 50 frames meet gaps, a first day after 0, NAs, falls and shuffled rows many times over
@settings(max_examples=50, deadline=None)
@given(cumulative_frames())
def test_to_cumulative_inverts_to_daily_exactly(total: pd.DataFrame) -> None:
    daily = to_daily(total)
    back = to_cumulative(daily)
    expected = total.sort_values(["msgid", "stat_date"], ignore_index=True)
    pd.testing.assert_frame_equal(back, expected)
    # and the flags say what happened: a gap wherever a stat day was skipped
    step = expected.groupby("msgid")["day"].diff()
    first = step.isna()
    assert (daily["spans_gap"] == ((~first & (step != 1)) | (first & (expected["day"] != 0)))).all()
    inc = daily["int_page_read_count_daily"]
    assert (daily["correction"] >= inc.lt(0).fillna(False)).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-1000, 10**6), min_size=1, max_size=7))
def test_to_daily_of_a_running_sum_gives_the_increments_back(increments: list[int]) -> None:
    n = len(increments)
    total = pd.DataFrame(
        {
            "msgid": pd.array(["1_1"] * n, dtype="string"),
            "stat_date": pd.date_range("2024-05-01", periods=n).astype("datetime64[ns]"),
            "int_page_read_count": pd.array(np.cumsum(increments), dtype="Int64"),
        }
    )
    daily = to_daily(total)
    assert daily["int_page_read_count_daily"].tolist() == increments
    assert daily["correction"].tolist() == [i < 0 for i in increments]


def test_cumulative_columns_cover_every_detail_counter() -> None:
    details = [
        f.name
        for f in wxframe.OFFLINE_ENDPOINTS["getarticletotal"].all_fields
        if f.dtype == "int" and f.name not in ("target_user", "user_source")
    ]
    detail_list = [
        f.name
        for f in wxframe.ENDPOINTS["getarticletotaldetail"].all_fields
        if f.role in ("people", "events", "money")
    ]
    assert sorted(set(details) | set(detail_list)) == sorted(CUMULATIVE_COLUMNS)


def test_to_daily_over_thirty_days_per_article_and_channel(current_frames: dict) -> None:
    detail = current_frames["detail"]
    daily = to_daily(detail)
    assert {"read_user_daily", "share_user_daily", "praise_money_daily"} <= set(daily.columns)
    assert "read_user" not in daily.columns
    assert not daily["spans_gap"].any() and not daily["correction"].any()
    # rates and averages are as of each day, never differenced
    pd.testing.assert_series_equal(
        daily.sort_values(["msgid", "stat_date", "channel"])["read_finish_rate"].reset_index(
            drop=True
        ),
        detail.sort_values(["msgid", "stat_date", "channel"])["read_finish_rate"].reset_index(
            drop=True
        ),
    )
    acct = current_account(current_frames)
    checked = 0
    for day in SETTLED:
        for article in acct.publishes(day):
            truth = acct.article_days(article)
            mine = daily[(daily["msgid"] == article.msgid) & (daily["channel"] == "all")]
            mine = mine.sort_values("day")
            assert mine["day"].tolist() == list(range(30))
            new = mine["read_user_daily"].to_numpy(dtype=int)
            readers = np.zeros(30, dtype=int)  # the article collects nothing after its life
            readers[: min(30, len(truth.int_user))] = truth.int_user[:30]
            assert new[0] == readers[0]  # day 0: every reader is new
            assert (new[1:] <= readers[1:]).all()  # later: returning readers are not
            session = daily[(daily["msgid"] == article.msgid) & (daily["channel"] == "session")]
            assert session["read_user_daily"].iloc[0] == truth.ch_user[0][0]
            checked += 1
    assert checked >= 6
    pd.testing.assert_frame_equal(
        to_cumulative(daily),
        detail.sort_values(["msgid", "channel", "stat_date"], ignore_index=True),
    )


@pytest.mark.slow
@settings(max_examples=40, deadline=None)  # as above; each frame holds up to 270 rows
@given(detail_frames())
def test_to_cumulative_inverts_to_daily_on_detail_frames(detail: pd.DataFrame) -> None:
    daily = to_daily(detail)
    assert (daily["read_finish_rate"] == daily["day"] / 100).all()  # carried, not differenced
    expected = detail.sort_values(["msgid", "channel", "stat_date"], ignore_index=True)
    pd.testing.assert_frame_equal(to_cumulative(daily), expected)
