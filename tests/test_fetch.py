"""The fetch path shared by loaders and the store, seen from a load: keeping what is
inside a window, and answers decoded in batches told apart from errors."""

from __future__ import annotations

import contextlib
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import wxframe
from tests.conftest import Call, Reply, answer_bad_once, fixture_server, share_answer
from wxframe import (
    MalformedResponseError,
    Store,
)

FIRST = date(2026, 11, 20)


# An answer the workers' quick look takes for data (an object naming "list") that is not.
NOT_DATA = b'{"data":[],"note":"list"}'


def test_rows_outside_the_window_are_dropped_and_named(tmp_path: Path) -> None:
    from tests.conftest import fixture_server

    def leaky(call: Call) -> dict[str, Any]:
        # every answer also carries the next day, with other numbers
        day, after = call.begin.isoformat(), date.fromordinal(call.end.toordinal() + 1)
        return {"is_delay": False, "list": [
            {"ref_date": day, "msgid": "1_1", "detail": {"share_user": 5}},
            {"ref_date": after.isoformat(), "msgid": "1_1", "detail": {"share_user": 99}},
        ]}  # fmt: skip

    with fixture_server(leaky) as server:
        with pytest.warns(wxframe.UnexpectedRowsWarning, match="getarticleshare.*2026-11-0"):
            df = wxframe.load_article_share(server.client(), "2026-11-01", "2026-11-03")
        assert df["ref_date"].dt.day.tolist() == [1, 2, 3]  # nothing after end
        assert df["share_user"].tolist() == [5, 5, 5]
        with pytest.warns(wxframe.UnexpectedRowsWarning, match="2026-11-04"):
            Store(tmp_path).sync(server.client(), "2026-11-01", "2026-11-03",
                                 endpoints="getarticleshare", progress=False)  # fmt: skip
    stored = Store(tmp_path).read("getarticleshare")
    assert stored["share_user"].tolist() == [5, 5, 5] and not stored.duplicated().any()


@pytest.mark.parametrize(
    "bad",
    [
        b'{"list": [], "errcode" : -1 , "errmsg": "system busy"}',
        b'{ "errcode":-1,"errmsg":"system busy","list":[]}',
        b'\xef\xbb\xbf{"list":[],"errcode":\t-1,"errmsg":"system busy"}',
        b'{"list":[],"errcode":1e0,"errmsg":"busy, as a float"}',
    ],
)
def test_an_error_answer_that_also_names_the_list_is_retried_in_the_worker(bad: bytes) -> None:
    # the workers hand on undecoded only what may be data; an errcode that is not 0, in
    # any spelling, is judged there, where a transient one is retried
    answer, _ = answer_bad_once(bad, {FIRST})
    with fixture_server(answer) as server:
        client = server.client(max_workers=2)
        if b"1e0" in bad:  # not -1: an error of its own, raised at once
            with pytest.raises(wxframe.ApiError):
                wxframe.load_article_share(client, FIRST, FIRST + timedelta(days=3))
            return
        df = wxframe.load_article_share(client, FIRST, FIRST + timedelta(days=3))
    assert client.counts["retries"] == 1 and len(df) == 4
    assert client.counts["decoded"] == 4  # the four answers of data, read together


def test_a_token_error_that_also_names_the_list_refreshes_the_token() -> None:
    bad = b'{"list":[],"errcode": 40001,"errmsg":"invalid credential"}'
    answer, seen = answer_bad_once(bad, {FIRST + timedelta(days=1)})
    # the fixture hands out one stable token: the refused one comes back, and is forced
    with fixture_server(answer) as server:
        client = server.client(max_workers=2)
        with pytest.warns(wxframe.TokenRotatedWarning):
            df = wxframe.load_article_share(client, FIRST, FIRST + timedelta(days=3))
    # the first token, then a refresh (twice: the same stable token comes back, rotated)
    assert client.counts["token_refreshes"] == 3
    assert [c.begin for c in seen].count(FIRST + timedelta(days=1)) == 2 and len(df) == 4


def test_data_with_errcode_0_is_read_in_the_batch() -> None:
    def answer(call: Call) -> Reply:
        body = json.loads(share_answer(call))
        return {"errcode": 0, "errmsg": "ok", **body}

    with fixture_server(answer) as server:
        client = server.client(max_workers=2)
        df = wxframe.load_article_share(client, FIRST, FIRST + timedelta(days=5))
    assert len(df) == 6 and client.counts["decoded"] == client.counts["calls"] == 6


@pytest.mark.parametrize("spelled", [b"err\\u0063ode", b"\\u0065\\u0072rcod\\u0065"])
def test_an_error_key_written_with_escapes_is_still_seen_in_the_worker(spelled: bytes) -> None:
    busy = b'{"list":[],"' + spelled + b'":-1,"errmsg":"system busy","url":"http:\\/\\/x"}'
    token = b'{"list":[],"' + spelled + b'":40001,"errmsg":"invalid credential"}'
    for bad, counted in ((busy, "retries"), (token, "token_refreshes")):
        answer, seen = answer_bad_once(bad, {FIRST})
        forced = (
            pytest.warns(wxframe.TokenRotatedWarning)  # the same stable token comes back
            if counted == "token_refreshes"
            else contextlib.nullcontext()
        )
        with fixture_server(answer) as server:
            client = server.client(max_workers=2)
            with forced:
                df = wxframe.load_article_share(client, FIRST, FIRST + timedelta(days=2))
        assert client.counts[counted] >= 1 and len(df) == 3
        assert [c.begin for c in seen].count(FIRST) == 2


def test_an_answer_that_is_not_data_after_all_fails_a_load_by_name() -> None:
    answer, _ = answer_bad_once(NOT_DATA, {FIRST + timedelta(days=2)})
    with fixture_server(answer) as server, pytest.raises(MalformedResponseError) as info:
        wxframe.load_article_share(server.client(), FIRST, FIRST + timedelta(days=3))
    assert "getarticleshare 2026-11-22..2026-11-22: the response has no 'list' array" in str(
        info.value
    )


def test_a_load_stops_asking_soon_after_an_answer_that_is_not_data() -> None:
    # from a hostile review: a load decoded its answers only once all were fetched
    first = date(2026, 10, 1)
    answer, seen = answer_bad_once(NOT_DATA, {first + timedelta(days=1)})
    with fixture_server(answer) as server, pytest.raises(MalformedResponseError):
        wxframe.load_article_share(server.client(max_workers=4), first,
                                   first + timedelta(days=59), progress=False)  # fmt: skip
    assert len(seen) < 20


def test_every_warning_of_a_load_or_a_sync_points_at_the_callers_line(tmp_path: Path) -> None:
    # A warning names the line that made the call (UnexpectedRowsWarning for rows of a
    # day not asked for, RangeClippedWarning for a begin before a first day), whether
    # the call is load, a per-endpoint loader, load_many or Store.sync.
    import warnings

    def leaky(call: Call) -> Reply:
        answer = json.loads(share_answer(call))
        extra = {"ref_date": (call.end + timedelta(days=1)).isoformat(), "msgid": "2_1",
                 "detail": {"share_user": 1}}  # fmt: skip
        return {"list": [*answer["list"], extra], "is_delay": False}

    day = date(2025, 11, 2)
    with fixture_server(leaky) as server, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wxframe.load_article_share(server.client(), day, day, progress=False)
        wxframe.load(server.client(), "getarticleshare", day, day, progress=False)
        wxframe.load_many(server.client(), "2025-10-31", day, endpoints=["getarticleshare"],
                          progress=False)  # fmt: skip
        Store(tmp_path).sync(server.client(), "2025-10-31", day, endpoints=["getarticleshare"],
                             progress=False)  # fmt: skip
    ours = [w for w in caught if issubclass(w.category, wxframe.WxframeWarning)]
    kinds = sorted(w.category.__name__ for w in ours)
    assert kinds == ["RangeClippedWarning"] * 2 + ["UnexpectedRowsWarning"] * 4, kinds
    assert [(w.category.__name__, w.filename) for w in ours if w.filename != __file__] == []
