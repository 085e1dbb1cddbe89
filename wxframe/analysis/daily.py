"""Running totals to daily increments and back: getarticletotal (7 days) and
getarticletotaldetail (30 days, per channel)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from wxframe.analysis.common import article_keys, first_of_group, require, sorted_unique
from wxframe.endpoints import ENDPOINTS
from wxframe.errors import FrameShapeError
from wxframe.frames import endpoint_of

__all__ = ["CUMULATIVE_COLUMNS", "DAILY_SUFFIX", "to_cumulative", "to_daily"]

#: Every running total the registry declares (what :func:`to_daily` differences).
CUMULATIVE_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(name for spec in ENDPOINTS.values() for name in spec.cumulative)
)
#: What :func:`to_daily` appends to a running total's name: ``read_user_daily``.
DAILY_SUFFIX = "_daily"
_FLAGS = ("spans_gap", "correction")


def to_daily(total: pd.DataFrame) -> pd.DataFrame:
    """Running totals as per-day increments, per article (and channel).

    Takes getarticletotal (7 stat days per article) or getarticletotaldetail (30, one
    row per channel). Every running total the registry declares becomes the increment
    since the article's previous stat day (day 0 keeps its value), under a name that
    says so: ``int_page_read_count`` -> ``int_page_read_count_daily``, ``read_user`` ->
    ``read_user_daily``. Levels (``target_user``), rates and averages
    (``read_finish_rate``, ``read_avg_activetime``, ``jump_rate_*``) are kept as of each
    stat day, never differenced. People counters then read "new people that day" (the
    platform de-duplicates people across days). Two flags say what an increment means:

    - ``spans_gap``: the previous stat day is missing (or day 0 is), so the increment
      covers more than one day;
    - ``correction``: some counter went down (a platform correction): the negative
      increment is kept, not clipped.

    A missing (NA) value stays NA; the next increment is measured from the last known
    value. :func:`to_cumulative` inverts it exactly.

    Examples
    --------
    >>> import pandas as pd
    >>> total = pd.DataFrame({
    ...     "msgid": ["1_1"] * 3,
    ...     "stat_date": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-04"]),
    ...     "target_user": pd.array([100] * 3, dtype="Int64"),
    ...     "int_page_read_count": pd.array([10, 15, 14], dtype="Int64"),
    ... })
    >>> to_daily(total)[["int_page_read_count_daily", "spans_gap", "correction"]]
       int_page_read_count_daily  spans_gap  correction
    0                         10      False       False
    1                          5      False       False
    2                         -1       True        True
    """
    df = require(
        total,
        ("msgid", "stat_date"),
        "to_daily",
        "a getarticletotal or getarticletotaldetail frame (one row per msgid and stat_date)",
    )
    spec = endpoint_of(df)
    cumulative = spec.cumulative if spec is not None and spec.cumulative else CUMULATIVE_COLUMNS
    present = [c for c in df.columns if c in _FLAGS or str(c).endswith(DAILY_SUFFIX)]
    if present:
        raise FrameShapeError(
            f"to_daily was given a frame that already has {', '.join(present[:4])}: "
            "it looks like to_daily's own output"
        )
    counters = [c for c in df.columns if c in cumulative]
    if not counters:
        raise FrameShapeError(
            "to_daily needs running totals (int_page_read_count, read_user, ...); "
            f"this has none of {', '.join(CUMULATIVE_COLUMNS[:6])}, ..."
        )
    keys = article_keys(df)
    df = sorted_unique(df, keys, "to_daily")
    first = first_of_group(df, keys)
    increments, negative = _increments(df[counters], first.to_numpy())
    out = df.copy(deep=False)  # the counters are replaced, nothing is written in place
    out[counters] = increments
    step = df["stat_date"].diff().dt.days
    if "day" in df.columns:
        starts_late = first & (df["day"].fillna(0) != 0)
    elif "ref_date" in df.columns:
        starts_late = first & (df["stat_date"] != df["ref_date"])
    else:
        starts_late = pd.Series(False, index=df.index)
    out["spans_gap"] = (~first & (step != 1)) | starts_late
    out["correction"] = negative
    return out.rename(columns={c: c + DAILY_SUFFIX for c in counters})


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
    """The inverse of :func:`to_daily`: increments back to running totals per article.

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
    df = require(
        daily,
        ("msgid", "stat_date", *_FLAGS),
        "to_cumulative",
        "to_daily's output (increments with spans_gap and correction)",
    )
    daily_columns = {
        c: c.removesuffix(DAILY_SUFFIX)
        for c in df.columns
        if c.endswith(DAILY_SUFFIX) and c.removesuffix(DAILY_SUFFIX) in CUMULATIVE_COLUMNS
    }
    out = df.drop(columns=list(_FLAGS)).rename(columns=daily_columns)
    keys = article_keys(out)
    out = sorted_unique(out, keys, "to_cumulative")
    counters = list(daily_columns.values())
    if counters:
        group = first_of_group(out, keys).cumsum()
        out[counters] = out[counters].groupby(group.to_numpy()).cumsum().astype(pd.Int64Dtype())
    return out
