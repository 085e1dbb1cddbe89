"""The mail destination against a real SMTP server on loopback (aiosmtpd): what arrives
(subject, HTML body, text alternative, the report attached byte for byte, the chart),
logins, STARTTLS and SSL, faults that pass and faults that do not, the config's refusals."""

from __future__ import annotations

import logging
import re
import socket
import struct
import time
import unicodedata
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.deliver.smtp import Logins, Recorder, free_port, self_signed, smtp_server
from wxframe.client import RetryPolicy
from wxframe.deliver import DESTINATIONS, Alert, Email, Message, make_destination
from wxframe.errors import ConfigurationError, DeliveryError

#: Retries without the waits: a test spends its time on the faults, not sleeping.
QUICK = RetryPolicy(max_retries=3, backoff=0.0, max_backoff=0.0)
PASSWORD = "Pa55-word-of-the-robot"


def png(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG (grey pixels): what a headline chart is, in few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes([128] * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))  # fmt: skip


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "report.html"
    path.write_bytes("<!doctype html><meta charset=utf-8><h1>周报 wxa</h1>\r\n<p>阅读 562,599</p>"
                     .encode() + bytes(range(256)).replace(b"\x00", b""))  # fmt: skip
    return path


def message(report: Path | None = None, *, title: str = "公众号周报", chart: bytes | None = None,
            lang: Any = "zh", alerts: list[Alert] | None = None) -> Message:  # fmt: skip
    return Message("wx5im0000000000001", date(2026, 11, 30), date(2026, 12, 6), title=title,
                   headline=[("阅读人数", "562,599", "-17.3%"), ("新关注", "1,204", "+3.0%")],
                   alerts=alerts or [], report=report, chart=chart, lang=lang)  # fmt: skip


def email(port: int, **table: Any) -> Email:
    """The destination as a config table makes it, its retries quick."""
    base = {"type": "email", "host": "127.0.0.1", "port": port, "security": "none",
            "from": "周报 <wxframe@example.com>", "to": ["team@example.com"]}  # fmt: skip
    destination = make_destination("team-mail", {**base, **table})
    assert isinstance(destination, Email)
    destination.retry = QUICK
    return destination


def test_email_is_a_destination_kind() -> None:
    assert DESTINATIONS["email"] is Email


def test_a_mail_arrives_with_its_subject_summary_report_and_chart(report: Path) -> None:
    chart = png()
    alert = Alert("readers-drop", "阅读人数比上周下降 40%")
    with smtp_server() as server:
        destination = email(server.port, cc=["boss@example.com"], subject="[wxframe]")
        destination.send(message(report, chart=chart, alerts=[alert]))
        destination.send(message(report, chart=chart, alerts=[alert]))  # a resend
    first, again = server.recorder.received
    assert first.mail_from == "wxframe@example.com"
    assert first.rcpt_tos == ["team@example.com", "boss@example.com"]
    mail = first.parsed()
    assert mail["Subject"] == "[wxframe] 公众号周报: wx5im0000000000001, 2026-11-30..2026-12-06"
    assert b"=?utf-8?" in first.content.split(b"\r\n\r\n")[0]  # encoded, not raw UTF-8
    assert mail["From"].addresses[0].display_name == "周报"
    assert mail["Cc"] == "boss@example.com"
    assert mail["Date"].datetime is not None
    # the same Message-ID each time this period goes to this destination: a resend is
    # recognisable; another period or destination has its own
    assert mail["Message-ID"] == again.parsed()["Message-ID"]
    assert mail["Message-ID"] == destination.message_id(message())
    other = Message("wx5im0000000000001", date(2026, 12, 7), date(2026, 12, 13), title="x")
    assert destination.message_id(other) != mail["Message-ID"]
    assert email(1, to=["a@example.com"]).message_id(message()) == mail["Message-ID"]
    table = {"type": "email", "host": "localhost", "security": "none",
             "from": "wxframe@example.com", "to": "a@example.com"}  # fmt: skip
    renamed = make_destination("other", table)
    assert isinstance(renamed, Email) and renamed.message_id(message()) != mail["Message-ID"]

    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert "阅读人数: 562,599 (-17.3%)" in text.get_content()
    assert "! 阅读人数比上周下降 40%" in text.get_content()
    body = html.get_content()
    assert "<th align=left>阅读人数</th><td align=right>562,599</td>" in body
    assert "<li>阅读人数比上周下降 40%</li>" in body
    assert "report-wx5im0000000000001-2026-11-30..2026-12-06.html" in body

    attachments = list(mail.iter_attachments())
    files = {part.get_filename(): part for part in attachments}
    sent = files["report-wx5im0000000000001-2026-11-30..2026-12-06.html"]
    assert sent.get_content_type() == "text/html"
    assert sent.get_param("charset") == "utf-8"
    assert sent.get_payload(decode=True) == report.read_bytes()
    images = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1
    assert images[0].get_payload(decode=True) == chart
    assert f'src="cid:{images[0]["Content-ID"][1:-1]}"' in body  # shown inline


def test_a_mail_without_report_or_chart_is_the_summary_alone() -> None:
    with smtp_server() as server:
        email(server.port).send(message(title="Weekly report", lang="en"))
    mail = server.recorder.received[0].parsed()
    assert mail["Subject"] == "Weekly report: wx5im0000000000001, 2026-11-30..2026-12-06"
    assert list(mail.iter_attachments()) == []
    assert not any(part.get_content_maintype() == "image" for part in mail.walk())


def test_spaces_of_a_long_chinese_subject_survive_its_folding() -> None:
    # the standard folding broke the line at these two spaces and a reader dropped them
    title = "公众号数据周报公众号数据周报  第49周"
    with smtp_server() as server:
        email(server.port).send(message(title=title))
    subject = server.recorder.received[0].parsed()["Subject"]
    assert subject == f"{title}: wx5im0000000000001, 2026-11-30..2026-12-06"


def test_a_refused_recipient_is_named_and_the_others_get_the_mail() -> None:
    recorder = Recorder(recipients={"gone@example.com": "550 5.1.1 no such user"})
    with smtp_server(recorder) as server, pytest.raises(DeliveryError) as caught:
        email(server.port, to=["team@example.com", "gone@example.com"]).send(message())
    assert "refused some recipients (gone@example.com: 550)" in str(caught.value)
    assert not caught.value.transient  # a retry would send the others a second mail
    assert [r.rcpt_tos for r in recorder.received] == [["team@example.com"]]


def test_recipients_deferred_are_retried_and_refused_are_not() -> None:
    recorder = Recorder(recipients={"team@example.com": "450 4.2.1 mailbox busy"})
    with smtp_server(recorder) as server, pytest.raises(DeliveryError) as caught:
        email(server.port).send(message())
    assert caught.value.transient and "deferred every recipient" in str(caught.value)
    recorder = Recorder(recipients={"team@example.com": "550 5.1.1 no such user"})
    with smtp_server(recorder) as server, pytest.raises(DeliveryError) as caught:
        email(server.port).send(message())
    assert not caught.value.transient
    assert "refused every recipient (team@example.com: 550 5.1.1 no such user)" in str(caught.value)


def test_a_login_takes_the_password_from_the_variable_the_config_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEAM_SMTP_PASSWORD", PASSWORD)
    with smtp_server(logins=Logins({"robot@example.com": PASSWORD})) as server:
        destination = email(server.port, user="robot@example.com",
                            password_env="TEAM_SMTP_PASSWORD")  # fmt: skip
        destination.send(message())
    assert server.recorder.received[0].login == "robot@example.com"
    assert "TEAM_SMTP_PASSWORD" in destination.describe()
    assert PASSWORD not in destination.describe() + repr(destination)


def test_a_wrong_password_is_refused_for_good_and_never_shown(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "not-the-Pa55-word"
    monkeypatch.setenv("TEAM_SMTP_PASSWORD", wrong)
    logins = Logins({"robot@example.com": PASSWORD})
    with smtp_server(logins=logins) as server, caplog.at_level(logging.DEBUG):
        destination = email(server.port, user="robot@example.com",
                            password_env="TEAM_SMTP_PASSWORD")  # fmt: skip
        with pytest.raises(DeliveryError) as caught:
            destination.send(message())
    error = caught.value
    assert not error.transient and error.exit_status == 2
    # smtplib tries PLAIN then LOGIN, once each: not retried, the same password would
    # fail again (retries would make it 8)
    assert logins.refused == 2
    assert server.recorder.received == []
    assert "refused the login of robot@example.com" in str(error)
    assert "TEAM_SMTP_PASSWORD" in str(error)
    for shown in (str(error), repr(error), destination.describe(), repr(destination),
                  caplog.text):  # fmt: skip
        assert wrong not in shown


def test_a_server_busy_twice_gets_the_mail_once(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder(replies=["451 4.3.0 busy, try later", "451 4.3.0 busy, try later"])
    with smtp_server(recorder) as server, caplog.at_level(logging.WARNING, "wxframe"):
        email(server.port).send(message())
    assert recorder.attempts == 3
    assert len(recorder.received) == 1
    assert caplog.text.count("451 4.3.0 busy") == 2


def test_a_server_busy_for_longer_than_the_retries_is_transient() -> None:
    recorder = Recorder(replies=["451 4.3.0 busy"] * 10)
    with (
        smtp_server(recorder) as server,
        pytest.raises(DeliveryError, match=r"451 4.3.0 busy.*tried 4 time") as caught,
    ):
        email(server.port).send(message())
    assert caught.value.transient and caught.value.exit_status == 3
    assert recorder.attempts == QUICK.max_retries + 1


def test_a_refused_mail_is_not_retried() -> None:
    recorder = Recorder(replies=["554 5.7.1 message rejected as spam"])
    with (
        smtp_server(recorder) as server,
        pytest.raises(DeliveryError, match=r"refused the mail: 554 5.7.1") as caught,
    ):
        email(server.port).send(message())
    assert not caught.value.transient
    assert recorder.attempts == 1 and recorder.received == []


def test_no_server_listening_is_transient_after_the_retries_quickly() -> None:
    destination = email(free_port())
    start = time.monotonic()
    with pytest.raises(DeliveryError, match=r"cannot talk to 127.0.0.1.*tried 4 time") as caught:
        destination.send(message())
    assert caught.value.transient and caught.value.exit_status == 3
    assert time.monotonic() - start < 2


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # takes the connection (backlog), says nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        destination = email(silent.getsockname()[1], timeout=0.2)
        destination.retry = RetryPolicy(max_retries=1, backoff=0.0)
        start = time.monotonic()
        with pytest.raises(DeliveryError, match=r"did not answer within 0.2 s") as caught:
            destination.send(message())
    assert caught.value.transient
    assert time.monotonic() - start < 2


def test_a_mail_over_max_bytes_is_refused_before_it_is_sent(report: Path) -> None:
    with (
        smtp_server() as server,
        pytest.raises(DeliveryError, match=r"over max_bytes=2,000.*give its link") as caught,
    ):
        email(server.port, max_bytes=2000).send(message(report, chart=png(200, 200)))
    assert not caught.value.transient
    assert server.recorder.attempts == 0


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("cert"))


def test_starttls_encrypts_before_the_login(
    cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAM_SMTP_PASSWORD", PASSWORD)
    logins = Logins({"robot": PASSWORD})
    # the server takes AUTH only after STARTTLS: a login in clear would be refused
    with smtp_server(logins=logins, tls="starttls", cert=cert) as server:
        email(server.port, security="starttls", user="robot", password_env="TEAM_SMTP_PASSWORD",
              ca_file=str(cert[0])).send(message())  # fmt: skip
    (received,) = server.recorder.received
    assert received.tls and received.login == "robot"


def test_ssl_from_the_first_byte(cert: tuple[Path, Path]) -> None:
    with smtp_server(tls="ssl", cert=cert) as server:
        email(server.port, security="ssl", ca_file=str(cert[0])).send(message())
    assert server.recorder.received[0].tls


def test_an_untrusted_certificate_is_refused_for_good(cert: tuple[Path, Path]) -> None:
    with (
        smtp_server(tls="ssl", cert=cert) as server,
        pytest.raises(DeliveryError, match=r"certificate is not trusted.*ca_file") as caught,
    ):
        email(server.port, security="ssl").send(message())
    assert not caught.value.transient
    assert server.recorder.received == []


def test_starttls_to_a_server_without_it_says_what_to_try() -> None:
    with smtp_server() as server, pytest.raises(DeliveryError, match=r'STARTTLS.*security = "ssl"'):
        email(server.port, security="starttls").send(message())


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"host": "smtp.example.com", "security": "none"}, "would cross the network unencrypted"),
        ({"host": "10.0.0.5", "security": "none"}, 'security = "none" to 10.0.0.5'),
        ({"security": "tls"}, "security='tls'; allowed: starttls, ssl, none"),
        ({"port": 0}, "port=0; allowed"),
        ({"user": "robot"}, "password_env names the environment variable"),
        ({"user": "robot", "password_env": "NOT_SET_ANYWHERE"}, "NOT_SET_ANYWHERE"),
        ({"password_env": "TEAM_SMTP_PASSWORD"}, "password_env is given without user"),
        ({"to": []}, "to is empty"),
        ({"to": ["team"]}, "to holds 'team', not an address"),
        ({"to": ["a@example.com\r\nBcc: x@evil.com"]}, "not an address"),
        ({"from": None}, "from is missing"),
        ({"cc": "x"}, "cc holds 'x', not an address"),
        ({"subject": "a\nBcc: x@evil.com"}, "allowed: one line"),
        ({"max_bytes": -1}, "max_bytes=-1"),
        ({"host": "smtp.example.com:25"}, "the port goes in port"),
        ({"sender": "x@example.com"}, "unknown key(s) sender"),
    ],
)
def test_a_config_is_checked_before_anything_is_sent(table: dict[str, Any], says: str) -> None:
    base = {"type": "email", "host": "localhost", "from": "w@example.com", "to": ["t@example.com"]}
    config = {k: v for k, v in {**base, **table}.items() if v is not None}
    with pytest.raises(ConfigurationError, match=_literal(says)):
        make_destination("team-mail", config)


def test_plain_smtp_is_allowed_to_this_machine_only() -> None:
    for host in ("localhost", "127.0.0.1", "::1", "127.0.0.2"):
        config = {"type": "email", "host": host, "security": "none", "from": "w@example.com",
                  "to": ["t@example.com"]}  # fmt: skip
        destination = make_destination("local", config)
        assert isinstance(destination, Email) and destination.port == 25
    ports = {s: make_destination("x", {**config, "security": s}) for s in ("starttls", "ssl")}
    assert {s: getattr(d, "port", None) for s, d in ports.items()} == {"starttls": 587, "ssl": 465}


def test_a_password_that_a_login_cannot_carry_is_refused_without_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEAM_SMTP_PASSWORD", "密码-secret")
    with pytest.raises(ConfigurationError, match=r"TEAM_SMTP_PASSWORD.*ASCII") as caught:
        email(1, host="localhost", user="robot", password_env="TEAM_SMTP_PASSWORD")
    assert "密码-secret" not in str(caught.value)


def _literal(text: str) -> str:
    return re.escape(text)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[Any]:
    with smtp_server() as server:
        yield server


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=st.text(min_size=1, max_size=120), prefix=st.text(max_size=20))
def test_any_subject_arrives_as_it_was_written(shared_server: Any, title: str, prefix: str) -> None:
    prefix = "".join(c for c in prefix if unicodedata.category(c) not in ("Cc", "Zl", "Zp"))
    recorder = shared_server.recorder
    recorder.received.clear()
    sent = message(title=title)
    email(shared_server.port, subject=prefix).send(sent)
    (received,) = recorder.received
    # a line break would start a header of its own: control characters become spaces
    wanted = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
                     for c in f"{prefix} {sent.subject}").strip()  # fmt: skip
    # the parser keeps the fold after "Subject:" of a long first word as a leading space
    assert received.parsed()["Subject"].lstrip() == wanted
    header = received.content.split(b"\r\n\r\n")[0]
    assert header.isascii()  # encoded words, never raw bytes, whatever the subject
    assert all(len(line) <= 78 for line in header.split(b"\r\n"))
