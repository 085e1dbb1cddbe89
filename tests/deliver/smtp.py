"""A real SMTP server on loopback for the mail destination's tests (aiosmtpd): it
records every mail it takes, answers DATA as a test scripts it, checks logins, and
speaks STARTTLS or SSL with a self-signed certificate made here (``cryptography``).

Named ``smtp.py``, not ``conftest.py``: other tests of ``tests/deliver`` have their own.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    """One mail as the server took it: the envelope, the bytes, how it came."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    login: str | None

    def parsed(self) -> EmailMessage:
        mail = message_from_bytes(self.content, policy=default_policy)
        assert isinstance(mail, EmailMessage)
        return mail


@dataclass
class Recorder:
    """The server's handler: ``replies`` are answered to DATA first (e.g. ``"451 4.3.0
    busy"``), one a mail; then each mail is taken and kept in ``received``, for the
    recipients not refused in ``recipients``."""

    replies: list[str] = field(default_factory=list)
    #: What RCPT TO answers for these addresses (e.g. ``"550 5.1.1 no such user"``).
    recipients: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    attempts: int = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:  # fmt: skip
        if address in self.recipients:
            return self.recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.replies:
            return self.replies.pop(0)
        login = session.auth_data.login.decode() if session.authenticated else None
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content,
                server.transport.get_extra_info("ssl_object") is not None,
                login,
            )
        )
        return "250 2.0.0 OK"


@dataclass
class Logins:
    """An authenticator taking exactly these user/password pairs; it counts refusals."""

    users: dict[str, str]
    refused: int = 0

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str,
                 data: Any) -> AuthResult:  # fmt: skip
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if self.users.get(user) == password:
                return AuthResult(success=True, auth_data=data)
        self.refused += 1
        return AuthResult(success=False, handled=False)


@dataclass
class Server:
    host: str
    port: int
    recorder: Recorder


def free_port() -> int:
    """A port nothing listens on now (aiosmtpd's controller cannot take port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(
    recorder: Recorder | None = None,
    *,
    logins: Logins | None = None,
    tls: Literal["starttls", "ssl"] | None = None,
    cert: tuple[Path, Path] | None = None,
) -> Iterator[Server]:
    """An SMTP server on 127.0.0.1 for the ``with`` block. With ``logins`` it offers
    AUTH (over plain text too: this is loopback); with ``tls`` and ``cert`` (from
    :func:`self_signed`) it speaks STARTTLS, and then takes AUTH only after it, or SSL."""
    recorder = recorder if recorder is not None else Recorder()
    options: dict[str, Any] = {"server_hostname": "localhost", "ready_timeout": 10.0}
    if logins is not None:
        options.update(authenticator=logins, auth_require_tls=tls is not None)
    if tls is not None:
        assert cert is not None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*cert)
        options["tls_context" if tls == "starttls" else "ssl_context"] = context
        if tls == "starttls":
            options["require_starttls"] = True
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield Server("127.0.0.1", port, recorder)
    finally:
        controller.stop()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, its own authority; (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wxframe test SMTP")])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
