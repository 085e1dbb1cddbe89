"""The current endpoint family and the follower endpoints, from the same account model.

getarticleread, getarticleshare, getbizsummary and getarticletotaldetail (data from
2025-11-01) and getusersummary / getusercumulate are computed from the article-day facts
the offline six come from, so the families agree the way the platform's plausibly do:

- getarticleread's 全部 entry for an article-day is that article's readers that day;
- getarticleshare is the article's sharers that day;
- getbizsummary's ``read_user`` is the account's readers that day (getuserread's
  all-channel ``int_page_read_user``), its scenes getuserread's channel rows;
- getarticletotaldetail's entries are running totals of the article's daily numbers
  for 30 days from publishing, capped at yesterday (people counts de-duplicated across
  days: monotone, at most the sum of the daily ones);
- ``cumulate_user(d) - cumulate_user(d - 1)`` is the sum of ``new_user - cancel_user``
  over day ``d``'s follower channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from wxframe.simulator._account import (
    CHANNEL_CODES,
    CURRENT_SINCE,
    LIFETIME_DAYS,
    Article,
    SimulatedAccount,
    days_between,
    seeded_rng,
)
from wxframe.simulator._six import user_read_day

__all__ = [
    "DETAIL_DAYS",
    "SCENE_LABELS",
    "article_read",
    "article_share",
    "article_total_detail",
    "biz_summary",
    "user_cumulate",
    "user_summary",
]

#: The platform's scene label of each channel, in ``CHANNEL_CODES`` order.
SCENE_LABELS: tuple[str, ...] = (
    "公众号消息",
    "聊天会话",
    "朋友圈",
    "公众号主页",
    "其他",
    "推荐",
    "搜一搜",
)
ALL_LABEL = "全部"
CH_SESSION = CHANNEL_CODES.index(0)
#: getarticletotaldetail follows a publish day for this many stat days.
DETAIL_DAYS = 30
#: Since this change, getarticletotaldetail answers carry ``title`` and ``content_url``.
TITLES_SINCE = date(2026, 3, 3)
#: Tips readers give, in fen.
_TIPS = np.array([100, 200, 500, 666, 1000, 2000, 5000])
#: Follower channels and how many of the day's follows each brings.
_SOURCES_NOW = {
    0: 0.05,
    1: 0.24,
    17: 0.03,
    30: 0.3,
    57: 0.2,
    100: 0.05,
    149: 0.02,
    161: 0.05,
    200: 0.05,
    201: 0.01,
}
#: Before 2023-06 the platform also listed after-payment follows (51, counted under 0
#: since) and a few channels it has retired.
_SOURCES_BEFORE = _SOURCES_NOW | {43: 0.02, 51: 0.02, 75: 0.02, 78: 0.02}
_SOURCES_CHANGED = date(2023, 6, 1)


@dataclass(frozen=True, slots=True)
class _Engagement:
    """What the current family adds to an article's days: rows per day since publishing."""

    zaikan_user: np.ndarray
    like_user: np.ndarray
    comment_count: np.ndarray
    praise_money: np.ndarray
    read_subscribe_user: np.ndarray
    finish_rate: float
    active_minutes: float
    jump: np.ndarray  # where readers leave: positions 1..5, a distribution


def _engagement(acct: SimulatedAccount, article: Article) -> _Engagement:
    users = acct.article_days(article).int_user
    rng = seeded_rng(acct.seed, "engage", article.msgid, article.sent.toordinal())
    tips = rng.binomial(users, 0.0004)
    character = acct.character
    return _Engagement(
        zaikan_user=rng.binomial(users, rng.uniform(0.004, 0.03)),
        like_user=rng.binomial(users, rng.uniform(0.01, 0.05)),
        comment_count=rng.binomial(users, rng.uniform(0.0005, 0.006)),
        praise_money=np.array([int(rng.choice(_TIPS, size=n).sum()) for n in tips]),
        read_subscribe_user=rng.binomial(users, rng.uniform(*character.follow_after_read)),
        finish_rate=float(rng.uniform(*character.completion)),
        active_minutes=float(rng.uniform(0.5, 3.5)),
        jump=rng.dirichlet([3.0, 1.5, 1.0, 0.8, 0.6]),
    )


def _daily(acct: SimulatedAccount, article: Article, day: date) -> dict[str, object] | None:
    """The article's numbers on ``day`` as the platform knows them now (None: not yet)."""
    if not acct.available(day):
        return None
    k = (day - article.sent).days
    if k >= LIFETIME_DAYS:  # the article collects nothing more
        zero = {name: 0 for name in _DAILY}
        return zero | {"channels": np.zeros(len(CHANNEL_CODES), dtype=np.int64)}
    numbers = acct.day_numbers(article, day)
    if numbers is None:
        return None
    e = acct.derived(_engagement, article)
    frac = acct.completeness(day)

    def now(values: np.ndarray) -> int:
        return int(values[k]) if frac >= 1.0 else int(np.floor(values[k] * frac))

    return {
        "read_user": int(numbers.int_user[k]),
        "share_user": int(numbers.share_user[k]),
        "zaikan_user": now(e.zaikan_user),
        "like_user": now(e.like_user),
        "comment_count": now(e.comment_count),
        "collection_user": int(numbers.fav_user[k]),
        "praise_money": now(e.praise_money),
        "read_subscribe_user": now(e.read_subscribe_user),
        "channels": numbers.ch_user[k],
    }


_DAILY = (
    "read_user",
    "share_user",
    "zaikan_user",
    "like_user",
    "comment_count",
    "collection_user",
    "praise_money",
    "read_subscribe_user",
)


def _scenes(total: int, by_channel: np.ndarray) -> list[dict[str, object]]:
    """A ``read_user_source`` list: 全部 first, then each channel with readers."""
    return [{"user_count": int(total), "scene_desc": ALL_LABEL}] + [
        {"user_count": int(n), "scene_desc": SCENE_LABELS[i]}
        for i, n in enumerate(by_channel)
        if n > 0
    ]


def _current_days(acct: SimulatedAccount, begin: date, end: date) -> list[date]:
    return [d for d in days_between(max(begin, CURRENT_SINCE), end) if acct.available(d)]


# ------------------------------------------------------------------- article family
def article_read(acct: SimulatedAccount, begin: date, end: date) -> list[dict[str, object]]:
    """getarticleread: every article read on each day, whenever it was published."""
    out: list[dict[str, object]] = []
    for day in _current_days(acct, begin, end):
        for article, k, numbers in acct.articles_read_on(day):
            users = int(numbers.int_user[k])
            if users:
                detail = {
                    "read_user": users,
                    "read_user_source": _scenes(users, numbers.ch_user[k]),
                }
                out.append({"ref_date": day.isoformat(), "msgid": article.msgid, "detail": detail})
    return out


def article_share(acct: SimulatedAccount, begin: date, end: date) -> list[dict[str, object]]:
    """getarticleshare: every article shared on each day, with its sharers."""
    out: list[dict[str, object]] = []
    for day in _current_days(acct, begin, end):
        for article, k, numbers in acct.articles_read_on(day):
            if numbers.share_user[k]:
                out.append(
                    {
                        "ref_date": day.isoformat(),
                        "msgid": article.msgid,
                        "detail": {"share_user": int(numbers.share_user[k])},
                    }
                )
    return out


def biz_summary(acct: SimulatedAccount, begin: date, end: date) -> list[dict[str, object]]:
    """getbizsummary: the account's day, its readers per scene as getuserread's channels."""
    out: list[dict[str, object]] = []
    for day in _current_days(acct, begin, end):
        rows = user_read_day(acct, day)
        everyone = rows[0]
        by_channel = np.zeros(len(CHANNEL_CODES), dtype=np.int64)
        for row in rows[1:]:
            by_channel[CHANNEL_CODES.index(int(row["user_source"]))] = row["int_page_read_user"]  # type: ignore[call-overload]
        engaged = {"zaikan_user": 0, "like_user": 0, "comment_count": 0}
        for article, _, _ in acct.articles_read_on(day):
            daily = _daily(acct, article, day)
            if daily is not None:
                for name in engaged:
                    engaged[name] += int(daily[name])  # type: ignore[call-overload]
        r = seeded_rng(acct.seed, "biz", day.toordinal(), acct.completeness(day))
        # The account's people de-duplicate across articles; comments are events.
        readers = int(everyone["int_page_read_user"])  # type: ignore[call-overload]
        detail = {
            "read_user": readers,
            "read_user_source": _scenes(readers, by_channel),
            "share_user": everyone["share_user"],
            "zaikan_user": int(r.binomial(engaged["zaikan_user"], 0.96)),
            "like_user": int(r.binomial(engaged["like_user"], 0.96)),
            "comment_count": engaged["comment_count"],
            "collection_user": everyone["add_to_fav_user"],
            "redirect_ori_page_user": everyone["ori_page_read_user"],
            "send_page_count": len(acct.publishes(day)),
        }
        out.append({"ref_date": day.isoformat(), "detail": detail})
    return out


def article_total_detail(acct: SimulatedAccount, begin: date, end: date) -> list[dict[str, object]]:
    """getarticletotaldetail: each article published on each day, over its first 30 days."""
    out: list[dict[str, object]] = []
    for day in _current_days(acct, begin, end):
        for article in acct.publishes(day):
            entries = _detail_list(acct, article)
            if not entries:
                continue
            record: dict[str, object] = {
                "ref_date": day.isoformat(),
                "msgid": article.msgid,
                "publish_type": article.publish_type,
            }
            if acct.today >= TITLES_SINCE:
                record |= {"title": article.title, "content_url": article.url}
            out.append(record | {"detail_list": entries})
    return out


def _detail_list(acct: SimulatedAccount, article: Article) -> list[dict[str, object]]:
    e = acct.derived(_engagement, article)
    cum = dict.fromkeys(_DAILY, 0)
    cum_channels = np.zeros(len(CHANNEL_CODES), dtype=np.int64)
    entries: list[dict[str, object]] = []
    for k in range(DETAIL_DAYS):
        stat = article.sent + timedelta(days=k)
        daily = _daily(acct, article, stat)
        if daily is None:
            break
        # People de-duplicate across days: each day adds about 90% of its readers.
        r = seeded_rng(acct.seed, "dedup30", article.msgid, k, acct.completeness(stat))
        for name in _DAILY:
            value = int(daily[name])  # type: ignore[call-overload]
            if k and name.endswith("_user"):
                value = int(r.binomial(value, 0.9))
            cum[name] += value
        channels = np.asarray(daily["channels"])
        cum_channels += r.binomial(channels, 0.9) if k else channels
        delivered = (
            cum_channels[CH_SESSION] / article.target_user
            if article.publish_type == 0 and article.target_user
            else 0.0
        )
        entries.append(
            {
                "stat_date": stat.isoformat(),
                "read_user": cum["read_user"],
                "read_user_source": _scenes(cum["read_user"], cum_channels),
            }
            | {name: cum[name] for name in _DAILY if name != "read_user"}
            | {
                "read_delivery_rate": round(float(delivered), 7),
                "read_finish_rate": round(e.finish_rate * (1 - 0.004 * k), 7),
                "read_avg_activetime": round(e.active_minutes * (1 + 0.01 * k), 7),
                "read_jump_position": [
                    {"position": p, "rate": round(float(rate), 7)}
                    for p, rate in enumerate(e.jump, start=1)
                    if rate >= 0.01
                ],
            }
        )
    return entries


# ------------------------------------------------------------------------ followers
def _follower_days(acct: SimulatedAccount, begin: date, end: date) -> list[date]:
    # Yesterday's follower numbers appear only once the day is processed (08:00).
    first = max(begin, acct.start, date(2014, 12, 1))
    return [d for d in days_between(first, end) if acct.completeness(d) >= 1.0]


def user_summary(acct: SimulatedAccount, begin: date, end: date) -> list[dict[str, object]]:
    """getusersummary: follows and unfollows per follower channel; a quiet day is one zero row."""
    out: list[dict[str, object]] = []
    for day in _follower_days(acct, begin, end):
        net = acct.follower_total(day) - acct.follower_total(day - timedelta(days=1))
        r = seeded_rng(acct.seed, "follows", day.toordinal())
        cancel = int(r.poisson(max(acct.follower_total(day) * 0.00015, 0.5)))
        new = net + cancel
        if new < 0:
            cancel, new = cancel - new, 0
        weights = _SOURCES_NOW if day >= _SOURCES_CHANGED else _SOURCES_BEFORE
        codes = list(weights)
        p = np.array(list(weights.values()))
        news = r.multinomial(new, p / p.sum())
        cancels = r.multinomial(cancel, p / p.sum())
        rows = [
            {
                "ref_date": day.isoformat(),
                "user_source": code,
                "new_user": int(n),
                "cancel_user": int(c),
            }
            for code, n, c in zip(codes, news, cancels, strict=True)
            if n or c
        ]
        out += rows or [
            {"ref_date": day.isoformat(), "user_source": 0, "new_user": 0, "cancel_user": 0}
        ]
    return out


def user_cumulate(acct: SimulatedAccount, begin: date, end: date) -> list[dict[str, object]]:
    """getusercumulate: followers at the end of each day (with the undocumented user_source)."""
    return [
        {"ref_date": day.isoformat(), "user_source": 0, "cumulate_user": acct.follower_total(day)}
        for day in _follower_days(acct, begin, end)
    ]
