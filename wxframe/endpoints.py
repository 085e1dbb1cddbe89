"""The endpoint registry: every datacube endpoint declared as data.

One generic code path (``wxframe.client``, ``wxframe.frames``, ``wxframe.loaders``)
fetches, chunks, parses and types every endpoint from these declarations; adding an
endpoint is adding an entry to ``ENDPOINTS``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from wxframe.errors import UnknownEndpointError

__all__ = [
    "CHANNELS",
    "CHANNELS_ZH",
    "ENDPOINTS",
    "SCENES",
    "SCENES_ZH",
    "Endpoint",
    "Field",
    "get_endpoint",
]

Kind = Literal["date", "int", "str", "hour", "code", "channel", "scene"]

#: ``user_source`` codes and their labels, in the canonical channel order.
CHANNELS: Mapping[int, str] = MappingProxyType(
    {
        99999999: "all",
        0: "session",
        1: "friends",
        2: "moments",
        3: "weibo",
        4: "history",
        5: "other",
        6: "kanyikan",
        7: "souyisou",
    }
)
CHANNELS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "all": "全部",
        "session": "公众号会话",
        "friends": "好友转发",
        "moments": "朋友圈",
        "weibo": "腾讯微博",
        "history": "历史消息页",
        "other": "其他",
        "kanyikan": "看一看",
        "souyisou": "搜一搜",
    }
)
#: ``share_scene`` codes and their labels.
SCENES: Mapping[int, str] = MappingProxyType({1: "friends", 2: "moments", 255: "other"})
SCENES_ZH: Mapping[str, str] = MappingProxyType(
    {"friends": "好友转发", "moments": "朋友圈", "other": "其他"}
)
ALL_CHANNELS = 99999999


@dataclass(frozen=True)
class Field:
    """One field of a record: its API name and kind.

    ``kind`` is ``"date"`` (``YYYY-MM-DD``), ``"int"`` (a counter or level), ``"str"``,
    ``"hour"`` (``ref_hour``, 0..2300 in steps of 100), ``"code"`` (an integer code),
    ``"channel"`` (a ``user_source`` code: adds a ``channel`` label column) or ``"scene"``
    (a ``share_scene`` code: adds a ``scene`` label column).
    ``all_only`` marks counters the platform gives only on the all-channel row.
    """

    name: str
    kind: Kind = "int"
    all_only: bool = False


@dataclass(frozen=True)
class Endpoint:
    """A datacube endpoint as data.

    Attributes
    ----------
    name:
        The path segment after ``/datacube/``.
    max_span:
        Days one request may cover (``end - begin`` must be less than this).
    key:
        Columns that identify a row of the tidy frame.
    fields:
        Fields of each record of ``list``.
    details:
        For nested endpoints: the fields of each entry of the record's ``nested`` list;
        the tidy frame has one row per entry.
    ignored:
        Fields the API sends that carry no data here (kept out of the frame).
    description:
        What one row of the tidy frame is.
    """

    name: str
    max_span: int
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    description: str
    loader: str
    details: tuple[Field, ...] = ()
    nested: str | None = None
    ignored: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return f"/datacube/{self.name}"

    @property
    def all_fields(self) -> tuple[Field, ...]:
        return self.fields + self.details

    @property
    def has_channels(self) -> bool:
        return any(f.kind == "channel" for f in self.fields)

    @property
    def has_scenes(self) -> bool:
        return any(f.kind == "scene" for f in self.fields)


_READS = (
    Field("int_page_read_user"),
    Field("int_page_read_count"),
)
_ORI = (Field("ori_page_read_user"), Field("ori_page_read_count"))
_SHARES = (Field("share_user"), Field("share_count"))
_FAVS = (Field("add_to_fav_user"), Field("add_to_fav_count"))
_ORI_FAV_NAMES = tuple(f.name for f in _ORI + _FAVS)
_ARTICLE = (Field("ref_date", "date"), Field("msgid", "str"), Field("title", "str"))
_SOURCES = ("session", "hist_msg", "feed", "friends", "other", "kanyikan", "souyisou")

ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType(
    {
        e.name: e
        for e in (
            Endpoint(
                name="getarticlesummary",
                max_span=1,
                key=("ref_date", "msgid"),
                fields=_ARTICLE + _READS + _ORI + _SHARES + _FAVS,
                description="one mass-sent article on one day: that day's numbers "
                "(only article-days over the platform's threshold)",
                loader="load_article_summary",
            ),
            Endpoint(
                name="getarticletotal",
                max_span=1,
                key=("msgid", "stat_date"),
                fields=(*_ARTICLE, Field("url", "str"), Field("user_source", "code")),
                nested="details",
                details=(
                    Field("stat_date", "date"),
                    Field("target_user"),
                    *_READS,
                    *_ORI,
                    *_SHARES,
                    *_FAVS,
                    *(
                        Field(f"int_page_from_{s}_read_{m}")
                        for s in _SOURCES
                        for m in ("user", "count")
                    ),
                    *(
                        Field(f"feed_share_from_{s}_{m}")
                        for s in ("session", "feed", "other")
                        for m in ("user", "cnt")
                    ),
                ),
                description="one article sent on ref_date, on one stat_date within 7 days: "
                "numbers cumulative from sending to the end of stat_date",
                loader="load_article_total",
            ),
            Endpoint(
                name="getuserread",
                max_span=3,
                key=("ref_date", "user_source"),
                fields=(
                    Field("ref_date", "date"),
                    Field("user_source", "channel"),
                    *_READS,
                    *(Field(f.name, all_only=True) for f in _ORI),
                    *_SHARES,
                    *(Field(f.name, all_only=True) for f in _FAVS),
                ),
                description="the whole account on one day, per user_source channel",
                loader="load_user_read",
            ),
            Endpoint(
                name="getuserreadhour",
                max_span=1,
                key=("ref_date", "ref_hour", "user_source"),
                fields=(
                    Field("ref_date", "date"),
                    Field("ref_hour", "hour"),
                    Field("user_source", "channel"),
                    *_READS,
                    *_SHARES,
                ),
                ignored=_ORI_FAV_NAMES,
                description="the whole account in one hour of one day, per user_source channel",
                loader="load_user_read_hour",
            ),
            Endpoint(
                name="getusershare",
                max_span=7,
                key=("ref_date", "share_scene"),
                fields=(Field("ref_date", "date"), Field("share_scene", "scene"), *_SHARES[::-1]),
                description="shares on one day, per share_scene",
                loader="load_user_share",
            ),
            Endpoint(
                name="getusersharehour",
                max_span=1,
                key=("ref_date", "ref_hour", "share_scene"),
                fields=(
                    Field("ref_date", "date"),
                    Field("ref_hour", "hour"),
                    Field("share_scene", "scene"),
                    *_SHARES[::-1],
                ),
                description="shares in one hour of one day, per share_scene",
                loader="load_user_share_hour",
            ),
        )
    }
)


def get_endpoint(endpoint: object) -> Endpoint:
    """The registry entry for a name (or an ``Endpoint``), with a clear error otherwise.

    >>> get_endpoint("getuserread").max_span
    3
    """
    if isinstance(endpoint, Endpoint):
        return endpoint
    if isinstance(endpoint, str) and endpoint in ENDPOINTS:
        return ENDPOINTS[endpoint]
    raise UnknownEndpointError(
        f"unknown endpoint {endpoint!r}; known endpoints: {', '.join(ENDPOINTS)}"
    )


def iter_endpoints(names: object = None) -> Iterator[Endpoint]:
    """Registry entries for ``names`` (all of them for ``None``), validated first."""
    if names is None:
        yield from ENDPOINTS.values()
        return
    if isinstance(names, str | Endpoint):
        names = [names]
    specs = [get_endpoint(n) for n in names]  # type: ignore[attr-defined]
    yield from specs
