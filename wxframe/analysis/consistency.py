"""Whether the numbers agree with each other: the identities between endpoints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from wxframe.analysis.common import is_all_row, require
from wxframe.analysis.daily import DAILY_SUFFIX, to_daily
from wxframe.codes import DisplayName, Lang, check_lang
from wxframe.dates import DateLike, as_date
from wxframe.errors import ConfigurationError

if TYPE_CHECKING:
    from wxframe.store import Store

__all__ = ["check_consistency"]

# ------------------------------------------------------------------ consistency
_STATUS_ORDER = ("mismatch", "missing", "partial", "expected", "ok")
#: Why a row has its status, in English and Chinese (``check_consistency(lang=)``).
_CAUSES = {
    "expected": DisplayName(
        "a platform rule explains it: articles under getarticlesummary's threshold are not "
        "listed; people are counted once per account (or per article's life)",
        "平台规则可以解释：低于 getarticlesummary 阈值的文章不在其中列出；人数按账号"
        "（或按文章的周期）去重计算",
    ),
    "partial": DisplayName(
        "a partial day: fetched before 08:00 of the next day (the next sync refreshes it)",
        "数据未完成：在次日 08:00 之前获取（下次同步会更新）",
    ),
    "missing": DisplayName(
        "a missing window: the day is in one frame and not in the other",
        "缺少数据：这一天只在一方有数据",
    ),
    "mismatch": DisplayName(
        "unexplained: the numbers should agree",
        "无法解释：这些数字本应一致",
    ),
}

_THRESHOLD = DisplayName(
    "articles under getarticlesummary's threshold are not listed in it",
    "低于 getarticlesummary 阈值的文章不在其中列出",
)
#: Why an "expected" gap is expected, check by check.
_EXPECTED = {
    "summary_vs_account": _THRESHOLD,
    "total_vs_summary": _THRESHOLD,
    "biz_vs_articles": DisplayName(
        "a reader of several articles is one reader of the account: the articles' readers "
        "add up to more than the account's",
        "读了几篇文章的读者只是账号的一位读者：各篇文章的读者之和多于账号的读者",
    ),
    "detail_vs_daily_reads": DisplayName(
        "a reader who comes back is not a new reader: the article's new readers of the day "
        "are fewer than its readers of the day",
        "回访的读者不是新读者：文章当天的新增读者少于当天的读者",
    ),
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
    biz: pd.DataFrame | None = None,
    article_read: pd.DataFrame | None = None,
    detail: pd.DataFrame | None = None,
    followers: pd.DataFrame | None = None,
    cumulate: pd.DataFrame | None = None,
    partial_days: Iterable[DateLike] = (),
    lang: Lang = "en",
) -> pd.DataFrame:
    """A data-quality report: the numbers that must agree, day by day, and why they don't.

    Give the frames or a :class:`~wxframe.Store` to read them from (with ``account``,
    ``begin``, ``end``); with a store, the days fetched before they were complete are
    known from its manifest, otherwise pass them as ``partial_days``. The frames: the
    offline six's ``summary`` (getarticlesummary), ``read`` (getuserread), ``read_hour``,
    ``share``, ``share_hour``, ``total`` (getarticletotal); the current family's ``biz``
    (getbizsummary), ``article_read`` (getarticleread), ``detail``
    (getarticletotaldetail); the followers' ``followers`` (getusersummary) and
    ``cumulate`` (getusercumulate). Checks run where both sides are given:

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
    ``biz_vs_articles``          getbizsummary's readers <= the sum of getarticleread's
                                 readers over articles (one person reading two
                                 articles is one reader of the account)
    ``detail_vs_daily_reads``    getarticletotaldetail's new readers per day <=
                                 getarticleread's readers of that article that day
                                 (equal on day 0; later, returning readers are not new)
    ``cumulate_vs_summary``      the day's change of getusercumulate == getusersummary's
                                 follows minus unfollows
    ============================ ===============================================

    One row per check, day and key, with ``expected`` (the reference side),
    ``observed``, ``gap`` (= expected - observed), ``status`` (``ok``, ``expected`` (a
    platform rule explains it), ``partial``, ``missing``, ``mismatch``) and ``cause`` (in
    ``lang``: ``"en"`` or ``"zh"``).

    Examples
    --------
    >>> from wxframe.simulator import SimulatedAccount, records
    >>> import wxframe
    >>> from datetime import date
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> days = date(2024, 5, 1), date(2024, 5, 7)
    >>> report = check_consistency(
    ...     read=wxframe.to_frame("getuserread", records(acct, "getuserread", *days)),
    ...     share=wxframe.to_frame("getusershare", records(acct, "getusershare", *days)))
    >>> report["status"].astype(str).value_counts().to_dict()
    {'ok': 7}
    >>> read = wxframe.to_frame("getuserread", records(acct, "getuserread", *days))
    >>> summary = wxframe.to_frame("getarticlesummary", records(acct, "getarticlesummary", *days))
    >>> check_consistency(read=read, summary=summary, lang="zh")["cause"].dropna().iloc[0]
    '低于 getarticlesummary 阈值的文章不在其中列出'
    """
    if check_lang(lang, "lang") is None:
        raise ConfigurationError("lang=None is not allowed; use 'en' or 'zh'")
    if store is not None:
        from wxframe.store import Store

        if not isinstance(store, Store):
            raise ConfigurationError(
                f"store= takes a wxframe.Store, got {type(store).__name__}; pass frames by "
                "name instead: check_consistency(biz=..., article_read=...)"
            )
    partial = {as_date(d, "partial_days") for d in partial_days}
    given: dict[str, pd.DataFrame | None] = {
        "summary": summary, "read": read, "read_hour": read_hour,
        "share": share, "share_hour": share_hour, "total": total, "biz": biz,
        "article_read": article_read, "detail": detail, "followers": followers,
        "cumulate": cumulate,
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
            + ", ".join(given)
        )
    needs = {
        "summary": ("ref_date", "msgid", "int_page_read_count"),
        "read": ("ref_date", "channel", "int_page_read_count", "share_count"),
        "read_hour": ("ref_date", "ref_hour", "channel", "int_page_read_count", "share_count"),
        "share": ("ref_date", "scene", "share_count"),
        "share_hour": ("ref_date", "ref_hour", "scene", "share_count"),
        "total": ("msgid", "stat_date", "int_page_read_count"),
        "biz": ("ref_date", "channel", "read_user"),
        "article_read": ("ref_date", "msgid", "channel", "read_user"),
        "detail": ("msgid", "stat_date", "channel", "read_user"),
        "followers": ("ref_date", "new_user", "cancel_user"),
        "cumulate": ("ref_date", "cumulate_user"),
    }
    for name, frame in given.items():
        if frame is not None:
            require(frame, needs[name], "check_consistency", f"{name}= with {needs[name]}")
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
    if given["biz"] is not None and given["article_read"] is not None:
        parts.append(_biz_vs_articles(given["biz"], given["article_read"]))
    if given["detail"] is not None and given["article_read"] is not None:
        parts.append(_detail_vs_daily(given["detail"], given["article_read"]))
    if given["cumulate"] is not None and given["followers"] is not None:
        parts.append(_cumulate_vs_summary(given["cumulate"], given["followers"]))
    report = pd.concat(parts, ignore_index=True) if parts else _empty_report()
    if partial:
        days = report["ref_date"].dt.date
        report.loc[days.isin(partial) & report["status"].ne("ok"), "status"] = "partial"
    causes = {status: getattr(why, lang) for status, why in _CAUSES.items()}
    report["cause"] = report["status"].map(causes).astype("string")
    for check, why in _EXPECTED.items():
        rows = report["check"].eq(check) & report["status"].eq("expected")
        report.loc[rows, "cause"] = getattr(why, lang)
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
    check: str,
    field: str,
    expected: pd.Series,
    observed: pd.Series,
    *,
    at_most: bool = False,
    people: bool = False,
) -> pd.DataFrame:
    """Rows of a check from two series on the same (ref_date[, key]) index.

    ``at_most``: observed may fall short of expected by what a threshold explains;
    ``people``: expected (people counted once) may be below observed (counted per part).
    """
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
    if people:
        status = np.where(gap.fillna(0).lt(0).to_numpy(), "expected", status)
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
    return read[is_all_row(read)]


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
    daily = daily[~daily["spans_gap"]].rename(columns={field + DAILY_SUFFIX: field})
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


def _biz_vs_articles(biz: pd.DataFrame, article_read: pd.DataFrame) -> pd.DataFrame:
    field = "read_user"
    account = _all_rows(biz).groupby("ref_date")[field].sum()
    articles = _all_rows(article_read).groupby("ref_date")[field].sum()
    # Only the span both frames cover: within it, a day one of them lacks is missing.
    low = max(account.index.min(), articles.index.min())
    high = min(account.index.max(), articles.index.max())
    account, articles = account.loc[low:high], articles.loc[low:high]
    return _compare("biz_vs_articles", field, account, articles, people=True)


def _detail_vs_daily(detail: pd.DataFrame, article_read: pd.DataFrame) -> pd.DataFrame:
    field = "read_user"
    wanted = ("account", "msgid", "stat_date", "ref_date", "day", "channel", field)
    everyone = _all_rows(detail)
    daily = to_daily(everyone[[c for c in everyone.columns if c in wanted]])
    daily = daily[~daily["spans_gap"]]
    new = daily.set_index(["stat_date", "msgid"])[field + DAILY_SUFFIX]
    new = new.rename_axis(["ref_date", "key"])
    read = _all_rows(article_read).set_index(["ref_date", "msgid"])[field]
    read = read.rename_axis(["ref_date", "key"])
    # Only the article-days both cover: getarticleread's days, the detail's articles.
    new = new[new.index.get_level_values(0).isin(set(read.index.get_level_values(0)))]
    read = read[read.index.get_level_values(1).isin(set(new.index.get_level_values(1)))]
    span = daily.groupby("msgid")["stat_date"].agg(["min", "max"])
    when = read.index.get_level_values(0)
    first = span["min"].reindex(read.index.get_level_values(1)).to_numpy()
    last = span["max"].reindex(read.index.get_level_values(1)).to_numpy()
    read = read[(when >= first) & (when <= last)]
    frame = _compare("detail_vs_daily_reads", field, new, read, people=True)
    # No new readers and no getarticleread row: nobody read it that day, as it should be.
    quiet = frame["observed"].isna() & frame["expected"].eq(0).fillna(False)
    frame.loc[quiet.to_numpy(dtype=bool), "status"] = "ok"
    return frame


def _cumulate_vs_summary(cumulate: pd.DataFrame, followers: pd.DataFrame) -> pd.DataFrame:
    level = cumulate.groupby("ref_date")["cumulate_user"].sum().sort_index()
    held = level.index.isin(level.index + pd.Timedelta(days=1))
    change = level.diff()[held]
    by_day = followers.groupby("ref_date")[["new_user", "cancel_user"]].sum()
    net = (by_day["new_user"] - by_day["cancel_user"]).reindex(change.index)
    return _compare("cumulate_vs_summary", "cumulate_user", change, net)


#: check_consistency's frame names and the endpoints they come from.
_FRAME_ENDPOINTS = {
    "summary": "getarticlesummary", "read": "getuserread", "read_hour": "getuserreadhour",
    "share": "getusershare", "share_hour": "getusersharehour", "total": "getarticletotal",
    "biz": "getbizsummary", "article_read": "getarticleread",
    "detail": "getarticletotaldetail", "followers": "getusersummary",
    "cumulate": "getusercumulate",
}  # fmt: skip


def _from_store(
    store: Store,
    account: str | None,
    begin: DateLike | None,
    end: DateLike | None,
    names: Sequence[str],
) -> tuple[dict[str, pd.DataFrame | None], set[date]]:
    """The frames ``names`` read from ``store``, and the days fetched before complete."""
    account = store.pick_account(account)
    frames = {name: store.read(_FRAME_ENDPOINTS[name], begin, end, account=account)
              for name in names}  # fmt: skip
    days = store.days(account=account)
    stale = set(days.loc[~days["complete"], "ref_date"].dt.date)
    # An endpoint the store does not hold is not compared (rather than "missing" daily).
    return {name: (df if len(df) else None) for name, df in frames.items()}, stale
