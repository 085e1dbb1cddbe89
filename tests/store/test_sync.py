"""Syncing a store: the fewest calls, only what can still change fetched again,
quota stops, locks and kills, both families."""

from __future__ import annotations

import json
import math
import random
import signal
import subprocess
import sys
import time
import warnings
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import wxframe
from tests.conftest import (
    FAST,
    TODAY,
    Call,
    Reply,
    answer_bad_once,
    fixture_server,
    minimum_calls,
    windows_written,
)
from wxframe import (
    CURRENT_ENDPOINTS,
    OFFLINE_ENDPOINTS,
    Client,
    EndpointSkippedWarning,
    Store,
    StoreLockedError,
    SyncIncomplete,
)
from wxframe.dates import BEIJING
from wxframe.simulator import serve

#: These tests are about the six original endpoints' history.
OFFLINE = list(OFFLINE_ENDPOINTS)


MAY_FIRST, MAY_LAST = date(2024, 5, 1), date(2024, 5, 31)


SYNC_TODAY = date(2026, 12, 1)


SYNC_END = SYNC_TODAY - timedelta(days=1)


SYNC_BEGIN = SYNC_END - timedelta(days=59)  # 60 days


NO_WAIT = {"backoff": 0.0, "max_backoff": 0.0}


def calls_by_endpoint(sim: wxframe.simulator.Simulator) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, *_ in sim.stats.answered:
        counts[name] = counts.get(name, 0) + 1
    return counts


# An answer the workers' quick look takes for data (an object naming "list") that is not.
NOT_DATA = b'{"data":[],"note":"list"}'


def test_sync_reads_back_exactly_what_the_loaders_return(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY) as s:
        store = Store(tmp_path)
        summary = store.sync(s.client(), MAY_FIRST, MAY_LAST, progress=False, endpoints=OFFLINE)
        assert summary.calls == minimum_calls(31) == s.stats.calls()
        client = s.client()
        for name, spec in OFFLINE_ENDPOINTS.items():
            loaded = wxframe.load(client, name, MAY_FIRST, MAY_LAST)
            stored = store.read(name)
            assert stored["account"].unique().tolist() == [s.appid]
            pd.testing.assert_frame_equal(stored.drop(columns="account"), loaded)
            assert summary.endpoints[name]["rows"] == len(loaded)
            assert not stored.duplicated(["account", *spec.key]).any()


def test_second_sync_fetches_only_what_can_still_change(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY, hour=12) as s:
        store = Store(tmp_path)
        store.sync(s.client(), MAY_FIRST, MAY_LAST, progress=False, endpoints=OFFLINE)
        before = s.stats.calls()
        again = store.sync(s.client(), MAY_FIRST, MAY_LAST, progress=False, endpoints=OFFLINE)
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


def test_quota_stop_keeps_everything_and_says_what_remains(tmp_path: Path) -> None:
    quota = {"getarticletotal": 20}
    with serve(seed=0, today=TODAY, daily_quota=quota) as s:
        store = Store(tmp_path)
        client = s.client(max_workers=1, **FAST)
        with pytest.raises(SyncIncomplete) as info:
            store.sync(client, MAY_FIRST, MAY_LAST, progress=False, endpoints=OFFLINE)
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
        store.sync(s.client(**FAST), MAY_FIRST, MAY_LAST, progress=False, endpoints=OFFLINE)
        assert store.coverage()["days_held"].tolist() == [31] * 6
        assert store.read("getusersharehour")["ref_date"].nunique() == 31


def test_a_second_sync_on_a_locked_store_fails_clearly(tmp_path: Path) -> None:
    import filelock

    store = Store(tmp_path)
    with serve(seed=0, today=TODAY) as s:
        holder = filelock.FileLock(str(tmp_path / f".wxframe.{s.appid}.lock"))
        tmp_path.mkdir(exist_ok=True)
        with holder:
            with pytest.raises(StoreLockedError, match=f"another sync is writing {s.appid}"):
                store.sync(s.client(), MAY_FIRST, MAY_FIRST, endpoints=OFFLINE)
            assert s.stats.calls() == 0
        store.sync(s.client(), MAY_FIRST, MAY_FIRST, endpoints=OFFLINE)  # free again
        assert s.stats.calls() == len(OFFLINE_ENDPOINTS)


@pytest.mark.slow
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


@pytest.mark.slow
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


def test_no_secret_or_token_in_any_file_the_store_writes(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY) as s:
        client = s.client()
        Store(tmp_path).sync(client, MAY_FIRST, MAY_LAST, progress=False, endpoints=OFFLINE)
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
        assert df["ref_date"].min() == pd.Timestamp(MAY_LAST - timedelta(days=29))
        assert df["ref_date"].max() == pd.Timestamp(MAY_LAST)


@pytest.mark.slow
def test_first_sync_makes_the_fewest_calls_and_a_day_later_only_what_can_change(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    with serve(seed=0, today=SYNC_TODAY) as sim:
        first = store.sync(sim.client(), SYNC_BEGIN, SYNC_END, progress=False)
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
    new_day = SYNC_END + timedelta(days=1)
    for name in CURRENT_ENDPOINTS:
        if name != "getarticletotaldetail":
            assert by_endpoint[name] == [new_day.isoformat()], name
    growing = sorted(by_endpoint["getarticletotaldetail"])
    assert growing == [(SYNC_END - timedelta(days=28 - i)).isoformat() for i in range(30)]
    assert later.calls == (len(CURRENT_ENDPOINTS) - 1) + 30  # one new day each, and the 30
    for name, spec in CURRENT_ENDPOINTS.items():
        df = store.read(name)
        assert not df.duplicated(["account", *spec.key]).any(), name


def test_a_delayed_window_is_fetched_again_and_replaced(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with serve(seed=0, today=SYNC_TODAY, hour=6) as sim:  # yesterday is not final before 08:00
        with pytest.warns(wxframe.IncompleteDataWarning):
            store.sync(sim.client(), SYNC_END - timedelta(days=2), SYNC_END, progress=False,
                       endpoints=["getarticleread", "getbizsummary"])  # fmt: skip
        early = store.read("getarticleread", SYNC_END, SYNC_END)
        assert early["is_delay"].all() and len(early)
        days = store.days().set_index(["endpoint", "ref_date"])
        assert not days.loc[("getarticleread", pd.Timestamp(SYNC_END)), "final"]
        assert days.loc[("getarticleread", pd.Timestamp(SYNC_END - timedelta(days=1))), "final"]
        sim.set_clock(SYNC_TODAY, hour=9)
        answered = len(sim.stats.answered)
        again = store.sync(sim.client(), SYNC_END - timedelta(days=2), SYNC_END, progress=False,
                           endpoints=["getarticleread", "getbizsummary"])  # fmt: skip
        asked = sim.stats.answered[answered:]
        expected = wxframe.load_article_read(sim.client(), SYNC_END, SYNC_END, progress=False)
    assert {(name, begin) for name, begin, *_ in asked} == {
        ("getarticleread", SYNC_END.isoformat()),
        ("getbizsummary", (SYNC_END - timedelta(days=2)).isoformat()),  # its one 3-day window
    }
    assert again.calls == 2
    late = store.read("getarticleread", SYNC_END, SYNC_END).drop(columns="account")
    pd.testing.assert_frame_equal(late, expected)  # replaced, not appended
    assert early["read_user"].sum() < late["read_user"].sum()
    assert not late["is_delay"].any()


def test_old_windows_the_platform_flags_as_delayed_are_refetched_until_final(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    with serve(seed=0, today=SYNC_TODAY, delay_rate=0.4) as sim:
        store.sync(sim.client(), SYNC_BEGIN, SYNC_END, endpoints="getarticleshare", progress=False)
        pending = store.days().query("not final")["ref_date"].dt.date.tolist()
        assert 5 < len(pending) < 55
        answered = len(sim.stats.answered)
        store.sync(sim.client(), SYNC_BEGIN, SYNC_END, endpoints="getarticleshare", progress=False)
        asked = sorted(date.fromisoformat(b) for _, b, *_ in sim.stats.answered[answered:])
        assert asked == sorted(pending)
        for _ in range(10):  # each time fewer: a window asked again can come back final
            store.sync(
                sim.client(), SYNC_BEGIN, SYNC_END, endpoints="getarticleshare", progress=False
            )
        assert store.days()["final"].all()
        expected = wxframe.load_article_share(sim.client(), SYNC_BEGIN, SYNC_END, progress=False)
    got = store.read("getarticleshare").drop(columns="account")
    pd.testing.assert_frame_equal(
        got.drop(columns="is_delay"), expected.drop(columns="is_delay"), check_like=False
    )


def test_an_offline_endpoint_is_asked_once_and_then_skipped(tmp_path: Path) -> None:
    store = Store(tmp_path)
    named = ["getuserread", "getbizsummary"]
    with serve(seed=0, today=SYNC_TODAY) as sim:  # the six answer 47009 since 2026-07-01
        first = store.sync(sim.client(), SYNC_END - timedelta(days=9), SYNC_END, endpoints=named,
                           progress=False)  # fmt: skip
        assert calls_by_endpoint(sim)["getuserread"] == 1
        assert "getuserread" in first.offline and "switched off" in str(first)
        assert len(store.read("getbizsummary")) > 0  # the sync went on
        manifest = json.loads((tmp_path / "_manifest" / f"{sim.appid}.json").read_text())
        assert manifest["endpoints"]["getuserread"]["offline"]["successors"] == ["getbizsummary"]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            second = store.sync(sim.client(), SYNC_END - timedelta(days=9), SYNC_END,
                                endpoints=named, progress=False)  # fmt: skip
        assert calls_by_endpoint(sim)["getuserread"] == 1  # not asked again
    skipped = [w for w in caught if issubclass(w.category, EndpointSkippedWarning)]
    assert len(skipped) == 1 and "getuserread (errcode 47009 since 2026-12-01)" in str(
        skipped[0].message
    )
    assert second.offline == {"getuserread": "errcode 47009 since 2026-12-01"}


@pytest.mark.slow
def test_a_quota_stop_stops_only_its_endpoint(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with serve(seed=0, today=SYNC_TODAY, daily_quota={"getarticleread": 12}) as sim:
        with pytest.raises(SyncIncomplete) as stopped:
            store.sync(sim.client(max_workers=1, **NO_WAIT), SYNC_BEGIN, SYNC_END, progress=False)
        error = stopped.value
        assert set(error.remaining) == {"getarticleread"}
        assert len(error.remaining["getarticleread"]) == 48
        assert "getarticleread: 48 window(s)" in str(error) and "tomorrow" in str(error)
        held = store.coverage().set_index("endpoint")["days_held"]
        assert held["getarticleread"] == 12
        assert (held.drop("getarticleread") == 60).all()  # the others went on and finished
        sim.advance(1)
        with pytest.raises(SyncIncomplete):  # 12 a day: it takes a few days
            store.sync(sim.client(**NO_WAIT), SYNC_BEGIN, SYNC_END, progress=False)
        assert store.coverage().set_index("endpoint")["days_held"]["getarticleread"] == 24


def test_each_endpoints_first_day_bounds_a_sync(tmp_path: Path) -> None:
    store = Store(tmp_path)
    clipped = pytest.warns(wxframe.RangeClippedWarning, match="syncing getbizsummary from")
    with serve(seed=0, today=SYNC_TODAY) as sim, clipped:
        summary = store.sync(sim.client(), "2025-10-20", "2025-11-05", progress=False)
        asked = {(name, begin) for name, begin, *_ in sim.stats.answered}
    assert summary.calls > 0
    assert min(b for n, b in asked if n == "getarticleread") == "2025-11-01"
    assert min(b for n, b in asked if n == "getbizsummary") == "2025-11-01"
    assert min(b for n, b in asked if n == "getusersummary") == "2025-10-20"
    coverage = store.coverage().set_index("endpoint")
    assert str(coverage.loc["getarticleread", "first"]) == "2025-11-01"
    assert str(coverage.loc["getusercumulate", "first"]) == "2025-10-20"


@pytest.mark.parametrize(
    "bad",
    [
        NOT_DATA,
        b'{"list":[{"ref_date":"2026-11-22"},]}',
        b'{"list":[],"x":' + b"[" * 6000 + b"]" * 6000 + b"}",
    ],
)
def test_an_answer_that_is_not_data_costs_only_its_window(tmp_path: Path, bad: bytes) -> None:
    # every other window is written; the sync names the bad one and goes on; the next
    # sync asks for it, once (it stopped the sync before issue 28)
    days = [date(2026, 10, 10) + timedelta(days=k) for k in range(40)]
    bad_day = days[2]
    answer, seen = answer_bad_once(bad, {bad_day})
    store = Store(tmp_path)
    with fixture_server(answer) as server:
        sync = {"endpoints": "getarticleshare", "progress": False}
        with pytest.warns(wxframe.BadAnswerWarning, match=f"{bad_day}..{bad_day}"):
            summary = store.sync(server.client(max_workers=2), days[0], days[-1], **sync)
        assert [(f.endpoint, str(f.window)) for f in summary.failed] == [
            ("getarticleshare", f"{bad_day}..{bad_day}")
        ]
        assert "NOT COMPLETE" in str(summary) and summary.calls == len(seen) == len(days)
        written = set(store.read("getarticleshare")["ref_date"].dt.date)
        assert written == set(days) - {bad_day} and store.verify().empty
        before = len(seen)
        again = store.sync(server.client(), days[0], days[-1], **sync)
    assert [c.begin for c in seen[before:]] == [bad_day] and not again.failed
    stored = store.read("getarticleshare")
    assert sorted(stored["ref_date"].dt.date) == days and store.verify().empty


def test_no_request_follows_a_sync_that_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # from a hostile review: when a write raised (a record typing refuses), the fetch was
    # never closed and its workers went on asking for the whole range, unwritten
    import wxframe.store

    monkeypatch.setattr(wxframe.store, "FLUSH_WINDOWS", 4)  # writes within the sync
    first = date(2026, 9, 1)

    def answer(call: Call) -> Reply:
        # from day 5 on, every answer's count is text: a run of answers that cannot be
        # used stops the sync (one alone costs only its window)
        value = "abc" if call.begin >= first + timedelta(days=5) else 5
        return {"list": [{"ref_date": call.begin.isoformat(), "msgid": "1_1",
                          "detail": {"share_user": value}}]}  # fmt: skip

    with fixture_server(answer) as server:
        with pytest.raises(SyncIncomplete, match="5 answers in a row could not be used"):
            Store(tmp_path).sync(server.client(max_workers=2), first,
                                 first + timedelta(days=79), endpoints="getarticleshare",
                                 progress=False)  # fmt: skip
        asked = len(server.calls)
        time.sleep(0.5)
        assert len(server.calls) == asked < 20


def test_finality_follows_when_the_request_was_sent(tmp_path: Path) -> None:
    today, yesterday = date(2026, 12, 1), date(2026, 11, 30)
    store = Store(tmp_path)
    with serve(seed=0, today=today, hour=7) as sim:  # yesterday's followers not ready yet

        def clock() -> datetime:
            # the request leaves at 07:59; its answer is handled at 08:01
            minute = (8, 1) if sim.stats.datacube_calls else (7, 59)
            return datetime(2026, 12, 1, *minute, tzinfo=BEIJING)

        c = Client(sim.appid, sim.secret, base_url=sim.url, clock=clock)
        with pytest.warns(wxframe.IncompleteDataWarning):
            store.sync(c, yesterday, yesterday, endpoints="getusersummary", progress=False)
        day = store.days().iloc[0]
        assert day["rows"] == 0 and not day["final"]  # asked before 08:00: not final
        sim.set_clock(today, hour=9)
        store.sync(sim.client(), yesterday, yesterday, endpoints="getusersummary",
                   progress=False)  # fmt: skip
    assert len(store.read("getusersummary")) > 0 and store.days()["final"].all()
