"""Raw API records to tidy, typed DataFrames: one code path for every endpoint.

Records go through pyarrow in one vectorised pass (type inference over every record, so
fields the registry does not know are kept, never dropped), are checked and cast to the
registry's schema, flattened if nested, and come out with pandas nullable dtypes:

- ``ref_date`` / ``stat_date``: ``datetime64[ns]`` (naive Beijing calendar days);
- counters and codes: ``Int64``; a value the API does not give for a row is ``<NA>``;
- ``ref_hour``: ``Int64`` hour 0..23; ``channel`` / ``scene``: categoricals;
- text: ``string``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wxframe.endpoints import (
    ALL_CHANNELS,
    CHANNELS,
    SCENES,
    Endpoint,
    Field,
    get_endpoint,
)
from wxframe.errors import MalformedResponseError

__all__ = ["channel_categories", "empty_frame", "frame_dtypes", "scene_categories", "to_frame"]

USER_SOURCE_SINCE = pd.Timestamp(date(2020, 2, 28))
DATE_DTYPE = "datetime64[ns]"
_INT = pd.Int64Dtype()
_STR = pd.StringDtype()
_HOURS = pa.array(range(0, 2400, 100), pa.int64())
_MSGID = r"^(?P<msg_data_id>\d+)(?:_(?P<msg_index>\d+))?$"


def channel_categories(extra_codes: Sequence[int] = ()) -> list[str]:
    """Channel labels in the canonical order, then ``code_<n>`` for unknown codes."""
    return list(CHANNELS.values()) + [f"code_{c}" for c in sorted(extra_codes)]


def scene_categories(extra_codes: Sequence[int] = ()) -> list[str]:
    """Share-scene labels in the canonical order, then ``code_<n>`` for unknown codes."""
    return list(SCENES.values()) + [f"code_{c}" for c in sorted(extra_codes)]


@functools.cache
def _columns(spec: Endpoint) -> tuple[tuple[str, Any], ...]:
    """The tidy frame's known columns and dtypes, in order (derived ones included).

    Cached: every frame of an endpoint asks for it, several times.
    """
    cols: list[tuple[str, Any]] = []
    for f in _ordered_fields(spec):
        if f.kind == "date":
            cols.append((f.name, DATE_DTYPE))
        elif f.kind == "str":
            cols.append((f.name, _STR))
        else:
            cols.append((f.name, _INT))
        if f.name == "msgid":
            cols += [("msg_data_id", _INT), ("msg_index", _INT)]
        elif f.kind == "channel":
            cols.append(("channel", pd.CategoricalDtype(channel_categories(), ordered=False)))
        elif f.kind == "scene":
            cols.append(("scene", pd.CategoricalDtype(scene_categories(), ordered=False)))
        elif f.name == "stat_date":
            cols.append(("day", _INT))
    return tuple(cols)


def _ordered_fields(spec: Endpoint) -> list[Field]:
    """Record fields, nested ones after the record's identity, article extras last."""
    if not spec.nested:
        return list(spec.fields)
    head = [f for f in spec.fields if f.name not in _TRAILING]
    tail = [f for f in spec.fields if f.name in _TRAILING]
    return head + list(spec.details) + tail


# Article-level fields some getarticletotal responses carry; they go after the counters.
_TRAILING = ("url", "user_source")


def frame_dtypes(endpoint: str | Endpoint) -> dict[str, Any]:
    """The column names and dtypes of ``endpoint``'s tidy frame (without extra columns).

    >>> list(frame_dtypes("getusershare"))
    ['ref_date', 'share_scene', 'scene', 'share_count', 'share_user']
    """
    return dict(_columns(get_endpoint(endpoint)))


def empty_frame(endpoint: str | Endpoint) -> pd.DataFrame:
    """A frame with no rows and the full schema of ``endpoint``."""
    return pd.DataFrame(
        {name: pd.Series(dtype=dtype) for name, dtype in _columns(get_endpoint(endpoint))}
    )


def to_frame(endpoint: str | Endpoint, records: Any) -> pd.DataFrame:
    """The tidy typed frame of ``endpoint`` from raw API records.

    ``records`` is the ``list`` of a response (or the whole ``{"list": [...]}``), as
    saved JSON gives it. The frame is sorted by the endpoint's natural key and unique
    on it (rows repeated exactly are kept once; rows that share a key but disagree
    raise), with a fresh RangeIndex.

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
    """
    spec = get_endpoint(endpoint)
    if isinstance(records, Mapping):
        if "list" not in records:
            raise MalformedResponseError(
                f"{spec.name}: a response must have a 'list'; got keys {sorted(records)[:10]}"
            )
        records = records["list"]
    if not isinstance(records, list | tuple):
        raise MalformedResponseError(
            f"{spec.name}: 'list' must be a JSON array of records, got {type(records).__name__}"
        )
    if not records:
        return empty_frame(spec)
    table = _to_table(spec, records)
    return _to_pandas(spec, table)


def _to_table(spec: Endpoint, records: Sequence[Any]) -> pa.Table:
    # pyarrow infers one struct type over every record (the union of their keys), in C:
    # the only per-record Python work is on the error paths.
    try:
        arr = pa.array(records)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise _diagnose(spec, records, exc) from None
    if not pa.types.is_struct(arr.type) or arr.null_count:
        raise _not_an_object(spec, records) or MalformedResponseError(
            f"{spec.name}: records are not JSON objects ({arr.type})"
        )
    table = pa.Table.from_struct_array(arr)
    if spec.nested:
        table = _flatten(spec, table)
    return table


def _not_an_object(spec: Endpoint, records: Sequence[Any]) -> MalformedResponseError | None:
    bad = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
    if bad is None:
        return None
    return MalformedResponseError(
        f"{spec.name}: record {bad} is {type(records[bad]).__name__}, not a JSON object"
    )


def _flatten(spec: Endpoint, table: pa.Table) -> pa.Table:
    name = spec.nested
    assert name is not None
    if name not in table.column_names:
        raise MalformedResponseError(f"{spec.name}: records have no '{name}' list")
    nested = table.column(name).combine_chunks()
    if pa.types.is_null(nested.type):
        nested = pa.array([[]] * len(nested), pa.list_(pa.struct([])))
    if not (pa.types.is_list(nested.type) and pa.types.is_struct(nested.type.value_type)):
        raise MalformedResponseError(
            f"{spec.name}: '{name}' must be a list of objects, got {nested.type}"
        )
    parents = pc.list_parent_indices(nested)
    inner = pc.list_flatten(nested)
    outer = table.drop_columns([name]).take(parents)
    columns = dict(zip(outer.column_names, outer.columns, strict=True))
    for i, field in enumerate(inner.type):
        child = inner.field(i)
        columns[field.name] = child  # a detail field wins over an outer one of the same name
    return pa.table(columns)


def _diagnose(spec: Endpoint, records: Sequence[Any], exc: Exception) -> MalformedResponseError:
    """Find the field whose values cannot be typed (slow path: errors only)."""
    not_object = _not_an_object(spec, records)
    if not_object is not None:
        return not_object
    known = {f.name: f for f in spec.all_fields}
    rows: list[tuple[int, dict[str, Any]]] = list(enumerate(records))
    if spec.nested:
        rows += [
            (i, d)
            for i, r in enumerate(records)
            for d in (r.get(spec.nested) or [])
            if isinstance(d, dict)
        ]
    kinds: dict[str, set[str]] = {}
    for _, row in rows:
        for key, value in row.items():
            if key == spec.nested:
                continue
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
                return MalformedResponseError(
                    f"{spec.name}: field {key!r} has {value}, beyond a 64-bit integer"
                )
            kinds.setdefault(key, set()).add(type(value).__name__)
    for key, seen in kinds.items():
        seen.discard("NoneType")
        if len(seen) > 1:
            expected = known[key].kind if key in known else "one type"
            return MalformedResponseError(
                f"{spec.name}: field {key!r} mixes {sorted(seen)} across records "
                f"(expected {expected})"
            )
    return MalformedResponseError(f"{spec.name}: records cannot be read: {exc}")


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
    if pa.types.is_null(col.type):
        raise MalformedResponseError(f"{spec.name}: field {name!r} is missing from every record")
    try:
        if not pa.types.is_string(col.type):
            raise pa.ArrowInvalid("not a string")
        valid = pc.match_substring_regex(col, r"^\d{4}-\d{2}-\d{2}$")
        if not pc.all(valid).as_py():
            raise pa.ArrowInvalid("not YYYY-MM-DD")
        return col.cast(pa.date32()).cast(pa.timestamp("ns"))
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


def _to_pandas(spec: Endpoint, table: pa.Table) -> pd.DataFrame:
    present = set(table.column_names)
    n = table.num_rows
    out: dict[str, Any] = {}
    for name, _dtype in _columns(spec):
        if name in ("msg_data_id", "msg_index", "channel", "scene", "day"):
            continue  # derived below
        field = next(f for f in spec.all_fields if f.name == name)
        col = table.column(name) if name in present else pa.nulls(n)
        if field.kind == "date":
            if name not in present:
                raise MalformedResponseError(f"{spec.name}: records have no {name!r} field")
            out[name] = _as_date(spec, name, col)
        elif field.kind == "str":
            out[name] = _as_str(col)
        else:
            values = _as_int(spec, name, col)
            if field.kind == "hour":
                values = _hours(spec, values)
            elif field.kind == "int":
                _check_counts(spec, name, values)
            out[name] = values
    if spec.nested and "stat_date" not in present:
        raise MalformedResponseError(f"{spec.name}: details have no 'stat_date'")
    known = set(out) | set(spec.ignored) | {spec.nested}
    extra = {
        name: (
            _as_int(spec, name, table.column(name))
            if pa.types.is_integer(table.column(name).type)
            else _as_str(table.column(name))
        )
        for name in table.column_names
        if name not in known
    }
    arrow = pa.table(out | extra)
    arrow = arrow.sort_by([(k, "ascending") for k in spec.key])
    df = arrow.to_pandas(
        types_mapper={pa.int64(): _INT, pa.string(): _STR}.get,
        split_blocks=True,
        self_destruct=True,
    )
    df = _derive(spec, df)
    order = [name for name, _ in _columns(spec)]
    df = df[order + list(extra)]
    return _unique(spec, df)


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


def _derive(spec: Endpoint, df: pd.DataFrame) -> pd.DataFrame:
    if "msgid" in df:
        parts = pc.extract_regex(pa.array(df["msgid"], pa.string()), _MSGID)
        for part in ("msg_data_id", "msg_index"):
            arr = pc.struct_field(parts, part)
            arr = pc.if_else(pc.equal(arr, ""), None, arr)
            df[part] = pd.array(arr.cast(pa.int64()), dtype=_INT)
    if "stat_date" in df:
        df["day"] = pd.array((df["stat_date"] - df["ref_date"]).dt.days, dtype=_INT)
    if spec.has_channels:
        missing = df["user_source"].isna() & (df["ref_date"] < USER_SOURCE_SINCE)
        if missing.any():
            # Before 2020-02-28 the platform gave only the all-channel row, without a code.
            df.loc[missing, "user_source"] = ALL_CHANNELS
        channel_rows = df["user_source"] != ALL_CHANNELS
        for f in spec.fields:
            if f.all_only and channel_rows.any():
                # Channel rows send 0 (or nothing) here: not a real zero.
                df.loc[channel_rows.fillna(False), f.name] = pd.NA
        df["channel"] = _categorical(df["user_source"], CHANNELS)
    if spec.has_scenes:
        df["scene"] = _categorical(df["share_scene"], SCENES)
    return df


def _categorical(codes: pd.Series, labels: Mapping[int, str]) -> pd.Categorical:
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
    return pd.Categorical.from_codes(positions, categories=names)


def _unique(spec: Endpoint, df: pd.DataFrame) -> pd.DataFrame:
    key = list(spec.key)
    dup_key = df.duplicated(key, keep=False)
    if dup_key.any():
        df = df.drop_duplicates()
        conflict = df.duplicated(key, keep=False)
        if conflict.any():
            first = df.loc[conflict, key].iloc[0].to_dict()
            raise MalformedResponseError(
                f"{spec.name}: {int(conflict.sum())} records share a key {tuple(key)} but "
                f"disagree, e.g. {first}"
            )
    return df.reset_index(drop=True)


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
            out[name] = out[name].astype(dtype)  # type: ignore[call-overload]
    if spec.has_channels:
        out["channel"] = _categorical(out["user_source"], CHANNELS)
    if spec.has_scenes:
        out["scene"] = _categorical(out["share_scene"], SCENES)
    order = [name for name, _ in _columns(spec)]
    columns = order + [c for c in out.columns if c not in order]
    return out if list(out.columns) == columns else out[columns]
