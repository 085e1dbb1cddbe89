"""History kept from real answers (issue 27, item 10): channel rows' original-page and
favourite values before 2020-02-28, getusercumulate's ``user_source`` when it is not 0,
the first follower codes named, and an error answer named by its errcode."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wxframe
from wxframe import ApiError, EndpointOfflineError, RequestRejectedError, to_frame
from wxframe.endpoints import SOURCE_CODES

#: The platform's note: from this day ``ori_page_*`` / ``add_to_fav_*`` are on the all row only.
ALL_ONLY_SINCE = date(2020, 2, 28)
ALL_ONLY = ("ori_page_read_user", "ori_page_read_count", "add_to_fav_user", "add_to_fav_count")
COUNTS = ("int_page_read_user", "int_page_read_count", "share_user", "share_count")


def _row(day: date, code: int, values: list[int]) -> dict[str, object]:
    return {"ref_date": day.isoformat(), "user_source": code} | dict(
        zip(COUNTS + ALL_ONLY, values, strict=True)
    )


@settings(max_examples=60, deadline=None)
@given(
    days=st.lists(
        st.integers(-40, 40).map(lambda k: ALL_ONLY_SINCE + timedelta(days=k)),
        min_size=1,
        max_size=4,
        unique=True,
    ),
    codes=st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 12]), min_size=1, unique=True),
    values=st.lists(st.integers(0, 10**6), min_size=8, max_size=8),
)
def test_channel_rows_keep_the_platforms_values_before_2020_02_28(
    days: list[date], codes: list[int], values: list[int]
) -> None:
    records = [_row(d, c, values) for d in days for c in [99999999, *codes]]
    df = to_frame("getuserread", records).set_index(["ref_date", "user_source"])
    for d in days:
        for code in codes:
            row = df.loc[(pd.Timestamp(d), code)]
            for name, sent in zip(ALL_ONLY, values[4:], strict=True):
                if d < ALL_ONLY_SINCE:  # the platform's value, as sent
                    assert row[name] == sent, (d, code, name)
                else:  # from that day channel rows send 0 there: not given
                    assert row[name] is pd.NA, (d, code, name)
            assert [row[n] for n in COUNTS] == values[:4]
        everyone = df.loc[(pd.Timestamp(d), 99999999)]
        assert [everyone[n] for n in ALL_ONLY] == values[4:]


def test_the_rule_is_one_named_constant_of_the_registry() -> None:
    from wxframe import endpoints

    assert endpoints.ALL_ONLY_SINCE == ALL_ONLY_SINCE


def test_getusercumulate_keeps_a_user_source_other_than_0() -> None:
    quiet = to_frame("getusercumulate", {"list": [
        {"ref_date": "2016-03-01", "user_source": 0, "cumulate_user": 100},
    ]})  # fmt: skip
    assert "user_source" not in quiet.columns  # the undocumented 0 says nothing
    kept = to_frame("getusercumulate", {"list": [
        {"ref_date": "2016-03-01", "user_source": 0, "cumulate_user": 100},
        {"ref_date": "2016-03-02", "user_source": 35, "cumulate_user": 104},
    ]})  # fmt: skip
    assert kept["user_source"].dtype == "Int64"
    assert kept["user_source"].tolist() == [0, 35]
    assert list(kept.columns) == ["ref_date", "cumulate_user", "is_delay", "user_source"]


@pytest.mark.parametrize(
    ("code", "name", "en", "zh"),
    [
        (3, "qr_code_old", "QR code (old code)", "扫二维码（旧代码）"),
        (35, "number_search", "number search (old code)", "搜号码（旧代码）"),
        (39, "account_lookup", "account lookup (old code)", "查询微信公众帐号（旧代码）"),
    ],
)
def test_the_first_follower_codes_are_named(code: int, name: str, en: str, zh: str) -> None:
    summary = to_frame("getusersummary", [
        {"ref_date": "2015-01-05", "user_source": 0, "new_user": 1, "cancel_user": 0},
        {"ref_date": "2015-01-05", "user_source": code, "new_user": 7, "cancel_user": 1},
    ])  # fmt: skip
    assert summary["source"].tolist() == ["other", name]
    assert not any(str(c).startswith("code_") for c in summary["source"].cat.categories)
    for labels, shown in ((None, name), ("en", en), ("zh", zh)):
        wide = wxframe.pivot_sources(summary, labels=labels)
        assert list(wide.columns)[1] == shown and int(wide.iloc[0, 1]) == 7


def test_follower_source_0_is_not_called_other() -> None:
    # a table that groups its smallest rows as "the others" must not have a row "other"
    names = SOURCE_CODES.display_names(list(SOURCE_CODES.names), "en")
    assert SOURCE_CODES.display("other", "en") == "not itemised"
    assert not [n for n in names if n.lower().startswith("other")]
    assert len(set(names)) == len(names)
    zh = SOURCE_CODES.display_names(list(SOURCE_CODES.names), "zh")
    assert len(set(zh)) == len(zh)


@pytest.mark.parametrize(
    ("answer", "cls", "words"),
    [
        ({"errcode": 61500, "errmsg": "date format error"}, RequestRejectedError,
         "errcode 61500 (date format error)"),
        ({"errcode": 47009, "errmsg": "this api is offline"}, EndpointOfflineError,
         "use getbizsummary instead"),
        ({"errcode": 99999, "errmsg": "something new"}, ApiError, "errcode 99999 (something new)"),
    ],
)  # fmt: skip
def test_an_error_answer_raises_its_error(answer: dict, cls: type, words: str) -> None:
    with pytest.raises(cls) as raised:
        to_frame("getuserread", answer)
    assert raised.value.errcode == answer["errcode"]
    assert words in str(raised.value) and "getuserread" in str(raised.value)
