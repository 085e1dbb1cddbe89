"""A path that holds no store: every reader names it, and a sync or an import creates a
new store only where its parent folder exists (and says so)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SYNCED_ENDPOINTS
from wxframe import Store, StoreError, StoreNotFoundError
from wxframe.cli import main
from wxframe.datasets import api_example
from wxframe.simulator import Simulator

MISSING = "/no/such/dir"


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "--store", MISSING],
        ["coverage", "--store", MISSING],
        ["report", "--store", MISSING, "--out", "r.html"],
        ["doctor", "--simulator", "--store", MISSING],
        ["import", "--store", MISSING, "--endpoint", "getusershare", "{saved}"],
    ],
    ids=lambda args: args[0],
)
def test_every_reader_names_a_missing_store_in_one_line(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "share.json"
    saved.write_text(json.dumps(api_example("getusershare")))
    status = main([a.replace("{saved}", str(saved)) for a in args])
    out, err = capsys.readouterr()
    assert status == 2
    assert err.count("\n") == 1 and f"no wxframe store at {MISSING}" in err, err
    assert "Traceback" not in err and "store holds nothing" not in out and "sound" not in out
    assert not Path(MISSING).exists()


def test_sync_into_a_missing_parent_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "nonexistent" / "store"
    assert main(["sync", "--simulator", "--quiet", "--store", str(root)]) == 2
    _, err = capsys.readouterr()
    assert f"{root.parent} does not exist; create it or choose another" in err
    assert err.count("\n") == 1
    assert not root.parent.exists()


def test_sync_into_a_new_folder_says_it_creates_a_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "store"
    args = ["sync", "--simulator", "--quiet", "--store", str(root), "--today=2026-12-01",
            "--begin=2026-11-24", "--end=2026-11-30", "--endpoint=getusersummary"]  # fmt: skip
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"creating a new store at {root}" and "synced" in lines[-1]
    assert main(args) == 0  # the second time, a store is there: nothing to announce
    assert "creating" not in capsys.readouterr().out
    assert Store.open(root).accounts() == ["wx5im0000000000001"]


def test_a_root_that_is_a_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "store"
    afile.write_text("notes")
    assert main(["sync", "--simulator", "--quiet", "--store", str(afile)]) == 2
    assert f"{afile} is a file, not a folder" in capsys.readouterr().err
    assert afile.read_text() == "notes"


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda p: None, "no such folder"),
        (lambda p: p.write_text("x"), "a file, not a folder"),
        (lambda p: p.mkdir(), "an empty folder"),
        (lambda p: (p.mkdir(), (p / "notes.txt").write_text("x")), "a folder of other files"),
    ],
    ids=["missing", "file", "empty", "other"],
)
def test_store_open_says_what_is_there_instead(tmp_path: Path, make: object, what: str) -> None:
    root = tmp_path / "store"
    make(root)  # type: ignore[operator]
    with pytest.raises(StoreNotFoundError, match=f"no wxframe store at {root}") as caught:
        Store.open(root)
    assert what in str(caught.value)
    assert isinstance(caught.value, StoreError)


def test_reads_of_a_missing_root_do_not_reassure(tmp_path: Path) -> None:
    store = Store(tmp_path / "typo")
    for call in (
        lambda: store.read("getusersummary"),
        store.coverage,
        store.verify,
        store.days,
        lambda: store.dataset("getusersummary"),
    ):
        with pytest.raises(StoreNotFoundError, match="no such folder"):
            call()
    assert not store.root.exists()


def test_store_sync_creates_a_store_only_where_its_parent_is(
    tmp_path: Path, sim: Simulator
) -> None:
    lost = Store(tmp_path / "nonexistent" / "store")
    with pytest.raises(StoreNotFoundError, match="does not exist; create it"):
        lost.sync(sim.client(), "2024-05-01", "2024-05-07", endpoints="getusersummary",
                  progress=False)  # fmt: skip
    assert not (tmp_path / "nonexistent").exists()
    store = Store(tmp_path / "store")
    assert not store.exists()
    store.sync(sim.client(), "2024-05-01", "2024-05-07", endpoints="getusersummary",
               progress=False)  # fmt: skip
    assert store.exists() and len(Store.open(store.root).read("getusersummary")) > 0


def test_store_open_reads_a_synced_store(synced: tuple[Store, dict[str, pd.DataFrame]]) -> None:
    store, sound = synced
    opened = Store.open(store.root)
    for name in SYNCED_ENDPOINTS:
        pd.testing.assert_frame_equal(opened.read(name), sound[name])
