"""How each article does: its open rate, the followers it brings and where its readers
come from, one row per article (msgid) of getarticletotaldetail or getarticletotal.

:func:`articles_as_of` is the table the others read: each article's numbers as of one
day of its life, so that articles of different ages compare at the same age.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from wxframe.analysis.common import (
    Labels,
    article_keys,
    check_labels,
    group_keys,
    is_all_row,
    require,
    sorted_unique,
    stat_day,
)
from wxframe.endpoints import CHANNEL_CODES, Codes
from wxframe.errors import ConfigurationError, FrameShapeError

__all__ = [
    "DEFAULT_DAYS",
    "OPEN_RATE_REASONS",
    "OPEN_RATE_SOURCES",
    "PUBLISH_TYPES",
    "articles_as_of",
    "conversion",
    "open_rate",
    "recommendation_share",
]

#: The age at which the article helpers compare articles: 7 days (the publish day and
#: six more), the most getarticletotal holds, so that the six's history and the current
#: family answer the same question, and by when a typical article has most of its readers.
DEFAULT_DAYS = 7

#: publish_type of getarticletotaldetail (getarticletotal holds mass sends only: 0).
PUBLISH_TYPES = Codes.declare(
    "publish_type",
    [
        (0, "sent", "sent with a notification", "群发"),
        (1, "quiet", "published without a notification", "发表（不通知）"),
    ],
)
#: Where :func:`open_rate`'s number comes from.
OPEN_RATE_SOURCES = Codes.declare(
    "source",
    [
        (0, "platform", "platform (read_delivery_rate)", "平台（送达阅读率）"),
        (
            1,
            "estimate",
            "estimate (messages readers / followers)",
            "估算（公众号消息阅读/关注人数）",
        ),
    ],
)
#: Why :func:`open_rate` gives no number for an article.
OPEN_RATE_REASONS = Codes.declare(
    "reason",
    [
        (0, "quiet", "published without a notification: no one's messages", "未通知发表：无送达"),
        (1, "too_young", "not yet as old as days=", "发表天数不足"),
        (2, "no_followers", "no followers data for the day before publishing", "无发表前关注人数"),
        (3, "no_session", "no messages (session) readers in the frame", "无公众号消息阅读数据"),
    ],
)

_EXPECTED = "a getarticletotaldetail or getarticletotal frame"
#: Readers from messages (the ``session`` channel) in getarticletotal's details.
_TOTAL_SESSION = "int_page_from_session_read_user"
#: What articles_as_of takes from getarticletotaldetail's ``all`` rows / getarticletotal.
_DETAIL_MEASURES = {
    "readers": "read_user",
    "completion": "read_finish_rate",
    "shares": "share_user",
    "likes": "like_user",
    "subscribed": "read_subscribe_user",
    "delivery_rate": "read_delivery_rate",
}
_TOTAL_MEASURES = {"readers": "int_page_read_user", "shares": "share_user"}


def _check_days(days: object, longest: int) -> int:
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= longest:
        raise ConfigurationError(
            f"days={days!r} is not allowed; use 1..{longest} (days of an article's life, "
            "the publish day counting as 1) for this frame"
        )
    return days


def articles_as_of(details: pd.DataFrame, *, days: int = DEFAULT_DAYS) -> pd.DataFrame:
    """One row per article: its numbers as of its ``days``-th day (the publish day is 1).

    Takes getarticletotaldetail (``days`` 1..30) or getarticletotal (1..7). Columns:
    ``msgid``, ``title`` (where given), ``sent`` (publish / sending day, Beijing),
    ``msg_data_id`` and ``slot`` (the send and the article's 1-based position in it,
    from ``msgid``; a bare id, which the platform gives some sends of one article, is
    slot 1; NA for an id that is not digits), ``publish_type`` (getarticletotal: 0),
    ``days_observed``, ``reached`` (the ``days``-th day is in the frame), and, from the
    row of the ``days``-th day (or the article's last day before it when not reached):
    ``readers``, ``shares``, ``session`` (readers from messages), and from
    getarticletotaldetail ``completion`` (``read_finish_rate``), ``likes``,
    ``subscribed`` (``read_subscribe_user``) and ``delivery_rate``
    (``read_delivery_rate``); NA where the family has no such field. ``account`` leads
    when the frame has it.

    Examples
    --------
    >>> import pandas as pd
    >>> total = pd.DataFrame({
    ...     "msgid": ["7_1", "7_1", "7_2"],
    ...     "ref_date": pd.to_datetime(["2024-05-01"] * 3),
    ...     "stat_date": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-01"]),
    ...     "int_page_read_user": pd.array([10, 15, 4], dtype="Int64"),
    ... })
    >>> articles_as_of(total, days=2)[["msgid", "slot", "readers", "reached"]]
      msgid  slot  readers  reached
    0   7_1     1       15     True
    1   7_2     2        4    False
    """
    df = require(details, ("msgid", "stat_date"), "articles_as_of", _EXPECTED)
    detail = "read_user" in df.columns and "channel" in df.columns
    if not detail and "int_page_read_user" not in df.columns:
        raise FrameShapeError(
            f"articles_as_of needs {_EXPECTED}: getarticletotaldetail's read_user and "
            "channel columns or getarticletotal's int_page_read_user"
        )
    days = _check_days(days, 30 if detail else 7)
    keys = [k for k in article_keys(df) if k != "channel"]
    rows = df[is_all_row(df)] if detail else df
    rows = sorted_unique(rows, keys, "articles_as_of")
    age = stat_day(rows, keys)
    inside = (age < days).fillna(False).to_numpy(dtype=bool)
    rows = rows[inside].assign(_age=age[inside].astype("int64"))
    groups = rows.groupby(keys, sort=False)
    last = groups.tail(1).set_index(keys)
    first = groups.head(1).set_index(keys)
    out = pd.DataFrame(index=last.index)
    if "title" in rows.columns:
        out["title"] = last["title"]
    out["sent"] = first["ref_date"] if "ref_date" in rows.columns else first["stat_date"]
    ids = out.index.get_level_values("msgid").to_series(index=out.index).astype("string")
    parts = ids.str.extract(r"^(\d+)(?:_(\d+))?$")
    out["msg_data_id"] = pd.to_numeric(parts[0]).astype("Int64")
    # A bare id (no ``_index``) is a send of one article: its headline.
    out["slot"] = (
        pd.to_numeric(parts[1]).astype("Int64").mask(parts[0].notna() & parts[1].isna(), 1)
    )
    if "publish_type" in rows.columns:
        out["publish_type"] = last["publish_type"].astype("Int64")
    else:
        out["publish_type"] = pd.array([0] * len(out), dtype="Int64")
    out["days_observed"] = groups.size().astype("Int64")
    out["reached"] = last["_age"].eq(days - 1).astype(bool)
    measures = _DETAIL_MEASURES if detail else _TOTAL_MEASURES
    for name in _DETAIL_MEASURES:
        column = measures.get(name)
        if column is not None and column in last.columns:
            out[name] = last[column]
        else:
            dtype = "Float64" if name in ("completion", "delivery_rate") else "Int64"
            out[name] = pd.Series(pd.NA, index=out.index, dtype=dtype)
    out.insert(list(out.columns).index("shares") + 1, "session", _session(df, last, keys))
    return out.reset_index()


def _session(df: pd.DataFrame, last: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Readers from messages on each article's chosen stat day (NA where not given)."""
    if _TOTAL_SESSION in last.columns:
        return last[_TOTAL_SESSION].astype("Int64")
    if "channel" not in df.columns or is_all_row(df).all():
        return pd.Series(pd.NA, index=last.index, dtype="Int64")
    # The platform leaves out a channel without readers: on a day the article has
    # channel rows, no session row is 0 readers from messages.
    channels = df[~is_all_row(df)]
    on_day = channels.merge(last["stat_date"].reset_index(), on=[*keys, "stat_date"])
    session = on_day[on_day["channel"].astype("string").eq("session").fillna(False)]
    found = session.groupby(keys)["read_user"].sum().astype("Int64")
    has_channels = on_day.groupby(keys).size()
    zero = pd.Series(0, index=has_channels.index, dtype="Int64")
    return found.combine_first(zero).reindex(last.index).astype("Int64")


def _followers_before(cumulate: pd.DataFrame, out: pd.DataFrame) -> pd.Series:
    """getusercumulate's level at the end of the day before each article's publish day,
    else at the end of the publish day itself (the audience the push went out to)."""
    require(
        cumulate, ("ref_date", "cumulate_user"), "open_rate", "followers= a getusercumulate frame"
    )
    on = [k for k in ("account",) if k in out.columns and k in cumulate.columns]
    level = cumulate[[*on, "ref_date", "cumulate_user"]].drop_duplicates([*on, "ref_date"])
    found = pd.Series(pd.NA, index=out.index, dtype="Int64")
    for shift in (1, 0):
        wanted = out[on].assign(ref_date=out["sent"] - pd.Timedelta(days=shift))
        hit = wanted.merge(level, on=[*on, "ref_date"], how="left")["cumulate_user"]
        found = found.fillna(pd.Series(hit.to_numpy(), index=out.index).astype("Int64"))
    return found


def _display(frame: pd.DataFrame, codes: Codes, lang: Labels) -> None:
    """The codes of ``codes.column`` as their display names, in place (None: the codes)."""
    if lang is None:
        return
    column = frame[codes.column]
    shown = [pd.NA if pd.isna(v) else codes.display(_code_name(codes, v), lang) for v in column]
    frame[codes.column] = pd.array(shown, dtype="string")


def _code_name(codes: Codes, value: object) -> str:
    """The category of a code list for ``value`` (an int code or a category name)."""
    if isinstance(value, (int, np.integer)):
        return codes.labels.get(int(value), str(value))
    return str(value)


def open_rate(
    details: pd.DataFrame,
    *,
    followers: pd.DataFrame | None = None,
    reads: pd.DataFrame | None = None,
    days: int = DEFAULT_DAYS,
    labels: Labels = None,
) -> pd.DataFrame:
    """Per article: 送达阅读率, the share of the people a push reached who read it.

    ``platform_rate`` is the platform's own ``read_delivery_rate``
    (getarticletotaldetail) on the article's ``days``-th day (the publish day is 1;
    default 7, see :data:`DEFAULT_DAYS`): the rate grows as late readers open the
    message, so only rates at one age compare. ``estimate`` is readers from messages
    (the ``session`` channel, 公众号消息) by that day over the followers at publishing:
    getusercumulate's ``cumulate_user`` at the end of the day before (else of the
    publish day) from ``followers=``. It is what the six's history (getarticletotal's
    ``int_page_from_session_read_user``) allows, and where the current family's rate is
    missing; ``reads=`` (a getarticleread frame) gives messages readers for articles
    whose details have no channel rows (summed over their first ``days`` days: a person
    reading on two days counts twice).

    ``open_rate`` is the platform's rate where there is one, else the estimate, and
    ``source`` says which (``platform`` / ``estimate`` / NA). Where there is no number,
    ``reason`` says why: ``quiet`` (publish_type 1, published without a notification:
    it reaches no one's messages, it has no open rate), ``too_young`` (the ``days``-th
    day is not in the frame), ``no_followers`` (no getusercumulate level for the day:
    the estimate is NA, never a guess), ``no_session``.

    What it cannot say: whom a push reached (the platform counts deliveries, the
    estimate assumes every follower received it; a follower who muted the account
    counts in the estimate), nor anything of a quiet publish. ``labels="en"`` / ``"zh"``
    shows ``publish_type``, ``source`` and ``reason`` by their display names.

    Columns: [``account``], ``msgid``, [``title``], ``sent``, ``publish_type``,
    ``days_observed``, ``session``, ``followers``, ``platform_rate``, ``estimate``,
    ``open_rate``, ``source``, ``reason``.

    Examples
    --------
    >>> import pandas as pd
    >>> total = pd.DataFrame({          # getarticletotal: the six have no rate
    ...     "msgid": ["5_1", "5_2"],
    ...     "ref_date": pd.to_datetime(["2024-05-01"] * 2),
    ...     "stat_date": pd.to_datetime(["2024-05-01"] * 2),
    ...     "int_page_read_user": pd.array([300, 90], dtype="Int64"),
    ...     "int_page_from_session_read_user": pd.array([200, 50], dtype="Int64"),
    ... })
    >>> cumulate = pd.DataFrame({"ref_date": pd.to_datetime(["2024-04-30"]),
    ...                          "cumulate_user": pd.array([1000], dtype="Int64")})
    >>> open_rate(total, followers=cumulate, days=1)[["msgid", "open_rate", "source"]]
      msgid  open_rate    source
    0   5_1        0.2  estimate
    1   5_2       0.05  estimate
    >>> open_rate(total, days=1)[["msgid", "open_rate", "reason"]]
      msgid  open_rate        reason
    0   5_1       <NA>  no_followers
    1   5_2       <NA>  no_followers
    """
    lang = check_labels(labels)
    out = articles_as_of(details, days=days)
    if reads is not None:
        out["session"] = out["session"].fillna(_session_from_reads(reads, out, days))
    followed = (
        _followers_before(followers, out)
        if followers is not None
        else pd.Series(pd.NA, index=out.index, dtype="Int64")
    )
    quiet = out["publish_type"].eq(1).fillna(False).to_numpy(dtype=bool)
    young = ~out["reached"].to_numpy(dtype=bool)
    usable = ~quiet & ~young
    platform = out["delivery_rate"].astype("Float64").where(usable)
    base = followed.astype("Float64")
    estimate = (out["session"].astype("Float64") / base.where(base > 0)).where(usable)
    rate = platform.fillna(estimate)
    source = pd.Series(pd.NA, index=out.index, dtype="string")
    source[estimate.notna().to_numpy(dtype=bool)] = "estimate"
    source[platform.notna().to_numpy(dtype=bool)] = "platform"
    reason = pd.Series(pd.NA, index=out.index, dtype="string")
    missing = rate.isna().to_numpy(dtype=bool)
    reason[missing] = np.where(followed.isna().to_numpy(dtype=bool), "no_followers", "no_session")[
        missing
    ]
    reason[young] = "too_young"
    reason[quiet] = "quiet"
    keep = ["account", "msgid", "title", "sent", "publish_type", "days_observed"]
    result = out[[c for c in keep if c in out.columns]].copy()
    result["session"] = out["session"]
    result["followers"] = followed
    result["platform_rate"] = platform
    result["estimate"] = estimate
    result["open_rate"] = rate
    result["source"] = source
    result["reason"] = reason
    for codes in (PUBLISH_TYPES, OPEN_RATE_SOURCES, OPEN_RATE_REASONS):
        _display(result, codes, lang)
    return result


def _session_from_reads(reads: pd.DataFrame, out: pd.DataFrame, days: int) -> pd.Series:
    """getarticleread's messages readers per article over its first ``days`` days."""
    require(
        reads,
        ("msgid", "ref_date", "channel", "read_user"),
        "open_rate",
        "reads= a getarticleread frame",
    )
    on = [k for k in ("account",) if k in out.columns and k in reads.columns]
    session = reads[reads["channel"].astype("string").eq("session").fillna(False)]
    joined = session[[*on, "msgid", "ref_date", "read_user"]].merge(
        out[[*on, "msgid", "sent"]], on=[*on, "msgid"]
    )
    age = (joined["ref_date"] - joined["sent"]).dt.days
    joined = joined[(age >= 0) & (age < days)]
    summed = joined.groupby([*on, "msgid"])["read_user"].sum()
    index = pd.MultiIndex.from_frame(out[[*on, "msgid"]]) if on else pd.Index(out["msgid"])
    return pd.Series(summed.reindex(index).to_numpy(), index=out.index).astype("Int64")


def conversion(
    details: pd.DataFrame,
    *,
    followers: pd.DataFrame | None = None,
    labels: Labels = None,
) -> pd.DataFrame:
    """Per article: followers gained per 1,000 readers, beside the account's growth then.

    From getarticletotaldetail, as of each article's last day in the frame (at most its
    30th): ``readers`` (``read_user``), ``subscribed`` (``read_subscribe_user``,
    阅读后关注: people who followed the account after reading it) and ``per_1000``
    (``subscribed`` per 1,000 ``readers``; NA without readers). Beside it, over the
    same days (publish day to the last day observed, Beijing): the account's
    ``net_followers`` (follows - unfollows) and, from getusersummary, ``new_followers``;
    ``followers=`` is getusersummary (summed over its sources, NA unless every day is
    in the frame) or getusercumulate (the level on the last day minus the day before
    publishing, NA if either is missing). Without ``followers=`` those are NA.

    What it cannot say: articles published on overlapping days share the account's
    growth (it is not theirs to divide), and a follower won through a share of the
    article who read it days later counts only if the platform tied them to the
    article. The six have no ``read_subscribe_user``. ``labels="en"`` / ``"zh"``
    shows ``publish_type`` by its display name.

    Examples
    --------
    >>> import pandas as pd
    >>> details = pd.DataFrame({
    ...     "msgid": ["9_1", "9_1"],
    ...     "ref_date": pd.to_datetime(["2025-11-03"] * 2),
    ...     "stat_date": pd.to_datetime(["2025-11-03", "2025-11-04"]),
    ...     "channel": ["all", "all"],
    ...     "read_user": pd.array([1500, 2000], dtype="Int64"),
    ...     "read_subscribe_user": pd.array([6, 9], dtype="Int64"),
    ... })
    >>> summary = pd.DataFrame({
    ...     "ref_date": pd.to_datetime(["2025-11-03", "2025-11-04"]),
    ...     "new_user": pd.array([20, 30], dtype="Int64"),
    ...     "cancel_user": pd.array([5, 5], dtype="Int64"),
    ... })
    >>> conversion(details, followers=summary)[["msgid", "per_1000", "net_followers"]]
      msgid  per_1000  net_followers
    0   9_1       4.5             40
    """
    lang = check_labels(labels)
    require(details, ("read_subscribe_user",), "conversion", "a getarticletotaldetail frame")
    out = articles_as_of(details, days=30)
    keep = ["account", "msgid", "title", "sent", "publish_type", "days_observed"]
    result = out[[c for c in keep if c in out.columns]].copy()
    result["readers"] = out["readers"]
    result["subscribed"] = out["subscribed"]
    readers = out["readers"].astype("Float64")
    result["per_1000"] = out["subscribed"].astype("Float64") * 1000 / readers.where(readers > 0)
    net, new = _growth(followers, result)
    result["new_followers"] = new
    result["net_followers"] = net
    _display(result, PUBLISH_TYPES, lang)
    return result


def _growth(followers: pd.DataFrame | None, articles: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The account's (net, new) followers over each article's days, NA where not held."""
    none = pd.Series(pd.NA, index=articles.index, dtype="Int64")
    if followers is None:
        return none, none.copy()
    expected = "followers= a getusersummary or getusercumulate frame"
    require(followers, ("ref_date",), "conversion", expected)
    on = [k for k in ("account",) if k in articles.columns and k in followers.columns]
    start = articles["sent"]
    end = start + pd.to_timedelta(articles["days_observed"].astype("int64") - 1, unit="D")
    if {"new_user", "cancel_user"} <= set(followers.columns):
        days = followers.groupby([*on, "ref_date"])[["new_user", "cancel_user"]].sum()
        days = days.astype("Int64").reset_index()
        net, new = [], []
        for i in range(len(articles)):
            mask = days["ref_date"].between(start.iloc[i], end.iloc[i])
            for k in on:
                mask &= days[k].eq(articles[k].iloc[i])
            span = days[mask.to_numpy(dtype=bool)]
            whole = len(span) == int(articles["days_observed"].iloc[i])
            new.append(int(span["new_user"].sum()) if whole else pd.NA)
            net.append(int(span["new_user"].sum() - span["cancel_user"].sum()) if whole else pd.NA)
        return pd.Series(net, index=articles.index, dtype="Int64"), pd.Series(
            new, index=articles.index, dtype="Int64"
        )
    if "cumulate_user" in followers.columns:
        level = followers[[*on, "ref_date", "cumulate_user"]].drop_duplicates([*on, "ref_date"])

        def at(day: pd.Series) -> pd.Series:
            hit = articles[on].assign(ref_date=day).merge(level, on=[*on, "ref_date"], how="left")
            return pd.Series(hit["cumulate_user"].to_numpy(), index=articles.index).astype("Int64")

        return at(end) - at(start - pd.Timedelta(days=1)), none
    raise FrameShapeError(
        "conversion needs followers= a getusersummary frame (new_user, cancel_user) or a "
        "getusercumulate frame (cumulate_user); got columns "
        + ", ".join(map(str, followers.columns[:8]))
    )


#: The two channels that reach beyond the account's followers.
_BEYOND = ("kanyikan", "souyisou")


def recommendation_share(
    frame: pd.DataFrame,
    *,
    by: Literal["day", "article"] = "day",
    labels: Labels = None,
) -> pd.DataFrame:
    """The share of readers from 推荐 (``kanyikan``) and 搜一搜 (``souyisou``).

    The two channels that bring readers who need not follow the account. Each share is
    the channel's readers (people) over all readers (the ``all`` row, people):
    channels are not additive (one person reading from two channels counts in both),
    so the two shares may not be summed into "readers from outside". A channel without
    a row had no readers (the platform leaves such rows out): share 0; no ``all`` row or
    no readers: NA.

    ``by="day"``: one row per day (``ref_date``) from getbizsummary or getuserread (the
    six's ``int_page_read_user``), or getarticleread summed over its articles.
    ``by="article"``: one row per ``msgid`` from getarticleread (its days summed: a
    person reading on two days counts twice, in both parts of the share alike),
    getarticletotaldetail (as of each article's last day in the frame) or
    getarticletotal (its ``int_page_from_kanyikan_read_user``..., last day).
    Columns: ``readers``, ``kanyikan``, ``souyisou``; ``labels="en"`` / ``"zh"``
    names the two share columns as the plots do (Top Stories / 推荐, Search / 搜一搜).
    ``account`` leads the index when the frame holds several accounts.

    What it cannot say: whether those readers then followed (see :func:`conversion`).

    Examples
    --------
    >>> import pandas as pd
    >>> biz = pd.DataFrame({
    ...     "ref_date": pd.to_datetime(["2025-11-01"] * 3 + ["2025-11-02"] * 2),
    ...     "channel": ["all", "kanyikan", "souyisou", "all", "session"],
    ...     "read_user": pd.array([200, 50, 10, 100, 80], dtype="Int64"),
    ... })
    >>> recommendation_share(biz)
                readers  kanyikan  souyisou
    ref_date
    2025-11-01      200      0.25      0.05
    2025-11-02      100       0.0       0.0
    >>> list(recommendation_share(biz, labels="zh").columns)
    ['readers', '推荐', '搜一搜']
    """
    lang = check_labels(labels)
    if by not in ("day", "article"):
        raise ConfigurationError(f"by={by!r} is not allowed; use 'day' or 'article'")
    expected = (
        "a getbizsummary, getuserread or getarticleread frame"
        if by == "day"
        else "a getarticleread, getarticletotaldetail or getarticletotal frame"
    )
    require(frame, ("ref_date",), "recommendation_share", expected)
    if _TOTAL_SESSION in frame.columns or "int_page_from_kanyikan_read_user" in frame.columns:
        wide = _total_channels(frame, by, expected)
    else:
        wide = _channel_rows(frame, by, expected)
    readers = wide["all"].astype("Float64")
    out = pd.DataFrame({"readers": wide["all"].astype("Int64")}, index=wide.index)
    for channel in _BEYOND:
        counted = wide[channel] if channel in wide.columns else pd.Series(0, index=wide.index)
        out[channel] = counted.astype("Float64").fillna(0) / readers.where(readers > 0)
    if lang is not None:
        out.columns = ["readers", *CHANNEL_CODES.display_names(_BEYOND, lang)]
    return out


def _channel_rows(frame: pd.DataFrame, by: str, expected: str) -> pd.DataFrame:
    """Readers per (day or article) and channel from a frame with channel rows."""
    require(frame, ("channel",), "recommendation_share", expected)
    column = "read_user" if "read_user" in frame.columns else "int_page_read_user"
    require(frame, (column,), "recommendation_share", expected)
    accounts = group_keys(frame)
    channel = frame["channel"].astype("string")
    if by == "day":
        if "stat_date" in frame.columns:
            raise FrameShapeError(
                f"recommendation_share(by='day') needs {expected}; a frame of running "
                "totals per article (getarticletotaldetail) answers by='article'"
            )
        index = [*accounts, "ref_date"]
        rows = frame.assign(_channel=channel)
    else:
        if "msgid" not in frame.columns:
            raise FrameShapeError(
                f"recommendation_share(by='article') needs {expected}; this frame has no msgid"
            )
        index = [*accounts, "msgid"]
        rows = frame.assign(_channel=channel)
        if "stat_date" in frame.columns:  # running totals: each article's last stat day
            last = rows.groupby([*accounts, "msgid"])["stat_date"].transform("max")
            rows = rows[rows["stat_date"].eq(last)]
    summed = rows.groupby([*index, "_channel"])[column].sum(min_count=1)
    wide = summed.unstack("_channel")
    if "all" not in wide.columns:
        wide["all"] = pd.NA
    wide.columns.name = None
    return wide


def _total_channels(frame: pd.DataFrame, by: str, expected: str) -> pd.DataFrame:
    """getarticletotal's per-channel fields as the same wide shape (by article)."""
    if by != "article":
        raise FrameShapeError(
            f"recommendation_share(by='day') needs {expected}; getarticletotal's running "
            "totals answer by='article'"
        )
    require(frame, ("msgid", "stat_date", "int_page_read_user"), "recommendation_share", expected)
    accounts = group_keys(frame)
    rows = frame.sort_values("stat_date").groupby([*accounts, "msgid"]).tail(1)
    wide = pd.DataFrame(
        index=pd.MultiIndex.from_frame(rows[[*accounts, "msgid"]])
        if accounts
        else pd.Index(rows["msgid"])
    )
    wide["all"] = rows["int_page_read_user"].to_numpy()
    for channel in _BEYOND:
        field = f"int_page_from_{channel}_read_user"
        if field in rows.columns:
            wide[channel] = rows[field].to_numpy()
    return wide.sort_index()
