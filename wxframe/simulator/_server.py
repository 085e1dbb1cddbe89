"""The simulator's HTTP face: the platform's paths, tokens, errors and faults.

It speaks the platform's protocol on a loopback port (``ThreadingHTTPServer``, one
thread per connection, HTTP/1.1 keep-alive), so wxframe's client talks to it exactly as
it would talk to ``api.weixin.qq.com``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from urllib.parse import parse_qs, urlsplit

from wxframe.dates import BEIJING
from wxframe.simulator import _current, _six
from wxframe.simulator._account import CURRENT_SINCE, SimulatedAccount, unit_float
from wxframe.simulator._character import Character, character_named

if TYPE_CHECKING:
    from wxframe.client import Client

__all__ = ["DATACUBE", "Answers", "Faults", "Simulator", "SimulatorStats", "serve", "serve_forever"]


class Answers(NamedTuple):
    """How the simulated platform answers one datacube endpoint."""

    #: Most days one request may ask for.
    span: int
    #: What answers a window: ``produce(account, begin, end)`` -> the records.
    produce: Callable[[SimulatedAccount, date, date], list[dict[str, object]]]
    #: ``"six"`` (switched off in 2026: 47009), ``"articles"`` (the current article
    #: family: data from 2025-11-01, ``is_delay`` in every answer) or ``"followers"``.
    family: Literal["six", "articles", "followers"]
    #: Answered as text/plain without a charset, as the platform has been seen to.
    text_plain: bool = False


#: The platform's datacube endpoints, one line each.
DATACUBE: dict[str, Answers] = {
    "getarticlesummary": Answers(1, _six.article_summary, "six"),
    "getarticletotal": Answers(1, _six.article_total, "six"),
    "getuserread": Answers(3, _six.user_read, "six"),
    "getuserreadhour": Answers(1, _six.user_read_hour, "six"),
    "getusershare": Answers(7, _six.user_share, "six"),
    "getusersharehour": Answers(1, _six.user_share_hour, "six"),
    "getbizsummary": Answers(30, _current.biz_summary, "articles"),
    "getarticleread": Answers(1, _current.article_read, "articles"),
    "getarticleshare": Answers(1, _current.article_share, "articles"),
    "getarticletotaldetail": Answers(1, _current.article_total_detail, "articles", True),
    "getusersummary": Answers(7, _current.user_summary, "followers"),
    "getusercumulate": Answers(7, _current.user_cumulate, "followers"),
}
#: The six the platform switched off in 2026 (errcode 47009).
LEGACY = frozenset(name for name, a in DATACUBE.items() if a.family == "six")
#: The current article endpoints: data from 2025-11-01, ``is_delay`` in every answer.
CURRENT_ARTICLES = frozenset(name for name, a in DATACUBE.items() if a.family == "articles")
#: The default day from which the simulated platform answers the six with 47009.
LEGACY_OFFLINE_FROM = date(2026, 7, 1)
FIRST_DAY = date(2014, 12, 1)

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40013: "invalid appid",
    40014: "invalid access_token",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41002: "appid missing",
    42001: "access_token expired",
    43002: "require POST method",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47001: "data format error",
    47009: "this api is offline, please use the new api",
    48001: "api unauthorized",
    40164: "invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist",
    61503: "data not ready",
    61500: "date format error",
    61501: "date range error",
}

# The platform's 502 page is HTML, not JSON: clients must not choke on it.
_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

#: A fault that ``Faults.schedule`` can put on a datacube call: an errcode, or one of these.
HTML_502 = "html502"
DROP = "drop"


@dataclass(frozen=True)
class Faults:
    """Faults to inject, all deterministic under the simulator's seed.

    Probabilities are decided per (endpoint, window, attempt at that window), so the
    same requests meet the same faults whatever order threads send them in.

    Attributes
    ----------
    busy_rate, html502_rate, drop_rate:
        Probability that a datacube call is answered with errcode -1, an HTML 502 page,
        or a connection closed without an answer.
    schedule:
        Fault for the n-th datacube call (1-based, in order of arrival over the server's
        life, calls refused for their token included):
        an errcode (e.g. ``-1``, ``45009``, ``45011``), ``"html502"`` or ``"drop"``.
    token_ttl:
        Seconds a token lives (the platform says 7200).
    token_calls:
        Datacube calls a token answers before it expires (``None``: no such limit).
    classic_grace:
        Seconds a classic token keeps working after a newer one was issued (about 5
        minutes on the platform).
    minute_quota:
        Datacube calls allowed per minute before errcode 45011.
    minute_seconds:
        Length of that quota "minute", so tests need not wait a real one.
    daily_quota:
        Datacube calls allowed per endpoint per simulated day before errcode 45009: one
        number for every endpoint, or a mapping of endpoint name to number.
    delay_rate:
        Probability that an answer of the current article family says ``is_delay: true``
        although its days are old (yesterday before 08:00 always says so).
    not_ready_rate:
        Probability that a datacube call is answered with errcode 61503 (data not ready).
    """

    busy_rate: float = 0.0
    html502_rate: float = 0.0
    drop_rate: float = 0.0
    schedule: Mapping[int, int | str] = field(default_factory=dict)
    token_ttl: float = 7200.0
    token_calls: int | None = None
    minute_quota: int | None = None
    minute_seconds: float = 60.0
    daily_quota: int | Mapping[str, int] | None = None
    classic_grace: float = 300.0
    delay_rate: float = 0.0
    not_ready_rate: float = 0.0

    def quota_for(self, endpoint: str) -> int | None:
        if isinstance(self.daily_quota, Mapping):
            return self.daily_quota.get(endpoint)
        return self.daily_quota


@dataclass
class SimulatorStats:
    """What the simulator was asked and how it answered.

    ``requests`` counts every request by endpoint name (``token`` and ``stable_token``
    included; ``stable_token_forced`` counts those with ``force_refresh``, each a
    rotation that invalidates the token the account's other services hold);
    ``answered`` lists each datacube call as ``(endpoint, begin_date, end_date,
    errcode)``, errcode 0 for data and ``None`` for an HTML page or a dropped connection.
    ``peak_in_flight`` is the most datacube requests being answered at once (a client's
    concurrency, seen from the server).
    """

    requests: Counter[str] = field(default_factory=Counter)
    answered: list[tuple[str, str, str, int | None]] = field(default_factory=list)
    #: Most datacube requests the server was answering at the same moment.
    peak_in_flight: int = 0
    #: Most distinct endpoints among the requests being answered at one moment.
    peak_endpoints_in_flight: int = 0
    in_flight: int = 0

    @property
    def datacube_calls(self) -> int:
        return len(self.answered)

    def calls(self, endpoint: str | None = None, *, ok: bool | None = None) -> int:
        """Datacube calls, optionally for one endpoint and only those answered with data."""
        return sum(
            1
            for name, _, _, code in self.answered
            if (endpoint is None or name == endpoint) and (ok is None or (code == 0) == ok)
        )


@dataclass
class _Token:
    kind: str  # "classic" or "stable"
    expires_at: float
    calls_left: int | None
    replaced_at: float | None = None


class Simulator:
    """The state behind the HTTP server: account, credentials, tokens, quotas, stats.

    Use :func:`serve` to run it; the object it yields is this class.
    """

    def __init__(
        self,
        seed: int = 0,
        today: date | None = None,
        hour: int | None = None,
        *,
        latency: float = 0.0,
        start: date = date(2019, 1, 1),
        faults: Faults | None = None,
        legacy_offline_from: date | None = LEGACY_OFFLINE_FROM,
        verified: bool = True,
        followers: tuple[int, int] | None = None,
        ip_refused: str | None = None,
        character: Character | None = None,
    ) -> None:
        self.seed = seed
        #: Plays a machine whose IP is not on the account's whitelist: every datacube
        #: call answers 40164 naming this address.
        self.ip_refused = ip_refused
        #: One account per seed, in the platform's form (wx and 16 characters): seed 0 is
        #: wx5im0000000000001, the account of the bundled demo store.
        self.appid = f"wx5im{abs(seed) + 1:013d}"
        self.legacy_offline_from = legacy_offline_from
        self.verified = verified
        size = followers or (None, None)
        self.account = SimulatedAccount(
            seed, today=today, hour=hour, start=start, character=character,
            followers_start=size[0], followers_end=size[1],
        )  # fmt: skip
        self.latency = latency
        self.faults = faults or Faults()
        self.secret = hashlib.sha256(f"wxframe-simulator-secret-{seed}".encode()).hexdigest()[:32]
        self.stats = SimulatorStats()
        self.url = ""
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self._classic: str | None = None
        self._stable: str | None = None
        self._issued = 0
        self._calls = 0
        self._attempts: Counter[tuple[str, str, str]] = Counter()
        self._in_flight_by: Counter[str] = Counter()
        self._daily_used: Counter[tuple[date, str]] = Counter()
        self._minute_used: Counter[int] = Counter()

    def __repr__(self) -> str:
        return f"Simulator(url={self.url!r}, appid={self.appid!r}, seed={self.seed})"

    @property
    def character(self) -> Character:
        """What kind of account this simulator plays (its size, channels, cadence ...)."""
        return self.account.character

    # ----------------------------------------------------------------- clock
    @property
    def today(self) -> date:
        return self.account.today

    def now(self) -> datetime:
        """The simulated Beijing time (a client's ``clock=``)."""
        d = self.account.today
        return datetime(d.year, d.month, d.day, self.account.hour, tzinfo=BEIJING)

    def client(self, **kwargs: Any) -> Client:
        """A :class:`wxframe.Client` for this simulator, following its clock."""
        from wxframe.client import Client

        kwargs.setdefault("base_url", self.url)
        kwargs.setdefault("clock", self.now)
        return Client(self.appid, self.secret, **kwargs)

    def set_clock(self, today: date | str, hour: int = 12) -> None:
        """Move the simulated Beijing clock (``today`` and the hour of day)."""
        if isinstance(today, str):
            today = date.fromisoformat(today)
        self.account.set_clock(today, hour)

    def advance(self, days: int = 1, hour: int | None = None) -> None:
        """Move the clock forward by whole days (keeping the hour unless given)."""
        self.account.set_clock(
            self.today + timedelta(days=days), self.account.hour if hour is None else hour
        )

    # ---------------------------------------------------------------- tokens
    def _new_token(self, kind: str) -> str:
        self._issued += 1
        raw = f"{self.seed}:{kind}:{self._issued}:{self.secret}".encode()
        token = "93_" + hashlib.sha256(raw).hexdigest() + hashlib.md5(raw).hexdigest()[:20]
        self._tokens[token] = _Token(
            kind, time.monotonic() + self.faults.token_ttl, self.faults.token_calls
        )
        return token

    def issue_classic(self) -> tuple[str, int]:
        with self._lock:
            now = time.monotonic()
            if self._classic is not None:
                self._tokens[self._classic].replaced_at = now
            self._classic = self._new_token("classic")
            return self._classic, int(self.faults.token_ttl)

    def issue_stable(self, force_refresh: bool) -> tuple[str, int]:
        with self._lock:
            if force_refresh:
                self.stats.requests["stable_token_forced"] += 1
            now = time.monotonic()
            current = self._tokens.get(self._stable) if self._stable else None
            token = self._stable
            if token is None or current is None or force_refresh or self._token_error(current, now):
                token = self._stable = self._new_token("stable")
                current = self._tokens[token]
            return token, max(int(current.expires_at - now), 0)

    def expire_tokens(self) -> None:
        """Make every issued token expired now (tests: "the token expired mid-load")."""
        with self._lock:
            for token in self._tokens.values():
                token.expires_at = 0.0

    def _token_error(self, token: _Token, now: float) -> int:
        if token.replaced_at is not None and now - token.replaced_at > self.faults.classic_grace:
            return 40001
        if now >= token.expires_at or token.calls_left == 0:
            return 42001
        return 0

    def check_token(self, token: str | None) -> int:
        """0 when ``token`` may call a datacube endpoint now; the errcode otherwise."""
        if not token:
            return 41001
        with self._lock:
            known = self._tokens.get(token)
            if known is None:
                looks_like_ours = token.startswith("93_") and len(token) == 87
                return 40001 if looks_like_ours else 40014
            code = self._token_error(known, time.monotonic())
            if code == 0 and known.calls_left is not None:
                known.calls_left -= 1
            return code

    # -------------------------------------------------------------- datacube
    def next_call(self) -> int:
        """Number the datacube requests in the order they arrive (1-based)."""
        with self._lock:
            self._calls += 1
            return self._calls

    def fault_for(self, call_number: int, endpoint: str, begin: str, end: str) -> int | str | None:
        """The fault (if any) the ``call_number``-th datacube call meets."""
        with self._lock:
            self._attempts[(endpoint, begin, end)] += 1
            attempt = self._attempts[(endpoint, begin, end)]
            scheduled = self.faults.schedule.get(call_number)
            if scheduled is not None:
                return scheduled
            f = self.faults
            if f.minute_quota is not None:
                minute = int(time.monotonic() // f.minute_seconds)
                self._minute_used[minute] += 1
                if self._minute_used[minute] > f.minute_quota:
                    return 45011
            quota = f.quota_for(endpoint)
            if quota is not None:
                used_key = (self.today, endpoint)
                if self._daily_used[used_key] >= quota:
                    return 45009
                self._daily_used[used_key] += 1
        for rate, fault in (
            (self.faults.drop_rate, DROP),
            (self.faults.html502_rate, HTML_502),
            (self.faults.busy_rate, -1),
            (self.faults.not_ready_rate, 61503),
        ):
            if rate and unit_float(self.seed, fault, endpoint, begin, end, attempt) < rate:
                return fault
        return None

    @contextmanager
    def answering(self, endpoint: str) -> Iterator[None]:
        """Count a datacube request as in flight while it is answered."""
        with self._lock:
            self.stats.in_flight += 1
            self.stats.peak_in_flight = max(self.stats.peak_in_flight, self.stats.in_flight)
            self._in_flight_by[endpoint] += 1
            kinds = sum(1 for n in self._in_flight_by.values() if n)
            self.stats.peak_endpoints_in_flight = max(self.stats.peak_endpoints_in_flight, kinds)
        try:
            yield
        finally:
            with self._lock:
                self.stats.in_flight -= 1
                self._in_flight_by[endpoint] -= 1

    def record(self, endpoint: str, begin: str, end: str, errcode: int | None) -> None:
        with self._lock:
            self.stats.answered.append((endpoint, begin, end, errcode))

    def write_archive(self, endpoint: str, begin: date, end: date, path: str | Path) -> Path:
        """Save ``begin..end`` of ``endpoint`` as a team would have before the switch-off.

        JSON Lines, one raw response per request window (``{"errcode": 0, "errmsg": "ok",
        "list": [...]}``), the way scripts around wechatpy kept them; whatever the
        endpoint's status today. ``wxframe import`` reads such a file.
        """
        max_span, produce, *_ = DATACUBE[endpoint]
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8") as f:
            day = max(begin, FIRST_DAY)
            while day <= end:
                last = min(day + timedelta(days=max_span - 1), end)
                answer = {"errcode": 0, "errmsg": "ok", "list": produce(self.account, day, last)}
                f.write(json.dumps(answer, ensure_ascii=False, separators=(",", ":")) + "\n")
                day = last + timedelta(days=1)
        return target

    def refusal(self, endpoint: str) -> int:
        """The errcode the account's setup answers ``endpoint`` with, or 0."""
        if self.ip_refused is not None:
            return 40164
        if not self.verified:
            return 48001  # the datacube family needs a verified account
        offline = self.legacy_offline_from
        if endpoint in LEGACY and offline is not None and self.today >= offline:
            return 47009
        return 0

    def datacube(self, endpoint: str, body: Any) -> tuple[int, dict[str, Any]]:
        """Validate a datacube request body and answer it: (errcode, payload)."""
        max_span, produce, *_ = DATACUBE[endpoint]
        if not isinstance(body, dict) or "begin_date" not in body or "end_date" not in body:
            return 47001, {}
        try:
            begin = _parse_day(body["begin_date"])
            end = _parse_day(body["end_date"])
        except ValueError:
            return 61500, {}
        if begin > end or (end - begin).days >= max_span or end >= self.today:
            return 61501, {}
        if endpoint not in CURRENT_ARTICLES:
            if end < FIRST_DAY:
                return 0, {"list": []}
            return 0, {"list": self.account.answer(produce, max(begin, FIRST_DAY), end)}
        # The current family: nothing before 2025-11-01, and a flag for unfinished days.
        records = self.account.answer(produce, begin, end) if end >= CURRENT_SINCE else []
        with self._lock:
            attempt = self._attempts[(endpoint, body["begin_date"], body["end_date"])]
        partial = self.account.completeness(end) < 1.0
        rate = self.faults.delay_rate
        delayed = bool(rate) and unit_float(self.seed, "delay", endpoint, str(begin), str(end),
                                            attempt) < rate  # fmt: skip
        return 0, {"list": records, "is_delay": partial or delayed}


def _parse_day(value: object) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(value)
    return datetime.strptime(value, "%Y-%m-%d").date()


def _errmsg(code: int, seed: int, n: int) -> str:
    rid = hashlib.md5(f"{seed}:{n}:{code}".encode()).hexdigest()[:24]
    return f"{ERRMSG.get(code, 'error')} rid: {rid[:8]}-{rid[8:16]}-{rid[16:]}"


def _make_handler(sim: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Buffer the response so headers and body leave in one segment: written apart,
        # Nagle's algorithm and the client's delayed ACK hold each response ~40 ms.
        wbufsize = 1 << 16
        server_version = "wxframe-simulator"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the URL carries the access token and must not be printed

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                # Say so: a client that reused the closed connection would meet a reset
                # that no fault injected (a retry the stats cannot account for).
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, payload: dict[str, Any], content_type: str | None = None) -> None:
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
            self._send(200, body, content_type or "application/json; encoding=utf-8")

        def _error(self, code: int) -> None:
            message = _errmsg(code, sim.seed, sim._issued).replace("{ip}", sim.ip_refused or "")
            self._json({"errcode": code, "errmsg": message})

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/cgi-bin/token":
                self._count("token")
                if query.get("grant_type") != "client_credential":
                    return self._error(40002)
                code = self._check_credentials(query.get("appid"), query.get("secret"))
                if code:
                    return self._error(code)
                token, expires_in = sim.issue_classic()
                return self._json({"access_token": token, "expires_in": expires_in})
            if url.path.startswith("/datacube/") and url.path[10:] in DATACUBE:
                self._count(url.path[10:])
                return self._error(43002)
            self._send(404, b"<html><body>404 Not Found</body></html>", "text/html")

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            raw = self._body()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            if url.path == "/cgi-bin/stable_token":
                self._count("stable_token")
                if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
                    return self._error(40002)
                code = self._check_credentials(body.get("appid"), body.get("secret"))
                if code:
                    return self._error(code)
                token, expires_in = sim.issue_stable(bool(body.get("force_refresh")))
                return self._json({"access_token": token, "expires_in": expires_in})
            endpoint = url.path.removeprefix("/datacube/")
            if not url.path.startswith("/datacube/") or endpoint not in DATACUBE:
                return self._send(404, b"<html><body>404 Not Found</body></html>", "text/html")
            self._count(endpoint)
            call_number = sim.next_call()
            with sim.answering(endpoint):
                self._datacube(endpoint, query, body, call_number)

        def _datacube(
            self, endpoint: str, query: dict[str, str], body: Any, call_number: int
        ) -> None:
            if sim.latency:
                time.sleep(sim.latency)
            begin = str(body.get("begin_date", "")) if isinstance(body, dict) else ""
            end = str(body.get("end_date", "")) if isinstance(body, dict) else ""
            code = sim.check_token(query.get("access_token")) or sim.refusal(endpoint)
            if code:
                sim.record(endpoint, begin, end, code)
                return self._error(code)
            fault = sim.fault_for(call_number, endpoint, begin, end)
            if fault == DROP:
                sim.record(endpoint, begin, end, None)
                self.close_connection = True
                return None
            if fault == HTML_502:
                sim.record(endpoint, begin, end, None)
                self.close_connection = True
                return self._send(502, _HTML_502, "text/html")
            if isinstance(fault, int):
                sim.record(endpoint, begin, end, fault)
                return self._error(fault)
            code, payload = sim.datacube(endpoint, body)
            sim.record(endpoint, begin, end, code)
            if code:
                return self._error(code)
            return self._json(payload, "text/plain" if DATACUBE[endpoint].text_plain else None)

        def _count(self, name: str) -> None:
            with sim._lock:
                sim.stats.requests[name] += 1

        def _check_credentials(self, appid: object, secret: object) -> int:
            if not appid:
                return 41002
            if appid != sim.appid:
                return 40013
            if secret != sim.secret:
                return 40125
            return 0

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


@contextmanager
def serve(
    seed: int = 0,
    today: date | str | None = None,
    latency: float = 0.0,
    port: int = 0,
    *,
    hour: int | None = None,
    start: date | str = date(2019, 1, 1),
    host: str = "127.0.0.1",
    legacy_offline_from: date | str | None = LEGACY_OFFLINE_FROM,
    verified: bool = True,
    followers: tuple[int, int] | None = None,
    ip_refused: str | None = None,
    character: Character | str | None = None,
    **faults: Any,
) -> Iterator[Simulator]:
    """Run the simulator on a loopback port in a background thread.

    Parameters
    ----------
    seed:
        Same seed and same clock give byte-identical responses.
    today, hour:
        The simulated Beijing date and hour (default: now in Asia/Shanghai; with
        ``today`` given and no ``hour``, noon, so yesterday is complete).
    latency:
        Seconds each datacube request waits before it is answered.
    port:
        0 picks a free ephemeral port.
    legacy_offline_from:
        From this simulated day on, the six original endpoints answer errcode 47009, as
        the platform's have since 2026 (default 2026-07-01); ``None`` keeps them serving,
        for tests of the history.
    verified:
        ``False`` plays an unverified account: every datacube call answers 48001.
    ip_refused:
        An IP address: plays a machine not on the account's IP whitelist (every
        datacube call answers 40164 naming it).
    followers:
        The account's followers when it starts (2019-01-01) and where its growth curve
        levels off (default: its character's); a small, flat account has quiet days.
    character:
        What kind of account it is: a :class:`Character`, or the name of one of
        ``CHARACTERS`` (``"daily-news"``, ...). Default: the seed's (seed 0 the original
        account of the demo store, other seeds one kind each, jittered by the seed).
    **faults:
        Fields of :class:`Faults` (``busy_rate=0.05``, ``schedule={10: 45009}``, ...).

    Examples
    --------
    >>> import requests
    >>> with serve(seed=0, today="2024-06-01") as sim:
    ...     r = requests.get(f"{sim.url}/cgi-bin/token", params={
    ...         "grant_type": "client_credential", "appid": sim.appid, "secret": sim.secret})
    ...     sorted(r.json())
    ['access_token', 'expires_in']
    """
    if isinstance(today, str):
        today = date.fromisoformat(today)
    if isinstance(start, str):
        start = date.fromisoformat(start)
    unknown = set(faults) - set(Faults.__dataclass_fields__)
    if unknown:
        allowed = ", ".join(sorted(Faults.__dataclass_fields__))
        raise TypeError(f"unknown fault option(s) {sorted(unknown)}; allowed: {allowed}")
    if isinstance(legacy_offline_from, str):
        legacy_offline_from = date.fromisoformat(legacy_offline_from)
    if isinstance(character, str):
        character = character_named(character)
    sim = Simulator(seed, today, hour, latency=latency, start=start, faults=Faults(**faults),
                    legacy_offline_from=legacy_offline_from, verified=verified,
                    ip_refused=ip_refused, character=character,
                    followers=followers)  # fmt: skip
    server = _Server((host, port), _make_handler(sim))
    sim.url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="wxframe-simulator", daemon=True
    )
    thread.start()
    try:
        yield sim
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def serve_forever(
    seed: int,
    today: date | None,
    latency: float,
    port: int,
    announce: Callable[[Simulator], None],
    character: str | None = None,
) -> None:
    """Serve in the foreground until interrupted (the ``wxframe simulate`` command)."""
    with serve(seed=seed, today=today, latency=latency, port=port, character=character) as sim:
        announce(sim)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
