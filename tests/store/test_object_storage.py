"""The store on object storage: a real S3 HTTP API on loopback (moto's server).

The same store, the same guarantees as on a local disk: a sync reads back equal to a
local one, verify finds damage, readers see an account before or after a commit, never
half, and of two writers of one account the loser is told and nothing is lost.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import S3_KEY_ID, S3_SECRET, base_env
from wxframe import Store, StoreLockedError, WriterConflictError
from wxframe.simulator import serve
from wxframe.store._files import Layout
from wxframe.store._manifest import load_manifest, save_manifest

#: An S3 server on loopback and real syncs through it, a test after another: the full
#: suite runs them; the fast subset (`-m "not slow"`) leaves them to it.
pytestmark = pytest.mark.slow

boto3 = pytest.importorskip("boto3")

SECRET = S3_SECRET
ENDPOINTS = ["getusersummary", "getusercumulate", "getarticlesummary"]


def _fresh(s3: str) -> str:
    return f"{s3}/{uuid.uuid4().hex[:8]}"


def test_a_sync_on_s3_reads_back_as_the_same_sync_on_a_local_disk(s3: str, tmp_path: Path) -> None:
    remote, local = Store(_fresh(s3)), Store(tmp_path / "store")
    with serve(seed=0, today="2026-06-01") as sim:
        for store in (remote, local):
            store.sync(sim.client(), "2026-05-01", "2026-05-31", endpoints=ENDPOINTS,
                       progress=False)  # fmt: skip
        again = remote.sync(sim.client(), "2026-05-01", "2026-05-31", endpoints=ENDPOINTS,
                            progress=False)  # fmt: skip
    assert again.calls == 0
    assert repr(remote).startswith("Store('s3://team/") and Store.open(remote.root).exists()
    for name in ENDPOINTS:
        pd.testing.assert_frame_equal(remote.read(name), local.read(name))
        assert remote.dataset(name).count_rows() == local.dataset(name).count_rows()
    assert remote.verify().empty
    pd.testing.assert_frame_equal(remote.days(), local.days())
    # the README's queries, unchanged: DuckDB on the dataset, Dask on the URLs (s3fs)
    import dask.dataframe as dd
    import duckdb

    summary = remote.dataset("getusersummary")  # noqa: F841 (DuckDB finds it by its name)
    counted = duckdb.sql("select count(*) from summary").fetchall()
    assert counted == [(len(local.read("getusersummary")),)]
    with warnings.catch_warnings():  # dask's own use of a pandas keyword pandas 4 drops
        warnings.simplefilter("ignore", pd.errors.Pandas4Warning)
        frame = dd.read_parquet(remote.urls("getusersummary")).compute()
    assert remote.urls("getusersummary")[0].startswith(f"{remote.root}/getusersummary/")
    assert frame["new_user"].sum() == local.read("getusersummary")["new_user"].sum()
    # nothing wxframe wrote holds the secret
    client = boto3.client("s3")
    prefix = str(remote.root).removeprefix("s3://team/")
    for item in client.list_objects_v2(Bucket="team", Prefix=prefix)["Contents"]:
        body = client.get_object(Bucket="team", Key=item["Key"])["Body"].read()
        assert SECRET.encode() not in body and S3_KEY_ID.encode() not in body


def test_a_damaged_object_is_found_and_repaired(s3: str) -> None:
    store = Store(_fresh(s3))
    with serve(seed=0, today="2026-06-01") as sim:
        store.sync(sim.client(), "2026-05-01", "2026-05-31", endpoints="getusersummary",
                   progress=False)  # fmt: skip
        sound = store.read("getusersummary")
        (account,) = store.accounts()
        key = str(store.root).removeprefix("s3://team/") + f"/_manifest/{account}.json"
        client = boto3.client("s3")
        pointer = json.loads(client.get_object(Bucket="team", Key=key)["Body"].read())
        name = pointer["data"]["getusersummary"]["2026-05"]
        data_key = key.rsplit("/_manifest/", 1)[0] + (
            f"/getusersummary/account={account}/month=2026-05/{name}"
        )
        client.put_object(Bucket="team", Key=data_key, Body=b"not parquet")
        problems = store.verify()
        assert problems[["month", "next"]].values.tolist() == [["2026-05", "fetch"]]
        done = store.repair(sim.client())
    assert done.synced and store.verify().empty
    pd.testing.assert_frame_equal(store.read("getusersummary"), sound)


def test_two_writers_of_one_account_the_loser_is_told_and_nothing_is_lost(s3: str) -> None:
    store = Store(_fresh(s3))
    with serve(seed=0, today="2026-06-01") as sim:
        store.sync(sim.client(), "2026-05-01", "2026-05-10", endpoints="getusersummary",
                   progress=False)  # fmt: skip
        (account,) = store.accounts()
        layout = Layout(store.root)
        held = layout.lock(account)  # another writer's lease
        try:
            with pytest.raises(StoreLockedError, match="holds its lease"):
                store.sync(sim.client(), "2026-05-11", "2026-05-20",
                           endpoints="getusersummary", progress=False)  # fmt: skip
        finally:
            held.release()
        # A writer that lost its lease (or a store without conditional puts): its commit
        # finds another's, and commits nothing.
        slow = load_manifest(layout, account)
        store.sync(sim.client(), "2026-05-11", "2026-05-20", endpoints="getusersummary",
                   progress=False)  # fmt: skip
        winner = store.read("getusersummary")
        slow.entry("getusersummary").windows = 999
        with pytest.raises(WriterConflictError, match="committed nothing") as caught:
            save_manifest(layout, account, slow)
        assert caught.value.exit_status == 3 and caught.value.rerun_helps
    pd.testing.assert_frame_equal(store.read("getusersummary"), winner)
    assert winner["ref_date"].nunique() == 20 and store.verify().empty


def test_a_reader_polling_during_syncs_never_sees_half_an_account(s3: str) -> None:
    store = Store(_fresh(s3))
    seen: list[tuple[int, int]] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def poll() -> None:
        reader = Store(store.root)
        while not stop.is_set():
            if not reader.exists() or not reader.accounts():
                continue
            try:
                b = reader.read("getusercumulate")
            except Exception as exc:  # a half-written account: a missing or damaged file
                errors.append(exc)
                return
            seen.append((b["ref_date"].nunique(), len(b)))

    with serve(seed=0, today="2026-06-01") as sim:
        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        try:
            for month in ("01", "02", "03"):
                store.sync(sim.client(), f"2026-{month}-01", f"2026-{month}-28",
                           endpoints=["getusersummary", "getusercumulate"],
                           progress=False)  # fmt: skip
        finally:
            stop.set()
            thread.join(30)
    # every read is of one committed state: whole months, never an error
    assert not errors and seen and all(a == b for a, b in seen), errors
    assert {b for _, b in seen} <= {0, 28, 56, 84}


def _windows_written(client: Any, s3_url: str) -> int:
    """Windows the store's pointers record (each replaced by one PUT)."""
    bucket, _, prefix = s3_url.removeprefix("s3://").partition("/")
    listed = client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/_manifest/")
    total = 0
    for item in listed.get("Contents", []):
        if item["Key"].count("/") == prefix.count("/") + 2:  # the pointers, not the months
            pointer = json.loads(client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            total += sum(int(e.get("windows", 0)) for e in pointer["endpoints"].values())
    return total


_CHILD = """
import sys
from wxframe import Store
from wxframe.simulator import serve
with serve(seed=0, today="2026-09-01", latency=0.1) as sim:
    Store(sys.argv[1]).sync(sim.client(max_workers=1), "2026-01-01", "2026-08-31",
                            endpoints="getusersummary", progress=False)
"""


@pytest.mark.slow
def test_a_sync_killed_on_s3_resumes_to_the_same_store(s3: str, tmp_path: Path) -> None:
    url = _fresh(s3)
    child = subprocess.Popen([sys.executable, "-c", _CHILD, url], env=base_env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline, client = time.monotonic() + 120, boto3.client("s3")
    while child.poll() is None and _windows_written(client, url) < 1:  # killed after a commit
        assert time.monotonic() < deadline, "the sync made no progress"
        time.sleep(0.05)
    assert child.poll() is None, child.stderr.read() if child.stderr else ""
    child.send_signal(signal.SIGKILL)
    child.wait()
    killed = Store(url)
    assert 0 < _windows_written(client, url) < 35 and killed.verify().empty
    read = killed.read("getusersummary")  # what was committed: whole, never twice
    assert len(read) and not read.duplicated(["ref_date", "user_source"]).any()
    clean = Store(tmp_path / "clean")
    with serve(seed=0, today="2026-09-01") as sim:
        for store in (killed, clean):  # the rerun takes over the dead writer's lease
            store.sync(sim.client(), "2026-01-01", "2026-08-31", endpoints="getusersummary",
                       progress=False)  # fmt: skip
    pd.testing.assert_frame_equal(killed.read("getusersummary"), clean.read("getusersummary"))
    assert killed.verify().empty


def test_an_import_on_s3_reads_back_as_on_a_local_disk(s3: str, tmp_path: Path) -> None:
    with serve(seed=0, today="2024-06-01") as sim:
        archive = sim.write_archive("getusershare", date(2024, 5, 1), date(2024, 5, 31),
                                    tmp_path / "share.jsonl")  # fmt: skip
    remote, local = Store(_fresh(s3)), Store(tmp_path / "store")
    for store in (remote, local):
        store.import_json("getusershare", archive, account=sim.appid)
    again = remote.import_json("getusershare", archive, account=sim.appid)
    pd.testing.assert_frame_equal(remote.read("getusershare"), local.read("getusershare"))
    assert remote.verify().empty and again.days_written == 0 and again.days_skipped == 31
    urls = remote.urls("getusershare")
    assert len(urls) == 1 and all(u.startswith(f"{remote.root}/getusershare/") for u in urls)


@pytest.mark.slow  # the SDK's own retries against a closed port: ~2 s a call
def test_an_object_store_that_does_not_answer_is_rerun_later_never_damage(
    s3: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A network that fails is not a damaged file: reading, verifying and repairing a
    store whose service does not answer stop with StoreUnreachableError (exit 3), and
    nothing is set aside or recorded; the store is whole once the service answers."""
    from wxframe.cli import main
    from wxframe.errors import StoreUnreachableError
    from wxframe.store import S3Options

    url = _fresh(s3)
    store = Store(url)
    with serve(seed=0, today="2026-06-01") as sim:
        store.sync(sim.client(), "2026-05-01", "2026-05-10", endpoints="getusersummary",
                   progress=False)  # fmt: skip
    sound = store.read("getusersummary")
    with socket.socket() as s:  # a port nothing listens on: connections refused
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    cut_off = Store(url, s3=S3Options(endpoint=dead))
    for call in (lambda: cut_off.read("getusersummary"), cut_off.verify):
        with pytest.raises(StoreUnreachableError, match="did not answer") as info:
            call()
        assert info.value.exit_status == 3 and info.value.rerun_helps
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    for command in ("verify", "coverage"):
        status, err = main([command, "--store", url]), capsys.readouterr().err
        assert status == 3, err
        assert "did not answer" in err and S3_SECRET not in err
    monkeypatch.undo()
    assert store.verify().empty  # nothing was set aside or marked while it was cut off
    pd.testing.assert_frame_equal(store.read("getusersummary"), sound)
