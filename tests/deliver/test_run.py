"""`wxframe run` end to end (issue 29): the simulator, a WeCom, a Feishu robot and an
SMTP server on loopback; a crash while one destination answers; secrets in no output."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deliver.robots import RobotServer, serve, stop
from tests.deliver.smtp import Logins, smtp_server
from wxframe.simulator import serve as simulate

KEY = "wecom-key-0123456789"
FEISHU_SECRET = "feishu-signing-secret"
SMTP_PASSWORD = "smtp-password-9876"


@contextlib.contextmanager
def robots() -> Iterator[RobotServer]:
    server = RobotServer()
    running = serve(server)
    try:
        yield server
    finally:
        stop(running)


def config(tmp: Path, sim: Any, robot: RobotServer, smtp_port: int) -> Path:
    (tmp / "share").mkdir()
    text = f"""store = "store"
[[account]]
appid = "{sim.appid}"
secret_env = "SHOP_SECRET"
base_url = "{sim.url}"
[sync]
endpoints = ["getbizsummary", "getusersummary", "getusercumulate"]
[report]
period = "last-week"
lang = "zh"
[[destination]]
name = "share"
type = "folder"
path = "share"
[[destination]]
name = "team"
type = "wecom"
key_env = "WECOM_KEY"
base_url = "{robot.url}"
[[destination]]
name = "lark"
type = "feishu"
webhook_env = "FEISHU_HOOK"
secret_env = "FEISHU_SECRET"
[[destination]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
user = "reports"
password_env = "SMTP_PASSWORD"
from = "reports@example.com"
to = ["team@example.com"]
[[alert]]
kind = "partial"
"""
    path = tmp / "wxframe.toml"
    path.write_text(text, encoding="utf-8")
    return path


def environment(sim: Any, robot: RobotServer) -> dict[str, str]:
    robot.wecom(KEY)
    hook = robot.feishu("lark-hook-token", FEISHU_SECRET)
    keep = {k: v for k, v in os.environ.items() if not k.startswith("WX_")}
    return keep | {"SHOP_SECRET": sim.secret, "WECOM_KEY": KEY, "FEISHU_HOOK": hook,
                   "FEISHU_SECRET": FEISHU_SECRET, "SMTP_PASSWORD": SMTP_PASSWORD}  # fmt: skip


def run(path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wxframe", "run", "--config", str(path), *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def secrets_in(texts: list[str], env: dict[str, str]) -> list[str]:
    secrets = [env["SHOP_SECRET"], KEY, FEISHU_SECRET, SMTP_PASSWORD, "lark-hook-token"]
    return [s for s in secrets for t in texts if s in t]


@pytest.mark.slow
def test_a_run_delivers_everywhere_once_resumes_after_a_kill_and_says_no_secret(
    tmp_path: Path,
) -> None:
    # The first run is killed while WeCom holds its first message unanswered: the
    # folder had it, WeCom's is unknown (never sent again on its own), Feishu and the
    # mail never started (sent by the next run); --resend sends it all; a last run
    # sends nothing. What arrived is checked as each platform checks it.
    logins = Logins({"reports": SMTP_PASSWORD})
    with (
        simulate(seed=0) as sim,
        robots() as robot,
        smtp_server(logins=logins) as smtp,
    ):
        path = config(tmp_path, sim, robot, smtp.port)
        env = environment(sim, robot)
        child: list[subprocess.Popen[str]] = []
        killed = threading.Event()
        handle = robot.handle

        def kill_at_wecom(path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
            if "/cgi-bin/webhook/" in path and not killed.is_set():
                killed.set()
                child[0].send_signal(signal.SIGKILL)  # before it gets an answer
                return 500, {"error": "killed"}
            return handle(path, headers, body)

        robot.handle = kill_at_wecom  # type: ignore[method-assign]
        child.append(subprocess.Popen(
            [sys.executable, "-m", "wxframe", "run", "--config", str(path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        ))  # fmt: skip
        killed_out, killed_err = child[0].communicate(timeout=300)
        assert killed.is_set() and child[0].returncode == -signal.SIGKILL
        assert not robot.received and not smtp.recorder.received
        again = run(path, env)
        assert "share: already sent" in again.stdout and "team: unknown" in again.stdout
        assert "lark: sent" in again.stdout and "mail: sent" in again.stdout
        assert again.returncode == 1  # someone must check WeCom, then --resend
        resent = run(path, env, "--resend")
        last = run(path, env)
    assert resent.returncode == 0 and last.returncode == 0
    assert last.stdout.count("already sent") == 4  # nothing sent twice for the period
    assert len(robot.of("feishu")) == 2 and len(smtp.recorder.received) == 2
    report = next((tmp_path / "store/_reports").rglob("*.html")).read_bytes()
    # WeCom (once, by --resend): the summary, the chart (md5 as the platform checks), the
    # report byte for byte
    assert [r.body["msgtype"] for r in robot.of("wecom")] == ["markdown", "image", "file"]
    image = robot.of("wecom")[1].body["image"]
    assert hashlib.md5(base64.b64decode(image["base64"])).hexdigest() == image["md5"]
    assert robot.of("wecom")[2].file == report
    summary = robot.of("wecom")[0].body["markdown"]["content"]
    assert "阅读人数" in summary and len(summary.encode()) <= 4096
    # the mail: the report attached, byte for byte
    mail = smtp.recorder.received[-1].parsed()
    attached = [p for p in mail.iter_attachments() if p.get_filename().endswith(".html")]
    assert attached[0].get_content().encode() == report
    # no secret in any output, the delivery log, the report, or the folder
    written = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()
               and p.suffix in (".jsonl", ".html", ".md", ".toml", ".json")]  # fmt: skip
    outputs = [killed_out, killed_err, *(r.stdout + r.stderr for r in (again, resent, last))]
    assert not secrets_in(outputs + written, env)
