"""``type = "email"``: the summary as the body of a mail (HTML with a plain-text
alternative), the report attached and the headline chart inline, sent over SMTP with
STARTTLS or SSL; the password only from the variable the config names."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import random
import smtplib
import socket
import ssl
import time
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Any, ClassVar, Literal, NoReturn

from wxframe.client import RetryPolicy
from wxframe.dates import BEIJING
from wxframe.deliver._base import Destination, register, secret_from
from wxframe.deliver._message import Message
from wxframe.errors import ConfigurationError, DeliveryError

__all__ = ["Email"]

log = logging.getLogger("wxframe")

Security = Literal["starttls", "ssl", "none"]
#: The port each way of securing the connection is served on by convention.
DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "ssl": 465, "none": 25}
#: What most providers accept in one mail; ``max_bytes`` raises or lowers it.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
#: Characters that would break a header's line (and start another header).
_LINE_BREAKING = frozenset({"Cc", "Zl", "Zp"})


class _MailPolicy(EmailPolicy):
    """The SMTP policy, but a subject not in ASCII is written as encoded words that hold
    its spaces: the standard folding can break the line at spaces between two encoded
    words, where a reader drops them (RFC 2047): "公众号数据周报公众号数据周报  第49周"
    arrived as "…周报第49周"."""

    def _subject(self, name: str, value: str) -> str | None:
        if name.lower() != "subject" or str(value).isascii():
            return None
        header = Header(str(value), "utf-8", self.max_line_length, name)
        encoded = header.encode(linesep=self.linesep)
        return f"{name}: {encoded}{self.linesep}"

    def fold(self, name: str, value: str) -> str:
        return self._subject(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        subject = self._subject(name, value)
        return subject.encode("ascii") if subject else super().fold_binary(name, value)


MAIL_POLICY = _MailPolicy(linesep="\r\n")


class _Transient(Exception):
    """A fault that may pass (the network, a 4xx reply): the send is tried again."""


@register
class Email(Destination):
    """A mail to ``to`` (and ``cc``) through the SMTP server at ``host``.

    The body is the summary in HTML (:meth:`Message.html`) with the plain text
    (:meth:`Message.text`) as its alternative; the report is attached as
    ``report-ACCOUNT-BEGIN..END.html`` and the headline chart shown inline. The
    ``Message-ID`` is the same each time one account's period is sent to one
    destination, so a resent mail is recognisable as the same one. Faults that may pass
    (refused or dropped connections, timeouts, 4xx replies) are retried under
    ``retry``; 5xx replies and a refused login are not.

    >>> mail = Email.from_config("team", {"type": "email", "host": "localhost",
    ...     "security": "none", "from": "wxframe@example.com", "to": ["team@example.com"]})
    >>> mail.describe()
    'team (email): to team@example.com via localhost:25 (none), the report attached'
    """

    kind: ClassVar[str] = "email"
    keys: ClassVar[tuple[str, ...]] = (
        "host", "port", "security", "user", "password_env", "from", "to", "cc",
        "subject", "max_bytes", "timeout", "ca_file",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        *,
        host: str,
        sender: str,
        to: Sequence[str],
        cc: Sequence[str] = (),
        security: Security = "starttls",
        port: int | None = None,
        user: str | None = None,
        password: str | None = None,
        password_env: str | None = None,
        subject: str = "",
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float = 30.0,
        ca_file: Path | None = None,
        retry: RetryPolicy | None = None,
        alerts: bool = True,
    ) -> None:
        super().__init__(name, alerts=alerts)
        self.host = host
        self.security = security
        self.port = port if port is not None else DEFAULT_PORTS[security]
        self.sender = sender
        self.to = list(to)
        self.cc = list(cc)
        self.user = user
        self.password_env = password_env
        self.subject = subject
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.ca_file = ca_file
        self.retry = retry if retry is not None else RetryPolicy()
        self.__password = password  # in no repr, describe() or message

    @classmethod
    def from_config(cls, name: str, table: Mapping[str, Any]) -> Email:
        where = f"destination {name} (email)"
        host = table.get("host")
        if not isinstance(host, str) or not _is_host(host):
            raise ConfigurationError(f"{where}: host={host!r}; allowed: a host name such as "
                                     "smtp.example.com (the port goes in port)")  # fmt: skip
        security = table.get("security", "starttls")
        if security not in DEFAULT_PORTS:
            raise ConfigurationError(
                f"{where}: security={security!r}; allowed: starttls, ssl, none"
            )
        if security == "none" and not is_loopback(host):
            raise ConfigurationError(
                f'{where}: security = "none" to {host}: the mail and the password would '
                'cross the network unencrypted. Use "starttls" (port 587) or "ssl" (port '
                '465); "none" is only for a relay on this machine (localhost)'
            )
        port = table.get("port", DEFAULT_PORTS[security])
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigurationError(f"{where}: port={port!r}; allowed: an integer 1..65535")
        user = table.get("user")
        if user is not None and (not isinstance(user, str) or not user):
            raise ConfigurationError(f"{where}: user must be the login name (a string)")
        if user is None and "password_env" in table:
            raise ConfigurationError(f"{where}: password_env is given without user: "
                                     "give the user to log in as, or neither")  # fmt: skip
        password = secret_from(name, table, "password_env") if user is not None else None
        if user is not None and not (user.isascii() and password and password.isascii()):
            # smtplib sends a login in ASCII only; its error would quote the password
            raise ConfigurationError(f"{where}: the user or the password in "
                                     f"{table['password_env']} holds characters other than "
                                     "ASCII, which an SMTP login cannot carry")  # fmt: skip
        sender = table.get("from")
        if sender is None:
            raise ConfigurationError(f"{where}: from is missing: the address mail comes from")
        to = _addresses(where, "to", table.get("to"))
        if not to:
            raise ConfigurationError(f"{where}: to is empty; allowed: a list of addresses")
        subject = table.get("subject", "")
        if not isinstance(subject, str) or _has_control(subject):
            raise ConfigurationError(f"{where}: subject={subject!r}; allowed: one line of "
                                     "text put before each mail's subject")  # fmt: skip
        max_bytes = table.get("max_bytes", DEFAULT_MAX_BYTES)
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise ConfigurationError(f"{where}: max_bytes={max_bytes!r}; allowed: an integer "
                                     "> 0 (bytes)")  # fmt: skip
        timeout = table.get("timeout", 30.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigurationError(f"{where}: timeout={timeout!r}; allowed: seconds > 0")
        ca_file = table.get("ca_file")
        if ca_file is not None and (not isinstance(ca_file, str) or not Path(ca_file).is_file()):
            raise ConfigurationError(f"{where}: ca_file={ca_file!r}; allowed: a PEM file of "
                                     "the certificates to trust")  # fmt: skip
        return cls(
            name,
            host=host,
            port=port,
            security=security,
            sender=_addresses(where, "from", sender, single=True)[0],
            to=to,
            cc=_addresses(where, "cc", table.get("cc", [])),
            user=user,
            password=password,
            password_env=table.get("password_env"),
            subject=subject,
            max_bytes=max_bytes,
            timeout=float(timeout),
            ca_file=Path(ca_file) if ca_file is not None else None,
            alerts=table.get("alerts", True),
        )

    def describe(self) -> str:
        cc = f" (cc {', '.join(self.cc)})" if self.cc else ""
        login = f" as {self.user} (password from {self.password_env})" if self.user else ""
        return (f"{self.name} (email): to {', '.join(self.to)}{cc} via {self.host}:"
                f"{self.port} ({self.security}){login}, the report attached")  # fmt: skip

    # ------------------------------------------------------------------ composing
    def compose(self, message: Message) -> EmailMessage:
        """The mail as it is sent: headers, the summary as HTML and text, the chart
        inline, the report attached."""
        mail = EmailMessage(policy=MAIL_POLICY)
        title = f"{self.subject} {message.subject}" if self.subject else message.subject
        mail["Subject"] = _one_line(title).strip()
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.to)
        if self.cc:
            mail["Cc"] = ", ".join(self.cc)
        mail["Date"] = format_datetime(datetime.now(BEIJING))
        mail["Message-ID"] = self.message_id(message)
        stem = f"{message.account}-{message.period}"
        text, body = message.text(), message.html()
        if message.report is not None:
            note = "完整报告见附件" if message.lang == "zh" else "The full report is attached"
            text += f"\n\n{note}: report-{stem}.html"
            body += f"\n<p>{note}: report-{stem}.html</p>"
        chart_id = f"<chart.{self.message_id(message)[1:-1]}>"
        if message.chart is not None:
            body += f'\n<p><img src="cid:{chart_id[1:-1]}" alt="{_chart_alt(message)}"></p>'
        mail.set_content(text)
        mail.add_alternative(f'<!doctype html>\n<html><head><meta charset="utf-8"></head>'
                             f"<body>\n{body}\n</body></html>\n", subtype="html")  # fmt: skip
        if message.chart is not None:
            html_part = mail.get_body(("html",))
            assert html_part is not None  # added just above
            html_part.add_related(message.chart, "image", "png", cid=chart_id,
                                  filename=f"chart-{stem}.png", disposition="inline")  # fmt: skip
        if message.report is not None:
            try:
                report = message.report.read_bytes()
            except OSError as exc:
                raise DeliveryError(f"{self.name}: cannot read the report {message.report}: "
                                    f"{exc.strerror or exc}") from None  # fmt: skip
            mail.add_attachment(report, maintype="text", subtype="html",
                                filename=f"report-{stem}.html",
                                params={"charset": "utf-8"})  # fmt: skip
        return mail

    def message_id(self, message: Message) -> str:
        """The ``Message-ID`` of ``message`` sent here: the same for each resend of one
        account's period to this destination, and for no other.

        >>> import datetime
        >>> mail = Email("team", host="localhost", sender="w@example.com", to=["t@example.com"])
        >>> m = Message("wxa", datetime.date(2026, 11, 30), datetime.date(2026, 12, 6), "W")
        >>> mail.message_id(m)
        '<wxframe.20261130-20261206.1cc66f406b1b71f030ce@example.com>'
        """
        key = "\n".join((message.account, message.key, self.name))
        digest = hashlib.sha256(key.encode()).hexdigest()[:20]
        domain = getaddresses([self.sender])[0][1].rpartition("@")[2]
        if not domain.isascii() or not domain:
            domain = "wxframe.invalid"
        period = f"{message.begin:%Y%m%d}-{message.end:%Y%m%d}"
        return f"<wxframe.{period}.{digest}@{domain}>"

    # ------------------------------------------------------------------- sending
    def send(self, message: Message) -> None:
        mail = self.compose(message)
        size = len(mail.as_bytes())
        if size > self.max_bytes:
            raise DeliveryError(
                f"{self.name}: the mail would be {size:,} bytes, over max_bytes="
                f"{self.max_bytes:,}: mail servers refuse mails that big. Publish the "
                "report and give its link, or raise max_bytes if your server takes more"
            )
        # the envelope holds bare addresses: a display name there (周报 <a@b>) would
        # make smtplib send the whole mail as SMTPUTF8, its headers raw UTF-8
        recipients = [address for _, address in getaddresses([*self.to, *self.cc])]
        sender = getaddresses([self.sender])[0][1]
        policy = self.retry
        for attempt in range(policy.max_retries + 1):
            try:
                self._send_once(mail, sender, recipients)
                return
            except _Transient as exc:
                if attempt == policy.max_retries:
                    raise DeliveryError(
                        f"{self.name}: {exc}; tried {attempt + 1} time(s), run again later",
                        transient=True,
                    ) from None
                wait = random.uniform(0, min(policy.max_backoff, policy.backoff * 2**attempt))
                log.warning("%s: %s; retry %d/%d in %.2fs", self.name, exc, attempt + 1,
                            policy.max_retries, wait)  # fmt: skip
                time.sleep(wait)

    def _send_once(self, mail: EmailMessage, sender: str, recipients: list[str]) -> None:
        where = f"{self.host}:{self.port}"
        try:
            with self._connect() as smtp:
                if self.security == "starttls":
                    smtp.starttls(context=self._tls())
                if self.user is not None:
                    smtp.login(self.user, self.__password or "")
                refused = smtp.send_message(mail, sender, recipients)
        except smtplib.SMTPAuthenticationError as exc:
            if 400 <= exc.smtp_code < 500:
                raise _Transient(f"{where} could not log in now: {self._reply(exc)}") from None
            self._fail(f"{where} refused the login of {self.user} ({self._reply(exc)}): "
                       f"check the user, and the password in {self.password_env}")  # fmt: skip
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            replies = "; ".join(f"{who}: {code} {self._scrub(text.decode('utf-8', 'replace'))}"
                                for who, (code, text) in exc.recipients.items())  # fmt: skip
            if all(400 <= code < 500 for code in codes):
                raise _Transient(f"{where} deferred every recipient ({replies})") from None
            self._fail(f"{where} refused every recipient ({replies}): check to and cc")
        except smtplib.SMTPNotSupportedError as exc:
            self._fail(f"{where}: {exc}: {self._advice_unsupported(str(exc))}")
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise _Transient(f"{where} answered {self._reply(exc)}") from None
            self._fail(f"{where} refused the mail: {self._reply(exc)}")
        except smtplib.SMTPServerDisconnected as exc:
            if isinstance(exc.__context__, TimeoutError):  # smtplib's word for a timeout
                raise _Transient(f"{where} did not answer within {self.timeout:g} s") from None
            reason = str(exc) or "no reason given"
            raise _Transient(f"{where} closed the connection ({reason})") from None
        except smtplib.SMTPException as exc:  # smtplib's own refusals: nothing passes
            self._fail(f"{where}: {self._scrub(str(exc))}")
        except ssl.SSLCertVerificationError as exc:
            self._fail(f"{where}: its certificate is not trusted ({exc.verify_message}): give "
                       "the certificate of its authority in ca_file")  # fmt: skip
        except ssl.SSLError as exc:
            self._fail(f"{where}: TLS failed ({exc.reason or exc}): is security = "
                       f'"{self.security}" what that port speaks? 587 is usually starttls, '
                       "465 ssl")  # fmt: skip
        except socket.gaierror as exc:
            if exc.errno == socket.EAI_AGAIN:
                raise _Transient(f"{self.host}: name lookup failed for now") from None
            self._fail(f"host={self.host!r}: no such host ({exc.strerror}); check host")
        except TimeoutError:
            raise _Transient(f"{where} did not answer within {self.timeout:g} s") from None
        except OSError as exc:  # refused, reset, unreachable: the network
            raise _Transient(f"cannot talk to {where}: {exc.strerror or exc}") from None
        if refused:
            replies = "; ".join(f"{who}: {code}" for who, (code, _) in refused.items())
            self._fail(f"{where} took the mail but refused some recipients ({replies}); the "
                       "others got it: check those addresses")  # fmt: skip

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=self._tls())  # fmt: skip
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _tls(self) -> ssl.SSLContext:
        cafile = str(self.ca_file) if self.ca_file is not None else None
        return ssl.create_default_context(cafile=cafile)

    def _advice_unsupported(self, text: str) -> str:
        if "STARTTLS" in text:
            return 'try security = "ssl" (port 465), or ask for the submission port'
        if "AUTH" in text:
            return "the server takes no login here: leave user out, or use its TLS port"
        return "the server cannot do what this destination asks"

    def _reply(self, exc: smtplib.SMTPResponseException) -> str:
        text = exc.smtp_error
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return f"{exc.smtp_code} {self._scrub(text)}".strip()

    def _scrub(self, text: str) -> str:
        """``text`` without the password, should a server echo it."""
        password = self.__password
        return text.replace(password, "***") if password else text

    def _fail(self, text: str) -> NoReturn:
        raise DeliveryError(f"{self.name}: {self._scrub(text)}")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (where a plain connection crosses no network).

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("smtp.example.com")
    (True, True, False)
    """
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_host(host: str) -> bool:
    """A host name or an IP address, nothing more (no port, no user, no scheme)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return bool(host) and not any(c in host for c in " /:@") and host.isprintable()


def _addresses(where: str, key: str, value: Any, *, single: bool = False) -> list[str]:
    """The addresses of ``key``, each checked (``Name <a@b>`` or ``a@b``)."""
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, list)
        or not all(isinstance(i, str) for i in items)
        or (single and len(items) != 1)
    ):
        allowed = "an address" if single else "a list of addresses"
        raise ConfigurationError(f"{where}: {key}={value!r}; allowed: {allowed} such as "
                                 '"team@example.com"')  # fmt: skip
    for item in items:
        parsed = getaddresses([item])
        ok = len(parsed) == 1 and not _has_control(item)
        if ok:
            try:
                Address(display_name=parsed[0][0], addr_spec=parsed[0][1])
            except (ValueError, IndexError, TypeError):
                ok = False
        local, at, domain = parsed[0][1].rpartition("@") if ok else ("", "", "")
        if not ok or not (local and at and "." in domain):
            raise ConfigurationError(f"{where}: {key} holds {item!r}, not an address; allowed: "
                                     '"team@example.com" or "Team <team@example.com>"')  # fmt: skip
    return list(items)


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) in _LINE_BREAKING for c in text)


def _one_line(text: str) -> str:
    """A subject on one line: line breaks and other control characters become spaces
    (a line break in a header would start another header)."""
    return "".join(" " if unicodedata.category(c) in _LINE_BREAKING else c for c in text)


def _chart_alt(message: Message) -> str:
    return "核心指标图" if message.lang == "zh" else "headline chart"
