"""Every exception and warning wxframe raises, in one place.

The tree::

    WxframeError
    ├── InvalidDateError (ValueError)      a date or range the platform cannot serve
    ├── UnknownEndpointError (ValueError)  not an endpoint in ``wxframe.ENDPOINTS``
    ├── ConfigurationError (ValueError)    a bad argument: missing credentials, bad option
    ├── FrameShapeError (ValueError)       a frame without the columns a helper needs
    ├── MalformedResponseError             a response or record not of the documented shape
    │   └── NonJSONResponseError           an HTML page or other non-JSON body
    ├── TransportError                     the network failed, retries exhausted
    ├── ApiError                           the platform answered with an errcode
    │   ├── TokenError                     40001/40014/42001 after one refresh, or no secret
    │   ├── CredentialError                40013/40125/41002: wrong appid or secret
    │   ├── AccessDeniedError              48001/50001/40164: not allowed to call this
    │   ├── EndpointOfflineError           47009: the platform switched this endpoint off
    │   ├── QuotaExceededError             45009: the daily quota is used up
    │   ├── RateLimitError                 45011 still answered after waiting
    │   ├── BusyError                      -1 still answered after the retries
    │   ├── RequestRejectedError           61500/61501/47001: wxframe sent a bad request
    │   └── DataNotReadyError              61503: the platform has not finished the day
    ├── ReportError                        a report notebook raised in one of its cells
    ├── EmptyPeriodError (ValueError)      a report's period the store holds nothing of
    └── StoreError                         the parquet store cannot do what was asked
        ├── StoreLockedError               another process is syncing this store
        └── SyncIncomplete                 a sync stopped early; what it fetched is kept

    WxframeWarning (UserWarning)
    ├── IncompleteDataWarning              yesterday asked for before 08:00 Beijing time
    ├── RangeClippedWarning                a range starts before an endpoint's first day
    ├── EndpointSkippedWarning             a switched-off endpoint (47009) was left out
    ├── UnexpectedRowsWarning              an answer held days it was not asked for
    ├── StoreDamagedWarning                store files missing or damaged: fetched again
    ├── DataMismatchWarning                numbers that must agree do not
    └── MissingFontWarning                 no CJK font: Chinese labels replaced

Every ``ApiError`` carries ``errcode``, ``errmsg``, ``endpoint`` and ``window`` and names
them in its message. No message ever holds an access token or an app secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, ClassVar, Protocol


class WindowLike(Protocol):
    """A request's window as errors carry it: a ``wxframe.Window``. Described here, not
    imported from ``wxframe.dates``, which raises these errors: the foot of the house
    imports nothing of wxframe."""

    @property
    def begin(self) -> date: ...

    @property
    def end(self) -> date: ...


__all__ = [
    "AccessDeniedError",
    "ApiError",
    "BusyError",
    "ConfigurationError",
    "CredentialError",
    "DataMismatchWarning",
    "DataNotReadyError",
    "EmptyPeriodError",
    "EndpointOfflineError",
    "EndpointSkippedWarning",
    "FrameShapeError",
    "IncompleteDataWarning",
    "InvalidDateError",
    "MalformedResponseError",
    "MissingFontWarning",
    "NonJSONResponseError",
    "QuotaExceededError",
    "RangeClippedWarning",
    "RateLimitError",
    "ReportError",
    "RequestRejectedError",
    "StoreDamagedWarning",
    "StoreError",
    "StoreLockedError",
    "SyncIncomplete",
    "TokenError",
    "TransportError",
    "UnexpectedRowsWarning",
    "UnknownEndpointError",
    "WindowLike",
    "WxframeError",
    "WxframeWarning",
    "check_count",
]


class WxframeError(Exception):
    """Base of every wxframe error."""


class InvalidDateError(WxframeError, ValueError):
    """A date that is malformed, out of order, before 2014-12-01 or not yet over."""


class UnknownEndpointError(WxframeError, ValueError):
    """A name that is not in the endpoint registry."""


class ConfigurationError(WxframeError, ValueError):
    """An argument wxframe cannot work with (no credentials, a bad option)."""


def check_count(name: str, value: object) -> int:
    """``value`` if it is an integer >= 1 (not a bool), else a ConfigurationError naming it."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigurationError(f"{name}={value!r}; allowed: an integer >= 1")
    return value


class FrameShapeError(WxframeError, ValueError):
    """A DataFrame that lacks the columns a helper needs."""


class MalformedResponseError(WxframeError):
    """A response or record that does not have the documented shape."""


class NonJSONResponseError(MalformedResponseError):
    """The server answered with something that is not JSON (an HTML error page, say)."""

    def __init__(self, message: str, *, status: int, snippet: str) -> None:
        super().__init__(message)
        self.status = status
        self.snippet = snippet

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments: the default reduce would call cls(message) and fail.
        return (_rebuild, (type(self), self.args, {"status": self.status, "snippet": self.snippet}))


class TransportError(WxframeError):
    """The network failed (timeouts, dropped connections, 5xx) and retries ran out."""


class ApiError(WxframeError):
    """The platform answered ``{"errcode": ..., "errmsg": ...}``."""

    #: The errcodes this class stands for: the client's errcode table is built from these
    #: declarations (an errcode no class declares is a plain ``ApiError``).
    codes: ClassVar[frozenset[int]] = frozenset()
    #: What the user should do about it; subclasses say more.
    advice = ""
    #: Advice for particular errcodes, where one class covers several causes.
    advice_by_code: ClassVar[dict[int, str]] = {}
    #: The one word `wxframe doctor` gives an endpoint or token that answers this.
    status: ClassVar[str] = "error"
    #: The word for particular errcodes, where one class covers several causes.
    status_by_code: ClassVar[dict[int, str]] = {}

    def __init__(
        self,
        errcode: int,
        errmsg: str,
        *,
        endpoint: str | None = None,
        window: WindowLike | None = None,
        advice: str | None = None,
    ) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        self.endpoint = endpoint
        self.window = window
        self.advice = (
            advice if advice is not None else self.advice_by_code.get(errcode, self.advice)
        )
        super().__init__(self._message())

    @property
    def verdict(self) -> str:
        """The one word for this error in `wxframe doctor` (``"unauthorised"`` ...)."""
        return self.status_by_code.get(self.errcode, self.status)

    @property
    def fault(self) -> str:
        """Where and what, without the advice (``"getuserread <window>: errcode -1 (...)"``)."""
        where = self.endpoint or "request"
        if self.window is not None:
            where += f" {self.window}"
        return f"{where}: errcode {self.errcode} ({self.errmsg})"

    def _message(self) -> str:
        return f"{self.fault}: {self.advice}" if self.advice else self.fault

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_api_error,
            (type(self), self.errcode, self.errmsg, self.endpoint, self.window, self.advice),
        )


def _rebuild_api_error(cls: type[ApiError], *args: Any) -> ApiError:
    errcode, errmsg, endpoint, window, advice = args
    return cls(errcode, errmsg, endpoint=endpoint, window=window, advice=advice)


class TokenError(ApiError):
    codes = frozenset({40001, 40014, 42001, 41001})
    #: The codes on which a client refreshes its token once and retries once (41001, no
    #: token at all, is not the platform refusing one).
    refresh_codes: ClassVar[frozenset[int]] = frozenset({40001, 40014, 42001})
    status = "credentials"
    advice = "the access token was refused; give an app secret so wxframe can fetch a new one"


class CredentialError(ApiError):
    codes = frozenset({40013, 40125, 41002})
    status = "credentials"
    advice = "check WX_APPID / WX_APPSECRET (the app secret is on the platform's 基本配置 page)"


class AccessDeniedError(ApiError):
    codes = frozenset({48001, 50001, 40164})
    status = "unauthorised"
    status_by_code: ClassVar[dict[int, str]] = {40164: "ip not whitelisted"}
    advice = "the account may not call this API"
    advice_by_code: ClassVar[dict[int, str]] = {
        48001: "the account is not authorised for this API: the datacube endpoints need a "
        "verified (认证) Official Account, and a third-party platform calling for it needs "
        "the data-analysis permission set granted",
        50001: "the API is not authorised for this account: grant it on the platform",
        40164: "the caller's IP address is not on the account's IP whitelist: add it on the "
        "platform's 基本配置 page (the error message names the IP the platform saw)",
    }


class EndpointOfflineError(ApiError):
    """errcode 47009: the platform has switched the endpoint off; it will not come back.

    ``successors`` names the endpoints that replace it.
    """

    codes = frozenset({47009})
    advice = "the platform has switched this endpoint off"
    status = "offline"

    def __init__(
        self,
        errcode: int,
        errmsg: str,
        *,
        endpoint: str | None = None,
        window: WindowLike | None = None,
        advice: str | None = None,
        successors: tuple[str, ...] = (),
    ) -> None:
        self.successors = tuple(successors)
        if advice is None and self.successors:
            advice = (
                f"the platform has switched {endpoint or 'this endpoint'} off; use "
                f"{' or '.join(self.successors)} instead"
            )
        super().__init__(errcode, errmsg, endpoint=endpoint, window=window, advice=advice)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_offline_error,
            (type(self), self.errcode, self.errmsg, self.endpoint, self.window, self.advice,
             self.successors),
        )  # fmt: skip


def _rebuild_offline_error(cls: type[EndpointOfflineError], *args: Any) -> EndpointOfflineError:
    errcode, errmsg, endpoint, window, advice, successors = args
    return cls(errcode, errmsg, endpoint=endpoint, window=window, advice=advice,
               successors=successors)  # fmt: skip


class QuotaExceededError(ApiError):
    codes = frozenset({45009})
    status = "quota used up"
    advice = "the daily quota for this endpoint is used up; run again tomorrow (Beijing time)"


class RateLimitError(ApiError):
    codes = frozenset({45011})
    advice = "the per-minute quota is used up; lower max_workers or try again in a minute"


class BusyError(ApiError):
    codes = frozenset({-1})
    advice = "the platform stayed busy through every retry; try again later"


class RequestRejectedError(ApiError):
    codes = frozenset({47001, 61500, 61501})
    advice = "the platform rejected the request's dates: this is a wxframe bug, please report it"


class DataNotReadyError(ApiError):
    codes = frozenset({61503})
    status = "not ready"
    advice = (
        "the platform has not finished this day's numbers (61503); try again later, "
        "after 08:00 Beijing time for yesterday"
    )


class ReportError(WxframeError):
    """A report notebook raised an error in one of its cells."""


class EmptyPeriodError(WxframeError, ValueError):
    """A report asked for a period of which the store holds no day of any endpoint."""


class StoreError(WxframeError):
    """The parquet store cannot do what was asked."""


class StoreLockedError(StoreError):
    """Another process holds the store's lock."""


class SyncIncomplete(StoreError):
    """A sync stopped before it finished; everything it fetched is in the store.

    ``remaining`` maps endpoint name to the windows still to fetch, ``summary`` is what
    the sync did before it stopped, and ``__cause__`` is the error that stopped it.
    """

    def __init__(
        self, message: str, *, remaining: Mapping[str, Sequence[WindowLike]], summary: Any
    ) -> None:
        super().__init__(message)
        self.remaining = remaining
        self.summary = summary

    def __reduce__(self) -> tuple[Any, ...]:
        state = {"remaining": self.remaining, "summary": self.summary}
        return (_rebuild, (type(self), self.args, state))


def _rebuild(cls: type[Exception], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception:
    return cls(*args, **kwargs)


class WxframeWarning(UserWarning):
    """Base of every wxframe warning: ``warnings.simplefilter("ignore", WxframeWarning)``."""


class IncompleteDataWarning(WxframeWarning):
    """Yesterday was asked for before 08:00 Beijing time: its numbers may be partial."""


class RangeClippedWarning(WxframeWarning):
    """A range started before an endpoint's first day and was clipped to it."""


class EndpointSkippedWarning(WxframeWarning):
    """An endpoint the platform has switched off (47009) was left out of a load or sync."""


class UnexpectedRowsWarning(WxframeWarning):
    """An answer held rows of days outside its request window; they were dropped."""


class StoreDamagedWarning(WxframeWarning):
    """Files of the store were missing or damaged: their days are fetched again."""


class DataMismatchWarning(WxframeWarning):
    """Numbers that must agree do not (followers that do not add up, ...): named by day."""


class MissingFontWarning(WxframeWarning):
    """No CJK font: Chinese labels are replaced (msgids, English names)."""
