"""Every shared fixture and test helper, each name with one meaning.

- Simulators on loopback: ``sim`` (one per session, read-only tests), ``fresh_sim`` (a test's
  own, for its stats or clock), ``three_accounts`` (three seeds, for many-account tests).
- Servers whose answers a test writes: ``fixture_server`` (datacube answers by window) and
  ``raw_server`` (any status, headers and bytes), with ``raw_client`` to talk to the latter.
- Frames loaded once per session: ``offline_frames`` (the six, over HTTP), ``current_frames``
  (the current family and the followers, over HTTP), ``plot_frames`` (from the model).
- Stores: ``synced`` (a sound two-month store, built once and copied into each test).
- Reports: ``demo_report`` and ``demo_report_zh`` (the demo store's default report in each
  language, rendered once for the whole run and read by every test that checks one), and
  ``made_once``, which shares anything a kernel or a sync takes seconds to make.
- Object storage: ``s3`` (moto's S3 server on loopback, one a module, and the AWS_*
  variables a user would set; ``S3_SECRET`` the secret key, which nothing may show).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import matplotlib
import pandas as pd
import pytest
import requests
from filelock import FileLock

import wxframe
from wxframe import OFFLINE_ENDPOINTS, Client, Store, to_frame
from wxframe.dates import BEIJING
from wxframe.simulator import SimulatedAccount, Simulator, records, serve

# The plots draw off screen, whichever test file imports pyplot first.
matplotlib.use("Agg")

#: The simulated "today" most tests use (Beijing), with yesterday complete (noon).
TODAY = date(2024, 6, 1)

#: Retry waits shrunk so a test spends its time on faults, not sleeping; the policy is
#: the same (bounded attempts, exponential backoff with jitter, 45011 waits).
FAST = {"backoff": 0.001, "max_backoff": 0.01, "rate_limit_wait": 0.01}

#: How often a test server's loop looks for its shutdown: the 0.5 s default was paid by
#: every test that starts one, on leaving its ``with``.
POLL = 0.05


#: The secret key of the ``s3`` fixture's environment: nothing wxframe writes or says holds it.
S3_SECRET = "s3-secret-never-written-0123456789"
S3_KEY_ID = "AKIAWXFRAMETEST"


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """A moto S3 server on a free port (a real S3 HTTP API on loopback), its bucket
    ``team``, and the environment a user would set; ``s3://team``."""
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line a request, captured
    server.start()
    host, port = server.get_host_and_port()
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                             "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION")}  # fmt: skip
    os.environ.update(AWS_ACCESS_KEY_ID=S3_KEY_ID, AWS_SECRET_ACCESS_KEY=S3_SECRET,
                      AWS_ENDPOINT_URL=f"http://{host}:{port}",
                      AWS_DEFAULT_REGION="us-east-1")  # fmt: skip
    boto3.client("s3").create_bucket(Bucket="team")
    try:
        yield "s3://team"
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: under xdist they then start while the fast ones fill the gaps,
    instead of a 45-second test starting last and running alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# ------------------------------------------------------------------------ simulators
@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    """One fault-free simulator for read-only tests (its stats grow across tests)."""
    with serve(seed=0, today=TODAY, hour=12) as s:
        yield s


@pytest.fixture
def fresh_sim() -> Iterator[Simulator]:
    """A simulator of its own, for tests that read its stats or move its clock."""
    with serve(seed=0, today=TODAY, hour=12) as s:
        yield s


@contextlib.contextmanager
def three_accounts() -> Iterator[list[Simulator]]:
    """Three accounts (seeds 0, 1, 2) on 2026-12-01, each a simulator of its own."""
    today = "2026-12-01"
    with (
        serve(seed=0, today=today) as a,
        serve(seed=1, today=today) as b,
        serve(seed=2, today=today) as c,
    ):
        yield [a, b, c]


def classic_token(sim: Simulator) -> str:
    r = requests.get(
        f"{sim.url}/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": sim.appid, "secret": sim.secret},
        timeout=10,
    )
    return str(r.json()["access_token"])


def datacube(
    sim: Simulator, endpoint: str, begin: str, end: str, token: str | None = None
) -> dict[str, Any]:
    """POST one datacube request the way the platform documents it; the decoded JSON."""
    token = token if token is not None else classic_token(sim)
    r = requests.post(
        f"{sim.url}/datacube/{endpoint}",
        params={"access_token": token},
        json={"begin_date": begin, "end_date": end},
        timeout=10,
    )
    assert r.status_code == 200
    return dict(json.loads(r.content))  # UTF-8 whatever the Content-Type says


# ------------------------------------------------------- servers whose answers tests write
# The simulator models an account; these answer whatever a test returns, so a test can put
# one precise platform behaviour on the wire (an errcode, a Content-Type, a made-up
# endpoint) and count exactly what the client sent.
APPID = "wx0123456789abcdef"
SECRET = "fixture-secret-0123456789"
TOKEN = "FIXTURE_TOKEN_abcdef0123456789"


@dataclass(frozen=True)
class Call:
    """One datacube request as the server received it."""

    endpoint: str
    begin: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.begin).days + 1


#: What an answer function returns: a JSON-able body, or ``(status, content type, bytes)``.
Reply = dict[str, Any] | tuple[int, str, bytes]
Answer = Callable[[Call], Reply]


@dataclass
class FixtureServer:
    url: str
    calls: list[Call] = field(default_factory=list)
    token_requests: int = 0

    def client(self, **kwargs: Any) -> Client:
        kwargs.setdefault("base_url", self.url)
        kwargs.setdefault("clock", lambda: datetime(2026, 12, 1, 12, tzinfo=BEIJING))
        kwargs.setdefault("backoff", 0.0)
        return Client(APPID, SECRET, **kwargs)

    def calls_to(self, endpoint: str) -> list[Call]:
        return [c for c in self.calls if c.endpoint == endpoint]


@contextmanager
def fixture_server(answer: Answer) -> Iterator[FixtureServer]:
    """Serve ``answer`` for every ``POST /datacube/<name>``; a stable token for the rest."""
    lock = threading.Lock()
    state = FixtureServer(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if path == "/cgi-bin/stable_token":
                with lock:
                    state.token_requests += 1
                self._send(200, "application/json", {"access_token": TOKEN, "expires_in": 7200})
                return
            if not path.startswith("/datacube/"):
                self._send(404, "application/json", {"errcode": 404, "errmsg": "not found"})
                return
            call = Call(
                path.removeprefix("/datacube/"),
                date.fromisoformat(body["begin_date"]),
                date.fromisoformat(body["end_date"]),
            )
            with lock:
                state.calls.append(call)
            reply = answer(call)
            if isinstance(reply, tuple):
                self._send(*reply)
            else:
                self._send(200, "application/json", reply)

        def _send(self, status: int, content_type: str, payload: Any) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)  # unless the client has given up

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


#: The clock of ``raw_client``: the fixture servers' clients live on 2026-12-01, noon.
RAW_CLOCK = datetime(2026, 12, 1, 12, tzinfo=BEIJING)


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
    thread = threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True)
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


def raw_client(url: str, **kwargs: Any) -> Client:
    """A client of ``raw_server``'s account, on ``RAW_CLOCK``, retrying without waits."""
    return Client(APPID, SECRET, base_url=url, clock=lambda: RAW_CLOCK, backoff=0.0, **kwargs)


# ------------------------------------------------------------------------ frames
#: Two months of the six, which ``offline_frames`` holds.
OFFLINE_BEGIN, OFFLINE_END = date(2024, 4, 1), date(2024, 5, 31)
OFFLINE_DAYS = [
    OFFLINE_BEGIN + timedelta(days=i) for i in range((OFFLINE_END - OFFLINE_BEGIN).days + 1)
]


@pytest.fixture(scope="session")
def offline_frames() -> dict[str, pd.DataFrame]:
    """Two months of all six endpoints, loaded over HTTP from a simulator of its own; the
    simulator under ``"_sim"`` (stopped: its account is the ground truth)."""
    with serve(seed=0, today=date(2024, 6, 1), hour=12) as sim:
        client = sim.client()
        out = {
            name: wxframe.load(client, name, OFFLINE_BEGIN, OFFLINE_END, progress=False)
            for name in wxframe.OFFLINE_ENDPOINTS
        }
        out["_sim"] = sim  # type: ignore[assignment]
    return out


#: The day ``current_frames`` are loaded on, and the ten weeks they hold.
CURRENT_TODAY = date(2026, 1, 10)
CURRENT_BEGIN, CURRENT_END = date(2025, 11, 1), date(2026, 1, 9)


@pytest.fixture(scope="session")
def current_frames() -> dict[str, object]:
    """Ten weeks of the current family and the followers, and October of getuserread,
    over HTTP from one simulator (the six still answer on this date)."""
    with serve(seed=0, today=CURRENT_TODAY, hour=12) as sim:
        client = sim.client()
        out: dict[str, object] = {
            "biz": wxframe.load_biz_summary(client, CURRENT_BEGIN, CURRENT_END),
            "read": wxframe.load_article_read(client, "2025-11-01", "2025-11-30", progress=False),
            "detail": wxframe.load_article_total_detail(
                client, CURRENT_BEGIN, CURRENT_END, progress=False
            ),
            "followers": wxframe.load_user_summary(
                client, CURRENT_BEGIN, CURRENT_END, progress=False
            ),
            "cumulate": wxframe.load_user_cumulate(
                client, "2025-10-31", CURRENT_END, progress=False
            ),
            "user_read": wxframe.load_user_read(client, "2025-10-01", "2025-11-30"),
        }
        out["acct"] = sim.account
    return out


#: The four weeks ``plot_frames`` hold.
PLOT_BEGIN, PLOT_END = date(2024, 5, 1), date(2024, 5, 28)


@pytest.fixture(scope="session")
def plot_frames() -> dict[str, pd.DataFrame]:
    """Four weeks of the six's frames from the account model (seed 2), for the plots."""
    acct = SimulatedAccount(seed=2, today=date(2024, 6, 1))
    return {
        "read": to_frame("getuserread", records(acct, "getuserread", PLOT_BEGIN, PLOT_END)),
        "read_hour": to_frame(
            "getuserreadhour", records(acct, "getuserreadhour", PLOT_BEGIN, PLOT_END)
        ),
        "share": to_frame("getusershare", records(acct, "getusershare", PLOT_BEGIN, PLOT_END)),
        "total": to_frame(
            "getarticletotal", records(acct, "getarticletotal", PLOT_BEGIN, PLOT_END)
        ),
    }


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    """No figure outlives its test (matplotlib warns past twenty open figures)."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


# ------------------------------------------------------------------------ stores
#: The two endpoints of the ``synced`` store.
SYNCED_ENDPOINTS = ["getusersummary", "getusercumulate"]


@pytest.fixture(scope="session")
def synced_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``synced`` store, synced once per session; tests get a copy of it."""
    root = tmp_path_factory.mktemp("synced") / "store"
    with serve(seed=0, today="2026-12-01") as sim:
        Store(root).sync(
            sim.client(), "2026-09-01", "2026-10-31", endpoints=SYNCED_ENDPOINTS, progress=False
        )
    return root


@pytest.fixture
def synced(tmp_path: Path, synced_once: Path) -> tuple[Store, dict[str, pd.DataFrame]]:
    """Two months of two endpoints, and what a sound store reads back: a copy of one sync
    (the store holds no absolute path), so each test may damage its own."""
    root = tmp_path / "store"
    shutil.copytree(synced_once, root)
    store = Store(root)
    return store, {name: store.read(name) for name in SYNCED_ENDPOINTS}


# ------------------------------------------------------------------------ made once a run
def made_once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]) -> Path:
    """``make(path)`` once for the whole run, whichever xdist worker asks first: the others
    wait for it under a lock and get the same path (to read, never to change). A report
    takes a kernel seconds to render; several tests check the same one. If ``make`` fails,
    the next test to ask tries again (and fails the same way)."""
    base = factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the run's own
    path, done = shared / name, shared / f"{name}.done"
    with FileLock(f"{path}.lock"):
        if not done.exists():
            if path.is_dir():
                shutil.rmtree(path)  # what a failed try left
            make(path)
            done.touch()
    return path


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled demo store's report as ``render_report`` makes it by default: English,
    the last 28 days the store holds (2025-12-04..2025-12-31), the fonts installed here."""
    from wxframe.datasets import open_demo_store
    from wxframe.report import render_report

    return made_once(
        tmp_path_factory, "demo-report-en.html", lambda p: render_report(open_demo_store().root, p)
    )


@pytest.fixture(scope="session")
def demo_report_zh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same report in Chinese (``lang="zh"``)."""
    from wxframe.datasets import open_demo_store
    from wxframe.report import render_report

    return made_once(
        tmp_path_factory,
        "demo-report-zh.html",
        lambda p: render_report(open_demo_store().root, p, lang="zh"),
    )


def minimum_calls(days: int) -> int:
    """Requests a sync of ``days`` days of the six needs: each endpoint's windows."""
    return sum(math.ceil(days / spec.max_span) for spec in OFFLINE_ENDPOINTS.values())


def windows_written(root: Path) -> int:
    """Windows the store's manifests record (each manifest is replaced atomically)."""
    return sum(
        int(entry.get("windows", 0))
        for path in (root / "_manifest").glob("*.json")
        for entry in json.loads(path.read_text())["endpoints"].values()
    )


def base_env() -> dict[str, str]:
    """This process's environment without the WX_ variables a child must not inherit."""
    return {k: v for k, v in os.environ.items() if not k.startswith("WX_")}


def assert_same_store(got: Path | Store, expected: Path | Store) -> int:
    """Every endpoint reads back identical, with unique keys; returns the rows compared."""
    a = got if isinstance(got, Store) else Store(got)
    b = expected if isinstance(expected, Store) else Store(expected)
    rows = 0
    for name, spec in OFFLINE_ENDPOINTS.items():
        left, right = a.read(name), b.read(name)
        assert not left.duplicated(["account", *spec.key]).any(), name
        pd.testing.assert_frame_equal(left, right, obj=name)
        rows += len(left)
    return rows


def month_file(store: Store, endpoint: str, month: str) -> Path:
    """The parquet file of one endpoint's month of the store's one account: the one its
    manifest names (named by its content; ``data.parquet`` in stores written before)."""
    (account,) = store.accounts()
    pointer = json.loads((Path(store.root) / "_manifest" / f"{account}.json").read_bytes())
    name = pointer.get("data", {}).get(endpoint, {}).get(month, "data.parquet")
    return Path(store.root) / endpoint / f"account={account}" / f"month={month}" / name


def shard_file(store: Store, endpoint: str, month: str) -> Path:
    """The manifest's object of one endpoint's month of the store's one account: the one
    its pointer names (named by its content; ``YYYY-MM.json`` in stores written before)."""
    (account,) = store.accounts()
    folder = Path(store.root) / "_manifest"
    pointer = json.loads((folder / f"{account}.json").read_bytes())
    name = pointer.get("shards", {}).get(endpoint, {}).get(month, f"{month}.json")
    return folder / account / endpoint / name


def next_sync_restores(store: Store, sound: dict[str, pd.DataFrame]) -> None:
    """After a repair of a ``synced`` store: the next sync fetches what was set aside, and
    the store is sound."""
    with serve(seed=0, today="2026-12-01") as sim:
        store.sync(
            sim.client(), "2026-09-01", "2026-10-31", endpoints=SYNCED_ENDPOINTS, progress=False
        )
    assert store.verify().empty
    for name in SYNCED_ENDPOINTS:
        pd.testing.assert_frame_equal(store.read(name), sound[name])


# ------------------------------------------------------------------------ helpers
def offline_account(frames: dict[str, pd.DataFrame]) -> SimulatedAccount:
    """The account model behind ``offline_frames``: the ground truth they are checked on."""
    sim: Simulator = frames["_sim"]  # type: ignore[assignment]
    return sim.account


def current_account(frames: dict[str, object]) -> SimulatedAccount:
    """The account model behind ``current_frames``."""
    return frames["acct"]  # type: ignore[return-value]


def scene_list(total: int, *pairs: tuple[str, int]) -> list[dict[str, Any]]:
    """A ``read_user_source`` list as the platform writes it: the 全部 entry, then scenes."""
    return [{"user_count": total, "scene_desc": "全部"}] + [
        {"user_count": n, "scene_desc": label} for label, n in pairs
    ]


def run_wxframe(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The installed command line, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "wxframe", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
    )


def share_answer(call: Call) -> bytes:
    """A getarticleshare answer with a row for each day of the call's window."""
    rows = [{"ref_date": (call.begin + timedelta(days=k)).isoformat(), "msgid": "1_1",
             "detail": {"share_user": 5}} for k in range(call.days)]  # fmt: skip
    return json.dumps({"list": rows, "is_delay": False}).encode()


def answer_bad_once(bad: bytes, days: set[date]) -> tuple[object, list[Call]]:
    """Answers ``bad`` to the first call for each of ``days``, data after that."""
    seen: list[Call] = []

    def answer(call: Call) -> Reply:
        first = call.begin in days and call not in seen
        seen.append(call)
        return (200, "application/json", bad if first else share_answer(call))

    return answer, seen
