"""Importing archives of JSON answers: the same store a sync makes, bad files refused."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

import wxframe
import wxframe.cli
from wxframe import (
    CURRENT_ENDPOINTS,
    Store,
    StoreError,
)
from wxframe.simulator import serve

SYNC_TODAY = date(2026, 12, 1)


SYNC_END = SYNC_TODAY - timedelta(days=1)


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its content's hash (what "changes no file" checks)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not (p.name.startswith(".wxframe.") and p.name.endswith(".lock"))
    }


@pytest.mark.slow
def test_an_import_of_what_a_sync_fetches_equals_the_synced_store(tmp_path: Path) -> None:
    begin, end = SYNC_END - timedelta(days=19), SYNC_END  # 20 days
    synced, imported = Store(tmp_path / "synced"), Store(tmp_path / "imported")
    archive = tmp_path / "archive"
    with serve(seed=2, today=SYNC_TODAY + timedelta(days=31)) as sim:  # every day final
        client = sim.client()
        synced.sync(client, begin, end, progress=False)
        # the sync took every answer straight from its bytes (pyarrow), the import below
        # goes through json: the two stores must be equal
        assert client.counts["decoded"] == client.counts["calls"] > 0
        for name, spec in CURRENT_ENDPOINTS.items():
            # what a script saves: one raw response per window, as JSON Lines
            lines = []
            for window in spec.windows(begin, end):
                page = sim.client().fetch(spec, window.begin, window.end)
                lines.append(json.dumps({"errcode": 0, "errmsg": "ok", "list": list(page)}
                                        | page.meta, ensure_ascii=False))  # fmt: skip
            (archive / name).mkdir(parents=True)
            (archive / name / "saved.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
        appid = sim.appid
    for name in CURRENT_ENDPOINTS:
        summary = imported.import_json(name, archive / name, account=appid)
        assert summary.days_written > 0
        pd.testing.assert_frame_equal(imported.read(name), synced.read(name), obj=name)
    before = _tree(tmp_path / "imported")
    for name in CURRENT_ENDPOINTS:
        again = imported.import_json(name, archive / name)  # the store's only account
        assert again.days_written == 0 and again.days_skipped > 0
    assert _tree(tmp_path / "imported") == before  # importing twice changes no file
    days = imported.days()
    assert days["final"].all()
    # an imported day is final: a sync does not fetch it
    with serve(seed=2, today=SYNC_TODAY + timedelta(days=31)) as sim:
        imported.sync(sim.client(), begin, end, endpoints="getbizsummary", progress=False)
        assert sim.stats.datacube_calls == 0


def test_import_takes_the_six_history_as_arrays_or_single_responses(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    with serve(seed=0, today="2025-06-01") as sim:  # before the switch-off
        records = sim.client().fetch("getuserread", "2025-05-01", "2025-05-03")
        expected = wxframe.load_user_read(sim.client(), "2025-05-01", "2025-05-03")
        share = sim.client().fetch("getusershare", "2025-05-01", "2025-05-07")
    (tmp_path / "read.json").write_text(json.dumps(list(records)), "utf-8")  # an array
    (tmp_path / "share.json").write_text(json.dumps({"list": list(share)}), "utf-8")
    store.import_json("getuserread", tmp_path / "read.json", account="wx5im0000000000001")
    store.import_json("getusershare", [tmp_path / "share.json"])
    pd.testing.assert_frame_equal(store.read("getuserread").drop(columns="account"), expected)
    assert store.read("getusershare")["ref_date"].nunique() == 7


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "line 1 is not JSON"),
        (
            '{"errcode": 47009, "errmsg": "this api is offline"}',
            "errcode 47009 (this api is offline)",
        ),
        ('{"data": []}', "has a 'list' array; this has keys ['data']"),
        ('[{"ref_date": "2025-11-01", "detail": {"read_user": -5}}]', "cannot be negative"),
        ('[{"msgid": "1_1"}]', "no 'ref_date'"),
        ('"just a string"', "neither a response nor records"),
    ],
)
def test_a_bad_file_is_refused_with_its_name_and_nothing_is_written(
    tmp_path: Path, content: str, reason: str
) -> None:
    store = Store(tmp_path / "store")
    good = tmp_path / "a-good.json"
    good.write_text(json.dumps({"list": [{"ref_date": "2025-11-02", "detail": {"read_user": 3}}],
                                "is_delay": False}), "utf-8")  # fmt: skip
    bad = tmp_path / "b-bad.json"
    bad.write_text(content, "utf-8")
    with pytest.raises(StoreError) as refused:
        store.import_json("getbizsummary", tmp_path, account="wx0123456789abcdef")
    assert str(bad) in str(refused.value) and reason in str(refused.value)
    assert not (tmp_path / "store").exists() or _tree(tmp_path / "store") == {}


def test_import_needs_a_valid_account_and_says_which(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    saved = tmp_path / "x.json"
    saved.write_text('{"list": []}', "utf-8")
    with pytest.raises(wxframe.ConfigurationError, match="say which account"):
        store.import_json("getbizsummary", saved)
    with pytest.raises(wxframe.ConfigurationError, match="is not an appid"):
        store.import_json("getbizsummary", saved, account="../../etc")
    with pytest.raises(StoreError, match="no such file"):
        store.import_json("getbizsummary", tmp_path / "missing.json", account="wx1")


# ------------------------------------------------- issue 27: what import says, and keeps
APPID = "wx0123456789abcdef"


def _import(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = wxframe.cli.main(["import", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_account_hint_names_the_cli_flag_or_the_python_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "share.json"
    record = {"ref_date": "2015-03-01", "share_scene": 1, "share_count": 5, "share_user": 3}
    saved.write_text(json.dumps({"list": [record]}), "utf-8")
    code, _, err = _import(capsys, "--store", tmp_path / "s", "--endpoint", "getusershare", saved)
    assert code == 2
    assert "say which account the files are of (--account APPID)" in err
    assert "account=APPID" not in err
    with pytest.raises(wxframe.ConfigurationError, match=r"\(account=APPID\)"):
        Store(tmp_path / "s").import_json("getusershare", saved)
    assert not (tmp_path / "s").exists()


def test_another_endpoints_records_are_named_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(seed=0, today="2025-06-01") as sim:  # before the switch-off
        share = sim.client().fetch("getusershare", "2025-05-01", "2025-05-07")
        cumulate = sim.client().fetch("getusercumulate", "2025-05-01", "2025-05-07")
    (tmp_path / "share.json").write_text(json.dumps({"list": list(share)}), "utf-8")
    (tmp_path / "cumulate.json").write_text(json.dumps(list(cumulate)), "utf-8")
    store = tmp_path / "s"
    args = ("--store", store, "--account", APPID)
    code, _, err = _import(capsys, *args, "--endpoint", "getuserread", tmp_path / "share.json")
    assert code == 2
    assert (
        f"{tmp_path / 'share.json'}: these look like getusershare records, not getuserread: "
        "import them with --endpoint getusershare"
    ) in err
    assert "share a key" not in err
    code, _, err = _import(
        capsys, *args, "--endpoint", "getusersummary", tmp_path / "cumulate.json"
    )
    assert code == 2 and "--endpoint getusercumulate" in err
    with pytest.raises(StoreError, match="import them with endpoint='getusershare'"):
        Store(store).import_json("getuserread", tmp_path / "share.json", account=APPID)
    assert not store.exists() or _tree(store) == {}
    # and the right endpoint takes them
    assert _import(capsys, *args, "--endpoint", "getusershare", tmp_path / "share.json")[0] == 0


@pytest.mark.parametrize("content", ["", "[]", '{"list": []}', '{"list": [], "is_delay": false}'])
def test_an_empty_file_is_refused_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text(content, "utf-8")
    store = tmp_path / "s"
    code, out, err = _import(
        capsys, "--store", store, "--account", APPID, "--endpoint", "getbizsummary", empty
    )
    assert (code, out) == (2, "")
    assert f"{empty} holds no records" in err
    assert not store.exists() or _tree(store) == {}


def test_a_quiet_days_file_among_others_is_left_out_and_counted(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    record = {"ref_date": "2025-11-02", "detail": {"read_user": 3}}
    (folder / "a.json").write_text(json.dumps({"list": [record], "is_delay": False}), "utf-8")
    (folder / "b.json").write_text('{"list": [], "is_delay": false}', "utf-8")
    summary = Store(tmp_path / "s").import_json("getbizsummary", folder, account=APPID)
    assert (summary.days_written, summary.files_without_records) == (1, 1)
    assert "1 file(s) without records left out" in str(summary)


def test_an_error_answer_is_refused_by_its_errcode_and_meaning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "error.json"
    saved.write_text('{"errcode": 61500, "errmsg": "date format error"}', "utf-8")
    code, _, err = _import(
        capsys, "--store", tmp_path / "s", "--account", APPID, "--endpoint", "getuserread", saved
    )
    assert code == 2
    assert f"{saved}: getuserread: errcode 61500 (date format error)" in err
    with pytest.raises(StoreError) as refused:
        Store(tmp_path / "s").import_json("getuserread", saved, account=APPID)
    assert isinstance(refused.value.__cause__, wxframe.RequestRejectedError)


def test_getusercumulates_user_source_is_kept_through_the_store(tmp_path: Path) -> None:
    """A month written without the column (0 only, or an older wxframe) and one with it
    read as one frame: the platform's values where it sent them, <NA> elsewhere."""
    store = Store(tmp_path / "s")
    (tmp_path / "jan.json").write_text(json.dumps({"list": [
        {"ref_date": "2016-01-30", "user_source": 0, "cumulate_user": 90}]}), "utf-8")  # fmt: skip
    (tmp_path / "feb.json").write_text(json.dumps({"list": [
        {"ref_date": "2016-02-01", "user_source": 0, "cumulate_user": 95},
        {"ref_date": "2016-02-02", "user_source": 39, "cumulate_user": 99}]}), "utf-8")  # fmt: skip
    store.import_json("getusercumulate", tmp_path / "jan.json", account=APPID)
    assert "user_source" not in store.read("getusercumulate").columns
    store.import_json("getusercumulate", tmp_path / "feb.json", account=APPID)
    read = store.read("getusercumulate")
    assert read["cumulate_user"].tolist() == [90, 95, 99]
    assert read["user_source"].dtype == "Int64"
    assert read["user_source"].tolist() == [pd.NA, 0, 39]
    assert store.verify().empty
