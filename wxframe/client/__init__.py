"""The HTTP client: it talks to the platform and knows nothing of frames.

One pool of urllib3 connections per client, safe to share between threads. The access
token is fetched lazily (``stable_token`` by default) and refreshed under a lock
(``_auth``). Transient faults (errcode -1, HTTP 5xx, timeouts, dropped connections) are
retried with bounded exponential backoff and full jitter (tenacity, by a
:class:`RetryPolicy`); 45011 waits for the next minute, bounded; token errors refresh
once and retry once. Every answer is judged here, data or error (``_errcodes``): data
goes on as its bytes (:class:`~wxframe.pages.RawPage`) for the frames package to decode.
Tokens and secrets never reach a message, a log record or a repr.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, overload
from urllib.parse import urlsplit

import tenacity

from wxframe.client._auth import Tokens
from wxframe.client._errcodes import (
    TokenRejected,
    looks_like_data,
    read_payload,
    read_records,
    token_error,
)
from wxframe.client._pool import RequestPool, run_jobs, sleep
from wxframe.client._transport import TOKEN_IN_TEXT, Transient, Transport
from wxframe.dates import BEIJING, Window, as_date, beijing_now
from wxframe.endpoints import Endpoint, get_endpoint
from wxframe.errors import (
    ApiError,
    ConfigurationError,
    EndpointOfflineError,
    WxframeError,
)
from wxframe.pages import Page, RawPage

__all__ = ["Client", "RequestPool", "RetryPolicy"]

log = logging.getLogger("wxframe")

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


@dataclass(frozen=True)
class RetryPolicy:
    """How a client retries a transient fault (-1, 5xx, a timeout, a dropped connection,
    45011): at most ``max_retries`` times, after an exponential backoff from ``backoff``
    seconds to at most ``max_backoff`` (with full jitter); after 45011, until the next
    minute but at most ``rate_limit_wait`` seconds.

    >>> RetryPolicy(max_retries=2).max_retries
    2
    >>> RetryPolicy(backoff=-1)
    Traceback (most recent call last):
    ...
    wxframe.errors.ConfigurationError: backoff=-1; allowed: a number >= 0
    """

    max_retries: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    rate_limit_wait: float = 61.0

    def __post_init__(self) -> None:
        value = self.max_retries
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigurationError(f"max_retries={value!r}; allowed: an integer >= 0")
        for name in ("backoff", "max_backoff", "rate_limit_wait"):
            number = getattr(self, name)
            if isinstance(number, bool) or not isinstance(number, int | float) or number < 0:
                raise ConfigurationError(f"{name}={number!r}; allowed: a number >= 0")


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
    retry:
        A :class:`RetryPolicy`; or give its fields (``max_retries``, ``backoff``,
        ``max_backoff``, ``rate_limit_wait``) as keywords of their own.
    max_workers:
        Windows fetched at once by the loaders and the store.
    clock:
        Returns "now" (timezone-aware); the date checks use it. Defaults to the real
        time; ``sim.now`` makes a client follow a simulator's clock.
    allow_insecure:
        Allow a plain ``http://`` ``base_url`` on a host other than this machine
        (refused by default: credentials would travel unencrypted).
    credentials_from:
        Where the appid and secret came from, for the advice when the platform refuses
        them (``"WX_APPID / WX_APPSECRET"`` from :meth:`from_env`; an accounts file's
        entry names its own variable). Never the secret itself.

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
        retry: RetryPolicy | None = None,
        max_workers: int = 4,
        clock: Callable[[], datetime] | None = None,
        allow_insecure: bool = False,
        credentials_from: str | None = None,
        **retry_options: Any,
    ) -> None:
        if token not in ("stable", "classic"):
            raise ConfigurationError(f"token={token!r}; allowed: 'stable' or 'classic'")
        if not access_token and not (appid and secret):
            raise ConfigurationError(
                "give appid and secret (or an access_token); "
                "Client.from_env() reads WX_APPID and WX_APPSECRET"
            )
        unknown = sorted(set(retry_options) - set(RetryPolicy.__dataclass_fields__))
        if unknown:
            raise ConfigurationError(
                f"unexpected keyword(s) {', '.join(unknown)}; allowed: retry=RetryPolicy(...), "
                "or its fields max_retries, backoff, max_backoff, rate_limit_wait on their own"
            )
        if retry is not None and retry_options:
            raise ConfigurationError(
                f"retry= and {', '.join(sorted(retry_options))}= both given; give the "
                "RetryPolicy alone, or its fields alone"
            )
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ConfigurationError(f"retry={retry!r}; allowed: a wxframe.RetryPolicy")
        self.retry = retry if retry is not None else RetryPolicy(**retry_options)
        if not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1:
            raise ConfigurationError(f"max_workers={max_workers!r}; allowed: an integer >= 1")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0:
            raise ConfigurationError(f"timeout={timeout!r}; allowed: a number >= 0")
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
        self.base_url = base_url.rstrip("/")
        self.token_kind = token
        self.timeout = timeout
        self.max_workers = max_workers
        self._clock = clock or beijing_now
        self.credentials_from = credentials_from or "the appid and the secret given to the Client"
        self.counts: dict[str, int] = {"retries": 0, "token_refreshes": 0, "calls": 0,
                                       "decoded": 0}  # fmt: skip
        self._counts_lock = threading.Lock()
        self._tokens = Tokens(
            appid, secret, access_token, kind=token, request=self._request_json,
            error=lambda code, errmsg, where: token_error(
                code, errmsg, where, self.redact, self.credentials_from
            ),
            counted=functools.partial(self.count, "token_refreshes"),
        )  # fmt: skip
        size = max(max_workers, 4) * 2
        self._transport = Transport(self.base_url, size=size, timeout=timeout, redact=self.redact)
        # One for the client's threads, not one a request: each holds a threading.local in a
        # cycle, and on 3.11 collecting one inside sys._current_frames() (Dask's profiler)
        # hangs the process (CPython gh-106883).
        self._retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Transient), wait=self._wait,
            stop=lambda state: state.attempt_number > self.retry.max_retries,
            before_sleep=self._note_retry, sleep=sleep, reraise=True)  # fmt: skip

    # The retry policy's fields, as they were before it was an object of its own.
    max_retries = property(lambda self: self.retry.max_retries)
    backoff = property(lambda self: self.retry.backoff)
    max_backoff = property(lambda self: self.retry.max_backoff)
    rate_limit_wait = property(lambda self: self.retry.rate_limit_wait)

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
        kwargs.setdefault("credentials_from", "WX_APPID / WX_APPSECRET")
        return cls(appid, secret, access_token=token, base_url=base, **kwargs)

    def __repr__(self) -> str:
        return (
            f"Client(appid={self.appid!r}, base_url={self.base_url!r}, token={self.token_kind!r})"
        )

    def __getstate__(self) -> None:
        raise TypeError("a Client holds credentials and is not pickled; make one per process")

    def close(self) -> None:
        self._transport.close()

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

    def check_token(self) -> float:
        """Whether this client can get a token: the seconds left on the one it would
        send, fetching one if it holds none (never by force, so the token the account's
        other services hold stays valid). Raises the error the platform gave.

        >>> from wxframe.simulator import serve
        >>> with serve(seed=0, today="2024-06-01") as sim:
        ...     client = sim.client()
        ...     left = client.check_token()
        ...     _ = client.check_token()  # held: not fetched again
        >>> left > 0, client.counts["token_refreshes"]
        (True, 1)
        """
        return self._tokens.check()

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to ``counts[name]`` (thread-safe): the work done on this client."""
        with self._counts_lock:
            self.counts[name] += n

    def redact(self, text: str) -> str:
        """``text`` without this client's secret or tokens (for a message)."""
        text = TOKEN_IN_TEXT.sub(r"\1***", text)
        for secret in self._tokens.secrets():
            text = text.replace(secret, "***")
        return text

    # --------------------------------------------------------------- requests
    def _request_json(self, method: str, path: str, *, endpoint: str, **kw: Any) -> dict:
        """One request with transient faults retried: the answer's JSON object."""
        payload = self._request(method, path, endpoint=endpoint, **kw)
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
        **kw: Any,
    ) -> dict | RawPage:
        """One request with transient faults retried. ``endpoint`` and ``window`` name it
        in every error; with ``raw``, an answer that looks like that endpoint's data
        comes back undecoded, as a :class:`~wxframe.pages.RawPage`."""
        what = f"{endpoint} {window}" if window else endpoint
        try:
            return self._retrying(self._request_once, method, path, what, endpoint, window, raw, kw)
        except Transient as exc:
            raise exc.final from None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Transient) and exc.wait_for_minute:
            to_next_minute = 60.0 - (time.time() % 60.0) + 0.5
            return min(to_next_minute, self.retry.rate_limit_wait)
        policy = self.retry
        jitter = tenacity.wait_random_exponential(multiplier=policy.backoff, max=policy.max_backoff)
        return float(jitter(state))

    def _note_retry(self, state: tenacity.RetryCallState) -> None:
        self.count("retries")
        exc = state.outcome.exception() if state.outcome else None
        wait_s = state.next_action.sleep if state.next_action else 0.0
        if isinstance(exc, Transient) and isinstance(exc.final, ApiError):
            text = exc.final.fault  # its advice is for when retries run out
        else:
            text = str(exc) if isinstance(exc, Transient) else type(exc).__name__
        log.warning("%s; retry %d/%d in %.2fs", text, state.attempt_number,
                    self.retry.max_retries, wait_s)  # fmt: skip

    def _request_once(
        self,
        method: str,
        path: str,
        what: str,
        endpoint: str,
        window: Window | None,
        raw: Endpoint | None,
        kw: dict[str, Any],
    ) -> dict | RawPage:
        status, body = self._transport.send(method, path, what=what, **kw)
        if raw is not None and status == 200 and looks_like_data(raw, body):
            # Decoded by the caller, a batch at a time: this worker's next request
            # does not wait for it (nor for the GIL a decode takes back a dozen times).
            return RawPage(body)
        return read_payload(status, body, what, endpoint, window, self.redact)

    # --------------------------------------------------------------- datacube
    def fetch(self, endpoint: str | Endpoint, begin: date | str, end: date | str) -> Page:
        """The records of one datacube request (one window, within the span).

        A :class:`~wxframe.pages.Page`: a list of the records, with the response's own
        fields (``is_delay``) in its ``meta``. Dates are sent as given after a format
        check; loaders and the store validate ranges and plan windows before they call.
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
        :class:`~wxframe.pages.RawPage`. Errors are raised here either way.
        """
        body = {"begin_date": window.begin.isoformat(), "end_date": window.end.isoformat()}
        for attempt in (1, 2):
            token = self._tokens.current()
            sent_at = self.now()
            try:
                page = self._post_datacube(spec, window, body, token, raw)
                page.sent_at = sent_at  # what finality is judged by: when it was asked
                return page
            except TokenRejected as rejected:
                if attempt == 2:
                    error = rejected.error
                    raise type(error)(
                        error.errcode, error.errmsg, endpoint=error.endpoint, window=error.window,
                        advice="the platform refused a freshly fetched token too: another process "
                        "may be rotating this account's tokens (use token='stable' everywhere), "
                        "or the token endpoint is not the API's (check base_url)",
                    ) from None  # fmt: skip
                if not self._tokens.can_refresh:
                    raise rejected.error from None
                log.info("%s %s: token refused (%s); refreshing once", spec.name, window,
                         rejected.error.errcode)  # fmt: skip
                self._tokens.refresh(rejected.token)
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
            json_body=body,
        )
        self.count("calls")
        if isinstance(payload, RawPage):
            return payload
        return read_records(spec, window, payload, token, self.redact)

    def read_answer(self, spec: Endpoint, window: Window, answer: RawPage) -> Page:
        """An answer a worker took for data, read with ``json`` as a single fetch reads
        it: its page, or the error it turns out to be (raised). For the answers a batch
        reader declines (``wxframe.fetch``).

        >>> from wxframe.endpoints import ENDPOINTS
        >>> spec, day = ENDPOINTS["getarticleshare"], date(2025, 11, 1)
        >>> client = Client(access_token="t", base_url="http://127.0.0.1:9")
        >>> client.read_answer(spec, Window(day, day), RawPage(b'{"list":[], "is_delay":true}'))
        []
        """
        what = f"{spec.name} {window}"
        try:
            payload = read_payload(200, answer.body, what, spec.name, window, self.redact)
            page = read_records(spec, window, payload, "", self.redact)
        except Transient as exc:  # too late to retry: it came back as data
            raise exc.final from None
        except TokenRejected as exc:
            raise exc.error from None
        page.sent_at = answer.sent_at
        return page

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
        window_faults: tuple[type[WxframeError], ...] = (),
    ) -> Generator[tuple[Endpoint, Window, Page | RawPage | WxframeError], None, None]:
        """Fetch ``(endpoint, window)`` jobs, of any endpoints, through one pool of workers.

        Yields ``(endpoint, window, records)`` as each completes; errors as in
        :meth:`fetch_windows`. One pool across endpoints keeps every worker busy to the
        end. An offline endpoint (the registry's) is asked one window first: if it
        answers 47009, that request is all it was sent. With a ``stopped`` dict, an error
        of the ``isolate`` kinds (47009; a sync adds 45009, 61503) stops only its
        endpoint, put there with the windows it did not get; one of ``window_faults``
        costs only its window, yielded in the place of its answer. With ``raw``, data
        comes undecoded (:class:`~wxframe.pages.RawPage`); with a shared ``pool``, the
        requests run on its threads (at most ``max_workers`` at once).
        """
        jobs = list(jobs)
        names = sorted({spec.name for spec, _ in jobs})
        label = desc or (names[0] if len(names) == 1 else f"{len(names)} endpoints")
        work = functools.partial(self.fetch_window, raw=raw)
        return run_jobs(
            work, jobs, limit=self.max_workers, pool=pool, stopped=stopped, isolate=isolate,
            window_faults=window_faults,
            bar=functools.partial(_progress_bar, len(jobs), progress, label),
        )  # fmt: skip


def _progress_bar(total: int, progress: bool | None, desc: str) -> Any:
    if progress is False or (progress is None and total <= 3):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="call", leave=False)
