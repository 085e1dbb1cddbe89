"""add_rates: rates by hand, with zero and missing denominators, on both families."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wxframe import (
    FrameShapeError,
    add_rates,
)


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


def test_add_rates_on_real_frames(offline_frames: dict) -> None:
    summary = add_rates(offline_frames["getarticlesummary"])
    s = summary.iloc[0]
    assert s["share_rate"] == pytest.approx(s["share_user"] / s["int_page_read_user"])
    read = add_rates(offline_frames["getuserread"])
    assert read.loc[read["channel"] == "session", "read_through_rate"].isna().all()
    assert read.loc[read["channel"] == "all", "read_through_rate"].notna().all()
    assert "open_rate" in add_rates(offline_frames["getarticletotal"]).columns
    with pytest.raises(FrameShapeError, match="needs readers"):
        add_rates(offline_frames["getusershare"])


def test_add_rates_on_the_current_family(current_frames: dict) -> None:
    biz = add_rates(current_frames["biz"])
    everyone = biz[biz["channel"] == "all"]
    for rate, num in (
        ("like_rate", "like_user"),
        ("zaikan_rate", "zaikan_user"),
        ("comment_rate", "comment_count"),
        ("collection_rate", "collection_user"),
        ("share_rate", "share_user"),
        ("ori_rate", "redirect_ori_page_user"),
    ):
        expected = everyone[num].astype(float) / everyone["read_user"].astype(float)
        assert np.allclose(everyone[rate].to_numpy(dtype=float), expected.to_numpy()), rate
        assert str(biz[rate].dtype) == "Float64"
        assert biz.loc[biz["channel"] != "all", rate].isna().all()  # no counters on channels
    detail = add_rates(current_frames["detail"])
    assert "subscribe_rate" in detail.columns and "ori_rate" not in detail.columns
    values = detail["subscribe_rate"].to_numpy(dtype=float, na_value=np.nan)
    assert not np.isinf(values).any() and np.nanmax(values) <= 1
