"""The parquet store: incremental sync, refreshes, round trips, faults, locks, DuckDB."""

from __future__ import annotations

import json
import math
import random
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import wxframe
from tests.conftest import TODAY
from wxframe import OFFLINE_ENDPOINTS, Store, StoreLockedError, SyncIncomplete
from wxframe.simulator import serve

#: These tests are about the six original endpoints' history.
OFFLINE = list(OFFLINE_ENDPOINTS)

BEGIN, END = date(2024, 5, 1), date(2024, 5, 31)
FAST = {"backoff": 0.001, "max_backoff": 0.01, "rate_limit_wait": 0.01}


def minimum_calls(days: int) -> int:
    return sum(math.ceil(days / spec.max_span) for spec in OFFLINE_ENDPOINTS.values())


def test_sync_reads_back_exactly_what_the_loaders_return(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY) as s:
        store = Store(tmp_path)
        summary = store.sync(s.client(), BEGIN, END, progress=False, endpoints=OFFLINE)
        assert summary.calls == minimum_calls(31) == s.stats.calls()
        client = s.client()
        for name, spec in OFFLINE_ENDPOINTS.items():
            loaded = wxframe.load(client, name, BEGIN, END)
            stored = store.read(name)
            assert stored["account"].unique().tolist() == [s.appid]
            pd.testing.assert_frame_equal(stored.drop(columns="account"), loaded)
            assert summary.endpoints[name]["rows"] == len(loaded)
            assert not stored.duplicated(["account", *spec.key]).any()


def test_second_sync_fetches_only_what_can_still_change(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY, hour=12) as s:
        store = Store(tmp_path)
        store.sync(s.client(), BEGIN, END, progress=False, endpoints=OFFLINE)
        before = s.stats.calls()
        again = store.sync(s.client(), BEGIN, END, progress=False, endpoints=OFFLINE)
        # Only getarticletotal sending days whose 7 stat days are not all complete:
        # last complete day 05-31, so ref_dates 05-26..05-31.
        refreshed = {b for name, b, _, _ in s.stats.answered[before:]}
        assert {name for name, *_ in s.stats.answered[before:]} == {"getarticletotal"}
        assert refreshed == {f"2024-05-{d}" for d in range(26, 32)}
        assert again.calls == 6 and again.windows_skipped == minimum_calls(31) - 6
        # A day later: the new day's windows plus the getarticletotal refresh.
        s.advance(days=1)
        before = s.stats.calls()
        later = store.sync(
            s.client(), progress=False, endpoints=OFFLINE
        )  # begin: the store's first day
        calls = s.stats.answered[before:]
        new_day = [c for c in calls if c[1] == "2024-06-01"]
        assert len(new_day) == len(OFFLINE_ENDPOINTS)
        total_refresh = sorted(c[1] for c in calls if c[0] == "getarticletotal")
        # last complete day 06-01: ref_dates 05-26..06-01 can still grow
        assert total_refresh == [f"2024-05-{d}" for d in range(26, 32)] + ["2024-06-01"]
        assert later.calls == len(calls) == len(OFFLINE_ENDPOINTS) + 6


def test_days_fetched_before_eight_are_fetched_again(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY, hour=7) as s:
        store = Store(tmp_path)
        with pytest.warns(wxframe.IncompleteDataWarning):
            store.sync(s.client(), "2024-05-29", "2024-05-31", endpoints=["getusershare"])
        partial = store.read("getusershare", "2024-05-31", "2024-05-31")
        cov = store.coverage().set_index("endpoint").loc["getusershare"]
        assert cov["days_to_refresh"] == 1 and cov["refresh"] == "2024-05-31"
        s.set_clock(TODAY, hour=9)
        before = s.stats.calls()
        store.sync(s.client(), "2024-05-29", "2024-05-31", endpoints=["getusershare"])
        assert s.stats.answered[before:] == [("getusershare", "2024-05-31", "2024-05-31", 0)]
        final = store.read("getusershare", "2024-05-31", "2024-05-31")
        assert final["share_count"].sum() > partial["share_count"].sum()
        assert len(final) == len(partial) == 3  # replaced, not appended


def test_empty_windows_are_recorded_and_not_fetched_again(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY, start="2024-05-20") as s:  # no data before 05-20
        store = Store(tmp_path)
        store.sync(s.client(), "2024-05-10", "2024-05-25", endpoints=["getuserread"])
        before = s.stats.calls()
        store.sync(s.client(), "2024-05-10", "2024-05-25", endpoints=["getuserread"])
        assert s.stats.calls() == before
        assert store.read("getuserread")["ref_date"].min() == pd.Timestamp("2024-05-20")


def test_read_prunes_partitions_and_filters(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY) as s:
        store = Store(tmp_path)
        store.sync(s.client(), "2024-04-01", "2024-05-31", endpoints=["getuserread"])
        may = store.read("getuserread", "2024-05-10", "2024-05-12", columns=["int_page_read_count"])
        assert list(may.columns) == ["account", "int_page_read_count"]
        assert len(may) == 3 * 8
        everything = store.read("getuserread")
        assert everything["ref_date"].dt.month.unique().tolist() == [4, 5]
        assert store.read("getuserread", account="wx-other").empty
        files = sorted(p.parent.name for p in tmp_path.rglob("*.parquet"))
        assert files == ["month=2024-04", "month=2024-05"]
        with pytest.raises(wxframe.ConfigurationError, match="unknown column"):
            store.read("getuserread", columns=["nope"])


def test_several_accounts_in_one_store(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with serve(seed=0, today=TODAY) as a, serve(seed=1, today=TODAY) as b:
        assert (a.appid, b.appid) == ("wx5im0000000000001", "wx5im0000000000002")  # one a seed
        store.sync(a.client(), "2024-05-01", "2024-05-07", endpoints=["getusershare"])
        store.sync(b.client(), "2024-05-01", "2024-05-07", endpoints=["getusershare"])
    assert store.accounts() == ["wx5im0000000000001", "wx5im0000000000002"]
    both = store.read("getusershare")
    assert both.groupby("account").size().tolist() == [21, 21]
    only_b = store.read("getusershare", account="wx5im0000000000002")
    assert len(only_b) == 21 and set(only_b["account"]) == {"wx5im0000000000002"}


def test_quota_stop_keeps_everything_and_says_what_remains(tmp_path: Path) -> None:
    quota = {"getarticletotal": 20}
    with serve(seed=0, today=TODAY, daily_quota=quota) as s:
        store = Store(tmp_path)
        client = s.client(max_workers=1, **FAST)
        with pytest.raises(SyncIncomplete) as info:
            store.sync(client, BEGIN, END, progress=False, endpoints=OFFLINE)
        err = info.value
        assert isinstance(err.__cause__, wxframe.QuotaExceededError)
        assert "45009" in str(err) and "getarticletotal: 11 window(s)" in str(err)
        assert "tomorrow" in str(err)
        assert len(err.remaining["getarticletotal"]) == 11
        # A quota is an endpoint's own: the endpoints after it went on and finished.
        assert set(err.remaining) == {"getarticletotal"}
        held = store.coverage().set_index("endpoint")["days_held"]
        assert held["getarticletotal"] == 20 and held["getarticlesummary"] == 31
        assert (held.drop("getarticletotal") == 31).all()
        kept = store.read("getarticletotal")
        assert kept["ref_date"].max() <= pd.Timestamp("2024-05-20")
        # The next simulated day the quota is fresh and a rerun completes the range.
        s.advance(days=1)
        store.sync(s.client(**FAST), BEGIN, END, progress=False, endpoints=OFFLINE)
        assert store.coverage()["days_held"].tolist() == [31] * 6
        assert store.read("getusersharehour")["ref_date"].nunique() == 31


def test_cli_sync_exits_non_zero_with_the_message_on_a_quota_stop(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY, daily_quota=3) as s:
        env = {"WX_APPID": s.appid, "WX_APPSECRET": s.secret, "WX_API_BASE": s.url}
        run = subprocess.run(
            [sys.executable, "-m", "wxframe", "sync", "--store", str(tmp_path), "--quiet",
             "--begin", "2024-05-01", "--end", "2024-05-10", "--family", "offline"],
            capture_output=True, text=True, env=env | _base_env(), timeout=120,
        )  # fmt: skip
    assert run.returncode == 3
    assert "45009" in run.stderr and "remaining" in run.stderr
    assert s.secret not in run.stderr + run.stdout


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("WX_")}


def test_a_second_sync_on_a_locked_store_fails_clearly(tmp_path: Path) -> None:
    import filelock

    store = Store(tmp_path)
    with serve(seed=0, today=TODAY) as s:
        holder = filelock.FileLock(str(tmp_path / f".wxframe.{s.appid}.lock"))
        tmp_path.mkdir(exist_ok=True)
        with holder:
            with pytest.raises(StoreLockedError, match=f"another sync is writing {s.appid}"):
                store.sync(s.client(), BEGIN, BEGIN, endpoints=OFFLINE)
            assert s.stats.calls() == 0
        store.sync(s.client(), BEGIN, BEGIN, endpoints=OFFLINE)  # free again
        assert s.stats.calls() == len(OFFLINE_ENDPOINTS)


def test_two_concurrent_syncs_never_corrupt_the_store(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "wxframe", "sync", "--store", str(tmp_path), "--simulator",
           "--today", "2024-06-01", "--begin", "2024-05-01", "--end", "2024-05-20", "--quiet",
           "--lock-timeout", "120", "--family", "offline"]  # fmt: skip
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    # one did the work, the other waited and found it done (only refresh windows)
    calls = sorted(int(out.decode().split("synced")[1].split(":")[1].split()[0]) for out, _ in outs)
    assert calls[0] <= 7 and calls[1] == minimum_calls(20)
    store = Store(tmp_path)
    for name, spec in OFFLINE_ENDPOINTS.items():
        df = store.read(name)
        assert not df.duplicated(["account", *spec.key]).any()
    assert store.coverage()["days_held"].tolist() == [20] * len(OFFLINE_ENDPOINTS)


def test_killed_syncs_resume_to_the_same_store(tmp_path: Path) -> None:
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    args = ["--simulator", "--today", "2024-06-01", "--begin", "2024-04-01", "--end",
            "2024-05-31", "--quiet", "--family", "offline"]  # fmt: skip
    cmd = [sys.executable, "-m", "wxframe", "sync"]
    subprocess.run([*cmd, "--store", str(clean), *args], check=True, capture_output=True)
    # Kill at seeded points of progress (windows written, read from the manifest), not
    # after wall-clock sleeps, so every kill lands mid-sync however fast the machine is.
    total = sum(math.ceil(61 / spec.max_span) for spec in OFFLINE_ENDPOINTS.values())
    points = sorted(random.Random(5).sample(range(5, total - 60), 4))
    kills = 0
    for point in points:
        proc = subprocess.Popen([*cmd, "--store", str(killed), *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 120
        while proc.poll() is None and windows_written(killed) < point:
            assert time.monotonic() < deadline, "the sync made no progress"
            time.sleep(0.005)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        # readable after every kill, and never a duplicate
        for name, spec in OFFLINE_ENDPOINTS.items():
            assert not Store(killed).read(name).duplicated(["account", *spec.key]).any()
    assert kills == len(points)
    assert windows_written(killed) < total  # something was still left to resume
    subprocess.run([*cmd, "--store", str(killed), *args], check=True, capture_output=True)
    for name in OFFLINE_ENDPOINTS:
        pd.testing.assert_frame_equal(Store(killed).read(name), Store(clean).read(name))
    assert not list(killed.rglob("*.tmp"))


def windows_written(root: Path) -> int:
    """Windows the store's manifests record (each manifest is replaced atomically)."""
    return sum(
        int(entry.get("windows", 0))
        for path in (root / "_manifest").glob("*.json")
        for entry in json.loads(path.read_text())["endpoints"].values()
    )


def test_duckdb_reads_the_store_as_it_is(tmp_path: Path) -> None:
    import duckdb  # a dev dependency: this test must run, not skip

    with serve(seed=0, today=TODAY) as s:
        store = Store(tmp_path)
        store.sync(s.client(), BEGIN, END, endpoints=["getuserread"])
    pattern = str(tmp_path / "getuserread" / "**" / "*.parquet")
    got = duckdb.sql(
        f"select account, month, count(*) n, sum(int_page_read_count) reads "
        f"from read_parquet('{pattern}', hive_partitioning=true) "
        f"where user_source = 99999999 group by all"
    ).fetchall()
    df = store.read("getuserread")
    expected = int(df.loc[df["channel"] == "all", "int_page_read_count"].sum())
    assert got == [(s.appid, "2024-05", 31, expected)]


def test_no_secret_or_token_in_any_file_the_store_writes(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY) as s:
        client = s.client()
        Store(tmp_path).sync(client, BEGIN, END, progress=False, endpoints=OFFLINE)
        secrets = [s.secret, *s._tokens]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in blob, path
            if path.suffix == ".parquet":
                meta = pq.read_metadata(path).metadata or {}
                assert not any(secret.encode() in v for v in meta.values() for secret in secrets)
    manifest = json.loads(next((tmp_path / "_manifest").glob("*.json")).read_text())
    assert set(manifest["endpoints"]) == set(OFFLINE_ENDPOINTS)


def test_default_range_is_thirty_days_then_the_stores_first_day(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY) as s:
        store = Store(tmp_path)
        store.sync(s.client(), endpoints=["getusershare"])
        df = store.read("getusershare")
        assert df["ref_date"].min() == pd.Timestamp(END - timedelta(days=29))
        assert df["ref_date"].max() == pd.Timestamp(END)
