"""Many accounts in one store (issue 17): sync_many, `wxframe sync --accounts`, one lock per
account, and the store as one dataset for out-of-core tools."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import dask.dataframe as dd
import duckdb
import filelock
import pandas as pd
import pytest

import wxframe
from wxframe import CredentialError, Store, StoreLockedError
from wxframe.accounts import Account, sync_accounts
from wxframe.simulator import Simulator, serve

TODAY = "2026-12-01"
BEGIN, END = "2026-11-01", "2026-11-30"
ENDPOINTS = ["getbizsummary", "getusersummary", "getusercumulate"]


@contextlib.contextmanager
def three_accounts() -> Iterator[list[Simulator]]:
    with (
        serve(seed=0, today=TODAY) as a,
        serve(seed=1, today=TODAY) as b,
        serve(seed=2, today=TODAY) as c,
    ):
        yield [a, b, c]


def test_sync_many_is_each_accounts_own_sync(tmp_path: Path) -> None:
    with three_accounts() as sims:
        many = Store(tmp_path / "many")
        results = many.sync_many(
            [s.client() for s in sims], BEGIN, END, endpoints=ENDPOINTS, max_accounts=2
        )
        assert list(results) == [s.appid for s in sims]
        assert all(isinstance(r, wxframe.SyncSummary) for r in results.values())
        for sim in sims:  # the same as syncing the account alone
            alone = Store(tmp_path / sim.appid)
            alone.sync(sim.client(), BEGIN, END, endpoints=ENDPOINTS, progress=False)
            for name in ENDPOINTS:
                pd.testing.assert_frame_equal(
                    many.read(name, account=sim.appid), alone.read(name), obj=name
                )
    assert many.accounts() == sorted(s.appid for s in sims)
    # one dataset of every account, for a cross-account query
    biz = many.dataset("getbizsummary")  # noqa: F841 (DuckDB finds it by its name)
    by_account = duckdb.sql(
        "select account, sum(read_user) as readers from biz where channel = 'all' "
        "group by account order by account"
    ).df()
    expected = many.read("getbizsummary").query("channel == 'all'")
    expected = expected.groupby("account")["read_user"].sum()
    assert by_account["readers"].tolist() == expected.tolist()
    # the README's Dask query, on the files the manifests list
    with warnings.catch_warnings():  # dask's own use of a pandas keyword pandas 4 drops
        warnings.simplefilter("ignore", pd.errors.Pandas4Warning)
        frame = dd.read_parquet(many.dataset("getbizsummary").files)
        dask_sums = frame[frame.channel == "all"].groupby("account").read_user.sum().compute()
    assert dask_sums.sort_index().tolist() == expected.tolist()


def test_all_accounts_share_one_bounded_pool(tmp_path: Path) -> None:
    # Four accounts, each client allowed 3 requests at once, one pool of 4 for all: the
    # servers together never see more than 4 at a moment, none more than 3, and more
    # than one account is in flight at once (the pool is shared, not one per account).
    with contextlib.ExitStack() as stack:
        sims = [stack.enter_context(serve(seed=k, today=TODAY, latency=0.03)) for k in range(4)]
        seen: list[int] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                seen.append(sum(s.stats.in_flight for s in sims))
                time.sleep(0.001)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            results = Store(tmp_path).sync_many(
                [s.client(max_workers=3) for s in sims], BEGIN, END,
                endpoints=["getarticleread"], max_workers=4,
            )  # fmt: skip
        finally:
            done.set()
            watcher.join()
    assert all(r.calls == 30 for r in results.values())  # type: ignore[union-attr]
    assert max(seen) <= 4
    assert max(s.stats.peak_in_flight for s in sims) <= 3
    assert max(seen) > 3  # two accounts' requests at once
    with pytest.raises(wxframe.ConfigurationError, match="max_workers=0"):
        Store(tmp_path).sync_many([], max_workers=0)
    with pytest.raises(wxframe.ConfigurationError, match="max_accounts=0"):
        Store(tmp_path).sync_many([], max_accounts=0)


def test_one_accounts_failure_does_not_stop_the_others(tmp_path: Path) -> None:
    with three_accounts() as sims:
        clients = [s.client() for s in sims]
        clients[1] = wxframe.Client(sims[1].appid, "not-the-secret", base_url=sims[1].url)
        results = Store(tmp_path).sync_many(clients, BEGIN, END, endpoints=ENDPOINTS)
    failed = results[sims[1].appid]
    assert isinstance(failed, wxframe.SyncIncomplete)
    assert isinstance(failed.__cause__, CredentialError)
    assert "not-the-secret" not in str(failed)
    for sim in (sims[0], sims[2]):
        assert results[sim.appid].calls > 0  # type: ignore[union-attr]
    with pytest.raises(wxframe.ConfigurationError, match="given twice"):
        Store(tmp_path).sync_many([clients[0], clients[0]])


def test_each_account_has_its_own_lock(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY) as a, serve(seed=1, today=TODAY) as b:
        store = Store(tmp_path)
        tmp_path.mkdir(exist_ok=True)
        holder = filelock.FileLock(str(tmp_path / f".wxframe.{a.appid}.lock"))
        with holder:
            # another process syncing account a does not stop account b
            store.sync(b.client(), BEGIN, END, endpoints=ENDPOINTS, progress=False)
            with pytest.raises(StoreLockedError, match=a.appid):
                store.sync(a.client(), BEGIN, END, endpoints=ENDPOINTS, progress=False)


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
        assert [line.split(":")[0] for line in run.stdout.splitlines()] == [s.appid for s in sims]
        assert not any(s.secret in run.stdout + run.stderr for s in sims)
        del env["SECRET_2"]
        missing = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
        assert missing.returncode == 2
        assert "SECRET_2 is not set" in missing.stderr and sims[2].secret not in missing.stderr
        accounts.write_text(f'[[account]]\nappid = "{sims[0].appid}"\nsecret = "x"\n')
        refused = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
        assert refused.returncode == 2 and "never the secret itself" in refused.stderr
    assert set(Store(tmp_path / "store").accounts()) == {s.appid for s in sims}


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
