"""Issue 14's cases, each reproduced first: secrets, redirects, statuses, advice, pickling,
malformed token answers, the store's temp files, accounts and manifests."""

from __future__ import annotations

import json
import logging
import pickle
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import wxframe
from tests.fixture_server import APPID, SECRET, TOKEN
from wxframe import Client, ConfigurationError, Store, StoreError, TokenError, TransportError
from wxframe.dates import BEIJING
from wxframe.simulator import serve

CLOCK = datetime(2026, 12, 1, 12, tzinfo=BEIJING)


@contextmanager
def raw_server(reply: Any) -> Iterator[tuple[str, list[str]]]:
    """A loopback server answering every request with ``reply(path, body)``:
    ``(status, headers, body bytes)``; yields its URL and the paths it was asked."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            asked.append(self.path.split("?")[0])
            status, headers, data = reply(self.path, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", asked
    finally:
        server.shutdown()
        server.server_close()


def token_then(datacube: Any) -> Any:
    """A reply function: a stable token, then ``datacube(path, body)`` for the rest."""

    def reply(path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/cgi-bin/"):
            answer = {"access_token": TOKEN, "expires_in": 7200}
            return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
        return datacube(path, body)  # type: ignore[no-any-return]

    return reply


def client(url: str, **kwargs: Any) -> Client:
    return Client(APPID, SECRET, base_url=url, clock=lambda: CLOCK, backoff=0.0, **kwargs)


# ------------------------------------------------------------------------- secrets
def test_item_11_classic_token_requests_never_log_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with serve(seed=0, today="2026-12-01") as sim, caplog.at_level(logging.DEBUG):
        c = Client(sim.appid, sim.secret, base_url=sim.url, token="classic", clock=sim.now)
        wxframe.load_user_cumulate(c, "2026-11-20", "2026-11-26", progress=False)
        secret = sim.secret
    lines = [r.getMessage() for r in caplog.records]
    assert any("/cgi-bin/token" in line for line in lines)  # the line is there...
    assert not any(secret in line for line in lines)  # ...without the secret
    assert any("secret=***" in line for line in lines)


def test_item_12_redirects_are_never_followed() -> None:
    def moved(path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        return 307, {"Location": "http://elsewhere.example/cgi-bin/stable_token"}, b""

    with raw_server(moved) as (url, asked), pytest.raises(TransportError) as refused:
        wxframe.load_user_cumulate(client(url), "2026-11-20", "2026-11-26")
    assert "HTTP 307" in str(refused.value) and "elsewhere.example" in str(refused.value)
    assert asked == ["/cgi-bin/stable_token"]  # asked once, not re-sent anywhere
    assert SECRET not in str(refused.value)


def test_item_13_plain_http_off_this_machine_needs_allow_insecure() -> None:
    with pytest.raises(ConfigurationError, match=r"unencrypted.*allow_insecure=True"):
        Client(APPID, SECRET, base_url="http://api.example.com")
    Client(APPID, SECRET, base_url="http://api.example.com", allow_insecure=True)
    Client(APPID, SECRET, base_url="http://localhost:8080")
    Client(APPID, SECRET, base_url="https://api.example.com")


# ----------------------------------------------------------------- clear answers
@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, b'{"errcode": 40001}'),
        (404, b'{"list": []}'),  # not data: a wrong path that happens to answer JSON
        (403, b"<html>forbidden</html>"),
    ],
)
def test_item_16_statuses_other_than_200_are_named(status: int, body: bytes) -> None:
    def answer(path: str, _: bytes) -> tuple[int, dict[str, str], bytes]:
        return status, {"Content-Type": "application/json"}, body

    expected = TransportError if body.startswith(b"{") else wxframe.NonJSONResponseError
    with raw_server(token_then(answer)) as (url, _), pytest.raises(expected) as error:
        wxframe.load_user_cumulate(client(url), "2026-11-20", "2026-11-26")
    assert f"HTTP {status}" in str(error.value) and "getusercumulate" in str(error.value)


def test_item_16_429_and_503_are_retried_then_named() -> None:
    def busy(path: str, _: bytes) -> tuple[int, dict[str, str], bytes]:
        return 429, {"Content-Type": "text/plain"}, b"slow down"

    with raw_server(token_then(busy)) as (url, asked), pytest.raises(TransportError) as error:
        wxframe.load_user_cumulate(client(url, max_retries=2), "2026-11-20", "2026-11-26")
    assert "HTTP 429" in str(error.value)
    assert asked.count("/datacube/getusercumulate") == 3  # 1 + 2 retries


def test_item_17_a_refused_fresh_token_gets_advice_that_fits() -> None:
    def refuse(path: str, _: bytes) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, b'{"errcode": 40001, "errmsg": "x"}'

    with raw_server(token_then(refuse)) as (url, _), pytest.raises(TokenError) as error:
        wxframe.load_user_cumulate(client(url), "2026-11-20", "2026-11-26")
    message = str(error.value)
    assert "freshly fetched token too" in message
    assert "give an app secret" not in message  # one was given


@pytest.mark.parametrize(
    "answer",
    [
        {"access_token": TOKEN, "expires_in": "abc"},
        {"access_token": TOKEN, "expires_in": -5},
        {"expires_in": 7200},
        {"access_token": "", "expires_in": 7200},
    ],
)
def test_item_19_a_malformed_token_answer_is_a_token_error(answer: dict[str, Any]) -> None:
    def reply(path: str, _: bytes) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    with raw_server(reply) as (url, _), pytest.raises(TokenError, match="malformed"):
        wxframe.load_user_cumulate(client(url), "2026-11-20", "2026-11-26")


def test_item_18_every_exported_exception_round_trips_through_pickle() -> None:
    from wxframe.dates import Window

    window = Window(date(2026, 11, 1), date(2026, 11, 1))
    made = []
    for name in wxframe.__all__:
        cls = getattr(wxframe, name)
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            continue
        if issubclass(cls, wxframe.ApiError):
            made.append(cls(45009, "quota", endpoint="getbizsummary", window=window))
        elif cls is wxframe.SyncIncomplete:
            made.append(cls("stopped", remaining={"getbizsummary": [window]}, summary=None))
        elif cls is wxframe.NonJSONResponseError:
            made.append(cls("html", status=502, snippet="<html>"))
        else:
            made.append(cls("message"))
    assert len(made) >= 20
    for error in made:
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error)
        assert vars(again) == vars(error)


# ------------------------------------------------------------------------- store
def test_item_6_sync_removes_only_its_own_temporary_files(tmp_path: Path) -> None:
    mine = tmp_path / "notes" / ".draft.tmp"
    mine.parent.mkdir()
    mine.write_text("a user's file")
    name = ".data.parquet.0123456789abcdef0123456789abcdef.tmp"
    left = tmp_path / "getusercumulate" / "account=wx5im0000000000001" / "month=2026-11" / name
    other = tmp_path / "getusercumulate" / "account=wx5im0000000000002" / "month=2026-11" / name
    for tmp in (left, other):
        tmp.parent.mkdir(parents=True)
        tmp.write_bytes(b"half a write")
    with serve(seed=0, today="2026-12-01") as sim:
        Store(tmp_path).sync(sim.client(), "2026-11-20", "2026-11-26",
                             endpoints="getusercumulate", progress=False)  # fmt: skip
    assert mine.read_text() == "a user's file"  # not the store's: kept
    assert not left.exists()  # this account's leftover: cleaned
    assert other.exists()  # another account's: its own sync may be writing it now


def test_item_7_a_bare_token_client_must_say_its_account(tmp_path: Path) -> None:
    with serve(seed=0, today="2026-12-01") as sim:
        token = sim.client()._tokens.current()
        bare = Client(access_token=token, base_url=sim.url, clock=sim.now)
        with pytest.raises(ConfigurationError, match="pass appid="):
            Store(tmp_path).sync(bare, "2026-11-20", "2026-11-26", progress=False)
        named = Client(sim.appid, access_token=token, base_url=sim.url, clock=sim.now)
        Store(tmp_path).sync(named, "2026-11-20", "2026-11-26", progress=False)
    assert Store(tmp_path).accounts() == [sim.appid]


@pytest.mark.parametrize("appid", ["../../x", "a/b", "wx..", "x" * 65])
def test_item_8_an_appid_cannot_leave_the_store(tmp_path: Path, appid: str) -> None:
    root = tmp_path / "store"
    with serve(seed=0, today="2026-12-01") as sim:
        c = Client(appid, sim.secret, base_url=sim.url, clock=sim.now)
        with pytest.raises(ConfigurationError, match="is not an appid"):
            Store(root).sync(c, "2026-11-20", "2026-11-26", progress=False)
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ([], "no 'endpoints' object"),
        ({"endpoints": []}, "no 'endpoints' object"),
        ({"endpoints": {"getbizsummary": {"days": {"2026-11-01": {}}}}}, "has no 'at' time"),
        ({"endpoints": {"getbizsummary": {"days": {"not-a-day": {"at": "x"}}}}}, "not a date"),
    ],
)
def test_item_9_a_manifest_of_the_wrong_shape_is_a_store_error(
    tmp_path: Path, manifest: object, problem: str
) -> None:
    (tmp_path / "_manifest").mkdir()
    path = tmp_path / "_manifest" / "wx5im0000000000001.json"
    path.write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match=problem) as error:
        Store(tmp_path).coverage()
    assert str(path) in str(error.value)


def test_item_10_pivot_channels_names_rows_without_a_channel() -> None:
    rows = [
        {"ref_date": "2024-01-01", "user_source": 99999999, "int_page_read_count": 5},
        {"ref_date": "2024-01-01", "int_page_read_count": 2},
    ]
    df = wxframe.to_frame("getuserread", rows)
    with pytest.raises(wxframe.FrameShapeError, match="1 row\\(s\\) have no channel"):
        wxframe.pivot_channels(df)
    assert isinstance(df, pd.DataFrame)


def test_item_20_a_store_root_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = tmp_path / "not-a-dir"
    root.write_text("a file")
    with serve(seed=0, today="2026-12-01") as sim, pytest.raises(StoreError, match="not-a-dir"):
        Store(root).sync(sim.client(), "2026-11-20", "2026-11-26", progress=False)
    run = subprocess.run(
        [sys.executable, "-m", "wxframe", "sync", "--simulator", "--store", str(root), "--quiet"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 2 and "not-a-dir" in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_item_20_a_folder_the_store_cannot_write_is_a_store_error(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        # root writes through permissions: make the partition's place a file instead
        (tmp_path / "getusercumulate").write_text("in the way")
    else:
        (tmp_path / "getusercumulate").mkdir(mode=0o500)
    with serve(seed=0, today="2026-12-01") as sim, pytest.raises(StoreError) as error:
        Store(tmp_path).sync(sim.client(), "2026-11-20", "2026-11-26",
                             endpoints="getusercumulate", progress=False)  # fmt: skip
    assert "getusercumulate" in str(error.value) and "cannot write" in str(error.value)


# ---------------------------------------------------------------- wrong data
def test_item_3_finality_follows_when_the_request_was_sent(tmp_path: Path) -> None:
    today, yesterday = date(2026, 12, 1), date(2026, 11, 30)
    store = Store(tmp_path)
    with serve(seed=0, today=today, hour=7) as sim:  # yesterday's followers not ready yet

        def clock() -> datetime:
            # the request leaves at 07:59; its answer is handled at 08:01
            minute = (8, 1) if sim.stats.datacube_calls else (7, 59)
            return datetime(2026, 12, 1, *minute, tzinfo=BEIJING)

        c = Client(sim.appid, sim.secret, base_url=sim.url, clock=clock)
        with pytest.warns(wxframe.IncompleteDataWarning):
            store.sync(c, yesterday, yesterday, endpoints="getusersummary", progress=False)
        day = store.days().iloc[0]
        assert day["rows"] == 0 and not day["final"]  # asked before 08:00: not final
        sim.set_clock(today, hour=9)
        store.sync(sim.client(), yesterday, yesterday, endpoints="getusersummary",
                   progress=False)  # fmt: skip
    assert len(store.read("getusersummary")) > 0 and store.days()["final"].all()


def test_item_4_rows_outside_the_window_are_dropped_and_named(tmp_path: Path) -> None:
    from tests.fixture_server import Call, fixture_server

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
