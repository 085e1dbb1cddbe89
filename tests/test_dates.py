"""Date checks and window planning (hypothesis properties)."""

from __future__ import annotations

import math
import warnings
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wxframe import ENDPOINTS, IncompleteDataWarning, InvalidDateError, plan_windows
from wxframe.dates import BEIJING, as_date, check_range, last_complete_day

NOON = datetime(2024, 6, 1, 12, tzinfo=BEIJING)
days = st.dates(min_value=date(2014, 12, 1), max_value=date(2030, 12, 31))


@given(endpoint=st.sampled_from(list(ENDPOINTS)), a=days, n=st.integers(0, 800))
def test_windows_cover_each_day_once_within_span_and_minimal(
    endpoint: str, a: date, n: int
) -> None:
    a = max(a, ENDPOINTS[endpoint].earliest)  # the current family starts on 2025-11-01
    b = a + timedelta(days=n)
    windows = plan_windows(endpoint, a, b)
    span = ENDPOINTS[endpoint].max_span
    covered = [w.begin + timedelta(days=i) for w in windows for i in range(w.days)]
    assert covered == [a + timedelta(days=i) for i in range(n + 1)]
    assert all(1 <= w.days <= span and (w.end - w.begin).days < span for w in windows)
    assert len(windows) == math.ceil((n + 1) / span)


@pytest.mark.parametrize(
    "value",
    ["2024-05-01", date(2024, 5, 1), datetime(2024, 5, 1, 23, 59), pd.Timestamp("2024-05-01")],
)
def test_accepted_date_types(value: object) -> None:
    assert as_date(value) == date(2024, 5, 1)


@pytest.mark.parametrize(
    ("begin", "end", "match"),
    [
        ("2024-05-02", "2024-05-01", "begin=2024-05-02 is after end=2024-05-01"),
        ("2014-11-30", "2014-12-05", "begin=2014-11-30 is before"),
        ("2024-05-01", "2024-06-01", "end=2024-06-01 is not yet over"),
        ("2024-05-01", "2025-01-01", "allowed: 2014-12-01 to 2024-05-31"),
        ("2024-5-1", "2024-05-02", "begin='2024-5-1' is not a date"),
        ("yesterday", "2024-05-02", "begin='yesterday'"),
        (20240501, "2024-05-02", r"begin=20240501 \(int\)"),
        (None, "2024-05-02", "begin=None"),
        ("2024-05-01", pd.NaT, "end=NaT"),
        ("2024-02-30", "2024-05-02", "begin='2024-02-30'"),
    ],
)
def test_bad_ranges_name_the_value_and_the_allowed_range(
    begin: object, end: object, match: str
) -> None:
    with pytest.raises(InvalidDateError, match=match):
        check_range(begin, end, now=NOON)


def test_yesterday_before_eight_warns() -> None:
    early = datetime(2024, 6, 1, 7, 30, tzinfo=BEIJING)
    with pytest.warns(IncompleteDataWarning, match="may be partial"):
        check_range("2024-05-30", "2024-05-31", now=early)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_range("2024-05-30", "2024-05-31", now=NOON)


def test_now_in_another_timezone_is_converted_to_beijing() -> None:
    # 23:30 UTC on May 31 is 07:30 on June 1 in Beijing: yesterday is May 31, partial.
    utc = datetime(2024, 5, 31, 23, 30, tzinfo=BEIJING.utc)
    assert last_complete_day(utc) == date(2024, 5, 30)
    with pytest.raises(InvalidDateError):
        check_range("2024-06-01", "2024-06-01", now=utc)
