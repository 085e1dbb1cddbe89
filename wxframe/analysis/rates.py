"""Engagement rates from the counters a frame has, for both families."""

from __future__ import annotations

import pandas as pd

from wxframe.analysis.common import looks_like, require
from wxframe.errors import FrameShapeError

__all__ = ["RATES", "add_rates"]

#: Each rate and the (numerator, denominator) pairs it is computed from, the first pair
#: whose columns a frame has: the offline six count readers as ``int_page_read_user``,
#: the current family as ``read_user``.
RATES: dict[str, tuple[tuple[str, str], ...]] = {
    "read_through_rate": (("ori_page_read_user", "int_page_read_user"),),
    "ori_rate": (("redirect_ori_page_user", "read_user"),),
    "share_rate": (("share_user", "int_page_read_user"), ("share_user", "read_user")),
    "fav_rate": (("add_to_fav_user", "int_page_read_user"),),
    "collection_rate": (("collection_user", "read_user"),),
    "like_rate": (("like_user", "read_user"),),
    "zaikan_rate": (("zaikan_user", "read_user"),),
    "comment_rate": (("comment_count", "read_user"),),
    "subscribe_rate": (("read_subscribe_user", "read_user"),),
    "reads_per_user": (("int_page_read_count", "int_page_read_user"),),
    "open_rate": (("int_page_read_user", "target_user"),),
}


def add_rates(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the engagement rates its columns allow, as ``Float64``.

    Offline six (readers = ``int_page_read_user``): ``read_through_rate`` (went on to
    the original page), ``share_rate``, ``fav_rate``, ``reads_per_user``, ``open_rate``
    (readers / ``target_user``, getarticletotal).

    Current family (readers = ``read_user``): ``share_rate``, ``like_rate``,
    ``zaikan_rate`` (在看), ``comment_rate`` (comments per reader), ``collection_rate``
    (favourites), ``subscribe_rate`` (followed after reading, ``read_subscribe_user``),
    ``ori_rate`` (``redirect_ori_page_user``, getbizsummary).

    On running totals (getarticletotal(detail)) the rates are "so far". A zero or NA
    denominator, or an NA numerator, gives NA: never inf, never a made-up 0.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "read_user": pd.array([10, 0, None], dtype="Int64"),
    ...     "like_user": pd.array([2, 0, 1], dtype="Int64"),
    ...     "comment_count": pd.array([5, 0, 1], dtype="Int64"),
    ... })
    >>> add_rates(df)[["like_rate", "comment_rate"]]
       like_rate  comment_rate
    0        0.2           0.5
    1       <NA>          <NA>
    2       <NA>          <NA>
    """
    require(df, (), "add_rates", "a frame with read counters")
    chosen = {}
    for name, pairs in RATES.items():
        for num, den in pairs:
            if num in df.columns and den in df.columns:
                chosen[name] = (num, den)
                break
    if not chosen:
        raise FrameShapeError(
            "add_rates found no numerator/denominator pair; it needs readers "
            "(int_page_read_user or read_user) and a counter such as share_user, like_user; "
            f"this looks like {looks_like(df)}"
        )
    out = df.copy()
    for name, (num, den) in chosen.items():
        d = out[den].astype("Float64")
        out[name] = out[num].astype("Float64") / d.where(d > 0)
    return out
