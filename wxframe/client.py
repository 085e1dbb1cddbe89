"""The HTTP client: tokens, retries, errors and concurrent window fetching.

One pool of urllib3 connections per client, safe to share between threads. The access
token is fetched lazily (``stable_token`` by default), cached until ``expires_in`` minus
a margin and refreshed under a lock. Transient faults (errcode -1, HTTP 5xx, timeouts,
dropped connections) are retried with bounded exponential backoff and full jitter
(tenacity); 45011 waits for the next minute, bounded; token errors refresh once and
retry once. Tokens and secrets never reach a message, a log record or a repr.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, Literal, cast, overload
from urllib.parse import unquote, urlencode, urlsplit

import certifi
import requests
import tenacity
import urllib3

from wxframe.dates import BEIJING, Window, as_date, beijing_now
from wxframe.endpoints import ENDPOINTS, Endpoint, get_endpoint
from wxframe.errors import (
    AccessDeniedError,
    ApiError,
    BusyError,
    ConfigurationError,
    CredentialError,
    DataNotReadyError,
    EndpointOfflineError,
    MalformedResponseError,
    NonJSONResponseError,
    QuotaExceededError,
    RateLimitError,
    RequestRejectedError,
    TokenError,
    TransportError,
    WxframeError,
    check_count,
)
from wxframe.frames import AnyPage, Page, RawPage, decode_many

__all__ = ["Client"]

log = logging.getLogger("wxframe")

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
_ERROR_CLASSES: dict[int, type[ApiError]] = {
    -1: BusyError,
    40001: TokenError,
    40014: TokenError,
    42001: TokenError,
    41001: TokenError,
    40013: CredentialError,
    40125: CredentialError,
    41002: CredentialError,
    40164: AccessDeniedError,
    48001: AccessDeniedError,
    50001: AccessDeniedError,
    45009: QuotaExceededError,
    45011: RateLimitError,
    47001: RequestRejectedError,
    47009: EndpointOfflineError,
    61500: RequestRejectedError,
    61501: RequestRejectedError,
    61503: DataNotReadyError,
}
#: Refresh a token this many seconds before the platform says it expires.
TOKEN_MARGIN = 300.0
#: Credentials in a URL's query string: the token, and the secret of classic tokens.
_TOKEN_IN_TEXT = re.compile(r"((?:access_token|secret)=)[^&\s'\"]+")
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
#: Bytes asked of the socket at a time while a body is read against the deadline.
_READ_SIZE = 1 << 16
#: Set in a fetch pool's worker threads: the pool's "stop" (an interrupt, an error).
_worker = threading.local()


def _key(name: str) -> bytes:
    """A pattern for the JSON key ``name`` with any of its letters written as ``\\uXXXX``."""
    hexes = ("".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{ord(c):04x}")
             for c in name)  # fmt: skip
    return (
        '"' + "".join(f"(?:{c}|\\\\u{h})" for c, h in zip(name, hexes, strict=True)) + '"'
    ).encode()


#: A non-zero errcode anywhere in an answer: never a :class:`RawPage` (see ``_data``).
_ERRCODE = re.compile(rb'"errcode"\s*:(?!\s*0\s*[,}])')
_ERRCODE_ESCAPED = re.compile(_key("errcode") + rb"\s*:(?!\s*0\s*[,}])")
_HEADERS = {"User-Agent": "wxframe", "Accept": "application/json", "Accept-Encoding": "gzip"}
_JSON_HEADERS = _HEADERS | {"Content-Type": "application/json"}


def _connections(base_url: str, size: int) -> urllib3.PoolManager:
    """The client's connection pool, through the proxy the environment names for
    ``base_url`` (HTTPS_PROXY, NO_PROXY...) and with its CA bundle (REQUESTS_CA_BUNDLE,
    else certifi's), as requests would choose them; read once, not for every call."""
    settings = requests.Session().merge_environment_settings(base_url, {}, None, None, None)
    verify = settings["verify"]
    tls: dict[str, Any] = {"cert_reqs": "CERT_NONE"}
    if verify is not False:
        bundle = verify if isinstance(verify, str) else certifi.where()
        tls = {"cert_reqs": "CERT_REQUIRED",
               "ca_cert_dir" if os.path.isdir(bundle) else "ca_certs": bundle}  # fmt: skip
    proxy = requests.utils.select_proxy(base_url, settings["proxies"])
    if not proxy:
        return urllib3.PoolManager(num_pools=4, maxsize=size, **tls)
    parsed = urllib3.util.parse_url(proxy)
    if (parsed.scheme or "").startswith("socks"):
        raise ConfigurationError(
            f"the environment's proxy for {base_url} is a SOCKS proxy ({parsed.scheme}), "
            "which wxframe does not speak; use an http(s) proxy, or NO_PROXY for this host"
        )
    headers = None
    if parsed.auth:
        user, _, password = parsed.auth.partition(":")
        auth = f"{unquote(user)}:{unquote(password)}"
        headers = urllib3.util.make_headers(proxy_basic_auth=auth)
    bare = parsed._replace(auth=None).url
    return urllib3.ProxyManager(bare, num_pools=4, maxsize=size, proxy_headers=headers, **tls)


class _RedactTokens(logging.Filter):
    """urllib3 logs request URLs at DEBUG level, with the token (and a classic token
    request's secret) in the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = str(record.msg) % record.args
            record.args = None
        record.msg = _TOKEN_IN_TEXT.sub(r"\1***", str(record.msg))
        return True


def _install_redaction() -> None:
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactTokens) for f in logger.filters):
        logger.addFilter(_RedactTokens())


class _Transient(Exception):
    """A fault worth retrying; ``final`` is what to raise when retries run out."""

    def __init__(self, final: WxframeError, wait_for_minute: bool = False) -> None:
        super().__init__(str(final))
        self.final = final
        self.wait_for_minute = wait_for_minute


class _Cancelled(Exception):
    """The fetch this request belongs to was given up (Ctrl-C, or an error elsewhere)."""


def _cancel_event() -> threading.Event | None:
    """This worker thread's pool's stop, or None outside a fetch pool."""
    return getattr(_worker, "cancelled", None)


def _cancelled() -> bool:
    event = _cancel_event()
    return event is not None and event.is_set()


def _sleep(seconds: float) -> None:
    """Back off between retries; a given-up fetch stops waiting at once."""
    event = _cancel_event()
    if event is None:
        time.sleep(seconds)
    elif event.wait(seconds):
        raise _Cancelled


class _TokenRejected(Exception):
    def __init__(self, error: ApiError, token: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.token = token


class Client:
    """A connection to the datacube API for one Official Account.

    Parameters
    ----------
    appid, secret:
        The account's credentials (``WX_APPID`` / ``WX_APPSECRET``).
    access_token:
        A token obtained elsewhere. Without a secret it cannot be refreshed, and a
        token error is raised when the platform refuses it.
    base_url:
        The API's root; the simulator's ``sim.url`` for tests and demos.
    token:
        ``"stable"`` (``/cgi-bin/stable_token``, the default: safe with several
        processes) or ``"classic"`` (``/cgi-bin/token``, which invalidates older tokens).
    timeout:
        Seconds for each HTTP request, all of it: connecting, waiting for the answer
        and reading the whole body (a body that trickles in is cut off at the deadline,
        and the request retried as a transient fault).
    max_retries:
        Retries after a transient fault (-1, 5xx, timeout, dropped connection, 45011).
    backoff, max_backoff:
        Exponential backoff base and cap in seconds (with full jitter).
    rate_limit_wait:
        Longest wait after 45011 (the wait is until the next minute, at most this).
    max_workers:
        Windows fetched at once by the loaders and the store.
    clock:
        Returns "now" (timezone-aware); the date checks use it. Defaults to the real
        time; ``sim.now`` makes a client follow a simulator's clock.
    allow_insecure:
        Allow a plain ``http://`` ``base_url`` on a host other than this machine
        (refused by default: credentials would travel unencrypted).

    Examples
    --------
    >>> from wxframe.simulator import serve
    >>> with serve(seed=0, today="2024-06-01") as sim:
    ...     client = Client(sim.appid, sim.secret, base_url=sim.url, clock=sim.now)
    ...     len(client.fetch("getusershare", "2024-05-25", "2024-05-31"))
    21
    """

    def __init__(
        self,
        appid: str | None = None,
        secret: str | None = None,
        *,
        access_token: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        token: Literal["stable", "classic"] = "stable",
        timeout: float = 15.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        rate_limit_wait: float = 61.0,
        max_workers: int = 4,
        clock: Callable[[], datetime] | None = None,
        allow_insecure: bool = False,
    ) -> None:
        if token not in ("stable", "classic"):
            raise ConfigurationError(f"token={token!r}; allowed: 'stable' or 'classic'")
        if not access_token and not (appid and secret):
            raise ConfigurationError(
                "give appid and secret (or an access_token); "
                "Client.from_env() reads WX_APPID and WX_APPSECRET"
            )
        for name, value, low in (
            ("max_retries", max_retries, 0),
            ("max_workers", max_workers, 1),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ConfigurationError(f"{name}={value!r}; allowed: an integer >= {low}")
        for name, number in (
            ("timeout", timeout),
            ("backoff", backoff),
            ("max_backoff", max_backoff),
            ("rate_limit_wait", rate_limit_wait),
        ):
            if not isinstance(number, int | float) or number < 0:
                raise ConfigurationError(f"{name}={number!r}; allowed: a number >= 0")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"base_url={base_url!r}; allowed: an http(s) URL")
        host = urlsplit(base_url).hostname or ""
        if base_url.startswith("http://") and host not in _LOOPBACK and not allow_insecure:
            raise ConfigurationError(
                f"base_url={base_url!r} is plain http to {host}: the app secret and tokens "
                "would cross the network unencrypted. Use https, or pass allow_insecure=True "
                "if that host is yours and you mean it"
            )
        self.appid = appid
        self.__secret = secret
        self.base_url = base_url.rstrip("/")
        self.token_kind = token
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.rate_limit_wait = rate_limit_wait
        self.max_workers = max_workers
        self._clock = clock or beijing_now
        self._token_lock = threading.Lock()
        self.__token = access_token
        self._token_expires = float("inf") if access_token else 0.0
        self._http = _connections(self.base_url, max(max_workers, 4) * 2)
        # Without a proxy, the one host's pool and paths: urllib3 parses every full URL
        # again, a character at a time (a long token made it a tenth of a call).
        self._host: urllib3.HTTPConnectionPool | None = None
        self._prefix = self.base_url
        if not isinstance(self._http, urllib3.ProxyManager):
            self._host = self._http.connection_from_url(self.base_url)
            self._prefix = urlsplit(self.base_url).path
        self.counts: dict[str, int] = {"retries": 0, "token_refreshes": 0, "calls": 0,
                                       "decoded": 0}  # fmt: skip
        self._counts_lock = threading.Lock()
        _install_redaction()

    @classmethod
    def from_env(cls, **kwargs: Any) -> Client:
        """A client from WX_APPID, WX_APPSECRET, WX_ACCESS_TOKEN and WX_API_BASE.

        Keyword arguments are passed on to :class:`Client`.
        """
        base = os.environ.get("WX_API_BASE") or DEFAULT_BASE_URL
        appid = os.environ.get("WX_APPID") or None
        secret = os.environ.get("WX_APPSECRET") or None
        token = os.environ.get("WX_ACCESS_TOKEN") or None
        if not token and not (appid and secret):
            raise ConfigurationError(
                "set WX_APPID and WX_APPSECRET (or WX_ACCESS_TOKEN) in the environment"
            )
        return cls(appid, secret, access_token=token, base_url=base, **kwargs)

    def __repr__(self) -> str:
        return (
            f"Client(appid={self.appid!r}, base_url={self.base_url!r}, token={self.token_kind!r})"
        )

    def __getstate__(self) -> None:
        raise TypeError("a Client holds credentials and is not pickled; make one per process")

    def close(self) -> None:
        self._http.clear()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        """The current time in Beijing, by this client's clock."""
        return self._clock().astimezone(BEIJING)

    @property
    def account(self) -> str:
        """The appid, or ``"unknown"`` for a client built from a bare token."""
        return self.appid or "unknown"

    # ----------------------------------------------------------------- tokens
    def _redact(self, text: str) -> str:
        text = _TOKEN_IN_TEXT.sub(r"\1***", text)
        for secret in (self.__secret, self.__token):
            if secret:
                text = text.replace(secret, "***")
        return text

    def _current_token(self) -> str:
        with self._token_lock:
            if self.__token and time.monotonic() < self._token_expires:
                return self.__token
            return self._fetch_token(force=False)

    def _refresh_token(self, failed: str) -> None:
        """Refresh once, unless another thread already replaced the failed token."""
        with self._token_lock:
            if self.__token != failed:
                return
            token = self._fetch_token(force=False)
            if token == failed:  # a stable token the platform still hands out: rotate it
                self._fetch_token(force=True)

    def _fetch_token(self, *, force: bool) -> str:
        """Get a token from the platform (the caller holds the lock)."""
        if not (self.appid and self.__secret):
            raise TokenError(
                40001, "access token is missing or expired", endpoint="token",
                advice="the access token was refused and there is no app secret to fetch "
                "a new one: pass secret= or a fresh access_token=",
            )  # fmt: skip
        if self.token_kind == "stable":
            payload = self._request_json(
                "POST",
                "/cgi-bin/stable_token",
                json={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.__secret,
                    "force_refresh": force,
                },
                endpoint="stable_token",
            )
        else:
            payload = self._request_json(
                "GET",
                "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.__secret,
                },
                endpoint="token",
            )
        code = payload.get("errcode", 0)
        if code:
            raise self._api_error(code, str(payload.get("errmsg", "")), "token", None)
        token = payload.get("access_token")
        expires = payload.get("expires_in", 7200)
        where = f"{self.token_kind}_token"
        check = "the token endpoint's answer is malformed: check base_url and any proxy"
        if not isinstance(token, str) or not token:
            raise TokenError(0, "no access_token in the answer", endpoint=where, advice=check)
        if isinstance(expires, bool) or not isinstance(expires, int | float) or expires <= 0:
            what = f"expires_in={str(expires)[:20]!r} is not a number of seconds"
            raise TokenError(0, what, endpoint=where, advice=check)
        expires_in = float(expires)
        self.__token = token
        # Refresh a margin early, but never keep a token for less than half its life.
        self._token_expires = time.monotonic() + max(expires_in - TOKEN_MARGIN, expires_in / 2)
        self._count("token_refreshes")
        log.info("fetched a new %s access token for %s", self.token_kind, self.appid)
        return token

    # --------------------------------------------------------------- requests
    def _count(self, name: str, n: int = 1) -> None:
        with self._counts_lock:
            self.counts[name] += n

    def _request_json(
        self, method: str, path: str, *, endpoint: str, **kwargs: Any
    ) -> dict[str, Any]:
        """:meth:`_request`, for an answer wanted as the decoded JSON object."""
        payload = self._request(method, path, endpoint=endpoint, **kwargs)
        assert isinstance(payload, dict)  # only ``raw`` makes anything else
        return payload

    def _request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        window: Window | None = None,
        raw: Endpoint | None = None,
        **kwargs: Any,
    ) -> dict | RawPage:
        """One HTTP request with transient faults retried; the decoded JSON object.

        ``endpoint`` and ``window`` name the request in every error it raises. With
        ``raw``, an answer that looks like that endpoint's data comes back undecoded, as
        a :class:`~wxframe.frames.RawPage` (for :meth:`decode_pages`).
        """
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Transient),
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            before_sleep=self._before_sleep(),
            sleep=_sleep,
            reraise=True,
        )
        try:
            return retrying(self._request_once, method, path, endpoint, window, raw, kwargs)
        except _Transient as exc:
            raise exc.final from None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.wait_for_minute:
            to_next_minute = 60.0 - (time.time() % 60.0) + 0.5
            return min(to_next_minute, self.rate_limit_wait)
        jitter = tenacity.wait_random_exponential(multiplier=self.backoff, max=self.max_backoff)
        return float(jitter(state))

    def _before_sleep(self) -> Callable[[tenacity.RetryCallState], None]:
        def note(state: tenacity.RetryCallState) -> None:
            self._count("retries")
            exc = state.outcome.exception() if state.outcome else None
            wait_s = state.next_action.sleep if state.next_action else 0.0
            if isinstance(exc, _Transient) and isinstance(exc.final, ApiError):
                text = exc.final.fault  # its advice is for when retries run out
            else:
                text = str(exc) if isinstance(exc, _Transient) else type(exc).__name__
            log.warning("%s; retry %d/%d in %.2fs", text, state.attempt_number,
                        self.max_retries, wait_s)  # fmt: skip

        return note

    def _request_once(
        self,
        method: str,
        path: str,
        endpoint: str,
        window: Window | None,
        raw: Endpoint | None,
        kwargs: dict,
    ) -> dict | RawPage:
        what = f"{endpoint} {window}" if window else endpoint
        if _cancelled():
            raise _Cancelled
        try:
            status, headers, body = self._send(method, path, kwargs)
        except requests.Timeout:
            raise _Transient(TransportError(f"{what}: timed out after {self.timeout}s")) from None
        except requests.RequestException as exc:
            # requests' own text repeats the URL, token included: keep only its kind.
            reason = type(exc).__name__
            raise _Transient(TransportError(f"{what}: connection failed ({reason})")) from None
        if status >= 500 or status == 429:  # a gateway or server fault, or busy: retry
            snippet = self._snippet(body)
            raise _Transient(TransportError(f"{what}: HTTP {status}: {snippet!r}"))
        if 300 <= status < 400:
            target = urlsplit(headers.get("Location", "")).hostname or "?"
            raise TransportError(
                f"{what}: HTTP {status}, a redirect to {target}: the API never redirects, so "
                "it was not followed (check base_url and any proxy in between)"
            )
        if raw is not None and status == 200 and _data(raw, body):
            # Decoded by the caller, a batch at a time: this worker's next request
            # does not wait for it (nor for the GIL a decode takes back a dozen times).
            return RawPage(body)
        return self._payload(status, body, what, endpoint, window)

    def _payload(
        self, status: int, body: bytes, what: str, endpoint: str, window: Window | None
    ) -> dict:
        """The JSON object of an answer, or the error it is (transient ones to retry)."""
        try:
            # UTF-8 whatever the Content-Type says: the platform has been seen to send
            # text/plain without a charset, which requests would decode as Latin-1.
            payload = json.loads(body.decode("utf-8-sig"))
        except RecursionError:
            raise MalformedResponseError(
                f"{what}: HTTP {status}, an answer that nests arrays or objects too deep to "
                "read (the registry's deepest have 6 levels)"
            ) from None
        except ValueError:
            snippet = self._snippet(body)
            raise NonJSONResponseError(
                f"{what}: HTTP {status} with a non-JSON body: {snippet!r}",
                status=status,
                snippet=snippet,
            ) from None
        if status != 200:  # JSON, but not an answer: a 404 with {"list": []} is no data
            snippet = self._snippet(body)
            raise TransportError(f"{what}: HTTP {status} (the API answers 200): {snippet!r}")
        if not isinstance(payload, dict):
            raise MalformedResponseError(
                f"{what}: expected a JSON object, got {type(payload).__name__}"
            )
        code = payload.get("errcode", 0)
        if code == -1:
            raise _Transient(self._api_error(-1, str(payload.get("errmsg")), endpoint, window))
        if code == 45011:
            err = self._api_error(45011, str(payload.get("errmsg")), endpoint, window)
            raise _Transient(err, wait_for_minute=True)
        return payload

    def _send(self, method: str, path: str, kwargs: dict) -> tuple[int, Any, bytes]:
        """Status, headers and whole body of one request, all within ``timeout`` seconds.

        urllib3's own timeout bounds each socket operation, so a body that trickles in
        could hold a call for ever: the body is read in pieces, each allowed only the
        time that is left, and a request still unfinished at the deadline is a timeout.
        """
        deadline = time.monotonic() + self.timeout
        url = self._prefix + path
        if kwargs.get("params"):
            url += "?" + urlencode(kwargs["params"])
        body, headers = None, _HEADERS
        if "json" in kwargs:
            body, headers = json.dumps(kwargs["json"]).encode(), _JSON_HEADERS
        try:
            # The API never redirects: following one would send the secret (a
            # stable_token body) on to another host and take data from wherever it
            # points. urllib3 directly, not through requests: a third of a call's CPU.
            raw = (self._host or self._http).urlopen(
                method, url, body=body, headers=headers, redirect=False, retries=False,
                preload_content=False, timeout=urllib3.Timeout(total=self.timeout),
            )  # fmt: skip
        except urllib3.exceptions.NewConnectionError as exc:  # before: it is a timeout's kind
            raise requests.ConnectionError(type(exc).__name__) from None
        except urllib3.exceptions.TimeoutError:
            raise requests.Timeout from None
        except urllib3.exceptions.HTTPError as exc:
            raise requests.ConnectionError(type(exc).__name__) from None
        content = bytearray()
        finished = False
        try:
            sock = getattr(raw.connection, "sock", None)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise requests.Timeout
                if _cancelled():
                    raise _Cancelled
                if sock is not None:
                    with contextlib.suppress(OSError):  # closed by the server: read1 says so
                        sock.settimeout(left)
                try:
                    piece = raw.read1(_READ_SIZE, decode_content=True)
                except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
                    raise requests.Timeout from None
                except urllib3.exceptions.HTTPError as exc:
                    raise requests.ConnectionError(type(exc).__name__) from None
                if not piece:
                    break
                content += piece
            finished = True
        finally:
            if not finished:
                raw.close()  # half-read: the connection cannot be reused
            raw.release_conn()  # all read: the connection goes back to the pool
        return raw.status, raw.headers, bytes(content)

    def _snippet(self, body: bytes) -> str:
        text = " ".join(body[:300].decode("utf-8", "replace").split())
        return self._redact(text)[:160]

    def _api_error(self, code: int, errmsg: str, endpoint: str, window: Window | None) -> ApiError:
        cls = _ERROR_CLASSES.get(code, ApiError)
        return cls(code, self._redact(errmsg), endpoint=endpoint, window=window)

    # --------------------------------------------------------------- datacube
    def fetch(self, endpoint: str | Endpoint, begin: date | str, end: date | str) -> Page:
        """The raw ``list`` of one datacube request (one window, within the span).

        A :class:`~wxframe.frames.Page`: a list of the records, with the response's own
        fields (``is_delay``) in its ``meta``.

        Dates are sent as given after a format check; loaders and the store validate
        ranges and plan windows before they call this.
        """
        spec = get_endpoint(endpoint)
        window = Window(as_date(begin, "begin"), as_date(end, "end"))
        return self.fetch_window(spec, window)

    @overload
    def fetch_window(
        self, spec: Endpoint, window: Window, *, raw: Literal[False] = False
    ) -> Page: ...
    @overload
    def fetch_window(self, spec: Endpoint, window: Window, *, raw: bool) -> Page | RawPage: ...

    def fetch_window(self, spec: Endpoint, window: Window, *, raw: bool = False) -> Page | RawPage:
        """One window of ``spec``: its records, with the response's own fields in ``meta``.

        With ``raw``, an answer that looks like data comes back undecoded, as a
        :class:`~wxframe.frames.RawPage`, for :meth:`decode_pages` to decode with others.
        Errors are raised here either way.
        """
        body = {"begin_date": window.begin.isoformat(), "end_date": window.end.isoformat()}
        for attempt in (1, 2):
            token = self._current_token()
            sent_at = self.now()
            try:
                page = self._post_datacube(spec, window, body, token, raw)
                page.sent_at = sent_at  # what finality is judged by: when it was asked
                return page
            except _TokenRejected as rejected:
                if attempt == 2:
                    error = rejected.error
                    raise type(error)(
                        error.errcode, error.errmsg, endpoint=error.endpoint, window=error.window,
                        advice="the platform refused a freshly fetched token too: another process "
                        "may be rotating this account's tokens (use token='stable' everywhere), "
                        "or the token endpoint is not the API's (check base_url)",
                    ) from None  # fmt: skip
                if not self.__secret:
                    raise rejected.error from None
                log.info("%s %s: token refused (%s); refreshing once", spec.name, window,
                         rejected.error.errcode)  # fmt: skip
                self._refresh_token(rejected.token)
        raise AssertionError("unreachable")

    def _post_datacube(
        self, spec: Endpoint, window: Window, body: dict, token: str, raw: bool
    ) -> Page | RawPage:
        payload = self._request(
            "POST",
            spec.path,
            endpoint=spec.name,
            window=window,
            raw=spec if raw else None,
            params={"access_token": token},
            json=body,
        )
        self._count("calls")
        if isinstance(payload, RawPage):
            return payload
        return self._page(spec, window, payload, token)

    def _page(self, spec: Endpoint, window: Window, payload: dict, token: str) -> Page:
        """The records of a decoded answer, or the error it is."""
        code = payload.get("errcode", 0)
        if code:
            error = self._api_error(code, str(payload.get("errmsg", "")), spec.name, window)
            if code in TOKEN_ERRORS:
                raise _TokenRejected(error, token)
            if isinstance(error, EndpointOfflineError):
                raise _offline_error(spec, window, error.errmsg)
            raise error
        records = payload.get(spec.records)
        if not isinstance(records, list):
            keys = self._redact(str(sorted(payload)[:10]))  # a key is anything the body says
            raise MalformedResponseError(
                f"{spec.name} {window}: the response has no {spec.records!r} array (keys: {keys})"
            )
        return Page(records, {f.name: payload.get(f.name) for f in spec.response_fields})

    def fetch_windows(
        self,
        spec: Endpoint,
        windows: Iterable[Window],
        *,
        progress: bool | None = None,
        desc: str | None = None,
    ) -> Iterator[tuple[Window, Page]]:
        """Fetch windows concurrently; yield ``(window, records)`` as each completes.

        On the first error, windows not yet started are cancelled, those in flight are
        awaited (their results are still yielded), and the error is raised.
        """
        jobs = [(spec, window) for window in windows]
        for _, window, records in self.fetch_many(jobs, progress=progress, desc=desc):
            assert isinstance(records, Page)  # a RawPage only when asked for ``raw``
            yield window, records

    def decode_pages(
        self, spec: Endpoint, fetched: Sequence[tuple[Window, Page | RawPage]]
    ) -> list[AnyPage | WxframeError]:
        """The answers :meth:`fetch_many` gave with ``raw``, as pages, in their order.

        The raw ones are read together (:func:`~wxframe.frames.decode_many`); one the
        reader declines goes through ``json`` as a single fetch would take it, and one
        that is not data after all (a body the workers' quick look let through) is the
        error that fetch would have raised, in its place: the others are still kept.

        Examples
        --------
        >>> from wxframe.simulator import serve
        >>> spec = get_endpoint("getarticleshare")
        >>> with serve(seed=0, today="2026-06-01") as sim:
        ...     client = sim.client()
        ...     jobs = [(spec, w) for w in spec.windows(date(2026, 5, 1), date(2026, 5, 3))]
        ...     fetched = [(w, page) for _, w, page in client.fetch_many(jobs, raw=True)]
        ...     pages = client.decode_pages(spec, fetched)
        >>> [type(page).__name__ for page in pages], client.counts["decoded"]
        (['TablePage', 'TablePage', 'TablePage'], 3)
        """
        raw = [k for k, (_, page) in enumerate(fetched) if isinstance(page, RawPage)]
        bodies = [cast(RawPage, fetched[k][1]).body for k in raw]
        tables = dict(zip(raw, decode_many(spec, bodies), strict=True))
        # taken by pyarrow straight from the bytes
        self._count("decoded", sum(t is not None for t in tables.values()))
        pages: list[AnyPage | WxframeError] = []
        for k, (window, answer) in enumerate(fetched):
            if not isinstance(answer, RawPage):
                pages.append(answer)
                continue
            page = tables[k]
            decoded = self._json_page(spec, window, answer.body) if page is None else page
            if not isinstance(decoded, WxframeError):
                decoded.sent_at = answer.sent_at
            pages.append(decoded)
        return pages

    def _json_page(self, spec: Endpoint, window: Window, body: bytes) -> Page | WxframeError:
        """An answer the reader declined, as a fetch takes it: its page or its error."""
        try:
            payload = self._payload(200, body, f"{spec.name} {window}", spec.name, window)
            return self._page(spec, window, payload, token="")
        except _Transient as exc:  # too late to retry: it came back as data
            return exc.final
        except _TokenRejected as exc:
            return exc.error
        except WxframeError as exc:
            return exc

    def fetch_many(
        self,
        jobs: Iterable[tuple[Endpoint, Window]],
        *,
        progress: bool | None = None,
        desc: str | None = None,
        stopped: dict[str, tuple[ApiError, list[Window]]] | None = None,
        isolate: tuple[type[ApiError], ...] = (EndpointOfflineError,),
        raw: bool = False,
        pool: RequestPool | None = None,
    ) -> Generator[tuple[Endpoint, Window, Page | RawPage], None, None]:
        """Fetch ``(endpoint, window)`` jobs, of any endpoints, through one pool of workers.

        Yields ``(endpoint, window, records)`` as each completes; errors as in
        :meth:`fetch_windows`. One pool across endpoints keeps every worker busy to the
        end, instead of draining between endpoints. An endpoint the registry lists as
        offline is asked for one window first: if the platform answers 47009, that one
        request is all it was sent. With a ``stopped`` dict, an error of the ``isolate``
        kinds (47009 by default; a sync adds 45009 and 61503) stops only its endpoint: it
        is put there with the windows the endpoint did not get, and the other endpoints
        go on. With ``raw``, answers that look like data come undecoded, as
        :class:`~wxframe.frames.RawPage`, for :meth:`decode_pages`.
        With a shared ``pool``, the requests run on its threads (at most this client's
        ``max_workers`` of them at once), not on threads of their own.
        """
        jobs = list(jobs)
        names = sorted({spec.name for spec, _ in jobs})
        label = desc or (names[0] if len(names) == 1 else f"{len(names)} endpoints")
        bar = _progress_bar(len(jobs), progress, label)
        ready: deque[tuple[Endpoint, Window]] = deque()
        # An endpoint the platform has switched off answers 47009 to every window: ask
        # it one window first, and the rest only once that one came back with data.
        held: dict[str, list[tuple[Endpoint, Window]]] = {}
        for job in jobs:
            spec = job[0]
            if spec.status == "offline" and spec.name in held:
                held[spec.name].append(job)
            else:
                ready.append(job)
                if spec.status == "offline":
                    held[spec.name] = []
        own = pool is None
        workers = RequestPool(self.max_workers) if pool is None else pool
        work = functools.partial(self.fetch_window, raw=raw)
        # The lease holds the jobs not yet started; a worker that finishes one takes the
        # next itself, so the requests go on while the caller writes what it was given
        # (a sync's flush left the workers idle: the next request waited for it).
        lease = workers.lease(work, self.max_workers)
        error: BaseException | None = None
        try:
            lease.offer(ready)
            while lease.busy():
                finished = []
                for job, page, exc in lease.next_results():
                    spec, window = job
                    if stopped is not None and isinstance(exc, isolate):
                        # This endpoint's fault (switched off, its quota, its data): the
                        # other endpoints go on. What it did not get: this window and those
                        # not yet asked (those in flight still come back, or land here).
                        left = [w for _, w in lease.withdraw(spec.name)]
                        left += [w for _, w in held.pop(spec.name, ())]
                        first, before = stopped.get(spec.name, (exc, []))
                        stopped[spec.name] = (first, sorted({window, *before, *left}))
                        lease.handled()  # the others go on
                        continue
                    if exc is not None:
                        if error is None:
                            error = exc
                            lease.stop()  # those in flight still come back
                        lease.handled()
                        continue
                    assert page is not None
                    if spec.name in held and error is None:
                        lease.offer(held.pop(spec.name))
                    finished.append((spec, window, page))
                for spec, window, page in finished:
                    if bar is not None:
                        bar.update(1)
                    yield spec, window, page
            if error is not None:
                raise error
        finally:
            # Whatever ends the loop (an error, Ctrl-C, a caller that stops early): the
            # workers drop what they hold and stop, and nothing waits for them.
            lease.cancel()
            if own:
                workers.close()
            if bar is not None:
                bar.close()


_Job = tuple[Endpoint, Window]
_Outcome = tuple[_Job, "Page | RawPage | None", "BaseException | None"]


#: Most answers of one endpoint decoded in one read while a fetch goes on (see
#: :class:`PageDecoder`).
DECODE_EVERY = 64


class PageDecoder:
    """Answers fetched with ``raw``, decoded a growing batch at a time as they come.

    The first answer of each endpoint is decoded at once, then 2, 4, ... up to
    :data:`DECODE_EVERY` at a time: an endpoint whose answers are never data stops its
    fetch after one, and one odd answer within that many, while a batch is read in one
    pass (:meth:`Client.decode_pages`). Each page comes back with its window, or the
    error it is in its place.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self._waiting: dict[str, tuple[Endpoint, list[tuple[Window, Page | RawPage]]]] = {}
        self._size: dict[str, int] = {}

    def add(
        self, spec: Endpoint, window: Window, page: Page | RawPage
    ) -> list[tuple[Window, AnyPage | WxframeError]]:
        """Keep ``page``; the pages of ``spec`` kept so far when a batch is due, else []."""
        _, waiting = self._waiting.setdefault(spec.name, (spec, []))
        waiting.append((window, page))
        size = self._size.setdefault(spec.name, 1)
        if len(waiting) < size:
            return []
        self._size[spec.name] = min(2 * size, DECODE_EVERY)
        return self._decode(spec.name)

    @property
    def pending(self) -> bool:
        """Whether pages are kept that :meth:`rest` would decode."""
        return bool(self._waiting)

    def rest(self) -> list[tuple[Endpoint, list[tuple[Window, AnyPage | WxframeError]]]]:
        """Every page still kept, decoded, per endpoint."""
        return [(spec, self._decode(name)) for name, (spec, _) in list(self._waiting.items())]

    def _decode(self, name: str) -> list[tuple[Window, AnyPage | WxframeError]]:
        spec, waiting = self._waiting.pop(name)
        decoded = self.client.decode_pages(spec, waiting)
        return [(window, page) for (window, _), page in zip(waiting, decoded, strict=True)]


class RequestPool:
    """A bounded set of worker threads that fetches run their requests through.

    Each fetch (:meth:`Client.fetch_many`) makes a pool of its own unless it is given
    one: :meth:`~wxframe.Store.sync_many` gives every account's fetch the same pool, so
    all accounts together keep at most ``size`` requests in flight, each within its own
    client's ``max_workers``. Not a ThreadPoolExecutor: its threads are joined when the
    pool shuts down and again when the interpreter exits, so Ctrl-C during a fetch from
    a stuck server would wait out every request in flight and its retries. These
    threads are daemons, and a cancelled fetch's requests stop at their next step (a
    retry's wait, a piece of body).

    Examples
    --------
    >>> pool = RequestPool(16)
    >>> pool.size
    16
    >>> pool.close()
    """

    def __init__(self, size: int) -> None:
        self.size = check_count("max_workers", size)
        self._jobs: queue.SimpleQueue[tuple[_Lease, _Job] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def lease(self, work: Callable[..., Page | RawPage], limit: int) -> _Lease:
        """One fetch's share of the pool: at most ``limit`` of its jobs at once, its
        results out, its own stop."""
        return _Lease(self, work, limit)

    def close(self) -> None:
        """Let the threads end once the jobs queued before this have been taken."""
        with self._lock:
            for _ in self._threads:
                self._jobs.put(None)
            self._threads = []

    def _put(self, lease: _Lease, job: _Job) -> None:
        with self._lock:
            if len(self._threads) < self.size:  # threads start as work arrives
                thread = threading.Thread(target=self._run, name="wxframe-fetch", daemon=True)
                thread.start()
                self._threads.append(thread)
        self._jobs.put((lease, job))

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            lease, job = item
            next_job: _Job | None = job
            while next_job is not None:  # this lease's jobs, one after another
                next_job = lease.run(next_job)


class _Lease:
    """One fetch's jobs on a :class:`RequestPool`: those not started yet, at most
    ``limit`` running, and the queue their results arrive on."""

    def __init__(self, pool: RequestPool, work: Callable[..., Page | RawPage], limit: int) -> None:
        self.pool = pool
        self.work = work
        self.limit = limit
        self.results: queue.SimpleQueue[_Outcome] = queue.SimpleQueue()
        self.cancelled = threading.Event()
        self._ready: deque[_Job] = deque()
        self._running = 0  # jobs in a pool thread now: at most ``limit``
        self._unreported = 0  # jobs started whose outcome the caller has not taken
        self._failures = 0  # failed jobs the caller has not dealt with: nothing starts
        self._stopped = False
        self._lock = threading.Lock()

    def offer(self, jobs: Iterable[_Job]) -> None:
        """Queue ``jobs`` and start as many as the limit allows."""
        start = []
        with self._lock:
            self._ready.extend(jobs)
            while self._may_start() and self._running < self.limit:
                start.append(self._ready.popleft())
                self._running += 1
                self._unreported += 1
        for job in start:
            self.pool._put(self, job)

    def withdraw(self, endpoint: str) -> list[_Job]:
        """Take back the jobs of ``endpoint`` not started yet."""
        with self._lock:
            mine = [job for job in self._ready if job[0].name == endpoint]
            self._ready = deque(job for job in self._ready if job[0].name != endpoint)
        return mine

    def stop(self) -> None:
        """Start nothing more (those running finish and report)."""
        with self._lock:
            self._stopped = True

    def handled(self) -> None:
        """The caller has dealt with one failed job (stopped all, or withdrawn its
        endpoint): once none is left, start what the limit allows again."""
        with self._lock:
            self._failures -= 1
        self.offer(())

    def _may_start(self) -> bool:  # under the lock
        return (
            bool(self._ready)
            and not self._stopped
            and not self._failures
            and not self.cancelled.is_set()
        )

    def busy(self) -> bool:
        """Whether outcomes are still to come: jobs started and not reported to the
        caller, or queued and not stopped."""
        with self._lock:
            return self._unreported > 0 or (bool(self._ready) and not self._stopped)

    def run(self, job: _Job) -> _Job | None:
        """Run one job in a pool thread and report it; the next job to run in its place."""
        outcome: _Outcome | None = None
        if not self.cancelled.is_set():
            _worker.cancelled = self.cancelled
            try:
                outcome = (job, self.work(*job), None)
            except _Cancelled:
                pass
            except BaseException as exc:
                outcome = (job, None, exc)
            finally:
                _worker.cancelled = None
        # After a failure nothing starts, in any worker of this fetch, until the caller
        # has decided (stop all, or only that endpoint): no request after a 48001.
        with self._lock:
            if outcome is None:
                self._unreported -= 1  # cancelled: nobody waits for it
            elif outcome[2] is not None:
                self._failures += 1
            if outcome is not None and self._may_start():
                following: _Job | None = self._ready.popleft()  # in its place: the limit holds
                self._unreported += 1
            else:
                following = None
                self._running -= 1
        if outcome is not None:
            self.results.put(outcome)
        return following

    def next_results(self) -> list[_Outcome]:
        """The next result (waiting for it), with any others already in."""
        found = [self.results.get()]
        while not self.results.empty():
            found.append(self.results.get_nowait())
        with self._lock:
            self._unreported -= len(found)
        return found

    def cancel(self) -> None:
        self.cancelled.set()


def _data(spec: Endpoint, body: bytes) -> bool:
    """Whether ``body`` may be a successful answer of ``spec``: one JSON object that names
    its records and holds no errcode but 0. Errors never pass: they are raised in the
    worker, where they are retried or refresh the token; one that passes and is not data
    after all is named when decoded (:meth:`Client.decode_pages`)."""
    start = 3 if body[:3] == b"\xef\xbb\xbf" else 0
    if body[start : start + 1] != b"{" or f'"{spec.records}"'.encode() not in body:
        return False
    if b"\\" in body:  # a key may be spelled with escapes (one byte: a fast search)
        return _ERRCODE_ESCAPED.search(body) is None
    return b'"errcode"' not in body or _ERRCODE.search(body) is None


def _offline_error(spec: Endpoint, window: Window, errmsg: str) -> EndpointOfflineError:
    """47009 for ``spec``, naming its successors and the day their data starts."""
    successors = spec.successors
    since = min((ENDPOINTS[s].earliest for s in successors if s in ENDPOINTS), default=None)
    advice = None
    if successors:
        advice = (
            f"the platform has switched {spec.name} off; use {' or '.join(successors)} "
            "instead" + (f" (data from {since})" if since else "") + ". Data already fetched "
            "stays readable from a store or a saved JSON archive (wxframe import)"
        )
    return EndpointOfflineError(
        47009, errmsg, endpoint=spec.name, window=window, advice=advice, successors=successors
    )


def _progress_bar(total: int, progress: bool | None, desc: str) -> Any:
    if progress is False or (progress is None and total <= 3):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="call", leave=False)
