"""Raw API records to tidy, typed DataFrames: one code path for every endpoint.

Records go through pyarrow in one vectorised pass (type inference over every record, so
fields the registry does not know are kept, never dropped), their nested parts are
flattened as the registry declares them (:class:`~wxframe.endpoints.Rows`,
:class:`~wxframe.endpoints.Columns`, :class:`~wxframe.endpoints.ChannelRows`,
:class:`~wxframe.endpoints.Positions`), each field is checked and cast by its role, and
the frame comes out with pandas nullable dtypes:

- dates (``ref_date``, ``stat_date``): ``datetime64[ns]`` (naive Beijing calendar days);
- counts, levels and codes: ``Int64``; a value the API does not give for a row is ``<NA>``;
- rates and averages: ``Float64``; flags (``is_delay``): ``boolean``;
- ``ref_hour``: ``Int64`` hour 0..23; ``channel`` / ``scene`` / ``source``: categoricals;
- text: ``string``.

The bulk paths (:func:`~wxframe.load_many`, :meth:`~wxframe.Store.sync`) skip the
Python objects altogether: the client's workers hand on each answer's bytes
(:class:`~wxframe.pages.RawPage`), :func:`decode_many` reads a batch of them with one
pass of pyarrow's JSON reader (outside the GIL), and :func:`from_pages` takes those
tables as it takes lists of records.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from wxframe.endpoints import (
    ALL_CHANNELS,
    CHANNEL_CODES,
    ENDPOINTS,
    ChannelRows,
    Codes,
    Columns,
    Endpoint,
    Field,
    Part,
    Positions,
    Rows,
    get_endpoint,
)
from wxframe.errors import MalformedResponseError
from wxframe.pages import Page

__all__ = [
    "AnyPage",
    "TablePage",
    "conform",
    "decode",
    "decode_many",
    "empty_frame",
    "endpoint_of",
    "frame_dtypes",
    "from_pages",
    "to_frame",
]

USER_SOURCE_SINCE = pd.Timestamp(date(2020, 2, 28))
DATE_DTYPE: Final = "datetime64[ns]"
_INT = pd.Int64Dtype()
_FLOAT = pd.Float64Dtype()
_BOOL = pd.BooleanDtype()
_STR = pd.StringDtype()
_DTYPES: dict[str, Any] = {
    "date": DATE_DTYPE, "hour": _INT, "str": _STR, "bool": _BOOL, "float": _FLOAT, "int": _INT,
}  # fmt: skip
_HOURS = pa.array(range(0, 2400, 100), pa.int64())
_MSGID = r"^(?P<msg_data_id>\d+)(?:_(?P<msg_index>\d+))?$"
#: Arrow types as pandas' nullable dtypes (``to_pandas(types_mapper=NULLABLE.get)``).
NULLABLE = {pa.int64(): _INT, pa.string(): _STR, pa.float64(): _FLOAT, pa.bool_(): _BOOL}
#: Column added for sorting by a label column's category order; never returned.
_ORDER = "__wxframe_order"


class TablePage:
    """The records of one response decoded straight from its bytes, as an Arrow table.

    What the bulk paths (:func:`~wxframe.load_many`, :meth:`~wxframe.Store.sync`) make
    of the client's answers (:func:`decode_many`: pyarrow's JSON reader, without the
    GIL). :func:`from_pages` takes these and :class:`Page` alike, in one batch.
    """

    __slots__ = ("meta", "sent_at", "table")

    def __init__(
        self, table: pa.Table, meta: dict[str, Any] | None = None, sent_at: datetime | None = None
    ) -> None:
        self.table = table
        self.meta: dict[str, Any] = dict(meta or {})
        self.sent_at = sent_at

    def __len__(self) -> int:
        return self.table.num_rows

    def __repr__(self) -> str:
        return f"TablePage({self.table.num_rows} records, meta={self.meta})"


AnyPage = Page | TablePage


def decode(spec: Endpoint, body: bytes) -> TablePage | None:
    """One successful answer of ``spec`` from its raw bytes, or None to take the slow path.

    pyarrow's JSON reader parses the body against the registry's text and date fields
    (declared as strings, so a date is never guessed to be a timestamp) and infers every
    other field as :func:`pyarrow.array` would from ``json.loads``. Anything it cannot
    take exactly (an error answer, a record that is not an object, a value of another
    type than declared, an inferred timestamp) returns None: the caller decodes with
    ``json`` and :func:`to_frame` names what is wrong, as before.

    Examples
    --------
    >>> page = decode(get_endpoint("getusershare"),
    ...               b'{"list":[{"ref_date":"2024-05-01","share_scene":1,"share_count":3}]}')
    >>> page.table.column_names, len(page)
    (['ref_date', 'share_scene', 'share_count'], 1)
    >>> decode(get_endpoint("getusershare"), b'{"errcode":40001,"errmsg":"invalid"}') is None
    True
    """
    if body[:3] == b"\xef\xbb\xbf":
        body = body[3:]
    if body[:3] == b"\xef\xbb\xbf" or not _shallow(body):
        return None  # a second BOM (json refuses it), or too deep for the reader
    try:
        pages = _read_lines(spec, [body], newlines=b"\n" in body.strip())
    except RecursionError:  # nested too deep for the checks: json names it
        return None
    return pages[0] if pages else None


def decode_many(spec: Endpoint, bodies: Sequence[bytes]) -> list[TablePage | None]:
    """:func:`decode` of many answers of ``spec``, read in one pass where they can be.

    Answers on one line each, as the platform sends them, are read together as JSON
    Lines: the reader's fixed cost (150-200 us an answer, most of decoding one) is paid
    once for the batch, and the pages are slices of one table. If the batch does not
    read exactly as each answer alone would (an error answer, a type that differs
    between answers, a bad byte...), each answer is decoded alone. Either way the
    pages make the frame json makes of the answers; a page may come where
    :func:`decode` of that answer alone declines (None, the json way), when beside the
    others the reader takes it exactly: text that looks like a date in a field the
    registry does not know is a date to the reader alone, and text beside other text.

    Examples
    --------
    >>> pages = decode_many(get_endpoint("getarticleshare"), [
    ...     b'{"list":[{"ref_date":"2025-11-01","msgid":"2247490098_1",'
    ...     b'"detail":{"share_user":5}}],"is_delay":false}',
    ...     b'{"list":[],"is_delay":true}',
    ...     b'{"errcode":40001,"errmsg":"invalid credential"}'])
    >>> [None if page is None else (len(page), page.meta) for page in pages]
    [(1, {'is_delay': False}), (0, {'is_delay': True}), None]
    """
    lines = [_one_line(body) for body in bodies]
    together = [k for k, line in enumerate(lines) if line is not None]
    pages: dict[int, TablePage | None] = {}
    if len(together) > 1:
        with contextlib.suppress(RecursionError):  # nested too deep for the checks
            read = _read_lines(spec, [ln for ln in lines if ln is not None])
            if read is not None:
                pages = dict(zip(together, read, strict=True))
    return [pages[k] if k in pages else decode(spec, body) for k, body in enumerate(bodies)]


def _one_line(body: bytes) -> bytes | None:
    """``body`` without its byte-order mark if it is one JSON object on one line (and
    not nested too deep for the reader: see :func:`_shallow`)."""
    if body[:3] == b"\xef\xbb\xbf":
        body = body[3:]
    if body[:1] != b"{" or body[-1:] != b"}" or b"\n" in body or b"\r" in body:
        return None
    return body if _shallow(body) else None


#: Deepest nesting of arrays and objects an answer may have to be given to pyarrow's
#: JSON reader, whose inference of a field it does not know recurses once a level: at
#: 20,000 levels it overflows an 8 MiB stack and the process dies (pyarrow 26; 10,000
#: read). The registry's deepest answers have 6 levels; json and the checks here
#: recurse too, and refuse what is deeper than Python's recursion limit with a clear
#: error. A day of getarticletotaldetail (~100 KB) has about 2,000 opening brackets:
#: the limit is above that, so such answers are settled by counting them.
_MAX_NESTING = 5_000


def _shallow(body: bytes) -> bool:
    """Whether ``body`` nests arrays and objects at most :data:`_MAX_NESTING` deep.

    Counting its opening brackets settles nearly every answer at once; only one with
    more than that is walked (:func:`_depth`). Not checked: an answer over
    :data:`_UNCHECKED` bytes (a window's answer is at most a few MB; walking 200 MiB
    took longer than reading it)."""
    if len(body) <= _MAX_NESTING or len(body) > _UNCHECKED:
        return True
    return body.count(b"[") + body.count(b"{") <= _MAX_NESTING or _depth(body) <= _MAX_NESTING


#: Answers larger than this are given to the reader without :func:`_shallow`'s walk.
_UNCHECKED = 16 << 20
#: Bytes looked at in one step of :func:`_depth` (numpy's temporaries stay small).
_WALK = 1 << 20


def _depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body``, brackets in strings left
    out (a quote after an odd run of backslashes is part of its string), as a JSON
    reader tokenises it; a MiB at a time."""
    data = np.frombuffer(body, np.uint8)
    depth = deepest = 0
    inside = 0  # 1 while the walk is in a string
    slashes = 0  # the backslashes that end what was walked so far
    for start in range(0, len(data), _WALK):
        part = data[start : start + _WALK]
        quotes = np.flatnonzero(part == ord('"'))
        backslash = part == ord("\\")
        if len(quotes) and (slashes or backslash.any()):
            last_plain = np.maximum.accumulate(np.where(backslash, -1, np.arange(len(part))))
            before = np.maximum(quotes - 1, 0)
            run = np.where(quotes > 0, quotes - 1 - last_plain[before], 0)
            run += np.where((quotes == 0) | (last_plain[before] < 0), slashes, 0)
            quotes = quotes[run % 2 == 0]
        opens = np.flatnonzero((part == ord("[")) | (part == ord("{")))
        closes = np.flatnonzero((part == ord("]")) | (part == ord("}")))
        opens = opens[((np.searchsorted(quotes, opens) + inside) & 1) == 0]
        closes = closes[((np.searchsorted(quotes, closes) + inside) & 1) == 0]
        if len(opens) or len(closes):
            at = np.concatenate([opens, closes])
            step = np.concatenate([np.ones(len(opens), np.int64), np.full(len(closes), -1)])
            levels = depth + np.cumsum(step[np.argsort(at, kind="stable")])
            deepest, depth = max(deepest, int(levels.max())), int(levels[-1])
        inside ^= len(quotes) & 1
        plain = np.flatnonzero(~backslash)
        trailing = len(part) - 1 - int(plain[-1]) if len(plain) else len(part)
        slashes = trailing + (slashes if trailing == len(part) else 0)
    return deepest


def _read_lines(
    spec: Endpoint, lines: Sequence[bytes], *, newlines: bool = False
) -> list[TablePage] | None:
    """Answers of one line each as pages, from one read of all of them, or None if the
    reader cannot take every one of them exactly (see :func:`decode`). With
    ``newlines``, one answer whose JSON spans lines."""
    joined = b"\n".join(lines)
    if not _utf8(joined):  # pyarrow does not check UTF-8: bad bytes would reach the store
        return None
    options = pj.ParseOptions(
        explicit_schema=_wire_schema(spec),
        unexpected_field_behavior="infer",
        newlines_in_values=newlines,
    )
    read = pj.ReadOptions(use_threads=False, block_size=max(len(joined) + 1, 1 << 16))
    try:
        envelope = _read_envelope(pa.BufferReader(joined), read, options)
    except (pa.ArrowException, ValueError):
        return None
    if envelope.num_rows != len(lines) or _guessed(spec, envelope.schema):
        return None
    if pc.any(pc.not_equal(envelope.column("errcode"), 0)).as_py():
        return None
    lists = envelope.column(spec.records).combine_chunks()
    if lists.null_count:
        return None
    items = lists.flatten()
    if items.null_count or not pa.types.is_struct(items.type):
        return None
    metas: list[dict[str, Any]] = [{} for _ in lines]
    for f in spec.response_fields:
        values: list[Any] = [None] * len(lines)
        if f.name in envelope.column_names:
            column = envelope.column(f.name)
            if not (pa.types.is_boolean(column.type) or pa.types.is_null(column.type)):
                return None
            values = column.to_pylist()
        for meta, value in zip(metas, values, strict=True):
            meta[f.name] = value
    floats = _float_fields(spec)
    if floats and _inexact(items, floats):
        return None
    table = pa.Table.from_struct_array(items)
    if len(lines) == 1:
        return [TablePage(table, metas[0])]
    ends = np.cumsum(pc.list_value_length(lists).to_numpy(zero_copy_only=False))
    starts = np.concatenate([[0], ends[:-1]])
    return [
        TablePage(table.slice(start, end - start), meta)
        for start, end, meta in zip(starts.tolist(), ends.tolist(), metas, strict=True)
    ]


def _utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8 (checked by Arrow without making a str: a tenth
    of the time for text that is not ASCII)."""
    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    raw = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        raw.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _inexact(values: pa.Array, floats: frozenset[str]) -> bool:
    """Whether a float field anywhere in ``values`` holds a number of 2**53 or more: the
    reader reads an integer there as a rounded double, where json keeps it exact and
    typing refuses it (beyond int64, or beside floats), or a float json would take too."""
    if pa.types.is_struct(values.type):
        for k, f in enumerate(values.type):
            child = values.field(k)
            if pa.types.is_floating(f.type) and f.name in floats:
                top = pc.max(pc.abs(child)).as_py()
                if top is not None and top >= 2**53:
                    return True
            elif pa.types.is_nested(f.type) and _inexact(child, floats):
                return True
    elif pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
        return _inexact(pc.list_flatten(values), floats)
    return False


#: pyarrow 20's streaming reader (None before): see :func:`_read_envelope`.
_open_json = getattr(pj, "open_json", None)


def _read_envelope(source: pa.NativeFile, read: pj.ReadOptions, parse: pj.ParseOptions) -> pa.Table:
    """The answer's one block as a table: the streaming reader where pyarrow has it
    (20+), which reads in the calling thread; ``read_json`` starts a thread of its own
    for every body, even with ``use_threads=False`` (twice the time for an answer of a
    few KB, and a futex storm among a fetch's workers)."""
    if _open_json is None:
        return pj.read_json(source, read_options=read, parse_options=parse)
    return _open_json(source, read_options=read, parse_options=parse).read_all()


@functools.cache
def _wire_schema(spec: Endpoint) -> pa.Schema:
    """The envelope of ``spec``'s answers with its text and date fields as strings."""

    def declared(parts: Sequence[Part]) -> list[pa.Field]:
        out = []
        for part in parts:
            if isinstance(part, Field) and part.dtype in ("date", "str"):
                out.append(pa.field(part.name, pa.string()))
            elif isinstance(part, Rows):
                out.append(pa.field(part.name, pa.list_(pa.struct(declared(part.fields)))))
            elif isinstance(part, Columns):
                out.append(pa.field(part.name, pa.struct(declared(part.fields))))
            elif isinstance(part, ChannelRows):
                item = pa.struct([pa.field(part.label, pa.string())])
                out.append(pa.field(part.name, pa.list_(item)))
        return out

    return pa.schema(
        [
            pa.field("errcode", pa.int64()),
            pa.field("errmsg", pa.string()),
            pa.field(spec.records, pa.list_(pa.struct(declared(spec.fields)))),
        ]
    )


@functools.lru_cache(maxsize=1024)
def _guessed(spec: Endpoint, schema: pa.Schema) -> bool:
    """Whether the reader guessed a type json + pyarrow would not have made, anywhere in
    the answer: a timestamp or date (from text that looks like one), or doubles in a
    field the registry does not declare a float (an integer beyond int64, or integers
    mixed with a ``1.0``: json + pyarrow refuse those or keep them exact). Cached: an
    endpoint's answers come in a few schemas, and walking one was 4 % of a sync."""
    floats = _float_fields(spec)

    def wrong(name: str, kind: pa.DataType) -> bool:
        if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            return True
        if pa.types.is_floating(kind):
            return name not in floats
        if pa.types.is_list(kind):
            return wrong(name, kind.value_type)
        return pa.types.is_struct(kind) and any(wrong(f.name, f.type) for f in kind)

    return any(wrong(f.name, f.type) for f in schema)


@functools.cache
def _float_fields(spec: Endpoint) -> frozenset[str]:
    """The names whose values are floats: rates, averages, positions' values."""
    names = {f.name for f in spec.all_fields if f.dtype == "float"}
    return frozenset(names | {p.value for p in spec.nested_parts if isinstance(p, Positions)})


# ------------------------------------------------------------------------ schema
@functools.cache
def _columns(spec: Endpoint) -> tuple[tuple[str, Any], ...]:
    """The tidy frame's known columns and dtypes, in order (derived ones included).

    Each field in declaration order (nested ones where their part stands), each followed
    by what is derived from it; the response's fields last. Cached: every frame of an
    endpoint asks for it, several times.
    """
    cols: list[tuple[str, Any]] = []

    def visit(parts: Sequence[Part]) -> None:
        for part in parts:
            if isinstance(part, Rows | Columns):
                visit(part.fields)
            elif isinstance(part, ChannelRows):
                categories = part.codes.categories()
                cols.append((part.codes.column, pd.CategoricalDtype(categories, ordered=False)))
                cols.append((part.label, _STR))
            elif isinstance(part, Positions):
                cols.extend((name, _FLOAT) for name in part.columns)
            else:
                cols.append((part.name, _DTYPES[part.dtype]))
                cols.extend(_derived_from(spec, part))

    visit(spec.fields)
    cols.extend((f.name, _DTYPES[f.dtype]) for f in spec.response_fields)
    return tuple(cols)


def _derived_from(spec: Endpoint, f: Field) -> list[tuple[str, Any]]:
    if f.role == "msgid":
        return [("msg_data_id", _INT), ("msg_index", _INT)]
    if f.codes is not None:
        return [(f.codes.column, pd.CategoricalDtype(f.codes.categories(), ordered=False))]
    if f.name == spec.stat_date:
        return [("day", _INT)]
    return []


@functools.cache
def _derived(spec: Endpoint) -> frozenset[str]:
    """Columns computed from others (not read from the records as they are)."""
    out = {name for f in spec.all_fields for name, _ in _derived_from(spec, f)}
    if spec.channel_rows is not None:
        out.add(spec.channel_rows.codes.column)
    return frozenset(out)


def frame_dtypes(endpoint: str | Endpoint) -> dict[str, Any]:
    """The column names and dtypes of ``endpoint``'s tidy frame (without extra columns).

    >>> list(frame_dtypes("getusershare"))
    ['ref_date', 'share_scene', 'scene', 'share_count', 'share_user']
    >>> list(frame_dtypes("getarticleshare"))
    ['ref_date', 'msgid', 'msg_data_id', 'msg_index', 'share_user', 'is_delay']
    """
    return dict(_columns(get_endpoint(endpoint)))


def empty_frame(endpoint: str | Endpoint) -> pd.DataFrame:
    """A frame with no rows and the full schema of ``endpoint``."""
    return pd.DataFrame(
        {name: pd.Series(dtype=dtype) for name, dtype in _columns(get_endpoint(endpoint))}
    )


# ----------------------------------------------------------------------- parsing
def to_frame(endpoint: str | Endpoint, records: Any) -> pd.DataFrame:
    """The tidy typed frame of ``endpoint`` from raw API records.

    ``records`` is a whole response (``{"list": [...], "is_delay": false}``), the
    ``list`` of one, or a :class:`Page`, as saved JSON gives it. The frame is sorted by
    the endpoint's natural key and unique on it (rows repeated exactly are kept once;
    rows that share a key but disagree raise), with a fresh RangeIndex. Fields of the
    response (``is_delay``) are on every row: ``<NA>`` when only the ``list`` is given.

    Examples
    --------
    >>> df = to_frame("getusershare", [
    ...     {"ref_date": "2014-12-07", "share_scene": 1, "share_count": 207, "share_user": 11},
    ...     {"ref_date": "2014-12-07", "share_scene": 5, "share_count": 23, "share_user": 11},
    ... ])
    >>> df[["share_scene", "scene", "share_count"]]
       share_scene    scene  share_count
    0            1  friends          207
    1            5   code_5           23

    A scene list becomes one row per channel, the record itself the ``all`` row:

    >>> df = to_frame("getarticleread", {"list": [{"ref_date": "2025-11-01",
    ...     "msgid": "2247490098_1", "detail": {"read_user": 4123, "read_user_source": [
    ...         {"user_count": 4123, "scene_desc": "全部"},
    ...         {"user_count": 234, "scene_desc": "公众号消息"}]}}], "is_delay": False})
    >>> df[["msgid", "channel", "scene_desc", "read_user", "is_delay"]]
              msgid  channel scene_desc  read_user  is_delay
    0  2247490098_1      all         全部       4123     False
    1  2247490098_1  session      公众号消息        234     False
    """
    spec = get_endpoint(endpoint)
    meta: dict[str, Any] = {}
    if isinstance(records, Page):
        meta = records.meta
    elif isinstance(records, Mapping):
        if spec.records not in records:
            raise MalformedResponseError(
                f"{spec.name}: a response must have a {spec.records!r}; "
                f"got keys {sorted(records)[:10]}"
            )
        meta = {f.name: records.get(f.name) for f in spec.response_fields}
        records = records[spec.records]
    if not isinstance(records, list | tuple):
        raise MalformedResponseError(
            f"{spec.name}: {spec.records!r} must be a JSON array of records, "
            f"got {type(records).__name__}"
        )
    return from_pages(spec, [(records, meta)])


def from_pages(
    endpoint: str | Endpoint,
    pages: Sequence[tuple[Sequence[Any] | pa.Table | TablePage, Mapping[str, Any]]],
) -> pd.DataFrame:
    """One tidy frame from several responses: ``(records, response fields)`` each.

    What a loader does with its windows' answers: one parse over all records, each row
    keeping its own response's ``is_delay``. Records are a list of objects or an Arrow
    table of them (:attr:`TablePage.table`).
    """
    spec = get_endpoint(endpoint)
    with _nesting(spec):
        table = _pages_table(spec, pages)
        return empty_frame(spec) if table is None else _frame(spec, _tidy(spec, table))


def stored_from_pages(
    spec: Endpoint,
    pages: Sequence[tuple[Sequence[Any] | pa.Table | TablePage, Mapping[str, Any]]],
) -> pa.Table:
    """:func:`from_pages` as the store writes it (:func:`stored`), without pandas."""
    with _nesting(spec):
        table = _pages_table(spec, pages)
        return empty_stored(spec) if table is None else stored(_tidy(spec, table))


@contextlib.contextmanager
def _nesting(spec: Endpoint) -> Iterator[None]:
    """A record nested deeper than typing can recurse, as a clear error."""
    try:
        yield
    except RecursionError:
        raise MalformedResponseError(
            f"{spec.name}: a record nests arrays or objects too deep to type "
            f"(the registry's deepest have 6 levels)"
        ) from None


def _pages_table(
    spec: Endpoint,
    pages: Sequence[tuple[Sequence[Any] | pa.Table | TablePage, Mapping[str, Any]]],
) -> pa.Table | None:
    """The pages' records as one flat Arrow table (nested parts spread), or None if
    there are none."""
    parts = [(r.table if isinstance(r, TablePage) else r, meta) for r, meta in pages]
    if not any(len(records) for records, _ in parts):
        return None
    table = None
    if any(isinstance(r, pa.Table) for r, _ in parts):
        # Answers decoded from their bytes, and any the reader declined, as json: each
        # run of the latter typed at once, in the pages' order (their response fields
        # follow it), then only the union of the tables' types is left to find.
        tables: list[pa.Table] = []
        for decoded, run in itertools.groupby(parts, key=lambda p: isinstance(p[0], pa.Table)):
            found = [r for r, _ in run if len(r)]
            if decoded:
                tables += found
            elif found:
                tables.append(_to_table(spec, list(itertools.chain(*found))))
        if _concatenable(tables):
            with contextlib.suppress(pa.ArrowException):  # a field of two types: see below
                table = pa.concat_tables(tables, promote_options="permissive")
    if table is None:
        # No answer was decoded, or the tables disagree on a field's type: all of
        # them go through pyarrow's inference at once, which names what is wrong.
        lists = [r.to_pylist() if isinstance(r, pa.Table) else r for r, _ in parts]
        table = _to_table(spec, lists[0] if len(lists) == 1 else list(itertools.chain(*lists)))
    for f in spec.response_fields:
        table = table.append_column(f.name, _response_column(spec, f, parts))
    table = _unnest(spec, spec.fields, table)
    if not table.num_rows:  # every record's nested list was empty
        return None
    if spec.channel_rows is not None:
        table = _channel_rows(spec, spec.channel_rows, table)
    return table


def _concatenable(tables: Sequence[pa.Table]) -> bool:
    """Whether decoded tables can be joined as they are: the same type for each nested
    field wherever it appears, but for the order of a struct's fields (flat fields may
    differ: int64 and double, null and any, as pyarrow's inference over all the records
    would have made them)."""
    first: dict[str, object] = {}
    for table in tables:
        for f in table.schema:
            if pa.types.is_nested(f.type):
                shape = _shape(f.type)
                if first.setdefault(f.name, shape) != shape:
                    return False
    return True


def _shape(kind: pa.DataType) -> object:
    """``kind`` with its structs' fields in name order: the reader puts the declared text
    fields first, ``pa.array`` keeps the records' order, and a permissive concat joins
    structs by name."""
    if pa.types.is_struct(kind):
        return ("struct", tuple(sorted((f.name, _shape(f.type)) for f in kind)))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return ("list", _shape(kind.value_type))
    return kind


def _to_table(spec: Endpoint, records: Sequence[Any]) -> pa.Table:
    # pyarrow infers one struct type over every record (the union of their keys), in C:
    # the only per-record Python work is on the error paths.
    try:
        arr = pa.array(records)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise _diagnose(spec, records, exc) from None
    except UnicodeEncodeError:  # json takes a lone surrogate escape ("\ud800"), text cannot
        raise MalformedResponseError(
            f"{spec.name}: a text value is not valid Unicode (a lone surrogate such as "
            "\\ud800, which the API should never send)"
        ) from None
    if not pa.types.is_struct(arr.type) or arr.null_count:
        raise _not_an_object(spec, records) or MalformedResponseError(
            f"{spec.name}: records are not JSON objects ({arr.type})"
        )
    return pa.Table.from_struct_array(arr)


def _response_column(
    spec: Endpoint, f: Field, pages: Sequence[tuple[Sequence[Any] | pa.Table, Mapping[str, Any]]]
) -> pa.Array:
    values = [meta.get(f.name) for _, meta in pages]
    bad = next((v for v in values if v is not None and not isinstance(v, bool)), None)
    if bad is not None:
        raise MalformedResponseError(
            f"{spec.name}: the response's {f.name!r} must be true or false, got {bad!r}"
        )
    counts = [len(records) for records, _ in pages]
    if len(set(values)) == 1:
        return pa.repeat(pa.scalar(values[0], pa.bool_()), sum(counts))
    return pa.array([v for v, n in zip(values, counts, strict=True) for _ in range(n)], pa.bool_())


def _not_an_object(spec: Endpoint, records: Sequence[Any]) -> MalformedResponseError | None:
    bad = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
    if bad is None:
        return None
    return MalformedResponseError(
        f"{spec.name}: record {bad} is {type(records[bad]).__name__}, not a JSON object"
    )


# ---------------------------------------------------------------------- flattening
def _unnest(spec: Endpoint, parts: Sequence[Part], table: pa.Table) -> pa.Table:
    """Flatten the declared nested parts into columns (and rows), outermost first."""
    for part in parts:
        if isinstance(part, Columns):
            table = _unnest(spec, part.fields, _spread(spec, part, table))
        elif isinstance(part, Rows):
            table = _unnest(spec, part.fields, _explode(spec, part, table))
        elif isinstance(part, Positions):
            table = _positions(spec, part, table)
    return table


def _combined(table: pa.Table, name: str) -> pa.Array:
    col = table.column(name)
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def _with_children(table: pa.Table, children: pa.StructArray | pa.Array, drop: str) -> pa.Table:
    """``table`` without ``drop`` and with the struct's fields as columns.

    A nested field wins over an outer one of the same name.
    """
    columns = {n: c for n, c in zip(table.column_names, table.columns, strict=True) if n != drop}
    if pa.types.is_struct(children.type):
        for field, child in zip(children.type, children.flatten(), strict=True):
            columns[field.name] = child
    return pa.table(columns) if columns else table.drop_columns([drop])


def _spread(spec: Endpoint, part: Columns, table: pa.Table) -> pa.Table:
    if part.name not in table.column_names:
        return table  # no object at all: its fields are NA
    obj = _combined(table, part.name)
    if pa.types.is_null(obj.type):
        return table.drop_columns([part.name])
    if not pa.types.is_struct(obj.type):
        raise MalformedResponseError(
            f"{spec.name}: {part.name!r} must be an object, got {obj.type}"
        )
    return _with_children(table, obj, part.name)


def _explode(spec: Endpoint, part: Rows, table: pa.Table) -> pa.Table:
    if part.name not in table.column_names:
        raise MalformedResponseError(f"{spec.name}: records have no '{part.name}' list")
    nested = _object_list(spec, _combined(table, part.name), part.name)
    parents = pc.list_parent_indices(nested)
    # Drop the list before repeating the outer columns: taken along, each record's whole
    # list would be copied once per entry.
    outer = table.drop_columns([part.name]).take(parents)
    return _with_children(outer, pc.list_flatten(nested), part.name)


def _object_list(spec: Endpoint, lst: pa.Array, name: str, what: str = "") -> pa.Array:
    """``lst`` as a list of structs: a null or all-empty column becomes empty lists.

    pyarrow types a column whose lists are all empty (``[]``) as a list of nulls; that
    is no entries, not a malformed answer. A null *entry* is malformed.
    """
    what = what or "a list of objects"
    if pa.types.is_null(lst.type):
        return pa.array([[]] * len(lst), pa.list_(pa.struct([])))
    if pa.types.is_list(lst.type) and pa.types.is_null(lst.type.value_type):
        if len(pc.list_flatten(lst)):
            raise MalformedResponseError(f"{spec.name}: {name!r} holds null entries, not objects")
        return pa.array([[]] * len(lst), pa.list_(pa.struct([])))
    if not (pa.types.is_list(lst.type) and pa.types.is_struct(lst.type.value_type)):
        raise MalformedResponseError(f"{spec.name}: {name!r} must be {what}, got {lst.type}")
    entries = pc.list_flatten(lst)
    if entries.null_count:
        raise MalformedResponseError(f"{spec.name}: {name!r} holds null entries, not objects")
    return lst


def _entries(
    spec: Endpoint, table: pa.Table, name: str, what: str
) -> tuple[np.ndarray, pa.StructArray] | None:
    """The entries of a list-of-objects column and the row each belongs to (None if absent)."""
    if name not in table.column_names:
        return None
    lst = _object_list(spec, _combined(table, name), name, what)
    parents = pc.list_parent_indices(lst).to_numpy(zero_copy_only=False)
    entries = pc.list_flatten(lst)
    return (parents, entries) if len(entries) else None


def _child(entries: pa.StructArray, name: str) -> pa.Array | None:
    index = entries.type.get_field_index(name)
    return None if index < 0 else entries.flatten()[index]


def _positions(spec: Endpoint, part: Positions, table: pa.Table) -> pa.Table:
    """``[{position: n, rate: x}, ...]`` as one float column per position, NA where absent."""
    n = table.num_rows
    what = f"a list of {{{part.key!r}: 1..{part.count}, {part.value!r}: number}} objects"
    found = _entries(spec, table, part.name, what)
    out = {name: np.full(n, np.nan) for name in part.columns}
    if found is not None:
        parents, entries = found
        keys = _child(entries, part.key)
        values = _child(entries, part.value)
        if keys is None or values is None:
            raise MalformedResponseError(f"{spec.name}: {part.name!r} must be {what}")
        keys = _as_int(spec, f"{part.name}.{part.key}", keys)
        in_range = pc.and_(pc.greater_equal(keys, 1), pc.less_equal(keys, part.count))
        if not pc.all(in_range.fill_null(False)).as_py():
            wrong = {p for p in keys.to_pylist() if p is None or not 1 <= p <= part.count}
            raise MalformedResponseError(
                f"{spec.name}: {part.name}.{part.key} must be 1..{part.count}; "
                f"got {sorted(wrong, key=str)[:5]}"
            )
        positions = keys.to_numpy()
        rates = _as_float(spec, f"{part.name}.{part.value}", values)
        rates_np = rates.fill_null(np.nan).to_numpy(zero_copy_only=False)
        slot = parents * part.count + (positions - 1)
        if np.bincount(slot).max(initial=0) > 1:
            raise MalformedResponseError(
                f"{spec.name}: a {part.name!r} list names one {part.key} twice"
            )
        for p, name in enumerate(part.columns, start=1):
            at = positions == p
            out[name][parents[at]] = rates_np[at]
    raw = None
    if found is not None and any(f.name not in (part.key, part.value) for f in found[1].type):
        raw = _as_str(_combined(table, part.name))  # fields it does not know: kept as JSON
    table = table.drop_columns([part.name]) if part.name in table.column_names else table
    if raw is not None:
        table = table.append_column(part.name, raw)
    for name, values in out.items():
        table = table.append_column(name, pa.array(values, pa.float64(), mask=np.isnan(values)))
    return table


def _channel_rows(spec: Endpoint, part: ChannelRows, table: pa.Table) -> pa.Table:
    """Readers per channel as rows: the record's row is ``all``, each other label a row.

    Scene rows carry the row's identity and descriptions (dates, msgid, codes, text,
    flags) and ``into``; every other measure is NA there, as getuserread's channel rows
    have no ``ori_page_*``. Unknown labels become channels of their own.
    """
    codes = part.codes
    all_name = codes.labels[ALL_CHANNELS]
    n = table.num_rows
    what = f"a list of {{{part.value!r}: count, {part.label!r}: text}} objects"
    found = _entries(spec, table, part.name, what)
    base = table.drop_columns([part.name]) if part.name in table.column_names else table
    into = (
        _as_int(spec, part.into, _combined(base, part.into))
        if part.into in base.column_names
        else pa.nulls(n, pa.int64())
    )
    all_label = pa.nulls(n, pa.string())
    scene: pa.Table | None = None
    extras: dict[str, pa.Array] = {}
    if found is not None:
        parents, entries = found
        labels, values = _child(entries, part.label), _child(entries, part.value)
        if labels is None or values is None:
            raise MalformedResponseError(f"{spec.name}: {part.name!r} must be {what}")
        if not (pa.types.is_string(labels.type) or pa.types.is_null(labels.type)) or (
            labels.null_count
        ):
            sample = next((v for v in labels.to_pylist() if not isinstance(v, str)), None)
            raise MalformedResponseError(
                f"{spec.name}: {part.name}.{part.label} must be text, got {sample!r}"
            )
        counts = _as_int(spec, f"{part.name}.{part.value}", values)
        _check_counts(spec, f"{part.name}.{part.value}", counts)
        # Labels are matched without surrounding spaces, and kept as sent in ``label``.
        trimmed = pc.utf8_trim_whitespace(labels)
        is_all = pc.equal(trimmed, part.all_label).to_numpy(zero_copy_only=False)
        # Each record's 全部 entry, if it has one (the last, should it send two).
        entry_of = np.full(n, -1, dtype=np.int64)
        entry_of[parents[is_all]] = np.flatnonzero(is_all)
        all_entry = pa.array(entry_of, mask=entry_of < 0)
        # The all row: the record's own count, else its 全部 entry's.
        into = pc.coalesce(into, pc.take(counts, all_entry))
        all_label = pc.take(labels, all_entry)
        others = pa.array(~is_all)
        keep = [c for c in base.column_names if _identifies(spec, c) and c != part.into]
        scene = base.select(keep).take(pa.array(parents[~is_all]))
        scene = scene.append_column(part.into, counts.filter(others))
        scene = scene.append_column(part.label, labels.filter(others))
        scene = scene.append_column(codes.column, _label_names(part, trimmed.filter(others)))
        # Fields of the entries wxframe does not know: kept, on the rows they came with.
        for field, child in zip(entries.type, entries.flatten(), strict=True):
            if field.name not in (part.label, part.value) and field.name not in base.column_names:
                extras[field.name] = pc.take(child, all_entry)
                scene = scene.append_column(field.name, child.filter(others))
    out = base.drop_columns([part.into]) if part.into in base.column_names else base
    out = out.append_column(part.into, into)
    out = out.append_column(part.label, all_label)
    out = out.append_column(codes.column, pa.repeat(pa.scalar(all_name), n))
    for name, values in extras.items():
        out = out.append_column(name, values)
    if scene is not None and scene.num_rows:
        out = pa.concat_tables([out, scene], promote_options="default")
    return out


def _identifies(spec: Endpoint, column: str) -> bool:
    """Whether a column describes the row rather than measures it (dates, ids, text, flags)."""
    f = spec.field(column)
    return f is not None and not f.is_measure


def _label_names(part: ChannelRows, labels: pa.Array) -> pa.Array:
    """The platform's labels as channel names: known ones mapped, unknown ones kept."""
    known = pa.array(list(part.labels))
    names = pa.array(list(part.labels.values()))
    mapped = pc.take(names, pc.index_in(labels, value_set=known))
    return pc.coalesce(mapped, labels)


# -------------------------------------------------------------------------- typing
def _diagnose(spec: Endpoint, records: Sequence[Any], exc: Exception) -> MalformedResponseError:
    """Find the field whose values cannot be typed (slow path: errors only)."""
    not_object = _not_an_object(spec, records)
    if not_object is not None:
        return not_object
    objects: list[dict[str, Any]] = []
    _collect_objects(spec.fields, list(records), objects)
    kinds: dict[str, set[str]] = {}
    nested_names = {p.name for p in spec.nested_parts}
    for row in objects:
        for key, value in row.items():
            if key in nested_names:
                continue
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
                return MalformedResponseError(
                    f"{spec.name}: field {key!r} has {value}, beyond a 64-bit integer"
                )
            kinds.setdefault(key, set()).add(type(value).__name__)
    for key, seen in kinds.items():
        seen.discard("NoneType")
        if seen == {"int", "float"}:
            continue  # a number either way
        if len(seen) > 1:
            known = spec.field(key)
            expected = known.dtype if known is not None else "one type"
            return MalformedResponseError(
                f"{spec.name}: field {key!r} mixes {sorted(seen)} across records "
                f"(expected {expected})"
            )
    return MalformedResponseError(f"{spec.name}: records cannot be read: {exc}")


def _collect_objects(parts: Sequence[Part], objects: list[Any], out: list[dict[str, Any]]) -> None:
    """Every JSON object at every declared level of ``objects`` (for diagnosis)."""
    dicts = [o for o in objects if isinstance(o, dict)]
    out += dicts
    for p in parts:
        if isinstance(p, Columns):
            _collect_objects(p.fields, [d.get(p.name) for d in dicts], out)
        elif isinstance(p, Rows | ChannelRows | Positions):
            inner = [e for d in dicts if isinstance(d.get(p.name), list) for e in d[p.name]]
            _collect_objects(p.fields if isinstance(p, Rows) else (), inner, out)


def _as_int(spec: Endpoint, name: str, col: pa.ChunkedArray | pa.Array) -> pa.Array:
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    t = col.type
    if pa.types.is_integer(t) or pa.types.is_null(t):
        return col.cast(pa.int64())
    if pa.types.is_floating(t) or pa.types.is_string(t) or pa.types.is_large_string(t):
        try:
            return col.cast(pa.int64())  # integral floats and digit strings are fine
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    sample = next((v for v in col.to_pylist() if v is not None), None)
    raise MalformedResponseError(
        f"{spec.name}: field {name!r} must be an integer, got {t} (e.g. {sample!r})"
    )


def _as_float(spec: Endpoint, name: str, col: pa.ChunkedArray | pa.Array) -> pa.Array:
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    t = col.type
    if pa.types.is_floating(t) or pa.types.is_null(t):
        return col.cast(pa.float64())
    if pa.types.is_integer(t):
        try:
            return col.cast(pa.float64())
        except pa.ArrowInvalid:  # beyond 2**53: a double would change it
            sample = next(v for v in col.to_pylist() if v is not None and abs(v) > 2**53)
            raise MalformedResponseError(
                f"{spec.name}: field {name!r} is a number a double cannot hold exactly "
                f"(e.g. {sample!r}); a rate or an average is never that large"
            ) from None
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        try:
            return col.cast(pa.float64())  # "0.5": a number sent as text
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    sample = next((v for v in col.to_pylist() if v is not None), None)
    raise MalformedResponseError(
        f"{spec.name}: field {name!r} must be a number, got {t} (e.g. {sample!r})"
    )


def _as_bool(spec: Endpoint, name: str, col: pa.ChunkedArray | pa.Array) -> pa.Array:
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_boolean(col.type) or pa.types.is_null(col.type):
        return col.cast(pa.bool_())
    sample = next((v for v in col.to_pylist() if v is not None), None)
    raise MalformedResponseError(
        f"{spec.name}: field {name!r} must be true or false, got {col.type} (e.g. {sample!r})"
    )


def _as_str(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return col.cast(pa.string())
    if pa.types.is_null(t) or pa.types.is_integer(t) or pa.types.is_floating(t):
        return col.cast(pa.string())
    if pa.types.is_boolean(t):
        return pc.if_else(col, "true", "false").cast(pa.string())
    # Lists and objects the registry does not know: kept as their JSON text.
    return pa.array(
        [None if v is None else json.dumps(v, ensure_ascii=False) for v in col.to_pylist()],
        pa.string(),
    )


def _as_date(spec: Endpoint, name: str, col: pa.ChunkedArray | pa.Array) -> pa.Array:
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_null(col.type) and len(col):
        raise MalformedResponseError(f"{spec.name}: field {name!r} is missing from every record")
    if col.null_count:
        raise MalformedResponseError(
            f"{spec.name}: field {name!r} is missing from {col.null_count} record(s): "
            "a date a row is keyed or stored by cannot be left out"
        )
    try:
        if not pa.types.is_string(col.type):
            raise pa.ArrowInvalid("not a string")
        # Each distinct day checked and cast once: a nested answer repeats its days on
        # thousands of rows (getarticletotaldetail: ~700 rows a day).
        days = pc.dictionary_encode(col)
        valid = pc.match_substring_regex(days.dictionary, r"^\d{4}-\d{2}-\d{2}$")
        if not pc.all(valid).as_py():
            raise pa.ArrowInvalid("not YYYY-MM-DD")
        return days.dictionary.cast(pa.date32()).cast(pa.timestamp("ns")).take(days.indices)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = col.to_pylist()
        sample = next((v for v in values if not _is_iso_day(v)), values[0])
        raise MalformedResponseError(
            f"{spec.name}: field {name!r} must be a 'YYYY-MM-DD' date, got {sample!r}"
        ) from None


def _is_iso_day(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _typed(spec: Endpoint, f: Field, col: pa.Array) -> pa.Array:
    """One declared field's values, checked and cast by its role."""
    kind = f.dtype
    if kind == "date":
        return _as_date(spec, f.name, col)
    if kind == "str":
        return _as_str(col)
    if kind == "bool":
        return _as_bool(spec, f.name, col)
    if kind == "float":
        return _as_float(spec, f.name, col)
    values = _as_int(spec, f.name, col)
    if kind == "hour":
        return _hours(spec, values)
    if f.role in ("people", "events", "money", "level"):
        _check_counts(spec, f.name, values)
    return values


def _extra(spec: Endpoint, name: str, col: pa.Array) -> pa.Array:
    """A field the registry does not know: numbers and flags keep their type, else text."""
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_integer(col.type):
        return _as_int(spec, name, col)
    if pa.types.is_floating(col.type):
        return col.cast(pa.float64())
    if pa.types.is_boolean(col.type):
        return col
    return _as_str(col)


def _tidy(spec: Endpoint, table: pa.Table) -> pa.Table:
    """The tidy frame in Arrow: typed, derived, sorted by key and unique on it, its
    columns in order (extra fields last). Label columns (``channel``, ``scene``,
    ``source``) are dictionary arrays: codes into their categories."""
    present = set(table.column_names)
    n = table.num_rows
    derived = _derived(spec)
    out: dict[str, Any] = {}
    for name, _dtype in _columns(spec):
        if name in derived:
            continue
        f = spec.field(name)
        if f is None:  # a column a nested part made (channel label, jump rates)
            out[name] = table.column(name)
            continue
        if f.dtype == "date" and name not in present:
            raise MalformedResponseError(f"{spec.name}: records have no {name!r} field")
        out[name] = _typed(spec, f, table.column(name) if name in present else pa.nulls(n))
    known = set(out) | derived | set(spec.ignored)
    extra = {
        name: _extra(spec, name, table.column(name))
        for name in table.column_names
        if name not in known
    }
    arrow = pa.table(out | extra)
    sort_by = list(spec.key)
    if spec.channel_rows is not None:
        column = spec.channel_rows.codes.column
        names = table.column(column)
        categories = _label_categories(spec.channel_rows.codes, names)
        order = pc.index_in(names, value_set=pa.array(categories))
        arrow = arrow.append_column(_ORDER, order)
        sort_by = [_ORDER if k == column else k for k in sort_by]
    arrow = arrow.sort_by([(k, "ascending") for k in sort_by])
    columns = {name: arrow.column(name) for name in arrow.column_names}
    if spec.channel_rows is not None:
        codes = columns.pop(_ORDER).combine_chunks()
        columns[spec.channel_rows.codes.column] = pa.DictionaryArray.from_arrays(
            codes, pa.array(categories, pa.string())
        )
    _derive(spec, columns)
    table = pa.table({name: columns[name] for name, _ in _columns(spec)} | {
        name: columns[name] for name in extra
    })  # fmt: skip
    return _unique(spec, table)


def _frame(spec: Endpoint, tidy: pa.Table) -> pd.DataFrame:
    """The pandas frame of a tidy Arrow table: nullable dtypes, categoricals from codes."""
    labels = [i for i, f in enumerate(tidy.schema) if pa.types.is_dictionary(f.type)]
    categorical = {}
    for i in labels:
        column = tidy.column(i).combine_chunks()
        codes = column.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        dtype = pd.CategoricalDtype(column.dictionary.to_pylist(), ordered=False)
        categorical[tidy.field(i).name] = pd.Categorical.from_codes(codes, dtype=dtype)
    plain = tidy.drop_columns([tidy.field(i).name for i in labels])
    df = plain.to_pandas(types_mapper=NULLABLE.get, split_blocks=True)
    for name, values in categorical.items():
        df[name] = values
    return df if list(df.columns) == tidy.column_names else df[tidy.column_names]


def stored(tidy: pa.Table) -> pa.Table:
    """What the store writes of a tidy table: labels as text (rebuilt from codes on
    read), and the types and pandas metadata :meth:`pyarrow.Table.from_pandas` gives
    the tidy frame (so the files read back into the same dtypes with any pandas reader).
    """
    columns = [
        c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in tidy.columns
    ]
    flat = pa.table(columns, names=tidy.column_names)
    return flat.cast(stored_schema(flat.schema))


def empty_stored(spec: Endpoint) -> pa.Table:
    """The stored form of :func:`empty_frame`."""
    dtypes = {
        name: _STR if isinstance(dtype, pd.CategoricalDtype) else dtype
        for name, dtype in _columns(spec)
    }
    return _schema_from_pandas(tuple(dtypes.items())).empty_table()


def in_key_order(spec: Endpoint, table: pa.Table) -> pa.Table:
    """A stored table sorted by the endpoint's key as the tidy frame is (a channel label
    by its categories' order, not its text's); as it is when it already is."""
    keys = list(spec.key)
    keyed = table
    if spec.channel_rows is not None:
        column = spec.channel_rows.codes.column
        names = table.column(column)
        categories = pa.array(_label_categories(spec.channel_rows.codes, names), names.type)
        keyed = table.append_column(_ORDER, pc.index_in(names, value_set=categories))
        keys = [_ORDER if k == column else k for k in keys]
    if in_order(keyed, keys):
        return table
    keyed = keyed.sort_by([(k, "ascending") for k in keys])
    return keyed.drop_columns([_ORDER]) if _ORDER in keyed.column_names else keyed


def in_order(table: pa.Table, keys: Sequence[str]) -> bool:
    """Whether ``table`` is sorted by ``keys`` (each row's keys no greater than the
    next's): a fifth of the time of sorting it."""
    n = table.num_rows
    if n < 2:
        return True
    before = equal = None
    for key in keys:
        column = table.column(key)
        if column.null_count:
            return False
        x, y = column.slice(0, n - 1), column.slice(1)
        less, same = pc.less(x, y), pc.equal(x, y)
        before = less if before is None else pc.or_(before, pc.and_(equal, less))
        equal = same if equal is None else pc.and_(equal, same)
    return bool(pc.all(pc.or_(before, equal)).as_py())


@functools.lru_cache(maxsize=512)
def stored_schema(schema: pa.Schema) -> pa.Schema:
    """The schema (types and pandas metadata) ``from_pandas`` gives a tidy frame whose
    columns have ``schema``'s names and types. Found once per schema, on no rows: for
    the nullable dtypes the metadata does not depend on the values."""
    kinds = {f.name: _kind(f.type) for f in schema}
    unknown = [name for name, kind in kinds.items() if kind is None]
    if unknown:
        raise TypeError(f"no stored type for column(s) {unknown} of {schema}")
    return _schema_from_pandas(tuple((n, _STORED_DTYPES[str(k)]) for n, k in kinds.items()))


@functools.lru_cache(maxsize=512)
def _schema_from_pandas(dtypes: tuple[tuple[str, Any], ...]) -> pa.Schema:
    """What ``from_pandas`` makes of an empty frame with these columns and dtypes."""
    empty = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes})
    return pa.Table.from_pandas(empty, preserve_index=False).schema


def _kind(t: pa.DataType) -> str | None:
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_timestamp(t) and t.tz is None:
        return "date"
    return None


_STORED_DTYPES: dict[str, Any] = {
    "int": _INT, "float": _FLOAT, "bool": _BOOL, "str": _STR, "date": DATE_DTYPE,
}  # fmt: skip


def _label_categories(codes: Codes, names: pa.ChunkedArray | pa.Array) -> list[str]:
    """The known channel names, then the unknown ones present, sorted."""
    known = list(codes.labels.values())
    present = pc.unique(names.combine_chunks() if isinstance(names, pa.ChunkedArray) else names)
    unknown = sorted(v for v in present.to_pylist() if v is not None and v not in known)
    return codes.categories(unknown)


def _hours(spec: Endpoint, values: pa.Array) -> pa.Array:
    bad = pc.invert(pc.is_in(values, value_set=_HOURS))
    if pc.any(bad).as_py():
        wrong = sorted({v for v in values.filter(bad).to_pylist()}, key=str)[:5]
        raise MalformedResponseError(
            f"{spec.name}: ref_hour must be one of 0, 100, ..., 2300; got {wrong}"
        )
    return pc.divide(values, 100)


def _check_counts(spec: Endpoint, name: str, values: pa.Array) -> None:
    if len(values) and (pc.min(values).as_py() or 0) < 0:
        sample = values.filter(pc.less(values, 0))[0].as_py()
        raise MalformedResponseError(
            f"{spec.name}: field {name!r} is a count and cannot be negative, got {sample}"
        )


def _derive(spec: Endpoint, columns: dict[str, Any]) -> None:
    """The columns computed from others, added to ``columns``: msgid parts, day, code
    labels (dictionary arrays), getuserread's channel rules."""
    for f in spec.all_fields:
        if f.role == "msgid" and f.name in columns:
            column = columns[f.name]
            if isinstance(column, pa.ChunkedArray):
                column = column.combine_chunks()
            ids = pc.dictionary_encode(column)  # each article's id parsed once
            parts = pc.extract_regex(ids.dictionary, _MSGID)
            for part in ("msg_data_id", "msg_index"):
                arr = pc.struct_field(parts, part)
                arr = pc.if_else(pc.equal(arr, ""), None, arr)
                columns[part] = arr.cast(pa.int64()).take(ids.indices)
    if spec.stat_date is not None:
        columns["day"] = pc.days_between(columns[spec.partition], columns[spec.stat_date])
    for f in spec.all_fields:
        if f.codes is CHANNEL_CODES:
            _channel_code_rules(spec, columns, f.name)
        if f.codes is not None:
            columns[f.codes.column] = _labels(columns[f.name], f.codes.labels)


def _channel_code_rules(spec: Endpoint, columns: dict[str, Any], code: str) -> None:
    """getuserread's channel rules: no code before 2020-02-28 means all; all-only fields."""
    since = pa.scalar(USER_SOURCE_SINCE.to_pydatetime(), pa.timestamp("ns"))
    missing = pc.and_(pc.is_null(columns[code]), pc.less(columns[spec.partition], since))
    if pc.any(missing).as_py():
        # Before 2020-02-28 the platform gave only the all-channel row, without a code.
        columns[code] = pc.if_else(missing, ALL_CHANNELS, columns[code])
    channel_rows = pc.fill_null(pc.not_equal(columns[code], ALL_CHANNELS), False)
    if not pc.any(channel_rows).as_py():
        return
    for f in spec.all_fields:
        if f.all_only and f.name in columns:
            # Channel rows send 0 (or nothing) here: not a real zero.
            column = columns[f.name]
            columns[f.name] = pc.if_else(channel_rows, pa.scalar(None, column.type), column)


def _labels(codes: pa.ChunkedArray | pa.Array, labels: Mapping[int, str]) -> pa.DictionaryArray:
    """Codes as their labels: known ones in order, then unknown ones as code_<n>."""
    codes = codes.combine_chunks() if isinstance(codes, pa.ChunkedArray) else codes
    known = list(labels)
    present = pc.unique(codes.drop_null()).to_pylist()
    extra = sorted(set(present) - set(known))
    positions = pc.index_in(codes, value_set=pa.array([*known, *extra], pa.int64()))
    names = [*labels.values(), *(f"code_{int(c)}" for c in extra)]
    return pa.DictionaryArray.from_arrays(positions, pa.array(names, pa.string()))


def _categorical(codes: pd.Series, labels: Mapping[int, str]) -> pd.Categorical[str]:
    """Codes to a categorical of their labels: known ones in order, unknown as code_<n>."""
    known = np.fromiter(labels, dtype=np.int64)
    missing = codes.isna().to_numpy()
    values = codes.to_numpy(dtype=np.int64, na_value=-1)
    present = np.unique(values[~missing])
    extra = present[~np.isin(present, known)]
    everything = np.concatenate([known, extra])
    order = np.argsort(everything, kind="stable")
    positions = order[np.searchsorted(everything, values, sorter=order)]
    positions[missing] = -1
    names = [*labels.values(), *(f"code_{int(c)}" for c in extra)]
    return pd.Categorical.from_codes(positions, categories=pd.Index(names))


def _unique(spec: Endpoint, table: pa.Table) -> pa.Table:
    """``table`` (sorted by key) with rows repeated exactly kept once; rows that share a
    key but disagree raise. Sorted, a repeated key is two neighbouring rows."""
    if table.num_rows < 2 or not _neighbours_share_a_key(spec, table):
        return table
    df = _frame(spec, table)
    repeated = df.duplicated()
    if repeated.any():
        table = table.filter(pa.array(~repeated.to_numpy()))
        df = df[~repeated]
    key = list(spec.key)
    conflict = df.duplicated(key, keep=False)
    if conflict.any():
        first = df.loc[conflict, key].iloc[0].to_dict()
        raise MalformedResponseError(
            f"{spec.name}: {int(conflict.sum())} records share a key {tuple(key)} but "
            f"disagree, e.g. {first}"
        )
    return table


def _neighbours_share_a_key(spec: Endpoint, table: pa.Table) -> bool:
    same: pa.Array | None = None
    for name in spec.key:
        column = table.column(name).combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.indices
        a, b = column.slice(1), column.slice(0, len(column) - 1)
        # Two missing keys are the same key (as pandas' duplicated has it)
        equal = pc.fill_null(pc.equal(a, b), pc.and_(pc.is_null(a), pc.is_null(b)))
        same = equal if same is None else pc.and_(same, equal)
    return same is not None and pc.any(same).as_py()


def conform(endpoint: str | Endpoint, df: pd.DataFrame, *, copy: bool = True) -> pd.DataFrame:
    """``df`` with the tidy frame's exact dtypes and column order (extra columns last).

    For frames that went through a file: parquet keeps the values, this restores the
    nullable dtypes and the channel / scene categoricals (rebuilt from their codes).
    """
    spec = get_endpoint(endpoint)
    out = df.copy() if copy else df
    have = out.dtypes.to_dict()  # one lookup, not a Series per column
    for name, dtype in _columns(spec):
        if name not in have:
            out[name] = (
                pd.Series(pd.NA, index=out.index, dtype=dtype) if dtype != DATE_DTYPE else pd.NaT
            )
            have[name] = out[name].dtype
        if isinstance(dtype, pd.CategoricalDtype) or have[name] == dtype:
            continue
        if dtype == DATE_DTYPE:
            out[name] = pd.to_datetime(out[name]).astype(DATE_DTYPE)
        else:
            out[name] = out[name].astype(dtype)
    for f in spec.all_fields:
        if f.codes is not None:
            out[f.codes.column] = _categorical(out[f.name], f.codes.labels)
    if spec.channel_rows is not None:
        column = spec.channel_rows.codes.column
        names = out[column].astype("string")
        categories = _label_categories(spec.channel_rows.codes, pa.array(names, pa.string()))
        out[column] = pd.Categorical(names, categories=categories)
    order = [name for name, _ in _columns(spec)]
    columns = order + [c for c in out.columns if c not in order]
    return out if list(out.columns) == columns else out[columns]


def endpoint_of(df: pd.DataFrame) -> Endpoint | None:
    """The registry entry whose tidy frame ``df`` is, judged by its columns (None if none).

    The endpoint must have all its key columns in ``df``; of those, the one sharing the
    most columns with ``df`` wins (the registry's order breaks ties).

    >>> endpoint_of(empty_frame("getarticletotaldetail")).name
    'getarticletotaldetail'
    >>> endpoint_of(pd.DataFrame({"ref_date": [], "share_scene": []})).name
    'getusershare'
    """
    columns = set(map(str, df.columns))
    best: tuple[int, int, Endpoint | None] = (0, 0, None)
    for rank, spec in enumerate(reversed(list(ENDPOINTS.values()))):
        if not set(spec.key) <= columns:
            continue
        shared = len(columns & {name for name, _ in _columns(spec)})
        best = max(best, (shared, rank, spec), key=lambda t: (t[0], t[1]))
    return best[2]
