"""Ctrl-C against a stuck server, and a body that trickles in (issue 14, items 14 and 15).

A process is sent SIGINT while every worker waits on a server that never answers: it
must raise KeyboardInterrupt at once, not after each request's timeout and retries, and a
sync must keep what it had fetched. The seconds from signal to exit are printed (``-s``);
the assertion allows ten times the target, as a bound that the old behaviour (a minute
of timeouts and retries per request) could not meet on any machine.
"""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import APPID, SECRET, TOKEN, Call, fixture_server
from wxframe import Client, Store, TransportError

#: Seconds a stuck request would hold a worker (its timeout); retries multiply it.
STUCK = 60.0
CHILD = """
import sys, time
from datetime import datetime
import wxframe
from wxframe.dates import BEIJING
url, what, store = sys.argv[1:4]
client = wxframe.Client({appid!r}, {secret!r}, base_url=url, timeout={stuck}, max_retries=5,
                        clock=lambda: datetime(2026, 12, 1, 12, tzinfo=BEIJING))
print("started", flush=True)
if what == "load":
    wxframe.load_user_summary(client, "2026-09-01", "2026-11-30", progress=False)
else:
    wxframe.Store(store).sync(client, "2026-09-01", "2026-11-30", endpoints="getusersummary",
                              progress=False)
"""


def summary_rows(call: Call) -> dict[str, Any]:
    days = [call.begin + timedelta(days=n) for n in range(call.days)]
    return {"list": [{"ref_date": d.isoformat(), "user_source": 0, "new_user": 1,
                      "cancel_user": 0} for d in days]}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("what", ["load", "sync"])
def test_ctrl_c_against_a_stuck_server_raises_at_once(tmp_path: Path, what: str) -> None:
    release = threading.Event()
    answered: list[Call] = []

    def answer(call: Call) -> dict[str, Any]:
        if len(answered) < 3:  # three windows come back; then the server hangs
            answered.append(call)
            return summary_rows(call)
        release.wait(STUCK * 2)
        return summary_rows(call)

    child = CHILD.format(appid=APPID, secret=SECRET, stuck=STUCK)
    with fixture_server(answer) as server:
        proc = subprocess.Popen(
            [sys.executable, "-c", child, server.url, what, str(tmp_path / "store")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert proc.stdout is not None and proc.stdout.readline() == "started\n"
            while len(server.calls) < 3 + 4:  # three answered, four workers stuck
                time.sleep(0.02)
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.2)
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=STUCK)
            seconds = time.monotonic() - sent
        finally:
            release.set()
            proc.kill()
    assert "KeyboardInterrupt" in stderr and proc.returncode != 0
    assert seconds < 10, f"took {seconds:.1f}s to stop"
    print(f"\ninterrupt ({what}): stopped {seconds:.2f}s after SIGINT, "
          f"with 4 requests stuck for {STUCK:.0f}s each")  # fmt: skip
    if what == "sync":  # what came back before the interrupt is in the store
        store = Store(tmp_path / "store")
        held = set(store.days()["ref_date"].dt.date)
        wanted = {c.begin + timedelta(days=n) for c in answered for n in range(c.days)}
        assert held == wanted and len(store.read("getusersummary")) == len(wanted)


@contextmanager
def slow_server(pieces: int, every: float, *, gzipped: bool = False) -> Iterator[str]:
    """A token, then datacube answers whose body arrives in ``pieces`` pieces, one per
    ``every`` seconds (gzip-encoded if asked)."""
    body = json.dumps(summary_rows(Call("getusersummary", date(2026, 11, 1), date(2026, 11, 7))))
    data = gzip.compress(body.encode()) if gzipped else body.encode()
    size = -(-len(data) // pieces)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith("/cgi-bin/"):
                token = json.dumps({"access_token": TOKEN, "expires_in": 7200}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(token)))
                self.end_headers()
                self.wfile.write(token)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for start in range(0, len(data), size):
                try:
                    self.wfile.write(data[start : start + size])
                    self.wfile.flush()
                except OSError:  # the client gave up at its deadline
                    return
                time.sleep(every)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_timeout_is_a_deadline_for_the_whole_request() -> None:
    # 40 pieces a quarter of a second apart: 10 s of body, each piece well inside 1 s
    with slow_server(pieces=40, every=0.25) as url:
        client = Client(APPID, SECRET, base_url=url, timeout=1.0, max_retries=0)
        started = time.monotonic()
        with pytest.raises(TransportError, match=r"getusersummary .*timed out after 1.0s"):
            client.fetch("getusersummary", "2026-11-01", "2026-11-07")
        seconds = time.monotonic() - started
    assert seconds < 5, f"a 1 s deadline held the call {seconds:.1f}s"
    print(f"\ntrickling body: a 1 s deadline stopped a 10 s body after {seconds:.2f}s")


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_body_in_pieces_within_the_deadline_is_read_whole(gzipped: bool) -> None:
    with slow_server(pieces=8, every=0.01, gzipped=gzipped) as url:
        client = Client(APPID, SECRET, base_url=url, timeout=10.0, max_retries=0)
        page = client.fetch("getusersummary", "2026-11-01", "2026-11-07")
    assert [r["ref_date"] for r in page] == [f"2026-11-0{n}" for n in range(1, 8)]
