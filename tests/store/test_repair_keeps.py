"""A repair never removes or hides data it cannot show damaged, and fetches only what it
set aside; verify says what a repair would do before it does it (issue 28, item 7)."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import month_file, shard_file
from wxframe import Refetch, Store
from wxframe.cli import main
from wxframe.simulator import serve

MONTHS = ["2024-02", "2024-03", "2024-04", "2024-05"]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of four months of getusershare imported from the simulator's archive (the
    six are switched off since: only the archive brings them back)."""
    root = tmp_path_factory.mktemp("imported")
    with serve(seed=0, today="2024-06-01") as sim:
        archive = sim.write_archive("getusershare", date(2024, 2, 1), date(2024, 5, 31),
                                    root / "share.jsonl")  # fmt: skip
    Store(root / "store").import_json("getusershare", archive, account=sim.appid)
    return root / "store"


def _copy(store: Path, into: Path) -> Store:
    shutil.copytree(store, into)  # times kept (copy2): the files are as written
    return Store(into)


def _shard(store: Store, month: str) -> Path:
    return shard_file(store, "getusershare", month)


def test_a_deleted_month_of_the_manifest_keeps_its_imported_history(
    imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _copy(imported, tmp_path / "store")
    sound = store.read("getusershare")
    _shard(store, "2024-04").unlink()
    # verify says what a repair would do, before it does it
    assert main(["verify", "--store", str(store.root)]) == 1
    out = capsys.readouterr().out
    assert "getusershare 2024-04" in out and "keep, list again" in out
    assert "--repair` would do what the repair column says (keep, list again: 1)" in out
    assert (store.root / "_manifest").is_dir() and not _shard(store, "2024-04").exists()
    # the repair keeps the file where it is and lists it again; nothing to fetch
    data = month_file(store, "getusershare", "2024-04")
    before = data.read_bytes()
    assert main(["verify", "--store", str(store.root), "--repair"]) == 0
    out = capsys.readouterr().out
    assert "getusershare 2024-04 of wx5im0000000000001: the data file is sound, kept" in out
    assert data.read_bytes() == before and not (store.root / "_damaged").exists()
    assert main(["verify", "--store", str(store.root)]) == 0
    assert "is sound" in capsys.readouterr().out
    pd.testing.assert_frame_equal(store.read("getusershare"), sound)
    april = store.days().query("ref_date >= '2024-04-01' and ref_date <= '2024-04-30'")
    assert len(april) == 30 and april["final"].all()  # history: a sync never asks it


@settings(max_examples=12, deadline=None)
@given(
    damage=st.dictionaries(
        st.sampled_from(MONTHS),
        st.sampled_from(["deleted", "not json", "no days", "days of another shape"]),
        min_size=1,
    )
)
def test_any_damage_to_months_of_the_manifest_keeps_every_sound_data_file(
    imported: Path, damage: dict[str, str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = _copy(imported, Path(tmp) / "store")
        sound = store.read("getusershare")
        files = {m: month_file(store, "getusershare", m).read_bytes() for m in MONTHS}
        for month, how in damage.items():
            shard = _shard(store, month)
            record = json.loads(shard.read_text("utf-8"))
            if how == "deleted":
                shard.unlink()
            elif how == "not json":
                shard.write_text("{not json", "utf-8")
            elif how == "no days":  # its data file's record (rows, bytes, SHA-256) still there
                shard.write_text(json.dumps({"file": record["file"]}), "utf-8")
            else:
                shard.write_text(json.dumps({**record, "days": [1, 2]}), "utf-8")
        found = store.verify()  # what a repair would do, before it does it
        done = store.repair()
        assert {m: month_file(store, "getusershare", m).read_bytes() for m in MONTHS} == files
        assert not list((store.root / "_damaged").rglob("data*.parquet.*"))
        assert store.verify().empty
        pd.testing.assert_frame_equal(store.read("getusershare"), sound)
        assert sorted(found["month"]) == sorted(damage)
        assert set(found["repair"]) == {"keep, list again"}
        assert sorted(done.kept["month"]) == sorted(damage) and not done.refetch


def test_a_data_file_that_is_not_what_was_written_is_still_set_aside(
    imported: Path, tmp_path: Path
) -> None:
    store = _copy(imported, tmp_path / "store")
    # a flipped byte in a page of a file whose month the manifest lost: its CRC fails
    _shard(store, "2024-03").unlink()
    path = month_file(store, "getusershare", "2024-03")
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))
    # a sound parquet file, but not the one the manifest's damaged record says was written
    record = json.loads(_shard(store, "2024-04").read_text("utf-8"))
    _shard(store, "2024-04").write_text(json.dumps({"file": record["file"]}), "utf-8")
    april = month_file(store, "getusershare", "2024-04")
    pq.write_table(pq.read_table(april).slice(1), april)
    found = store.verify().set_index("month")
    assert found.loc["2024-03", "repair"] == "set aside, fetch again"
    assert found.loc["2024-04", "repair"] == "set aside, fetch again"
    assert "its SHA-256 is not the one recorded" in found.loc["2024-04", "problem"]
    done = store.repair()
    assert done.kept.empty and len(list((store.root / "_damaged").rglob("data*.parquet.*"))) == 2


# ------------------------------------------------------------------------ fetch
TODAY = "2026-12-01"


def test_a_repair_of_two_damaged_months_far_apart_asks_only_those_months(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "store")
    both = ["getusersummary", "getusercumulate"]
    with serve(seed=0, today=TODAY) as sim:
        client = sim.client()
        store.sync(client, "2026-01-01", "2026-01-31", endpoints=both, progress=False)
        store.sync(client, "2026-10-01", "2026-10-31", endpoints=both, progress=False)
        sound = {name: store.read(name) for name in both}
        january = month_file(store, "getusersummary", "2026-01")
        january.write_bytes(january.read_bytes()[:300])  # truncated
        month_file(store, "getusercumulate", "2026-10").unlink()  # missing
        found = store.verify()  # what a repair would do, before it does it
        before = len(sim.stats.answered)
        done = store.repair(sim.client())
        asked = sim.stats.answered[before:]
    account = sim.appid
    days: dict[str, set[str]] = {}
    for name, b, e, _ in asked:
        first, last = date.fromisoformat(b), date.fromisoformat(e)
        days.setdefault(name, set()).update(
            (first + timedelta(days=n)).strftime("%Y-%m") for n in range((last - first).days + 1)
        )
    assert days == {"getusersummary": {"2026-01"}, "getusercumulate": {"2026-10"}}
    assert len(asked) == done.synced[account].calls == 5 + 5  # 7-day windows of 31 days
    assert done.refetch == [
        Refetch(account, date(2026, 1, 1), date(2026, 1, 31), ("getusersummary",)),
        Refetch(account, date(2026, 10, 1), date(2026, 10, 31), ("getusercumulate",)),
    ]
    assert done.fetched == done.refetch and not done.left
    assert found.set_index("endpoint")["repair"].to_dict() == {
        "getusersummary": "set aside, fetch again",
        "getusercumulate": "forget, fetch again",
    }
    assert store.verify().empty
    for name in both:
        pd.testing.assert_frame_equal(store.read(name), sound[name])
