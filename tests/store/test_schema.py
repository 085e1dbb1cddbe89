"""The stored form: the table written is what pyarrow makes of the frame."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wxframe import ENDPOINTS
from wxframe.frames import (
    from_pages,
    stored_from_pages,
)
from wxframe.simulator import SimulatedAccount
from wxframe.simulator._server import CURRENT_ARTICLES, DATACUBE

# Unknown fields of each kind the store keeps: numbers, flags, text, lists (as JSON text).
_EXTRA_VALUES = st.sampled_from(
    [
        st.integers(-(2**40), 2**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.text(max_size=4),
        st.lists(st.integers(0, 9), max_size=2),
    ]
)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(list(ENDPOINTS)),
    kinds=st.lists(_EXTRA_VALUES, max_size=2),
    data=st.data(),
)
def test_the_stored_table_is_what_from_pandas_makes_of_the_frame(
    name: str, kinds: list[st.SearchStrategy[object]], data: st.DataObject
) -> None:
    # The store writes Arrow built without pandas; a pandas reader of its files must get
    # what it got when the files were from_pandas of the tidy frame: the same values,
    # types and pandas metadata, whatever unknown fields an answer brings.
    spec = ENDPOINTS[name]
    today = date(2026, 12, 1) if name in CURRENT_ARTICLES else date(2024, 6, 1)
    last = today - timedelta(days=data.draw(st.integers(1, 30), label="days back"))
    records = DATACUBE[name].produce(SimulatedAccount(seed=1, today=today), last, last)
    for k, values in enumerate(kinds):
        for record in records:
            if data.draw(st.booleans(), label="has it"):
                record[f"new_field_{k}"] = data.draw(values, label="value")
    pages = [(records, {"is_delay": False} if spec.response_fields else {})]
    frame = from_pages(spec, pages)
    flat = frame.astype(
        {c: "string" for c in frame if isinstance(frame[c].dtype, pd.CategoricalDtype)}
    )
    expected = pa.Table.from_pandas(flat, preserve_index=False)
    got = stored_from_pages(spec, pages)
    assert got.schema.equals(expected.schema, check_metadata=True), (got.schema, expected.schema)
    assert got.equals(expected)
