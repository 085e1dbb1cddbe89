"""Connections, the proxy and CA the environment names, deadlines, and one vocabulary
for what goes wrong on the wire.

urllib3's and the socket's own exceptions stop here: :meth:`Transport.send` raises
:class:`Transient` (a fault worth retrying, holding the :class:`~wxframe.TransportError`
to raise when retries run out) or a :class:`~wxframe.TransportError` (a redirect: never
retried), and :class:`~wxframe.client._pool.Cancelled` when its fetch was given up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import certifi
import requests
import urllib3

from wxframe.client._pool import Cancelled, cancelled
from wxframe.errors import ConfigurationError, TransportError, WxframeError

__all__ = ["TOKEN_IN_TEXT", "Transient", "Transport", "install_redaction", "snippet_of"]

#: Credentials in a URL's query string: the token, and the secret of classic tokens.
TOKEN_IN_TEXT = re.compile(r"((?:access_token|secret)=)[^&\s'\"]+")
#: Bytes asked of the socket at a time while a body is read against the deadline.
_READ_SIZE = 1 << 16
_HEADERS = {"User-Agent": "wxframe", "Accept": "application/json", "Accept-Encoding": "gzip"}
_JSON_HEADERS = _HEADERS | {"Content-Type": "application/json"}


def snippet_of(body: bytes, redact: Callable[[str], str]) -> str:
    """The start of ``body`` for an error message: one line, redacted, 160 characters."""
    text = " ".join(body[:300].decode("utf-8", "replace").split())
    return redact(text)[:160]


class Transient(Exception):
    """A fault worth retrying; ``final`` is what to raise when retries run out."""

    def __init__(self, final: WxframeError, wait_for_minute: bool = False) -> None:
        super().__init__(str(final))
        self.final = final
        self.wait_for_minute = wait_for_minute


class _Timeout(Exception):
    """The request's deadline passed (inside :meth:`Transport.send` only)."""


class _Broken(Exception):
    """The connection failed; the argument is the kind of failure, never its text (which
    repeats the URL, token included)."""


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
        record.msg = TOKEN_IN_TEXT.sub(r"\1***", str(record.msg))
        return True


def install_redaction() -> None:
    """Keep tokens out of urllib3's log records (once per process)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactTokens) for f in logger.filters):
        logger.addFilter(_RedactTokens())


class Transport:
    """One account's connections to ``base_url``: whole requests within ``timeout``.

    ``redact`` takes the credentials out of any text of an answer that goes into an
    error message.
    """

    def __init__(
        self, base_url: str, *, size: int, timeout: float, redact: Callable[[str], str]
    ) -> None:
        self.timeout = timeout
        self.redact = redact
        self._http = _connections(base_url, size)
        # Without a proxy, the one host's pool and paths: urllib3 parses every full URL
        # again, a character at a time (a long token made it a tenth of a call).
        self._host: urllib3.HTTPConnectionPool | None = None
        self._prefix = base_url
        if not isinstance(self._http, urllib3.ProxyManager):
            self._host = self._http.connection_from_url(base_url)
            self._prefix = urlsplit(base_url).path
        install_redaction()

    def close(self) -> None:
        self._http.clear()

    def snippet(self, body: bytes) -> str:
        """The start of ``body`` for an error message (:func:`snippet_of`)."""
        return snippet_of(body, self.redact)

    def send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> tuple[int, bytes]:
        """Status and whole body of one request, all within ``timeout`` seconds.

        A 5xx, a 429 and every network fault are :class:`Transient`; a 3xx is a
        :class:`~wxframe.TransportError` (the API never redirects: following one would
        send the secret on to another host). ``what`` names the request in messages.
        """
        try:
            status, headers, body = self._exchange(method, path, params, json_body)
        except _Timeout:
            raise Transient(TransportError(f"{what}: timed out after {self.timeout}s")) from None
        except _Broken as exc:
            raise Transient(TransportError(f"{what}: connection failed ({exc})")) from None
        if status >= 500 or status == 429:  # a gateway or server fault, or busy: retry
            raise Transient(TransportError(f"{what}: HTTP {status}: {self.snippet(body)!r}"))
        if 300 <= status < 400:
            target = urlsplit(headers.get("Location", "")).hostname or "?"
            raise TransportError(
                f"{what}: HTTP {status}, a redirect to {target}: the API never redirects, so "
                "it was not followed (check base_url and any proxy in between)"
            )
        return status, body

    def _exchange(
        self, method: str, path: str, params: Mapping[str, Any] | None, json_body: Any
    ) -> tuple[int, Any, bytes]:
        """urllib3's own timeout bounds each socket operation, so a body that trickles in
        could hold a call for ever: the body is read in pieces, each allowed only the
        time that is left, and a request still unfinished at the deadline times out."""
        deadline = time.monotonic() + self.timeout
        url = self._prefix + path
        if params:
            url += "?" + urlencode(params)
        body, headers = None, _HEADERS
        if json_body is not None:
            body, headers = json.dumps(json_body).encode(), _JSON_HEADERS
        try:
            # urllib3 directly, not through requests: a third of a call's CPU.
            raw = (self._host or self._http).urlopen(
                method, url, body=body, headers=headers, redirect=False, retries=False,
                preload_content=False, timeout=urllib3.Timeout(total=self.timeout),
            )  # fmt: skip
        except urllib3.exceptions.NewConnectionError as exc:  # before: it is a timeout's kind
            raise _Broken(type(exc).__name__) from None
        except urllib3.exceptions.TimeoutError:
            raise _Timeout from None
        except urllib3.exceptions.HTTPError as exc:
            raise _Broken(type(exc).__name__) from None
        content = bytearray()
        finished = False
        try:
            sock = getattr(raw.connection, "sock", None)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _Timeout
                if cancelled():
                    raise Cancelled
                if sock is not None:
                    with contextlib.suppress(OSError):  # closed by the server: read1 says so
                        sock.settimeout(left)
                try:
                    piece = raw.read1(_READ_SIZE, decode_content=True)
                except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
                    raise _Timeout from None
                except urllib3.exceptions.HTTPError as exc:
                    raise _Broken(type(exc).__name__) from None
                if not piece:
                    break
                content += piece
            finished = True
        finally:
            if not finished:
                raw.close()  # half-read: the connection cannot be reused
            raw.release_conn()  # all read: the connection goes back to the pool
        return raw.status, raw.headers, bytes(content)
