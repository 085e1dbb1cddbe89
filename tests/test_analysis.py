"""The analysis helpers against answers derived from the simulator's ground truth."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wxframe
from wxframe import (
    ConfigurationError,
    FrameShapeError,
    Store,
    add_rates,
    article_lifecycle,
    check_consistency,
    pivot_channels,
    pivot_scenes,
    to_cumulative,
    to_daily,
    to_frame,
)
from wxframe.analysis import CUMULATIVE_COLUMNS
from wxframe.endpoints import CHANNELS, CHANNELS_ZH
from wxframe.simulator import Simulator, serve
from wxframe.simulator._account import CHANNEL_CODES, passes_threshold

BEGIN, END = date(2024, 4, 1), date(2024, 5, 31)
DAYS = [BEGIN + timedelta(days=i) for i in range((END - BEGIN).days + 1)]


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    """Two months of all six endpoints, loaded over HTTP from a simulator of its own."""
    with serve(seed=0, today=date(2024, 6, 1), hour=12) as sim:
        client = sim.client()
        out = {name: wxframe.load(client, name, BEGIN, END, progress=False) for name in
               wxframe.OFFLINE_ENDPOINTS}  # fmt: skip
        out["_sim"] = sim  # type: ignore[assignment]
    return out


def _account(frames: dict[str, pd.DataFrame]) -> wxframe.simulator.SimulatedAccount:
    sim: Simulator = frames["_sim"]  # type: ignore[assignment]
    return sim.account


def _aggregate(frames: dict[str, pd.DataFrame], day: date) -> dict:
    return _account(frames).aggregate(day)


# ----------------------------------------------------------------------- pivots
def test_pivot_channels_matches_the_accounts_channel_counts(frames: dict) -> None:
    wide = pivot_channels(frames["getuserread"], "int_page_read_count", include_all=True)
    assert wide.index.name == "ref_date"
    assert list(wide.index) == [pd.Timestamp(d) for d in DAYS]
    labels = [CHANNELS[c] for c in CHANNEL_CODES]
    assert list(wide.columns) == ["all", *labels]  # canonical order, weibo absent
    for day in DAYS[::7]:
        agg = _aggregate(frames, day)
        row = wide.loc[pd.Timestamp(day)]
        assert row["all"] == agg["int_count"]
        assert [row[label] for label in labels] == agg["ch_count"].tolist()
    assert all(str(t) == "Int64" for t in wide.dtypes)


def test_pivot_channels_share_leaves_the_all_row_out(frames: dict) -> None:
    counts = pivot_channels(frames["getuserread"])  # the all row is not a channel
    assert "all" not in counts.columns
    share = pivot_channels(frames["getuserread"], normalize=True, include_all=True)
    assert "all" not in share.columns
    assert np.allclose(share.sum(axis=1).to_numpy(dtype=float), 1.0)
    day = pd.Timestamp(DAYS[10])
    expected = counts.loc[day] / counts.loc[day].sum()
    assert np.allclose(share.loc[day].to_numpy(dtype=float), expected.to_numpy(dtype=float))


def test_pivot_channels_hourly_sums_to_daily_and_chinese_labels(frames: dict) -> None:
    hourly = pivot_channels(frames["getuserreadhour"], "share_count", labels="zh",
                            include_all=True)  # fmt: skip
    assert hourly.index.names == ["ref_date", "ref_hour"]
    assert list(hourly.columns) == [CHANNELS_ZH[CHANNELS[c]] for c in (99999999, *CHANNEL_CODES)]
    daily = pivot_channels(frames["getuserread"], "share_count", labels="zh", include_all=True)
    pd.testing.assert_frame_equal(hourly.groupby(level="ref_date").sum(), daily, check_names=False)


def test_pivot_channels_absent_rows_are_zero_and_missing_values_na(frames: dict) -> None:
    read = frames["getuserread"]
    day = pd.Timestamp(DAYS[3])
    dropped = read[~((read["ref_date"] == day) & (read["channel"] == "souyisou"))]
    wide = pivot_channels(dropped)
    assert wide.loc[day, "souyisou"] == 0  # no row = no reads that day
    ori = pivot_channels(read, "ori_page_read_user", include_all=True)
    assert ori["session"].isna().all()  # the platform gives ori_* on the all row only
    assert ori["all"].notna().all()


def test_pivot_channels_unknown_codes_go_last_and_accounts_stay_apart(frames: dict) -> None:
    records = [
        {"ref_date": "2024-05-01", "user_source": 42, "int_page_read_user": 1,
         "int_page_read_count": 2, "share_user": 0, "share_count": 0},
        {"ref_date": "2024-05-01", "user_source": 0, "int_page_read_user": 5,
         "int_page_read_count": 7, "share_user": 0, "share_count": 0},
    ]  # fmt: skip
    wide = pivot_channels(to_frame("getuserread", records))
    assert list(wide.columns) == ["session", "code_42"]
    two = pd.concat(
        [frames["getuserread"].assign(account="a"), frames["getuserread"].assign(account="b")]
    )
    both = pivot_channels(two)
    assert both.index.names == ["account", "ref_date"]
    assert len(both) == 2 * len(DAYS)
    with pytest.raises(FrameShapeError, match="duplicated"):
        pivot_channels(pd.concat([frames["getuserread"]] * 2))


def test_pivot_scenes_matches_the_accounts_scene_counts(frames: dict) -> None:
    wide = pivot_scenes(frames["getusershare"])
    assert list(wide.columns) == ["friends", "moments", "other"]
    for day in DAYS[::9]:
        agg = _aggregate(frames, day)
        assert wide.loc[pd.Timestamp(day)].tolist() == agg["scene_count"].tolist()
    hourly = pivot_scenes(frames["getusersharehour"], normalize=True, labels="zh")
    assert list(hourly.columns) == ["好友转发", "朋友圈", "其他"]
    assert np.allclose(hourly.sum(axis=1).to_numpy(dtype=float), 1.0)


def test_pivots_refuse_frames_of_the_wrong_shape(frames: dict) -> None:
    with pytest.raises(FrameShapeError, match=r"getuserread.*looks like a getusershare frame"):
        pivot_channels(frames["getusershare"])
    with pytest.raises(FrameShapeError, match=r"getusershare.*looks like a getuserread frame"):
        pivot_scenes(frames["getuserread"])
    with pytest.raises(
        ConfigurationError,
        match=r"values='int_page_read_count'.*allowed: .*"
        r"int_page_read_user, .*share_count",
    ):
        pivot_channels(frames["getuserread"].drop(columns="int_page_read_count"))
    with pytest.raises(ConfigurationError, match=r"values='reads'.*allowed: int_page_read_user"):
        pivot_channels(frames["getuserread"], "reads")
    with pytest.raises(FrameShapeError, match="got list"):
        pivot_channels([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="labels='fr'"):
        pivot_channels(frames["getuserread"], labels="fr")  # type: ignore[arg-type]


# ---------------------------------------------------------- cumulative <-> daily
def test_to_daily_gives_each_days_numbers_from_the_simulator(frames: dict) -> None:
    total = frames["getarticletotal"]
    daily = to_daily(total)
    assert not daily["spans_gap"].any() and not daily["correction"].any()
    acct = _account(frames)
    checked = 0
    for day in DAYS[::6]:
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


def test_to_daily_flags_gaps_and_keeps_corrections(frames: dict) -> None:
    total = frames["getarticletotal"]
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


def test_to_daily_refuses_frames_without_details(frames: dict) -> None:
    with pytest.raises(FrameShapeError, match=r"getarticletotal.*looks like a getarticlesummary"):
        to_daily(frames["getarticlesummary"])
    no_details = frames["getarticletotal"][["msgid", "stat_date", "title", "target_user"]]
    with pytest.raises(FrameShapeError, match="needs running totals"):
        to_daily(no_details)
    with pytest.raises(FrameShapeError, match="duplicated article-day"):
        to_daily(pd.concat([frames["getarticletotal"]] * 2))
    with pytest.raises(FrameShapeError, match="to_daily's own output"):
        to_daily(to_daily(frames["getarticletotal"]))
    with pytest.raises(FrameShapeError, match="spans_gap"):
        to_cumulative(frames["getarticletotal"])


_counts = st.lists(st.one_of(st.none(), st.integers(-(2**40), 2**40)), min_size=1, max_size=7)


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


@settings(max_examples=200, deadline=None)
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


# ------------------------------------------------------------------------ rates
def test_add_rates_by_hand_with_zero_and_missing_denominators() -> None:
    df = pd.DataFrame(
        {
            "int_page_read_user": pd.array([200, 0, None, 50], dtype="Int64"),
            "int_page_read_count": pd.array([300, 4, 10, 80], dtype="Int64"),
            "ori_page_read_user": pd.array([20, 0, 1, None], dtype="Int64"),
            "share_user": pd.array([10, 0, 1, 5], dtype="Int64"),
            "add_to_fav_user": pd.array([4, 0, 0, 1], dtype="Int64"),
            "target_user": pd.array([1000, 1000, 1000, 0], dtype="Int64"),
        }
    )
    out = add_rates(df)
    assert out["read_through_rate"].tolist()[0] == pytest.approx(0.1)
    assert out["share_rate"].tolist()[0] == pytest.approx(0.05)
    assert out["fav_rate"].tolist()[0] == pytest.approx(0.02)
    assert out["reads_per_user"].tolist()[0] == pytest.approx(1.5)
    assert out["open_rate"].tolist()[0] == pytest.approx(0.2)
    for col in ("read_through_rate", "share_rate", "fav_rate", "reads_per_user", "open_rate"):
        assert str(out[col].dtype) == "Float64"
        assert out[col].iloc[1:3].isna().all() or col == "open_rate"  # zero / NA readers
        assert not np.isinf(out[col].to_numpy(dtype=float, na_value=0.0)).any()
    assert out["read_through_rate"].isna().iloc[3]  # NA numerator: NA, not 0
    assert out["open_rate"].isna().iloc[3]  # zero target users
    assert out["open_rate"].iloc[1] == 0.0  # 0 readers of 1000 is a real 0
    assert list(out.columns[: len(df.columns)]) == list(df.columns)


def test_add_rates_on_real_frames(frames: dict) -> None:
    summary = add_rates(frames["getarticlesummary"])
    s = summary.iloc[0]
    assert s["share_rate"] == pytest.approx(s["share_user"] / s["int_page_read_user"])
    read = add_rates(frames["getuserread"])
    assert read.loc[read["channel"] == "session", "read_through_rate"].isna().all()
    assert read.loc[read["channel"] == "all", "read_through_rate"].notna().all()
    assert "open_rate" in add_rates(frames["getarticletotal"]).columns
    with pytest.raises(FrameShapeError, match="needs readers"):
        add_rates(frames["getusershare"])


# -------------------------------------------------------------------- lifecycle
def test_article_lifecycle_against_the_articles_true_days(frames: dict) -> None:
    life = article_lifecycle(frames["getarticletotal"])
    acct = _account(frames)
    assert life["msgid"].is_unique
    assert life["int_page_read_count"].is_monotonic_decreasing
    assert life["percentile"].iloc[0] == 100.0
    order = {"session": 0, "friends": 1, "moments": 2, "history": 3, "other": 4,
             "kanyikan": 5, "souyisou": 6}  # CHANNEL_CODES positions  # fmt: skip
    checked = 0
    for day in DAYS[:50:5]:
        for article in acct.sends(day):
            row = life[life["msgid"] == article.msgid].iloc[0]
            truth = acct.article_days(article).ch_count[:7]
            reads = truth.sum(axis=1)
            assert row["int_page_read_count"] == reads.sum()
            assert row["title"] == article.title
            assert row["sent"] == pd.Timestamp(article.sent)
            assert row["complete"] and row["days_observed"] == 7
            if reads.sum() == 0:
                assert pd.isna(row["day0_share"])
                continue
            assert row["day0_share"] == pytest.approx(reads[0] / reads.sum())
            arrived = np.cumsum(reads) / reads.sum()
            assert row["day_50"] == int(np.argmax(arrived >= 0.5))
            assert row["day_90"] == int(np.argmax(arrived >= 0.9))
            per_channel = truth.sum(axis=0)
            for name, i in order.items():
                assert row[f"mix_{name}"] == pytest.approx(per_channel[i] / per_channel.sum())
            checked += 1
    assert checked > 10
    done = life[life["complete"]]  # ranked among the articles whose life is over
    rank = (done["int_page_read_count"].rank(pct=True, method="max") * 100).tolist()
    assert done["percentile"].tolist() == pytest.approx(rank)


def test_article_lifecycle_marks_young_articles_incomplete(frames: dict) -> None:
    life = article_lifecycle(frames["getarticletotal"])
    young = life[life["sent"] > pd.Timestamp(END - timedelta(days=6))]
    assert len(young) and not young["complete"].any()
    assert (young["days_observed"] < 7).all()
    # what needs a finished life is NA for them: no false 100 % on day 0, no rank
    for column in ("day0_share", "day_50", "day_90", "percentile"):
        assert young[column].isna().all(), column
    with pytest.raises(FrameShapeError, match="looks like a getuserread frame"):
        article_lifecycle(frames["getuserread"])
    with pytest.raises(ConfigurationError, match="horizon=9"):
        article_lifecycle(frames["getarticletotal"], horizon=9)


# ------------------------------------------------------------------ consistency
def _report(frames: dict, **override: pd.DataFrame) -> pd.DataFrame:
    given = {
        "summary": frames["getarticlesummary"], "read": frames["getuserread"],
        "read_hour": frames["getuserreadhour"], "share": frames["getusershare"],
        "share_hour": frames["getusersharehour"], "total": frames["getarticletotal"],
    }  # fmt: skip
    return check_consistency(**(given | override))


def test_check_consistency_on_clean_data_explains_every_gap(frames: dict) -> None:
    report = _report(frames)
    assert set(report["check"]) == {
        "summary_vs_account", "hourly_vs_daily_reads", "hourly_vs_daily_shares",
        "scenes_vs_account_shares", "total_vs_summary",
    }  # fmt: skip
    assert set(report["status"].astype(str)) <= {"ok", "expected"}
    acct = _account(frames)
    gaps = report[report["check"] == "summary_vs_account"].set_index("ref_date")["gap"]
    for day in DAYS[::10]:
        # the true gap: every article read that day whose numbers miss the threshold
        under = sum(
            int(numbers.ch_count[k].sum())
            for _, k, numbers in acct.articles_read_on(day)
            if not passes_threshold(numbers.summary(k))
        )
        assert gaps.loc[pd.Timestamp(day)] == under
    expected = report[report["status"] == "expected"]
    assert expected["cause"].str.contains("threshold").all()


def test_check_consistency_finds_missing_windows_and_mismatches(frames: dict) -> None:
    day = pd.Timestamp(DAYS[20])
    summary = frames["getarticlesummary"]
    hourly = frames["getuserreadhour"].copy()
    hit = hourly.index[(hourly["ref_date"] == day) & (hourly["channel"] == "session")][0]
    hourly.loc[hit, "int_page_read_count"] += 7
    report = _report(frames, summary=summary[summary["ref_date"] != day], read_hour=hourly)
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
        read=frames["getuserread"], read_hour=hourly, partial_days=[day.date()]
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


def test_check_consistency_needs_two_frames(frames: dict) -> None:
    with pytest.raises(ConfigurationError, match="at least two"):
        check_consistency(read=frames["getuserread"])
    with pytest.raises(FrameShapeError, match="share="):
        check_consistency(read=frames["getuserread"], share=frames["getuserread"])


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
