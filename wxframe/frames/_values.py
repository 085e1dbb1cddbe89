"""One column of records, checked and cast by its field's role (counts, rates, dates,
text, flags, hours), and what is wrong with records that will not type."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from wxframe.endpoints import (
    ChannelRows,
    Columns,
    Endpoint,
    Field,
    Part,
    Positions,
    Rows,
)
from wxframe.errors import MalformedResponseError
from wxframe.frames._schema import HOURS

__all__ = [
    "as_float",
    "as_int",
    "as_str",
    "check_counts",
    "diagnose_records",
    "extra_column",
    "msgid_beyond_int64",
    "not_an_object",
    "shown_number",
    "typed_column",
]


def not_an_object(spec: Endpoint, records: Sequence[Any]) -> MalformedResponseError | None:
    bad = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
    if bad is None:
        return None
    return MalformedResponseError(
        f"{spec.name}: record {bad} is {type(records[bad]).__name__}, not a JSON object"
    )


def shown_number(digits: str) -> str:
    """A number's digits for a message: up to 24 as they are, a longer one cut and
    counted (an answer's number may have thousands).

    >>> shown_number("18446744073709551616")
    '18446744073709551616'
    >>> shown_number("9" * 5000)
    '99999999999999999999... (5000 digits)'
    """
    if len(digits) <= 24:
        return digits
    return f"{digits[:20]}... ({len(digits.lstrip('-'))} digits)"


def msgid_beyond_int64(spec: Endpoint, name: str, ids: pa.Array) -> MalformedResponseError:
    """The error for msgids (distinct, as text) one of whose numbers (``msg_data_id``,
    ``msg_index``) a 64-bit integer cannot hold: the msgid, cut, and which part."""
    for msgid in ids.to_pylist():
        head, _, index = str(msgid).partition("_")
        for part, digits in (("msg_data_id", head), ("msg_index", index)):
            if digits.isdigit() and int(digits) >= 2**63:
                return MalformedResponseError(
                    f"{spec.name}: field {name!r} is {shown_number(str(msgid))!r}: its "
                    f"{part} {shown_number(digits)} is beyond a 64-bit integer (the "
                    "platform's msgids are 10 digits and an index)"
                )
    return MalformedResponseError(
        f"{spec.name}: field {name!r} has a number beyond a 64-bit integer"
    )


# -------------------------------------------------------------------------- typing
def diagnose_records(
    spec: Endpoint, records: Sequence[Any], exc: Exception
) -> MalformedResponseError:
    """Find the field whose values cannot be typed (slow path: errors only)."""
    not_object = not_an_object(spec, records)
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
                    f"{spec.name}: field {key!r} has {shown_number(str(value))}, beyond a "
                    "64-bit integer"
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


def as_int(spec: Endpoint, name: str, col: pa.ChunkedArray | pa.Array) -> pa.Array:
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


def as_float(spec: Endpoint, name: str, col: pa.ChunkedArray | pa.Array) -> pa.Array:
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


def as_str(col: pa.ChunkedArray | pa.Array) -> pa.Array:
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


def typed_column(spec: Endpoint, f: Field, col: pa.Array) -> pa.Array:
    """One declared field's values, checked and cast by its role."""
    kind = f.dtype
    if kind == "date":
        return _as_date(spec, f.name, col)
    if kind == "str":
        return as_str(col)
    if kind == "bool":
        return _as_bool(spec, f.name, col)
    if kind == "float":
        return as_float(spec, f.name, col)
    values = as_int(spec, f.name, col)
    if kind == "hour":
        return _hours(spec, values)
    if f.role in ("people", "events", "money", "level"):
        check_counts(spec, f.name, values)
    return values


def extra_column(spec: Endpoint, name: str, col: pa.Array) -> pa.Array:
    """A field the registry does not know: numbers and flags keep their type, else text."""
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_integer(col.type):
        return as_int(spec, name, col)
    if pa.types.is_floating(col.type):
        return col.cast(pa.float64())
    if pa.types.is_boolean(col.type):
        return col
    return as_str(col)


def _hours(spec: Endpoint, values: pa.Array) -> pa.Array:
    bad = pc.invert(pc.is_in(values, value_set=HOURS))
    if pc.any(bad).as_py():
        wrong = sorted({v for v in values.filter(bad).to_pylist()}, key=str)[:5]
        raise MalformedResponseError(
            f"{spec.name}: ref_hour must be one of 0, 100, ..., 2300; got {wrong}"
        )
    return pc.divide(values, 100)


def check_counts(spec: Endpoint, name: str, values: pa.Array) -> None:
    if len(values) and (pc.min(values).as_py() or 0) < 0:
        sample = values.filter(pc.less(values, 0))[0].as_py()
        raise MalformedResponseError(
            f"{spec.name}: field {name!r} is a count and cannot be negative, got {sample}"
        )
