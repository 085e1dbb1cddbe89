"""The store on the current family: fewest calls, delayed windows, 30-day refreshes,
offline endpoints, per-endpoint quota stops, first days, and JSON archive import."""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

import wxframe
from wxframe import (
    CURRENT_ENDPOINTS,
    ENDPOINTS,
    OFFLINE_ENDPOINTS,
    EndpointSkippedWarning,
    Store,
    StoreError,
    SyncIncomplete,
)
from wxframe.simulator import serve

TODAY = date(2026, 12, 1)
END = TODAY - timedelta(days=1)
BEGIN = END - timedelta(days=59)  # 60 days
FAST = {"backoff": 0.0, "max_backoff": 0.0}


def calls_by_endpoint(sim: wxframe.simulator.Simulator) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, *_ in sim.stats.answered:
        counts[name] = counts.get(name, 0) + 1
    return counts


def test_first_sync_makes_the_fewest_calls_and_a_day_later_only_what_can_change(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    with serve(seed=0, today=TODAY) as sim:
        first = store.sync(sim.client(), BEGIN, END, progress=False)
        assert calls_by_endpoint(sim) == {
            name: math.ceil(60 / spec.max_span) for name, spec in CURRENT_ENDPOINTS.items()
        }
        assert first.calls == sum(spec.calls(60) for spec in CURRENT_ENDPOINTS.values())
        answered = len(sim.stats.answered)
        sim.advance(1)
        later = store.sync(sim.client(), progress=False)
        new = sim.stats.answered[answered:]
    by_endpoint: dict[str, list[str]] = {}
    for name, begin, _end, _code in new:
        by_endpoint.setdefault(name, []).append(begin)
    # the new day for every endpoint; getarticletotaldetail also the 29 publish days
    # whose 30 days were not all final
    new_day = END + timedelta(days=1)
    for name in CURRENT_ENDPOINTS:
        if name != "getarticletotaldetail":
            assert by_endpoint[name] == [new_day.isoformat()], name
    growing = sorted(by_endpoint["getarticletotaldetail"])
    assert growing == [(END - timedelta(days=28 - i)).isoformat() for i in range(30)]
    assert later.calls == 5 + 30
    for name, spec in CURRENT_ENDPOINTS.items():
        df = store.read(name)
        assert not df.duplicated(["account", *spec.key]).any(), name


def test_a_delayed_window_is_fetched_again_and_replaced(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with serve(seed=0, today=TODAY, hour=6) as sim:  # yesterday is not final before 08:00
        with pytest.warns(wxframe.IncompleteDataWarning):
            store.sync(sim.client(), END - timedelta(days=2), END, progress=False,
                       endpoints=["getarticleread", "getbizsummary"])  # fmt: skip
        early = store.read("getarticleread", END, END)
        assert early["is_delay"].all() and len(early)
        days = store.days().set_index(["endpoint", "ref_date"])
        assert not days.loc[("getarticleread", pd.Timestamp(END)), "final"]
        assert days.loc[("getarticleread", pd.Timestamp(END - timedelta(days=1))), "final"]
        sim.set_clock(TODAY, hour=9)
        answered = len(sim.stats.answered)
        again = store.sync(sim.client(), END - timedelta(days=2), END, progress=False,
                           endpoints=["getarticleread", "getbizsummary"])  # fmt: skip
        asked = sim.stats.answered[answered:]
        expected = wxframe.load_article_read(sim.client(), END, END, progress=False)
    assert {(name, begin) for name, begin, *_ in asked} == {
        ("getarticleread", END.isoformat()),
        ("getbizsummary", (END - timedelta(days=2)).isoformat()),  # its one 3-day window
    }
    assert again.calls == 2
    late = store.read("getarticleread", END, END).drop(columns="account")
    pd.testing.assert_frame_equal(late, expected)  # replaced, not appended
    assert early["read_user"].sum() < late["read_user"].sum()
    assert not late["is_delay"].any()


def test_old_windows_the_platform_flags_as_delayed_are_refetched_until_final(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    with serve(seed=0, today=TODAY, delay_rate=0.4) as sim:
        store.sync(sim.client(), BEGIN, END, endpoints="getarticleshare", progress=False)
        pending = store.days().query("not final")["ref_date"].dt.date.tolist()
        assert 5 < len(pending) < 55
        answered = len(sim.stats.answered)
        store.sync(sim.client(), BEGIN, END, endpoints="getarticleshare", progress=False)
        asked = sorted(date.fromisoformat(b) for _, b, *_ in sim.stats.answered[answered:])
        assert asked == sorted(pending)
        for _ in range(10):  # each time fewer: a window asked again can come back final
            store.sync(sim.client(), BEGIN, END, endpoints="getarticleshare", progress=False)
        assert store.days()["final"].all()
        expected = wxframe.load_article_share(sim.client(), BEGIN, END, progress=False)
    got = store.read("getarticleshare").drop(columns="account")
    pd.testing.assert_frame_equal(
        got.drop(columns="is_delay"), expected.drop(columns="is_delay"), check_like=False
    )


def test_an_offline_endpoint_is_asked_once_and_then_skipped(tmp_path: Path) -> None:
    store = Store(tmp_path)
    named = ["getuserread", "getbizsummary"]
    with serve(seed=0, today=TODAY) as sim:  # the six answer 47009 since 2026-07-01
        first = store.sync(sim.client(), END - timedelta(days=9), END, endpoints=named,
                           progress=False)  # fmt: skip
        assert calls_by_endpoint(sim)["getuserread"] == 1
        assert "getuserread" in first.offline and "switched off" in str(first)
        assert len(store.read("getbizsummary")) > 0  # the sync went on
        manifest = json.loads((tmp_path / "_manifest" / f"{sim.appid}.json").read_text())
        assert manifest["endpoints"]["getuserread"]["offline"]["successors"] == ["getbizsummary"]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            second = store.sync(sim.client(), END - timedelta(days=9), END, endpoints=named,
                                progress=False)  # fmt: skip
        assert calls_by_endpoint(sim)["getuserread"] == 1  # not asked again
    skipped = [w for w in caught if issubclass(w.category, EndpointSkippedWarning)]
    assert len(skipped) == 1 and "getuserread (errcode 47009 since 2026-12-01)" in str(
        skipped[0].message
    )
    assert second.offline == {"getuserread": "errcode 47009 since 2026-12-01"}


def test_a_quota_stop_stops_only_its_endpoint(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with serve(seed=0, today=TODAY, daily_quota={"getarticleread": 12}) as sim:
        with pytest.raises(SyncIncomplete) as stopped:
            store.sync(sim.client(max_workers=1, **FAST), BEGIN, END, progress=False)
        error = stopped.value
        assert set(error.remaining) == {"getarticleread"}
        assert len(error.remaining["getarticleread"]) == 48
        assert "getarticleread: 48 window(s)" in str(error) and "tomorrow" in str(error)
        held = store.coverage().set_index("endpoint")["days_held"]
        assert held["getarticleread"] == 12
        assert (held.drop("getarticleread") == 60).all()  # the others went on and finished
        sim.advance(1)
        with pytest.raises(SyncIncomplete):  # 12 a day: it takes a few days
            store.sync(sim.client(**FAST), BEGIN, END, progress=False)
        assert store.coverage().set_index("endpoint")["days_held"]["getarticleread"] == 24


def test_each_endpoints_first_day_bounds_a_sync(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with serve(seed=0, today=TODAY) as sim:
        summary = store.sync(sim.client(), "2025-10-20", "2025-11-05", progress=False)
        asked = {(name, begin) for name, begin, *_ in sim.stats.answered}
    assert summary.calls > 0
    assert min(b for n, b in asked if n == "getarticleread") == "2025-11-01"
    assert min(b for n, b in asked if n == "getbizsummary") == "2025-11-01"
    assert min(b for n, b in asked if n == "getusersummary") == "2025-10-20"
    coverage = store.coverage().set_index("endpoint")
    assert str(coverage.loc["getarticleread", "first"]) == "2025-11-01"
    assert str(coverage.loc["getusercumulate", "first"]) == "2025-10-20"


# --------------------------------------------------------------------------- import
def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its content's hash (what "changes no file" checks)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not (p.name.startswith(".wxframe.") and p.name.endswith(".lock"))
    }


def test_an_import_of_what_a_sync_fetches_equals_the_synced_store(tmp_path: Path) -> None:
    begin, end = END - timedelta(days=19), END  # 20 days
    synced, imported = Store(tmp_path / "synced"), Store(tmp_path / "imported")
    archive = tmp_path / "archive"
    with serve(seed=2, today=TODAY + timedelta(days=31)) as sim:  # every day final
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
    with serve(seed=2, today=TODAY + timedelta(days=31)) as sim:
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


def test_cli_import_and_sync_family(tmp_path: Path) -> None:
    import subprocess
    import sys

    with serve(seed=0, today="2025-06-01") as sim:
        sim.write_archive("getusershare", date(2025, 5, 1), date(2025, 5, 31),
                          tmp_path / "share.jsonl")  # fmt: skip
    cmd = [sys.executable, "-m", "wxframe", "import", "--store", str(tmp_path / "s"),
           "--endpoint", "getusershare", "--account", "wx5im0000000000001",
           str(tmp_path / "share.jsonl")]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "31 day(s) written" in run.stdout
    again = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert "0 day(s) written, 31 day(s) already held" in again.stdout
    bad = subprocess.run([*cmd[:-1], str(tmp_path / "nope.json")], capture_output=True,
                         text=True, check=False)  # fmt: skip
    assert bad.returncode == 2 and "no such file" in bad.stderr and "Traceback" not in bad.stderr
    assert set(OFFLINE_ENDPOINTS) | set(CURRENT_ENDPOINTS) == set(ENDPOINTS)
