"""What the group robots share: one POST (JSON or multipart) with transient faults
retried under the client's :class:`~wxframe.RetryPolicy`, the platform's answer judged
by its code, a pacer that keeps a robot within its messages a minute, and redaction:
a webhook's key, token or signing secret never reaches an error or a log line."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import string
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus, urlsplit

import requests
import tenacity

from wxframe.client import RetryPolicy
from wxframe.deliver._base import Destination, secret_from
from wxframe.deliver._message import Message
from wxframe.errors import ConfigurationError, DeliveryError

__all__ = [
    "Pacer",
    "Platform",
    "Robot",
    "RobotDestination",
    "SignedWebhook",
    "check_link",
    "check_webhook",
    "install_redaction",
    "json_body",
    "redact",
    "with_link",
]

log = logging.getLogger("wxframe.deliver")

#: Seconds for one request, all of it; an upload of 20 MB on a slow line needs more.
TIMEOUT = 30.0
#: The value of each parameter of a URL's query.
_QUERY = re.compile(r"([?&][^=&\s'\"<>]+=)[^&\s'\"<>)]*")
#: Feishu's token is the last part of its webhook's path.
_HOOK = re.compile(r"(/bot/v2/hook/)[^\s'\"<>)?/]+")


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret (as written, URL-quoted or form-quoted), the values of
    a URL's query and a Feishu hook's token replaced by ``***``.

    >>> redact("POST /send?key=abc-123&type=file failed for abc-123", ["abc-123"])
    'POST /send?key=***&type=*** failed for ***'
    >>> redact("POST /open-apis/bot/v2/hook/0a1b-2c3d HTTP/1.1", [])
    'POST /open-apis/bot/v2/hook/*** HTTP/1.1'
    """
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, "***")
    return _HOOK.sub(r"\1***", _QUERY.sub(r"\1***", text))


class _RedactQueries(logging.Filter):
    """urllib3 logs each request's path with its query at DEBUG: a WeCom key, a DingTalk
    access_token, a Feishu hook. A run with debug logging on must not write them."""

    def filter(self, record: logging.LogRecord) -> bool:
        # the whole line, as the client's filter leaves it (either may run first)
        record.msg = redact(record.getMessage(), ())
        record.args = None
        return True


def install_redaction() -> None:
    """Keep webhook keys and tokens out of urllib3's log records (once per process)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactQueries) for f in logger.filters):
        logger.addFilter(_RedactQueries())


def check_webhook(name: str, kind: str, variable: str, url: str) -> str:
    """``url`` if it is an https address (http only on this machine, for tests); the
    ConfigurationError names the variable, never the address, which is the secret.

    >>> check_webhook("team", "dingtalk", "DT_URL", "https://oapi.dingtalk.com/robot/send?access_token=x")
    'https://oapi.dingtalk.com/robot/send?access_token=x'
    """
    parts = urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        raise ConfigurationError(
            f"destination {name} ({kind}): the variable {variable} must hold the robot's "
            "webhook address, https://... as the group's robot settings show it"
        )
    return url


@dataclass
class Pacer:
    """At most ``limit`` sends in any ``window`` seconds, for each ``(limit, window)`` of
    ``limits``: :meth:`wait` sleeps until one more send keeps within every limit. One
    pacer a robot, shared by every message sent to it (thread-safe).

    >>> now = [0.0]
    >>> def sleep(seconds):
    ...     now[0] += seconds
    >>> pacer = Pacer([(2, 60.0)], clock=lambda: now[0], sleep=sleep)
    >>> [pacer.wait() for _ in range(3)]
    [0.0, 0.0, 60.0]
    """

    limits: Sequence[tuple[int, float]]
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _sent: deque[float] = field(default_factory=deque, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        for limit, window in self.limits:
            if limit < 1 or window < 0:
                raise ConfigurationError(
                    f"pacer limit {limit} in {window} s; allowed: at least 1 in >= 0 s"
                )
        self._longest = max((w for _, w in self.limits), default=0.0)

    def wait(self) -> float:
        """Sleep until a send is allowed, count it as sent now; the seconds slept."""
        with self._lock:
            slept = 0.0
            while (delay := self._delay()) > 0:
                self.sleep(delay)
                slept += delay
            self._sent.append(self.clock())
            return slept

    def _delay(self) -> float:
        now = self.clock()
        while self._sent and self._sent[0] <= now - self._longest:
            self._sent.popleft()
        delay = 0.0
        for limit, window in self.limits:
            recent = [t for t in self._sent if t > now - window]
            if len(recent) >= limit:
                delay = max(delay, recent[-limit] + window - now)
        return delay


@dataclass(frozen=True)
class Platform:
    """How a platform answers: the JSON keys of its code and message, the codes that
    are its rate limit (retried after a wait) and advice for the codes a user can fix."""

    name: str
    code_keys: tuple[str, ...] = ("errcode",)
    message_keys: tuple[str, ...] = ("errmsg",)
    rate_limit: frozenset[int] = frozenset()
    advice: Mapping[int, str] = field(default_factory=dict)


class _Transient(Exception):
    """A fault worth retrying; its text is already redacted."""

    def __init__(self, text: str, *, rate_limit: bool = False) -> None:
        super().__init__(text)
        self.rate_limit = rate_limit


class Robot:
    """One robot's door: POSTs to its webhook with retries, answers judged by
    ``platform``; ``secrets`` are what never appears in an error or a log.

    ``where`` names the robot in every error (``"wecom robot team"``).
    """

    def __init__(
        self,
        where: str,
        platform: Platform,
        *,
        secrets: Sequence[str],
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        timeout: float = TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        install_redaction()
        self.where = where
        self.platform = platform
        self.retry = retry if retry is not None else RetryPolicy()
        self.pacer = pacer
        self.timeout = timeout
        self._secrets = tuple(s for s in secrets if s)
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"Robot({self.where!r})"

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def post(self, url: str, what: str, *, paced: bool = True, **body: Any) -> dict[str, Any]:
        """POST ``body`` (``data=``, ``files=``: keywords of ``requests.post``) to ``url``;
        the platform's answer when its code is 0. Each attempt of a ``paced`` post (a
        message, which counts against the robot's rate) waits for the pacer. A transient
        fault is retried; what stays is a DeliveryError (``transient`` when retries ran
        out) naming ``what`` and the platform's code."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Transient),
            stop=tenacity.stop_after_attempt(self.retry.max_retries + 1),
            wait=self._wait,
            before_sleep=self._note_retry,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._post_once, url, what, paced, body)
        except _Transient as exc:
            raise DeliveryError(
                f"{self.where}: {what}: {exc} (after {self.retry.max_retries} retries); "
                "run again later",
                transient=True,
            ) from None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.rate_limit:
            # a robot's quota is a minute; another sender may share it
            return min(60.0 - (time.time() % 60.0) + 0.5, self.retry.rate_limit_wait)
        policy = self.retry
        jitter = tenacity.wait_random_exponential(multiplier=policy.backoff, max=policy.max_backoff)
        return float(jitter(state))

    def _note_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait_s = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s: %s; retry %d/%d in %.2fs", self.where, exc, state.attempt_number,
                    self.retry.max_retries, wait_s)  # fmt: skip

    def _post_once(self, url: str, what: str, paced: bool, body: dict[str, Any]) -> dict[str, Any]:
        if paced and self.pacer is not None:
            self.pacer.wait()
        try:
            answer = requests.post(url, timeout=self.timeout, allow_redirects=False, **body)
        except requests.Timeout:
            raise _Transient(f"no answer within {self.timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise _Transient(f"connection failed ({self.redact(_reason(exc))})") from None
        except requests.RequestException as exc:
            raise DeliveryError(
                f"{self.where}: {what}: {type(exc).__name__}: {self.redact(str(exc))}"
            ) from None
        status = answer.status_code
        if status >= 500 or status == 429:
            raise _Transient(f"HTTP {status}")
        if status != 200:
            advice = (
                "the webhook address moved or is wrong: copy it again from the robot's settings"
                if 300 <= status < 400
                else "check the webhook address and the robot's settings"
            )
            raise DeliveryError(f"{self.where}: {what}: HTTP {status}; {advice}")
        return self._judge(answer, what)

    def _judge(self, answer: requests.Response, what: str) -> dict[str, Any]:
        try:
            payload = answer.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            snippet = self.redact(answer.text[:120])
            raise DeliveryError(f"{self.where}: {what}: not the platform's JSON: {snippet!r}")
        platform = self.platform
        code = next((payload[k] for k in platform.code_keys if k in payload), None)
        if code == 0:
            return payload
        if code is None:
            snippet = self.redact(answer.text[:120])
            raise DeliveryError(f"{self.where}: {what}: an answer without a code: {snippet!r}")
        text = next((str(payload[k]) for k in platform.message_keys if k in payload), "")
        said = f"{platform.name} code {code} ({self.redact(text)[:200]})"
        if code in platform.rate_limit:
            raise _Transient(said, rate_limit=True)
        advice = platform.advice.get(code) if isinstance(code, int) else None
        raise DeliveryError(f"{self.where}: {what}: {said}" + (f"; {advice}" if advice else ""))


def _reason(exc: BaseException) -> str:
    """What failed in a connection (refused, reset, a name unknown), without the
    connection object's repr."""
    inner: object = exc.args[0] if exc.args else exc
    inner = getattr(inner, "reason", inner)  # urllib3's MaxRetryError holds the cause
    return str(inner).rsplit(">: ", 1)[-1][:200]


def json_body(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``requests.post`` keywords for ``payload`` as UTF-8 JSON (not ``\\u`` escapes,
    which would triple the bytes of Chinese text against a platform's body limit).

    >>> json_body({"text": "阅读"})["data"].decode()
    '{"text":"阅读"}'
    """
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return {"data": data, "headers": {"Content-Type": "application/json; charset=utf-8"}}


_LINK_FIELDS = frozenset({"account", "begin", "end"})


def check_link(name: str, kind: str, link: object) -> str | None:
    """The config's ``link``: where the report is published, an http(s) address that
    may hold ``{account}``, ``{begin}`` and ``{end}``.

    >>> check_link("team", "feishu", "https://r.example.com/{account}/{begin}.html")
    'https://r.example.com/{account}/{begin}.html'
    """
    if link is None:
        return None
    fields: set[str] = set()
    if isinstance(link, str):
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(link) if f is not None}
        except ValueError:
            fields = {"?"}
    if (
        not isinstance(link, str)
        or not link.startswith(("https://", "http://"))
        or (fields - _LINK_FIELDS)
    ):
        raise ConfigurationError(
            f"destination {name} ({kind}): link={link!r}; allowed: an http(s) address where "
            "the report is published, which may hold {account}, {begin} and {end}"
        )
    return link


def with_link(message: Message, link: str | None) -> Message:
    """``message`` carrying the config's ``link`` (filled in for its account and period)
    if one is given, else as it is."""
    if link is None:
        return message
    filled = link.format(account=message.account, begin=message.begin, end=message.end)
    return dataclasses.replace(message, link=filled)


class RobotDestination(Destination):
    """A destination that is a group robot: its :class:`Robot` (retries, the judged
    answer, redaction, and a :class:`Pacer` for the platform's ``limits`` unless a
    ``pacer`` is given); :meth:`deliver` posts one message."""

    platform: ClassVar[Platform]
    #: The platform's rate: ``(messages, seconds)`` pairs, each window a little longer
    #: than the platform's: a message reaches the robot a moment after it leaves.
    limits: ClassVar[tuple[tuple[int, float], ...]] = ()

    def __init__(
        self,
        name: str,
        *,
        secrets: Sequence[str],
        alerts: bool = True,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        super().__init__(name, alerts=alerts)
        self.robot = Robot(
            f"{self.kind} robot {name}", self.platform, secrets=secrets, retry=retry,
            pacer=pacer if pacer is not None else Pacer(self.limits), timeout=timeout,
        )  # fmt: skip

    def deliver(self, url: str, what: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Post one message (``payload`` as JSON), each attempt once the pacer allows."""
        return self.robot.post(url, what, **json_body(payload))


class SignedWebhook(RobotDestination):
    """A robot addressed by its whole webhook (a secret: its token is in it) that may
    sign each message with a secret of its own (DingTalk, Feishu); the config names the
    variables holding both, and ``link`` where the report is published."""

    keys: ClassVar[tuple[str, ...]] = ("webhook_env", "secret_env", "link")
    #: What :meth:`describe` calls the robot.
    noun: ClassVar[str] = "robot"

    def __init__(
        self,
        name: str,
        webhook: str,
        *,
        secret: str = "",
        link: str | None = None,
        webhook_env: str = "",
        secret_env: str = "",
        alerts: bool = True,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        timeout: float = TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_webhook(name, self.kind, webhook_env or "given", webhook)
        super().__init__(
            name, secrets=[webhook, self.token_of(webhook), secret], alerts=alerts,
            retry=retry, pacer=pacer, timeout=timeout,
        )  # fmt: skip
        self._webhook = webhook
        self._secret = secret
        self.link = check_link(name, self.kind, link)
        self.webhook_env = webhook_env
        self.secret_env = secret_env
        self.clock = clock

    @staticmethod
    def token_of(webhook: str) -> str:
        """The part of the webhook that is its token (redacted wherever it shows)."""
        raise NotImplementedError

    @property
    def sends(self) -> str:
        """The kind of message it sends, for :meth:`describe`."""
        return "markdown"

    @classmethod
    def from_config(cls, name: str, table: Mapping[str, Any]) -> Destination:
        options = {k: table[k] for k in cls.keys if k not in SignedWebhook.keys and k in table}
        return cls(
            name,
            secret_from(name, table, "webhook_env"),
            secret=secret_from(name, table, "secret_env", required=False),
            link=table.get("link"),
            webhook_env=str(table["webhook_env"]),
            secret_env=str(table.get("secret_env", "")),
            alerts=table.get("alerts", True),
            **options,
        )

    def describe(self) -> str:
        signed = f"signed with ${self.secret_env}" if self._secret else "unsigned"
        link = f", linking {self.link}" if self.link else ""
        return (
            f"{self.name} ({self.kind}): summary ({self.sends}){link} to the {self.noun} at "
            f"{urlsplit(self._webhook).netloc} whose address ${self.webhook_env or '?'} "
            f"holds, {signed}"
        )
