"""Hostile files the store and the CLI read: a manifest that is not a manifest (null, an
array, a number, truncated, binary, nested 100,000 deep), an archive and an accounts file
nested too deep. Each ends in a wxframe error naming the file, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import wxframe
from tests.conftest import APPID, SYNCED_ENDPOINTS
from wxframe import StoreError
from wxframe.cli import main
from wxframe.simulator import serve

#: Files that are not a manifest, of every JSON shape and none.
NOT_A_MANIFEST = {
    "null": b"null",
    "array": b"[]",
    "number": b"3",
    "text": b'"x"',
    "truncated": b'{"account":"wx5im0000000000001","endp',
    "binary": bytes(range(256)),
    "nested_100000_deep": b"[" * 100_000 + b"]" * 100_000,
}
WHAT_IT_IS = {
    "null": "it is JSON null",
    "array": "it is an array",
    "number": "it is a number",
    "text": "it is a string",
    "truncated": "is not valid JSON",
    "binary": "is not valid JSON",
    "nested_100000_deep": "nests arrays or objects 100,000 deep",
}


def _use(store: wxframe.Store, command: str) -> object:
    """One of the store's commands; a sync's client points nowhere (it must not get that
    far: the manifest is read first)."""
    if command == "sync":
        account = store.accounts()[0]
        client = wxframe.Client(account, access_token="t", base_url="http://127.0.0.1:9")
        return store.sync(client, "2026-10-01", "2026-10-02", progress=False)
    if command == "read":
        return store.read("getusersummary")
    return getattr(store, command)()


@pytest.mark.parametrize("command", ["sync", "coverage", "days", "read", "verify", "repair"])
@pytest.mark.parametrize("kind", list(NOT_A_MANIFEST))
def test_an_account_manifest_that_is_not_one_is_named_with_what_to_do(
    synced: tuple[wxframe.Store, dict[str, pd.DataFrame]], kind: str, command: str
) -> None:
    # issue 28 item 10: null (and a number) ended these in a raw TypeError; nested deep,
    # in a RecursionError
    store, _ = synced
    (account,) = store.accounts()
    path = store.root / "_manifest" / f"{account}.json"
    path.write_bytes(NOT_A_MANIFEST[kind])
    with pytest.raises(StoreError) as refused:
        _use(store, command)
    message = str(refused.value)
    assert str(path) in message and WHAT_IT_IS[kind] in message
    # what to do, and only what is true: repair cannot rebuild it
    assert "`wxframe verify --repair` cannot rebuild it" in message
    assert "move it away and sync again" in message


@pytest.mark.parametrize("kind", ["null", "nested_100000_deep"])
def test_a_month_file_that_is_not_one_is_named_and_set_aside_by_repair(
    synced: tuple[wxframe.Store, dict[str, pd.DataFrame]], kind: str
) -> None:
    store, _ = synced
    shard = next((store.root / "_manifest").rglob("2026-10.*.json"))
    shard.write_bytes(NOT_A_MANIFEST[kind])
    with pytest.raises(StoreError, match=r"2026-10\.\w+\.json .*--repair` sets it aside"):
        store.read(shard.parent.name)
    assert not store.verify().empty  # named as damage, not a crash


def test_the_cli_names_a_null_manifest_with_exit_2_and_no_traceback(
    synced: tuple[wxframe.Store, dict[str, pd.DataFrame]], capsys: pytest.CaptureFixture[str]
) -> None:
    store, _ = synced
    (account,) = store.accounts()
    (store.root / "_manifest" / f"{account}.json").write_bytes(b"null")
    for args in (["verify", "--store", str(store.root)], ["coverage", "--store", str(store.root)]):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert "it is JSON null" in err and "Traceback" not in err


def test_moving_a_lost_manifest_away_and_syncing_restores_what_the_message_says(
    synced: tuple[wxframe.Store, dict[str, pd.DataFrame]], tmp_path: Path
) -> None:
    # the message's advice, followed: the sync fetches again what the platform serves,
    # an imported archive is imported again, and the store is sound
    store, sound = synced
    (account,) = store.accounts()
    archive = tmp_path / "read.json"
    rows = [{"ref_date": f"2024-05-0{d}", "user_source": 0, "int_page_read_user": d}
            for d in range(1, 8)]  # fmt: skip
    archive.write_text(json.dumps({"list": rows}))
    store.import_json("getuserread", archive, account=account)
    manifest = store.root / "_manifest" / f"{account}.json"
    manifest.write_bytes(b"null")
    with pytest.raises(StoreError, match="move it away and sync again"):
        store.read("getusersummary")
    shutil.move(manifest, tmp_path / "lost.json")
    with serve(seed=0, today="2026-12-01") as sim:
        store.sync(sim.client(), "2026-09-01", "2026-10-31", endpoints=SYNCED_ENDPOINTS,
                   progress=False)  # fmt: skip
    store.import_json("getuserread", archive, account=account)
    for name in SYNCED_ENDPOINTS:
        pd.testing.assert_frame_equal(store.read(name), sound[name])
    assert len(store.read("getuserread")) == 7
    assert store.verify().empty


def test_an_archive_nested_too_deep_is_refused_by_the_cli_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # issue 28 item 3: a RecursionError traceback before
    saved = tmp_path / "deep.json"
    saved.write_bytes(b'{"list":[{"ref_date":"2026-10-01","x":' + b"[" * 50_000 + b"]" * 50_000
                      + b"}]}")  # fmt: skip
    store = tmp_path / "store"
    code = main(["import", "--store", str(store), "--endpoint", "getarticleshare",
                 "--account", APPID, str(saved)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(saved) in err and "nests arrays or objects 50,003 deep" in err
    assert "Traceback" not in err and not list(tmp_path.glob("store/**/*.parquet"))


def test_an_accounts_file_nested_too_deep_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    code = main(["sync", "--store", str(tmp_path / "store"), "--accounts", str(accounts)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(accounts) in err and "too deep" in err and "Traceback" not in err
