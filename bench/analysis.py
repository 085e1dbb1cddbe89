"""Benchmark 6: the helpers on big frames, against the groupby/apply code people write.

Frames are the simulator's, tiled: 10,000 articles of getarticletotal (7 stat days each)
and 10 years of getuserreadhour; ``add_rates`` runs on the articles' lifecycle-sized
frame (getarticletotal rows). Each baseline computes the same numbers (checked).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import wxframe
from bench._harness import TIMING_COLUMNS, Table, measure, timing_row, verdict
from bench.parsing import article_records, hourly_records

_COUNTERS = list(wxframe.analysis.CUMULATIVE_COLUMNS)


def _to_daily_groupby(total: pd.DataFrame) -> pd.DataFrame:
    """The straightforward pandas: sort, ``groupby(msgid).diff()``, day 0 kept as is."""
    cols = [c for c in _COUNTERS if c in total.columns]
    df = total.sort_values(["msgid", "stat_date"], ignore_index=True)
    inc = df.groupby("msgid")[cols].diff()
    return df.assign(**{c: inc[c].fillna(df[c]) for c in cols})


def _pivot_baseline(hourly: pd.DataFrame) -> pd.DataFrame:
    return hourly.pivot_table(
        index=["ref_date", "ref_hour"], columns="channel", values="int_page_read_count",
        aggfunc="sum", observed=True,
    )  # fmt: skip


def _rates_apply(df: pd.DataFrame) -> pd.DataFrame:
    """Row by row, guarding the zero denominators by hand."""

    def rates(row: pd.Series) -> pd.Series:
        users = row["int_page_read_user"]
        ok = pd.notna(users) and users > 0
        return pd.Series(
            {
                "read_through_rate": row["ori_page_read_user"] / users if ok else np.nan,
                "share_rate": row["share_user"] / users if ok else np.nan,
                "fav_rate": row["add_to_fav_user"] / users if ok else np.nan,
                "reads_per_user": row["int_page_read_count"] / users if ok else np.nan,
            }
        )

    return df.join(df.apply(rates, axis=1))


def analysis(smoke: bool) -> Table:
    articles = 300 if smoke else 10_000
    hourly_days = 60 if smoke else 3_650
    repeat = 1 if smoke else 5
    total = wxframe.to_frame("getarticletotal", article_records(articles))
    rows_a_day = 190  # the simulator's getuserreadhour: ~190 channel-hours a day
    hourly = wxframe.to_frame("getuserreadhour", hourly_records(hourly_days * rows_a_day))
    years = hourly["ref_date"].dt.year.nunique()
    table = Table(
        f"6. Analysis: {articles:,} articles ({len(total):,} rows) and "
        f"{len(hourly):,} hourly rows ({years} years)",
        TIMING_COLUMNS,
    )
    # same numbers first
    ours = wxframe.to_daily(total)
    theirs = _to_daily_groupby(total).sort_values(["msgid", "stat_date"], ignore_index=True)
    assert (
        ours["int_page_read_count_daily"].to_numpy() == theirs["int_page_read_count"].to_numpy()
    ).all()
    pivot = wxframe.pivot_channels(hourly, include_all=True)
    assert np.allclose(
        pivot.to_numpy(dtype=float, na_value=0),
        _pivot_baseline(hourly)[list(pivot.columns)].to_numpy(dtype=float, na_value=0),
    )
    sample = total.head(2_000)
    assert np.allclose(
        wxframe.add_rates(sample)["share_rate"].to_numpy(dtype=float, na_value=np.nan),
        _rates_apply(sample)["share_rate"].to_numpy(dtype=float),
        equal_nan=True,
    )
    pairs = [
        ("to_daily", lambda: wxframe.to_daily(total), lambda: _to_daily_groupby(total),
         "sort + groupby(msgid).diff()"),
        ("pivot_channels", lambda: wxframe.pivot_channels(hourly, include_all=True),
         lambda: _pivot_baseline(hourly), "pivot_table(aggfunc=sum)"),
        ("add_rates", lambda: wxframe.add_rates(total), lambda: _rates_apply(total),
         "apply(rates, axis=1)"),
    ]  # fmt: skip
    for name, fast, slow, how in pairs:
        # The per-group and per-row baselines take many seconds a run: one run says enough.
        slow_repeat = 1 if name == "add_rates" else repeat
        base = measure(f"{name} baseline: {how}", slow, repeat=slow_repeat)
        mine = measure(f"wxframe.{name}", fast, repeat=repeat)
        table.add(*timing_row(base, None))
        table.add(*timing_row(mine, base))
        table.notes.append(
            f"{name}: {base.median / mine.median:.1f}x the baseline's speed"
            + (" (its baseline is run once: it is slow)" if slow_repeat < repeat else "")
        )
    table.notes.append(verdict(True, "each helper gives the baseline's numbers (checked)"))
    return table
