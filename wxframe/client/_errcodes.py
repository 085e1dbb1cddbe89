"""Errcode -> exception, and "is this answer data or an error?", decided here only.

The table is built from what each :class:`~wxframe.ApiError` subclass declares
(``codes``): ``errors.py`` is the one place that knows what an errcode means and what to
do about it. What the client does about one (retry, wait for the minute, refresh the
token once) is said here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from wxframe.client._transport import Transient, snippet_of
from wxframe.endpoints import ENDPOINTS, Endpoint
from wxframe.errors import (
    ERROR_CLASSES,
    ApiError,
    BusyError,
    CredentialError,
    EndpointOfflineError,
    MalformedResponseError,
    NonJSONResponseError,
    RateLimitError,
    TokenError,
    TransportError,
    WindowLike,
)
from wxframe.nesting import too_deep
from wxframe.pages import Page

__all__ = [
    "ERROR_CLASSES",
    "RETRY_CODES",
    "TOKEN_REFRESH_CODES",
    "WAIT_FOR_MINUTE_CODES",
    "TokenRejected",
    "api_error",
    "looks_like_data",
    "offline_error",
    "read_payload",
    "read_records",
    "token_error",
]


#: Retried with backoff: the platform is busy.
RETRY_CODES = BusyError.codes
#: Retried after waiting for the next minute: the per-minute quota.
WAIT_FOR_MINUTE_CODES = RateLimitError.codes
#: Refresh the token once and retry once.
TOKEN_REFRESH_CODES = TokenError.refresh_codes


def api_error(
    code: int,
    errmsg: str,
    endpoint: str,
    window: WindowLike | None,
    redact: Callable[[str], str],
) -> ApiError:
    """The exception for ``code``, with ``errmsg`` redacted."""
    cls = ERROR_CLASSES.get(code, ApiError)
    return cls(code, redact(errmsg), endpoint=endpoint, window=window)


def token_error(
    code: int, errmsg: str, where: str, redact: Callable[[str], str], credentials_from: str
) -> ApiError:
    """The error for a token endpoint's errcode. Refused credentials (40125, or 40001
    from the token endpoint itself, which some gateways answer to a wrong secret) name
    where they came from (``credentials_from``: the variables, or an accounts file's
    entry): the advice to "give a secret" is for a bare token."""
    error = api_error(code, errmsg, where, None, redact)
    if isinstance(error, CredentialError | TokenError):
        advice = f"check {credentials_from}; the app secret is on the platform's 基本配置 page"
        error = type(error)(code, error.errmsg, endpoint=where, advice=advice)
    return error


def offline_error(spec: Endpoint, window: WindowLike, errmsg: str) -> EndpointOfflineError:
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


def _key(name: str) -> bytes:
    """A pattern for the JSON key ``name`` with any of its letters written as ``\\uXXXX``."""
    hexes = ("".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{ord(c):04x}")
             for c in name)  # fmt: skip
    return (
        '"' + "".join(f"(?:{c}|\\\\u{h})" for c, h in zip(name, hexes, strict=True)) + '"'
    ).encode()


#: A non-zero errcode anywhere in an answer: never data (see :func:`looks_like_data`).
_ERRCODE = re.compile(rb'"errcode"\s*:(?!\s*0\s*[,}])')
_ERRCODE_ESCAPED = re.compile(_key("errcode") + rb"\s*:(?!\s*0\s*[,}])")


def looks_like_data(spec: Endpoint, body: bytes) -> bool:
    """Whether ``body`` may be a successful answer of ``spec``: one JSON object that names
    its records and holds no errcode but 0. Errors never pass: they are raised in the
    worker, where they are retried or refresh the token; one that passes and is not data
    after all is named when it is read (:meth:`~wxframe.Client.read_answer`).

    >>> spec = ENDPOINTS["getarticleshare"]
    >>> looks_like_data(spec, b'{"list":[],"is_delay":false}')
    True
    >>> looks_like_data(spec, b'{"errcode":45009,"errmsg":"quota","list":[]}')
    False
    """
    start = 3 if body[:3] == b"\xef\xbb\xbf" else 0
    if body[start : start + 1] != b"{" or f'"{spec.records}"'.encode() not in body:
        return False
    if b"\\" in body:  # a key may be spelled with escapes (one byte: a fast search)
        return _ERRCODE_ESCAPED.search(body) is None
    return b'"errcode"' not in body or _ERRCODE.search(body) is None


class TokenRejected(Exception):
    """The platform refused the token sent (40001/40014/42001): refresh once, retry once."""

    def __init__(self, error: ApiError, token: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.token = token


def read_payload(
    status: int,
    body: bytes,
    what: str,
    endpoint: str,
    window: WindowLike | None,
    redact: Callable[[str], str],
) -> dict[str, Any]:
    """The JSON object of an answer, or the error it is (:class:`Transient` to retry)."""
    if (depth := too_deep(body)) is not None:  # before json recurses into it
        raise MalformedResponseError(
            f"{what}: HTTP {status}, an answer that nests arrays or objects {depth:,} deep, "
            "too deep to read (the registry's deepest have 6 levels)"
        )
    try:
        # UTF-8 whatever the Content-Type says: the platform has been seen to send
        # text/plain without a charset.
        payload = json.loads(body.decode("utf-8-sig"))
    except RecursionError:
        raise MalformedResponseError(
            f"{what}: HTTP {status}, an answer that nests arrays or objects too deep to "
            "read (the registry's deepest have 6 levels)"
        ) from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # JSON, but a number Python refuses
            digits = re.search(r"value has (\d+) digits", str(exc))
            raise MalformedResponseError(
                f"{what}: HTTP {status}, an answer with a number of "
                f"{digits.group(1) if digits else 'thousands of'} digits (a count has at "
                "most 19): not the platform's data"
            ) from None
        snippet = snippet_of(body, redact)
        raise NonJSONResponseError(
            f"{what}: HTTP {status} with a non-JSON body: {snippet!r}",
            status=status,
            snippet=snippet,
        ) from None
    if status != 200:  # JSON, but not an answer: a 404 with {"list": []} is no data
        raise TransportError(
            f"{what}: HTTP {status} (the API answers 200): {snippet_of(body, redact)!r}"
        )
    if not isinstance(payload, dict):
        raise MalformedResponseError(
            f"{what}: expected a JSON object, got {type(payload).__name__}"
        )
    code = payload.get("errcode", 0)
    if code in RETRY_CODES or code in WAIT_FOR_MINUTE_CODES:
        error = api_error(code, str(payload.get("errmsg")), endpoint, window, redact)
        raise Transient(error, wait_for_minute=code in WAIT_FOR_MINUTE_CODES)
    return payload


def read_records(
    spec: Endpoint,
    window: WindowLike,
    payload: dict[str, Any],
    token: str,
    redact: Callable[[str], str],
) -> Page:
    """The records of a datacube answer's JSON object, or the error it is
    (:class:`TokenRejected` for a refused ``token``)."""
    code = payload.get("errcode", 0)
    if code:
        error = api_error(code, str(payload.get("errmsg", "")), spec.name, window, redact)
        if code in TOKEN_REFRESH_CODES:
            raise TokenRejected(error, token)
        if isinstance(error, EndpointOfflineError):
            raise offline_error(spec, window, error.errmsg)
        raise error
    records = payload.get(spec.records)
    if not isinstance(records, list):
        keys = redact(str(sorted(payload)[:10]))  # a key is anything the body says
        raise MalformedResponseError(
            f"{spec.name} {window}: the response has no {spec.records!r} array (keys: {keys})"
        )
    return Page(records, {f.name: payload.get(f.name) for f in spec.response_fields})
