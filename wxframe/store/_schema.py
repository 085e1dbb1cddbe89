"""The stored form: what a month's parquet file holds of an endpoint's tidy frame.

Labels are kept as text (rebuilt from their codes on read), rows in key order, with the
types and pandas metadata the tidy frame's ``from_pandas`` gives. The functions that make
that form from a decoded answer still live in :mod:`wxframe.frames` and are re-exported
here: this module is the store's one door to them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wxframe.endpoints import Endpoint
from wxframe.frames import (
    NULLABLE,
    conform,
    empty_stored,
    frame_dtypes,
    in_key_order,
    in_order,
    stored,
    stored_schema,
)

__all__ = [
    "combined",
    "empty_stored",
    "in_key_order",
    "in_order",
    "rows_per_day",
    "stored",
    "stored_from_frame",
    "stored_schema",
]


def combined(spec: Endpoint, tables: Sequence[pa.Table]) -> pa.Table:
    """Stored tables as one, in key order: columns the registry knows in the frame's
    order, then the others as they come; a field one of them lacks is null there, and
    a file written with other types (an older wxframe) takes the stored ones."""
    if not tables:
        return empty_stored(spec)
    if len(tables) == 1:
        return in_key_order(spec, tables[0])
    first = tables[0].schema
    if all(t.schema.equals(first) for t in tables[1:]):  # the usual case: same fields
        whole = pa.concat_tables(tables)  # keeps the first's metadata: an old file's
        return in_key_order(spec, whole.replace_schema_metadata(tables[-1].schema.metadata))
    try:  # a field one lacks is null there; string and large_string become the latter
        whole = pa.concat_tables(tables, promote_options="permissive")
        names = [n for n in frame_dtypes(spec) if n in whole.column_names]
        names += [n for n in whole.column_names if n not in names]
        whole = whole.select(names)
        return in_key_order(spec, whole.cast(stored_schema(whole.schema.remove_metadata())))
    except (TypeError, pa.ArrowException):  # a type wxframe does not write: through pandas
        frames = [conform(spec, t.to_pandas(types_mapper=NULLABLE.get)) for t in tables]
        return in_key_order(spec, stored_from_frame(pd.concat(frames, ignore_index=True)))


def rows_per_day(spec: Endpoint, table: pa.Table) -> dict[str, int]:
    """Rows per partition day (``YYYY-MM-DD``): counted in Arrow, only the distinct
    days formatted (the text of every row was a tenth of a sync's typing)."""
    days = table.column(spec.partition).cast(pa.date32())
    counts = pc.value_counts(days.drop_null())
    return {
        str(day): n
        for day, n in zip(
            counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
        )
    }


def stored_from_frame(df: pd.DataFrame) -> pa.Table:
    """A tidy frame (an import's, a caller's) in the stored form."""
    flat = df.copy()
    for name in flat.columns:
        if isinstance(flat[name].dtype, pd.CategoricalDtype):
            flat[name] = flat[name].astype("string")  # rebuilt from codes on read
    # One thread: for a batch's few thousand rows, starting pyarrow's conversion threads
    # cost more than converting (1.4 ms a call, in every flush of a sync).
    return pa.Table.from_pandas(flat, preserve_index=False, nthreads=1)
