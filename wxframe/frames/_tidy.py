"""Records -> a tidy typed Arrow table: each field checked and cast by its role, derived
columns added, channel codes labelled, sorted and unique on the natural key."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, time
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wxframe.endpoints import (
    ALL_CHANNELS,
    ALL_ONLY_SINCE,
    CHANNEL_CODES,
    Endpoint,
    Field,
    get_endpoint,
)
from wxframe.errors import MalformedResponseError
from wxframe.frames._decode import TablePage
from wxframe.frames._schema import (
    MSGID,
    NULLABLE,
    ORDER,
    USER_SOURCE_SINCE,
    derived_names,
    frame_columns,
    label_categories,
    labelled_codes,
)
from wxframe.frames._unnest import channel_rows, unnest_parts
from wxframe.frames._values import (
    diagnose_records,
    extra_column,
    msgid_beyond_int64,
    not_an_object,
    typed_column,
)

__all__ = ["empty_frame", "nesting_guard", "pages_table", "tidy_table", "to_pandas"]


def empty_frame(endpoint: str | Endpoint) -> pd.DataFrame:
    """A frame with no rows and the full schema of ``endpoint``."""
    return pd.DataFrame(
        {name: pd.Series(dtype=dtype) for name, dtype in frame_columns(get_endpoint(endpoint))}
    )


@contextlib.contextmanager
def nesting_guard(spec: Endpoint) -> Iterator[None]:
    """A record nested deeper than typing can recurse, as a clear error."""
    try:
        yield
    except RecursionError:
        raise MalformedResponseError(
            f"{spec.name}: a record nests arrays or objects too deep to type "
            f"(the registry's deepest have 6 levels)"
        ) from None


def pages_table(
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
    table = unnest_parts(spec, spec.fields, table)
    if not table.num_rows:  # every record's nested list was empty
        return None
    if spec.channel_rows is not None:
        table = channel_rows(spec, spec.channel_rows, table)
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
        raise diagnose_records(spec, records, exc) from None
    except UnicodeEncodeError:  # json takes a lone surrogate escape ("\ud800"), text cannot
        raise MalformedResponseError(
            f"{spec.name}: a text value is not valid Unicode (a lone surrogate such as "
            "\\ud800, which the API should never send)"
        ) from None
    if not pa.types.is_struct(arr.type) or arr.null_count:
        raise not_an_object(spec, records) or MalformedResponseError(
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


def tidy_table(spec: Endpoint, table: pa.Table) -> pa.Table:
    """The tidy frame in Arrow: typed, derived, sorted by key and unique on it, its
    columns in order (extra fields last). Label columns (``channel``, ``scene``,
    ``source``) are dictionary arrays: codes into their categories."""
    present = set(table.column_names)
    n = table.num_rows
    derived = derived_names(spec)
    out: dict[str, Any] = {}
    for name, _dtype in frame_columns(spec):
        if name in derived:
            continue
        f = spec.field(name)
        if f is None:  # a column a nested part made (channel label, jump rates)
            out[name] = table.column(name)
            continue
        if f.dtype == "date" and name not in present:
            raise MalformedResponseError(f"{spec.name}: records have no {name!r} field")
        out[name] = typed_column(spec, f, table.column(name) if name in present else pa.nulls(n))
    known = set(out) | derived
    extra = {
        name: extra_column(spec, name, table.column(name))
        for name in table.column_names
        if name not in known and not (name in spec.ignored and _only_zeros(table.column(name)))
    }
    arrow = pa.table(out | extra)
    sort_by = list(spec.key)
    if spec.channel_rows is not None:
        column = spec.channel_rows.codes.column
        names = table.column(column)
        categories = label_categories(spec.channel_rows.codes, names)
        order = pc.index_in(names, value_set=pa.array(categories))
        arrow = arrow.append_column(ORDER, order)
        sort_by = [ORDER if k == column else k for k in sort_by]
    arrow = arrow.sort_by([(k, "ascending") for k in sort_by])
    columns = {name: arrow.column(name) for name in arrow.column_names}
    if spec.channel_rows is not None:
        codes = columns.pop(ORDER).combine_chunks()
        columns[spec.channel_rows.codes.column] = pa.DictionaryArray.from_arrays(
            codes, pa.array(categories, pa.string())
        )
    _derive(spec, columns)
    table = pa.table({name: columns[name] for name, _ in frame_columns(spec)} | {
        name: columns[name] for name in extra
    })  # fmt: skip
    return _unique(spec, table)


def to_pandas(spec: Endpoint, tidy: pa.Table) -> pd.DataFrame:
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


def _derive(spec: Endpoint, columns: dict[str, Any]) -> None:
    """The columns computed from others, added to ``columns``: msgid parts, day, code
    labels (dictionary arrays), getuserread's channel rules."""
    for f in spec.all_fields:
        if f.role == "msgid" and f.name in columns:
            column = columns[f.name]
            if isinstance(column, pa.ChunkedArray):
                column = column.combine_chunks()
            ids = pc.dictionary_encode(column)  # each article's id parsed once
            parts = pc.extract_regex(ids.dictionary, MSGID)
            for part in ("msg_data_id", "msg_index"):
                arr = pc.struct_field(parts, part)
                arr = pc.if_else(pc.equal(arr, ""), None, arr)
                try:
                    columns[part] = arr.cast(pa.int64()).take(ids.indices)
                except pa.ArrowInvalid:  # digits beyond int64: the id is not the platform's
                    raise msgid_beyond_int64(spec, f.name, ids.dictionary) from None
    if spec.stat_date is not None:
        columns["day"] = pc.days_between(columns[spec.partition], columns[spec.stat_date])
    for f in spec.all_fields:
        if f.codes is CHANNEL_CODES:
            _channel_code_rules(spec, columns, f.name)
        if f.codes is not None:
            columns[f.codes.column] = labelled_codes(columns[f.name], f.codes.labels)


def _only_zeros(column: pa.ChunkedArray) -> bool:
    """Whether a field holds nothing but 0 (or nothing at all): what an ignored field
    may be dropped for; any other value is the platform's and is kept."""
    if pa.types.is_null(column.type):
        return True
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        return False
    return bool(pc.all(pc.fill_null(pc.equal(column, 0), True)).as_py())


def _channel_code_rules(spec: Endpoint, columns: dict[str, Any], code: str) -> None:
    """getuserread's channel rules: no code before 2020-02-28 means all; the all-only
    fields of channel rows are not given from :data:`ALL_ONLY_SINCE` on."""
    days = columns[spec.partition]
    since = pa.scalar(USER_SOURCE_SINCE.to_pydatetime(), pa.timestamp("ns"))
    missing = pc.and_(pc.is_null(columns[code]), pc.less(days, since))
    if pc.any(missing).as_py():
        # Before 2020-02-28 the platform gave only the all-channel row, without a code.
        columns[code] = pc.if_else(missing, ALL_CHANNELS, columns[code])
    all_only_since = pa.scalar(datetime.combine(ALL_ONLY_SINCE, time()), pa.timestamp("ns"))
    per_channel = pc.fill_null(pc.not_equal(columns[code], ALL_CHANNELS), False)
    not_given = pc.and_(per_channel, pc.fill_null(pc.greater_equal(days, all_only_since), False))
    if not pc.any(not_given).as_py():
        return  # every channel row is of a day before it: their values are the platform's
    for f in spec.all_fields:
        if f.all_only and f.name in columns:
            # Channel rows send 0 (or nothing) here from that day on: not a real zero.
            column = columns[f.name]
            columns[f.name] = pc.if_else(not_given, pa.scalar(None, column.type), column)


def _unique(spec: Endpoint, table: pa.Table) -> pa.Table:
    """``table`` (sorted by key) with rows repeated exactly kept once; rows that share a
    key but disagree raise. Sorted, a repeated key is two neighbouring rows."""
    if table.num_rows < 2 or not _neighbours_share_a_key(spec, table):
        return table
    df = to_pandas(spec, table)
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
