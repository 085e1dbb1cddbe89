"""One row per article: how its life went, for getarticletotal (7 days after sending)
and getarticletotaldetail (30 days after publishing)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from wxframe.analysis.common import (
    article_keys,
    fractions,
    is_all_row,
    require,
    sorted_unique,
    stat_day,
)
from wxframe.endpoints import CHANNELS, ENDPOINTS
from wxframe.errors import ConfigurationError, FrameShapeError

__all__ = ["ARTICLE_CHANNELS", "article_lifecycle"]

#: getarticletotal's detail channels, in the order the lifecycle table reports them:
#: mix column name -> the detail fields' channel part.
ARTICLE_CHANNELS: Mapping[str, str] = {
    "session": "session",
    "moments": "feed",
    "friends": "friends",
    "history": "hist_msg",
    "other": "other",
    "kanyikan": "kanyikan",
    "souyisou": "souyisou",
}
#: The eight engagement counters of getarticletotal's details, in the API's order.
_SUMMARY_COUNTERS: tuple[str, ...] = tuple(
    f.name for f in ENDPOINTS["getarticlesummary"].all_fields if f.is_measure
)
_DETAIL = ENDPOINTS["getarticletotaldetail"]
#: getarticletotaldetail's counters (running totals) and what is as of the stat day.
_DETAIL_COUNTERS: tuple[str, ...] = _DETAIL.cumulative
_DETAIL_AS_OF: tuple[str, ...] = (
    "read_delivery_rate",
    "read_finish_rate",
    "read_avg_activetime",
    *(f"jump_rate_{n}" for n in range(1, 6)),
)


def article_lifecycle(total: pd.DataFrame, *, horizon: int | None = None) -> pd.DataFrame:
    """One row per article: its first ``horizon`` days after sending (publishing).

    Takes getarticletotal (``horizon`` 1..7, default 7) or getarticletotaldetail (1..30,
    default 30). Columns common to both:

    - ``msgid``, ``title``, ``sent`` (the sending / publishing day), ``days_observed``,
      ``complete``: every stat day up to ``horizon`` is in the frame (and none was
      marked ``is_delay``): the article's life is over, its numbers final;
    - ``day0_share`` (day 0's share of its readers), ``day_50`` / ``day_90`` (the first
      day by which 50% / 90% of them had come) and ``percentile`` (where its readers
      rank among the frame's complete articles, 0-100): these need a finished life and
      are NA for an article still growing;
    - the channel mix ``mix_<channel>`` as fractions of the channel-attributed readers.

    getarticletotal adds ``target_user`` and its eight counters totalled over the days
    observed (``int_page_read_count``, ...). getarticletotaldetail adds ``publish_type``,
    its counters so far (``read_user``, ``share_user``, ``like_user``, ...),
    ``readers_7d`` / ``readers_30d`` (readers by day 6 / 29, NA before), and as of the
    last day observed ``read_finish_rate``, ``read_avg_activetime`` and the drop-off
    profile ``jump_rate_1`` .. ``jump_rate_5``. Sorted by readers, most first;
    ``account`` leads when the frame has it.

    Examples
    --------
    >>> import pandas as pd
    >>> total = pd.DataFrame({
    ...     "msgid": ["1_1"] * 3 + ["2_1"] * 3,
    ...     "title": ["a"] * 3 + ["b"] * 3,
    ...     "ref_date": pd.to_datetime(["2024-05-01"] * 6),
    ...     "stat_date": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-03"] * 2),
    ...     "day": pd.array([0, 1, 2] * 2, dtype="Int64"),
    ...     "int_page_read_count": pd.array([60, 90, 100, 10, 30, 40], dtype="Int64"),
    ... })
    >>> article_lifecycle(total, horizon=3)[["msgid", "int_page_read_count", "day0_share",
    ...                                      "day_50", "day_90", "percentile"]]
      msgid  int_page_read_count  day0_share  day_50  day_90  percentile
    0   1_1                  100         0.6       0       1       100.0
    1   2_1                   40        0.25       1       2        50.0
    """
    df = require(
        total,
        ("msgid", "stat_date"),
        "article_lifecycle",
        "a getarticletotal or getarticletotaldetail frame",
    )
    detail = "read_user" in df.columns and "channel" in df.columns
    if not detail and "int_page_read_count" not in df.columns:
        raise FrameShapeError(
            "article_lifecycle needs getarticletotal's int_page_read_count or "
            "getarticletotaldetail's read_user and channel columns"
        )
    longest = 30 if detail else 7
    horizon = longest if horizon is None else horizon
    if not isinstance(horizon, int) or isinstance(horizon, bool) or not 1 <= horizon <= longest:
        raise ConfigurationError(
            f"horizon={horizon!r} is not allowed; use 1..{longest} (days) for this frame"
        )
    if detail:
        return _detail_lifecycle(df, horizon)
    return _total_lifecycle(df, horizon)


def _days_within(df: pd.DataFrame, keys: list[str], horizon: int, helper: str) -> pd.DataFrame:
    df = sorted_unique(df, keys, helper)
    day = stat_day(df, keys)
    inside = (day < horizon).fillna(False).to_numpy(dtype=bool)
    df = df[inside].assign(_day=day[inside].astype("int64"))
    if df.empty:
        raise FrameShapeError(f"{helper}: the frame has no stat days to summarise")
    return df


def _life(df: pd.DataFrame, keys: list[str], reads: str, horizon: int) -> pd.DataFrame:
    """What both families share: sending day, completeness, arrival, rank."""
    groups = df.groupby(keys, sort=False)
    last = groups.tail(1).set_index(keys)
    first = groups.head(1).set_index(keys)
    out = pd.DataFrame(index=last.index)
    if "title" in df.columns:
        out["title"] = last["title"]
    out["sent"] = first["ref_date"] if "ref_date" in df.columns else first["stat_date"]
    out["days_observed"] = groups.size().astype("Int64")
    complete = out["days_observed"].eq(horizon) & last["_day"].eq(horizon - 1)
    if "is_delay" in df.columns:
        complete &= ~groups["is_delay"].agg(lambda s: bool(s.fillna(False).any()))
    out["complete"] = complete.astype(bool)
    total = last[reads].astype("Float64")
    positive = total.where((total > 0) & out["complete"])
    day0 = first[reads].where(first["_day"].eq(0)).astype("Float64")
    out["day0_share"] = day0 / positive
    cum = df[reads].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    totals = (
        df[keys]
        .merge(total.rename("_total").reset_index(), on=keys, how="left")["_total"]
        .to_numpy(dtype=float, na_value=np.nan)
    )
    for q, name in ((0.5, "day_50"), (0.9, "day_90")):
        reached = pd.Series(np.where(cum >= q * totals, df["_day"], np.nan), index=df.index)
        first_day = reached.groupby([df[k] for k in keys], sort=False).min().reindex(out.index)
        out[name] = first_day.astype("Int64").mask(positive.isna())
    rank_by = [k for k in keys if k != "msgid"]
    ranked = positive.groupby(level=rank_by) if rank_by else positive
    out["percentile"] = (ranked.rank(pct=True, method="max") * 100).astype("Float64")
    return out


def _total_lifecycle(df: pd.DataFrame, horizon: int) -> pd.DataFrame:
    keys = article_keys(df)
    df = _days_within(df, keys, horizon, "article_lifecycle")
    out = _life(df, keys, "int_page_read_count", horizon)
    last = df.groupby(keys, sort=False).tail(1).set_index(keys)
    if "target_user" in df.columns:
        out.insert(list(out.columns).index("complete") + 1, "target_user", last["target_user"])
    for c in _SUMMARY_COUNTERS:
        if c in df.columns:
            out[c] = last[c]
    mix_cols = {
        f"mix_{name}": f"int_page_from_{part}_read_count"
        for name, part in ARTICLE_CHANNELS.items()
        if f"int_page_from_{part}_read_count" in df.columns
    }
    if mix_cols:
        channels = last[list(mix_cols.values())].astype("Float64")
        channels.columns = list(mix_cols)
        out[list(mix_cols)] = fractions(channels)
    return _ordered(out, "int_page_read_count")


def _detail_lifecycle(df: pd.DataFrame, horizon: int) -> pd.DataFrame:
    keys = [k for k in article_keys(df) if k != "channel"]
    everyone = _days_within(df[is_all_row(df)], keys, horizon, "article_lifecycle")
    out = _life(everyone, keys, "read_user", horizon)
    last = everyone.groupby(keys, sort=False).tail(1).set_index(keys)
    if "publish_type" in df.columns:
        out.insert(list(out.columns).index("sent") + 1, "publish_type", last["publish_type"])
    for c in _DETAIL_COUNTERS:
        if c in df.columns:
            out[c] = last[c]
    by_day = everyone.set_index([*keys, "_day"])["read_user"]
    for n, name in ((7, "readers_7d"), (30, "readers_30d")):
        if horizon >= n:
            reached = by_day[by_day.index.get_level_values("_day") == n - 1]
            out[name] = reached.droplevel("_day").reindex(out.index).astype("Int64")
    for c in _DETAIL_AS_OF:
        if c in df.columns and c != "read_delivery_rate":
            out[c] = last[c]
    # The channel mix on each article's last stat day, from its channel rows.
    ends = last.reset_index()[[*keys, "stat_date"]]
    channel_rows = df[~is_all_row(df)].merge(ends, on=[*keys, "stat_date"])
    if len(channel_rows):
        wide = channel_rows.pivot_table(
            index=keys, columns="channel", values="read_user", aggfunc="sum", observed=True
        )
        wide.columns = wide.columns.astype(str)
        order = [c for c in CHANNELS.values() if c in wide.columns]
        order += sorted(set(wide.columns) - set(order))
        mix = fractions(wide[order].reindex(out.index))
        out[[f"mix_{c}" for c in order]] = mix.to_numpy()
        for c in order:
            out[f"mix_{c}"] = out[f"mix_{c}"].astype("Float64")
    return _ordered(out, "read_user")


def _ordered(out: pd.DataFrame, reads: str) -> pd.DataFrame:
    return out.sort_values(reads, ascending=False, kind="stable").reset_index()
