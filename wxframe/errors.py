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
    ├── DeliveryError                      a destination did not take a delivery
    ├── EmptyPeriodError (ValueError)      a report's period the store holds nothing of
    └── StoreError                         the parquet store cannot do what was asked
        ├── StoreNotFoundError             no wxframe store at the path a reader was given
        ├── StoreDamagedError              a store file is missing or its bytes changed
        ├── StoreLockedError               another process is syncing this store
        │   └── WriterConflictError        another writer committed the account first
        ├── StoreUnreachableError          the object storage did not answer: rerun later
        └── SyncIncomplete                 a sync stopped early; what it fetched is kept

    WxframeWarning (UserWarning)
    ├── IncompleteDataWarning              yesterday asked for before 08:00 Beijing time
    ├── RangeClippedWarning                a range starts before an endpoint's first day
    ├── EndpointSkippedWarning             a switched-off endpoint (47009) was left out
    ├── UnexpectedRowsWarning              an answer held days it was not asked for
    ├── BadAnswerWarning                   text not UTF-8 (replaced), or a window unread
    ├── TokenRotatedWarning                a token forced as a last resort: others' invalid
    ├── StoreDamagedWarning                store files missing or damaged: fetched again
    ├── DataMismatchWarning                numbers that must agree do not
    └── MissingFontWarning                 no CJK font: Chinese labels replaced

Every ``ApiError`` carries ``errcode``, ``errmsg``, ``endpoint`` and ``window`` and names
them in its message. No message ever holds an access token or an app secret. A message
that tells its reader which argument to give spells it with :func:`argument`: as Python
writes it (``account=APPID``), or as the command line does (``--account APPID``).

Every error declares what it asks of whoever runs wxframe, as the command line's exit
code (:attr:`WxframeError.exit_status`, the table in ``wxframe --help``): 2 fix what was
asked (an argument, a path, a file, the configuration); 3 nothing to fix, run it again
later (a used-up quota, a busy platform, the network); 4 the platform refuses this
account access (its secret, its IP whitelist, its authorisation): fix it on the platform
or in the credentials; 5 the platform has switched the endpoint off (47009): use its
successor. Only 3 is helped by running again (:attr:`WxframeError.rerun_helps`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
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
    "ERROR_CLASSES",
    "AccessDeniedError",
    "ApiError",
    "BadAnswerWarning",
    "BusyError",
    "ConfigurationError",
    "CredentialError",
    "DataMismatchWarning",
    "DataNotReadyError",
    "DeliveryError",
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
    "StoreDamagedError",
    "StoreDamagedWarning",
    "StoreError",
    "StoreLockedError",
    "StoreNotFoundError",
    "StoreUnreachableError",
    "SyncIncomplete",
    "TokenError",
    "TokenRotatedWarning",
    "TransportError",
    "UnexpectedRowsWarning",
    "UnknownEndpointError",
    "WindowLike",
    "WriterConflictError",
    "WxframeError",
    "WxframeWarning",
    "argument",
    "check_count",
    "command_line",
    "most_urgent",
]


class WxframeError(Exception):
    """Base of every wxframe error."""

    #: The command line's exit code for this error: what it asks of the user (2 fix
    #: what was asked, 3 run again later, 4 the platform refuses access, 5 switched off).
    exit_status: ClassVar[int] = 2

    @property
    def rerun_helps(self) -> bool:
        """Whether the same call made again later can succeed without anyone changing
        anything (a quota, a busy platform, the network); otherwise something must be
        fixed first."""
        return self.exit_status == 3


class InvalidDateError(WxframeError, ValueError):
    """A date that is malformed, out of order, before 2014-12-01 or not yet over."""


class UnknownEndpointError(WxframeError, ValueError):
    """A name that is not in the endpoint registry."""


class ConfigurationError(WxframeError, ValueError):
    """An argument wxframe cannot work with (no credentials, a bad option)."""


#: Exit codes from the one that most needs a person to the one that needs nobody: what a
#: run of several parts (accounts, endpoints) exits with is the first of its parts'.
URGENCY = (4, 5, 2, 3, 1, 0)


def most_urgent(statuses: Iterable[int]) -> int:
    """The exit code of a run whose parts ended with ``statuses``: the one that most
    needs a person (0 for none).

    >>> most_urgent([0, 3, 4, 3])
    4
    >>> most_urgent([])
    0
    """
    present = set(statuses)
    return next((code for code in URGENCY if code in present), 0)


def check_count(name: str, value: object) -> int:
    """``value`` if it is an integer >= 1 (not a bool), else a ConfigurationError naming it."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigurationError(f"{name}={value!r}; allowed: an integer >= 1")
    return value


#: Whether messages are being built for the command line (its commands run under
#: :func:`command_line`); a context variable, so each thread and task has its own.
_ON_THE_COMMAND_LINE: ContextVar[bool] = ContextVar("wxframe_command_line", default=False)


def argument(name: str, value: object) -> str:
    """How a message tells its reader to give ``name``: as a Python caller writes it, or
    as the command line's flag while a command runs (:func:`command_line`). A value in
    capitals is a placeholder (``APPID``) and is written bare.

    >>> argument("account", "APPID"), argument("endpoint", "getusershare")
    ('account=APPID', "endpoint='getusershare'")
    >>> with command_line():
    ...     argument("account", "APPID"), argument("endpoint", "getusershare")
    ('--account APPID', '--endpoint getusershare')
    """
    if _ON_THE_COMMAND_LINE.get():
        return f"--{name.replace('_', '-')} {value}"
    placeholder = isinstance(value, str) and value.isupper()
    return f"{name}={value}" if placeholder else f"{name}={value!r}"


@contextmanager
def command_line() -> Iterator[None]:
    """Messages built inside name arguments by the command line's flags
    (:func:`argument`): what the ``wxframe`` commands run in."""
    token = _ON_THE_COMMAND_LINE.set(True)
    try:
        yield
    finally:
        _ON_THE_COMMAND_LINE.reset(token)


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

    exit_status = 3


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
    exit_status = 4
    #: The codes on which a client refreshes its token once and retries once (41001, no
    #: token at all, is not the platform refusing one).
    refresh_codes: ClassVar[frozenset[int]] = frozenset({40001, 40014, 42001})
    status = "credentials"
    advice = "the access token was refused; give an app secret so wxframe can fetch a new one"


class CredentialError(ApiError):
    codes = frozenset({40013, 40125, 41002})
    exit_status = 4
    status = "credentials"
    advice = "check the appid and the app secret (the secret is on the platform's 基本配置 page)"


class AccessDeniedError(ApiError):
    codes = frozenset({48001, 50001, 40164})
    exit_status = 4
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
    exit_status = 5
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
    exit_status = 3
    status = "quota used up"
    advice = "the daily quota for this endpoint is used up; run again tomorrow (Beijing time)"


class RateLimitError(ApiError):
    codes = frozenset({45011})
    exit_status = 3
    advice = "the per-minute quota is used up; lower max_workers or try again in a minute"


class BusyError(ApiError):
    codes = frozenset({-1})
    exit_status = 3
    advice = "the platform stayed busy through every retry; try again later"


class RequestRejectedError(ApiError):
    codes = frozenset({47001, 61500, 61501})
    advice = "the platform rejected the request's dates: this is a wxframe bug, please report it"


class DataNotReadyError(ApiError):
    codes = frozenset({61503})
    exit_status = 3
    status = "not ready"
    advice = (
        "the platform has not finished this day's numbers (61503); try again later, "
        "after 08:00 Beijing time for yesterday"
    )


class ReportError(WxframeError):
    """A report notebook raised an error in one of its cells."""


class EmptyPeriodError(WxframeError, ValueError):
    """A report asked for a period of which the store holds no day of any endpoint."""


class DeliveryError(WxframeError):
    """A destination did not take a delivery: ``transient`` when retries of a fault
    that may pass (a 5xx, a rate limit, the network) ran out (exit 3), otherwise
    something to fix (a wrong key, a refused signature, a message too big: exit 2)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
        self.exit_status = 3 if transient else 2  # type: ignore[misc]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, {"transient": self.transient}))


class StoreError(WxframeError):
    """The parquet store cannot do what was asked."""


class StoreNotFoundError(StoreError):
    """A path that holds no wxframe store (nothing, a file, or a folder of something
    else), given to something that reads one, or a new store's path whose parent
    folder does not exist: the message names the path and what is there."""


class StoreDamagedError(StoreError):
    """A file the store's manifest lists is missing, or its bytes are not the ones
    written (a page checksum fails, it does not parse): ``wxframe verify --repair``."""


class StoreLockedError(StoreError):
    """Another process holds the store's lock."""


class StoreUnreachableError(StoreError):
    """The object storage a store lives on did not answer (the network, a busy or
    throttling service): nothing was read as damaged, nothing recorded; run again later."""

    exit_status = 3


class WriterConflictError(StoreLockedError):
    """Another writer committed this account of an object-storage store while this one
    wrote (its lease expired, or the store has no conditional put): this writer did not
    commit, the other writer's state is whole, and a rerun fetches what this one had
    fetched. ``other`` says who the other writer was, as its manifest names it."""

    exit_status = 3

    def __init__(self, message: str, *, other: str = "") -> None:
        super().__init__(message)
        self.other = other

    def __reduce__(self) -> tuple[Any, ...]:  # across processes (sync_accounts)
        return (_rebuild, (type(self), self.args, {"other": self.other}))


class SyncIncomplete(StoreError):
    """A sync stopped before it finished; everything it fetched is in the store.

    ``remaining`` maps endpoint name to the windows still to fetch, ``summary`` is what
    the sync did before it stopped, ``__cause__`` is the error that stopped it
    (``reason`` its message, which survives pickling), and ``exit_status`` is the stopping
    error's (3 when running the sync again later can finish it: a quota, a busy platform,
    the network; otherwise what must be fixed first).
    """

    def __init__(
        self,
        message: str,
        *,
        remaining: Mapping[str, Sequence[WindowLike]],
        summary: Any,
        reason: str = "",
        exit_status: int = 3,
    ) -> None:
        super().__init__(message)
        self.remaining = remaining
        self.summary = summary
        self.reason = reason
        self.exit_status = exit_status  # type: ignore[misc]

    def __reduce__(self) -> tuple[Any, ...]:
        state = {"remaining": self.remaining, "summary": self.summary, "reason": self.reason,
                 "exit_status": self.exit_status}  # fmt: skip
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


class BadAnswerWarning(WxframeWarning):
    """An answer not all of which could be used: text in it that is not UTF-8 (replaced
    by U+FFFD, its numbers kept), or a window whose answer could not be read (left
    unfinished: the next sync asks for it again). Names the endpoint, the days and why."""


class TokenRotatedWarning(WxframeWarning):
    """wxframe forced a new access token (the platform refused the one it still hands
    out): the token the account's other services hold is invalid until they refetch."""


class StoreDamagedWarning(WxframeWarning):
    """Files of the store were missing or damaged: their days are fetched again."""


class DataMismatchWarning(WxframeWarning):
    """Numbers that must agree do not (followers that do not add up, ...): named by day."""


class MissingFontWarning(WxframeWarning):
    """No CJK font: Chinese labels are replaced (msgids, English names)."""


def _subclasses(cls: type[ApiError]) -> Iterator[type[ApiError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _table() -> dict[int, type[ApiError]]:
    table: dict[int, type[ApiError]] = {}
    for cls in _subclasses(ApiError):
        for code in cls.codes:
            if code in table:  # two classes claiming a code: a mistake in this file
                raise AssertionError(f"errcode {code}: {table[code].__name__} and {cls.__name__}")
            table[code] = cls
    return table


#: Every errcode a class above declares, and that class (an errcode none declares is a
#: plain :class:`ApiError`): the client's table, and what names a saved error answer.
ERROR_CLASSES: dict[int, type[ApiError]] = _table()
