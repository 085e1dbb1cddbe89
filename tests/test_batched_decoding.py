"""Answers decoded by the caller in batches: what the workers hand on undecoded, and what
they must not (every error answer is raised where it is retried or refreshes the token).

The fixture server writes each answer's bytes exactly, spacing and key order included.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wxframe
from tests.fixture_server import Call, Reply, fixture_server
from wxframe import MalformedResponseError, Store, SyncIncomplete

FIRST = date(2026, 11, 20)


def _data(call: Call) -> bytes:
    rows = [{"ref_date": (call.begin + timedelta(days=k)).isoformat(), "msgid": "1_1",
             "detail": {"share_user": 5}} for k in range(call.days)]  # fmt: skip
    return json.dumps({"list": rows, "is_delay": False}).encode()


def _once(bad: bytes, days: set[date]) -> tuple[object, list[Call]]:
    """Answers ``bad`` to the first call for each of ``days``, data after that."""
    seen: list[Call] = []

    def answer(call: Call) -> Reply:
        first = call.begin in days and call not in seen
        seen.append(call)
        return (200, "application/json", bad if first else _data(call))

    return answer, seen


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
    answer, _ = _once(bad, {FIRST})
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
    answer, seen = _once(bad, {FIRST + timedelta(days=1)})
    with fixture_server(answer) as server:
        client = server.client(max_workers=2)
        df = wxframe.load_article_share(client, FIRST, FIRST + timedelta(days=3))
    # the first token, then a refresh (twice: the same stable token comes back, rotated)
    assert client.counts["token_refreshes"] == 3
    assert [c.begin for c in seen].count(FIRST + timedelta(days=1)) == 2 and len(df) == 4


def test_data_with_errcode_0_is_read_in_the_batch() -> None:
    def answer(call: Call) -> Reply:
        body = json.loads(_data(call))
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
        answer, seen = _once(bad, {FIRST})
        with fixture_server(answer) as server:
            client = server.client(max_workers=2)
            df = wxframe.load_article_share(client, FIRST, FIRST + timedelta(days=2))
        assert client.counts[counted] >= 1 and len(df) == 3
        assert [c.begin for c in seen].count(FIRST) == 2


# An answer the workers' quick look takes for data (an object naming "list") that is not.
NOT_DATA = b'{"data":[],"note":"list"}'


def test_an_answer_that_is_not_data_after_all_fails_a_load_by_name() -> None:
    answer, _ = _once(NOT_DATA, {FIRST + timedelta(days=2)})
    with fixture_server(answer) as server, pytest.raises(MalformedResponseError) as info:
        wxframe.load_article_share(server.client(), FIRST, FIRST + timedelta(days=3))
    assert "getarticleshare 2026-11-22..2026-11-22: the response has no 'list' array" in str(
        info.value
    )


@pytest.mark.parametrize(
    "bad",
    [
        NOT_DATA,
        b'{"list":[{"ref_date":"2026-11-22"},]}',
        b'{"list":[],"x":' + b"[" * 6000 + b"]" * 6000 + b"}",
    ],
)
def test_an_answer_that_is_not_data_keeps_what_came_before(tmp_path: Path, bad: bytes) -> None:
    # the answers decoded before it are written; the sync names the error and stops
    # asking; the next sync asks for each window not written, once
    days = [date(2026, 10, 10) + timedelta(days=k) for k in range(40)]
    bad_day = days[2]
    answer, seen = _once(bad, {bad_day})
    store = Store(tmp_path)
    with fixture_server(answer) as server:
        sync = {"endpoints": "getarticleshare", "progress": False}
        with pytest.raises(SyncIncomplete) as info:
            store.sync(server.client(max_workers=2), days[0], days[-1], **sync)
        assert isinstance(info.value.__cause__, MalformedResponseError)
        assert bad_day.isoformat() in str(info.value.__cause__)
        assert f"{bad_day}..{bad_day}" in [str(w) for w in info.value.remaining[sync["endpoints"]]]
        written = set(store.read("getarticleshare")["ref_date"].dt.date)
        assert bad_day not in written and store.verify().empty
        assert len(seen) < 20  # it stopped asking soon after
        before = len(seen)
        store.sync(server.client(), days[0], days[-1], **sync)
    again = [c.begin for c in seen[before:]]
    assert sorted(again) == sorted(set(days) - written) and bad_day in again
    stored = store.read("getarticleshare")
    assert sorted(stored["ref_date"].dt.date) == days and store.verify().empty


def test_a_load_stops_asking_soon_after_an_answer_that_is_not_data() -> None:
    # from a hostile review: a load decoded its answers only once all were fetched
    first = date(2026, 10, 1)
    answer, seen = _once(NOT_DATA, {first + timedelta(days=1)})
    with fixture_server(answer) as server, pytest.raises(MalformedResponseError):
        wxframe.load_article_share(server.client(max_workers=4), first,
                                   first + timedelta(days=59), progress=False)  # fmt: skip
    assert len(seen) < 20


def test_an_answer_nested_too_deep_for_the_reader_never_reaches_it() -> None:
    # pyarrow's reader recurses once a level to infer a field it does not know: at
    # 20,000 levels it overflows the stack and the process dies (run in a child)
    code = (
        "from wxframe.frames import decode, decode_many\n"
        "from wxframe.endpoints import get_endpoint\n"
        "spec = get_endpoint('getarticleshare')\n"
        "deep = b'[' * 30000 + b']' * 30000\n"
        "row = b'{\"ref_date\":\"2026-11-01\",\"msgid\":\"1_1\",\"x\":' + deep + b'}'\n"
        "bodies = [b'{\"list\":[' + row + b']}',\n"
        "          b'{\"note\":\"' + b']' * 40000 + b'\",\"list\":[],\"x\":' + deep + b'}']\n"
        "print(decode_many(spec, bodies), [decode(spec, b) for b in bodies])\n"
    )  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "[None, None] [None, None]"


def test_no_request_follows_a_sync_that_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # from a hostile review: when a write raised (a record typing refuses), the fetch was
    # never closed and its workers went on asking for the whole range, unwritten
    import wxframe.store

    monkeypatch.setattr(wxframe.store, "FLUSH_WINDOWS", 4)  # writes within the sync
    first = date(2026, 9, 1)

    def answer(call: Call) -> Reply:
        value = "abc" if call.begin == first + timedelta(days=5) else 5
        return {"list": [{"ref_date": call.begin.isoformat(), "msgid": "1_1",
                          "detail": {"share_user": value}}]}  # fmt: skip

    with fixture_server(answer) as server:
        with pytest.raises(SyncIncomplete):
            Store(tmp_path).sync(server.client(max_workers=2), first,
                                 first + timedelta(days=79), endpoints="getarticleshare",
                                 progress=False)  # fmt: skip
        asked = len(server.calls)
        time.sleep(0.5)
        assert len(server.calls) == asked < 20


def _reached(body: bytes) -> int:
    """How deep a JSON reader nests in ``body`` before its first error (a backslash
    outside a string), a byte at a time."""
    depth = deepest = 0
    inside = escaped = False
    for byte in body:
        if inside:
            escaped, inside = (False, True) if escaped else (byte == 92, byte != 34)
        elif byte == 92:
            break
        elif byte == 34:
            inside = True
        elif byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest


_TRICKY = st.text(alphabet='[]{}"\\a', max_size=6)  # brackets, quotes, backslashes in text
_VALUES = st.recursive(
    _TRICKY | st.integers(0, 9),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY, inner, max_size=3),
    max_leaves=12,
)


def _nesting(value: object) -> int:
    children = value.values() if isinstance(value, dict) else value
    if not isinstance(value, list | dict):
        return 0
    return 1 + max((_nesting(v) for v in children), default=0)


@settings(max_examples=300, deadline=None)
@given(value=_VALUES, junk=st.binary(max_size=40), step=st.sampled_from([1, 2, 3, 1 << 20]))
def test_the_nesting_walk_is_what_a_reader_reaches(value: object, junk: bytes, step: int) -> None:
    # what guards the reader from a stack overflow: exact for JSON (brackets, quotes and
    # backslashes in its strings), never under for any bytes; the walk's steps carry a
    # string, or a run of backslashes, from one to the next
    import wxframe.frames._decode as frames

    body = json.dumps(value).encode()
    noise = bytes(b'[]{}"\\a,'[x % 8] for x in junk)
    old, frames._WALK = frames._WALK, step
    try:
        assert frames._depth(body) == _nesting(value), body
        assert frames._depth(noise) >= _reached(noise), noise
    finally:
        frames._WALK = old
