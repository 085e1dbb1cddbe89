"""Retries: busy answers, dropped connections and quotas are waited out within a
bound, and what cannot be waited out raises at once."""

from __future__ import annotations

import gc
import threading
from datetime import date
from pathlib import Path

import pytest

import wxframe
from tests.conftest import FAST, TODAY, raw_client, raw_server, token_then
from wxframe import (
    BusyError,
    QuotaExceededError,
    RateLimitError,
    TransportError,
)
from wxframe.simulator import Simulator, serve


def test_busy_burst_and_dropped_connections_are_survived() -> None:
    schedule = {3: -1, 4: -1, 5: -1, 8: "drop", 9: "html502", 12: -1}
    with serve(seed=0, today=TODAY, schedule=schedule, busy_rate=0.05, drop_rate=0.02) as s:
        client = s.client(**FAST)
        df = wxframe.load_user_read_hour(client, "2024-05-01", "2024-05-20", progress=False)
        assert df["ref_date"].nunique() == 20
        assert s.stats.calls(ok=True) == 20
        assert client.counts["retries"] == s.stats.calls(ok=False) >= 6


def test_retries_are_bounded() -> None:
    with serve(seed=0, today=TODAY, busy_rate=1.0) as s:
        client = s.client(max_retries=3, **FAST)
        with pytest.raises(BusyError) as info:
            client.fetch("getuserread", "2024-05-01", "2024-05-03")
        assert s.stats.calls() == 4
        err = info.value
        assert (err.errcode, err.endpoint, str(err.window)) == (
            -1, "getuserread", "2024-05-01..2024-05-03",
        )  # fmt: skip
    with serve(seed=0, today=TODAY, html502_rate=1.0) as s:
        with pytest.raises(TransportError, match="HTTP 502"):
            s.client(max_retries=2, **FAST).fetch("getuserread", "2024-05-01", "2024-05-03")
        assert s.stats.calls() == 3
    with serve(seed=0, today=TODAY, drop_rate=1.0) as s:
        with pytest.raises(TransportError, match="connection failed"):
            s.client(max_retries=1, **FAST).fetch("getuserread", "2024-05-01", "2024-05-03")
        assert s.stats.calls() == 2


def test_minute_quota_waits_for_the_next_minute_bounded() -> None:
    with serve(seed=0, today=TODAY, minute_quota=3, minute_seconds=0.2) as s:
        client = s.client(max_workers=1, backoff=0.001, rate_limit_wait=0.25)
        df = wxframe.load_user_share_hour(client, "2024-05-01", "2024-05-08", progress=False)
        assert df["ref_date"].nunique() == 8
        assert s.stats.calls(ok=False) >= 1
    with serve(seed=0, today=TODAY, minute_quota=0, minute_seconds=3600) as s:
        with pytest.raises(RateLimitError, match="errcode 45011"):
            s.client(max_retries=2, **FAST).fetch("getusershare", "2024-05-01", "2024-05-01")
        assert s.stats.calls() == 3


def test_daily_quota_raises_at_once_with_endpoint_and_window() -> None:
    with serve(seed=0, today=TODAY, daily_quota={"getarticletotal": 5}) as s:
        with pytest.raises(QuotaExceededError) as info:
            wxframe.load_article_total(s.client(max_workers=1, **FAST), "2024-05-01", "2024-05-10")
        err = info.value
        assert err.errcode == 45009 and err.endpoint == "getarticletotal"
        assert err.window is not None and err.window.begin == date(2024, 5, 6)
        assert "getarticletotal 2024-05-06..2024-05-06: errcode 45009" in str(err)
        assert s.stats.calls() == 6  # no retry on 45009


def test_429_and_503_are_retried_then_named() -> None:
    def busy(path: str, _: bytes) -> tuple[int, dict[str, str], bytes]:
        return 429, {"Content-Type": "text/plain"}, b"slow down"

    with raw_server(token_then(busy)) as (url, asked), pytest.raises(TransportError) as error:
        wxframe.load_user_cumulate(raw_client(url, max_retries=2), "2026-11-20", "2026-11-26")
    assert "HTTP 429" in str(error.value)
    assert asked.count("/datacube/getusercumulate") == 3  # 1 + 2 retries


def test_requests_leave_no_thread_local_for_the_collector(sim: Simulator, tmp_path: Path) -> None:
    # A retry loop a request left a threading.local in a reference cycle each time (once
    # the sync's threads ended); on Python 3.11 the collector freeing one inside
    # sys._current_frames() (Dask's worker profiler) deadlocks the process (CPython
    # gh-106883): a client keeps one for its life.
    client = sim.client()
    gc.collect()
    gc.disable()
    try:
        wxframe.Store(tmp_path).sync_many(
            [client], "2024-05-01", "2024-05-07", endpoints=["getusersummary", "getarticlesummary"]
        )
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, threading.local)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert client.counts["calls"] >= 8 and left == []
