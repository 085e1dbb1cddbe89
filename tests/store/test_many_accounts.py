"""Many accounts in one store (issue 17): sync_many, one lock per account, an appid that
must be named and cannot leave the root, and the store as one dataset for out-of-core
tools (`wxframe sync --accounts`: test_accounts)."""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from pathlib import Path

import duckdb
import filelock
import pandas as pd
import pytest

import wxframe
from tests.conftest import TODAY, three_accounts
from wxframe import (
    Client,
    ConfigurationError,
    CredentialError,
    Store,
    StoreLockedError,
)
from wxframe.simulator import serve

TODAY_2026 = "2026-12-01"


BEGIN, END = "2026-11-01", "2026-11-30"


ENDPOINTS = ["getbizsummary", "getusersummary", "getusercumulate"]


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
    # the README's Dask query, on the files the manifests list (dask imported here: it
    # costs every test worker a second at collection otherwise)
    import dask.dataframe as dd

    with warnings.catch_warnings():  # dask's own use of a pandas keyword pandas 4 drops
        warnings.simplefilter("ignore", pd.errors.Pandas4Warning)
        frame = dd.read_parquet(many.urls("getbizsummary"))
        dask_sums = frame[frame.channel == "all"].groupby("account").read_user.sum().compute()
    assert dask_sums.sort_index().tolist() == expected.tolist()


@pytest.mark.slow
def test_all_accounts_share_one_bounded_pool(tmp_path: Path) -> None:
    # Four accounts, each client allowed 3 requests at once, one pool of 4 for all: the
    # servers together never see more than 4 at a moment, none more than 3, and more
    # than one account is in flight at once (the pool is shared, not one per account).
    with contextlib.ExitStack() as stack:
        sims = [
            stack.enter_context(serve(seed=k, today=TODAY_2026, latency=0.03)) for k in range(4)
        ]
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
    with serve(seed=0, today=TODAY_2026) as a, serve(seed=1, today=TODAY_2026) as b:
        store = Store(tmp_path)
        tmp_path.mkdir(exist_ok=True)
        holder = filelock.FileLock(str(tmp_path / f".wxframe.{a.appid}.lock"))
        with holder:
            # another process syncing account a does not stop account b
            store.sync(b.client(), BEGIN, END, endpoints=ENDPOINTS, progress=False)
            with pytest.raises(StoreLockedError, match=a.appid):
                store.sync(a.client(), BEGIN, END, endpoints=ENDPOINTS, progress=False)


def test_several_accounts_in_one_store(tmp_path: Path) -> None:
    store = Store(tmp_path)
    # Two accounts shared on every day: both of the original kind.
    with serve(seed=0, today=TODAY) as a, serve(seed=1, today=TODAY, character="original") as b:
        assert (a.appid, b.appid) == ("wx5im0000000000001", "wx5im0000000000002")  # one a seed
        store.sync(a.client(), "2024-05-01", "2024-05-07", endpoints=["getusershare"])
        store.sync(b.client(), "2024-05-01", "2024-05-07", endpoints=["getusershare"])
    assert store.accounts() == ["wx5im0000000000001", "wx5im0000000000002"]
    both = store.read("getusershare")
    assert both.groupby("account").size().tolist() == [21, 21]
    only_b = store.read("getusershare", account="wx5im0000000000002")
    assert len(only_b) == 21 and set(only_b["account"]) == {"wx5im0000000000002"}


def test_a_bare_token_client_must_say_its_account(tmp_path: Path) -> None:
    with serve(seed=0, today="2026-12-01") as sim:
        token = sim.client()._tokens.current()
        bare = Client(access_token=token, base_url=sim.url, clock=sim.now)
        with pytest.raises(ConfigurationError, match="pass appid="):
            Store(tmp_path).sync(bare, "2026-11-20", "2026-11-26", progress=False)
        named = Client(sim.appid, access_token=token, base_url=sim.url, clock=sim.now)
        Store(tmp_path).sync(named, "2026-11-20", "2026-11-26", progress=False)
    assert Store(tmp_path).accounts() == [sim.appid]


@pytest.mark.parametrize("appid", ["../../x", "a/b", "wx..", "x" * 65])
def test_an_appid_cannot_leave_the_store(tmp_path: Path, appid: str) -> None:
    root = tmp_path / "store"
    with serve(seed=0, today="2026-12-01") as sim:
        c = Client(appid, sim.secret, base_url=sim.url, clock=sim.now)
        with pytest.raises(ConfigurationError, match="is not an appid"):
            Store(root).sync(c, "2026-11-20", "2026-11-26", progress=False)
    assert not list(tmp_path.rglob("*.json"))
