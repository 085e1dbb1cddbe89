"""Nested parts of a record (columns, rows, channel rows, positions) flattened as the
registry declares them, and what is wrong with a record that will not flatten."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wxframe.endpoints import (
    ALL_CHANNELS,
    ChannelRows,
    Columns,
    Endpoint,
    Part,
    Positions,
    Rows,
)
from wxframe.errors import MalformedResponseError
from wxframe.frames._values import as_float, as_int, as_str, check_counts

__all__ = ["channel_rows", "unnest_parts"]


# ---------------------------------------------------------------------- flattening
def unnest_parts(spec: Endpoint, parts: Sequence[Part], table: pa.Table) -> pa.Table:
    """Flatten the declared nested parts into columns (and rows), outermost first."""
    for part in parts:
        if isinstance(part, Columns):
            table = unnest_parts(spec, part.fields, _spread(spec, part, table))
        elif isinstance(part, Rows):
            table = unnest_parts(spec, part.fields, _explode(spec, part, table))
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
        keys = as_int(spec, f"{part.name}.{part.key}", keys)
        in_range = pc.and_(pc.greater_equal(keys, 1), pc.less_equal(keys, part.count))
        if not pc.all(in_range.fill_null(False)).as_py():
            wrong = {p for p in keys.to_pylist() if p is None or not 1 <= p <= part.count}
            raise MalformedResponseError(
                f"{spec.name}: {part.name}.{part.key} must be 1..{part.count}; "
                f"got {sorted(wrong, key=str)[:5]}"
            )
        positions = keys.to_numpy()
        rates = as_float(spec, f"{part.name}.{part.value}", values)
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
        raw = as_str(_combined(table, part.name))  # fields it does not know: kept as JSON
    table = table.drop_columns([part.name]) if part.name in table.column_names else table
    if raw is not None:
        table = table.append_column(part.name, raw)
    for name, values in out.items():
        table = table.append_column(name, pa.array(values, pa.float64(), mask=np.isnan(values)))
    return table


def channel_rows(spec: Endpoint, part: ChannelRows, table: pa.Table) -> pa.Table:
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
        as_int(spec, part.into, _combined(base, part.into))
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
        counts = as_int(spec, f"{part.name}.{part.value}", values)
        check_counts(spec, f"{part.name}.{part.value}", counts)
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
