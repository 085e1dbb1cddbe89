"""The tidy frame's columns and dtypes, as the registry declares them."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wxframe.endpoints import (
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

__all__ = [
    "DATE_DTYPE",
    "HOURS",
    "MSGID",
    "NULLABLE",
    "ORDER",
    "STORED_DTYPES",
    "STR",
    "USER_SOURCE_SINCE",
    "as_categorical",
    "derived_names",
    "frame_columns",
    "frame_dtypes",
    "label_categories",
    "labelled_codes",
    "schema_from_pandas",
    "type_kind",
]


USER_SOURCE_SINCE = pd.Timestamp(date(2020, 2, 28))
DATE_DTYPE: Final = "datetime64[ns]"
_INT = pd.Int64Dtype()
_FLOAT = pd.Float64Dtype()
_BOOL = pd.BooleanDtype()
STR = pd.StringDtype()
_DTYPES: dict[str, Any] = {
    "date": DATE_DTYPE, "hour": _INT, "str": STR, "bool": _BOOL, "float": _FLOAT, "int": _INT,
}  # fmt: skip
HOURS = pa.array(range(0, 2400, 100), pa.int64())
MSGID = r"^(?P<msg_data_id>\d+)(?:_(?P<msg_index>\d+))?$"
#: Arrow types as pandas' nullable dtypes (``to_pandas(types_mapper=NULLABLE.get)``).
NULLABLE = {pa.int64(): _INT, pa.string(): STR, pa.float64(): _FLOAT, pa.bool_(): _BOOL}
#: Column added for sorting by a label column's category order; never returned.
ORDER = "__wxframe_order"


# ------------------------------------------------------------------------ schema
@functools.cache
def frame_columns(spec: Endpoint) -> tuple[tuple[str, Any], ...]:
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
                cols.append((part.label, STR))
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
def derived_names(spec: Endpoint) -> frozenset[str]:
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
    return dict(frame_columns(get_endpoint(endpoint)))


@functools.lru_cache(maxsize=512)
def schema_from_pandas(dtypes: tuple[tuple[str, Any], ...]) -> pa.Schema:
    """What ``from_pandas`` makes of an empty frame with these columns and dtypes."""
    empty = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes})
    return pa.Table.from_pandas(empty, preserve_index=False).schema


def type_kind(t: pa.DataType) -> str | None:
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


STORED_DTYPES: dict[str, Any] = {
    "int": _INT, "float": _FLOAT, "bool": _BOOL, "str": STR, "date": DATE_DTYPE,
}  # fmt: skip


def label_categories(codes: Codes, names: pa.ChunkedArray | pa.Array) -> list[str]:
    """The known channel names, then the unknown ones present, sorted."""
    known = list(codes.labels.values())
    present = pc.unique(names.combine_chunks() if isinstance(names, pa.ChunkedArray) else names)
    unknown = sorted(v for v in present.to_pylist() if v is not None and v not in known)
    return codes.categories(unknown)


def labelled_codes(
    codes: pa.ChunkedArray | pa.Array, labels: Mapping[int, str]
) -> pa.DictionaryArray:
    """Codes as their labels: known ones in order, then unknown ones as code_<n>."""
    codes = codes.combine_chunks() if isinstance(codes, pa.ChunkedArray) else codes
    known = list(labels)
    present = pc.unique(codes.drop_null()).to_pylist()
    extra = sorted(set(present) - set(known))
    positions = pc.index_in(codes, value_set=pa.array([*known, *extra], pa.int64()))
    names = [*labels.values(), *(f"code_{int(c)}" for c in extra)]
    return pa.DictionaryArray.from_arrays(positions, pa.array(names, pa.string()))


def as_categorical(codes: pd.Series, labels: Mapping[int, str]) -> pd.Categorical[str]:
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
