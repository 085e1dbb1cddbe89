"""An answer's bytes -> Arrow: pyarrow's JSON reader, a batch at a time, and the guard
that keeps what it cannot read (too deep, not exact) from it."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from wxframe.endpoints import (
    ChannelRows,
    Columns,
    Endpoint,
    Field,
    Part,
    Positions,
    Rows,
)
from wxframe.nesting import MAX_NESTING, nesting_depth
from wxframe.pages import Page

__all__ = ["AnyPage", "TablePage", "decode", "decode_many", "nesting_depth"]


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
    >>> from wxframe.endpoints import get_endpoint
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
    >>> from wxframe.endpoints import get_endpoint
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
#: error, but that limit is the process's (a library may raise it): an answer between
#: the two was read or refused depending on what ran before. 500 is far above any
#: answer (6) and below Python's default limit (1,000), so the outcome is always the
#: same. An answer with more opening brackets than this is walked (a day of
#: getarticletotaldetail, ~100 KB, has about 2,000: well under a millisecond).
_MAX_NESTING = MAX_NESTING


def _shallow(body: bytes) -> bool:
    """Whether ``body`` nests arrays and objects at most :data:`_MAX_NESTING` deep.

    Counting its opening brackets settles nearly every answer at once; only one with
    more than that is walked (:func:`nesting_depth`), whatever its size: an answer of
    more than 16 MiB was once given to the reader unwalked, and one nested 30,000 deep
    killed the process."""
    if len(body) <= _MAX_NESTING:
        return True
    return (
        body.count(b"[") + body.count(b"{") <= _MAX_NESTING or nesting_depth(body) <= _MAX_NESTING
    )


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
