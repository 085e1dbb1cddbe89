"""Answers to the weekly questions, one call each, on the loaders' and the store's frames.

Which channels bring readers (:func:`pivot_channels`), what gets shared where
(:func:`pivot_scenes`), how fast an article's reads arrive (:func:`to_daily`,
:func:`article_lifecycle`), who clicks through (:func:`add_rates`) and whether the numbers
agree with each other (:func:`check_consistency`). Every helper checks the shape of the
frame it is given and says what it expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from wxframe.dates import DateLike, as_date
from wxframe.endpoints import CHANNELS, CHANNELS_ZH, ENDPOINTS, SCENES_ZH
from wxframe.errors import ConfigurationError, FrameShapeError
from wxframe.frames import endpoint_of

if TYPE_CHECKING:
    from wxframe.store import Store

__all__ = [
    "CUMULATIVE_COLUMNS",
    "add_rates",
    "article_lifecycle",
    "check_consistency",
    "pivot_channels",
    "pivot_scenes",
    "to_cumulative",
    "to_daily",
]

Labels = Literal["en", "zh"]

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
#: The eight engagement counters every endpoint's read rows share, in the API's order.
_SUMMARY_COUNTERS: tuple[str, ...] = tuple(
    f.name for f in ENDPOINTS["getarticlesummary"].all_fields if f.is_measure
)
#: Every running total the registry declares (what :func:`to_daily` differences).
CUMULATIVE_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(name for spec in ENDPOINTS.values() for name in spec.cumulative)
)
_FLAGS = ("spans_gap", "correction")
_RATES = {
    # name: (numerator, denominator)
    "read_through_rate": ("ori_page_read_user", "int_page_read_user"),
    "share_rate": ("share_user", "int_page_read_user"),
    "fav_rate": ("add_to_fav_user", "int_page_read_user"),
    "reads_per_user": ("int_page_read_count", "int_page_read_user"),
    "open_rate": ("int_page_read_user", "target_user"),
}


# ----------------------------------------------------------------- shape checks
def _looks_like(df: pd.DataFrame) -> str:
    """Which endpoint's frame ``df`` looks like, for error messages."""
    spec = endpoint_of(df)
    if spec is not None:
        return f"a {spec.name} frame"
    return (
        "a frame with columns "
        + ", ".join(map(str, df.columns[:8]))
        + (", ..." if len(df.columns) > 8 else "")
    )


def _require(df: object, columns: Iterable[str], helper: str, expected: str) -> pd.DataFrame:
    """``df`` if it is a DataFrame with ``columns``; otherwise a FrameShapeError that says why."""
    if not isinstance(df, pd.DataFrame):
        raise FrameShapeError(f"{helper} needs {expected} (a DataFrame), got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise FrameShapeError(
            f"{helper} needs {expected}; this looks like {_looks_like(df)}, "
            f"which lacks column(s) {', '.join(missing)}"
        )
    return df


def _group_keys(df: pd.DataFrame) -> list[str]:
    """``account`` when a store frame holds several accounts: it must stay a key."""
    return ["account"] if "account" in df.columns and df["account"].nunique() > 1 else []


# ----------------------------------------------------------------------- pivots
def pivot_channels(
    df: pd.DataFrame,
    values: str = "int_page_read_count",
    *,
    include_all: bool = True,
    share: bool = False,
    labels: Labels = "en",
) -> pd.DataFrame:
    """getuserread(hour) as a wide frame: one column per channel, one row per day (hour).

    Columns follow the canonical channel order (``all`` first, then session, friends,
    moments, weibo, history, other, kanyikan, souyisou), unknown codes last as
    ``code_<n>``; only channels present in ``df`` appear. A channel without a row on a
    day had no activity that day (the platform leaves such rows out) and shows 0; a
    value the platform does not give (``ori_*``/``add_to_fav_*`` on channel rows) is NA.

    Parameters
    ----------
    values:
        The counter to spread (``int_page_read_user``, ``share_count``, ...).
    include_all:
        Keep the ``all`` (99999999) column.
    share:
        Each channel's fraction of the channels' sum per row. The ``all`` row is not a
        channel, is not part of that sum and is left out of the result.
    labels:
        ``"en"`` (session, friends, ...) or ``"zh"`` (公众号会话, 好友转发, ...).

    If ``df`` holds several accounts (a store frame), ``account`` leads the index.

    Examples
    --------
    >>> from wxframe.simulator import SimulatedAccount
    >>> import wxframe
    >>> from datetime import date
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> read = wxframe.to_frame("getuserread", acct.user_read(date(2024, 5, 1), date(2024, 5, 2)))
    >>> wide = pivot_channels(read)
    >>> list(wide.columns[:4]), wide.index.name
    (['all', 'session', 'friends', 'moments'], 'ref_date')
    >>> bool((pivot_channels(read, share=True).sum(axis=1).round(9) == 1).all())
    True
    """
    _require(df, ("ref_date", "channel", values), "pivot_channels",
             "a getuserread or getuserreadhour frame")  # fmt: skip
    # The all row is not a channel: never part of the channels' fractions.
    drop = ("all",) if share or not include_all else ()
    return _pivot(df, "channel", values, drop, share, labels, CHANNELS_ZH)


def pivot_scenes(
    df: pd.DataFrame,
    values: str = "share_count",
    *,
    share: bool = False,
    labels: Labels = "en",
) -> pd.DataFrame:
    """getusershare(hour) as a wide frame: columns ``friends, moments, other``, unknown last.

    A scene without a row on a day had no shares and shows 0. ``share=True`` gives each
    scene's fraction of the day's (hour's) shares.

    Examples
    --------
    >>> from wxframe.simulator import SimulatedAccount
    >>> import wxframe
    >>> from datetime import date
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> sh = wxframe.to_frame("getusershare", acct.user_share(date(2024, 5, 1), date(2024, 5, 3)))
    >>> pivot_scenes(sh).columns.tolist()
    ['friends', 'moments', 'other']
    """
    _require(df, ("ref_date", "scene", values), "pivot_scenes",
             "a getusershare or getusersharehour frame")  # fmt: skip
    return _pivot(df, "scene", values, (), share, labels, SCENES_ZH)


def _pivot(
    df: pd.DataFrame,
    by: str,
    values: str,
    drop: Sequence[str],
    share: bool,
    labels: str,
    chinese: Mapping[str, str],
) -> pd.DataFrame:
    """The pivots' common path: spread ``by``, drop columns, fractions, label language."""
    if labels not in ("en", "zh"):
        raise ConfigurationError(f"labels={labels!r} is not allowed; use 'en' or 'zh'")
    order = list(df[by].cat.categories) if hasattr(df[by], "cat") else []
    wide = _spread(df, by, values, order).drop(columns=list(drop), errors="ignore")
    if share:
        wide = _fractions(wide)
    return wide.rename(columns=dict(chinese)) if labels == "zh" else wide


def _spread(df: pd.DataFrame, by: str, values: str, order: Sequence[str]) -> pd.DataFrame:
    """Long to wide on ``by``: absent (row, label) pairs are 0, given NAs stay NA."""
    index = [*_group_keys(df), "ref_date", *(["ref_hour"] if "ref_hour" in df.columns else [])]
    unlabelled = df[by].isna()
    if unlabelled.any():
        first = df.loc[unlabelled, index].iloc[0].to_dict()
        raise FrameShapeError(
            f"{int(unlabelled.sum())} row(s) have no {by} (the platform sent no code for "
            f"them), first {first}: drop them or set their code before pivoting"
        )
    series = df.set_index([*index, by])[values]
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


def _fractions(wide: pd.DataFrame) -> pd.DataFrame:
    """Each column's fraction of the row sum; an all-zero or all-NA row is NA."""
    values = wide.astype("Float64")
    total = values.sum(axis=1, min_count=1)
    return values.div(total.where(total > 0), axis=0)


# ---------------------------------------------------------- cumulative <-> daily
def to_daily(total: pd.DataFrame) -> pd.DataFrame:
    """getarticletotal's running sums as per-day increments, per article.

    Every counter in :data:`CUMULATIVE_COLUMNS` becomes the increment since the
    article's previous stat day (day 0 keeps its value); levels such as ``target_user``
    are not differenced. User counters then read "new users that day" (the platform
    de-duplicates users across days). Two flags say what an increment means:

    - ``spans_gap``: the previous stat day is missing (or day 0 is), so the increment
      covers more than one day;
    - ``correction``: some counter went down (a platform correction): the negative
      increment is kept, not clipped.

    A missing (NA) value stays NA; the next increment is measured from the last known
    value.

    :func:`to_cumulative` inverts it exactly.

    Examples
    --------
    >>> import pandas as pd
    >>> total = pd.DataFrame({
    ...     "msgid": ["1_1"] * 3,
    ...     "stat_date": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-04"]),
    ...     "target_user": pd.array([100] * 3, dtype="Int64"),
    ...     "int_page_read_count": pd.array([10, 15, 14], dtype="Int64"),
    ... })
    >>> to_daily(total)[["int_page_read_count", "spans_gap", "correction"]]
       int_page_read_count  spans_gap  correction
    0                   10      False       False
    1                    5      False       False
    2                   -1       True        True
    """
    df = _require(
        total,
        ("msgid", "stat_date"),
        "to_daily",
        "a getarticletotal frame (one row per msgid and stat_date, with the details columns)",
    )
    spec = endpoint_of(df)
    cumulative = spec.cumulative if spec is not None and spec.cumulative else CUMULATIVE_COLUMNS
    counters = [c for c in df.columns if c in cumulative]
    if not counters:
        raise FrameShapeError(
            "to_daily needs getarticletotal's details columns (int_page_read_count, ...); "
            f"this looks like {_looks_like(df)}"
        )
    present = [c for c in _FLAGS if c in df.columns]
    if present:
        raise FrameShapeError(
            f"to_daily was given a frame that already has {', '.join(present)}: "
            "it looks like to_daily's own output"
        )
    keys = _article_keys(df)
    df = _sorted_unique(df, keys, "to_daily")
    first = _first_of_group(df, keys)
    out = df.copy(deep=False)  # the counters are replaced, nothing is written in place
    out[counters], negative = _increments(df[counters], first.to_numpy())
    step = df["stat_date"].diff().dt.days
    if "day" in df.columns:
        starts_late = first & (df["day"].fillna(0) != 0)
    elif "ref_date" in df.columns:
        starts_late = first & (df["stat_date"] != df["ref_date"])
    else:
        starts_late = pd.Series(False, index=df.index)
    out["spans_gap"] = (~first & (step != 1)) | starts_late
    out["correction"] = negative
    return out


def _increments(cum: pd.DataFrame, first: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Per-row increments of running sums (rows sorted, ``first`` opens each article).

    Each increment is measured from the last known value, so an NA (a field a response
    left out) stays NA without erasing the next day's increment, and a running sum
    restores it. Also returns which rows have a negative increment.
    """
    if not cum.isna().to_numpy().any():
        # The usual case, in one int64 array: nullable columns are one block each, and
        # column-by-column arithmetic costs more than the numbers.
        values = cum.to_numpy(dtype=np.int64)
        previous = np.zeros_like(values)
        previous[1:] = values[:-1]
        previous[first] = 0
        inc = values - previous
        no_mask = np.zeros(len(values), dtype=bool)
        columns = {name: pd.arrays.IntegerArray(inc[:, j], no_mask) for j, name in enumerate(cum)}
        negative = np.asarray((inc < 0).any(axis=1), dtype=bool)
        return pd.DataFrame(columns, index=cum.index, copy=False), negative
    known = cum.groupby(np.cumsum(first)).ffill()
    previous_frame = known.shift(1)
    previous_frame.loc[first] = 0
    result = (cum - previous_frame.fillna(0)).astype(pd.Int64Dtype())
    return result, (result < 0).fillna(False).any(axis=1).to_numpy()


def to_cumulative(daily: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`to_daily`: increments back to running sums per article.

    Examples
    --------
    >>> import pandas as pd
    >>> total = pd.DataFrame({
    ...     "msgid": ["1_1", "1_1"],
    ...     "stat_date": pd.to_datetime(["2024-05-01", "2024-05-02"]),
    ...     "int_page_read_count": pd.array([10, 15], dtype="Int64"),
    ... })
    >>> to_cumulative(to_daily(total)).equals(total)
    True
    """
    df = _require(
        daily,
        ("msgid", "stat_date", *_FLAGS),
        "to_cumulative",
        "to_daily's output (increments with spans_gap and correction)",
    )
    counters = [c for c in df.columns if c in CUMULATIVE_COLUMNS]
    keys = _article_keys(df)
    df = _sorted_unique(df, keys, "to_cumulative")
    out = df.drop(columns=list(_FLAGS))
    if counters:
        group = (_first_of_group(df, keys)).cumsum()
        out[counters] = df[counters].groupby(group.to_numpy()).cumsum().astype(pd.Int64Dtype())
    return out


def _sorted_unique(df: pd.DataFrame, keys: list[str], helper: str) -> pd.DataFrame:
    """``df`` sorted by article then stat day, refusing two rows for one article-day."""
    df = df.sort_values([*keys, "stat_date"], kind="stable", ignore_index=True)
    dup = df.duplicated([*keys, "stat_date"])
    if dup.any():
        row = df[[*keys, "stat_date"]][dup.to_numpy()].iloc[0].to_dict()
        raise FrameShapeError(
            f"{helper}: {int(dup.sum())} duplicated article-day row(s), first {row}; "
            "one row per msgid and stat_date is expected"
        )
    return df


def _article_keys(df: pd.DataFrame) -> list[str]:
    """What identifies one life of running totals: the endpoint's key without its stat day.

    An article's msgid (per channel where the rows are per channel), within its account
    when a store frame says.
    """
    spec = endpoint_of(df)
    if spec is not None and spec.stat_date is not None:
        keys = [k for k in spec.key if k != spec.stat_date]
    else:
        keys = ["msgid"]
    return [*(["account"] if "account" in df.columns else []), *keys]


def _stat_day(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Days since sending of each stat row: ``day`` when given, else from the first stat day."""
    if "day" in df.columns:
        return df["day"]
    return (df["stat_date"] - df.groupby(keys)["stat_date"].transform("min")).dt.days


def _first_of_group(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    first = np.zeros(len(df), dtype=bool)
    if len(df):
        first[0] = True
    for k in keys:
        col = df[k].to_numpy(dtype=object)
        first[1:] |= col[1:] != col[:-1]
    return pd.Series(first, index=df.index)


# ------------------------------------------------------------------------ rates
def add_rates(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the engagement rates its columns allow, as ``Float64``.

    - ``read_through_rate`` = ori_page_read_user / int_page_read_user (readers who went
      on to the original page);
    - ``share_rate`` = share_user / int_page_read_user;
    - ``fav_rate`` = add_to_fav_user / int_page_read_user;
    - ``reads_per_user`` = int_page_read_count / int_page_read_user;
    - ``open_rate`` = int_page_read_user / target_user (getarticletotal).

    A zero or NA denominator, or an NA numerator, gives NA: never inf, never a made-up 0.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "int_page_read_user": pd.array([10, 0, None], dtype="Int64"),
    ...     "int_page_read_count": pd.array([15, 0, 3], dtype="Int64"),
    ...     "share_user": pd.array([2, 0, 1], dtype="Int64"),
    ... })
    >>> add_rates(df)[["share_rate", "reads_per_user"]]
       share_rate  reads_per_user
    0         0.2             1.5
    1        <NA>            <NA>
    2        <NA>            <NA>
    """
    _require(df, (), "add_rates", "a frame with read counters")
    rates = {
        name: (num, den)
        for name, (num, den) in _RATES.items()
        if num in df.columns and den in df.columns
    }
    if not rates:
        wanted = sorted({c for pair in _RATES.values() for c in pair})
        raise FrameShapeError(
            "add_rates found no numerator/denominator pair; it needs int_page_read_user with "
            f"one of {', '.join(c for c in wanted if c != 'int_page_read_user')}; "
            f"this looks like {_looks_like(df)}"
        )
    out = df.copy()
    for name, (num, den) in rates.items():
        d = out[den].astype("Float64")
        out[name] = out[num].astype("Float64") / d.where(d > 0)
    return out


# -------------------------------------------------------------------- lifecycle
def article_lifecycle(total: pd.DataFrame, *, horizon: int = 7) -> pd.DataFrame:
    """One row per article from getarticletotal: how its first ``horizon`` days went.

    Columns: ``msgid``, ``title``, ``sent`` (the sending day), ``days_observed``,
    ``complete`` (all ``horizon`` stat days present), ``target_user``, the summary
    counters totalled over the days observed (``int_page_read_count`` ...),
    ``day0_share`` (day 0's share of those reads), ``day_50`` and ``day_90`` (the first
    day by which 50% / 90% of them had arrived), the reads' channel mix ``mix_session``,
    ``mix_moments``, ``mix_friends``, ``mix_history``, ``mix_other``, ``mix_kanyikan``,
    ``mix_souyisou`` (fractions of the channel-attributed reads), and ``percentile``:
    where the article's reads rank among the account's articles in the frame (0-100).
    Sorted by reads, most read first. ``account`` leads when the frame has it.

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
    df = _require(
        total,
        ("msgid", "stat_date", "int_page_read_count"),
        "article_lifecycle",
        "a getarticletotal frame (details columns per msgid and stat_date)",
    )
    if not isinstance(horizon, int) or not 1 <= horizon <= 7:
        raise ConfigurationError(f"horizon={horizon!r} is not allowed; use 1..7 (days)")
    keys = _article_keys(df)
    df = _sorted_unique(df, keys, "article_lifecycle")
    day = _stat_day(df, keys)
    df = df[day.to_numpy() < horizon].assign(_day=day[day < horizon].astype("int64"))
    if df.empty:
        raise FrameShapeError("article_lifecycle: the frame has no stat days to summarise")
    groups = df.groupby(keys, sort=False)
    last = groups.tail(1).set_index(keys)
    first = groups.head(1).set_index(keys)
    out = pd.DataFrame(index=last.index)
    if "title" in df.columns:
        out["title"] = last["title"]
    out["sent"] = first["ref_date"] if "ref_date" in df.columns else first["stat_date"]
    out["days_observed"] = groups.size().astype("Int64")
    out["complete"] = out["days_observed"].eq(horizon).astype(bool) & last["_day"].eq(horizon - 1)
    if "target_user" in df.columns:
        out["target_user"] = last["target_user"]
    for c in _SUMMARY_COUNTERS:
        if c in df.columns:
            out[c] = last[c]
    reads = out["int_page_read_count"].astype("Float64")
    positive = reads.where(reads > 0)
    day0 = first["int_page_read_count"].where(first["_day"].eq(0)).astype("Float64")
    out["day0_share"] = day0 / positive
    cum = df["int_page_read_count"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    totals = (
        df[keys]
        .merge(reads.rename("_total").reset_index(), on=keys, how="left")["_total"]
        .to_numpy(dtype=float, na_value=np.nan)
    )
    for q, name in ((0.5, "day_50"), (0.9, "day_90")):
        reached = pd.Series(np.where(cum >= q * totals, df["_day"], np.nan), index=df.index)
        out[name] = (
            reached.groupby([df[k] for k in keys], sort=False).min().reindex(out.index)
        ).astype("Int64")
        out.loc[positive.isna().to_numpy(), name] = pd.NA
    mix_cols = {
        f"mix_{name}": f"int_page_from_{part}_read_count"
        for name, part in ARTICLE_CHANNELS.items()
        if f"int_page_from_{part}_read_count" in df.columns
    }
    if mix_cols:
        channels = last[list(mix_cols.values())].astype("Float64")
        channels.columns = list(mix_cols)
        out[list(mix_cols)] = _fractions(channels)
    rank_by = [k for k in keys if k != "msgid"]
    ranked = reads.groupby(level=rank_by) if rank_by else reads
    out["percentile"] = (ranked.rank(pct=True, method="max") * 100).astype("Float64")
    out = out.sort_values("int_page_read_count", ascending=False, kind="stable")
    return out.reset_index()


# ------------------------------------------------------------------ consistency
_STATUS_ORDER = ("mismatch", "missing", "partial", "expected", "ok")
_CAUSES = {
    "ok": pd.NA,
    "expected": "articles under getarticlesummary's threshold are not listed in it",
    "partial": "a partial day: fetched before 08:00 of the next day (the next sync refreshes it)",
    "missing": "a missing window: the day is in one frame and not in the other",
    "mismatch": "unexplained: the numbers should agree",
}


def check_consistency(
    store: Store | None = None,
    *,
    account: str | None = None,
    begin: DateLike | None = None,
    end: DateLike | None = None,
    summary: pd.DataFrame | None = None,
    read: pd.DataFrame | None = None,
    read_hour: pd.DataFrame | None = None,
    share: pd.DataFrame | None = None,
    share_hour: pd.DataFrame | None = None,
    total: pd.DataFrame | None = None,
    partial_days: Iterable[DateLike] = (),
) -> pd.DataFrame:
    """A data-quality report: the numbers that must agree, day by day, and why they don't.

    Give the frames (``summary`` = getarticlesummary, ``read`` = getuserread, ...) or a
    :class:`~wxframe.Store` to read them from (with ``account``, ``begin``, ``end``); with
    a store, the days fetched before they were complete are known from its manifest,
    otherwise pass them as ``partial_days``. Checks run where both sides are given:

    ============================ ===============================================
    ``summary_vs_account``       articles' reads (getarticlesummary) <= the account's
                                 all-channel reads (getuserread); the gap is the
                                 articles under the summary threshold
    ``hourly_vs_daily_reads``    getuserreadhour summed over hours == getuserread,
                                 per channel (int_page_read_count, share_count)
    ``hourly_vs_daily_shares``   getusersharehour summed == getusershare, per scene
    ``scenes_vs_account_shares`` getusershare over scenes == getuserread's all-channel
                                 share_count
    ``total_vs_summary``         getarticletotal's daily increments == getarticlesummary,
                                 per article-day (int_page_read_count)
    ============================ ===============================================

    One row per check, day and key, with ``expected`` (the reference side),
    ``observed``, ``gap`` (= expected - observed), ``status`` (``ok``, ``expected`` (a
    platform rule explains it), ``partial``, ``missing``, ``mismatch``) and ``cause``.

    Examples
    --------
    >>> from wxframe.simulator import SimulatedAccount
    >>> import wxframe
    >>> from datetime import date
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> days = date(2024, 5, 1), date(2024, 5, 7)
    >>> report = check_consistency(
    ...     read=wxframe.to_frame("getuserread", acct.user_read(*days)),
    ...     share=wxframe.to_frame("getusershare", acct.user_share(*days)))
    >>> report["status"].astype(str).value_counts().to_dict()
    {'ok': 7}
    """
    partial = {as_date(d, "partial_days") for d in partial_days}
    given: dict[str, pd.DataFrame | None] = {
        "summary": summary, "read": read, "read_hour": read_hour,
        "share": share, "share_hour": share_hour, "total": total,
    }  # fmt: skip
    if store is not None:
        # Only what was not given is read; the manifest says which days were partial.
        missing = [name for name, frame in given.items() if frame is None]
        frames, stale = _from_store(store, account, begin, end, missing)
        given |= frames
        partial |= stale
    if sum(f is not None for f in given.values()) < 2:
        raise ConfigurationError(
            "check_consistency compares frames: give a store, or at least two of "
            "summary, read, read_hour, share, share_hour, total"
        )
    needs = {
        "summary": ("ref_date", "msgid", "int_page_read_count"),
        "read": ("ref_date", "channel", "int_page_read_count", "share_count"),
        "read_hour": ("ref_date", "ref_hour", "channel", "int_page_read_count", "share_count"),
        "share": ("ref_date", "scene", "share_count"),
        "share_hour": ("ref_date", "ref_hour", "scene", "share_count"),
        "total": ("msgid", "stat_date", "int_page_read_count"),
    }
    for name, frame in given.items():
        if frame is not None:
            _require(frame, needs[name], "check_consistency", f"{name}= with {needs[name]}")
    parts: list[pd.DataFrame] = []
    summary, read, total = given["summary"], given["read"], given["total"]
    read_hour, share, share_hour = given["read_hour"], given["share"], given["share_hour"]
    if summary is not None and read is not None:
        parts.append(_summary_vs_account(summary, read))
    if read_hour is not None and read is not None:
        for field in ("int_page_read_count", "share_count"):
            parts.append(_sums("hourly_vs_daily_reads", read, read_hour, "channel", field))
    if share_hour is not None and share is not None:
        parts.append(_sums("hourly_vs_daily_shares", share, share_hour, "scene", "share_count"))
    if share is not None and read is not None:
        parts.append(_scenes_vs_account(read, share))
    if total is not None and summary is not None:
        parts.append(_total_vs_summary(total, summary))
    report = pd.concat(parts, ignore_index=True) if parts else _empty_report()
    if partial:
        days = report["ref_date"].dt.date
        report.loc[days.isin(partial) & report["status"].ne("ok"), "status"] = "partial"
    report["cause"] = report["status"].map(_CAUSES).astype("string")
    report["status"] = pd.Categorical(report["status"], categories=list(_STATUS_ORDER))
    return report.sort_values(["check", "ref_date", "key"], ignore_index=True)


def _empty_report() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "check": pd.Series(dtype="string"),
            "ref_date": pd.Series(dtype="datetime64[ns]"),
            "key": pd.Series(dtype="string"),
            "field": pd.Series(dtype="string"),
            "expected": pd.Series(dtype="Int64"),
            "observed": pd.Series(dtype="Int64"),
            "gap": pd.Series(dtype="Int64"),
            "status": pd.Series(dtype="object"),
        }
    )


def _compare(
    check: str, field: str, expected: pd.Series, observed: pd.Series, *, at_most: bool = False
) -> pd.DataFrame:
    """Rows of a check from two series on the same (ref_date[, key]) index."""
    both = pd.concat({"expected": expected, "observed": observed}, axis=1).astype("Int64")
    gap = both["expected"] - both["observed"]
    missing = both["expected"].isna() | both["observed"].isna()
    status = np.where(gap.fillna(0).eq(0), "ok", "mismatch")
    if at_most:
        # Under-threshold articles are small by definition: a gap beyond 2% of the
        # reference (or 100) is more than the threshold can explain.
        bound = np.maximum(100, 0.02 * both["expected"].fillna(0).to_numpy(dtype=float))
        small = gap.fillna(0).gt(0).to_numpy() & (gap.fillna(0).to_numpy(dtype=float) <= bound)
        status = np.where(small, "expected", status)
    status = np.where(missing, "missing", status)
    frame = both.reset_index()
    if "key" not in frame.columns:
        frame["key"] = ""
    frame["key"] = frame["key"].astype("string")
    frame.insert(0, "check", check)
    frame["check"] = frame["check"].astype("string")
    frame["field"] = pd.array([field] * len(frame), dtype="string")
    frame["gap"] = gap.array
    frame["status"] = status
    return frame[["check", "ref_date", "key", "field", "expected", "observed", "gap", "status"]]


def _all_rows(read: pd.DataFrame) -> pd.DataFrame:
    return read[read["channel"].astype("string") == CHANNELS[99999999]]


def _summary_vs_account(summary: pd.DataFrame, read: pd.DataFrame) -> pd.DataFrame:
    field = "int_page_read_count"
    account = _all_rows(read).groupby("ref_date")[field].sum()
    articles = summary.groupby("ref_date")[field].sum()
    return _compare("summary_vs_account", field, account, articles, at_most=True)


def _sums(
    check: str, daily: pd.DataFrame, hourly: pd.DataFrame, by: str, field: str
) -> pd.DataFrame:
    day = daily.groupby(["ref_date", daily[by].astype("string").rename("key")])[field].sum()
    hour = hourly.groupby(["ref_date", hourly[by].astype("string").rename("key")])[field].sum()
    return _compare(check, field, day, hour)


def _scenes_vs_account(read: pd.DataFrame, share: pd.DataFrame) -> pd.DataFrame:
    field = "share_count"
    account = _all_rows(read).groupby("ref_date")[field].sum()
    scenes = share.groupby("ref_date")[field].sum()
    return _compare("scenes_vs_account_shares", field, account, scenes)


def _total_vs_summary(total: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    field = "int_page_read_count"
    wanted = ("account", "msgid", "stat_date", "ref_date", "day", field)
    daily = to_daily(total[[c for c in total.columns if c in wanted]])
    daily = daily[~daily["spans_gap"]]
    inc = daily.set_index(["stat_date", "msgid"])[field].rename_axis(["ref_date", "key"])
    listed = summary.set_index(["ref_date", "msgid"])[field].rename_axis(["ref_date", "key"])
    # Only the days both frames cover: getarticletotal holds the articles *sent* in its
    # range, getarticlesummary every article read on its days.
    # Only what both frames cover: getarticletotal holds the articles *sent* in its range
    # and their first 7 days; getarticlesummary every article read on its days.
    span = daily.groupby("msgid")["stat_date"].agg(["min", "max"])
    days = set(summary["ref_date"])
    inc = inc[inc.index.get_level_values(0).isin(days)]
    when = listed.index.get_level_values(0)
    first = span["min"].reindex(listed.index.get_level_values(1)).to_numpy()
    last = span["max"].reindex(listed.index.get_level_values(1)).to_numpy()
    listed = listed[(when >= first) & (when <= last)]
    frame = _compare("total_vs_summary", field, inc, listed)
    # An article-day missing from the summary is the threshold at work, not a lost window.
    unlisted = frame["observed"].isna() & frame["expected"].notna()
    frame.loc[unlisted, "status"] = "expected"
    return frame


#: check_consistency's frame names and the endpoints they come from.
_FRAME_ENDPOINTS = {
    "summary": "getarticlesummary", "read": "getuserread", "read_hour": "getuserreadhour",
    "share": "getusershare", "share_hour": "getusersharehour", "total": "getarticletotal",
}  # fmt: skip


def _from_store(
    store: Store,
    account: str | None,
    begin: DateLike | None,
    end: DateLike | None,
    names: Sequence[str],
) -> tuple[dict[str, pd.DataFrame | None], set[date]]:
    """The frames ``names`` read from ``store``, and the days fetched before complete."""
    accounts = store.accounts()
    if account is None:
        if len(accounts) != 1:
            raise ConfigurationError(
                f"the store holds {len(accounts)} accounts ({', '.join(accounts) or 'none'}); "
                "pass account="
            )
        account = accounts[0]
    frames = {name: store.read(_FRAME_ENDPOINTS[name], begin, end, account=account)
              for name in names}  # fmt: skip
    days = store.days(account=account)
    stale = set(days.loc[~days["complete"], "ref_date"].dt.date)
    # An endpoint the store does not hold is not compared (rather than "missing" daily).
    return {name: (df if len(df) else None) for name, df in frames.items()}, stale
