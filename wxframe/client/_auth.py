"""The account's access token, under its lock.

A token is fetched lazily (``stable_token`` by default, never with ``force_refresh``
but when a token the platform refused is still the one it hands out), cached until
``expires_in`` minus a margin, and refreshed once per refusal: the platform's tokens
are the account's, shared with every other service that calls on its behalf, and
rotating one invalidates theirs.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, Literal

from wxframe.errors import ApiError, TokenError, TokenRotatedWarning

__all__ = ["TOKEN_MARGIN", "Tokens"]

log = logging.getLogger("wxframe")

#: Refresh a token this many seconds before the platform says it expires.
TOKEN_MARGIN = 300.0
#: The platform allows one ``force_refresh`` per account in this many seconds (and 20 a
#: day); wxframe forces at most once in it, and only as a last resort.
FORCE_INTERVAL = 30.0
#: The lifetime the platform documents, for an answer that does not say (``null``).
DOCUMENTED_LIFETIME = 7200.0

#: ``request(method, path, endpoint=..., params=... | json_body=...)`` -> the answer's
#: JSON object (errors raised, transient ones retried).
Request = Callable[..., dict[str, Any]]
#: ``error(errcode, errmsg, endpoint)`` -> the exception for that errcode.
MakeError = Callable[[int, str, str], ApiError]


class Tokens:
    """One account's token: fetched, cached and refreshed under one lock.

    ``request`` sends a request to the platform (the client's, with its retries). Slots,
    not a ``__dict__``: ``vars()`` of it shows no secret, and it is never pickled.
    """

    __slots__ = ("__secret", "__token", "_counted", "_error", "_expires", "_forced", "_lock",
                 "_request", "appid", "kind")  # fmt: skip

    def __init__(
        self,
        appid: str | None,
        secret: str | None,
        access_token: str | None,
        *,
        kind: Literal["stable", "classic"],
        request: Request,
        error: MakeError,
        counted: Callable[[], None],
    ) -> None:
        self.appid = appid
        self.kind = kind
        self.__secret = secret
        self.__token = access_token
        self._expires = float("inf") if access_token else 0.0
        self._forced = -float("inf")  # when this client last forced a token (monotonic)
        self._lock = threading.Lock()
        self._request = request
        self._error = error
        self._counted = counted

    def __repr__(self) -> str:
        return f"Tokens(appid={self.appid!r}, kind={self.kind!r})"

    def __getstate__(self) -> None:
        raise TypeError("the account's tokens are not pickled; make a Client per process")

    @property
    def can_refresh(self) -> bool:
        """Whether there is a secret to fetch a new token with."""
        return bool(self.__secret)

    def secrets(self) -> tuple[str, ...]:
        """The secret and the token now held, for redaction; never for a message."""
        return tuple(s for s in (self.__secret, self.__token) if s)

    def current(self) -> str:
        """The token to send: the cached one while it lasts, else a new one."""
        with self._lock:
            if self.__token and time.monotonic() < self._expires:
                return self.__token
            return self._fetch(force=False)

    def check(self) -> float:
        """Seconds the token this client would send has left, fetching one (never by
        force) if it holds none that lasts: a check that changes nothing for the
        account's other services. Without a secret there is nothing to check a given
        token with but a datacube call: :class:`~wxframe.TokenError`, as a refusal."""
        with self._lock:
            if not self.__secret or not (self.__token and time.monotonic() < self._expires):
                self._fetch(force=False)  # raises without a secret
            return self._expires - time.monotonic()

    def refresh(self, failed: str) -> None:
        """Refresh once, unless another thread already replaced the failed token."""
        with self._lock:
            if self.__token != failed:
                return
            token = self._fetch(force=False)
            if token == failed:  # a stable token the platform still hands out: rotate it
                self._force()

    def _force(self) -> None:
        """The last resort: the platform refuses the very token ``stable_token`` still
        hands out. Forcing a new one invalidates the token every other service of the
        account holds, so it is done at most once per :data:`FORCE_INTERVAL` and said."""
        if time.monotonic() - self._forced < FORCE_INTERVAL:  # the caller holds the lock
            raise TokenError(
                40001, "the platform refuses the token stable_token hands out",
                endpoint="stable_token", advice=f"this client forced a new token less than "
                f"{FORCE_INTERVAL:.0f} s ago (the platform allows one per 30 s); try again "
                "in a minute, and check whether another service forces tokens too",
            )  # fmt: skip
        self._forced = time.monotonic()
        warnings.warn(
            f"the platform refused the token stable_token still hands out for {self.appid}; "
            "wxframe forced a new one (force_refresh), which invalidates the token the "
            "account's other services hold until they fetch again",
            TokenRotatedWarning,
            stacklevel=2,
        )
        self._fetch(force=True)

    def _fetch(self, *, force: bool) -> str:
        """Get a token from the platform (the caller holds the lock)."""
        if not (self.appid and self.__secret):
            raise TokenError(
                40001, "access token is missing or expired", endpoint="token",
                advice="the access token was refused and there is no app secret to fetch "
                "a new one: pass secret= or a fresh access_token=",
            )  # fmt: skip
        credentials = {"grant_type": "client_credential", "appid": self.appid,
                       "secret": self.__secret}  # fmt: skip
        if self.kind == "stable":
            payload = self._request(
                "POST",
                "/cgi-bin/stable_token",
                json_body=credentials | {"force_refresh": force},
                endpoint="stable_token",
            )
        else:
            payload = self._request("GET", "/cgi-bin/token", params=credentials, endpoint="token")
        code = payload.get("errcode", 0)
        if code:
            raise self._error(code, str(payload.get("errmsg", "")), "token")
        token = payload.get("access_token")
        where = f"{self.kind}_token"
        check = "the token endpoint's answer is malformed: check base_url and any proxy"
        if not isinstance(token, str) or not token:
            raise TokenError(0, "no access_token in the answer", endpoint=where, advice=check)
        expires_in = _lifetime(payload.get("expires_in"))
        if expires_in is None:
            what = f"expires_in={str(payload.get('expires_in'))[:20]!r} is not a number of seconds"
            raise TokenError(0, what, endpoint=where, advice=check)
        self.__token = token
        # Refresh a margin early, but never keep a token for less than half its life.
        self._expires = time.monotonic() + max(expires_in - TOKEN_MARGIN, expires_in / 2)
        self._counted()
        log.info("fetched a new %s access token for %s", self.kind, self.appid)
        return token


def _lifetime(value: object) -> float | None:
    """A token's lifetime in seconds from ``expires_in``: a number, a number written as a
    string (``"7200"``, as some gateways send it), or the documented 7200 s when the
    answer gives none (``null`` or absent); ``None`` for anything that is not a lifetime."""
    if value is None:
        return DOCUMENTED_LIFETIME
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = float(value)
    return seconds if 0 < seconds < float("inf") else None
