"""Publish: a local store mirrored to object storage (moto's S3 server on loopback).

Only what changed is uploaded (content names: the same name is the same bytes), the
pointer last: what reads back from the destination equals the local store, a second
publish uploads nothing, a reader polling the destination sees each account before or
after a publish, never half, and a publish and a sync into one destination account never
both commit over each other.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import S3_KEY_ID, S3_SECRET, month_file
from wxframe import (
    ENDPOINTS,
    PublishSummary,
    Store,
    StoreDamagedError,
    StoreError,
    StoreLockedError,
    WriterConflictError,
    publish,
)
from wxframe.cli import main
from wxframe.datasets import open_demo_store
from wxframe.simulator import serve
from wxframe.store._files import Layout
from wxframe.store._manifest import load_manifest, save_manifest

#: An S3 server on loopback and real syncs through it, a test after another: the full
#: suite runs them; the fast subset (`-m "not slow"`) leaves them to it.
pytestmark = pytest.mark.slow

boto3 = pytest.importorskip("boto3")

DEMO_ACCOUNT = "wx5im0000000000001"
Synced = tuple[Store, dict[str, pd.DataFrame]]


def _fresh(s3: str) -> str:
    return f"{s3}/{uuid.uuid4().hex[:8]}"


def _objects(url: str, *, folders: bool = True) -> dict[str, tuple[str, Any]]:
    """Every object under ``url``: its ETag and when it was last written (to the second);
    ``folders=False``: without the marker pyarrow leaves where it deleted a folder's
    last object (a lease's folder, after its release)."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    pages = (
        boto3.client("s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=bucket, Prefix=f"{prefix}/")
    )
    found = {o["Key"]: (o["ETag"], o["LastModified"]) for p in pages for o in p.get("Contents", [])}
    return {key: seen for key, seen in found.items() if folders or not key.endswith("/")}


def _only(results: dict[str, PublishSummary | Exception]) -> PublishSummary:
    (result,) = results.values()
    assert isinstance(result, PublishSummary), result
    return result


@pytest.mark.slow
def test_the_demo_store_published_reads_back_equal_and_only_changes_are_uploaded(
    s3: str, tmp_path: Path
) -> None:
    local = Store(tmp_path / "store")
    shutil.copytree(open_demo_store().root, local.root)
    url = _fresh(s3)
    remote = Store(url)
    frames: list[tuple[pd.DataFrame, pd.DataFrame]] = []
    stop, errors = threading.Event(), []

    def poll() -> None:  # a reader of the destination, during the last publish
        reader = Store(url)
        while not stop.is_set():
            try:
                frames.append((reader.read("getusersummary", account=DEMO_ACCOUNT),
                               reader.days(account=DEMO_ACCOUNT)))  # fmt: skip
            except Exception as exc:  # a half-written account: a missing or damaged file
                errors.append(exc)
                return

    reader = threading.Thread(target=poll, daemon=True)
    try:
        first = _only(publish(local, url))
        before, taken = _objects(url), time.time()
        # every object the local pointer names, under the same name, then the pointer
        assert (first.uploaded, first.skipped, first.generation) == (72, 0, 1), first
        states = [(local.read("getusersummary"), local.days())]
        for name in ENDPOINTS:
            pd.testing.assert_frame_equal(remote.read(name), local.read(name), obj=name)
            assert remote.dataset(name).count_rows() == local.dataset(name).count_rows()
        assert [u.rsplit("/", 4)[1:] for u in remote.urls("getbizsummary")] == [
            u.rsplit("/", 4)[1:] for u in local.urls("getbizsummary")
        ]

        time.sleep(max(0.0, int(taken) + 1 - time.time()))  # a PUT now: a later LastModified
        again = _only(publish(local, url))
        assert (again.uploaded, again.bytes, again.generation) == (0, 0, None)
        assert str(again) == "up to date: nothing uploaded, 72 already there"
        assert _objects(url) == before  # not one PUT: no object, not even a lease

        # one more day synced locally: its month's data file and month of the manifest
        with serve(seed=0, today="2026-01-10", hour=12) as sim:
            local.sync(sim.client(), "2026-01-01", "2026-01-01", endpoints="getusersummary",
                       progress=False)  # fmt: skip
        states.append((local.read("getusersummary"), local.days()))
        reader.start()
        while not frames and not errors:
            stop.wait(0.01)
        third = _only(publish(local, url))
        polls = len(frames)
        while len(frames) < polls + 2 and not errors:  # a read after it, too
            stop.wait(0.01)
    finally:
        stop.set()
        reader.join(30)
    assert (third.uploaded, third.skipped, third.generation) == (2, 72, 2), third
    changed = set(_objects(url)) - set(before)
    assert len(changed) == 2 and all("2026-01" in key for key in changed), changed
    pd.testing.assert_frame_equal(remote.read("getusersummary"), states[1][0])
    # every read was of one whole state: before this publish, or after it
    assert not errors, errors
    for read, days in frames:  # (two reads: the commit may come between them)
        assert any(read.equals(r) for r, _ in states), read.tail()
        assert any(days.equals(d) for _, d in states), days.tail()
    assert frames[0][0].equals(states[0][0]) and frames[-1][0].equals(states[1][0])


def test_a_publish_and_a_sync_into_the_destination_never_both_commit(
    s3: str, synced: Synced
) -> None:
    local, _ = synced
    url = _fresh(s3)
    (account,) = local.accounts()
    layout = Layout(url)
    held = layout.lock(account)  # a sync into the destination, writing
    try:
        (refused,) = publish(local, url).values()
    finally:
        held.release()
    assert isinstance(refused, StoreLockedError) and "holds its lease" in str(refused)
    assert _objects(url, folders=False) == {}  # told before any upload
    slow = load_manifest(layout, account)  # a sync that read the destination before
    _only(publish(local, url))
    published = _objects(url)
    slow.entry("getusersummary").windows = 999
    with pytest.raises(WriterConflictError, match="committed nothing"):
        save_manifest(layout, account, slow)
    assert _objects(url).keys() >= published.keys()  # the loser's months: orphans, at most
    remote = Store(url)
    pd.testing.assert_frame_equal(remote.read("getusersummary"), local.read("getusersummary"))

    # Days a sync wrote into the destination that the local store does not hold: a
    # publish would take them from its readers, so it refuses (and says how not to).
    with serve(seed=0, today="2026-11-20", hour=12) as sim:
        remote.sync(sim.client(), "2026-11-01", "2026-11-02", endpoints="getusersummary",
                    progress=False)  # fmt: skip
    synced_there = remote.read("getusersummary")
    (kept,) = publish(local, url).values()
    assert isinstance(kept, StoreError) and kept.exit_status == 2
    assert "2 day(s)" in str(kept) and "getusersummary 2026-11-01..2026-11-02" in str(kept)
    pd.testing.assert_frame_equal(remote.read("getusersummary"), synced_there)
    forced = _only(publish(local, url, replace=True))
    assert forced.generation is not None
    pd.testing.assert_frame_equal(remote.read("getusersummary"), local.read("getusersummary"))

    # An object there under its name but not its size (damaged there): replaced.
    (key,) = [k for k in _objects(url) if "getusercumulate" in k and "2026-10" in k and
              k.endswith(".parquet")]  # fmt: skip
    boto3.client("s3").put_object(Bucket="team", Key=key, Body=b"not parquet")
    fixed = _only(publish(local, url))
    assert (fixed.uploaded, fixed.replaced) == (1, 1), fixed
    pd.testing.assert_frame_equal(remote.read("getusercumulate"), local.read("getusercumulate"))


def test_a_damaged_local_file_is_never_published(s3: str, synced: Synced) -> None:
    local, _ = synced
    path = month_file(local, "getusersummary", "2026-10")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # the same size: only its SHA-256 tells
    path.write_bytes(bytes(data))
    url = _fresh(s3)
    (stopped,) = publish(local, url).values()
    assert isinstance(stopped, StoreDamagedError) and stopped.exit_status == 2
    assert "verify" in str(stopped) and "--repair" in str(stopped)
    assert not [k for k in _objects(url) if "/_manifest/" in k]  # nothing committed
    assert not (Store(url).exists() and Store(url).accounts())


def test_a_store_written_before_content_names_is_published_under_them(
    s3: str, synced: Synced
) -> None:
    """data.parquet files, named so by the pointer (a store of 0.2, its months since
    rewritten), then also with its days inline in the pointer (wxframe 0.1): published
    under content names, with a pointer naming them, both forms the same state there."""
    store, sound = synced
    (account,) = store.accounts()
    layout = Layout(store.root)
    manifest = load_manifest(layout, account)
    for name, entry in manifest.endpoints.items():
        for month, record in entry.files.items():
            folder = Path(store.root) / name / f"account={account}" / f"month={month}"
            (folder / str(record.name)).rename(folder / "data.parquet")
            entry.files[month] = replace(record, name=None)
    save_manifest(layout, account, manifest)
    pointer = Path(store.root) / "_manifest" / f"{account}.json"
    assert json.loads(pointer.read_bytes())["data"]["getusersummary"]["2026-09"] == "data.parquet"
    url = _fresh(s3)
    summary = _only(publish(store, url))
    assert summary.uploaded == 8 and summary.generation == 1  # 2 x 2 files and months
    remote = Store(url)
    for name, frame in sound.items():
        pd.testing.assert_frame_equal(remote.read(name), frame, obj=name)
    names = [key.rsplit("/", 1)[1] for key in _objects(url, folders=False)]
    assert "data.parquet" not in names
    assert sum(bool(re.fullmatch(r"data-[0-9a-f]{16}\.parquet", n)) for n in names) == 4
    assert remote.verify().empty
    again = _only(publish(store, url))  # the next publish finds them: nothing written
    assert (again.uploaded, again.generation) == (0, None), again

    inline = manifest.to_json()  # wxframe 0.1: every day in the pointer, no month files
    for name, months in manifest.months_json().items():
        entry = inline["endpoints"][name]
        entry["days"] = {d: i for m in months.values() for d, i in m["days"].items()}
        entry["files"] = {k: m["file"] for k, m in months.items() if "file" in m}
    shutil.rmtree(Path(store.root) / "_manifest" / account)
    pointer.write_text(json.dumps(inline), "utf-8")
    same = _only(publish(store, url))
    assert (same.uploaded, same.generation) == (0, None), same


def test_the_command_checks_its_arguments_and_never_shows_a_secret(
    s3: str, synced: Synced, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local, _ = synced
    url = _fresh(s3)
    (tmp_path / "empty").mkdir()
    for argv, says in (
        (["--store", str(local.root), "--to", str(tmp_path / "copy")], "object storage"),
        (["--store", str(local.root), "--to", "s3://no-such-bucket/wx"], "no-such-bucket does not"),
        (["--store", str(tmp_path / "empty"), "--to", url], "no wxframe store"),
        (["--store", str(local.root), "--to", url, "--account", "wxnothere"], "wxnothere"),
    ):
        assert main(["publish", *argv]) == 2, argv
        out, err = capsys.readouterr()
        assert says in err and not out, (argv, err)
    assert _objects(url) == {} and not (tmp_path / "copy").exists()

    assert main(["publish", "--store", str(local.root), "--to", url, "--dry-run"]) == 0
    dry = capsys.readouterr()
    assert "would upload 8 object(s)" in dry.out and _objects(url) == {}
    assert main(["publish", "--store", str(local.root), "--to", url]) == 0
    done = capsys.readouterr()
    assert "8 object(s) uploaded" in done.out and "pointer generation 1" in done.out
    assert main(["publish", "--store", str(local.root), "--to", url]) == 0
    assert "up to date: nothing uploaded, 8 already there" in capsys.readouterr().out
    for text in (*dry, *done):
        assert S3_SECRET not in text and S3_KEY_ID not in text
