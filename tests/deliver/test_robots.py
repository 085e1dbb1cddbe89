"""The group robots (WeCom, DingTalk, Feishu) against robots on loopback that check what
each platform checks (tests/deliver/robots.py): what arrives, signatures, sizes, retries,
the rate each platform allows, and that no key, token or secret is ever in an error."""

from __future__ import annotations

import logging
import struct
import time
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.deliver.robots import RobotServer, serve, stop
from wxframe import RetryPolicy
from wxframe.deliver import (
    Alert,
    DingTalk,
    Feishu,
    Message,
    Pacer,
    RobotDestination,
    WeCom,
    make_destination,
)
from wxframe.errors import ConfigurationError, DeliveryError

KEY = "693a91f6-7a2c-4bc4-97a0-0ec2sifa5aaa"
TOKEN = "b0c7e1d2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0"
HOOK = "3f1c2e4d-5b6a-4c7d-8e9f-0a1b2c3d4e5f"
SECRET = "SEC4f0e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0"
FAST_RETRY = RetryPolicy(max_retries=2, backoff=0, max_backoff=0, rate_limit_wait=0)
#: A pacer that never waits, for tests that are not about the rate.
UNPACED = Pacer([(10**6, 1.0)])


def png(width: int = 4, height: int = 3) -> bytes:
    """A real (tiny, grey) PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def message(**kw: object) -> Message:
    fields: dict[str, object] = {
        "account": "wx5im0000000000001",
        "begin": date(2026, 11, 30),
        "end": date(2026, 12, 6),
        "title": "Weekly report",
        "headline": [("readers", "562,599", "-17.3%"), ("followers", "1,204,880", "+0.4%")],
    }
    return Message(**{**fields, **kw})  # type: ignore[arg-type]


@pytest.fixture
def robots() -> Iterator[RobotServer]:
    server = RobotServer()
    running = serve(server)
    yield server
    stop(running)


def wecom(robots: RobotServer, key: str = KEY, **kw: object) -> WeCom:
    robots.wecom(key)
    options = {"retry": FAST_RETRY, "pacer": UNPACED, **kw}
    return WeCom("team", key, key_env="WECOM_KEY", base_url=robots.url, **options)  # type: ignore[arg-type]


def dingtalk(
    robots: RobotServer, secret: str = SECRET, *, real: str = SECRET, **kw: object
) -> DingTalk:
    """A DingTalk destination signing with ``secret`` for a robot whose secret is ``real``."""
    url = robots.dingtalk(TOKEN, real)
    options = {"retry": FAST_RETRY, "pacer": UNPACED, **kw}
    return DingTalk(
        "ops", url, secret=secret, webhook_env="DT_URL", secret_env="DT_SECRET", **options
    )  # type: ignore[arg-type]


def feishu(
    robots: RobotServer, secret: str = SECRET, *, real: str = SECRET, **kw: object
) -> Feishu:
    url = robots.feishu(HOOK, real)
    options = {"retry": FAST_RETRY, "pacer": UNPACED, **kw}
    return Feishu(
        "lark", url, secret=secret, webhook_env="FS_URL", secret_env="FS_SECRET", **options
    )  # type: ignore[arg-type]


MAKERS = {"wecom": wecom, "dingtalk": dingtalk, "feishu": feishu}
RATE_CODES = {"wecom": 45009, "dingtalk": 130101, "feishu": 11232}


def assert_no_secret(text: str) -> None:
    for secret in (KEY, TOKEN, HOOK, SECRET):
        assert secret not in text and secret[:12] not in text, text


# ------------------------------------------------------------------------ WeCom
def test_wecom_sends_the_summary_the_chart_and_the_report_byte_for_byte(
    robots: RobotServer, tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    report.write_bytes("<html><body>阅读 562,599</body></html>\n".encode() * 300)
    chart = png(64, 48)
    sent = message(report=report, chart=chart, alerts=[Alert("readers-drop", "readers fell 41%")])
    wecom(robots, mentions=["zhangsan"]).send(sent)

    kinds = [r.body["msgtype"] for r in robots.of("wecom")]
    assert kinds == ["markdown", "image", "file"]
    markdown, image, file = robots.of("wecom")
    assert markdown.body["markdown"]["content"] == sent.markdown() + "\n\n<@zhangsan>"
    assert image.file == chart  # the server checked the md5 of the decoded bytes
    assert file.file == report.read_bytes()
    assert file.filename == "wx5im0000000000001_2026-11-30_2026-12-06.html"


def test_wecom_markdown_fits_4096_bytes_and_says_what_was_left_out(
    robots: RobotServer, tmp_path: Path
) -> None:
    huge = [(f"指标{i} " + "阅读" * 40, f"{i:,}", "+1.0%") for i in range(400)]
    oversize = png() + b"\x00" * (2 * 1024 * 1024)  # a PNG over 2 MB
    tiny = tmp_path / "report.html"
    tiny.write_bytes(b"<a>")  # under WeCom's 5 B
    wecom(robots).send(message(headline=huge, chart=oversize, report=tiny, lang="zh"))

    (summary,) = robots.of("wecom")  # neither the image nor the file was sent
    content = summary.body["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert content.startswith("**Weekly report** `wx5im0000000000001` 2026-11-30..2026-12-06")
    assert "…" in content
    assert "> 图表 2.0 MB，超过企业微信的 2 MB 上限，未发送" in content
    assert "> 报告 3 B，超出企业微信文件 5 B 至 20 MB 的范围，未发送" in content


def test_a_media_id_is_valid_only_for_the_robot_that_uploaded_it(robots: RobotServer) -> None:
    # the fake platform's check, which the WeCom destination relies on sending its own
    robots.wecom("robot-a")
    robots.wecom("robot-b")
    upload = f"{robots.url}/cgi-bin/webhook/upload_media?key=robot-a&type=file"
    media = requests.post(upload, files={"media": ("r.html", b"<html></html>")}, timeout=5).json()
    send = f"{robots.url}/cgi-bin/webhook/send?key=%s"
    body = {"msgtype": "file", "file": {"media_id": media["media_id"]}}
    assert requests.post(send % "robot-b", json=body, timeout=5).json()["errcode"] == 40007
    assert requests.post(send % "robot-a", json=body, timeout=5).json()["errcode"] == 0


def test_a_wrong_wecom_key_is_a_permanent_error_naming_93000_not_the_key(
    robots: RobotServer,
) -> None:
    destination = WeCom("team", KEY, key_env="WECOM_KEY", base_url=robots.url, retry=FAST_RETRY)
    with pytest.raises(DeliveryError) as caught:
        destination.send(message())
    assert not caught.value.transient and caught.value.exit_status == 2
    assert "93000" in str(caught.value) and "robot settings" in str(caught.value)
    assert_no_secret(str(caught.value))
    assert robots.requests == 1  # not retried


# --------------------------------------------------------------------- DingTalk
def test_dingtalk_sends_a_signed_markdown_with_the_published_link(robots: RobotServer) -> None:
    link = "https://reports.example.com/{account}/{begin}..{end}.html"
    dingtalk(robots, link=link).send(message())
    (received,) = robots.of("dingtalk")
    text = received.body["markdown"]["text"]
    assert received.body["markdown"]["title"] == message().subject
    assert text.endswith(
        "[Full report](https://reports.example.com/wx5im0000000000001/2026-11-30..2026-12-06.html)"
    )
    assert "- readers: **562,599** -17.3%" in text


@pytest.mark.parametrize(
    ("kind", "code"), [("dingtalk", "310000"), ("feishu", "19021")], ids=["dingtalk", "feishu"]
)
def test_a_wrong_signing_secret_is_a_permanent_error_naming_the_code(
    robots: RobotServer, kind: str, code: str
) -> None:
    destination = MAKERS[kind](robots, "SECwrong" + SECRET[8:])
    with pytest.raises(DeliveryError) as caught:
        destination.send(message())
    assert not caught.value.transient and caught.value.exit_status == 2
    assert code in str(caught.value) and "secret" in str(caught.value)
    assert_no_secret(str(caught.value))
    assert robots.requests == 1 and not robots.received


@pytest.mark.parametrize("kind", ["dingtalk", "feishu"])
def test_a_clock_within_the_hour_signs_and_one_two_hours_off_does_not(
    robots: RobotServer, kind: str
) -> None:
    MAKERS[kind](robots, clock=lambda: time.time() - 1800).send(message())
    assert len(robots.of(kind)) == 1
    with pytest.raises(DeliveryError, match=r"19021|310000"):
        MAKERS[kind](robots, clock=lambda: time.time() + 7200).send(message())


# ----------------------------------------------------------------------- Feishu
def test_feishu_sends_a_signed_post_with_the_link_and_the_alerts(robots: RobotServer) -> None:
    sent = message(alerts=[Alert("sync", "sync did not finish")], lang="zh")
    feishu(robots, link="https://reports.example.com/{account}").send(sent)
    (received,) = robots.of("feishu")
    post = received.body["content"]["post"]["zh_cn"]
    assert post["title"] == sent.subject
    lines = [part[0]["text"] for part in post["content"]]
    assert lines[:3] == ["告警:", "! sync did not finish", "readers: 562,599 (-17.3%)"]
    assert post["content"][-1] == [
        {"tag": "a", "text": "完整报告", "href": "https://reports.example.com/wx5im0000000000001"}
    ]


def test_feishu_text_within_20_kb_for_a_huge_headline(robots: RobotServer) -> None:
    huge = [("阅读" * 30, f"{i:,}", '"quoted" \\ +1%') for i in range(400)]
    feishu(robots, msg_type="text").send(message(headline=huge))
    feishu(robots).send(message(headline=huge))
    text, post = robots.of("feishu")
    assert text.body["content"]["text"].endswith("…")
    assert post.body["content"]["post"]["en_us"]["content"][-1] == [{"tag": "text", "text": "…"}]


# ------------------------------------------------------------ retries, all kinds
@pytest.mark.parametrize("kind", list(MAKERS))
def test_500_twice_then_200_delivers_exactly_one_message(robots: RobotServer, kind: str) -> None:
    robots.fail(2)
    MAKERS[kind](robots).send(message())
    assert len(robots.received) == 1 and robots.requests == 3


@pytest.mark.parametrize("kind", list(MAKERS))
def test_always_500_is_a_transient_error_after_the_retries(robots: RobotServer, kind: str) -> None:
    robots.fail(1000)
    with pytest.raises(DeliveryError) as caught:
        MAKERS[kind](robots).send(message())
    assert caught.value.transient and caught.value.exit_status == 3
    assert "HTTP 500" in str(caught.value) and "after 2 retries" in str(caught.value)
    assert robots.requests == 3 and not robots.received
    assert_no_secret(str(caught.value))


@pytest.mark.parametrize("kind", list(MAKERS))
def test_the_platforms_rate_limit_code_is_retried(robots: RobotServer, kind: str) -> None:
    robots.fail(1, errcode=RATE_CODES[kind])
    MAKERS[kind](robots).send(message())
    assert len(robots.received) == 1 and robots.requests == 2


def test_a_redirect_is_not_followed(robots: RobotServer) -> None:
    robots.fail(1, status=302)
    with pytest.raises(DeliveryError, match="HTTP 302") as caught:
        wecom(robots).send(message())
    assert not caught.value.transient and robots.requests == 1


def test_a_robot_nobody_answers_is_transient_and_names_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = RobotServer()
    running = serve(server)
    url = server.url
    stop(running)  # the port is closed now
    caplog.set_level(logging.DEBUG)
    destination = WeCom("team", KEY, key_env="WECOM_KEY", base_url=url, retry=FAST_RETRY)
    with pytest.raises(DeliveryError) as caught:
        destination.send(message())
    assert caught.value.transient and "connection failed" in str(caught.value)
    assert_no_secret(str(caught.value) + caplog.text)


def test_debug_logs_of_a_delivery_hold_no_key_token_or_secret(
    robots: RobotServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # urllib3 logs each request's path and query at DEBUG
    robots.fail(1)
    for kind in MAKERS:
        MAKERS[kind](robots).send(message(chart=png()))
    assert "POST /cgi-bin/webhook/send?key=*** " in caplog.text and "retry 1/2" in caplog.text
    assert "POST /open-apis/bot/v2/hook/*** " in caplog.text
    assert_no_secret(caplog.text)


# ------------------------------------------------------------------------ rates
@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_a_21st_message_in_the_window_waits_instead_of_being_refused(kind: str) -> None:
    robots = RobotServer(minute=0.4)  # "a minute" of 0.4 s at the robot and the pacer
    running = serve(robots)
    try:
        # the pacer's window a little longer, as the destinations' own: a message reaches
        # the robot a moment after it leaves
        pacer = Pacer([(20, 0.45)])
        destination = MAKERS[kind](robots, pacer=pacer, retry=RetryPolicy(max_retries=0))
        for _ in range(21):
            destination.send(message())
    finally:
        stop(running)
    times = [r.at for r in robots.received]
    assert len(times) == 21 and robots.requests == 21  # none refused
    assert times[20] - times[0] >= 0.4


@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_the_robot_refuses_a_21st_message_that_is_not_paced(robots: RobotServer, kind: str) -> None:
    destination = MAKERS[kind](robots, retry=RetryPolicy(max_retries=0))
    for _ in range(20):
        destination.send(message())
    with pytest.raises(DeliveryError, match=str(RATE_CODES[kind])) as caught:
        destination.send(message())
    assert caught.value.transient


def test_feishu_keeps_five_a_second() -> None:
    robots = RobotServer(second=0.3)
    running = serve(robots)
    try:
        pacer = Pacer([(100, 60.0), (5, 0.35)])
        destination = feishu(robots, pacer=pacer, retry=RetryPolicy(max_retries=0))
        for _ in range(6):
            destination.send(message())
    finally:
        stop(running)
    times = [r.at for r in robots.received]
    assert len(times) == 6 and times[5] - times[0] >= 0.3


def test_the_pacer_holds_the_21st_send_until_the_minute_has_passed() -> None:
    now = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer([(20, 60.0)], clock=lambda: now[0], sleep=sleep)
    for _ in range(20):
        assert pacer.wait() == 0.0
        now[0] += 1.0  # one a second: the 21st comes 20 s after the first
    assert pacer.wait() == pytest.approx(40.0)  # until the first is a minute old
    assert slept == [pytest.approx(40.0)]
    assert pacer.wait() == pytest.approx(1.0)  # the second is a minute old one second later


# ---------------------------------------------------------------- config, secrets
def test_config_names_variables_and_describe_and_repr_hold_no_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WECOM_KEY", KEY)
    monkeypatch.setenv("DT_URL", f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}")
    monkeypatch.setenv("FS_URL", f"https://open.feishu.cn/open-apis/bot/v2/hook/{HOOK}")
    monkeypatch.setenv("ROBOT_SECRET", SECRET)
    tables = {
        "w": {"type": "wecom", "key_env": "WECOM_KEY", "mentions": ["zhangsan"]},
        "d": {
            "type": "dingtalk",
            "webhook_env": "DT_URL",
            "secret_env": "ROBOT_SECRET",
            "link": "https://r.example.com/{account}",
        },
        "f": {"type": "feishu", "webhook_env": "FS_URL", "secret_env": "ROBOT_SECRET"},
    }
    shown = []
    for name, table in tables.items():
        destination = make_destination(name, table)
        assert isinstance(destination, RobotDestination)
        shown += [destination.describe(), repr(destination), repr(destination.robot)]
    text = "\n".join(shown)
    assert_no_secret(text)
    assert "$WECOM_KEY" in text and "signed with $ROBOT_SECRET" in text


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"type": "wecom", "key_env": KEY}, "key_env names the environment variable"),
        ({"type": "wecom", "key_env": "UNSET_WECOM_KEY"}, "UNSET_WECOM_KEY"),
        ({"type": "wecom", "key_env": "WECOM_KEY", "base_url": "http://example.com"}, "base_url"),
        ({"type": "wecom", "key_env": "WECOM_KEY", "mentions": "zhangsan"}, "mentions"),
        ({"type": "dingtalk", "webhook_env": "NOT_A_URL"}, "variable NOT_A_URL must hold"),
        ({"type": "feishu", "webhook_env": "FS_URL", "link": "https://r/{appid}"}, "link="),
        ({"type": "feishu", "webhook_env": "FS_URL", "msg_type": "card"}, "msg_type"),
    ],
)
def test_a_config_mistake_is_named_without_the_secret(
    monkeypatch: pytest.MonkeyPatch, table: dict[str, object], says: str
) -> None:
    monkeypatch.setenv("WECOM_KEY", KEY)
    monkeypatch.setenv("NOT_A_URL", TOKEN)
    monkeypatch.setenv("FS_URL", f"https://open.feishu.cn/open-apis/bot/v2/hook/{HOOK}")
    with pytest.raises(ConfigurationError, match=says) as caught:
        make_destination("x", table)
    assert_no_secret(str(caught.value))


# ------------------------------------------------------------- sizes, generated
rows = st.lists(
    st.tuples(st.text(min_size=1, max_size=300), st.text(max_size=40), st.text(max_size=20)),
    max_size=60,
)


@pytest.fixture(scope="module")
def unlimited_robots() -> Iterator[RobotServer]:
    server = RobotServer(minute=0.0, second=0.0)  # no rate limit: the sizes are the point
    running = serve(server)
    yield server
    stop(running)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headline=rows, title=st.text(min_size=1, max_size=200))
def test_any_headline_fits_each_platform_byte_limit(
    unlimited_robots: RobotServer, headline: list[tuple[str, str, str]], title: str
) -> None:
    robots = unlimited_robots
    robots.received.clear()
    sent = message(headline=headline, title=title)
    wecom(robots).send(sent)
    feishu(robots).send(sent)
    dingtalk(robots).send(sent)
    content = robots.of("wecom")[0].body["markdown"]["content"]
    assert len(content.encode()) <= 4096
    full = sent.markdown()
    assert content == full if len(full.encode()) <= 4096 else full.startswith(content[:-1])
    assert len(robots.of("feishu")) == 1 and len(robots.of("dingtalk")) == 1
