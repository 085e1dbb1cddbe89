"""What kind of account a simulated one is: its size, channels, cadence and slot effects.

A :class:`Character` is the handful of numbers the account model draws its articles
from. Seed 0 is the original account (the bundled demo store's, its numbers unchanged);
every other seed draws one of a few kinds of account, with its numbers jittered by the
seed, so that a portfolio of simulated accounts has accounts that differ.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = [
    "CHANNEL_NAMES",
    "CHARACTERS",
    "Character",
    "character_for_seed",
    "character_named",
]

#: The channels of ``Character.channels``, in ``CHANNEL_CODES`` order (0, 1, 2, 4, 5, 6, 7):
#: 公众号消息, 聊天会话, 朋友圈, 公众号主页, 其他, 推荐 (kanyikan), 搜一搜 (souyisou).
CHANNEL_NAMES: tuple[str, ...] = (
    "session",
    "friends",
    "moments",
    "history",
    "other",
    "kanyikan",
    "souyisou",
)
#: A reader reads an article 1.05-1.4 times (readers per read: 0.82 on average), and a
#: running total of readers over an article's days counts a later day's readers at
#: 90% (about 97% of the sum for an article read mostly on its first day).
_READERS_PER_READ = 0.82 * 0.97


@dataclass(frozen=True, slots=True)
class Character:
    """The numbers a simulated account draws its articles from.

    Attributes
    ----------
    name:
        What kind of account it is (``"original"``, ``"daily-news"``, ...).
    followers:
        Followers when the account starts (2019-01-01) and where its logistic growth
        levels off (getusercumulate; a mass send reaches about as many).
    channels:
        Weight of each channel of :data:`CHANNEL_NAMES` among an article's readers (they
        need not sum to 1). With ``mix_drifts`` false, every day of an article's life
        splits its readers by these weights, whatever its age or reach, so each
        channel's share of readers is its weight over their sum. 推荐 and 搜一搜 have no
        readers before 2020-02-28, when the platform began to count them.
    mix_drifts:
        The original account's mix, which drifts: messages bring fewer readers as the
        account ages (``session`` less 0.06 a year, at least 0.45), 推荐 and 搜一搜 more;
        older articles are read from the history page and by search, viral ones from
        moments and friends. The weights are then the mix of a new article in 2019.
    send_chance:
        Chance of a mass send on each of ``weekdays``.
    weekdays:
        The Beijing weekdays (0 Monday .. 6 Sunday) on which the account publishes (mass
        sends and quiet publishes alike).
    articles:
        Chance that a send has 1, 2, 3 ... articles (sums to 1).
    slot_decay:
        Slot ``k`` of a send is read ``k ** -slot_decay`` times as much as its headline
        (the expected readers; :meth:`slot_factor`).
    weekday_effect:
        Readers of a send on each weekday (Monday first) relative to the account's level.
    reads_per_recipient:
        A median headline's reads (over its life) per follower it was sent to, at a
        weekday effect of 1; each article draws its own within +-30%.
    spread:
        Sigma of the lognormal popularity of an article (1.05: a heavy tail).
    quiet_chance:
        Chance of a publish without a notification (publish_type 1) on a publishing day,
        from 2025-11-01.
    completion:
        The range an article's read_finish_rate (完读率) is drawn from, uniformly.
    follow_after_read:
        The range an article's follows per reader (read_subscribe_user / read_user) are
        drawn from, uniformly.

    Examples
    --------
    >>> news = CHARACTERS["daily-news"]
    >>> round(news.slot_factor(2), 2), news.sends_per_week
    (0.5, 7.0)
    >>> character_for_seed(0) == CHARACTERS["original"]
    True
    >>> character_for_seed(3) == character_for_seed(3) != character_for_seed(4)
    True
    """

    name: str
    followers: tuple[int, int] = (30_000, 220_000)
    channels: tuple[float, ...] = (0.95, 0.09, 0.16, 0.03, 0.03, 0.04, 0.01)
    mix_drifts: bool = False
    send_chance: float = 0.86
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    articles: tuple[float, ...] = (0.22, 0.2, 0.18, 0.14, 0.1, 0.07, 0.05, 0.04)
    slot_decay: float = 0.8
    weekday_effect: tuple[float, ...] = field(default=(1.0,) * 7)
    reads_per_recipient: float = 0.045
    spread: float = 1.05
    quiet_chance: float = 0.3
    completion: tuple[float, float] = (0.3, 0.8)
    follow_after_read: tuple[float, float] = (0.001, 0.01)

    def __post_init__(self) -> None:
        problems = []
        if not 0 < self.followers[0] <= self.followers[1] or len(self.followers) != 2:
            problems.append(f"followers={self.followers!r} (start, end with 0 < start <= end)")
        if len(self.channels) != len(CHANNEL_NAMES) or min(self.channels) < 0:
            problems.append(f"channels={self.channels!r} (7 weights >= 0: {CHANNEL_NAMES})")
        if self.channels[0] <= 0:
            problems.append(f"channels={self.channels!r} (the session weight must be > 0)")
        for name in ("send_chance", "quiet_chance"):
            if not 0 <= getattr(self, name) <= 1:
                problems.append(f"{name}={getattr(self, name)!r} (a chance in [0, 1])")
        if not self.weekdays or not set(self.weekdays) <= set(range(7)):
            problems.append(f"weekdays={self.weekdays!r} (some of 0 Monday .. 6 Sunday)")
        if not self.articles or abs(sum(self.articles) - 1) > 1e-9 or min(self.articles) < 0:
            problems.append(f"articles={self.articles!r} (chances of 1, 2, ... that sum to 1)")
        if len(self.weekday_effect) != 7 or min(self.weekday_effect) <= 0:
            problems.append(f"weekday_effect={self.weekday_effect!r} (7 factors > 0)")
        for name in ("completion", "follow_after_read"):
            low, high = getattr(self, name)
            if not 0 <= low <= high <= 1:
                problems.append(f"{name}={(low, high)!r} (a range within [0, 1])")
        if self.reads_per_recipient <= 0:
            problems.append(f"reads_per_recipient={self.reads_per_recipient!r} (> 0)")
        if self.spread < 0 or self.slot_decay < 0:
            problems.append(f"spread={self.spread!r}, slot_decay={self.slot_decay!r} (>= 0)")
        if problems:
            raise ValueError("a Character needs " + "; ".join(problems))

    # ------------------------------------------------------- what it makes
    @property
    def sends_per_week(self) -> float:
        """Mass sends a week, on average."""
        return round(self.send_chance * len(set(self.weekdays)), 6)

    @property
    def articles_per_send(self) -> float:
        """Articles in a mass send, on average."""
        return float(sum(n * p for n, p in enumerate(self.articles, start=1)))

    def slot_factor(self, k: int) -> float:
        """Expected readers of slot ``k`` relative to the headline's (slot 1: 1)."""
        return float(k**-self.slot_decay)

    def channel_share(self, name: str) -> float:
        """A channel's share of readers (from 2020-02-28; for a drifting mix, in 2019).

        >>> round(CHARACTERS["small-recommended"].channel_share("kanyikan"), 2)
        0.35
        """
        return self.channels[CHANNEL_NAMES.index(name)] / sum(self.channels)

    @property
    def read_delivery_rate(self) -> float:
        """A median headline's 送达阅读率: readers from messages over followers reached.

        About ``reads_per_recipient`` x the messages channel's share x 0.8 (readers per
        read, de-duplicated over days), at a weekday effect of 1; for a drifting mix, in
        the account's first year (it falls as messages bring fewer readers).
        """
        return self.reads_per_recipient * self.channel_share("session") * _READERS_PER_READ

    @property
    def completion_level(self) -> float:
        """An article's read_finish_rate, on average."""
        return sum(self.completion) / 2

    @property
    def follows_per_1000_readers(self) -> float:
        """read_subscribe_user per 1,000 readers, on average over articles."""
        return 1000 * sum(self.follow_after_read) / 2

    def describe(self) -> dict[str, object]:
        """The character in a few headline numbers (what the demo shows).

        >>> CHARACTERS["weekly-longread"].describe()["weekdays"]
        'Sat'
        """
        names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        return {
            "kind": self.name,
            "followers": f"{self.followers[0]:,} -> {self.followers[1]:,}",
            "sends per week": self.sends_per_week,
            "weekdays": " ".join(names[d] for d in sorted(set(self.weekdays))),
            "articles per send": round(self.articles_per_send, 2),
            "slot 2 / slot 1": round(self.slot_factor(2), 3),
            "推荐 share": round(self.channel_share("kanyikan"), 3),
            "搜一搜 share": round(self.channel_share("souyisou"), 3),
            "read_delivery_rate": round(self.read_delivery_rate, 4),
            "completion": round(self.completion_level, 3),
            "follows per 1,000 readers": round(self.follows_per_1000_readers, 2),
        }


def _rate(read_delivery_rate: float, channels: tuple[float, ...]) -> float:
    """The ``reads_per_recipient`` that makes a median headline's 送达阅读率 this."""
    return read_delivery_rate / (channels[0] / sum(channels) * _READERS_PER_READ)


def _kind(name: str, *, read_delivery_rate: float, **numbers: object) -> Character:
    channels = numbers["channels"]
    assert isinstance(channels, tuple)
    return Character(name, reads_per_recipient=_rate(read_delivery_rate, channels), **numbers)  # type: ignore[arg-type]


#: The kinds of account the simulator knows, by name: seed 0 is ``"original"``, other
#: seeds draw one of the others (jittered by the seed).
CHARACTERS: dict[str, Character] = {
    "original": Character("original", mix_drifts=True),
    # A young account that lives on 推荐: few followers, short sends three times a week.
    "small-recommended": _kind(
        "small-recommended",
        followers=(2_600, 3_400),
        channels=(0.3, 0.1, 0.12, 0.05, 0.03, 0.35, 0.05),
        send_chance=0.95,
        weekdays=(0, 2, 4),
        articles=(0.6, 0.4),
        slot_decay=1.0,
        read_delivery_rate=0.06,
        spread=0.8,
        quiet_chance=0.2,
        completion=(0.45, 0.75),
        follow_after_read=(0.015, 0.035),
    ),
    # A big news account: four articles every day, the headline far ahead of the rest.
    "daily-news": _kind(
        "daily-news",
        followers=(400_000, 1_200_000),
        channels=(0.55, 0.1, 0.14, 0.04, 0.03, 0.09, 0.05),
        send_chance=1.0,
        articles=(0.0, 0.0, 0.0, 1.0),
        slot_decay=1.0,
        weekday_effect=(1.1, 1.05, 1.0, 1.0, 0.95, 0.8, 0.85),
        read_delivery_rate=0.018,
        spread=0.6,
        quiet_chance=0.1,
        completion=(0.2, 0.4),
        follow_after_read=(0.0005, 0.002),
    ),
    # A weekly long read on Saturday: one or two articles, read to the end, followed.
    "weekly-longread": _kind(
        "weekly-longread",
        followers=(20_000, 60_000),
        channels=(0.6, 0.12, 0.15, 0.06, 0.02, 0.03, 0.02),
        send_chance=1.0,
        weekdays=(5,),
        articles=(0.7, 0.3),
        slot_decay=1.6,
        read_delivery_rate=0.09,
        spread=0.5,
        quiet_chance=0.0,
        completion=(0.7, 0.9),
        follow_after_read=(0.004, 0.012),
    ),
    # A lifestyle account read through moments and chats, on weekdays.
    "lifestyle": _kind(
        "lifestyle",
        followers=(60_000, 150_000),
        channels=(0.45, 0.2, 0.25, 0.03, 0.02, 0.04, 0.01),
        send_chance=0.8,
        weekdays=(0, 1, 2, 3, 4),
        articles=(0.3, 0.4, 0.3),
        slot_decay=0.6,
        weekday_effect=(0.9, 1.0, 1.0, 1.05, 1.2, 1.0, 1.0),
        read_delivery_rate=0.035,
        spread=0.9,
        completion=(0.4, 0.6),
        follow_after_read=(0.002, 0.006),
    ),
    # A service account people find by 搜一搜: how-tos, read long after publishing.
    "search-service": _kind(
        "search-service",
        followers=(8_000, 25_000),
        channels=(0.35, 0.06, 0.05, 0.12, 0.04, 0.08, 0.3),
        send_chance=0.9,
        weekdays=(1, 3),
        articles=(0.5, 0.3, 0.2),
        slot_decay=0.7,
        read_delivery_rate=0.05,
        spread=0.7,
        quiet_chance=0.4,
        completion=(0.55, 0.8),
        follow_after_read=(0.006, 0.02),
    ),
}
_DRAWN = tuple(name for name in CHARACTERS if name != "original")


def _unit(seed: int, what: str) -> float:
    digest = hashlib.blake2b(repr((seed, "character", what)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64


def character_for_seed(seed: int) -> Character:
    """The character of the account of ``seed``: seed 0 the original, seeds 1, 2, ...
    each kind in turn (1 small-recommended, 2 daily-news, 3 weekly-longread, 4 lifestyle,
    5 search-service, 6 small-recommended ...), its size, mix, slot effect, open rate,
    completion and follows jittered by the seed (a draw that depends only on it).

    >>> [character_for_seed(s).name for s in range(3)]
    ['original', 'small-recommended', 'daily-news']
    """
    if seed == 0:
        return CHARACTERS["original"]
    kind = CHARACTERS[_DRAWN[(abs(seed) - 1) % len(_DRAWN)]]

    def jitter(what: str, width: float = 0.2) -> float:
        return 1.0 + width * (2 * _unit(seed, what) - 1)

    start, end = kind.followers
    size = jitter("size", 0.3)
    channels = tuple(
        float(np.round(w * jitter(f"channel {n}"), 4))
        for n, w in zip(CHANNEL_NAMES, kind.channels, strict=True)
    )
    rate = kind.read_delivery_rate * jitter("rate")
    low, high = kind.follow_after_read
    follows = jitter("follows")
    return replace(
        kind,
        followers=(round(start * size), round(end * size)),
        channels=channels,
        slot_decay=round(kind.slot_decay * jitter("slot", 0.15), 3),
        reads_per_recipient=_rate(rate, channels),
        completion=tuple(
            round(min(c * jitter("completion", 0.1), 1.0), 3) for c in kind.completion
        ),  # type: ignore[arg-type]
        follow_after_read=(round(low * follows, 5), round(high * follows, 5)),
    )


def character_named(name: str) -> Character:
    """The kind of account called ``name`` (a key of :data:`CHARACTERS`).

    >>> character_named("weekly-longread").weekdays
    (5,)
    """
    try:
        return CHARACTERS[name]
    except KeyError:
        known = ", ".join(CHARACTERS)
        raise ValueError(f"no simulated account character {name!r}; known: {known}") from None
