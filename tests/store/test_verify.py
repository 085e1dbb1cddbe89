"""Verify and repair: damage is found by size or checksum, named, and mended."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import month_file, next_sync_restores, shard_file
from wxframe import Store, StoreDamagedWarning, StoreError
from wxframe.simulator import serve

TODAY_2026 = "2026-12-01"


ENDPOINTS = ["getusersummary", "getusercumulate"]


SIM_SYNC = ["--simulator", "--seed", "0", "--today", TODAY_2026, "--quiet"]


def test_a_deleted_file_is_reported_and_fetched_again(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    store, sound = synced
    assert store.verify().empty
    gone = month_file(store, "getusersummary", "2026-09")
    gone.unlink()
    problems = store.verify()
    assert problems[["endpoint", "month", "problem", "days", "next"]].values.tolist() == [
        ["getusersummary", "2026-09", "missing", 30, "fetch"]
    ]
    assert problems["path"].tolist() == [str(gone)]
    with pytest.raises(StoreError, match=r"month=2026-09.*missing.*wxframe verify --store"):
        store.read("getusersummary")
    # the next sync notices it, says so, and asks for exactly those 30 days again
    with serve(seed=0, today=TODAY_2026) as sim:
        with pytest.warns(StoreDamagedWarning, match="month=2026-09.*missing, 30 days"):
            summary = store.sync(sim.client(), "2026-09-01", "2026-10-31", endpoints=ENDPOINTS,
                                 progress=False)  # fmt: skip
        asked = [(b, e) for name, b, e, _ in sim.stats.answered if name == "getusersummary"]
    days = sum((date.fromisoformat(e) - date.fromisoformat(b)).days + 1 for b, e in asked)
    assert days == 30 and summary.calls == len(asked)
    assert store.verify().empty
    for name in ENDPOINTS:
        pd.testing.assert_frame_equal(store.read(name), sound[name])


@pytest.mark.slow
def test_a_truncated_file_fails_only_its_reads_and_verify_repair_mends_it(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    store, sound = synced
    damaged = month_file(store, "getusercumulate", "2026-10")
    damaged.write_bytes(damaged.read_bytes()[:200])
    with pytest.raises(StoreError, match=r"getusercumulate.*month=2026-10.*damaged.*--repair"):
        store.read("getusercumulate")
    september = store.read("getusercumulate", "2026-09-01", "2026-09-30")  # a good month
    assert len(september) == 30
    run = subprocess.run(
        [sys.executable, "-m", "wxframe", "verify", "--store", str(store.root)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 1 and "getusercumulate" in run.stdout and "2026-10" in run.stdout
    assert "truncated or changed" in run.stdout and "--repair" in run.stdout
    run = subprocess.run(
        [sys.executable, "-m", "wxframe", "verify", "--store", str(store.root), "--repair",
         *SIM_SYNC[:-1]],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "repaired" in run.stdout and "31 rows written" in run.stdout
    assert store.verify().empty
    pd.testing.assert_frame_equal(store.read("getusercumulate"), sound["getusercumulate"])
    # the damaged file was moved aside (out of the endpoint's folder, which any parquet
    # reader may scan), not deleted
    assert len(list((store.root / "_damaged").rglob("data*.parquet.*"))) == 1
    now = month_file(store, "getusercumulate", "2026-10")
    assert [p.name for p in damaged.parent.iterdir()] == [now.name]
    pd.read_parquet(store.root / "getusercumulate")  # the store reads as it is


def test_an_altered_file_of_the_same_size_is_caught_by_its_checksum(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    store, sound = synced
    path = month_file(store, "getusersummary", "2026-10")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle: same size
    path.write_bytes(bytes(data))
    problems = store.verify()
    assert problems["path"].tolist() == [str(path)]
    assert problems["problem"].str.contains("checksum").all()
    store.verify(repair=True)
    assert store.verify().empty
    september = sound["getusersummary"][sound["getusersummary"]["ref_date"] < "2026-10-01"]
    pd.testing.assert_frame_equal(store.read("getusersummary"), september)  # October forgotten
    with serve(seed=0, today=TODAY_2026) as sim:
        store.sync(sim.client(), "2026-09-01", "2026-10-31", endpoints=ENDPOINTS, progress=False)
    pd.testing.assert_frame_equal(store.read("getusersummary"), sound["getusersummary"])


def test_damaged_imported_history_is_reported_until_imported_again(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    with serve(seed=0, today="2024-06-01") as sim:
        archive = sim.write_archive("getusershare", date(2024, 4, 1), date(2024, 5, 31),
                                    tmp_path / "share.jsonl")  # fmt: skip
    store.import_json("getusershare", archive, account=sim.appid)
    sound = store.read("getusershare")
    month_file(store, "getusershare", "2024-04").unlink()
    problems = store.verify(repair=True)
    assert problems[["month", "next"]].values.tolist() == [["2024-04", "import"]]
    # forgotten, so reads work, but neither verify nor a read keeps quiet about it
    again = store.verify()
    assert again["problem"].str.startswith("lost: 30 days of imported history").all()
    with pytest.warns(StoreDamagedWarning, match="imported history of 2024-04"):
        assert len(store.read("getusershare")) < len(sound)
    store.import_json("getusershare", archive, account=sim.appid)
    assert store.verify().empty
    pd.testing.assert_frame_equal(store.read("getusershare"), sound)


def test_a_lost_month_of_the_manifest_is_named_by_verify_and_repaired(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    store, sound = synced
    shard_file(store, "getusersummary", "2026-09").unlink()
    problems = store.verify()
    assert problems[["endpoint", "month", "next", "repair"]].values.tolist() == [
        ["getusersummary", "2026-09", "keep", "keep, list again"]
    ]
    # (the pointer names the month: its record is lost, and the data file sound)
    assert "is missing, though the manifest's pointer names it" in problems["problem"].iloc[0]
    assert problems["path"].iloc[0] == str(month_file(store, "getusersummary", "2026-09"))
    store.verify(repair=True)  # the file is sound: listed again, not moved (issue 28)
    assert not (store.root / "_damaged").exists()
    assert store.verify().empty
    pd.testing.assert_frame_equal(store.read("getusersummary"), sound["getusersummary"])
    next_sync_restores(store, sound)
