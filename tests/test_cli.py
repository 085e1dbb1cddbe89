"""The command line: exit codes and one clear line on a refusal, arguments
checked before any work, the sync, import and simulate commands."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import TODAY, run_wxframe
from wxframe import (
    CURRENT_ENDPOINTS,
    ENDPOINTS,
    OFFLINE_ENDPOINTS,
)
from wxframe.datasets import (
    open_demo_store,
)
from wxframe.simulator import serve


def base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("WX_")}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--store", "/no/such/dir", "--out", "x.html"], "no wxframe store at /no/such/dir"),
        (["--store", "{demo}", "--out", "x.txt"], "must be an .html file"),
        (["--store", "{demo}", "--account", "wxnope", "--out", "x.html"], "not in the store"),
        (
            ["--store", "{demo}", "--begin=2024-05-10", "--end=2024-05-01", "--out=o.html"],
            "is after end",
        ),
        (["--store", "{demo}", "--begin", "May 1", "--out", "x.html"], "is not a date"),
    ],
)
def test_wxframe_report_refuses_bad_arguments_before_running(
    tmp_path: Path, args: list[str], message: str
) -> None:
    demo = str(open_demo_store().root)
    run = run_wxframe("report", *[a.replace("{demo}", demo) for a in args], cwd=tmp_path)
    assert run.returncode == 2
    assert message in run.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_cli_sync_exits_non_zero_with_the_message_on_a_quota_stop(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY, daily_quota=3) as s:
        env = {"WX_APPID": s.appid, "WX_APPSECRET": s.secret, "WX_API_BASE": s.url}
        run = subprocess.run(
            [sys.executable, "-m", "wxframe", "sync", "--store", str(tmp_path), "--quiet",
             "--begin", "2024-05-01", "--end", "2024-05-10", "--family", "offline"],
            capture_output=True, text=True, env=env | base_env(), timeout=120,
        )  # fmt: skip
    assert run.returncode == 3
    assert "45009" in run.stderr and "remaining" in run.stderr
    assert s.secret not in run.stderr + run.stdout


@pytest.mark.slow
def test_cli_import_and_sync_family(tmp_path: Path) -> None:
    import subprocess
    import sys

    with serve(seed=0, today="2025-06-01") as sim:
        sim.write_archive("getusershare", date(2025, 5, 1), date(2025, 5, 31),
                          tmp_path / "share.jsonl")  # fmt: skip
    cmd = [sys.executable, "-m", "wxframe", "import", "--store", str(tmp_path / "s"),
           "--endpoint", "getusershare", "--account", "wx5im0000000000001",
           str(tmp_path / "share.jsonl")]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "31 day(s) written" in run.stdout
    again = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert "0 day(s) written, 31 day(s) already held" in again.stdout
    bad = subprocess.run([*cmd[:-1], str(tmp_path / "nope.json")], capture_output=True,
                         text=True, check=False)  # fmt: skip
    assert bad.returncode == 2 and "no such file" in bad.stderr and "Traceback" not in bad.stderr
    assert set(OFFLINE_ENDPOINTS) | set(CURRENT_ENDPOINTS) == set(ENDPOINTS)


def test_simulate_cli_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "wxframe", "simulate", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--latency-ms" in out and "--today" in out and "--seed" in out
