"""Many accounts from a TOML file: secrets from the environment, accounts dealt
to processes, each synced as its own sync would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import wxframe
from tests.conftest import three_accounts
from wxframe import Store
from wxframe.accounts import Account, sync_accounts

BEGIN, END = "2026-11-01", "2026-11-30"


ENDPOINTS = ["getbizsummary", "getusersummary", "getusercumulate"]


@pytest.mark.slow
def test_wxframe_sync_accounts_reads_secrets_from_the_environment(tmp_path: Path) -> None:
    with three_accounts() as sims:
        accounts = tmp_path / "accounts.toml"
        accounts.write_text(
            "".join(
                f'[[account]]\nappid = "{s.appid}"\nsecret_env = "SECRET_{n}"\n'
                f'base_url = "{s.url}"\n'
                for n, s in enumerate(sims)
            )
        )
        env = {**os.environ} | {f"SECRET_{n}": s.secret for n, s in enumerate(sims)}
        args = [
            sys.executable,
            "-m",
            "wxframe",
            "sync",
            "--store",
            str(tmp_path / "store"),
            "--accounts",
            str(accounts),
            "--begin",
            BEGIN,
            "--end",
            END,
            "--quiet",
            *[f"--endpoint={e}" for e in ENDPOINTS],
        ]
        run = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
        assert run.returncode == 0, run.stderr
        first, *lines = run.stdout.splitlines()
        assert first.startswith("creating a new store at ")
        assert [line.split()[:2] for line in lines] == [[s.appid, "synced:"] for s in sims]
        assert not any(s.secret in run.stdout + run.stderr for s in sims)
        del env["SECRET_2"]
        missing = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
        assert missing.returncode == 2  # that account needs a fix; the others synced
        assert "SECRET_2 is not set" in missing.stdout and sims[2].secret not in missing.stdout
        assert "1 of 3 account(s) not finished" in missing.stderr
        accounts.write_text(f'[[account]]\nappid = "{sims[0].appid}"\nsecret = "x"\n')
        refused = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
        assert refused.returncode == 2 and "a secret in the file is refused" in refused.stderr
    assert set(Store(tmp_path / "store").accounts()) == {s.appid for s in sims}


@pytest.mark.slow
def test_accounts_dealt_to_processes_sync_as_each_accounts_own_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Worker processes (spawned: they import wxframe afresh and read the secrets from the
    # environment they inherit) each sync their share; one account without its secret
    # fails alone.
    with three_accounts() as sims:
        for n, sim in enumerate(sims[:2]):
            monkeypatch.setenv(f"WXF_TEST_SECRET_{n}", sim.secret)
        monkeypatch.delenv("WXF_TEST_SECRET_2", raising=False)
        accounts = [Account(s.appid, f"WXF_TEST_SECRET_{n}", base_url=s.url, max_workers=2)
                    for n, s in enumerate(sims)]  # fmt: skip
        store = Store(tmp_path / "processes")
        results = sync_accounts(store, accounts, BEGIN, END, endpoints=ENDPOINTS, processes=2)
        assert list(results) == [s.appid for s in sims]
        assert all(isinstance(results[s.appid], wxframe.SyncSummary) for s in sims[:2])
        assert isinstance(results[sims[2].appid], wxframe.ConfigurationError)
        assert "WXF_TEST_SECRET_2 is not set" in str(results[sims[2].appid])
        alone = Store(tmp_path / "alone")
        for sim in sims[:2]:
            alone.sync(sim.client(), BEGIN, END, endpoints=ENDPOINTS, progress=False)
    assert store.accounts() == alone.accounts() == sorted(s.appid for s in sims[:2])
    for name in ENDPOINTS:
        pd.testing.assert_frame_equal(store.read(name), alone.read(name), obj=name)
    with pytest.raises(wxframe.ConfigurationError, match="processes=0"):
        sync_accounts(store, accounts, BEGIN, END, processes=0)


SECRET = "0123456789abcdef0123456789abcdef"  # what an app secret looks like


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('account = ["wx5im0000000000001"]\n', "account 1 of"),
        ('[[account]]\nappid = 7\nsecret_env = "S"\n', "appid must be a string"),
        (f'[[account]]\nappid = "wxa"\nsecret_env = "{SECRET}"\n', "do not put the secret"),
        ('[[account]]\nappid = "wxa"\nsecret_env = "my secret!"\n', "do not put the secret"),
        (f'[[account]]\nappid = "wxa"\nsecret = "{SECRET}"\n', "a secret in the file"),
        ('[[account]]\nappid = "wxa"\nsecret_env = 5\n', "secret_env must be the name"),
        ('[[account]]\nappid = "wxa"\nsecret_env = "S"\nmax_worker = 2\n', "max_worker"),
        ('[[account]]\nappid = "wxa"\nsecret_env = "S"\nmax_workers = "8"\n', "max_workers="),
        ('[[account]]\nappid = "wxa"\nsecret_env = "S"\nbase_url = 3\n', "base_url=3"),
        ("[[account]\n", "accounts.toml"),
        ("", "no [[account]] tables"),
    ],
)
def test_every_mistake_in_an_accounts_file_is_one_line_naming_it(
    tmp_path: Path, text: str, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(wxframe.ConfigurationError) as caught:
        wxframe.read_accounts(path)
    message = str(caught.value)
    assert named in message and SECRET not in message and "\n" not in message
    from wxframe.cli import main

    status = main(["sync", "--store", str(tmp_path / "s"), "--accounts", str(path)])
    out, err = capsys.readouterr()
    assert status == 2 and "Traceback" not in err
    assert SECRET not in out + err


def test_an_accounts_file_not_in_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_bytes('# 公众号\n[[account]]\nappid = "wxa"\nsecret_env = "S"\n'.encode("gbk"))
    with pytest.raises(wxframe.ConfigurationError, match="is not UTF-8 text"):
        wxframe.read_accounts(path)
