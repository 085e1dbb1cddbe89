"""check_consistency: every gap explained, mismatches and missing windows found."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

import wxframe
from tests.conftest import OFFLINE_DAYS, offline_account
from wxframe import (
    ConfigurationError,
    FrameShapeError,
    Store,
    check_consistency,
)
from wxframe.simulator import serve
from wxframe.simulator._account import passes_threshold


def _report(offline_frames: dict, **override: pd.DataFrame) -> pd.DataFrame:
    frames = offline_frames
    given = {
        "summary": frames["getarticlesummary"], "read": frames["getuserread"],
        "read_hour": frames["getuserreadhour"], "share": frames["getusershare"],
        "share_hour": frames["getusersharehour"], "total": frames["getarticletotal"],
    }  # fmt: skip
    return check_consistency(**(given | override))


def test_check_consistency_on_clean_data_explains_every_gap(offline_frames: dict) -> None:
    report = _report(offline_frames)
    assert set(report["check"]) == {
        "summary_vs_account", "hourly_vs_daily_reads", "hourly_vs_daily_shares",
        "scenes_vs_account_shares", "total_vs_summary",
    }  # fmt: skip
    assert set(report["status"].astype(str)) <= {"ok", "expected"}
    acct = offline_account(offline_frames)
    gaps = report[report["check"] == "summary_vs_account"].set_index("ref_date")["gap"]
    for day in OFFLINE_DAYS[::10]:
        # the true gap: every article read that day whose numbers miss the threshold
        under = sum(
            int(numbers.ch_count[k].sum())
            for _, k, numbers in acct.articles_read_on(day)
            if not passes_threshold(numbers.summary(k))
        )
        assert gaps.loc[pd.Timestamp(day)] == under
    expected = report[report["status"] == "expected"]
    assert expected["cause"].str.contains("threshold").all()


def test_check_consistency_finds_missing_windows_and_mismatches(offline_frames: dict) -> None:
    day = pd.Timestamp(OFFLINE_DAYS[20])
    summary = offline_frames["getarticlesummary"]
    hourly = offline_frames["getuserreadhour"].copy()
    hit = hourly.index[(hourly["ref_date"] == day) & (hourly["channel"] == "session")][0]
    hourly.loc[hit, "int_page_read_count"] += 7
    report = _report(offline_frames, summary=summary[summary["ref_date"] != day], read_hour=hourly)
    bad = report[report["status"] != "ok"]
    bad = bad[bad["status"] != "expected"]
    missing = bad[bad["status"] == "missing"]
    assert set(missing["check"]) == {"summary_vs_account"}
    assert missing["ref_date"].tolist() == [day]
    assert missing["cause"].str.contains("missing window").all()
    mismatch = bad[bad["status"] == "mismatch"]
    assert mismatch[["check", "key", "field", "gap"]].values.tolist() == [
        ["hourly_vs_daily_reads", "session", "int_page_read_count", -7]
    ]
    partial = check_consistency(
        read=offline_frames["getuserread"], read_hour=hourly, partial_days=[day.date()]
    )
    assert partial.loc[partial["status"] != "ok", "status"].astype(str).tolist() == ["partial"]


def test_check_consistency_from_a_store_knows_partial_days(tmp_path) -> None:
    with serve(seed=3, today=date(2024, 6, 1), hour=6) as sim:
        store = Store(tmp_path)
        # At 06:00 yesterday (05-31) is partial; shares are refreshed at noon, reads are not.
        with pytest.warns(wxframe.IncompleteDataWarning, match="may be partial"):
            store.sync(sim.client(), "2024-05-25", "2024-05-31", endpoints=["getuserread"],
                       progress=False)  # fmt: skip
        sim.set_clock(date(2024, 6, 1), 12)
        store.sync(sim.client(), "2024-05-25", "2024-05-31", endpoints=["getusershare"],
                   progress=False)  # fmt: skip
    days = store.days()
    partial = days[~days["complete"]]
    assert partial[["endpoint", "ref_date"]].values.tolist() == [
        ["getuserread", pd.Timestamp("2024-05-31")]
    ]
    report = check_consistency(store)
    off = report[report["status"] != "ok"]
    assert off[["check", "ref_date"]].values.tolist() == [
        ["scenes_vs_account_shares", pd.Timestamp("2024-05-31")]
    ]
    assert off["status"].astype(str).tolist() == ["partial"]
    assert "08:00" in off["cause"].iloc[0]


def test_check_consistency_needs_two_frames(offline_frames: dict) -> None:
    with pytest.raises(ConfigurationError, match="at least two"):
        check_consistency(read=offline_frames["getuserread"])
    with pytest.raises(FrameShapeError, match="share="):
        check_consistency(read=offline_frames["getuserread"], share=offline_frames["getuserread"])


def test_check_consistency_on_the_current_family(current_frames: dict) -> None:
    given = {
        "biz": current_frames["biz"],
        "article_read": current_frames["read"],
        "detail": current_frames["detail"],
        "followers": current_frames["followers"],
        "cumulate": current_frames["cumulate"],
    }
    report = check_consistency(**given)
    assert set(report["check"]) == {
        "biz_vs_articles",
        "detail_vs_daily_reads",
        "cumulate_vs_summary",
    }
    assert set(report["status"].astype(str)) <= {"ok", "expected"}
    assert (report.loc[report["check"] == "cumulate_vs_summary", "status"] == "ok").all()
    # tampered: more account readers than all articles had, and an unfollow made up
    biz = current_frames["biz"].copy()
    hit = (biz["ref_date"] == "2025-11-20") & (biz["channel"] == "all")
    biz.loc[hit, "read_user"] += 10**6
    followers = current_frames["followers"].copy()
    followers.loc[followers.index[followers["ref_date"] == "2025-11-25"][0], "cancel_user"] += 3
    bad = check_consistency(**(given | {"biz": biz, "followers": followers}))
    wrong = bad[bad["status"] == "mismatch"]
    assert wrong[["check", "ref_date"]].values.tolist() == [
        ["biz_vs_articles", pd.Timestamp("2025-11-20")],
        ["cumulate_vs_summary", pd.Timestamp("2025-11-25")],
    ]
    assert wrong["gap"].tolist()[1] == 3  # the total moved 3 more than the net growth


def test_check_consistency_reads_the_current_family_from_a_store(tmp_path) -> None:
    with serve(seed=1, today="2025-12-20") as sim:
        store = wxframe.Store(tmp_path)
        store.sync(sim.client(), "2025-11-25", "2025-12-19", progress=False)
    report = check_consistency(store)
    assert {"biz_vs_articles", "detail_vs_daily_reads", "cumulate_vs_summary"} <= set(
        report["check"]
    )
    assert set(report["status"].astype(str)) <= {"ok", "expected"}
