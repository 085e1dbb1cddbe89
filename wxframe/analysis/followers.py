"""Followers: growth, churn and what brings them (getusersummary, getusercumulate)."""

from __future__ import annotations

import warnings

import pandas as pd

from wxframe.analysis.common import group_keys, require
from wxframe.errors import DataMismatchWarning

__all__ = ["follower_growth"]


def follower_growth(summary: pd.DataFrame, cumulate: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per day: follows, unfollows, net growth and, with ``cumulate``, followers and churn.

    Columns: ``ref_date``, ``new_user`` and ``cancel_user`` (summed over the follower
    channels of getusersummary), ``net_user`` (their difference); with a getusercumulate
    frame also ``cumulate_user`` (followers at the end of the day), ``churn_rate``
    (unfollows / followers at the end of the day before) and ``cumulate_gap``: how far
    the day's change of ``cumulate_user`` is from ``net_user`` (0 when they agree, NA
    where the day before is not in the frame). Where they do not agree a
    :class:`~wxframe.DataMismatchWarning` names the days. ``account`` leads when the
    frames hold several accounts.

    Examples
    --------
    >>> import wxframe
    >>> from wxframe.simulator import serve
    >>> with serve(seed=0, today="2026-01-10") as sim:
    ...     summary = wxframe.load_user_summary(sim.client(), "2025-12-01", "2025-12-07")
    ...     cumulate = wxframe.load_user_cumulate(sim.client(), "2025-11-30", "2025-12-07")
    >>> growth = follower_growth(summary, cumulate)
    >>> growth.columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['ref_date', 'new_user', 'cancel_user', 'net_user', 'cumulate_user', 'churn_rate',
     'cumulate_gap']
    >>> int(growth["cumulate_gap"].abs().sum())
    0
    """
    require(
        summary,
        ("ref_date", "new_user", "cancel_user"),
        "follower_growth",
        "a getusersummary frame",
    )
    keys = group_keys(summary)
    days = summary.groupby([*keys, "ref_date"])[["new_user", "cancel_user"]].sum()
    days = days.astype("Int64")
    days["net_user"] = days["new_user"] - days["cancel_user"]
    if cumulate is None:
        return days.reset_index()
    require(
        cumulate,
        ("ref_date", "cumulate_user"),
        "follower_growth",
        "cumulate= a getusercumulate frame",
    )
    keyed = [*keys, "ref_date"]
    level = cumulate[keyed].assign(cumulate_user=cumulate["cumulate_user"].astype("Int64"))
    # The day before's level, moved onto the day: NA where the frame lacks that day.
    before = level.assign(ref_date=level["ref_date"] + pd.Timedelta(days=1))
    before = before.rename(columns={"cumulate_user": "_before"})
    out = days.reset_index().merge(level, on=keyed, how="left").merge(before, on=keyed, how="left")
    previous = out.pop("_before").astype("Float64")
    out["churn_rate"] = out["cancel_user"].astype("Float64") / previous.where(previous > 0)
    out["cumulate_gap"] = (out["cumulate_user"] - previous - out["net_user"]).astype("Int64")
    off = out[out["cumulate_gap"].fillna(0).ne(0)]
    if len(off):
        where = ", ".join(
            f"{day:%Y-%m-%d} ({int(gap):+d})"
            for day, gap in zip(off["ref_date"][:5], off["cumulate_gap"][:5], strict=True)
        )
        warnings.warn(
            f"getusercumulate does not move by getusersummary's net growth on {len(off)} "
            f"day(s): {where}{', ...' if len(off) > 5 else ''}",
            DataMismatchWarning,
            stacklevel=2,
        )
    return out
