"""open_rate, conversion and recommendation_share on frames built by hand."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wxframe
from wxframe.errors import ConfigurationError, FrameShapeError


def _detail(
    msgid: str,
    sent: str,
    *,
    readers: Sequence[int],
    session: Sequence[int] | None = None,
    delivery: Sequence[float | None] | None = None,
    subscribed: Sequence[int] | None = None,
    publish_type: int = 0,
) -> pd.DataFrame:
    """getarticletotaldetail rows of one article: an ``all`` row a day (and ``session``)."""
    n = len(readers)
    days = pd.date_range(sent, periods=n, freq="D")
    rows = pd.DataFrame(
        {
            "msgid": msgid,
            "ref_date": pd.Timestamp(sent),
            "publish_type": pd.array([publish_type] * n, dtype="Int64"),
            "stat_date": days,
            "day": pd.array(range(n), dtype="Int64"),
            "channel": "all",
            "read_user": pd.array(readers, dtype="Int64"),
            "read_subscribe_user": pd.array(subscribed or [0] * n, dtype="Int64"),
            "read_delivery_rate": pd.array(delivery or [None] * n, dtype="Float64"),
        }
    )
    if session is not None:
        channel = rows.assign(
            channel="session",
            read_user=pd.array(session, dtype="Int64"),
            read_subscribe_user=pd.NA,
            read_delivery_rate=pd.NA,
        )
        rows = pd.concat([rows, channel], ignore_index=True)
    return rows


def _cumulate(levels: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ref_date": pd.to_datetime(list(levels)),
            "cumulate_user": pd.array(list(levels.values()), dtype="Int64"),
        }
    )


def test_open_rate_platform_estimate_quiet_and_young_by_hand() -> None:
    details = pd.concat(
        [
            # the platform's rate on day 3 (days=3): 0.031
            _detail("1_1", "2025-11-03", readers=[10, 20, 30], delivery=[0.01, 0.02, 0.031]),
            # no platform rate: 60 messages readers by day 3 over 1,200 followers on 11-02
            _detail("2_1", "2025-11-03", readers=[50, 80, 90], session=[30, 50, 60]),
            # a quiet publish: the simulator and platform say 0.0; it has no rate
            _detail("3_1", "2025-11-03", readers=[5, 6, 7], delivery=[0.0] * 3, publish_type=1),
            # two days observed of the three asked for
            _detail("4_1", "2025-11-04", readers=[9, 12], delivery=[0.01, 0.02]),
        ],
        ignore_index=True,
    )
    followers = _cumulate({"2025-11-02": 1200, "2025-11-03": 1250})
    out = wxframe.open_rate(details, followers=followers, days=3).set_index("msgid")
    assert out.loc["1_1", "open_rate"] == pytest.approx(0.031)
    assert out.loc["1_1", "source"] == "platform"
    assert out.loc["2_1", "open_rate"] == pytest.approx(60 / 1200)
    assert out.loc["2_1", "source"] == "estimate"
    assert out.loc["2_1", "followers"] == 1200
    assert pd.isna(out.loc["3_1", "open_rate"]) and out.loc["3_1", "reason"] == "quiet"
    assert pd.isna(out.loc["3_1", "platform_rate"])
    assert pd.isna(out.loc["4_1", "open_rate"]) and out.loc["4_1", "reason"] == "too_young"
    # followers at publishing for 4_1 is the day before (11-03), not the publish day
    assert out.loc["4_1", "followers"] == 1250
    assert out["reason"].isna().tolist() == [True, True, False, False]


def test_open_rate_without_followers_is_na_with_its_reason_never_a_guess() -> None:
    details = _detail("2_1", "2025-11-03", readers=[50, 80], session=[30, 50])
    out = wxframe.open_rate(details, days=2)
    assert out["open_rate"].isna().all() and out["estimate"].isna().all()
    assert out["reason"].tolist() == ["no_followers"]
    zh = wxframe.open_rate(details, days=2, labels="zh")
    assert zh["reason"].tolist() == ["无发表前关注人数"]
    assert zh["publish_type"].tolist() == ["群发"]


def test_open_rate_session_from_getarticleread_where_details_have_no_channel_rows() -> None:
    details = _detail("2_1", "2025-11-03", readers=[50, 80])
    reads = pd.DataFrame(
        {
            "msgid": ["2_1"] * 4,
            "ref_date": pd.to_datetime(["2025-11-03", "2025-11-04", "2025-11-05", "2025-11-04"]),
            "channel": ["session", "session", "session", "all"],
            "read_user": pd.array([30, 20, 99, 500], dtype="Int64"),
        }
    )
    out = wxframe.open_rate(details, followers=_cumulate({"2025-11-02": 100}), reads=reads, days=2)
    # 30 + 20 over the first two days; 11-05 is the third day, not counted
    assert out["session"].tolist() == [50]
    assert out["open_rate"].tolist() == [0.5]


def test_open_rate_names_what_it_needs() -> None:
    biz = pd.DataFrame({"ref_date": pd.to_datetime(["2025-11-01"]), "read_user": [1]})
    with pytest.raises(FrameShapeError, match="getarticletotaldetail or getarticletotal"):
        wxframe.open_rate(biz)
    details = _detail("1_1", "2025-11-03", readers=[1])
    with pytest.raises(ConfigurationError, match=r"days=31 .*1\.\.30"):
        wxframe.open_rate(details, days=31)
    with pytest.raises(FrameShapeError, match="getusercumulate"):
        wxframe.open_rate(details, followers=biz)


def test_conversion_per_1000_beside_the_accounts_growth() -> None:
    details = pd.concat(
        [
            _detail("1_1", "2025-11-03", readers=[1000, 2000, 2500], subscribed=[2, 4, 5]),
            _detail("2_1", "2025-11-04", readers=[0, 0], subscribed=[0, 0]),
        ],
        ignore_index=True,
    )
    summary = pd.DataFrame(
        {
            "ref_date": pd.to_datetime(["2025-11-03", "2025-11-03", "2025-11-04", "2025-11-05"]),
            "new_user": pd.array([10, 5, 20, 30], dtype="Int64"),
            "cancel_user": pd.array([1, 0, 4, 5], dtype="Int64"),
        }
    )
    out = wxframe.conversion(details, followers=summary).set_index("msgid")
    assert out.loc["1_1", "per_1000"] == 2.0
    assert out.loc["1_1", "new_followers"] == 65 and out.loc["1_1", "net_followers"] == 55
    assert pd.isna(out.loc["2_1", "per_1000"])  # no readers: no rate, not 0
    assert out.loc["2_1", "net_followers"] == 41
    # a day of the article's life missing from getusersummary: no growth figure
    partial = wxframe.conversion(details, followers=summary[summary["ref_date"].dt.day != 4])
    assert partial["net_followers"].isna().all()
    cumulate = _cumulate({"2025-11-02": 500, "2025-11-05": 555})
    by_level = wxframe.conversion(details, followers=cumulate).set_index("msgid")
    assert by_level.loc["1_1", "net_followers"] == 55
    assert pd.isna(by_level.loc["2_1", "net_followers"])  # 11-03 not held
    assert wxframe.conversion(details)["net_followers"].isna().all()


def test_conversion_needs_read_subscribe_user() -> None:
    total = pd.DataFrame(
        {"msgid": ["1_1"], "stat_date": pd.to_datetime(["2024-05-01"]), "int_page_read_user": [5]}
    )
    with pytest.raises(FrameShapeError, match="read_subscribe_user"):
        wxframe.conversion(total)


def test_recommendation_share_by_day_and_article() -> None:
    biz = pd.DataFrame(
        {
            "ref_date": pd.to_datetime(["2025-11-01"] * 3 + ["2025-11-02"] * 2 + ["2025-11-03"]),
            "channel": ["all", "kanyikan", "souyisou", "all", "session", "kanyikan"],
            "read_user": pd.array([400, 100, 40, 0, 0, 5], dtype="Int64"),
        }
    )
    out = wxframe.recommendation_share(biz)
    assert out.loc["2025-11-01"].tolist() == [400, 0.25, 0.1]
    assert out.loc["2025-11-02", ["kanyikan", "souyisou"]].isna().all()  # no readers
    assert out.loc["2025-11-03", ["kanyikan", "souyisou"]].isna().all()  # no all row
    assert list(wxframe.recommendation_share(biz, labels="en").columns) == [
        "readers",
        "Top Stories",
        "Search",
    ]
    read = pd.DataFrame(
        {
            "ref_date": pd.to_datetime(["2025-11-01", "2025-11-01", "2025-11-02", "2025-11-02"]),
            "msgid": ["1_1"] * 4,
            "channel": ["all", "kanyikan", "all", "souyisou"],
            "read_user": pd.array([10, 5, 30, 3], dtype="Int64"),
        }
    )
    per_article = wxframe.recommendation_share(read, by="article")
    assert per_article.loc["1_1"].tolist() == [40, 5 / 40, 3 / 40]
    details = pd.concat(
        [
            _detail("1_1", "2025-11-03", readers=[10, 40], session=[5, 30]),
        ]
    )
    assert wxframe.recommendation_share(details, by="article").loc["1_1", "kanyikan"] == 0
    with pytest.raises(FrameShapeError, match="by='article'"):
        wxframe.recommendation_share(details, by="day")
    with pytest.raises(ConfigurationError, match="by='week'"):
        wxframe.recommendation_share(biz, by="week")  # type: ignore[arg-type]


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500)),
        min_size=1,
        max_size=6,
    )
)
def test_recommendation_shares_are_fractions(days: list[tuple[int, int, int]]) -> None:
    rows = []
    for i, (extra, kanyikan, souyisou) in enumerate(days):
        day = pd.Timestamp("2025-11-01") + pd.Timedelta(days=i)
        everyone = max(kanyikan, souyisou) + extra  # a channel never exceeds everyone
        rows += [(day, "all", everyone), (day, "kanyikan", kanyikan), (day, "souyisou", souyisou)]
    frame = pd.DataFrame(rows, columns=["ref_date", "channel", "read_user"])
    frame["read_user"] = frame["read_user"].astype("Int64")
    out = wxframe.recommendation_share(frame)
    shares = out[["kanyikan", "souyisou"]].to_numpy(dtype=float, na_value=float("nan"))
    given_readers = out["readers"].to_numpy(dtype=float) > 0
    assert ((shares[given_readers] >= 0) & (shares[given_readers] <= 1)).all()
    assert pd.isna(shares[~given_readers]).all()
