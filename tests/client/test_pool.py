"""The bounded pool: one client shared by threads, at most max_workers requests
in flight, and nothing sent after an error."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest

import wxframe
from tests.conftest import TODAY
from wxframe import (
    Window,
)
from wxframe.simulator import serve


def test_client_is_shared_between_threads() -> None:
    with serve(seed=0, today=TODAY) as s:
        client = s.client()
        results: list[int] = []

        def work(day: int) -> None:
            d = f"2024-05-{day:02d}"
            results.append(len(client.fetch("getusershare", d, d)))

        threads = [threading.Thread(target=work, args=(d,)) for d in range(1, 13)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [3] * 12
        assert s.stats.requests["stable_token"] == 1


@pytest.mark.parametrize("workers", [1, 4])
def test_max_workers_is_the_concurrency_the_server_sees(workers: int) -> None:
    with serve(seed=0, today=TODAY, latency=0.05) as s:
        wxframe.load_user_share_hour(
            s.client(max_workers=workers), "2024-05-01", "2024-05-12", progress=False
        )
        assert s.stats.calls(ok=True) == 12
        if workers == 1:
            assert s.stats.peak_in_flight == 1
        else:
            assert 1 < s.stats.peak_in_flight <= workers


def test_requests_go_on_while_the_caller_works_within_the_limit() -> None:
    # A sync writes what it was given between results (a flush: up to a second). The
    # workers take the next windows themselves meanwhile, never more than max_workers.
    spec = wxframe.ENDPOINTS["getusershare"]
    days = [date(2024, 4, 1) + timedelta(days=n) for n in range(40)]
    with serve(seed=0, today=TODAY, latency=0.02) as s:
        fetched = s.client(max_workers=2).fetch_many([(spec, Window(d, d)) for d in days])
        next(fetched)
        before = s.stats.calls()
        time.sleep(0.4)  # the caller at work: ~20 calls' time at 2 workers
        during = s.stats.calls() - before
        assert len(list(fetched)) == 39
        assert s.stats.peak_in_flight == 2
    assert during >= 8, f"{during} requests while the caller worked"


def test_no_request_follows_an_error_while_the_caller_is_away() -> None:
    # 48001 on the third call while the caller writes what it got: the workers start
    # nothing more, and the error is raised when the caller comes back.
    spec = wxframe.ENDPOINTS["getusershare"]
    days = [date(2024, 4, 1) + timedelta(days=n) for n in range(40)]
    with serve(seed=0, today=TODAY, latency=0.02, schedule={3: 48001}) as s:
        fetched = s.client(max_workers=2).fetch_many([(spec, Window(d, d)) for d in days])

        def slow_caller() -> None:
            for _ in fetched:
                time.sleep(0.2)

        with pytest.raises(wxframe.AccessDeniedError):
            slow_caller()
        assert s.stats.calls() <= 4  # the failed one, and the other worker's last
