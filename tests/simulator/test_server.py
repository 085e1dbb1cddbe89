"""The simulator's server: tokens, errcodes, dates, faults, quotas, latency and its
clock, as the platform's documentation describes them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import requests

from tests.conftest import TODAY, classic_token, datacube
from wxframe.simulator import Simulator, serve


def raw(sim: Simulator, endpoint: str, begin: str, end: str) -> bytes:
    token = classic_token(sim)
    r = requests.post(
        f"{sim.url}/datacube/{endpoint}",
        params={"access_token": token},
        json={"begin_date": begin, "end_date": end},
        timeout=10,
    )
    return r.content


def stable(sim: Simulator, force: bool = False, secret: str | None = None) -> dict[str, Any]:
    r = requests.post(
        f"{sim.url}/cgi-bin/stable_token",
        json={
            "grant_type": "client_credential",
            "appid": sim.appid,
            "secret": secret or sim.secret,
            "force_refresh": force,
        },
        timeout=10,
    )
    return dict(r.json())


def statuses(sim: Simulator, n: int) -> list[Any]:
    """Ask ``n`` distinct one-day windows; what each answered."""
    token = stable(sim)["access_token"]
    out: list[Any] = []
    for i in range(n):
        day = (date(2024, 1, 1) + timedelta(days=i)).isoformat()
        try:
            r = requests.post(
                f"{sim.url}/datacube/getusershare",
                params={"access_token": token},
                json={"begin_date": day, "end_date": day},
                timeout=5,
            )
        except requests.ConnectionError:
            out.append("drop")
            continue
        if r.status_code != 200:
            out.append(r.status_code)
        else:
            out.append(r.json().get("errcode", 0))
    return out


def test_clock_moves(fresh_sim: Simulator) -> None:
    day = TODAY.isoformat()
    assert datacube(fresh_sim, "getuserread", day, day)["errcode"] == 61501
    fresh_sim.advance(days=1)
    assert fresh_sim.today == TODAY + timedelta(days=1)
    assert datacube(fresh_sim, "getuserread", day, day)["list"]


@pytest.mark.parametrize(
    ("endpoint", "begin", "end"),
    [
        ("getarticlesummary", "2024-05-30", "2024-05-30"),
        ("getarticletotal", "2024-05-20", "2024-05-20"),
        ("getuserread", "2024-05-28", "2024-05-30"),
        ("getuserreadhour", "2024-05-30", "2024-05-30"),
        ("getusershare", "2024-05-24", "2024-05-30"),
        ("getusersharehour", "2024-05-30", "2024-05-30"),
    ],
)
def test_same_seed_and_day_give_identical_bytes(endpoint: str, begin: str, end: str) -> None:
    with serve(seed=7, today=TODAY) as a, serve(seed=7, today=TODAY) as b:
        # Ask b for other days first: a day's numbers must not depend on what came before.
        raw(b, endpoint, "2023-01-05", "2023-01-05")
        first = raw(a, endpoint, begin, end)
        assert first == raw(b, endpoint, begin, end)
        assert b'"list":[{' in first
    with serve(seed=8, today=TODAY) as c:
        assert raw(c, endpoint, begin, end) != first


def test_classic_token_replaces_the_previous_one_after_a_grace_period() -> None:
    with serve(seed=0, today=TODAY, classic_grace=0.0) as s:
        first = classic_token(s)
        second = classic_token(s)
        assert first != second
        assert datacube(s, "getusershare", "2024-05-01", "2024-05-01", first)["errcode"] == 40001
        assert "list" in datacube(s, "getusershare", "2024-05-01", "2024-05-01", second)
    with serve(seed=0, today=TODAY) as s:  # default grace: the old token still works
        first = classic_token(s)
        classic_token(s)
        assert "list" in datacube(s, "getusershare", "2024-05-01", "2024-05-01", first)


def test_stable_token_is_the_same_until_forced(fresh_sim: Simulator) -> None:
    a, b = stable(fresh_sim), stable(fresh_sim)
    assert a["access_token"] == b["access_token"] and 0 < a["expires_in"] <= 7200
    # independent of the classic token
    classic_token(fresh_sim)
    assert stable(fresh_sim)["access_token"] == a["access_token"]
    forced = stable(fresh_sim, force=True)
    assert forced["access_token"] != a["access_token"]
    assert "list" in datacube(
        fresh_sim, "getusershare", "2024-05-01", "2024-05-01", forced["access_token"]
    )


def test_token_expiry_by_calls() -> None:
    with serve(seed=0, today=TODAY, token_calls=2) as s:
        token = stable(s)["access_token"]
        for _ in range(2):
            assert "list" in datacube(s, "getusershare", "2024-05-01", "2024-05-01", token)
        assert datacube(s, "getusershare", "2024-05-01", "2024-05-01", token)["errcode"] == 42001
        # an expired stable token is replaced on the next ask, without force_refresh
        renewed = stable(s)["access_token"]
        assert renewed != token
        assert "list" in datacube(s, "getusershare", "2024-05-01", "2024-05-01", renewed)


@pytest.mark.parametrize(
    ("appid", "secret", "errcode"),
    [("wx_wrong", None, 40013), (None, "wrong-secret", 40125), ("", None, 41002)],
)
def test_token_credentials_are_checked(
    sim: Simulator, appid: str | None, secret: str | None, errcode: int
) -> None:
    params = {
        "grant_type": "client_credential",
        "appid": sim.appid if appid is None else appid,
        "secret": secret or sim.secret,
    }
    assert requests.get(f"{sim.url}/cgi-bin/token", params=params, timeout=5).json()["errcode"] == (
        errcode
    )
    body = params | {"force_refresh": False}
    got = requests.post(f"{sim.url}/cgi-bin/stable_token", json=body, timeout=5).json()
    assert got["errcode"] == errcode


@pytest.mark.parametrize(
    ("token", "errcode"),
    [("", 41001), ("not-a-token", 40014), ("93_" + "0" * 84, 40001)],
)
def test_bad_tokens(sim: Simulator, token: str, errcode: int) -> None:
    got = datacube(sim, "getusershare", "2024-05-01", "2024-05-01", token)
    assert got["errcode"] == errcode
    assert "rid:" in got["errmsg"]


@pytest.mark.parametrize(
    ("endpoint", "begin", "end", "errcode"),
    [
        ("getuserread", "2024/05/01", "2024-05-01", 61500),
        ("getuserread", "2024-5-1", "2024-05-01", 61500),
        ("getuserread", "2024-05-01", "2024-05-03", 0),  # span 3 is fine
        ("getuserread", "2024-05-01", "2024-05-04", 61501),  # span 4 is not
        ("getusershare", "2024-05-01", "2024-05-07", 0),
        ("getusershare", "2024-05-01", "2024-05-08", 61501),
        ("getarticletotal", "2024-05-01", "2024-05-02", 61501),
        ("getuserreadhour", "2024-05-02", "2024-05-01", 61501),  # reversed
        ("getusershare", TODAY.isoformat(), TODAY.isoformat(), 61501),  # today
        ("getusershare", "2030-01-01", "2030-01-01", 61501),
    ],
)
def test_date_errors(sim: Simulator, endpoint: str, begin: str, end: str, errcode: int) -> None:
    got = datacube(sim, endpoint, begin, end)
    assert got.get("errcode", 0) == errcode, got


def test_dates_before_the_first_day_give_an_empty_list(sim: Simulator) -> None:
    assert datacube(sim, "getusershare", "2014-11-20", "2014-11-26") == {"list": []}
    # and days before the account existed are empty too
    assert datacube(sim, "getuserread", "2015-03-01", "2015-03-03") == {"list": []}


def test_unknown_paths_and_methods(sim: Simulator) -> None:
    token = classic_token(sim)
    assert requests.post(f"{sim.url}/datacube/getnothing", timeout=5).status_code == 404
    assert requests.get(f"{sim.url}/nowhere", timeout=5).status_code == 404
    r = requests.get(f"{sim.url}/datacube/getuserread", params={"access_token": token}, timeout=5)
    assert r.json()["errcode"] == 43002
    r = requests.post(
        f"{sim.url}/datacube/getuserread", params={"access_token": token}, data=b"{oops", timeout=5
    )
    assert r.json()["errcode"] == 47001


@pytest.mark.slow
def test_fault_rates_are_deterministic_under_the_seed() -> None:
    faults = {"busy_rate": 0.2, "html502_rate": 0.05, "drop_rate": 0.05}
    with serve(seed=3, today=TODAY, **faults) as a:
        first = statuses(a, 120)
        assert a.stats.calls(ok=False) == sum(code != 0 for code in first)
    with serve(seed=3, today=TODAY, **faults) as b:
        assert statuses(b, 120) == first
    assert 10 < first.count(-1) < 40
    assert first.count(502) >= 1 and first.count("drop") >= 1


def test_fault_schedule_and_quotas() -> None:
    with serve(seed=0, today=TODAY, schedule={2: -1, 3: "html502", 4: 45011}) as s:
        assert statuses(s, 5) == [0, -1, 502, 45011, 0]
        assert [a[3] for a in s.stats.answered] == [0, -1, None, 45011, 0]
    with serve(seed=0, today=TODAY, daily_quota={"getusershare": 3}) as s:
        assert statuses(s, 5) == [0, 0, 0, 45009, 45009]
        s.advance(days=1)  # the quota is per simulated day
        assert statuses(s, 1) == [0]
    with serve(seed=0, today=TODAY, minute_quota=2, minute_seconds=3600) as s:
        assert statuses(s, 4) == [0, 0, 45011, 45011]


def test_latency_and_concurrency() -> None:
    import time
    from concurrent.futures import ThreadPoolExecutor

    with serve(seed=0, today=TODAY, latency=0.2) as s:
        token = stable(s)["access_token"]
        start = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            days = [f"2024-05-{d:02d}" for d in range(1, 9)]
            results = list(pool.map(lambda d: datacube(s, "getusershare", d, d, token), days))
        elapsed = time.perf_counter() - start
        assert all("list" in r for r in results)
        assert elapsed >= 0.2  # every request waited (a lower bound: sleep guarantees it)
        # Served side by side: seen by the server itself, not by a wall-clock bound,
        # which a loaded shared machine could break.
        assert s.stats.peak_in_flight > 1
        assert s.stats.in_flight == 0
        assert s.stats.requests["getusershare"] == 8
    with serve(seed=0, today=TODAY, latency=0.05) as s:
        token = stable(s)["access_token"]
        for d in (1, 2, 3):
            datacube(s, "getusershare", f"2024-05-0{d}", f"2024-05-0{d}", token)
        assert s.stats.peak_in_flight == 1  # one at a time when asked one at a time


def test_stats_record_windows(fresh_sim: Simulator) -> None:
    datacube(fresh_sim, "getuserread", "2024-05-01", "2024-05-03")
    assert fresh_sim.stats.answered == [("getuserread", "2024-05-01", "2024-05-03", 0)]
    assert fresh_sim.stats.requests["token"] == 1


def test_unknown_fault_option_is_refused() -> None:
    with pytest.raises(TypeError, match="busy_rate"), serve(busy_rat=0.1):
        pass
