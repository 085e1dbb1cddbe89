"""Where and when to publish: the headline slot against the later ones (:func:`by_slot`)
and the weekday of publishing (:func:`by_weekday`), compared on articles of one age."""

from __future__ import annotations

import pandas as pd
from pandas.api.typing import DataFrameGroupBy

from wxframe.analysis.articles import DEFAULT_DAYS, articles_as_of
from wxframe.analysis.common import Labels, check_labels, group_keys
from wxframe.errors import ConfigurationError

__all__ = ["MEASURES", "MIN_ARTICLES", "MIN_DAYS", "WEEKDAYS", "by_slot", "by_weekday"]

#: What both compare, the median per group, and where each comes from
#: (getarticletotaldetail; getarticletotal has readers and shares only).
MEASURES: dict[str, str] = {
    "readers": "read_user (int_page_read_user)",
    "completion": "read_finish_rate",
    "shares": "share_user",
    "likes": "like_user",
}
#: Fewer articles than this on a weekday give no verdict (``enough`` is False): the
#: median of five survives two outliers, the median of three does not survive one
#: viral article with one dud.
MIN_ARTICLES = 5
#: ... from at least this many publishing days: eight articles of one send are one day's
#: luck, not the weekday's.
MIN_DAYS = 2
#: Monday 0 .. Sunday 6 (pandas' ``dt.day_of_week``): English and Chinese names.
WEEKDAYS: tuple[tuple[str, str], ...] = (
    ("Monday", "星期一"),
    ("Tuesday", "星期二"),
    ("Wednesday", "星期三"),
    ("Thursday", "星期四"),
    ("Friday", "星期五"),
    ("Saturday", "星期六"),
    ("Sunday", "星期日"),
)


def _mass_sent(details: pd.DataFrame, days: int) -> pd.DataFrame:
    """The mass-sent articles of ``details`` as of their ``days``-th day."""
    articles = articles_as_of(details, days=days)
    return articles[articles["publish_type"].ne(1).fillna(True).to_numpy(dtype=bool)]


def _medians(groups: DataFrameGroupBy) -> pd.DataFrame:
    return pd.DataFrame({m: groups[m].median().astype("Float64") for m in MEASURES})


def by_slot(
    details: pd.DataFrame,
    *,
    days: int = DEFAULT_DAYS,
    pool: bool = False,
    labels: Labels = None,
) -> pd.DataFrame:
    """The headline (slot 1 of a send) against slots 2, 3, ... of the same sends.

    Each mass-sent article of getarticletotaldetail (or getarticletotal) as of its
    ``days``-th day (default 7: all the articles of a send are published together, so
    they compare at the same age), grouped by its slot, the index of its ``msgid``
    (``2247490098_2``: slot 2). One row per slot, ``"1"``, ``"2"``, ...: the effect
    usually decays with the position, and a per-slot row shows it; ``pool=True`` gives
    ``"1"`` and ``"2+"`` (slots 2..n together) where later slots are few. Columns:

    - ``articles``: how many (they sum to the mass-sent articles with a slot, of that
      age); ``sends``: how many different sends they come from;
    - the median ``readers``, ``completion`` (``read_finish_rate``), ``shares``
      (``share_user``) and ``likes`` (``like_user``): NA where the family has no such
      field (getarticletotal: completion, likes);
    - ``readers_vs_headline``: the median, over the sends that have both, of this
      slot's readers over the headline's readers of the same send (so a busy day lifts
      both sides): 1 for slot 1.

    A send with one article counts in slot 1 (``articles``, medians) and has no pair:
    ``alone`` counts such articles. Quiet publishes (publish_type 1) are not part of a
    push and are left out, as are articles younger than ``days`` (``too_young`` on the
    slot's row) and msgids that are not ``<digits>_<index>`` or bare digits (a bare id
    is a send of one article: slot 1). ``labels="en"`` / ``"zh"`` names the
    slots (``headline`` / 头条, ``slot 2`` / 第2条, ``slots 2+`` / 次条及以后).

    What it cannot say: why (slot 1 is also what a sender puts first); a slot's effect
    on articles that could have been placed elsewhere.

    Examples
    --------
    >>> import pandas as pd
    >>> total = pd.DataFrame({
    ...     "msgid": ["1_1", "1_2", "2_1", "2_2", "2_3", "3_1"],
    ...     "ref_date": pd.to_datetime(["2024-05-01"] * 2 + ["2024-05-02"] * 3 + ["2024-05-03"]),
    ...     "stat_date": pd.to_datetime(["2024-05-01"] * 2 + ["2024-05-02"] * 3 + ["2024-05-03"]),
    ...     "int_page_read_user": pd.array([100, 50, 300, 60, 30, 80], dtype="Int64"),
    ...     "share_user": pd.array([10, 5, 30, 6, 3, 8], dtype="Int64"),
    ... })
    >>> by_slot(total, days=1)[["articles", "readers", "readers_vs_headline", "alone"]]
          articles  readers  readers_vs_headline  alone
    slot
    1            3    100.0                  1.0      1
    2            2     55.0                 0.35      0
    3            1     30.0                  0.1      0
    >>> by_slot(total, days=1, pool=True, labels="en").index.tolist()
    ['headline', 'slots 2+']
    """
    lang = check_labels(labels)
    if not isinstance(pool, bool):
        raise ConfigurationError(f"pool={pool!r} is not allowed; use True or False")
    articles = _mass_sent(details, days)
    articles = articles[articles["slot"].notna().to_numpy(dtype=bool)]
    send = [*group_keys(articles), "msg_data_id"]
    sizes = articles.groupby(send)["msgid"].transform("size")
    head = articles[articles["slot"].eq(1)].set_index(send)["readers"].rename("_head")
    articles = articles.join(head, on=send)
    top = articles["_head"].astype("Float64")
    articles = articles.assign(
        _group=articles["slot"].astype("int64").astype(str),
        _ratio=articles["readers"].astype("Float64") / top.where(top > 0),
        _alone=sizes.eq(1) & articles["slot"].eq(1),
    )
    if pool:
        articles["_group"] = articles["_group"].where(articles["_group"].eq("1"), "2+")
    reached = articles[articles["reached"].to_numpy(dtype=bool)]
    groups = reached.groupby("_group")
    out = pd.DataFrame({"articles": groups.size(), "sends": groups["msg_data_id"].nunique()})
    out = out.join(_medians(groups))
    out["readers_vs_headline"] = groups["_ratio"].median().astype("Float64")
    out["alone"] = groups["_alone"].sum()
    young = articles[~articles["reached"].to_numpy(dtype=bool)].groupby("_group").size()
    order = sorted(set(articles["_group"]), key=lambda g: (len(g), g))
    out = out.reindex(order)
    out["too_young"] = young.reindex(order).fillna(0)
    for c in ("articles", "sends", "alone", "too_young"):
        out[c] = out[c].fillna(0).astype("int64")
    out.index = pd.Index([_slot_name(g, lang) for g in order], name="slot")
    return out


def _slot_name(group: str, lang: Labels) -> str:
    if lang is None:
        return group
    if group == "1":
        return "headline" if lang == "en" else "头条"
    if group == "2+":
        return "slots 2+" if lang == "en" else "次条及以后"
    return f"slot {group}" if lang == "en" else f"第{group}条"


def by_weekday(
    details: pd.DataFrame,
    *,
    days: int = DEFAULT_DAYS,
    labels: Labels = None,
) -> pd.DataFrame:
    """The same measures as :func:`by_slot` by the weekday of publishing (Beijing).

    Each mass-sent article of getarticletotaldetail (or getarticletotal) as of its
    ``days``-th day (default 7), grouped by the weekday of its ``ref_date`` (the
    platform's days are Beijing days). Seven rows, Monday first (index 0..6, pandas'
    ``dt.day_of_week``; ``labels="en"`` / ``"zh"``: Monday / 星期一): ``articles`` (0 for a
    weekday without any, with NA medians), the median ``readers``, ``completion``,
    ``shares``, ``likes``, ``too_young`` (published that weekday, younger than
    ``days``), ``publish_days`` (how many different days of that weekday) and
    ``enough``: at least :data:`MIN_ARTICLES` (5) articles from at least
    :data:`MIN_DAYS` (2) days, below which the row gives no verdict. Slot 2+ articles
    count too: a weekday that carries more of them reads lower; compare with
    :func:`by_slot` before blaming the day.

    What it cannot say: the hour (the current family has no hourly data), nor whether
    the weekday or the articles a sender keeps for it made the difference.

    Examples
    --------
    >>> import pandas as pd
    >>> total = pd.DataFrame({
    ...     "msgid": ["1_1", "2_1", "3_1"],
    ...     "ref_date": pd.to_datetime(["2024-05-06", "2024-05-13", "2024-05-08"]),
    ...     "stat_date": pd.to_datetime(["2024-05-06", "2024-05-13", "2024-05-08"]),
    ...     "int_page_read_user": pd.array([100, 200, 40], dtype="Int64"),
    ... })
    >>> by_weekday(total, days=1, labels="en")[["articles", "readers", "enough"]]
               articles  readers  enough
    weekday
    Monday            2    150.0   False
    Tuesday           0     <NA>   False
    Wednesday         1     40.0   False
    Thursday          0     <NA>   False
    Friday            0     <NA>   False
    Saturday          0     <NA>   False
    Sunday            0     <NA>   False
    """
    lang = check_labels(labels)
    articles = _mass_sent(details, days)
    articles = articles.assign(_weekday=articles["sent"].dt.day_of_week)
    reached = articles[articles["reached"].to_numpy(dtype=bool)]
    groups = reached.groupby("_weekday")
    week = range(7)
    counts = pd.DataFrame({"articles": groups.size(), "publish_days": groups["sent"].nunique()})
    out = counts.join(_medians(groups)).reindex(week)
    out["articles"] = out["articles"].fillna(0).astype("int64")
    out["publish_days"] = out["publish_days"].fillna(0).astype("int64")
    young = articles[~articles["reached"].to_numpy(dtype=bool)].groupby("_weekday").size()
    out["too_young"] = young.reindex(week).fillna(0).astype("int64")
    out["enough"] = (out["articles"] >= MIN_ARTICLES) & (out["publish_days"] >= MIN_DAYS)
    names = list(week) if lang is None else [w[0 if lang == "en" else 1] for w in WEEKDAYS]
    out.index = pd.Index(names, name="weekday")
    return out
