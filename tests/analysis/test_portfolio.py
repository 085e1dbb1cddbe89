"""account_index and compare_accounts on stores whose every number is written by hand.

Three accounts, imported from saved answers: ``wxa`` has everything, ``wxb`` no
followers data (no getusercumulate), ``wxc`` no article in the period (one before it).
The period is 2025-12-01..2025-12-10, the previous one 2025-11-21..2025-11-30.
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wxframe
from wxframe import ConfigurationError, EmptyPeriodError, Store
from wxframe.analysis import INDEX_TERMS, account_index, compare_accounts, index_over_time

BEGIN, END = date(2025, 12, 1), date(2025, 12, 10)
FIRST = date(2025, 11, 21)  # the previous period's first day


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _biz(day: date, readers: int, shares: int) -> dict:
    return {
        "ref_date": day.isoformat(),
        "detail": {
            "read_user": readers,
            "read_user_source": [{"user_count": readers, "scene_desc": "全部"}],
            "share_user": shares, "zaikan_user": 2, "like_user": 3, "comment_count": 1,
            "collection_user": 0, "redirect_ori_page_user": 0, "send_page_count": 1,
        },
    }  # fmt: skip


def _article(day: date, msgid: str, stats: list[tuple[date, int, float]]) -> dict:
    return {
        "ref_date": day.isoformat(), "msgid": msgid, "publish_type": 0, "title": msgid,
        "content_url": f"https://mp.weixin.qq.com/s/{msgid}",
        "detail_list": [
            {"stat_date": s.isoformat(), "read_user": r,
             "read_user_source": [{"user_count": r, "scene_desc": "全部"}],
             "share_user": 0, "zaikan_user": 0, "like_user": 0, "comment_count": 0,
             "collection_user": 0, "praise_money": 0, "read_subscribe_user": 0,
             "read_delivery_rate": 0.1, "read_finish_rate": f, "read_avg_activetime": 1.0}
            for s, r, f in stats
        ],
    }  # fmt: skip


def _import(store: Store, folder: Path, account: str, endpoint: str, records: list) -> None:
    path = folder / f"{account}-{endpoint}.json"
    path.write_text(json.dumps({"errcode": 0, "errmsg": "ok", "list": records}))
    store.import_json(endpoint, path, account=account)


def _followers(day: date) -> int:
    """wxa's and wxc's level: 1,000 to 2025-11-30, then one more each day."""
    return 1000 + max(0, (day - date(2025, 11, 30)).days)


@pytest.fixture(scope="module")
def hand_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("hand")
    store = Store(folder / "store")
    for account, readers in (("wxa", 100), ("wxb", 200), ("wxc", 50)):
        biz = [_biz(d, readers, 4) for d in _days(FIRST, BEGIN - timedelta(1))]
        biz += [_biz(d, readers, 5) for d in _days(BEGIN, END)]
        _import(store, folder, account, "getbizsummary", biz)
        if account != "wxb":  # wxb: no followers data
            levels = [{"ref_date": d.isoformat(), "user_source": 0,
                       "cumulate_user": _followers(d)} for d in _days(FIRST, END)]  # fmt: skip
            _import(store, folder, account, "getusercumulate", levels)
    _import(store, folder, "wxa", "getarticletotaldetail", [
        _article(date(2025, 12, 2), "1_1", [(date(2025, 12, 2), 50, 0.4),
                                            (date(2025, 12, 3), 80, 0.6)]),
        _article(date(2025, 12, 5), "2_1", [(date(2025, 12, 5), 20, 0.3)]),
    ])  # fmt: skip
    _import(store, folder, "wxb", "getarticletotaldetail",
            [_article(date(2025, 12, 4), "3_1", [(date(2025, 12, 4), 10, 0.9)])])  # fmt: skip
    _import(store, folder, "wxc", "getarticletotaldetail",  # before the period only
            [_article(date(2025, 11, 25), "4_1", [(date(2025, 11, 25), 10, 0.9)])])  # fmt: skip
    return store


def _by_hand(**terms: float) -> float:
    """The index of the terms given, as the docstring and README define it."""
    score = {k: 100 * math.log2(1 + max(x, 0) / INDEX_TERMS[k][0]) for k, x in terms.items()}
    weights = {k: INDEX_TERMS[k][1] for k in terms}
    return sum(score[k] * weights[k] for k in terms) / sum(weights.values())


def test_compare_accounts_gives_the_numbers_computed_by_hand(hand_store: Store) -> None:
    table = compare_accounts(hand_store, begin=BEGIN, end=END)
    a, b, c = (table.loc[x] for x in ("wxa", "wxb", "wxc"))
    assert (a["readers"], a["shares"], a["zaikan"], a["articles"]) == (1000, 50, 20, 2)
    assert a["followers"] == 1010 and a["net_followers"] == 10
    assert a["readers_change"] == 0.0 and a["shares_change"] == pytest.approx(0.25)
    assert a["followers_change"] == 10  # the level at this end against the one before
    mean_level = 1005.5  # 1001..1010
    assert a["reach"] == pytest.approx(1000 / mean_level / 10)
    assert a["completion"] == pytest.approx((0.6 * 80 + 0.3 * 20) / 100)  # last stat days
    assert a["growth"] == pytest.approx(10 / mean_level * 1000 * 30 / 10)
    assert a["index"] == pytest.approx(
        _by_hand(
            reach=1000 / mean_level / 10,
            completion=0.54,
            share_rate=0.05,
            zaikan_rate=0.02,
            growth=10 / mean_level * 3000,
        )
    )
    # no followers data: reach and growth left out, the other weights count instead
    assert pd.isna(b["followers"]) and pd.isna(b["reach"]) and b["index_terms"] == 3
    assert b["index"] == pytest.approx(
        _by_hand(completion=0.9, share_rate=5 / 200, zaikan_rate=2 / 200)
    )
    # no article in the period: no completion, articles 0 (one before: -100%)
    assert c["articles"] == 0 and pd.isna(c["completion"]) and c["index_terms"] == 4
    assert c["articles_change"] == -1.0
    assert list(table.index) == list(table.sort_values("index", ascending=False).index)
    assert list(table["rank"]) == [1, 2, 3]


def test_one_account_only_and_labels(hand_store: Store) -> None:
    alone = compare_accounts(hand_store, "wxa", begin=BEGIN, end=END)
    every = compare_accounts(hand_store, begin=BEGIN, end=END)
    assert list(alone.index) == ["wxa"] and alone.loc["wxa", "rank"] == 1
    assert alone.loc["wxa", "index"] == pytest.approx(every.loc["wxa", "index"])
    zh = compare_accounts(hand_store, ["wxa"], begin=BEGIN, end=END, labels="zh")
    assert {"阅读人数", "指数", "排名", "阅读人数变化"} <= set(zh.columns)


def test_the_previous_period_not_held_gives_no_change(hand_store: Store) -> None:
    table = compare_accounts(hand_store, begin=date(2025, 11, 26), end=END)  # 15 days
    assert table["days_held_before"].eq(5).all()  # 2025-11-21..25 of 2025-11-11..25
    assert table["readers_change"].isna().all() and table["index_change"].isna().all()
    assert table.loc["wxa", "readers"] == 100 * 15


def test_index_over_time_by_week(hand_store: Store) -> None:
    weeks = index_over_time(hand_store, begin=FIRST, end=END)
    assert [str(d.date()) for d in weeks.columns] == ["2025-11-21", "2025-11-27", "2025-12-04"]
    assert list(weeks.index) == ["wxa", "wxb", "wxc"]
    assert weeks.notna().all().all()
    months = index_over_time(hand_store, begin=FIRST, end=END, freq="M")
    assert [str(d.date()) for d in months.columns] == ["2025-11-21", "2025-12-01"]
    december = compare_accounts(hand_store, begin=BEGIN, end=END)["index"]
    assert months.iloc[:, 1].to_dict() == pytest.approx(december.to_dict())


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"accounts": ["wxa", "wxzz"]}, ConfigurationError, ["'wxzz'", "wxa, wxb, wxc"]),
        ({"accounts": []}, ConfigurationError, ["accounts=[]", "wxa, wxb, wxc"]),
        ({"begin": END, "end": BEGIN}, ConfigurationError, ["begin=2025-12-10", "end=2025-12-01"]),
        ({"begin": "2026-03-01", "end": "2026-03-10"}, EmptyPeriodError,
         ["2026-03-01..2026-03-10", "2025-11-21..2025-12-10"]),
    ],
)  # fmt: skip
def test_bad_input_names_the_value_and_what_is_allowed(
    hand_store: Store, kwargs: dict, error: type, words: list[str]
) -> None:
    with pytest.raises(error) as caught:
        compare_accounts(hand_store, **kwargs)
    assert all(w in str(caught.value) for w in words), str(caught.value)


def test_a_store_without_accounts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="holds no account"):
        compare_accounts(Store(tmp_path / "empty"))


_TOTALS = {
    "readers": st.floats(1, 1e7), "shares": st.floats(0, 1e5), "zaikan": st.floats(0, 1e5),
    "followers": st.floats(1, 1e7), "net_followers": st.floats(-1e4, 1e4),
}  # fmt: skip


@settings(max_examples=15, deadline=None)
@given(totals=st.fixed_dictionaries(_TOTALS), scale=st.floats(0.001, 1000),
       days=st.integers(1, 90), completion=st.floats(0, 1))  # fmt: skip
def test_the_index_does_not_see_an_accounts_size(
    totals: dict[str, float], scale: float, days: int, completion: float
) -> None:
    """The same rates at any size give the same index; more shares never lower it."""
    one = pd.DataFrame([{**totals, "completion": completion, "days": days}])
    bigger = one.assign(**{k: one[k] * scale for k in _TOTALS})
    more_shares = one.assign(shares=one["shares"] + one["readers"] * 0.01)
    index = account_index(one)["index"].iloc[0]
    assert account_index(bigger)["index"].iloc[0] == pytest.approx(index, rel=1e-9)
    assert account_index(more_shares)["index"].iloc[0] > index
    assert index >= 0 and account_index(one)["index_terms"].iloc[0] == 5


def test_account_index_is_exported_with_its_labels() -> None:
    totals = pd.DataFrame([{"readers": 50, "shares": 5, "zaikan": 1, "followers": 1000,
                            "net_followers": 0, "days": 1}])  # fmt: skip
    assert wxframe.account_index is account_index
    assert account_index(totals, labels="en")["index"].iloc[0] == pytest.approx(
        _by_hand(reach=0.05, share_rate=0.1, zaikan_rate=0.02, growth=0)
    )
    assert "指数" in account_index(totals, labels="zh").columns
    with pytest.raises(ConfigurationError, match="labels"):
        account_index(totals, labels="fr")
