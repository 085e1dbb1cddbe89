"""The simulated Official Account: deterministic, realistic datacube numbers.

Everything is derived from ``(seed, date)`` keys, so a day's numbers do not depend on
which other days were asked for, nor in which order. The six endpoints are computed
from one set of article-day facts, which is what makes them agree with each other the
way the platform's do (see ``SimulatedAccount`` for the identities).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import TypeVar

import numpy as np

from wxframe.dates import beijing_now
from wxframe.simulator._character import Character, character_for_seed

__all__ = ["CHANNEL_CODES", "CURRENT_SINCE", "USER_SOURCE_SINCE", "Article", "SimulatedAccount"]

#: Channels of ``user_source`` the account produces, in the order the arrays use.
#: 0 session, 1 friends, 2 moments, 4 history page, 5 other, 6 kanyikan, 7 souyisou.
CHANNEL_CODES: tuple[int, ...] = (0, 1, 2, 4, 5, 6, 7)
ALL_CHANNELS = 99999999
#: The day from which getuserread/getuserreadhour carry ``user_source``.
USER_SOURCE_SINCE = date(2020, 2, 28)
SHARE_SCENES: tuple[int, ...] = (1, 2, 255)
#: Days after sending over which an article still collects reads (day 0 = send day).
LIFETIME_DAYS = 14
#: getarticletotal reports at most this many stat days.
TOTAL_STAT_DAYS = 7
#: From this day the account also publishes without a notification (publish_type 1),
#: and the platform's current endpoint family has data.
CURRENT_SINCE = date(2025, 11, 1)

T = TypeVar("T")
CH_SESSION, CH_FRIENDS, CH_MOMENTS, CH_HISTORY, CH_OTHER, CH_KANYIKAN, CH_SOUYISOU = range(7)

FEED_SHARE_ORIGINS = ("session", "feed", "other")

_TOPICS = (
    "人工智能",
    "新能源",
    "城市更新",
    "数据安全",
    "咖啡",
    "露营",
    "高铁",
    "芯片",
    "读书",
    "职场",
    "育儿",
    "健身",
    "理财",
    "租房",
    "旅行",
    "电影",
    "音乐节",
    "博物馆",
    "早餐",
    "老字号",
    "短视频",
    "跨境电商",
    "养老",
    "大学生",
    "程序员",
    "医保",
    "天气",
    "春运",
)
_TEMPLATES = (
    "{a}背后的{b}真相",
    "一文读懂{a}",
    "{a}的十个冷知识",
    "关于{a},我们问了100个人",
    "{a}遇上{b},会发生什么?",
    "深度|{a}正在改变{b}",
    "今晚8点,聊聊{a}",
    "{a}指南:从入门到放弃",
    "为什么大家都在谈{a}",
    "{a}日报|{b}最新动态",
    "图解{a}",
    "{a}和{b}之间,只差一个{c}",
)


def _seed_ints(*key: object) -> list[int]:
    """Stable integers for a key: Python's ``hash`` is salted per process."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=16).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def seeded_rng(*key: object) -> np.random.Generator:
    return np.random.default_rng(_seed_ints(*key))


def unit_float(*key: object) -> float:
    """A uniform number in [0, 1) that depends only on ``key``."""
    return _seed_ints(*key)[0] / 2**32


@dataclass(frozen=True, slots=True)
class Article:
    """One published article: mass-sent (``publish_type`` 0) or published quietly (1)."""

    msgid: str
    msg_data_id: int
    index: int
    title: str
    sent: date
    target_user: int
    url: str
    publish_type: int = 0


@dataclass(frozen=True, slots=True)
class ArticleDays:
    """An article's daily numbers for days 0..LIFETIME_DAYS-1 after sending.

    Arrays have one row per day. ``ch_*`` have one column per channel in
    ``CHANNEL_CODES`` order; ``scene_*`` one per scene in ``SHARE_SCENES`` order;
    ``feed_share_*`` one per origin in ``FEED_SHARE_ORIGINS`` order.
    """

    ch_count: np.ndarray
    ch_user: np.ndarray
    ch_share_count: np.ndarray
    ch_share_user: np.ndarray
    int_user: np.ndarray
    ori_count: np.ndarray
    ori_user: np.ndarray
    share_count: np.ndarray
    share_user: np.ndarray
    fav_count: np.ndarray
    fav_user: np.ndarray
    scene_count: np.ndarray
    scene_user: np.ndarray
    feed_share_count: np.ndarray
    feed_share_user: np.ndarray

    @property
    def int_count(self) -> np.ndarray:
        return self.ch_count.sum(axis=1)

    def summary(self, k: int) -> dict[str, int]:
        """getarticlesummary's numbers for day ``k`` after sending."""
        return {
            "int_page_read_user": int(self.int_user[k]),
            "int_page_read_count": int(self.ch_count[k].sum()),
            "ori_page_read_user": int(self.ori_user[k]),
            "ori_page_read_count": int(self.ori_count[k]),
            "share_user": int(self.share_user[k]),
            "share_count": int(self.share_count[k]),
            "add_to_fav_user": int(self.fav_user[k]),
            "add_to_fav_count": int(self.fav_count[k]),
        }


def passes_threshold(numbers: dict[str, int]) -> bool:
    """The platform's rule for listing an article-day in getarticlesummary."""
    return (
        numbers["int_page_read_user"]
        + numbers["ori_page_read_user"]
        + numbers["share_user"]
        + numbers["share_count"]
        + numbers["add_to_fav_count"]
    ) >= 3


class SimulatedAccount:
    """A deterministic Official Account whose endpoints agree like the real ones.

    ``today`` (a Beijing calendar date) and ``hour`` make the clock; data for yesterday
    is partial before 08:00. Identities that hold for every day:

    - getarticletotal details are running sums of the article's daily numbers
      (counts exactly; ``*_user`` monotone and at most the sum of daily users);
    - getarticlesummary lists an article-day only when it passes the threshold;
    - getuserreadhour summed over hours equals getuserread, row by row;
    - getusersharehour summed over hours equals getusershare per scene;
    - getusershare summed over scenes equals getuserread's all-channel share_count;
    - getuserread's all-channel int_page_read_count equals the sum over every article
      read that day, listed in getarticlesummary or not.

    ``character`` is the kind of account it is (:class:`Character`: size, channels,
    cadence, slot effects ...); by default the seed's (:func:`character_for_seed`: seed 0
    the original account). ``followers_start`` / ``followers_end`` override its size.

    Examples
    --------
    >>> from wxframe.simulator._six import user_read
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1), hour=12)
    >>> acct.character.name
    'original'
    >>> rows = user_read(acct, date(2024, 5, 30), date(2024, 5, 31))
    >>> sorted({r["user_source"] for r in rows})[:3]
    [0, 1, 2]
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        today: date | None = None,
        hour: int | None = None,
        start: date = date(2019, 1, 1),
        followers_start: int | None = None,
        followers_end: int | None = None,
        character: Character | None = None,
    ) -> None:
        now = beijing_now()
        self.seed = seed
        self.start = start
        drawn = character if character is not None else character_for_seed(seed)
        if followers_start is not None or followers_end is not None:
            size = (
                drawn.followers[0] if followers_start is None else followers_start,
                drawn.followers[1] if followers_end is None else followers_end,
            )
            drawn = replace(drawn, followers=size)
        #: What kind of account this is: the numbers its articles are drawn from.
        self.character = drawn
        self.followers_start, self.followers_end = drawn.followers
        self._lock = threading.Lock()
        self.today = today if today is not None else now.date()
        self.hour = hour if hour is not None else (now.hour if today is None else 12)
        if not 0 <= self.hour <= 23:
            raise ValueError(f"hour must be 0..23, got {self.hour!r}")
        # Caches are per instance, keyed by dates: no module-level mutable state.
        self._sends = lru_cache(maxsize=8192)(self._make_sends)
        self._article_days = lru_cache(maxsize=65536)(self._make_article_days)
        self._derived = lru_cache(maxsize=65536)(lambda make, article: make(self, article))
        self._answers = lru_cache(maxsize=4096)(
            lambda produce, begin, end, _today, _hour: produce(self, begin, end)
        )

    # ----------------------------------------------------------------- clock
    @property
    def yesterday(self) -> date:
        return self.today - timedelta(days=1)

    def set_clock(self, today: date, hour: int = 12) -> None:
        if not 0 <= hour <= 23:
            raise ValueError(f"hour must be 0..23, got {hour!r}")
        with self._lock:
            self.today = today
            self.hour = hour

    def completeness(self, day: date) -> float:
        """Fraction of ``day``'s numbers that the platform has processed."""
        if day < self.yesterday or (day == self.yesterday and self.hour >= 8):
            return 1.0
        if day == self.yesterday:
            return 0.55 + 0.05 * self.hour  # 0.55 at midnight, 0.9 at 07:00
        return 0.0

    # ------------------------------------------------------------- the model
    def _follower_level(self, day: date) -> float:
        t = (day - self.start).days / 365.0
        growth = 1.0 / (1.0 + math.exp(-(t - 3.0) * 1.1))
        return self.followers_start + (self.followers_end - self.followers_start) * growth

    def follower_total(self, day: date) -> int:
        """Followers at the end of ``day`` (getusercumulate): a logistic growth curve.

        Mass sends reach about as many (:meth:`followers`, with noise of its own).
        """
        audience = 1.0 + 0.04 * (unit_float(self.seed, "audience") - 0.5)
        return round(self._follower_level(day) * audience)

    def followers(self, day: date) -> int:
        """Recipients of a mass send on ``day``: the follower curve, with noise."""
        wobble = 1.0 + 0.004 * (unit_float(self.seed, "followers", day.toordinal()) - 0.5)
        return int(self._follower_level(day) * wobble)

    def sends(self, day: date) -> tuple[Article, ...]:
        """Articles mass-sent on ``day`` (none before the account existed)."""
        if day < self.start:
            return ()
        return self._sends(day)

    def publishes(self, day: date) -> tuple[Article, ...]:
        """Every article published on ``day``: the mass send, then quiet publishes."""
        if day < CURRENT_SINCE:
            return self.sends(day)
        return self.sends(day) + self._quiet(day)

    def _quiet(self, day: date) -> tuple[Article, ...]:
        """Articles published without a notification (publish_type 1): no recipients."""
        rng = seeded_rng(self.seed, "quiet", day.toordinal())
        if day < self.start or day.weekday() not in self.character.weekdays:
            return ()
        if rng.random() > self.character.quiet_chance:
            return ()
        words = rng.choice(len(_TOPICS), size=2, replace=False)
        title = f"{_TOPICS[words[0]]}随笔:{_TOPICS[words[1]]}"
        msg_data_id = 2_247_900_000 + (day - date(2014, 12, 1)).days
        url = f"https://mp.weixin.qq.com/s/sim{msg_data_id}q"
        # The model draws reads from recipients: a quiet article reaches fewer people.
        reach = int(self.followers(day) * 0.15)
        return (Article(f"{msg_data_id}_1", msg_data_id, 1, title, day, reach, url, 1),)

    def _make_sends(self, day: date) -> tuple[Article, ...]:
        character = self.character
        if day.weekday() not in character.weekdays:
            return ()
        rng = seeded_rng(self.seed, "send", day.toordinal())
        if rng.random() > character.send_chance:  # the original: one day in seven, none
            return ()
        chances = list(character.articles)
        n = int(rng.choice(np.arange(1, len(chances) + 1), p=chances))
        msg_data_id = 2_247_480_000 + (day - date(2014, 12, 1)).days * 3 + int(rng.integers(3))
        target = self.followers(day)
        articles = []
        for index in range(1, n + 1):
            words = rng.choice(len(_TOPICS), size=3, replace=False)
            template = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
            title = template.format(a=_TOPICS[words[0]], b=_TOPICS[words[1]], c=_TOPICS[words[2]])
            # A few single-article sends come back with a bare msgid, as on the platform.
            bare = n == 1 and msg_data_id % 10 == 0
            msgid = str(msg_data_id) if bare else f"{msg_data_id}_{index}"
            url = f"http://mp.weixin.qq.com/s?__biz=MzSimulator&mid={msg_data_id}&idx={index}"
            articles.append(Article(msgid, msg_data_id, index, title, day, target, url))
        return tuple(articles)

    def _channel_weights(self, day: date, k: int, viral: float) -> np.ndarray:
        """Expected share of each channel for an article ``k`` days after sending."""
        base = self.character.channels
        if not self.character.mix_drifts:
            w = np.array(base, dtype=float)
            if day < USER_SOURCE_SINCE:
                w[CH_KANYIKAN] = w[CH_SOUYISOU] = 0.0
            return w / w.sum()
        t = (day - self.start).days / 365.0
        w = np.empty(len(CHANNEL_CODES))
        w[CH_SESSION] = max(0.45, base[CH_SESSION] - 0.06 * t) * (0.55**k)
        w[CH_FRIENDS] = base[CH_FRIENDS] * (1 + viral)
        w[CH_MOMENTS] = base[CH_MOMENTS] * (1 + 1.5 * viral)
        w[CH_HISTORY] = base[CH_HISTORY] + 0.02 * min(k, 6)
        w[CH_OTHER] = base[CH_OTHER]
        if day >= USER_SOURCE_SINCE:
            w[CH_KANYIKAN] = min(base[CH_KANYIKAN] + 0.015 * t, 0.14) * (1 + viral)
            w[CH_SOUYISOU] = min(base[CH_SOUYISOU] + 0.012 * t, 0.1) * (1 + 0.3 * k)
        else:
            w[CH_KANYIKAN] = w[CH_SOUYISOU] = 0.0
        return w / w.sum()

    def article_days(self, article: Article) -> ArticleDays:
        return self._article_days(article)

    def answer(
        self,
        produce: Callable[[SimulatedAccount, date, date], list[dict[str, object]]],
        begin: date,
        end: date,
    ) -> list[dict[str, object]]:
        """``produce(self, begin, end)`` as of the clock, computed once per clock: the same
        request at the same simulated hour gets the same rows (a list not to be changed)."""
        return self._answers(produce, begin, end, self.today, self.hour)

    def derived(self, make: Callable[[SimulatedAccount, Article], T], article: Article) -> T:
        """``make(self, article)``, computed once per account and article (a cache)."""
        return self._derived(make, article)

    def _make_article_days(self, article: Article) -> ArticleDays:
        rng = seeded_rng(self.seed, "article", article.msgid, article.sent.toordinal())
        lifetime = np.arange(LIFETIME_DAYS)
        character = self.character
        popularity = rng.lognormal(mean=0.0, sigma=character.spread)  # heavy tail
        viral = float(min(popularity / 6.0, 1.5))
        position = article.index**-character.slot_decay
        open_rate = character.reads_per_recipient * rng.uniform(0.7, 1.3)
        expected_total = article.target_user * open_rate * popularity * position
        effect = character.weekday_effect[article.sent.weekday()]
        if effect != 1.0:  # the original has none: its numbers stay as they were
            expected_total *= effect
        # Reads arrive mostly on days 0 and 1 and fade over the week; viral pieces fade slower.
        half_life = 0.45 + 0.3 * viral + rng.uniform(0.0, 0.2)
        decay = np.exp(-lifetime * math.log(2) / half_life) + 0.004
        decay /= decay.sum()
        daily_total = rng.poisson(expected_total * decay)
        ch_count = np.stack(
            [
                rng.multinomial(
                    daily_total[k],
                    rng.dirichlet(
                        200
                        * self._channel_weights(
                            article.sent + timedelta(days=int(k)), int(k), viral
                        )
                        + 1e-9
                    ),
                )
                for k in lifetime
            ]
        )
        # Each reader reads 1.05-1.4 times on average; users never exceed counts.
        ch_user = rng.binomial(ch_count, 1 / rng.uniform(1.05, 1.4))
        int_user = rng.binomial(ch_user.sum(axis=1), 0.97)
        int_count = ch_count.sum(axis=1)
        has_original = rng.random() < 0.45
        ori_count = rng.binomial(int_count, rng.uniform(0.01, 0.05) if has_original else 0.0)
        ori_user = rng.binomial(ori_count, 0.85)
        share_count = rng.binomial(int_count, rng.uniform(0.015, 0.05) * (1 + viral))
        share_user = rng.binomial(share_count, 0.8)
        fav_count = rng.binomial(int_count, rng.uniform(0.003, 0.02))
        fav_user = rng.binomial(fav_count, 0.9)
        ch_share = np.where(int_count[:, None] > 0, ch_count / np.maximum(int_count, 1)[:, None], 0)
        ch_share_count = np.stack(
            [
                rng.multinomial(share_count[k], ch_share[k])
                if int_count[k]
                else np.zeros(len(CHANNEL_CODES), dtype=np.int64)
                for k in lifetime
            ]
        )
        ch_share_user = rng.binomial(ch_share_count, 0.8)
        scene_p = np.array([0.55 - 0.1 * viral / 1.5, 0.35 + 0.1 * viral / 1.5, 0.10])
        scene_count = rng.multinomial(share_count, scene_p)
        scene_user = rng.binomial(scene_count, 0.8)
        feed_share_count = rng.multinomial(scene_count[:, 1], [0.62, 0.3, 0.08])
        feed_share_user = rng.binomial(feed_share_count, 0.9)
        return ArticleDays(
            ch_count=ch_count,
            ch_user=ch_user,
            ch_share_count=ch_share_count,
            ch_share_user=ch_share_user,
            int_user=int_user,
            ori_count=ori_count,
            ori_user=ori_user,
            share_count=share_count,
            share_user=share_user,
            fav_count=fav_count,
            fav_user=fav_user,
            scene_count=scene_count,
            scene_user=scene_user,
            feed_share_count=feed_share_count,
            feed_share_user=feed_share_user,
        )

    def day_numbers(self, article: Article, day: date) -> ArticleDays | None:
        """The article's arrays as the platform knows them now (partial yesterday scaled)."""
        full = self.article_days(article)
        frac = self.completeness(day)
        if frac >= 1.0:
            return full
        if frac <= 0.0:
            return None
        k = (day - article.sent).days
        # Scale every array at row k: floor keeps users <= counts. Sums are re-derived below
        # so that every identity still holds inside a partial day.
        fields = {}
        for name in ArticleDays.__dataclass_fields__:
            arr = getattr(full, name).copy()
            arr[k] = np.floor(arr[k] * frac).astype(arr.dtype)
            fields[name] = arr
        partial = ArticleDays(**fields)
        partial.share_count[k] = partial.scene_count[k].sum()
        partial.ch_share_count[k] = _rescale_to(partial.ch_share_count[k], partial.share_count[k])
        partial.feed_share_count[k] = _rescale_to(
            partial.feed_share_count[k], partial.scene_count[k, 1]
        )
        partial.share_user[k] = min(partial.share_user[k], partial.share_count[k])
        partial.ch_share_user[k] = np.minimum(partial.ch_share_user[k], partial.ch_share_count[k])
        partial.feed_share_user[k] = np.minimum(
            partial.feed_share_user[k], partial.feed_share_count[k]
        )
        return partial

    def articles_read_on(self, day: date) -> Iterator[tuple[Article, int, ArticleDays]]:
        """Every article with numbers on ``day``: (article, days since sending, arrays)."""
        for back in range(LIFETIME_DAYS):
            for article in self.publishes(day - timedelta(days=back)):
                numbers = self.day_numbers(article, day)
                if numbers is not None:
                    yield article, back, numbers

    def available(self, day: date) -> bool:
        return day >= max(self.start, date(2014, 12, 1)) and self.completeness(day) > 0

    # ------------------------------------------------------------- endpoints
    def aggregate(self, day: date) -> dict:
        """Account totals for ``day``: sums over every article read that day."""
        n = len(CHANNEL_CODES)
        agg: dict = {
            "int_user": 0,
            "int_count": 0,
            "ori_user": 0,
            "ori_count": 0,
            "share_user": 0,
            "share_count": 0,
            "fav_user": 0,
            "fav_count": 0,
            "ch_count": np.zeros(n, dtype=np.int64),
            "ch_user": np.zeros(n, dtype=np.int64),
            "ch_share_count": np.zeros(n, dtype=np.int64),
            "ch_share_user": np.zeros(n, dtype=np.int64),
            "scene_count": np.zeros(len(SHARE_SCENES), dtype=np.int64),
            "scene_user": np.zeros(len(SHARE_SCENES), dtype=np.int64),
        }
        for _article, k, a in self.articles_read_on(day):
            agg["int_user"] += int(a.int_user[k])
            agg["int_count"] += int(a.ch_count[k].sum())
            agg["ori_user"] += int(a.ori_user[k])
            agg["ori_count"] += int(a.ori_count[k])
            agg["share_user"] += int(a.share_user[k])
            agg["share_count"] += int(a.share_count[k])
            agg["fav_user"] += int(a.fav_user[k])
            agg["fav_count"] += int(a.fav_count[k])
            agg["ch_count"] += a.ch_count[k]
            agg["ch_user"] += a.ch_user[k]
            agg["ch_share_count"] += a.ch_share_count[k]
            agg["ch_share_user"] += a.ch_share_user[k]
            agg["scene_count"] += a.scene_count[k]
            agg["scene_user"] += a.scene_user[k]
        return agg


def _rescale_to(parts: np.ndarray, total: int) -> np.ndarray:
    """Integer parts that sum to ``total``, keeping their proportions (largest remainder)."""
    parts = parts.astype(np.int64)
    if total <= 0 or parts.sum() == 0:
        out = np.zeros_like(parts)
        if total > 0:
            out[0] = total
        return out
    exact = parts / parts.sum() * total
    out = np.floor(exact).astype(np.int64)
    remainder = int(total - out.sum())
    if remainder:
        out[np.argsort(-(exact - out), kind="stable")[:remainder]] += 1
    return out


def days_between(begin: date, end: date) -> Iterator[date]:
    for n in range((end - begin).days + 1):
        yield begin + timedelta(days=n)
