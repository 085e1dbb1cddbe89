"""follower_growth: the account's followers, and where the total does not add up."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pandas as pd
import pytest

from tests.conftest import CURRENT_BEGIN, CURRENT_END, current_account
from wxframe import (
    DataMismatchWarning,
    follower_growth,
)


def test_follower_growth_is_the_accounts_followers(current_frames: dict) -> None:
    growth = follower_growth(current_frames["followers"], current_frames["cumulate"])
    acct = current_account(current_frames)
    assert growth["ref_date"].tolist() == list(pd.date_range(CURRENT_BEGIN, CURRENT_END))
    for _, row in growth.iloc[::7].iterrows():
        day = row["ref_date"].date()
        before = acct.follower_total(day - timedelta(days=1))
        assert row["net_user"] == acct.follower_total(day) - before
        assert row["cumulate_user"] == acct.follower_total(day)
        assert row["churn_rate"] == pytest.approx(row["cancel_user"] / before)
    assert (growth["cumulate_gap"] == 0).all()
    alone = follower_growth(current_frames["followers"])
    assert alone.columns.tolist() == ["ref_date", "new_user", "cancel_user", "net_user"]


def test_follower_growth_says_where_the_total_does_not_add_up(current_frames: dict) -> None:
    cumulate = current_frames["cumulate"].copy()
    cumulate.loc[cumulate["ref_date"] == "2025-12-10", "cumulate_user"] += 40
    with pytest.warns(DataMismatchWarning, match=r"2 day\(s\): 2025-12-10 \(\+40\), 2025-12-11"):
        growth = follower_growth(current_frames["followers"], cumulate)
    assert growth.loc[growth["cumulate_gap"] != 0, "ref_date"].dt.day.tolist() == [10, 11]
    # a day whose day before is not in the frame has no change to compare: NA, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = follower_growth(current_frames["followers"], current_frames["cumulate"].iloc[1:])
    assert pd.isna(first["cumulate_gap"].iloc[0]) and pd.isna(first["churn_rate"].iloc[0])
