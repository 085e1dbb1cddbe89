"""The code lists of the registry and their display names: reading channels
(``user_source`` / ``scene_desc``), share scenes and follower sources.

Each code is declared once with its category in the frame and its English and Chinese
display names: :meth:`Codes.display` is where every pivot, plot, report and CLI line gets
the name it shows. ``wxframe.endpoints`` re-exports all of it with the registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from wxframe.errors import ConfigurationError

__all__ = [
    "ALL_CHANNELS",
    "CHANNELS",
    "CHANNELS_ZH",
    "CHANNEL_CODES",
    "CHANNEL_LABELS",
    "CODE_LISTS",
    "LANGS",
    "SCENES",
    "SCENES_ZH",
    "SCENE_CODES",
    "SOURCES",
    "SOURCES_ZH",
    "SOURCE_CODES",
    "Codes",
    "DisplayName",
    "Labels",
    "Lang",
    "check_lang",
]

#: A display language: English, or Chinese as the platform's own pages write it.
Lang = Literal["en", "zh"]
#: What ``labels=`` takes everywhere: a display language, or None for the codes themselves.
Labels = Lang | None
LANGS: tuple[Lang, ...] = ("en", "zh")


def check_lang(lang: object, name: str = "labels") -> Labels:
    """``lang`` if it is a display language or None; otherwise an error that lists them."""
    if lang is not None and lang not in LANGS:
        raise ConfigurationError(
            f"{name}={lang!r} is not allowed; use 'en' or 'zh' (or None for the codes)"
        )
    return lang


@dataclass(frozen=True)
class DisplayName:
    """What a reader sees for one code, in English and in Chinese."""

    en: str
    zh: str


@dataclass(frozen=True, eq=False)
class Codes:
    """A code list, the categorical column it becomes (``user_source`` -> ``channel``) and
    the names a reader sees for its categories.

    The frame keeps the stable category names (``session``, ``qr_code``: what a user
    indexes by and what the store holds); every table, legend and report line that a
    person reads gets its text from :meth:`display`, so a channel is called the same in
    a pivot, a plot, the report and the CLI. Unknown codes are kept, as categories
    ``code_<n>`` after the known ones, and display as themselves.
    """

    column: str
    labels: Mapping[int, str]
    names: Mapping[str, DisplayName]

    @classmethod
    def declare(cls, column: str, rows: Iterable[tuple[int, str, str, str]]) -> Codes:
        """A code list from ``(code, category, English, Chinese)`` rows, in canonical order."""
        rows = tuple(rows)
        return cls(
            column,
            MappingProxyType({code: name for code, name, _, _ in rows}),
            MappingProxyType({name: DisplayName(en, zh) for _, name, en, zh in rows}),
        )

    def categories(self, extra: Iterable[int | str] = ()) -> list[str]:
        """The category labels in the canonical order, unknown ones after them.

        >>> SCENE_CODES.categories([5])
        ['friends', 'moments', 'other', 'code_5']
        """
        out = list(self.labels.values())
        out += [e if isinstance(e, str) else f"code_{e}" for e in extra]
        return out

    def display(self, name: object, lang: Labels = "en") -> str:
        """The name a reader sees for the category ``name`` in ``lang`` (None: ``name``).

        The one way wxframe turns a code into text: ``labels=`` of the pivots and plots,
        the report and ``wxframe labels`` all come here. A category the list does not
        declare (``code_5``, a scene label never seen before) displays as itself.

        >>> CHANNEL_CODES.display("kanyikan"), CHANNEL_CODES.display("kanyikan", "zh")
        ('Top Stories', '推荐')
        >>> CHANNEL_CODES.display("code_12", "zh"), CHANNEL_CODES.display("session", None)
        ('code_12', 'session')
        """
        check_lang(lang)
        text = str(name)
        names = self.names.get(text)
        if lang is None or names is None:
            return text
        return names.en if lang == "en" else names.zh

    def display_names(self, names: Iterable[object], lang: Labels = "en") -> list[str]:
        """:meth:`display` of each of ``names``.

        >>> SOURCE_CODES.display_names(["qr_code", "code_999"], "zh")
        ['扫描二维码', 'code_999']
        """
        return [self.display(n, lang) for n in names]


# The three code lists, each code once: (code, category in the frame, English, Chinese).
# Chinese names of the reading channels are the current family's own ``scene_desc``
# labels (what the platform's pages show today); weibo, retired before them, keeps its
# old name. English names are those of WeChat's English interface where it has one.
#: The reading channels (``user_source`` of getuserread(hour), ``scene_desc`` of the
#: current family).
CHANNEL_CODES = Codes.declare(
    "channel",
    (
        (99999999, "all", "all", "全部"),
        (0, "session", "messages", "公众号消息"),
        (1, "friends", "chats", "聊天会话"),
        (2, "moments", "Moments", "朋友圈"),
        (3, "weibo", "Tencent Weibo", "腾讯微博"),
        (4, "history", "account page", "公众号主页"),
        (5, "other", "other", "其他"),
        (6, "kanyikan", "Top Stories", "推荐"),
        (7, "souyisou", "Search", "搜一搜"),
    ),
)
#: Where shares go (``share_scene`` of getusershare(hour)).
SCENE_CODES = Codes.declare(
    "scene",
    (
        (1, "friends", "chats", "好友转发"),
        (2, "moments", "Moments", "朋友圈"),
        (255, "other", "other", "其他"),
    ),
)
#: The follower channels of getusersummary's ``user_source`` (a code list of its own):
#: every code the platform's pages have documented. The first list (2014-2016) had
#: "0代表其他（包括带参数二维码） 3代表扫二维码 17代表名片分享 35代表搜号码（即微信添加朋友页
#: 的搜索） 39代表查询微信公众帐号 43代表图文页右上角菜单"; the current one has 0 其他合计,
#: 1, 17, 30, 51, 57, 100, 149, 161, 200, 201 (API-NOTES.md, "Followers"). Codes 3, 35 and
#: 39 are the first list's QR code and searches (later 30 and 1): their names say "old"
#: so that a table of both eras never shows two columns called the same. Code 0 is the
#: platform's sum of what it does not itemise: not called "other", which a table that
#: groups its smallest rows as "the others" would make two things.
SOURCE_CODES = Codes.declare(
    "source",
    (
        (0, "other", "not itemised", "其他合计"),
        (1, "search", "account search", "公众号搜索"),
        (3, "qr_code_old", "QR code (old code)", "扫二维码（旧代码）"),
        (17, "card_share", "shared card", "名片分享"),
        (30, "qr_code", "QR code", "扫描二维码"),
        (35, "number_search", "number search (old code)", "搜号码（旧代码）"),
        (39, "account_lookup", "account lookup (old code)", "查询微信公众帐号（旧代码）"),
        (43, "article_menu", "article menu", "图文页右上角菜单"),
        (51, "after_payment", "after paying", "支付后关注"),
        (57, "article_account_name", "name in an article", "文章内账号名称"),
        (75, "article_ads", "article ads", "公众号文章广告"),
        (78, "moments_ads", "Moments ads", "朋友圈广告"),
        (100, "wechat_ads", "WeChat ads", "微信广告"),
        (149, "mini_program", "Mini Program", "小程序关注"),
        (161, "reposted", "reposted", "他人转载"),
        (200, "channels", "Channels", "视频号"),
        (201, "live", "live", "直播"),
    ),
)
#: The code lists by the frame column they become.
CODE_LISTS: Mapping[str, Codes] = MappingProxyType(
    {c.column: c for c in (CHANNEL_CODES, SCENE_CODES, SOURCE_CODES)}
)

#: ``user_source`` codes of the reading channels and their labels, in the canonical order.
CHANNELS: Mapping[int, str] = CHANNEL_CODES.labels
#: ``share_scene`` codes and their labels.
SCENES: Mapping[int, str] = SCENE_CODES.labels
#: getusersummary's ``user_source`` codes and their labels.
SOURCES: Mapping[int, str] = SOURCE_CODES.labels
# The Chinese names as mappings, read from the declarations above (kept for code written
# against them; ``Codes.display`` is the way to get a name).
CHANNELS_ZH: Mapping[str, str] = MappingProxyType({k: v.zh for k, v in CHANNEL_CODES.names.items()})
SCENES_ZH: Mapping[str, str] = MappingProxyType({k: v.zh for k, v in SCENE_CODES.names.items()})
SOURCES_ZH: Mapping[str, str] = MappingProxyType({k: v.zh for k, v in SOURCE_CODES.names.items()})
#: The current family's ``scene_desc`` labels and the channel each one is (an inference
#: from the platform's pages, see API-NOTES; the label itself is kept in ``scene_desc``).
#: This is how answers are parsed, so it is its own table: the channels' Chinese display
#: names are these same labels (a test holds the two together).
CHANNEL_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "全部": "all",
        "公众号消息": "session",
        "聊天会话": "friends",
        "朋友圈": "moments",
        "公众号主页": "history",
        "其他": "other",
        "推荐": "kanyikan",
        "搜一搜": "souyisou",
    }
)
ALL_CHANNELS = 99999999
