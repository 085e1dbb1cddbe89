"""The store against its own disk (issue 14, items 5, 6, 9 and 20): kills before a commit,
the month-sharded manifest and its damage, temporary and stray files under the root, and a
disk or root that refuses a write. Damaged files: test_verify; fields some files lack:
test_read."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys
import warnings
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

import wxframe
from tests.conftest import month_file, next_sync_restores, shard_file
from wxframe import (
    Store,
    StoreDamagedWarning,
    StoreError,
)
from wxframe.dates import BEIJING
from wxframe.simulator import serve
from wxframe.store._files import Layout
from wxframe.store._manifest import load_manifest, save_manifest
from wxframe.store._sync import write_windows

TODAY_2026 = "2026-12-01"


ENDPOINTS = ["getusersummary", "getusercumulate"]


SIM_SYNC = ["--simulator", "--seed", "0", "--today", TODAY_2026, "--quiet"]


def killed_before_the_commit(store: Store, rows: pd.DataFrame, first: date, last: date) -> None:
    """What a sync of getusersummary's ``first..last`` leaves when it is killed after
    writing its month file and before its commit: the file under its content's name,
    which no manifest names (an orphan)."""
    (account,) = store.accounts()
    manifest = load_manifest(Layout(store.root), account)
    inside = rows["ref_date"].between(pd.Timestamp(first), pd.Timestamp(last))
    window = wxframe.Window(first, last)
    spec = wxframe.ENDPOINTS["getusersummary"]
    write_windows(Layout(store.root), spec, account, [window],
                  rows[inside].drop(columns="account"), manifest)  # fmt: skip


def _manifest_files(store: Store) -> dict[str, bytes]:
    return {
        str(p.relative_to(store.root)): p.read_bytes()
        for p in sorted((store.root / "_manifest").rglob("*.json"))
    }


def test_a_kill_before_the_commit_is_not_damage(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    # The crash window a SIGKILL can hit: a month file written under its content name,
    # the manifest not yet told. Nothing names it: the store is as it was.
    store, sound = synced
    # a sync fetching 2026-10-31 again (other numbers) writes its month file, and is killed
    again = sound["getusersummary"].assign(new_user=7)
    killed_before_the_commit(store, again, date(2026, 10, 31), date(2026, 10, 31))
    assert len(list(month_file(store, "getusersummary", "2026-10").parent.iterdir())) == 2
    assert store.verify().empty
    with warnings.catch_warnings():
        warnings.simplefilter("error", StoreDamagedWarning)
        pd.testing.assert_frame_equal(store.read("getusersummary"), sound["getusersummary"])
        with serve(seed=0, today=TODAY_2026) as sim:
            store.sync(sim.client(), "2026-09-01", "2026-10-31", endpoints=ENDPOINTS,
                       progress=False)  # fmt: skip
    pd.testing.assert_frame_equal(store.read("getusersummary"), sound["getusersummary"])


@pytest.mark.parametrize("killed", ["after-data", "after-months"])
def test_a_kill_before_a_new_months_commit_leaves_orphans_not_damage(
    synced: tuple[Store, dict[str, pd.DataFrame]], killed: str
) -> None:
    # A month's first file written, then the kill: before the manifest's months were
    # written, or after them and before the pointer that names them. Neither is damage:
    # a read sees the store as it was, the next sync fetches the month, nothing twice,
    # and the orphans go once they are older than the grace period.
    store, sound = synced
    (account,) = store.accounts()
    spec = wxframe.ENDPOINTS["getusersummary"]
    layout = Layout(store.root)
    manifest = load_manifest(layout, account)
    day = wxframe.Window(date(2026, 11, 1), date(2026, 11, 1))
    row = sound["getusersummary"].drop(columns="account").tail(1)
    written = write_windows(layout, spec, account, [day],
                            row.assign(ref_date=pd.Timestamp(day.begin)), manifest)  # fmt: skip
    pointer = layout.manifest_path(account)
    if killed == "after-months":
        before = Path(pointer).read_bytes()
        entry = manifest.entry(spec.name)
        entry.files.update(written)
        entry.record(spec, day, datetime.now(BEIJING), {"2026-11-01": 1})
        save_manifest(layout, account, manifest)
        Path(pointer).write_bytes(before)  # the pointer's PUT never happened
    assert store.verify().empty
    with warnings.catch_warnings():
        warnings.simplefilter("error", StoreDamagedWarning)
        pd.testing.assert_frame_equal(store.read("getusersummary"), sound["getusersummary"])
        with serve(seed=0, today=TODAY_2026) as sim:
            Store(store.root, grace=0).sync(sim.client(), "2026-09-01", "2026-11-30",
                                            endpoints=ENDPOINTS, progress=False)  # fmt: skip
    clean = Store(store.root.parent / "clean")
    with serve(seed=0, today=TODAY_2026) as sim:
        clean.sync(sim.client(), "2026-09-01", "2026-11-30", endpoints=ENDPOINTS, progress=False)
    for name in ENDPOINTS:
        pd.testing.assert_frame_equal(store.read(name), clean.read(name))
    assert store.verify().empty
    # the orphans were removed by the sync (grace 0): only what the pointer names is left
    months = ("2026-09", "2026-10", "2026-11")
    named = {month_file(store, "getusersummary", m) for m in months}
    held = set(Path(store.root, "getusersummary").rglob("*.parquet"))
    assert held == named


def test_a_resumed_sync_that_rewrites_part_of_a_killed_month_keeps_the_store_sound(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    # Seen in CI with the old protocol: a kill after a month file's rename left rows of
    # twelve days the manifest did not list; the next sync rewrote three of them and
    # recorded a file that held all twelve ("holds 1,511 rows, the manifest 346"). Now a
    # rewrite starts from the file the manifest names, never from a killed write's.
    store, sound = synced
    killed = sound["getusersummary"].assign(new_user=7)  # numbers no commit ever had
    killed_before_the_commit(store, killed, date(2026, 10, 20), date(2026, 10, 31))
    with warnings.catch_warnings():
        warnings.simplefilter("error", StoreDamagedWarning)
        with serve(seed=0, today=TODAY_2026) as sim:
            store.sync(sim.client(), "2026-10-20", "2026-10-22", endpoints=ENDPOINTS,
                       progress=False)  # fmt: skip
    assert store.verify().empty, store.verify()[["month", "problem"]]
    pd.testing.assert_frame_equal(store.read("getusersummary"), sound["getusersummary"])
    with serve(seed=0, today=TODAY_2026) as sim:
        summary = store.sync(sim.client(), "2026-09-01", "2026-10-31", endpoints=ENDPOINTS,
                             progress=False)  # fmt: skip
    assert summary.calls == 0  # every day was final already: nothing to resume
    assert store.verify().empty
    pd.testing.assert_frame_equal(store.read("getusersummary"), sound["getusersummary"])


def test_stray_things_under_the_root_are_never_read(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    store, sound = synced
    base = store.root / "getusersummary"
    (account,) = store.accounts()
    october = month_file(store, "getusersummary", "2026-10")
    (store.root / "notes.txt").write_text("asked for the October numbers")
    (base / "notes.txt").write_text("not parquet")
    shutil.copy(october, october.with_name("data.parquet.bak"))
    shutil.copytree(october.parent, october.parent.with_name("month=2026-10 copy"))
    shutil.copytree(base / f"account={account}", base / "backup" / f"account={account}")
    shutil.copytree(base / f"account={account}", base / "account=wxcccccccccccccccc")
    pd.testing.assert_frame_equal(store.read("getusercumulate"), sound["getusercumulate"])
    with pytest.warns(StoreDamagedWarning, match="wxcccccccccccccccc with no manifest"):
        summary = store.read("getusersummary")  # the copied account is named, not read
    pd.testing.assert_frame_equal(summary, sound["getusersummary"])
    # the copy of an account the store has no manifest for is the one thing verify names
    problems = store.verify()
    assert problems["account"].tolist() == ["wxcccccccccccccccc"]
    assert problems["problem"].str.startswith("no manifest").all()


def test_files_without_a_manifest_are_named_by_a_read(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    store, _ = synced
    for manifest in (store.root / "_manifest").glob("*.json"):
        manifest.unlink()
    with pytest.warns(StoreDamagedWarning, match="no manifest"):
        assert store.read("getusersummary").empty


@pytest.mark.slow
def test_a_disk_that_refuses_a_write_is_one_clear_line(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    store, sound = synced

    def small_files_only() -> None:
        # A real write failing half-way: files may not grow past 2 KB (EFBIG, the
        # error a full disk gives as ENOSPC); SIGXFSZ ignored so the write returns it.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    sync = [sys.executable, "-B", "-m", "wxframe", "sync", "--store", str(store.root),
            "--begin", "2026-09-01", "--end", "2026-11-30", "--endpoint", "getusersummary",
            "--endpoint", "getusercumulate", *SIM_SYNC]  # fmt: skip
    run = subprocess.run(sync, capture_output=True, text=True, check=False,
                         preexec_fn=small_files_only)  # fmt: skip
    assert run.returncode == 2, run.stderr  # the disk to fix first; then a rerun resumes
    assert run.stderr.startswith("wxframe sync: sync stopped: cannot write " + str(store.root))
    assert "File too large" in run.stderr and "Fix that first" in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    # what was there is intact, nothing half-written is left, and a rerun completes
    assert not list(store.root.rglob("*.tmp"))
    assert store.verify().empty
    for name in ENDPOINTS:
        pd.testing.assert_frame_equal(store.read(name, "2026-09-01", "2026-10-31"), sound[name])
    subprocess.run(sync, capture_output=True, check=True)
    assert store.read("getusersummary")["ref_date"].max() == pd.Timestamp("2026-11-30")


def test_a_manifest_is_kept_by_month_and_a_save_writes_only_the_months_it_changed(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    store, _ = synced
    (account,) = store.accounts()
    before = _manifest_files(store)
    months = sorted(k.rsplit(".", 2)[0] for k in before if k.count("/") == 3)
    assert months == [f"_manifest/{account}/{name}/{m}" for name in sorted(ENDPOINTS)
                      for m in ("2026-09", "2026-10")]  # fmt: skip
    top = json.loads(before[f"_manifest/{account}.json"])
    assert not any("days" in e or "files" in e for e in top["endpoints"].values())
    # a sync of one more day writes that day's month and the account's own file, no other
    with serve(seed=0, today=TODAY_2026) as sim:
        store.sync(sim.client(), "2026-11-01", "2026-11-01", endpoints=["getusersummary"],
                   progress=False)  # fmt: skip
    after = _manifest_files(store)
    changed = sorted(k for k in after if after[k] != before.get(k))
    # (each month a new object named by its content; the pointer names it)
    assert [k.rsplit(".", 2)[0] if k.count("/") == 3 else k for k in changed] == [
        f"_manifest/{account}.json",
        f"_manifest/{account}/getusersummary/2026-11",
    ]


def test_a_damaged_month_of_the_manifest_fails_only_reads_of_that_month(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    store, sound = synced
    shard = shard_file(store, "getusersummary", "2026-09")
    shard.write_text('{"days": [1, 2]}', "utf-8")
    october = store.read("getusersummary", "2026-10-01", "2026-10-31")
    # read without opening September's part of the manifest
    expected = sound["getusersummary"][sound["getusersummary"]["ref_date"] >= "2026-10-01"]
    pd.testing.assert_frame_equal(october, expected.reset_index(drop=True))
    with pytest.raises(StoreError, match=r"2026-09\.\w+\.json is not a wxframe manifest.*'days'"):
        store.read("getusersummary")
    shard.write_text("{not json", "utf-8")
    with pytest.raises(StoreError, match=r"2026-09\.\w+\.json is not valid JSON"):
        store.read("getusersummary")
    # verify names it (once, not its data file again); the data file is sound, so the
    # repair sets only the damaged record aside and lists the file again (issue 28)
    problems = store.verify()
    assert problems[["endpoint", "month", "next", "repair"]].values.tolist() == [
        ["getusersummary", "2026-09", "keep", "keep, list again"]
    ]
    assert f"{shard.name}) is damaged" in problems["problem"].iloc[0]
    store.verify(repair=True)
    assert len(list((store.root / "_damaged").rglob("*.json.*"))) == 1
    assert not list((store.root / "_damaged").rglob("data*.parquet.*"))
    assert store.verify().empty
    pd.testing.assert_frame_equal(store.read("getusersummary"), sound["getusersummary"])
    next_sync_restores(store, sound)


def test_a_sync_sets_a_damaged_month_of_the_manifest_aside_and_keeps_its_sound_data(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    store, sound = synced
    shard_file(store, "getusercumulate", "2026-10").write_text("{}")
    with serve(seed=0, today=TODAY_2026) as sim:
        with pytest.warns(StoreDamagedWarning, match=r"2026-10\.\w+\.json\) is damaged.*data "
                          r"file is sound, 31 days\)"):  # fmt: skip
            store.sync(sim.client(), "2026-09-01", "2026-10-31", endpoints=ENDPOINTS,
                       progress=False)  # fmt: skip
        asked = [(b, e) for name, b, e, _ in sim.stats.answered if name == "getusercumulate"]
    # the file is listed again as written; only days not final when it was are asked
    assert all(b >= "2026-10-01" for b, _ in asked)  # October only
    assert not list((store.root / "_damaged").rglob("data*.parquet.*"))
    assert store.verify().empty
    for name in ENDPOINTS:
        pd.testing.assert_frame_equal(store.read(name), sound[name])


def test_a_manifest_written_before_months_had_files_is_read_and_migrated(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    # Stores of wxframe 0.1 kept every day in the account's one manifest file.
    store, sound = synced
    (account,) = store.accounts()
    manifest = load_manifest(Layout(store.root), account)
    legacy = manifest.to_json()  # days and files inline
    for name, months in manifest.months_json().items():
        entry = legacy["endpoints"][name]
        entry["days"] = {d: i for m in months.values() for d, i in m["days"].items()}
        entry["files"] = {k: m["file"] for k, m in months.items() if "file" in m}
    shutil.rmtree(store.root / "_manifest" / account)
    (store.root / "_manifest" / f"{account}.json").write_text(json.dumps(legacy), "utf-8")
    for name in ENDPOINTS:
        pd.testing.assert_frame_equal(store.read(name), sound[name])
    assert store.verify().empty
    assert load_manifest(Layout(store.root), account) == manifest
    with serve(seed=0, today=TODAY_2026) as sim:  # the first save moves the days to their months
        summary = store.sync(sim.client(), "2026-09-01", "2026-11-01", endpoints=ENDPOINTS,
                             progress=False)  # fmt: skip
    assert summary.calls == 2  # November's first day only
    top = json.loads((store.root / "_manifest" / f"{account}.json").read_text("utf-8"))
    assert not any("days" in e or "files" in e for e in top["endpoints"].values())
    assert len(list((store.root / "_manifest" / account).rglob("*.json"))) == 6
    migrated = load_manifest(Layout(store.root), account)
    for name in ENDPOINTS:
        days = migrated.endpoints[name].days
        assert {d: i for d, i in days.items() if d < "2026-11"} == manifest.endpoints[name].days
        pd.testing.assert_frame_equal(store.read(name, end="2026-10-31"), sound[name])


def test_a_file_where_the_manifest_keeps_its_months_is_a_clear_error(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    store, _ = synced
    (account,) = store.accounts()
    folder = store.root / "_manifest" / account / "getusersummary"
    shutil.rmtree(folder)
    folder.write_text("not a folder", "utf-8")
    for attempt in (lambda: store.read("getusersummary"), store.verify):
        with pytest.raises(StoreError, match=r"getusersummary is a file, where the manifest"):
            attempt()


def test_sync_removes_only_its_own_temporary_files(tmp_path: Path) -> None:
    mine = tmp_path / "notes" / ".draft.tmp"
    mine.parent.mkdir()
    mine.write_text("a user's file")
    name = ".data.parquet.0123456789abcdef0123456789abcdef.tmp"
    left = tmp_path / "getusercumulate" / "account=wx5im0000000000001" / "month=2026-11" / name
    other = tmp_path / "getusercumulate" / "account=wx5im0000000000002" / "month=2026-11" / name
    for tmp in (left, other):
        tmp.parent.mkdir(parents=True)
        tmp.write_bytes(b"half a write")
    with serve(seed=0, today="2026-12-01") as sim:
        Store(tmp_path).sync(sim.client(), "2026-11-20", "2026-11-26",
                             endpoints="getusercumulate", progress=False)  # fmt: skip
    assert mine.read_text() == "a user's file"  # not the store's: kept
    assert not left.exists()  # this account's leftover: cleaned
    assert other.exists()  # another account's: its own sync may be writing it now


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ([], "no 'endpoints' object"),
        ({"endpoints": []}, "no 'endpoints' object"),
        ({"endpoints": {"getbizsummary": {"days": {"2026-11-01": {}}}}}, "has no 'at' time"),
        ({"endpoints": {"getbizsummary": {"days": {"not-a-day": {"at": "x"}}}}}, "not a date"),
    ],
)
def test_a_manifest_of_the_wrong_shape_is_a_store_error(
    tmp_path: Path, manifest: object, problem: str
) -> None:
    (tmp_path / "_manifest").mkdir()
    path = tmp_path / "_manifest" / "wx5im0000000000001.json"
    path.write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match=problem) as error:
        Store(tmp_path).coverage()
    assert str(path) in str(error.value)


@pytest.mark.slow
def test_a_store_root_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = tmp_path / "not-a-dir"
    root.write_text("a file")
    with serve(seed=0, today="2026-12-01") as sim, pytest.raises(StoreError, match="not-a-dir"):
        Store(root).sync(sim.client(), "2026-11-20", "2026-11-26", progress=False)
    run = subprocess.run(
        [sys.executable, "-m", "wxframe", "sync", "--simulator", "--store", str(root), "--quiet"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 2 and "not-a-dir" in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_a_folder_the_store_cannot_write_is_a_store_error(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        # root writes through permissions: make the partition's place a file instead
        (tmp_path / "getusercumulate").write_text("in the way")
    else:
        (tmp_path / "getusercumulate").mkdir(mode=0o500)
    with serve(seed=0, today="2026-12-01") as sim, pytest.raises(StoreError) as error:
        Store(tmp_path).sync(sim.client(), "2026-11-20", "2026-11-26",
                             endpoints="getusercumulate", progress=False)  # fmt: skip
    assert "getusercumulate" in str(error.value) and "cannot write" in str(error.value)
