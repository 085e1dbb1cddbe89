"""by_slot and by_weekday on frames built by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wxframe
from wxframe.analysis.placement import MIN_ARTICLES
from wxframe.errors import ConfigurationError, FrameShapeError


def _total(articles: list[tuple[str, str, int]], *, days: int = 1) -> pd.DataFrame:
    """getarticletotal rows: (msgid, sending day, readers by the last day), ``days`` each."""
    rows = []
    for msgid, sent, readers in articles:
        for d in range(days):
            day = pd.Timestamp(sent) + pd.Timedelta(days=d)
            rows.append((msgid, pd.Timestamp(sent), day, d, readers, readers // 10))
    frame = pd.DataFrame(
        rows,
        columns=["msgid", "ref_date", "stat_date", "day", "int_page_read_user", "share_user"],
    )
    for c in ("day", "int_page_read_user", "share_user"):
        frame[c] = frame[c].astype("Int64")
    return frame


def test_by_slot_headline_against_later_slots_by_hand() -> None:
    sent = pd.to_datetime(["2025-11-03"] * 2 + ["2025-11-04"] * 2 + ["2025-11-05"] * 2)
    details = pd.DataFrame(
        {
            "msgid": ["1_1", "1_2", "2_1", "2_2", "3_1", "4_1"],
            "ref_date": sent,
            "stat_date": sent,
            "publish_type": pd.array([0, 0, 0, 0, 0, 1], dtype="Int64"),
            "channel": "all",
            "read_user": pd.array([1000, 400, 200, 100, 50, 7], dtype="Int64"),
            "read_finish_rate": pd.array([0.5, 0.7, 0.6, 0.9, 0.4, 0.1], dtype="Float64"),
            "share_user": pd.array([10, 4, 2, 1, 5, 0], dtype="Int64"),
            "like_user": pd.array([8, 2, 6, 4, 1, 0], dtype="Int64"),
        }
    )
    out = wxframe.by_slot(details, days=1)
    assert out.index.tolist() == ["1", "2"]
    # 4_1 is a quiet publish: not part of a push; 3_1 is a send with one article
    assert out["articles"].tolist() == [3, 2]
    assert out.loc["1", "alone"] == 1 and out.loc["2", "alone"] == 0
    assert out.loc["1", "readers"] == 200  # median of 1000, 200, 50
    assert out.loc["2", "readers"] == 250
    assert out.loc["2", "completion"] == pytest.approx(0.8)
    assert out.loc["2", "likes"] == 3
    # paired within each send: 400/1000 and 100/200
    assert out.loc["2", "readers_vs_headline"] == pytest.approx(0.45)
    assert out.loc["1", "readers_vs_headline"] == 1
    zh = wxframe.by_slot(details, days=1, pool=True, labels="zh")
    assert zh.index.tolist() == ["头条", "次条及以后"]


def test_by_slot_counts_articles_younger_than_days_apart() -> None:
    old = _total([("1_1", "2024-05-01", 10), ("1_2", "2024-05-01", 5)], days=3)
    young = _total([("2_1", "2024-05-02", 9), ("2_2", "2024-05-02", 3)], days=2)
    total = pd.concat([old, young])
    out = wxframe.by_slot(total, days=3)
    assert out["articles"].tolist() == [1, 1]
    assert out["too_young"].tolist() == [1, 1]


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=8), st.booleans())
def test_by_slot_counts_sum_to_the_articles(sizes: list[int], pool: bool) -> None:
    articles = [
        (f"{send}_{slot}", "2024-05-01", 100 * slot + send)
        for send, size in enumerate(sizes, start=1)
        for slot in range(1, size + 1)
    ]
    out = wxframe.by_slot(_total(articles), days=1, pool=pool)
    assert out["articles"].sum() == len(articles)
    assert out.loc["1", "articles"] == len(sizes)
    assert out.loc["1", "alone"] == sizes.count(1)
    ratios = out["readers_vs_headline"].dropna()
    assert (ratios > 0).all()


def test_by_weekday_has_seven_rows_and_says_when_too_few() -> None:
    # five Mondays, one Wednesday, nothing on the other days
    mondays = [(f"{i}_1", f"2024-05-{6 + 7 * i:02d}", 100 * (i + 1)) for i in range(4)]
    articles = [*mondays, ("9_1", "2024-04-29", 50), ("8_1", "2024-05-08", 70)]
    out = wxframe.by_weekday(_total(articles), days=1)
    assert out.index.tolist() == list(range(7))
    assert out["articles"].tolist() == [5, 0, 1, 0, 0, 0, 0]
    assert out.loc[0, "readers"] == 200  # median of 50, 100, 200, 300, 400
    assert out.loc[1, ["readers", "shares", "completion", "likes"]].isna().all()
    assert out["publish_days"].tolist() == [5, 0, 1, 0, 0, 0, 0]
    assert out["enough"].tolist() == [True] + [False] * 6
    assert MIN_ARTICLES == 5
    # five articles of one send on one Tuesday: one day's luck, no verdict
    one_send = [(f"7_{slot}", "2024-05-07", 10 * slot) for slot in range(1, 6)]
    tuesday = wxframe.by_weekday(_total(one_send), days=1).loc[1]
    assert tuesday["articles"] == 5 and not tuesday["enough"]
    zh = wxframe.by_weekday(_total(articles), days=1, labels="zh")
    assert zh.index[0] == "星期一" and zh.index[6] == "星期日"


def test_placement_helpers_name_what_they_need() -> None:
    biz = pd.DataFrame({"ref_date": pd.to_datetime(["2025-11-01"]), "read_user": [1]})
    for helper in (wxframe.by_slot, wxframe.by_weekday):
        with pytest.raises(FrameShapeError, match="getarticletotaldetail or getarticletotal"):
            helper(biz)
    with pytest.raises(ConfigurationError, match=r"days=8 .*1\.\.7"):
        wxframe.by_weekday(_total([("1_1", "2024-05-01", 1)]), days=8)
    with pytest.raises(ConfigurationError, match="labels='fr'"):
        wxframe.by_slot(_total([("1_1", "2024-05-01", 1)]), days=1, labels="fr")  # type: ignore[arg-type]


def test_a_bare_msgid_is_the_headline_of_a_send_of_one() -> None:
    """The platform gives some sends of one article a msgid without ``_index``: such an
    article is a headline standing alone, not an article without a slot."""
    day = pd.Timestamp("2025-12-01")
    total = pd.DataFrame(
        {
            "msgid": ["7_1", "7_2", "8"],
            "ref_date": [day] * 3,
            "stat_date": [day] * 3,
            "int_page_read_user": pd.array([100, 40, 60], dtype="Int64"),
        }
    )
    slots = wxframe.by_slot(total, days=1)
    assert slots.loc["1", "articles"] == 2 and slots.loc["1", "alone"] == 1
    assert slots.loc["2", "articles"] == 1
