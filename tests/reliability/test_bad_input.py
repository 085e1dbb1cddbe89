"""Bad input across the public API: a clear, specific error, or documented handling.

Each row names the input, what is expected (an exception type and the words its message
must contain, or ``HANDLED`` with a check of the documented result) and is run against
the real parts: dates and names through the loaders and the store (a simulator counts
that no request was sent), API responses through a loopback server that answers
exactly the given body, frames through the helpers. An error must come from wxframe
(a ``WxframeError``), never from deep inside pandas or pyarrow.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pandas as pd
import pytest

import wxframe
from wxframe import (
    ConfigurationError,
    FrameShapeError,
    InvalidDateError,
    MalformedResponseError,
    NonJSONResponseError,
    UnknownEndpointError,
    WxframeError,
)
from wxframe.simulator import SimulatedAccount, Simulator, records, serve

HANDLED = None  # an expected "exception" of None: the input is handled as documented
TODAY = date(2024, 6, 1)


@dataclass
class World:
    """What a case can use: a simulator client, a store, frames, a canned-answer server."""

    sim: Simulator
    client: wxframe.Client
    store: wxframe.Store
    frames: dict[str, pd.DataFrame]
    canned: Callable[[bytes, str], wxframe.Client]


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[World], Any]
    raises: type[Exception] | None
    says: str = ""  # words the message must contain
    check: Callable[[Any], bool] | None = None


def _rec(**fields: Any) -> dict[str, Any]:
    base = {"ref_date": "2024-05-01", "share_scene": 1, "share_count": 3, "share_user": 2}
    return {**base, **fields}


def _hour(**fields: Any) -> dict[str, Any]:
    base = {"ref_date": "2024-05-01", "ref_hour": 800, "user_source": 0,
            "int_page_read_user": 2, "int_page_read_count": 3, "share_user": 0,
            "share_count": 0}  # fmt: skip
    return {**base, **fields}


def _read(w: World, begin: Any, end: Any) -> Any:
    return wxframe.load_user_read(w.client, begin, end, progress=False)


CASES = [
    # ---- dates: reversed, malformed, out of range, wrong types
    Case("dates reversed", lambda w: _read(w, "2024-05-10", "2024-05-01"), InvalidDateError,
         "begin=2024-05-10 is after end=2024-05-01"),
    Case("month 13", lambda w: _read(w, "2024-13-01", "2024-05-01"), InvalidDateError,
         "begin='2024-13-01' is not a date"),
    Case("February 30", lambda w: _read(w, "2024-02-30", "2024-05-01"), InvalidDateError,
         "'2024-02-30' is not a date"),
    Case("slashes", lambda w: _read(w, "2024/05/01", "2024-05-02"), InvalidDateError,
         "use 'YYYY-MM-DD'"),
    Case("day first", lambda w: _read(w, "01-05-2024", "2024-05-02"), InvalidDateError,
         "'01-05-2024' is not a date"),
    Case("a word", lambda w: _read(w, "yesterday", "2024-05-02"), InvalidDateError,
         "'yesterday' is not a date"),
    Case("empty string", lambda w: _read(w, "", "2024-05-02"), InvalidDateError,
         "begin='' is not a date"),
    Case("before 2014-12-01", lambda w: _read(w, "2014-11-30", "2014-12-02"), InvalidDateError,
         "before getuserread's first day; getuserread has data from 2014-12-01"),
    Case("today", lambda w: _read(w, "2024-05-31", "2024-06-01"), InvalidDateError,
         "end=2024-06-01 is not yet over in Beijing"),
    Case("the future", lambda w: _read(w, "2024-05-31", "2030-01-01"), InvalidDateError,
         "end=2030-01-01 is not yet over"),
    Case("an int", lambda w: _read(w, 20240501, "2024-05-02"), InvalidDateError,
         "begin=20240501 (int) is not a date"),
    Case("None", lambda w: _read(w, None, "2024-05-02"), InvalidDateError,
         "begin=None (NoneType)"),
    Case("a float", lambda w: _read(w, 1.5, "2024-05-02"), InvalidDateError, "(float)"),
    Case("a list", lambda w: _read(w, ["2024-05-01"], "2024-05-02"), InvalidDateError,
         "(list) is not a date"),
    Case("NaT", lambda w: _read(w, pd.NaT, "2024-05-02"), InvalidDateError, "NaT is not a date"),
    Case("tz-aware instant (documented: Beijing day)",
         lambda w: wxframe.dates.as_date(pd.Timestamp("2024-05-01 20:00", tz="UTC")), HANDLED,
         check=lambda d: d == date(2024, 5, 2)),
    Case("naive datetime (documented: its date)",
         lambda w: wxframe.dates.as_date(datetime(2024, 5, 1, 23, 59)), HANDLED,
         check=lambda d: d == date(2024, 5, 1)),
    # ---- names and options
    Case("unknown endpoint", lambda w: wxframe.load(w.client, "getuserreads", "2024-05-01",
         "2024-05-02"), UnknownEndpointError, "unknown endpoint 'getuserreads'; known endpoints: "
         "getbizsummary"),
    Case("empty endpoint", lambda w: wxframe.load(w.client, "", "2024-05-01", "2024-05-02"),
         UnknownEndpointError, "unknown endpoint ''"),
    Case("endpoint of wrong type", lambda w: wxframe.load(w.client, 3, "2024-05-01",
         "2024-05-02"), UnknownEndpointError, "unknown endpoint 3"),
    Case("sync of an unknown endpoint", lambda w: w.store.sync(w.client, "2024-05-01",
         "2024-05-02", endpoints=["bad"]), UnknownEndpointError, "unknown endpoint 'bad'"),
    Case("read of an unknown endpoint", lambda w: w.store.read("nope"), UnknownEndpointError,
         "unknown endpoint 'nope'"),
    Case("read of an unknown column", lambda w: w.store.read("getuserread", columns=["nope"]),
         ConfigurationError, "unknown column(s) ['nope'] for getuserread"),
    Case("read with dates reversed", lambda w: w.store.read("getuserread", "2024-05-02",
         "2024-05-01"), ConfigurationError, "begin=2024-05-02 is after end=2024-05-01"),
    Case("max_workers=0", lambda w: wxframe.Client("wx1", "s", max_workers=0),
         ConfigurationError, "max_workers=0; allowed: an integer >= 1"),
    Case("negative timeout", lambda w: wxframe.Client("wx1", "s", timeout=-1),
         ConfigurationError, "timeout=-1; allowed"),
    Case("unknown token kind", lambda w: wxframe.Client("wx1", "s", token="magic"),
         ConfigurationError, "token='magic'; allowed: 'stable' or 'classic'"),
    Case("no credentials", lambda w: wxframe.Client("", ""), ConfigurationError,
         "give appid and secret"),
    # ---- API responses, served as they are by a loopback server
    Case("response without 'list'", lambda w: wxframe.load_user_read(
         w.canned(b'{"errcode": 0}', "application/json"), "2024-05-01", "2024-05-01",
         progress=False), MalformedResponseError, "the response has no 'list' array"),
    Case("'list' not a list", lambda w: wxframe.load_user_read(
         w.canned(b'{"list": {"ref_date": "2024-05-01"}}', "application/json"), "2024-05-01",
         "2024-05-01", progress=False), MalformedResponseError, "has no 'list' array"),
    Case("a 200 that is not JSON", lambda w: wxframe.load_user_read(
         w.canned(b"<html>maintenance</html>", "text/html"), "2024-05-01", "2024-05-01",
         progress=False), NonJSONResponseError, "maintenance"),
    Case("records of the wrong kind", lambda w: wxframe.to_frame("getuserread", [1, 2]),
         MalformedResponseError, "record 0 is int, not a JSON object"),
    Case("records as a string", lambda w: wxframe.to_frame("getuserread", "abc"),
         MalformedResponseError, "'list' must be a JSON array of records, got str"),
    Case("a response dict without 'list'", lambda w: wxframe.to_frame("getuserread",
         {"errcode": 0}), MalformedResponseError, "a response must have a 'list'"),
    Case("a counter as a word", lambda w: wxframe.to_frame("getusershare",
         [_rec(share_count="seven")]), MalformedResponseError,
         "field 'share_count' must be an integer, got string (e.g. 'seven')"),
    Case("a counter as a digit string (documented: parsed)", lambda w: wxframe.to_frame(
         "getusershare", [_rec(share_count="7")]), HANDLED,
         check=lambda df: df["share_count"].tolist() == [7]),
    Case("a counter as a float", lambda w: wxframe.to_frame("getusershare",
         [_rec(share_count=1.5)]), MalformedResponseError, "got double (e.g. 1.5)"),
    Case("a counter as a bool", lambda w: wxframe.to_frame("getusershare",
         [_rec(share_count=True)]), MalformedResponseError, "got bool"),
    Case("mixed types in a field", lambda w: wxframe.to_frame("getusershare",
         [_rec(), _rec(ref_date="2024-05-02", share_count="x")]), MalformedResponseError,
         "share_count"),
    Case("ref_hour 1230", lambda w: wxframe.to_frame("getuserreadhour", [_hour(ref_hour=1230)]),
         MalformedResponseError, "ref_hour must be one of 0, 100, ..., 2300; got [1230]"),
    Case("ref_hour 2400", lambda w: wxframe.to_frame("getuserreadhour", [_hour(ref_hour=2400)]),
         MalformedResponseError, "got [2400]"),
    Case("a negative count", lambda w: wxframe.to_frame("getusershare", [_rec(share_count=-3)]),
         MalformedResponseError, "'share_count' is a count and cannot be negative, got -3"),
    Case("a count beyond int64", lambda w: wxframe.to_frame("getusershare",
         [_rec(share_count=2**70)]), MalformedResponseError, "beyond a 64-bit integer"),
    Case("an impossible date", lambda w: wxframe.to_frame("getusershare",
         [_rec(ref_date="2024-02-30")]), MalformedResponseError,
         "'ref_date' must be a 'YYYY-MM-DD' date, got '2024-02-30'"),
    Case("no ref_date at all", lambda w: wxframe.to_frame("getusershare",
         [{"share_scene": 1, "share_count": 1, "share_user": 1}]), MalformedResponseError,
         "records have no 'ref_date' field"),
    Case("details not a list", lambda w: wxframe.to_frame("getarticletotal",
         [{"ref_date": "2024-05-01", "msgid": "1_1", "title": "t", "details": "x"}]),
         MalformedResponseError, "'details' must be a list of objects, got string"),
    Case("duplicated rows that disagree", lambda w: wxframe.to_frame("getusershare",
         [_rec(), _rec(share_count=9)]), MalformedResponseError,
         "2 records share a key ('ref_date', 'share_scene') but disagree"),
    Case("duplicated identical rows (documented: kept once)", lambda w: wxframe.to_frame(
         "getusershare", [_rec(), _rec()]), HANDLED, check=lambda df: len(df) == 1),
    Case("an unknown share scene (documented: code_<n>)", lambda w: wxframe.to_frame(
         "getusershare", [_rec(share_scene=9)]), HANDLED,
         check=lambda df: df["scene"].tolist() == ["code_9"]),
    Case("an unknown channel (documented: code_<n>, last)", lambda w: wxframe.to_frame(
         "getuserreadhour", [_hour(user_source=42), _hour()]), HANDLED,
         check=lambda df: list(df["channel"].cat.categories)[-1] == "code_42"),
    Case("an unknown field (documented: kept, typed)", lambda w: wxframe.to_frame(
         "getusershare", [_rec(new_counter=5)]), HANDLED,
         check=lambda df: str(df["new_counter"].dtype) == "Int64"),
    # ---- frames of the wrong shape passed to helpers
    Case("share frame to pivot_channels", lambda w: wxframe.pivot_channels(
         w.frames["share"]), FrameShapeError, "needs a frame with channel rows (getbizsummary, "
         "getarticleread, getuserread, ...); this looks like a getusershare frame"),
    Case("read frame to pivot_scenes", lambda w: wxframe.pivot_scenes(w.frames["read"]),
         FrameShapeError, "looks like a getuserread frame, which lacks column(s) scene"),
    Case("summary frame to to_daily", lambda w: wxframe.to_daily(w.frames["summary"]),
         FrameShapeError, "to_daily needs a getarticletotal or getarticletotaldetail frame"),
    Case("total without details to to_daily", lambda w: wxframe.to_daily(
         w.frames["total"][["msgid", "stat_date", "title"]]), FrameShapeError,
         "to_daily needs running totals (int_page_read_count, read_user, ...)"),
    Case("to_cumulative of a raw total", lambda w: wxframe.to_cumulative(w.frames["total"]),
         FrameShapeError, "to_daily's output"),
    Case("share frame to add_rates", lambda w: wxframe.add_rates(w.frames["share"]),
         FrameShapeError, "add_rates found no numerator/denominator pair"),
    Case("read frame to article_lifecycle", lambda w: wxframe.article_lifecycle(
         w.frames["read"]), FrameShapeError,
         "article_lifecycle needs a getarticletotal or getarticletotaldetail frame"),
    Case("a list to a helper", lambda w: wxframe.add_rates([1, 2]), FrameShapeError,
         "(a DataFrame), got list"),
    Case("daily frame to plot_hourly_heatmap", lambda w: wxframe.plot_hourly_heatmap(
         w.frames["read"]), FrameShapeError, "lacks column(s) ref_hour"),
    Case("one frame to check_consistency", lambda w: wxframe.check_consistency(
         read=w.frames["read"]), ConfigurationError, "at least two of"),
    Case("labels='fr'", lambda w: wxframe.pivot_channels(w.frames["read"], labels="fr"),
         ConfigurationError, "labels='fr' is not allowed; use 'en' or 'zh'"),
]  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    acct = SimulatedAccount(seed=0, today=TODAY)
    b, e = date(2024, 5, 1), date(2024, 5, 10)
    frames = {
        "read": wxframe.to_frame("getuserread", records(acct, "getuserread", b, e)),
        "share": wxframe.to_frame("getusershare", records(acct, "getusershare", b, e)),
        "summary": wxframe.to_frame("getarticlesummary", records(acct, "getarticlesummary", b, e)),
        "total": wxframe.to_frame("getarticletotal", records(acct, "getarticletotal", b, e)),
    }
    servers: list[ThreadingHTTPServer] = []

    def canned(body: bytes, content_type: str) -> wxframe.Client:
        server = _canned_server(body, content_type)
        servers.append(server)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        return wxframe.Client("wxcanned", "canned-secret", base_url=url, max_retries=0,
                              backoff=0.001)  # fmt: skip

    with serve(seed=0, today=TODAY) as sim:
        store = wxframe.Store(tmp_path_factory.mktemp("store"))
        yield World(sim, sim.client(), store, frames, canned)
    for server in servers:
        server.shutdown()
        server.server_close()


def _canned_server(body: bytes, content_type: str) -> ThreadingHTTPServer:
    """A loopback server: a stable token for anyone, and ``body`` for every datacube call."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path.startswith("/cgi-bin/stable_token"):
                payload, kind = json.dumps({"access_token": "T", "expires_in": 7200}), "json"
                self._send(payload.encode(), f"application/{kind}")
            else:
                self._send(body, content_type)

        def _send(self, data: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_there_are_at_least_forty_cases(capsys: pytest.CaptureFixture[str]) -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    raised = sum(c.raises is not None for c in CASES)
    with capsys.disabled():
        print(f"\nbad input: {len(CASES)} cases, {raised} answered with a specific "
              f"WxframeError, {len(CASES) - raised} handled as documented")  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gets_a_clear_answer(case: Case, world: World) -> None:
    before = world.sim.stats.datacube_calls
    if case.raises is None:
        result = case.run(world)
        assert case.check is not None and case.check(result), case.name
        return
    with pytest.raises(case.raises) as caught:
        case.run(world)
    exc = caught.value
    assert isinstance(exc, WxframeError), f"{type(exc).__module__}.{type(exc).__name__}"
    assert case.says in str(exc), str(exc)
    # raised by wxframe's own code, not from deep inside a library
    frames = [f for f in caught.traceback if "site-packages" not in str(f.path)]
    assert "wxframe" in str(frames[-1].path)
    # bad dates and names are refused before any request is sent
    assert world.sim.stats.datacube_calls == before
