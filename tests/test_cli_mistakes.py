"""Issue 27: what the command line says when left running for a team. Warnings as one
line, many accounts' failures each in their own row with their own variables, one
sentence per date mistake, the exit-code table the README gives, and no noise where no
one watches (a pipe that closes, a log file)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wxframe
from wxframe import InvalidDateError, Store
from wxframe.cli import EXIT_CODES, main
from wxframe.dates import BEIJING, check_range
from wxframe.simulator import serve

README = Path(__file__).resolve().parents[1] / "README.md"
TODAY = "2026-12-01"
ENDPOINTS = ["--endpoint", "getbizsummary", "--endpoint", "getusersummary"]


def wxframe_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``wxframe ARGS`` in this process: the exit status, stdout and stderr."""
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


# ------------------------------------------------------------------------ warnings
def test_the_cli_prints_a_warning_as_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A begin before the current family's first day clips it (RangeClippedWarning); a
    # month file gone from the store is fetched again (StoreDamagedWarning).
    store = str(tmp_path / "s")
    sync = ["sync", "--simulator", "--today", TODAY, "--store", store, "--quiet", *ENDPOINTS]
    status, _, err = wxframe_cli(capsys, *sync, "--begin", "2025-10-30", "--end", "2025-11-02")
    assert status == 0, err
    assert err.splitlines() == [
        "warning: begin=2025-10-30 is before some endpoints' first day; syncing "
        "getbizsummary from 2025-11-01"
    ]
    [month] = (tmp_path / "s").glob("getusersummary/*/month=2025-10/data*.parquet")
    month.unlink()
    status, _, err = wxframe_cli(capsys, *sync, "--begin", "2025-10-30", "--end", "2025-11-02")
    assert status == 0, err
    [line] = [line for line in err.splitlines() if "getusersummary" in line]
    assert line.startswith("warning: ") and "2025-10" in line
    assert all(line.startswith("warning: ") for line in err.splitlines())
    assert ".py:" not in err and "warn(" not in err
    # A Python user keeps the standard warnings: the CLI's display ends with the command.
    with pytest.warns(wxframe.RangeClippedWarning):
        Store(store).plan("2025-10-30", "2025-11-02", endpoints="getbizsummary")


# ------------------------------------------------------------------------ many accounts
def test_many_accounts_each_failure_in_its_own_row_the_others_go_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four accounts: one sound, one whose variable holds a wrong secret, one whose
    # variable is unset, one whose daily quota runs out. Each is said in its own row,
    # with its own variable; the sound one syncs; a fix to make is exit 2.
    with (
        serve(seed=0, today=TODAY) as good,
        serve(seed=1, today=TODAY) as bad,
        serve(seed=2, today=TODAY) as unset,
        serve(seed=3, today=TODAY, daily_quota=1) as quota,
    ):
        entries = [(good, "GOOD_SECRET"), (bad, "BAD_SECRET"), (unset, "UNSET_SECRET"),
                   (quota, "QUOTA_SECRET")]  # fmt: skip
        accounts = tmp_path / "accounts.toml"
        accounts.write_text("".join(
            f'[[account]]\nappid = "{s.appid}"\nsecret_env = "{var}"\nbase_url = "{s.url}"\n'
            for s, var in entries
        ))  # fmt: skip
        monkeypatch.setenv("GOOD_SECRET", good.secret)
        monkeypatch.setenv("BAD_SECRET", "not-the-secret")
        monkeypatch.delenv("UNSET_SECRET", raising=False)
        monkeypatch.setenv("QUOTA_SECRET", quota.secret)
        for name in ("WX_APPID", "WX_APPSECRET"):
            monkeypatch.delenv(name, raising=False)
        store = tmp_path / "store"
        args = ["sync", "--store", str(store), "--accounts", str(accounts), "--quiet",
                "--begin", "2026-11-01", "--end", "2026-11-20", *ENDPOINTS]  # fmt: skip
        status, out, err = wxframe_cli(capsys, *args)
    first, *lines = out.splitlines()
    assert first == f"creating a new store at {store}"
    rows = dict(line.split(maxsplit=1) for line in lines)
    assert list(rows) == [s.appid for s, _ in entries]
    assert rows[good.appid].startswith("synced: ")
    assert rows[bad.appid].startswith("access refused: ")
    assert f"the appid {bad.appid} and the secret in BAD_SECRET" in rows[bad.appid]
    assert rows[unset.appid] == (
        f"needs a fix: the variable UNSET_SECRET is not set (it holds the secret of {unset.appid})"
    )
    assert rows[quota.appid].startswith("stopped, run again later: ")
    assert "45009" in rows[quota.appid] and "kept " in rows[quota.appid]
    assert "WX_APPID" not in out + err and "WX_APPSECRET" not in out + err
    assert "Run the sync again" not in rows[bad.appid]
    assert all(len(row) < 400 for row in rows.values())
    assert err.strip() == (
        "wxframe sync: 3 of 4 account(s) not finished (see their rows); the others synced"
    )
    assert status == 4  # the account that most needs a person: its access is refused
    assert good.secret not in out + err and quota.secret not in out + err
    assert Store(store).accounts() == sorted([good.appid, quota.appid])


@pytest.mark.slow
def test_many_accounts_stopped_only_by_a_quota_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(seed=0, today=TODAY) as good, serve(seed=3, today=TODAY, daily_quota=1) as quota:
        accounts = tmp_path / "accounts.toml"
        accounts.write_text("".join(
            f'[[account]]\nappid = "{s.appid}"\nsecret_env = "S{n}"\nbase_url = "{s.url}"\n'
            for n, s in enumerate([good, quota])
        ))  # fmt: skip
        monkeypatch.setenv("S0", good.secret)
        monkeypatch.setenv("S1", quota.secret)
        status, out, _ = wxframe_cli(
            capsys, "sync", "--store", str(tmp_path / "s"), "--accounts", str(accounts),
            "--quiet", "--begin", "2026-11-01", "--end", "2026-11-20", *ENDPOINTS,
        )  # fmt: skip
    assert status == 3, out
    assert "run again later" in out


def test_a_wrong_secret_in_the_environment_names_its_variables(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(seed=0, today=TODAY) as sim:
        monkeypatch.setenv("WX_APPID", sim.appid)
        monkeypatch.setenv("WX_APPSECRET", "not-the-secret")
        monkeypatch.setenv("WX_API_BASE", sim.url)
        status, _, err = wxframe_cli(
            capsys, "sync", "--store", str(tmp_path / "s"), "--quiet", *ENDPOINTS
        )
    assert status == 4  # running it again as it is would fail the same way
    assert "check WX_APPID / WX_APPSECRET" in err
    assert "Fix that first" in err and "Run the sync again" not in err


def test_a_sync_of_only_switched_off_endpoints_is_not_up_to_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sync = ["sync", "--simulator", "--today", TODAY, "--store", str(tmp_path / "s"), "--quiet",
            "--begin", "2026-11-01"]  # fmt: skip
    status, _, err = wxframe_cli(capsys, *sync, "--endpoint", "getuserread")
    assert status == 5
    assert "switched getuserread off" in err and "sync getbizsummary instead" in err
    status, _, err = wxframe_cli(capsys, *sync, "--endpoint", "getusersummary")
    assert status == 0, err


# ------------------------------------------------------------------------ dates
NOON = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("begin", "end", "end_given", "sentence"),
    [
        ("2027-01-01", "2026-11-30", False, "begin=2027-01-01 is in the future in Beijing"),
        ("2026-12-01", "2026-11-30", False, "begin=2026-12-01 is today, not over yet"),
        ("2026-11-20", "2026-11-10", True, "begin=2026-11-20 is after end=2026-11-10"),
        ("2014-01-05", "2014-12-09", True, "begin=2014-01-05 is before the platform's first"),
        ("2026-11-01", "2026-12-05", True, "end=2026-12-05 is not yet over in Beijing"),
    ],
)
def test_each_date_mistake_has_its_own_sentence(
    begin: str, end: str, end_given: bool, sentence: str
) -> None:
    from datetime import datetime

    now = datetime(2026, 12, 1, 12, tzinfo=BEIJING)
    with pytest.raises(InvalidDateError) as caught:
        check_range(begin, end, now=now, end_given=end_given)
    assert str(caught.value).startswith(sentence)
    if not end_given:
        assert "end=" not in str(caught.value)  # no end was given: none is blamed


def test_a_begin_after_the_default_end_blames_no_end() -> None:
    from datetime import datetime

    early = datetime(2026, 12, 1, 7, 30, tzinfo=BEIJING)  # 11-30 is not complete yet
    with pytest.raises(InvalidDateError, match=r"after 2026-11-29, the last complete day"):
        check_range("2026-11-30", "2026-11-29", now=early, end_given=False)


@settings(max_examples=60, deadline=None)
@given(st.dates(date(2026, 12, 2), date(2100, 1, 1)))
def test_a_future_begin_is_never_called_after_an_end(begin: date) -> None:
    from datetime import datetime

    now = datetime(2026, 12, 1, 12, tzinfo=BEIJING)
    for end_given in (True, False):
        with pytest.raises(InvalidDateError, match=rf"begin={begin} is in the future"):
            check_range(begin, begin + timedelta(days=3), now=now, end_given=end_given)


def test_cli_sync_with_a_future_begin_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = wxframe_cli(
        capsys, "sync", "--simulator", "--today", TODAY, "--store", str(tmp_path / "s"),
        "--begin", "2027-01-01", "--quiet",
    )  # fmt: skip
    assert status == 2
    assert "begin=2027-01-01 is in the future" in err and "after end" not in err
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").rglob("*.parquet"))


# ------------------------------------------------------------------------ exit codes
def readme_exit_codes() -> list[tuple[int, str]]:
    """The README's exit-code table, as (code, meaning) rows."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Exit codes") :]
    rows = re.findall(r"^\| (\d+) \| (.+?) \|$", section, flags=re.MULTILINE)
    return [(int(code), meaning) for code, meaning in rows]


def test_the_readme_exit_code_table_is_the_clis() -> None:
    assert readme_exit_codes() == [(code, meaning) for code, meaning in EXIT_CODES]


def test_wxframe_help_shows_the_exit_codes() -> None:
    run = subprocess.run([sys.executable, "-m", "wxframe", "--help"], capture_output=True,
                         text=True, check=True)  # fmt: skip
    shown = " ".join(run.stdout[run.stdout.index("exit codes:") :].split())
    for code, meaning in EXIT_CODES:
        assert f"{code} {' '.join(meaning.split())}" in shown


def test_usage_mistakes_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:  # argparse's own refusal
        main(["sync", "--store"])
    assert caught.value.code == 2
    status, _, err = wxframe_cli(
        capsys, "sync", "--store", "x", "--begin", "2026-11-20", "--end", "2026-11-10",
        "--simulator", "--today", TODAY,
    )  # fmt: skip
    assert status == 2 and "is after end=2026-11-10" in err


# ------------------------------------------------------------------------ where no one watches
def test_a_closed_pipe_ends_quietly() -> None:
    # `wxframe labels | head -1`: the reader leaves after one line.
    with subprocess.Popen([sys.executable, "-m", "wxframe", "labels"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, bufsize=0) as proc:  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(10)
        proc.stdout.close()
        err = proc.stderr.read().decode()
        status = proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert status == 0


@pytest.mark.slow
def test_no_progress_bars_in_a_log(tmp_path: Path) -> None:
    # Without --quiet, into a file (as a scheduled job logs): no bar is redrawn there.
    log = tmp_path / "sync.log"
    with log.open("w") as f:
        run = subprocess.run(
            [sys.executable, "-m", "wxframe", "sync", "--simulator", "--today", TODAY,
             "--store", str(tmp_path / "s"), "--begin", "2026-11-01", "--end", "2026-11-20",
             "--endpoint", "getarticleread"],
            stdout=f, stderr=subprocess.STDOUT, check=False,
        )  # fmt: skip
    text = log.read_text()
    assert run.returncode == 0, text
    assert "\r" not in text and "call/s" not in text and "calls/s" not in text
    # a new store, what it syncs from, and what it did
    assert [line.split()[0] for line in text.splitlines()] == ["creating", "syncing", "synced"]
