"""Importing archives of JSON answers: the same store a sync makes, bad files refused."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

import wxframe
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
        ('{"errcode": 47009, "errmsg": "this api is offline"}', "an error answer (errcode 47009)"),
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
