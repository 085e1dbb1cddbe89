"""The six original endpoints (switched off by the platform in 2026), from the account model.

Each producer answers one request window from the article-day facts of
:class:`~wxframe.simulator._account.SimulatedAccount`, as the platform did: the
threshold on getarticlesummary, running totals for 7 days in getarticletotal, hourly
rows that sum to the day's, channels and share scenes split from the account's day.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from wxframe.simulator._account import (
    ALL_CHANNELS,
    CH_FRIENDS,
    CH_HISTORY,
    CH_KANYIKAN,
    CH_MOMENTS,
    CH_OTHER,
    CH_SESSION,
    CH_SOUYISOU,
    CHANNEL_CODES,
    FEED_SHARE_ORIGINS,
    SHARE_SCENES,
    TOTAL_STAT_DAYS,
    USER_SOURCE_SINCE,
    Article,
    ArticleDays,
    SimulatedAccount,
    days_between,
    passes_threshold,
    seeded_rng,
)

__all__ = [
    "article_summary",
    "article_total",
    "user_read",
    "user_read_day",
    "user_read_hour",
    "user_share",
    "user_share_hour",
]

# Article-day field names, in the platform's spelling.
_FIELDS_SUMMARY = (
    "int_page_read_user",
    "int_page_read_count",
    "ori_page_read_user",
    "ori_page_read_count",
    "share_user",
    "share_count",
    "add_to_fav_user",
    "add_to_fav_count",
)
# getarticletotal detail names of the article's per-channel reads, by channel index.
_DETAIL_CHANNEL_NAMES = {
    CH_SESSION: "session",
    CH_HISTORY: "hist_msg",
    CH_MOMENTS: "feed",
    CH_FRIENDS: "friends",
    CH_OTHER: "other",
    CH_KANYIKAN: "kanyikan",
    CH_SOUYISOU: "souyisou",
}
# Readers come in the morning commute, at lunch and in the evening.
_READ_PROFILE = np.array(
    [1.2, 0.6, 0.3, 0.2, 0.2, 0.4, 1.5, 3.8, 5.2, 4.0, 3.1, 3.0,
     4.2, 3.6, 2.6, 2.5, 2.6, 3.0, 3.6, 4.4, 6.0, 6.6, 5.5, 3.0]
)  # fmt: skip
_READ_PROFILE = _READ_PROFILE / _READ_PROFILE.sum()
# For an hourly split: (users field, counts field) pairs; users are split first and
# counts = users + a split of the remainder, so every hour has users <= counts.
_PAIRS = (("int_page_read_user", "int_page_read_count"), ("share_user", "share_count"))


def article_summary(acct: SimulatedAccount, begin: date, end: date) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for day in days_between(begin, end):
        if not acct.available(day):
            continue
        for article, k, numbers in acct.articles_read_on(day):
            values = numbers.summary(k)
            if article.publish_type == 0 and passes_threshold(values):
                record: dict[str, object] = {
                    "ref_date": day.isoformat(),
                    "msgid": article.msgid,
                    "title": article.title,
                }
                out.append({**record, **values})
    return out


def article_total(acct: SimulatedAccount, begin: date, end: date) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for day in days_between(begin, end):
        if not acct.available(day):
            continue
        for article in acct.sends(day):
            details = _details(acct, article)
            if not details:
                continue
            record: dict[str, object] = {
                "ref_date": day.isoformat(),
                "msgid": article.msgid,
                "title": article.title,
                "details": details,
            }
            if day.year >= 2022:  # newer responses carry the article's link
                record["url"] = article.url
            out.append(record)
    return out


def _details(acct: SimulatedAccount, article: Article) -> list[dict[str, int | str]]:
    details: list[dict[str, int | str]] = []
    cum: dict[str, int] = {}
    for k in range(TOTAL_STAT_DAYS):
        stat = article.sent + timedelta(days=k)
        numbers = acct.day_numbers(article, stat)
        if numbers is None:
            break
        # Users de-duplicate across days: each day adds 85-100% of its readers.
        r = seeded_rng(acct.seed, "dedup", article.msgid, k, acct.completeness(stat))
        daily = _detail_daily(numbers, k, stat >= USER_SOURCE_SINCE)
        for name, value in daily.items():
            if k and name.endswith("_user"):
                value = int(r.binomial(value, 0.9))
            cum[name] = cum.get(name, 0) + value
        entry: dict[str, int | str] = {
            "stat_date": stat.isoformat(),
            "target_user": article.target_user,
        }
        entry.update(cum)
        details.append(entry)
    return details


def user_read(acct: SimulatedAccount, begin: date, end: date) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for day in days_between(begin, end):
        if acct.available(day):
            out.extend(user_read_day(acct, day))
    return out


def user_read_day(acct: SimulatedAccount, day: date) -> list[dict[str, object]]:
    agg = acct.aggregate(day)
    r = seeded_rng(acct.seed, "user_read", day.toordinal(), acct.completeness(day))
    all_row: dict[str, object] = {
        "ref_date": day.isoformat(),
        "user_source": ALL_CHANNELS,
        "int_page_read_user": int(r.binomial(agg["int_user"], 0.92)),
        "int_page_read_count": agg["int_count"],
        "ori_page_read_user": int(r.binomial(agg["ori_user"], 0.95)),
        "ori_page_read_count": agg["ori_count"],
        "share_user": int(r.binomial(agg["share_user"], 0.95)),
        "share_count": agg["share_count"],
        "add_to_fav_user": int(r.binomial(agg["fav_user"], 0.97)),
        "add_to_fav_count": agg["fav_count"],
    }
    if day < USER_SOURCE_SINCE:
        del all_row["user_source"]
        return [all_row]
    rows = [all_row]
    ch_user = r.binomial(agg["ch_user"], 0.95)
    ch_share_user = r.binomial(agg["ch_share_user"], 0.95)
    for i, code in enumerate(CHANNEL_CODES):
        if agg["ch_count"][i] == 0 and agg["ch_share_count"][i] == 0:
            continue
        # Channel rows carry no ori_page_* / add_to_fav_*: the platform gives those
        # only on the all-channel row.
        rows.append(
            {
                "ref_date": day.isoformat(),
                "user_source": code,
                "int_page_read_user": int(ch_user[i]),
                "int_page_read_count": int(agg["ch_count"][i]),
                "share_user": int(ch_share_user[i]),
                "share_count": int(agg["ch_share_count"][i]),
            }
        )
    return rows


def user_read_hour(acct: SimulatedAccount, begin: date, end: date) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for day in days_between(begin, end):
        if not acct.available(day):
            continue
        daily = user_read_day(acct, day)
        r = seeded_rng(acct.seed, "read_hour", day.toordinal(), acct.completeness(day))
        profile = r.dirichlet(400 * _READ_PROFILE)
        split = [_split_row(row, profile, r) for row in daily]
        for h in range(24):
            for row, hours in zip(daily, split, strict=True):
                values = {name: int(v[h]) for name, v in hours.items()}
                if not any(values.values()):
                    continue  # hours without activity are not listed
                rec: dict[str, object] = {"ref_date": day.isoformat(), "ref_hour": h * 100}
                if "user_source" in row:
                    rec["user_source"] = row["user_source"]
                # The hourly endpoint sends the original-page and favourite fields as 0
                # on every row (the seed's example): they are not measured per hour.
                rec |= {name: values.get(name, 0) for name in _FIELDS_SUMMARY}
                out.append(rec)
    return out


def user_share(acct: SimulatedAccount, begin: date, end: date) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for day in days_between(begin, end):
        if acct.available(day):
            out.extend(_user_share_day(acct, day))
    return out


def _user_share_day(acct: SimulatedAccount, day: date) -> list[dict[str, object]]:
    agg = acct.aggregate(day)
    r = seeded_rng(acct.seed, "user_share", day.toordinal(), acct.completeness(day))
    users = r.binomial(agg["scene_user"], 0.95)
    return [
        {
            "ref_date": day.isoformat(),
            "share_scene": scene,
            "share_count": int(agg["scene_count"][i]),
            "share_user": int(users[i]),
        }
        for i, scene in enumerate(SHARE_SCENES)
        if agg["scene_count"][i] > 0
    ]


def user_share_hour(acct: SimulatedAccount, begin: date, end: date) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for day in days_between(begin, end):
        if not acct.available(day):
            continue
        daily = _user_share_day(acct, day)
        r = seeded_rng(acct.seed, "share_hour", day.toordinal(), acct.completeness(day))
        profile = r.dirichlet(400 * _READ_PROFILE)
        split = [_split_row(row, profile, r) for row in daily]
        for h in range(24):
            for row, hours in zip(daily, split, strict=True):
                if not hours["share_count"][h]:
                    continue
                out.append(
                    {
                        "ref_date": day.isoformat(),
                        "ref_hour": h * 100,
                        "share_scene": row["share_scene"],
                        "share_count": int(hours["share_count"][h]),
                        "share_user": int(hours["share_user"][h]),
                    }
                )
    return out


def _split_row(row: dict[str, object], profile: np.ndarray, r: np.random.Generator) -> dict:
    hours: dict[str, np.ndarray] = {}
    for user_name, count_name in _PAIRS:
        if count_name not in row:
            continue
        users, count = int(row[user_name]), int(row[count_name])  # type: ignore[call-overload]
        u = r.multinomial(users, profile)
        extra = r.multinomial(max(count - users, 0), profile)
        hours[user_name] = u
        hours[count_name] = u + extra
    return hours


def _detail_daily(a: ArticleDays, k: int, with_new_channels: bool) -> dict[str, int]:
    """One day's increments of every getarticletotal detail counter."""
    daily = {
        "int_page_read_user": int(a.int_user[k]),
        "int_page_read_count": int(a.ch_count[k].sum()),
        "ori_page_read_user": int(a.ori_user[k]),
        "ori_page_read_count": int(a.ori_count[k]),
        "share_user": int(a.share_user[k]),
        "share_count": int(a.share_count[k]),
        "add_to_fav_user": int(a.fav_user[k]),
        "add_to_fav_count": int(a.fav_count[k]),
    }
    for i, name in _DETAIL_CHANNEL_NAMES.items():
        if name in ("kanyikan", "souyisou") and not with_new_channels:
            continue
        daily[f"int_page_from_{name}_read_user"] = int(a.ch_user[k, i])
        daily[f"int_page_from_{name}_read_count"] = int(a.ch_count[k, i])
    for i, origin in enumerate(FEED_SHARE_ORIGINS):
        daily[f"feed_share_from_{origin}_user"] = int(a.feed_share_user[k, i])
        daily[f"feed_share_from_{origin}_cnt"] = int(a.feed_share_count[k, i])
    return daily
