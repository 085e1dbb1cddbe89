"""A year-long sync through every fault the platform throws, and a quota stop that resumes.

Figures (faults injected and survived, retries, rows lost and duplicated) are printed:
run with ``-s`` to see them.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import FAST, assert_same_store
from wxframe import OFFLINE_ENDPOINTS, Store, SyncIncomplete
from wxframe.simulator import serve

#: These tests are about the six original endpoints' history.
OFFLINE = list(OFFLINE_ENDPOINTS)

TODAY = date(2024, 6, 1)
END = TODAY - timedelta(days=1)
YEAR_BEGIN = END - timedelta(days=364)


@pytest.mark.slow
def test_a_year_under_faults_is_identical_to_a_fault_free_sync(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY) as clean_sim:
        Store(tmp_path / "clean").sync(
            clean_sim.client(), YEAR_BEGIN, END, progress=False, endpoints=OFFLINE
        )
    # A rate-limit burst of 5 calls in the middle of the sync: however the pool's windows
    # share it, no window can be refused more often than it retries (5 times), as a real
    # minute quota never would refuse one (the client waits for the next minute). A longer
    # burst made the test depend on how many windows were in flight when it came.
    burst = {n: 45011 for n in range(550, 555)}
    faults = {"busy_rate": 0.05, "drop_rate": 0.01, "html502_rate": 0.01, "token_calls": 100,
              "schedule": burst}  # fmt: skip
    with serve(seed=0, today=TODAY, **faults) as sim:
        client = sim.client(max_retries=5, **FAST)
        summary = Store(tmp_path / "faulty").sync(
            client, YEAR_BEGIN, END, progress=False, endpoints=OFFLINE
        )
        answered = list(sim.stats.answered)
    codes = Counter(code for *_, code in answered)
    minimum = sum(math.ceil(365 / spec.max_span) for spec in OFFLINE_ENDPOINTS.values())
    # Every window was answered with data exactly once: nothing refetched, nothing lost.
    assert codes[0] == minimum == summary.calls
    rows = assert_same_store(tmp_path / "faulty", tmp_path / "clean")
    assert rows == summary.rows_written
    injected = {
        "-1 busy": codes[-1],
        "dropped or HTML 502": codes[None],
        "45011 rate limit": codes[45011],
        "token expired (42001)": codes[42001],
    }
    # (a scheduled 45011 that lands on an expired token is answered 42001 instead)
    assert codes[-1] > 40 and codes[None] > 10 and codes[45011] >= 4 and codes[42001] >= 16
    assert set(codes) <= {0, -1, None, 45011, 42001}
    # Retries are counted in the summary, one per transient fault; token expiries are
    # refreshes (a token answers 100 calls; workers refused the same token refresh once;
    # the first token of the sync is counted too), not retries.
    assert summary.retries == codes[-1] + codes[None] + codes[45011]
    assert minimum // 100 <= summary.token_refreshes <= codes[42001] + 1
    # Bounded: no window was attempted more than 1 + max_retries times (+1 token retry).
    attempts = Counter((name, b, e) for name, b, e, code in answered if code != 42001)
    assert max(attempts.values()) <= 1 + 5
    print(
        f"\nload held: {len(answered)} datacube answers, faults injected {injected}, "
        f"retries {summary.retries}, token refreshes {summary.token_refreshes}, "
        f"most attempts at one window {max(attempts.values())}, rows {rows:,}, "
        f"lost 0, duplicated 0, {summary.seconds:.1f} s"
    )


@pytest.mark.slow
def test_quota_stop_keeps_what_was_fetched_and_the_next_day_completes(tmp_path: Path) -> None:
    begin = END - timedelta(days=89)
    store = Store(tmp_path / "store")
    with serve(seed=1, today=TODAY, daily_quota={"getarticletotal": 50}) as sim:
        with pytest.raises(SyncIncomplete) as stopped:
            store.sync(sim.client(**FAST), begin, END, progress=False, endpoints=OFFLINE)
        exc = stopped.value
        message = str(exc)
        assert "45009" in message and "getarticletotal" in message
        # what remains: the 40 getarticletotal windows not fetched; the quota is that
        # endpoint's own, so the endpoints after it went on and finished
        assert {name: len(w) for name, w in exc.remaining.items()} == {"getarticletotal": 40}
        assert "40 window" in message or "40 windows" in message
        held = store.coverage().set_index("endpoint")["days_held"].to_dict()
        assert held == {name: 90 for name in OFFLINE} | {"getarticletotal": 50}
        assert len(store.read("getarticletotal")["ref_date"].unique()) <= 50
        sim.advance(1)  # the quota resets with the platform's day
        summary = store.sync(sim.client(**FAST), begin, progress=False, endpoints=OFFLINE)
        assert summary.endpoints["getarticletotal"]["calls"] <= 50
    with serve(seed=1, today=TODAY + timedelta(days=1)) as clean_sim:
        clean = Store(tmp_path / "clean")
        clean.sync(
            clean_sim.client(), begin, END + timedelta(days=1), progress=False, endpoints=OFFLINE
        )
    rows = assert_same_store(store, clean)
    print(f"\nquota: stopped after 50 getarticletotal calls with {exc.summary.rows_written:,} "
          f"rows kept; resumed the next day; {rows:,} rows, lost 0, duplicated 0")  # fmt: skip
