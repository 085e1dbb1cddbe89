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

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from wxframe.endpoints import ENDPOINTS, Endpoint, get_endpoint
from wxframe.errors import (
    ERROR_CLASSES,
    ApiError,
    EndpointOfflineError,
    MalformedResponseError,
    RequestRejectedError,
)
from wxframe.frames._decode import AnyPage, TablePage, decode, decode_many, nesting_depth
from wxframe.frames._fit import RECORDS_NAMED, foreign_endpoint, names_in, names_of_page
from wxframe.frames._schema import (
    DATE_DTYPE,
    NULLABLE,
    USER_SOURCE_SINCE,
    as_categorical,
    frame_columns,
    frame_dtypes,
    label_categories,
)
from wxframe.frames._stored import empty_stored, in_key_order, in_order, stored, stored_schema
from wxframe.frames._tidy import empty_frame, nesting_guard, pages_table, tidy_table, to_pandas
from wxframe.pages import Page

__all__ = [
    "DATE_DTYPE",
    "NULLABLE",
    "RECORDS_NAMED",
    "USER_SOURCE_SINCE",
    "AnyPage",
    "TablePage",
    "conform",
    "decode",
    "decode_many",
    "empty_frame",
    "empty_stored",
    "endpoint_of",
    "error_of_answer",
    "foreign_endpoint",
    "frame_dtypes",
    "from_pages",
    "in_key_order",
    "in_order",
    "names_in",
    "names_of_page",
    "nesting_depth",
    "stored",
    "stored_from_pages",
    "stored_schema",
    "to_frame",
]


# ----------------------------------------------------------------------- parsing
def to_frame(endpoint: str | Endpoint, records: Any) -> pd.DataFrame:
    """The tidy typed frame of ``endpoint`` from raw API records.

    ``records`` is a whole response (``{"list": [...], "is_delay": false}``), the
    ``list`` of one, or a :class:`Page`, as saved JSON gives it. An error answer
    (``{"errcode": 61500, ...}``) raises its :class:`~wxframe.ApiError`
    (:func:`error_of_answer`). The frame is sorted by
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
        if (error := error_of_answer(spec, records)) is not None:
            raise error
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


def error_of_answer(
    endpoint: str | Endpoint, answer: Mapping[str, Any]
) -> ApiError | MalformedResponseError | None:
    """The error a saved answer is (``{"errcode": 61500, "errmsg": ...}``), or None if it
    carries no errcode but 0.

    The class, and what it advises, are the client's for that errcode
    (``RequestRejectedError`` for 61500, ``EndpointOfflineError`` naming the successors
    for 47009 ...); the message names the errcode and the platform's ``errmsg``.

    >>> error = error_of_answer("getuserread", {"errcode": 61500, "errmsg": "date format error"})
    >>> type(error).__name__, error.errcode
    ('RequestRejectedError', 61500)
    >>> print(error_of_answer("getuserread", {"errcode": 0, "list": []}))
    None
    """
    spec = get_endpoint(endpoint)
    code = answer.get("errcode", 0)
    if code == 0 or code is None:
        return None
    errmsg = str(answer.get("errmsg", ""))
    if not isinstance(code, int) or isinstance(code, bool):
        return MalformedResponseError(
            f"{spec.name}: an answer with errcode {code!r} ({errmsg}): an error, not records, "
            "though its errcode is not a number"
        )
    # A saved answer has no token or secret in it to hide: its errmsg is shown as it came.
    error = ERROR_CLASSES.get(code, ApiError)(code, errmsg, endpoint=spec.name)
    if isinstance(error, EndpointOfflineError):
        return EndpointOfflineError(code, errmsg, endpoint=spec.name, successors=spec.successors)
    if isinstance(error, RequestRejectedError):  # not wxframe's request: whoever saved it
        advice = "an error answer, not records: the platform refused the request it answers"
    else:
        advice = "an error answer, not records" + (f"; {error.advice}" if error.advice else "")
    return type(error)(code, errmsg, endpoint=spec.name, advice=advice)


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
    with nesting_guard(spec):
        table = pages_table(spec, pages)
        return empty_frame(spec) if table is None else to_pandas(spec, tidy_table(spec, table))


def stored_from_pages(
    spec: Endpoint,
    pages: Sequence[tuple[Sequence[Any] | pa.Table | TablePage, Mapping[str, Any]]],
) -> pa.Table:
    """:func:`from_pages` as the store writes it (:func:`stored`), without pandas."""
    with nesting_guard(spec):
        table = pages_table(spec, pages)
        return empty_stored(spec) if table is None else stored(tidy_table(spec, table))


def conform(endpoint: str | Endpoint, df: pd.DataFrame, *, copy: bool = True) -> pd.DataFrame:
    """``df`` with the tidy frame's exact dtypes and column order (extra columns last).

    For frames that went through a file: parquet keeps the values, this restores the
    nullable dtypes and the channel / scene categoricals (rebuilt from their codes).
    """
    spec = get_endpoint(endpoint)
    out = df.copy() if copy else df
    have = out.dtypes.to_dict()  # one lookup, not a Series per column
    for name, dtype in frame_columns(spec):
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
            out[f.codes.column] = as_categorical(out[f.name], f.codes.labels)
    if spec.channel_rows is not None:
        column = spec.channel_rows.codes.column
        names = out[column].astype("string")
        categories = label_categories(spec.channel_rows.codes, pa.array(names, pa.string()))
        out[column] = pd.Categorical(names, categories=categories)
    order = [name for name, _ in frame_columns(spec)]
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
        shared = len(columns & {name for name, _ in frame_columns(spec)})
        best = max(best, (shared, rank, spec), key=lambda t: (t[0], t[1]))
    return best[2]
