"""Many accounts on a Dask cluster: a real LocalCluster (a scheduler, and two worker
processes that import wxframe afresh) syncs simulated accounts into a shared store,
one task an account, each secret read from the workers' own environment."""

from __future__ import annotations

import contextlib
import pickle
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
import pandas as pd
import pytest

import wxframe
from wxframe import Store
from wxframe.accounts import Account, sync_accounts
from wxframe.cli import main
from wxframe.simulator import Simulator, serve

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow  # the cluster takes seconds to start

TODAY, BEGIN, END = "2026-12-01", "2026-11-28", "2026-11-30"
ENDPOINTS = list(wxframe.CURRENT_ENDPOINTS)  # the current family and the followers
ACCOUNTS = 20
#: The variable of account k's secret; one account whose variable holds a wrong secret,
#: one whose variable the workers never had.
VARIABLE = "WXF_CLUSTER_SECRET_{}"
WRONG, MISSING = "WXF_CLUSTER_WRONG", "WXF_CLUSTER_MISSING"


class TaskRecorder(distributed.diagnostics.plugin.SchedulerPlugin):  # type: ignore[misc]
    """What the scheduler holds of each task it is given: its run spec, pickled."""

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler
        self.specs: list[bytes] = []

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        if start == "released" and finish == "waiting":
            self.specs.append(pickle.dumps(self.scheduler.tasks[key].run_spec))


@dataclass
class Cluster:
    client: Any
    address: str
    recorder: TaskRecorder
    sims: list[Simulator]  # the 20 accounts that sync, then the one with a wrong secret


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """The simulators, their secrets in this process's environment before the workers
    start (spawned, they inherit it), and the cluster."""
    with contextlib.ExitStack() as stack:
        sims = [stack.enter_context(serve(seed=k, today=TODAY)) for k in range(ACCOUNTS + 1)]
        env = stack.enter_context(pytest.MonkeyPatch.context())
        for k, sim in enumerate(sims[:ACCOUNTS]):
            env.setenv(VARIABLE.format(k), sim.secret)
        env.setenv(WRONG, "0" * 32)
        env.delenv(MISSING, raising=False)
        local = stack.enter_context(
            # two accounts at once a worker; a dashboard on a free port of its own
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0"
            )
        )
        recorder = TaskRecorder(local.scheduler)
        local.scheduler.add_plugin(recorder)  # the scheduler runs in this process
        client = stack.enter_context(distributed.Client(local, set_as_default=False))
        # Set only now: this process has it, the workers do not.
        env.setenv(MISSING, sims[0].secret)
        yield Cluster(client, local.scheduler_address, recorder, sims)


@pytest.fixture(scope="module", params=["local"])
def store_root(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Where the cluster's workers write: a folder on this machine's disk, which the
    LocalCluster's workers share (an s3:// prefix once the store speaks object storage)."""
    return str(tmp_path_factory.mktemp("cluster") / "store")


@dataclass
class Synced:
    results: dict[str, wxframe.SyncSummary | wxframe.WxframeError]
    store: Store
    accounts: list[Account]


@pytest.fixture(scope="module")
def synced(cluster: Cluster, store_root: str) -> Synced:
    """All accounts through the cluster in one call: the 20, the wrong secret, and one
    whose variable is set here but not on the workers."""
    sims = cluster.sims
    accounts = [Account(s.appid, VARIABLE.format(k), s.url, max_workers=4)
                for k, s in enumerate(sims[:ACCOUNTS])]  # fmt: skip
    accounts.append(Account(sims[ACCOUNTS].appid, WRONG, sims[ACCOUNTS].url))
    accounts.append(Account("wx5im0000000009999", MISSING, sims[0].url))
    store = Store(store_root)
    results = sync_accounts(store, accounts, BEGIN, END, endpoints=ENDPOINTS,
                            cluster=cluster.client)  # fmt: skip
    return Synced(results, store, accounts)


def test_accounts_synced_on_a_cluster_read_back_as_a_local_sync_of_them(
    cluster: Cluster, synced: Synced, tmp_path: Path
) -> None:
    sims = cluster.sims[:ACCOUNTS]
    assert list(synced.results) == [a.appid for a in synced.accounts]  # the order given
    done = [synced.results[s.appid] for s in sims]
    assert all(isinstance(r, wxframe.SyncSummary) and not r.failed for r in done), done
    local = Store(tmp_path / "local")
    alone = local.sync_many([s.client() for s in sims], BEGIN, END, endpoints=ENDPOINTS)
    refused = {appid: str(r) for appid, r in alone.items() if isinstance(r, wxframe.WxframeError)}
    assert not refused  # the direct sync, to compare with: named if it failed
    assert [r.calls for r in done] == [r.calls for r in alone.values()]  # type: ignore[union-attr]
    assert synced.store.accounts() == local.accounts() == sorted(s.appid for s in sims)
    for name in ENDPOINTS:
        got, expected = synced.store.read(name), local.read(name)
        assert len(got) > 0, name
        pd.testing.assert_frame_equal(got, expected, obj=name)


def test_an_accounts_failure_on_a_cluster_is_its_row_naming_the_workers_variable(
    synced: Synced,
) -> None:
    missing = synced.results["wx5im0000000009999"]
    assert isinstance(missing, wxframe.ConfigurationError) and missing.exit_status == 2
    assert f"the variable {MISSING} is not set on the Dask worker" in str(missing)
    wrong = synced.results[synced.accounts[ACCOUNTS].appid]
    assert isinstance(wrong, wxframe.SyncIncomplete) and wrong.exit_status == 4
    assert "40125" in str(wrong) and WRONG in str(wrong)  # the account's own variable
    assert "wx5im0000000009999" not in synced.store.accounts()


def test_no_secret_passes_through_the_scheduler(cluster: Cluster, synced: Synced) -> None:
    secrets = [s.secret.encode() for s in cluster.sims]
    ours = [spec for spec in cluster.recorder.specs if b"_sync_on_worker" in spec]
    assert len(ours) == len(synced.accounts)  # one task an account
    for spec in ours:  # what the task holds: the entry, the variable's name, the store
        assert any(a.appid.encode() in spec and a.secret_env.encode() in spec
                   for a in synced.accounts)  # fmt: skip
        assert not any(secret in spec for secret in secrets)
    answers = pickle.dumps(synced.results)  # what came back through the cluster
    assert not any(secret in answers for secret in secrets)


def test_wxframe_sync_accounts_on_a_cluster_by_its_address(
    cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sims = cluster.sims[:2]
    path = tmp_path / "accounts.toml"
    path.write_text("".join(
        f'[[account]]\nappid = "{s.appid}"\nsecret_env = "{VARIABLE.format(k)}"\n'
        f'base_url = "{s.url}"\n' for k, s in enumerate(sims)
    ))  # fmt: skip
    args = ["sync", "--store", str(tmp_path / "store"), "--accounts", str(path), "--quiet",
            "--begin", BEGIN, "--end", END, "--endpoint", "getusersummary"]  # fmt: skip
    assert main([*args, "--cluster", cluster.address]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in out[1:]] == [[s.appid, "synced:"] for s in sims]
    assert main([*args, "--cluster", cluster.address, "--processes", "2"]) == 2
    assert "processes=2 with cluster=" in capsys.readouterr().err


def test_a_cluster_that_cannot_be_used_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = [Account("wx5im0000000000001", "WXF_CLUSTER_SECRET_0")]
    store = Store(tmp_path)
    with pytest.raises(wxframe.ConfigurationError, match=r"cluster=5; allowed: a distributed"):
        sync_accounts(store, accounts, cluster=5)
    path = tmp_path / "accounts.toml"
    path.write_text('[[account]]\nappid = "wx5im0000000000001"\nsecret_env = "S"\n')
    with dask.config.set({"distributed.comm.timeouts.connect": "0.5s"}):
        status = main(["sync", "--store", str(tmp_path / "s"), "--accounts", str(path),
                       "--cluster", "tcp://127.0.0.1:9"])  # fmt: skip
    assert status == 2
    assert "no Dask scheduler answered at tcp://127.0.0.1:9" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "distributed", None)  # as where it is not installed
    with pytest.raises(wxframe.ConfigurationError, match=r'pip install "wxframe\[dask\]"'):
        sync_accounts(store, accounts, cluster="tcp://127.0.0.1:9")
