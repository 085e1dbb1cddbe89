"""hypothesis against to_frame: records inside the schema parse exactly; anything else is
either parsed as documented or refused with a MalformedResponseError, never another error.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wxframe import MalformedResponseError, to_frame
from wxframe.endpoints import get_endpoint
from wxframe.frames import decode, frame_dtypes, from_pages

COUNTS = st.integers(0, 2**63 - 1)
GARBAGE = st.one_of(
    st.none(), st.booleans(), st.text(max_size=5), st.floats(allow_nan=True),
    st.integers(-(2**70), 2**70), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)  # fmt: skip
DAYS = st.dates(min_value=pd.Timestamp("2014-12-01").date(),
                max_value=pd.Timestamp("2030-12-31").date())  # fmt: skip


@st.composite
def valid_share_records(draw: st.DrawFn) -> list[dict[str, Any]]:
    keys = draw(st.lists(st.tuples(DAYS, st.sampled_from([1, 2, 255, 7])), unique=True,
                         max_size=30))  # fmt: skip
    return [
        {"ref_date": d.isoformat(), "share_scene": s, "share_count": draw(COUNTS),
         "share_user": draw(COUNTS)}
        for d, s in keys
    ]  # fmt: skip


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(valid_share_records())
def test_records_inside_the_schema_parse_exactly(records: list[dict[str, Any]]) -> None:
    df = to_frame("getusershare", records)
    expected = frame_dtypes("getusershare")
    assert list(df.columns) == list(expected)
    for name, dtype in expected.items():
        if name == "scene":  # unknown scenes add code_<n> categories after the known ones
            assert list(df[name].cat.categories[:3]) == list(dtype.categories)
        else:
            assert df[name].dtype == dtype, name
    assert len(df) == len(records)
    got = {(r.ref_date.date().isoformat(), r.share_scene): (r.share_count, r.share_user)
           for r in df.itertuples()}  # fmt: skip
    assert got == {
        (r["ref_date"], r["share_scene"]): (r["share_count"], r["share_user"]) for r in records
    }


@st.composite
def any_hour_records(draw: st.DrawFn) -> list[Any]:
    fields = ["ref_date", "ref_hour", "user_source", "int_page_read_user",
              "int_page_read_count", "share_user", "share_count", "surprise"]  # fmt: skip
    out: list[Any] = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 20)) == 0:
            out.append(draw(GARBAGE))  # not even an object
            continue
        record: dict[str, Any] = {}
        for name in fields:
            choice = draw(st.integers(0, 9))
            if choice == 0:
                continue  # the field is missing
            if choice == 1:
                record[name] = draw(GARBAGE)
            elif name == "ref_date":
                record[name] = draw(DAYS).isoformat()
            elif name == "ref_hour":
                record[name] = draw(st.sampled_from(range(0, 2400, 100)))
            elif name == "user_source":
                record[name] = draw(st.sampled_from([0, 1, 2, 4, 5, 6, 7, 99999999, 42]))
            else:
                record[name] = draw(COUNTS)
        out.append(record)
    return out


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(any_hour_records())
def test_any_records_are_parsed_or_refused_clearly(records: list[Any]) -> None:
    df, refused = _parse(records)
    if refused is not None:
        assert str(refused).startswith("getuserreadhour")  # names what it was parsing
        return
    assert df is not None
    known = frame_dtypes("getuserreadhour")
    for name, dtype in known.items():
        if name != "channel":
            assert df[name].dtype == dtype, name
    assert len(df) <= len(records)
    assert df["ref_hour"].dropna().between(0, 23).all()


def _parse(records: list[Any]) -> tuple[pd.DataFrame | None, MalformedResponseError | None]:
    """to_frame's frame, or its MalformedResponseError; any other exception propagates."""
    try:
        return to_frame("getuserreadhour", records), None
    except MalformedResponseError as exc:
        return None, exc


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(any_hour_records(), st.booleans())
def test_decoding_from_bytes_gives_the_frame_json_gives_or_steps_aside(
    records: list[Any], pretty: bool
) -> None:
    # The bulk paths decode answers in the workers with pyarrow's JSON reader: wherever it
    # takes an answer, the frame must be the one json.loads + to_frame makes, and it
    # must step aside (None) for whatever it cannot take exactly.
    spec = get_endpoint("getuserreadhour")
    text = json.dumps({"errcode": 0, "list": records}, indent=1 if pretty else None)
    page = decode(spec, text.encode())
    if page is None:
        return
    slow, refused = _parse(records)
    if refused is not None:
        with pytest.raises(MalformedResponseError):
            from_pages(spec, [(page, page.meta)])
        return
    pd.testing.assert_frame_equal(from_pages(spec, [(page, page.meta)]), slow)
