"""Long to wide: readers per channel, shares per scene, followers per source.

Channels come in one order for both families (getuserread's: ``all``, session, friends,
moments, weibo, history, other, kanyikan, souyisou, unknown labels last), so a channel mix
that spans 2025-11-01 is one call on a getuserread and a getbizsummary frame
concatenated.

The columns are the frame's category names (``session``, ``qr_code``) unless
``labels=`` asks for display names: a pivot is data a user indexes by
(``wide["session"]``), so the codes stay its default. ``labels="en"`` / ``"zh"`` gives
the names the plots and the report show (:meth:`wxframe.endpoints.Codes.display`:
"messages" / 公众号消息); the column index keeps its name (``channel``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from wxframe.analysis.common import (
    Labels,
    check_column,
    check_labels,
    fractions,
    group_keys,
    require,
)
from wxframe.endpoints import CHANNEL_CODES, SCENE_CODES, SOURCE_CODES, Codes
from wxframe.errors import FrameShapeError

__all__ = ["pivot_channels", "pivot_scenes", "pivot_sources"]

#: Columns that identify a row or hold a code: never values to spread.
_NOT_VALUES = frozenset(
    {
        "user_source",
        "msg_data_id",
        "msg_index",
        "ref_hour",
        "day",
        "publish_type",
        "share_scene",
        "is_delay",
    }
)


def pivot_channels(
    df: pd.DataFrame,
    values: str | None = None,
    *,
    include_all: bool = False,
    normalize: bool = False,
    labels: Labels = None,
) -> pd.DataFrame:
    """Readers (or any counter) per channel: one column per channel, one row per day.

    Takes getuserread(hour) (the offline six), getbizsummary, getarticleread or
    getarticletotaldetail, or such frames concatenated. Rows are days (and hours, or
    articles and stat days, where the frame has them); columns follow the channel order
    above, only channels present appear. A channel without a row had no readers (the
    platform leaves such rows out) and shows 0; a value the platform does not give on
    channel rows is NA.

    Parameters
    ----------
    values:
        The counter to spread; by default ``read_user`` where the frame has it (the
        current family), else ``int_page_read_count``. ``read_user`` on a getuserread
        row is its ``int_page_read_user`` (both count people), so the two families
        share one column.
    include_all:
        Add the ``all`` column. It is the total, not a channel: a row sum with it counts
        every reader twice, so it is left out by default.
    normalize:
        Each channel's fraction of the channels' sum per row (``all`` is never part of
        it, nor of the result).
    labels:
        None (the default): the columns are the channels' codes (session, friends, ...),
        what a user indexes by. ``"en"`` (messages, chats, ...) or ``"zh"`` (公众号消息,
        聊天会话, ...): the display names the plots and the report show.

    If ``df`` holds several accounts (a store frame), ``account`` leads the index.

    Examples
    --------
    >>> import wxframe
    >>> from wxframe.simulator import serve
    >>> with serve(seed=0, today="2026-01-10") as sim:
    ...     biz = wxframe.load_biz_summary(sim.client(), "2025-11-01", "2025-11-03")
    >>> wide = pivot_channels(biz)
    >>> list(wide.columns[:3]), wide.index.name
    (['session', 'friends', 'moments'], 'ref_date')
    >>> list(pivot_channels(biz, labels="en").columns[:3])
    ['messages', 'chats', 'Moments']
    >>> list(pivot_channels(biz, labels="zh").columns[:3])
    ['公众号消息', '聊天会话', '朋友圈']
    >>> bool((pivot_channels(biz, normalize=True).sum(axis=1).round(9) == 1).all())
    True
    """
    expected = "a frame with channel rows (getbizsummary, getarticleread, getuserread, ...)"
    require(df, ("ref_date", "channel"), "pivot_channels", expected)
    if values is None:
        values = "read_user" if "read_user" in df.columns else "int_page_read_count"
    # Only counters the channel rows carry (the current family's give read_user alone).
    channel_rows = df[df["channel"].astype("string").ne("all").fillna(True)]
    allowed = [c for c in _value_columns(df) if channel_rows[c].notna().any() or c == "read_user"]
    everything = include_all or not len(channel_rows)
    check_column(df, "values", values, _value_columns(df) if everything else allowed)
    if values == "read_user" and "int_page_read_user" in df.columns:
        df = df.assign(read_user=df["read_user"].fillna(df["int_page_read_user"]))
    index = [c for c in ("ref_date", "ref_hour", "msgid", "stat_date") if c in df.columns]
    drop = ("all",) if normalize or not include_all else ()
    return _pivot(df, "channel", values, index, drop, normalize, labels, CHANNEL_CODES)


def pivot_scenes(
    df: pd.DataFrame,
    values: str = "share_count",
    *,
    normalize: bool = False,
    labels: Labels = None,
) -> pd.DataFrame:
    """getusershare(hour) as a wide frame: columns ``friends, moments, other``, unknown last.

    A scene without a row on a day had no shares and shows 0. ``normalize=True`` gives
    each scene's fraction of the day's (hour's) shares. ``labels``: None (the codes, the
    default), ``"en"`` (chats, Moments, other) or ``"zh"`` (好友转发, 朋友圈, 其他).

    Examples
    --------
    >>> from wxframe.simulator import SimulatedAccount, records
    >>> import wxframe
    >>> from datetime import date
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> raw = records(acct, "getusershare", date(2024, 5, 1), date(2024, 5, 3))
    >>> sh = wxframe.to_frame("getusershare", raw)
    >>> pivot_scenes(sh).columns.tolist()
    ['friends', 'moments', 'other']
    """
    require(df, ("ref_date", "scene"), "pivot_scenes", "a getusershare or getusersharehour frame")
    check_column(df, "values", values, _value_columns(df))
    index = [c for c in ("ref_date", "ref_hour") if c in df.columns]
    return _pivot(df, "scene", values, index, (), normalize, labels, SCENE_CODES)


def pivot_sources(
    summary: pd.DataFrame,
    values: str = "new_user",
    *,
    normalize: bool = False,
    labels: Labels = None,
) -> pd.DataFrame:
    """getusersummary per follower channel: one column per ``source``, one row per day.

    ``values`` is ``new_user`` (follows, the default) or ``cancel_user`` (unfollows);
    ``normalize=True`` gives each source's fraction of the day's total. Sources follow
    the registry's order (other, search, card_share, qr_code, ...), unknown codes last.
    ``labels``: None (the codes, the default), ``"en"`` ("QR code", ...) or ``"zh"``
    (扫描二维码, ...).

    Examples
    --------
    >>> import wxframe
    >>> from wxframe.simulator import serve
    >>> with serve(seed=0, today="2026-01-10") as sim:
    ...     summary = wxframe.load_user_summary(sim.client(), "2025-12-01", "2025-12-07")
    >>> wide = pivot_sources(summary)
    >>> int(wide.sum().sum()) == int(summary["new_user"].sum())
    True
    """
    require(summary, ("ref_date", "source"), "pivot_sources", "a getusersummary frame")
    check_column(summary, "values", values, ("new_user", "cancel_user"))
    return _pivot(summary, "source", values, ["ref_date"], (), normalize, labels, SOURCE_CODES)


def _value_columns(df: pd.DataFrame) -> list[str]:
    return [
        str(c)
        for c, dtype in df.dtypes.items()
        if c not in _NOT_VALUES
        and pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
    ]


def _pivot(
    df: pd.DataFrame,
    by: str,
    values: str,
    index: Sequence[str],
    drop: Sequence[str],
    normalize: bool,
    labels: object,
    codes: Codes,
) -> pd.DataFrame:
    """The pivots' common path: spread ``by``, drop columns, fractions, display names."""
    lang = check_labels(labels)
    known = list(df[by].cat.categories) if isinstance(df[by].dtype, pd.CategoricalDtype) else []
    order = list(dict.fromkeys([*codes.labels.values(), *map(str, known)]))
    wide = _spread(df, [*group_keys(df), *index], by, values, order)
    wide = wide.drop(columns=list(drop), errors="ignore")
    if normalize:
        wide = fractions(wide)
    if lang is not None:
        wide.columns = pd.Index(codes.display_names(wide.columns, lang), name=wide.columns.name)
    return wide


def _spread(
    df: pd.DataFrame, index: list[str], by: str, values: str, order: Sequence[str]
) -> pd.DataFrame:
    """Long to wide on ``by``: absent (row, label) pairs are 0, given NAs stay NA."""
    unlabelled = df[by].isna()
    if unlabelled.any():
        first = df.loc[unlabelled, index].iloc[0].to_dict()
        raise FrameShapeError(
            f"{int(unlabelled.sum())} row(s) have no {by} (the platform sent no code for "
            f"them), first {first}: drop them or set their code before pivoting"
        )
    # as text: a categorical level would bring every category, present or not
    series = df.assign(**{by: df[by].astype("string")}).set_index([*index, by])[values]
    if series.index.has_duplicates:
        dup = series.index[series.index.duplicated()][0]
        raise FrameShapeError(
            f"{len(series.index[series.index.duplicated()])} duplicated row(s) for "
            f"({', '.join(map(str, series.index.names))}) in the frame, first {dup}: "
            "combine accounts or drop duplicates before pivoting"
        )
    present = pd.Series(True, index=series.index).unstack(by, fill_value=False)
    wide = series.unstack(by)
    labels_present = [str(c) for c in wide.columns]
    columns = [c for c in order if c in labels_present]
    columns += sorted(set(labels_present) - set(columns))
    wide.columns = wide.columns.astype(str)
    present.columns = present.columns.astype(str)
    wide = wide[columns].mask(~present[columns], 0)
    if pd.api.types.is_integer_dtype(series.dtype):
        wide = wide.astype(pd.Int64Dtype())
    wide.columns = pd.Index(columns, name=by)
    return wide
