"""The endpoint registry: every datacube endpoint declared as data.

An entry says everything the rest of wxframe needs to know about an endpoint: its path,
span and first day, whether the platform still serves it, where its records are and
how their nested parts flatten, what each field *is* (a date, a count of people or of
events, a level, a running total, a rate...), how long its numbers keep changing, and
the tidy frame's key. One code path reads these declarations to fetch, plan, parse,
type, store and analyse every endpoint (``wxframe.client``, ``wxframe.frames``,
``wxframe.loaders``, ``wxframe.store``, ``wxframe.analysis``): adding an endpoint is
adding an entry to ``ENDPOINTS``.

The code lists (:data:`CHANNEL_CODES`, :data:`SCENE_CODES`, :data:`SOURCE_CODES`) with
their English and Chinese display names are declared in ``wxframe.codes`` and re-exported
here with the registry: :meth:`Codes.display` is where every pivot, plot, report and CLI
line gets the name it shows.

The shapes nested parts can have:

- :class:`Rows` -- a list of objects, one row of the frame each (``details``,
  ``detail_list``);
- :class:`Columns` -- an object whose fields become columns (``detail``);
- :class:`ChannelRows` -- a list of ``{label, value}`` pairs, one row per reading channel
  (``read_user_source``): the record's own row becomes the ``all`` row;
- :class:`Positions` -- a small fixed list, one column per position
  (``read_jump_position`` -> ``jump_rate_1`` .. ``jump_rate_5``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from types import MappingProxyType
from typing import Literal

from wxframe.codes import (
    ALL_CHANNELS,
    CHANNEL_CODES,
    CHANNEL_LABELS,
    CHANNELS,
    CHANNELS_ZH,
    CODE_LISTS,
    LANGS,
    SCENE_CODES,
    SCENES,
    SCENES_ZH,
    SOURCE_CODES,
    SOURCES,
    SOURCES_ZH,
    Codes,
    DisplayName,
    Labels,
    Lang,
    check_lang,
)
from wxframe.dates import FIRST_DAY, Window, as_date, check_range, windows_between
from wxframe.errors import (
    InvalidDateError,
    RangeClippedWarning,
    UnknownEndpointError,
)

__all__ = [
    "ALL_ONLY_SINCE",
    "CHANNELS",
    "CHANNELS_ZH",
    "CHANNEL_CODES",
    "CHANNEL_LABELS",
    "CODE_LISTS",
    "CURRENT_ENDPOINTS",
    "ENDPOINTS",
    "LANGS",
    "OFFLINE_ENDPOINTS",
    "SCENES",
    "SCENES_ZH",
    "SCENE_CODES",
    "SOURCES",
    "SOURCES_ZH",
    "SOURCE_CODES",
    "ChannelRows",
    "Codes",
    "Columns",
    "DisplayName",
    "Endpoint",
    "Field",
    "Labels",
    "Lang",
    "Positions",
    "Rows",
    "check_lang",
    "clip_to_first_days",
    "get_endpoint",
    "iter_endpoints",
    "plan_windows",
]

#: The current family's data starts on this day.
CURRENT_FIRST_DAY = date(2025, 11, 1)
#: From this day on, getuserread gives the ``all_only`` measures (``ori_page_*``,
#: ``add_to_fav_*``) on the all row (99999999) only: its channel rows send 0 there, which
#: means "not given" (``<NA>`` in the frame). Answers for earlier days carry them on every
#: channel row, and those values are the platform's (kept). Source: the platform's page
#: for the six endpoints, note 5: "2020年2月28日起 ... 原文页阅读、收藏，只在图文统计数据
#: (getuserread)中提供，并只提供<全部>数据" (API-NOTES.md, "Rules of the data").
ALL_ONLY_SINCE = date(2020, 2, 28)

#: What a field is. Counters (``people``, ``events``, ``money``) are counts over the
#: row's period or, with ``cumulative``, since the article was published; a ``level``
#: is a state (followers, recipients); ``rate`` and ``average`` are floats that are
#: never summed or differenced.
Role = Literal[
    "date", "hour", "msgid", "code", "text", "flag",
    "people", "events", "money", "level", "rate", "average",
]  # fmt: skip
#: Roles whose values are measurements (not identity or description).
MEASURES = frozenset({"people", "events", "money", "level", "rate", "average"})
Status = Literal["current", "offline"]


@dataclass(frozen=True)
class Field:
    """One field of a record: its API name and what it is.

    ``role`` says how the value is typed and used (see :data:`Role`): ``date``
    (``YYYY-MM-DD``), ``hour`` (``ref_hour``, 0..2300 -> 0..23), ``msgid`` (adds
    ``msg_data_id`` and ``msg_index``), ``code`` (an integer code; with ``codes``, a
    categorical label column too), ``text``, ``flag`` (a boolean), and the measures
    ``people`` / ``events`` / ``money`` (non-negative counts), ``level``, ``rate`` and
    ``average`` (floats). ``cumulative`` marks a running total since publishing;
    ``all_only`` a measure the platform gives only on the all-channel row.
    """

    name: str
    role: Role = "events"
    cumulative: bool = False
    all_only: bool = False
    codes: Codes | None = None

    @property
    def dtype(self) -> str:
        """How the value is typed: ``date``, ``hour``, ``str``, ``bool``, ``float`` or ``int``."""
        if self.role in ("date", "hour", "flag"):
            return {"date": "date", "hour": "hour", "flag": "bool"}[self.role]
        if self.role in ("msgid", "text"):
            return "str"
        if self.role in ("rate", "average"):
            return "float"
        return "int"

    @property
    def is_measure(self) -> bool:
        return self.role in MEASURES


@dataclass(frozen=True)
class Rows:
    """A list of objects in each record: one row of the frame per entry."""

    name: str
    fields: tuple[Part, ...]


@dataclass(frozen=True)
class Columns:
    """An object in each record: its fields become columns of the record's row."""

    name: str
    fields: tuple[Part, ...]


@dataclass(frozen=True, eq=False)
class ChannelRows:
    """A list of ``{label: ..., value: ...}`` pairs: readers per reading channel.

    The row that holds the list becomes the ``all`` row (it keeps every other field);
    each pair other than the ``all`` label adds a row with ``into`` = its value and every
    other measure ``<NA>``. The frame gains ``label`` (the platform's text, kept as
    sent) and ``codes.column`` (a categorical over the same categories as getuserread's
    ``channel``; a label never seen before becomes a category of its own after them).
    """

    name: str
    label: str
    value: str
    into: str
    labels: Mapping[str, str]
    codes: Codes

    @property
    def all_label(self) -> str:
        return next(k for k, v in self.labels.items() if v == self.codes.labels[ALL_CHANNELS])


@dataclass(frozen=True)
class Positions:
    """A small list of ``{key: n, value: x}`` entries: one float column per position."""

    name: str
    key: str
    value: str
    count: int
    column: str  # a format with one ``{}`` for the position

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.column.format(p) for p in range(1, self.count + 1))


Part = Field | Rows | Columns | ChannelRows | Positions


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
        The parts of each record of ``records``: :class:`Field` s and nested parts.
    description:
        What one row of the tidy frame is.
    loader:
        The name of its loader in :mod:`wxframe` (``load_user_read``).
    earliest:
        The first day it has data for.
    status:
        ``"current"``, or ``"offline"`` (the platform answers 47009) with
        ``successors`` naming what to use instead.
    records:
        The response's key holding the list of records.
    response_fields:
        Fields of the response itself (``is_delay``), copied onto each of its rows.
    settles_after:
        Days its numbers keep changing from the day a row is partitioned by: 1 (final
        after 08:00 the next day), 7 for getarticletotal, 30 for getarticletotaldetail.
    partition:
        The date column the store partitions rows by.
    stat_date:
        For endpoints whose rows follow a day over its life: the column of the day
        the numbers are for (the frame gains ``day`` = days since ``partition``).
    ignored:
        Fields the API sends that carry no data here: kept out of the frame while every
        value is 0 (or missing). A value other than 0 is the platform's and is kept, as
        a column after the known ones (getusercumulate's ``user_source``).
    """

    name: str
    max_span: int
    key: tuple[str, ...]
    fields: tuple[Part, ...]
    description: str
    loader: str
    earliest: date = FIRST_DAY
    status: Status = "current"
    successors: tuple[str, ...] = ()
    records: str = "list"
    response_fields: tuple[Field, ...] = ()
    settles_after: int = 1
    partition: str = "ref_date"
    stat_date: str | None = None
    ignored: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return f"/datacube/{self.name}"

    @cached_property
    def all_fields(self) -> tuple[Field, ...]:
        """Every :class:`Field` of the record, nested ones included, then the response's."""
        return (*_fields_of(self.fields), *self.response_fields)

    def field(self, name: str) -> Field | None:
        """The declared field called ``name`` (nested or not), if any."""
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.all_fields}

    @cached_property
    def channel_rows(self) -> ChannelRows | None:
        """The :class:`ChannelRows` part, if the records carry readers per channel."""
        return next((p for p in self.nested_parts if isinstance(p, ChannelRows)), None)

    @cached_property
    def nested_parts(self) -> tuple[Rows | Columns | ChannelRows | Positions, ...]:
        """Every nested part of the record, outermost first."""
        return tuple(p for p in _parts_of(self.fields) if not isinstance(p, Field))

    @property
    def cumulative(self) -> tuple[str, ...]:
        """The running totals (what :func:`wxframe.to_daily` differences)."""
        return tuple(f.name for f in self.all_fields if f.cumulative)

    def windows(self, begin: date, end: date) -> list[Window]:
        """The fewest windows of at most ``max_span`` days covering ``begin..end``."""
        return windows_between(begin, end, self.max_span)

    def calls(self, days: int) -> int:
        """How many requests ``days`` consecutive days take: ``ceil(days / max_span)``."""
        return math.ceil(days / self.max_span)


def _parts_of(parts: Iterable[Part]) -> Iterator[Part]:
    for p in parts:
        yield p
        if isinstance(p, Rows | Columns):
            yield from _parts_of(p.fields)


def _fields_of(parts: Iterable[Part]) -> Iterator[Field]:
    for p in _parts_of(parts):
        if isinstance(p, Field):
            yield p


# ------------------------------------------------------------------ declarations
def _people(*names: str, cumulative: bool = False) -> tuple[Field, ...]:
    return tuple(Field(n, "people", cumulative=cumulative) for n in names)


def _counts(*names: str, cumulative: bool = False, all_only: bool = False) -> tuple[Field, ...]:
    """``*_user`` fields count people, the others (``*_count``, ``*_cnt``) events."""
    return tuple(
        Field(
            n,
            "people" if n.endswith("_user") else "events",
            cumulative=cumulative,
            all_only=all_only,
        )
        for n in names
    )


_READ_OLD = ("int_page_read_user", "int_page_read_count")
_ORI = ("ori_page_read_user", "ori_page_read_count")
_SHARE_OLD = ("share_user", "share_count")
_FAV = ("add_to_fav_user", "add_to_fav_count")
_SUMMARY_COUNTERS = _READ_OLD + _ORI + _SHARE_OLD + _FAV
_SOURCES_OLD = ("session", "hist_msg", "feed", "friends", "other", "kanyikan", "souyisou")
#: getarticletotal's per-channel reads and its shares by origin.
_FROM_CHANNELS = tuple(
    f"int_page_from_{s}_read_{m}" for s in _SOURCES_OLD for m in ("user", "count")
)
_FEED_SHARES = tuple(
    f"feed_share_from_{s}_{m}" for s in ("session", "feed", "other") for m in ("user", "cnt")
)
_DAY = Field("ref_date", "date")
_ARTICLE = (_DAY, Field("msgid", "msgid"))
_IS_DELAY = (Field("is_delay", "flag"),)
_SCENE_USERS = ChannelRows(
    "read_user_source",
    label="scene_desc",
    value="user_count",
    into="read_user",
    labels=CHANNEL_LABELS,
    codes=CHANNEL_CODES,
)
#: getbizsummary's and getarticletotaldetail's engagement counts, in the API's order.
_ENGAGEMENT = ("share_user", "zaikan_user", "like_user", "comment_count", "collection_user")

_OFFLINE: tuple[Endpoint, ...] = (
    Endpoint(
        name="getarticlesummary",
        max_span=1,
        key=("ref_date", "msgid"),
        fields=(*_ARTICLE, Field("title", "text"), *_counts(*_SUMMARY_COUNTERS)),
        description="one mass-sent article on one day: that day's numbers "
        "(only article-days over the platform's threshold)",
        loader="load_article_summary",
        status="offline",
        successors=("getarticleread", "getarticleshare"),
    ),
    Endpoint(
        name="getarticletotal",
        max_span=1,
        key=("msgid", "stat_date"),
        fields=(
            *_ARTICLE,
            Field("title", "text"),
            Rows(
                "details",
                (
                    Field("stat_date", "date"),
                    Field("target_user", "level"),
                    *_counts(*_SUMMARY_COUNTERS, cumulative=True),
                    *_counts(*_FROM_CHANNELS, *_FEED_SHARES, cumulative=True),
                ),
            ),
            Field("url", "text"),
            Field("user_source", "code"),
        ),
        description="one article sent on ref_date, on one stat_date within 7 days: "
        "numbers cumulative from sending to the end of stat_date",
        loader="load_article_total",
        status="offline",
        successors=("getarticletotaldetail",),
        settles_after=7,
        stat_date="stat_date",
    ),
    Endpoint(
        name="getuserread",
        max_span=3,
        key=("ref_date", "user_source"),
        fields=(
            _DAY,
            Field("user_source", "code", codes=CHANNEL_CODES),
            *_counts(*_READ_OLD),
            *_counts(*_ORI, all_only=True),
            *_counts(*_SHARE_OLD),
            *_counts(*_FAV, all_only=True),
        ),
        description="the whole account on one day, per user_source channel",
        loader="load_user_read",
        status="offline",
        successors=("getbizsummary",),
    ),
    Endpoint(
        name="getuserreadhour",
        max_span=1,
        key=("ref_date", "ref_hour", "user_source"),
        fields=(
            _DAY,
            Field("ref_hour", "hour"),
            Field("user_source", "code", codes=CHANNEL_CODES),
            *_counts(*_READ_OLD, *_SHARE_OLD),
        ),
        ignored=_ORI + _FAV,
        description="the whole account in one hour of one day, per user_source channel",
        loader="load_user_read_hour",
        status="offline",
        successors=("getbizsummary",),
    ),
    Endpoint(
        name="getusershare",
        max_span=7,
        key=("ref_date", "share_scene"),
        fields=(
            _DAY,
            Field("share_scene", "code", codes=SCENE_CODES),
            *_counts(*_SHARE_OLD[::-1]),
        ),
        description="shares on one day, per share_scene",
        loader="load_user_share",
        status="offline",
        successors=("getarticleshare", "getbizsummary"),
    ),
    Endpoint(
        name="getusersharehour",
        max_span=1,
        key=("ref_date", "ref_hour", "share_scene"),
        fields=(
            _DAY,
            Field("ref_hour", "hour"),
            Field("share_scene", "code", codes=SCENE_CODES),
            *_counts(*_SHARE_OLD[::-1]),
        ),
        description="shares in one hour of one day, per share_scene",
        loader="load_user_share_hour",
        status="offline",
        successors=("getarticleshare",),
    ),
)

_CURRENT: tuple[Endpoint, ...] = (
    Endpoint(
        name="getbizsummary",
        max_span=30,
        key=("ref_date", "channel"),
        fields=(
            _DAY,
            Columns(
                "detail",
                (
                    _SCENE_USERS,
                    *_people("read_user"),
                    *_counts(*_ENGAGEMENT, "redirect_ori_page_user", "send_page_count"),
                ),
            ),
        ),
        response_fields=_IS_DELAY,
        description="the whole account on one day, per reading channel (scene)",
        loader="load_biz_summary",
        earliest=CURRENT_FIRST_DAY,
    ),
    Endpoint(
        name="getarticleread",
        max_span=1,
        key=("ref_date", "msgid", "channel"),
        fields=(*_ARTICLE, Columns("detail", (_SCENE_USERS, *_people("read_user")))),
        response_fields=_IS_DELAY,
        description="one article read on one day (any article, whenever published), "
        "per reading channel (scene)",
        loader="load_article_read",
        earliest=CURRENT_FIRST_DAY,
    ),
    Endpoint(
        name="getarticleshare",
        max_span=1,
        key=("ref_date", "msgid"),
        fields=(*_ARTICLE, Columns("detail", _people("share_user"))),
        response_fields=_IS_DELAY,
        description="one article shared on one day: how many people shared it",
        loader="load_article_share",
        earliest=CURRENT_FIRST_DAY,
    ),
    Endpoint(
        name="getarticletotaldetail",
        max_span=1,
        key=("msgid", "stat_date", "channel"),
        fields=(
            *_ARTICLE,
            Field("publish_type", "code"),
            Field("title", "text"),
            Field("content_url", "text"),
            Rows(
                "detail_list",
                (
                    Field("stat_date", "date"),
                    _SCENE_USERS,
                    *_people("read_user", cumulative=True),
                    *_counts(*_ENGAGEMENT, cumulative=True),
                    Field("praise_money", "money", cumulative=True),
                    *_people("read_subscribe_user", cumulative=True),
                    Field("read_delivery_rate", "rate"),
                    Field("read_finish_rate", "rate"),
                    Field("read_avg_activetime", "average"),
                    Positions(
                        "read_jump_position",
                        key="position",
                        value="rate",
                        count=5,
                        column="jump_rate_{}",
                    ),
                ),
            ),
        ),
        response_fields=_IS_DELAY,
        description="one article published on ref_date, on one stat_date within 30 days, "
        "per reading channel (scene): numbers cumulative from publishing to stat_date",
        loader="load_article_total_detail",
        earliest=CURRENT_FIRST_DAY,
        settles_after=30,
        stat_date="stat_date",
    ),
    Endpoint(
        name="getusersummary",
        max_span=7,
        key=("ref_date", "user_source"),
        fields=(
            _DAY,
            Field("user_source", "code", codes=SOURCE_CODES),
            *_people("new_user", "cancel_user"),
        ),
        response_fields=_IS_DELAY,
        description="follows and unfollows on one day, per follower channel "
        "(only channels with activity; a quiet day is one zero row)",
        loader="load_user_summary",
    ),
    Endpoint(
        name="getusercumulate",
        max_span=7,
        key=("ref_date",),
        fields=(_DAY, Field("cumulate_user", "level")),
        ignored=("user_source",),
        response_fields=_IS_DELAY,
        description="the account's total followers at the end of one day",
        loader="load_user_cumulate",
    ),
)

#: Every endpoint, current family first.
ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType({e.name: e for e in _CURRENT + _OFFLINE})
#: The endpoints the platform serves today (what loads and syncs use by default).
CURRENT_ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType(
    {n: e for n, e in ENDPOINTS.items() if e.status == "current"}
)
#: The six switched off in 2026 (errcode 47009): history, from stores and archives.
OFFLINE_ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType(
    {n: e for n, e in ENDPOINTS.items() if e.status == "offline"}
)


def get_endpoint(endpoint: object) -> Endpoint:
    """The registry entry for a name (or an ``Endpoint``), with a clear error otherwise.

    >>> get_endpoint("getuserread").max_span
    3
    >>> get_endpoint("getbizsummary").earliest
    datetime.date(2025, 11, 1)
    """
    if isinstance(endpoint, Endpoint):
        return endpoint
    if isinstance(endpoint, str) and endpoint in ENDPOINTS:
        return ENDPOINTS[endpoint]
    raise UnknownEndpointError(
        f"unknown endpoint {endpoint!r}; known endpoints: {', '.join(ENDPOINTS)}"
    )


def iter_endpoints(
    names: object = None, *, default: Mapping[str, Endpoint] = CURRENT_ENDPOINTS
) -> Iterator[Endpoint]:
    """Registry entries for ``names`` (``default``'s for ``None``), all validated first."""
    if names is None:
        yield from default.values()
        return
    if isinstance(names, str | Endpoint):
        names = [names]
    if not isinstance(names, Iterable):
        raise UnknownEndpointError(
            f"endpoints={names!r}: give a name, a list of names or None; "
            f"known endpoints: {', '.join(ENDPOINTS)}"
        )
    specs = [get_endpoint(n) for n in names]
    yield from specs


def plan_windows(endpoint: object, begin: object, end: object) -> list[Window]:
    """The fewest request windows that cover ``begin..end`` for ``endpoint``.

    Each window spans at most the endpoint's maximum (``end - begin`` less than it), every
    day is covered exactly once, and there are ``ceil(days / max_span)`` of them.

    Examples
    --------
    >>> [str(w) for w in plan_windows("getuserread", "2024-05-01", "2024-05-07")]
    ['2024-05-01..2024-05-03', '2024-05-04..2024-05-06', '2024-05-07..2024-05-07']
    """
    spec = get_endpoint(endpoint)
    b = as_date(begin, "begin")
    e = as_date(end, "end")
    if b > e:
        raise InvalidDateError(f"begin={b} is after end={e}: begin must be on or before end")
    window = clip_to_first_days([spec], b, e, refuse=True)[spec.name]
    assert window is not None  # refused otherwise
    return spec.windows(*window)


def clip_to_first_days(
    specs: Iterable[Endpoint],
    begin: date,
    end: date,
    *,
    refuse: bool = False,
    now: datetime | None = None,
    warn: bool = True,
    doing: str = "asking",
    stacklevel: int = 2,
) -> dict[str, Window | None]:
    """The one policy for a range that starts before an endpoint's first day.

    Days before an endpoint's first day hold no data (the platform answers garbage for
    them), so they are never asked for. A caller that names one endpoint for the range
    (:func:`~wxframe.load`, :func:`plan_windows`: ``refuse=True``) made a mistake, and it
    is refused before any request with an :class:`~wxframe.InvalidDateError` naming the
    first day. A caller that asks several endpoints at once (:func:`~wxframe.load_many`,
    :meth:`~wxframe.Store.sync`, ``wxframe doctor``'s next sync) may span both families
    on purpose: each endpoint gets the days from its own first day (``None`` when the
    range ends before it), and one :class:`~wxframe.RangeClippedWarning` names what was
    clipped (``warn=False`` where the begin was not the caller's own, as a store's
    default first day).

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     clipped = clip_to_first_days(
    ...         [ENDPOINTS["getbizsummary"], ENDPOINTS["getusercumulate"]],
    ...         date(2025, 10, 30), date(2025, 11, 2))
    >>> {name: str(w) for name, w in clipped.items()}
    {'getbizsummary': '2025-11-01..2025-11-02', 'getusercumulate': '2025-10-30..2025-11-02'}
    """
    out: dict[str, Window | None] = {}
    clipped = []
    for spec in specs:
        if begin >= spec.earliest:
            out[spec.name] = Window(begin, end)
            continue
        if refuse:  # raises, naming the days the endpoint has (up to yesterday by ``now``)
            check_range(begin, end, now=now, warn=False, earliest=spec.earliest, endpoint=spec.name)
        if end >= spec.earliest:
            out[spec.name] = Window(spec.earliest, end)
            clipped.append(f"{spec.name} from {spec.earliest}")
        else:
            out[spec.name] = None
            clipped.append(f"{spec.name} not at all (its data starts {spec.earliest})")
    if clipped and warn:
        warnings.warn(
            f"begin={begin} is before some endpoints' first day; {doing} {', '.join(clipped)}",
            RangeClippedWarning,
            stacklevel=stacklevel + 1,
        )
    return out
