"""The six loaders over loopback HTTP: fewest calls, the simulator's numbers, exact dtypes."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd
import pytest

import wxframe
from tests.conftest import TODAY
from wxframe import OFFLINE_ENDPOINTS, InvalidDateError, load
from wxframe.frames import frame_dtypes, to_frame
from wxframe.simulator import Simulator, records, serve

BEGIN, END = date(2024, 4, 20), date(2024, 5, 31)  # 42 days: several windows everywhere
DAYS = (END - BEGIN).days + 1


@pytest.mark.parametrize("endpoint", list(OFFLINE_ENDPOINTS))
def test_loader_makes_the_fewest_calls_and_returns_the_simulators_numbers(
    fresh_sim: Simulator, endpoint: str
) -> None:
    spec = OFFLINE_ENDPOINTS[endpoint]
    loader = getattr(wxframe, spec.loader)
    df = loader(fresh_sim.client(max_workers=4), BEGIN, END, progress=False)
    assert fresh_sim.stats.calls(endpoint) == math.ceil(DAYS / spec.max_span)
    assert fresh_sim.stats.calls() == fresh_sim.stats.calls(endpoint, ok=True)
    # every window asked is within the span, and each day is asked exactly once
    asked = sorted(
        date.fromisoformat(b) + timedelta(days=i)
        for _, b, e, _ in fresh_sim.stats.answered
        for i in range((date.fromisoformat(e) - date.fromisoformat(b)).days + 1)
    )
    assert asked == [BEGIN + timedelta(days=i) for i in range(DAYS)]
    # exact dtypes and a unique sorted key
    assert dict(df.dtypes) == frame_dtypes(endpoint)
    assert not df.duplicated(list(spec.key)).any()
    assert df.equals(df.sort_values(list(spec.key), ignore_index=True))
    assert isinstance(df.index, pd.RangeIndex)
    # the simulator's own numbers, recomputed from its account in one piece
    truth = records(fresh_sim.account, endpoint, BEGIN, END)
    assert len(df) == sum(len(r.get("details", [None])) for r in truth)
    pd.testing.assert_frame_equal(df, to_frame(endpoint, truth))


def test_user_read_numbers_against_raw_records(sim: Simulator) -> None:
    df = wxframe.load_user_read(sim.client(), "2024-05-01", "2024-05-03")
    raw = records(sim.account, "getuserread", date(2024, 5, 1), date(2024, 5, 3))
    expected = {(r["ref_date"], r["user_source"]): r["int_page_read_count"] for r in raw}
    got = {
        (d.date().isoformat(), int(s)): int(v)
        for d, s, v in df[["ref_date", "user_source", "int_page_read_count"]].itertuples(
            index=False
        )
    }
    assert got == expected


def test_hourly_load_sums_to_daily_load(sim: Simulator) -> None:
    client = sim.client()
    daily = wxframe.load_user_read(client, "2024-05-10", "2024-05-16")
    hourly = wxframe.load_user_read_hour(client, "2024-05-10", "2024-05-16")
    sums = hourly.groupby(["ref_date", "user_source"])["int_page_read_count"].sum()
    merged = daily.set_index(["ref_date", "user_source"])["int_page_read_count"]
    pd.testing.assert_series_equal(sums, merged.loc[sums.index], check_names=False)


def test_bad_dates_fail_before_any_request(fresh_sim: Simulator) -> None:
    client = fresh_sim.client()
    for begin, end in [
        ("2024-05-10", "2024-05-01"),
        ("2014-11-01", "2014-12-03"),
        ("2024-05-01", TODAY.isoformat()),
        ("2024-13-01", "2024-05-01"),
    ]:
        with pytest.raises(InvalidDateError):
            load(client, "getuserread", begin, end)
    with pytest.raises(wxframe.UnknownEndpointError, match="getuserread"):
        load(client, "getuserreads", "2024-05-01", "2024-05-02")
    assert sum(fresh_sim.stats.requests.values()) == 0


def test_loading_follows_the_clients_clock() -> None:
    with serve(seed=0, today=TODAY, hour=7) as s:
        with pytest.warns(wxframe.IncompleteDataWarning):
            partial = wxframe.load_user_share(s.client(), "2024-05-31", "2024-05-31")
        s.set_clock(TODAY, hour=9)
        final = wxframe.load_user_share(s.client(), "2024-05-31", "2024-05-31")
        assert partial["share_count"].sum() < final["share_count"].sum()


def test_loader_signatures_and_docs() -> None:
    for spec in OFFLINE_ENDPOINTS.values():
        loader = getattr(wxframe, spec.loader)
        assert loader.__name__ == spec.loader
        assert f"{spec.max_span} day(s) per request" in (loader.__doc__ or "")


def test_load_many_gives_loads_frames_through_one_pool() -> None:
    days = (date(2024, 5, 1), date(2024, 5, 20))
    with serve(seed=0, today=TODAY, latency=0.02) as sim:
        frames = wxframe.load_many(
            sim.client(max_workers=4), *days, progress=False, endpoints=list(OFFLINE_ENDPOINTS)
        )
        answered = [name for name, *_ in sim.stats.answered]
        peak = sim.stats.peak_in_flight
        peak_endpoints = sim.stats.peak_endpoints_in_flight
    assert list(frames) == list(OFFLINE_ENDPOINTS)
    assert len(answered) == sum(math.ceil(20 / s.max_span) for s in OFFLINE_ENDPOINTS.values())
    assert peak == 4
    with serve(seed=0, today=TODAY) as sim:
        for name, df in frames.items():
            pd.testing.assert_frame_equal(df, load(sim.client(), name, *days, progress=False))
    # no drain between endpoints: the pool moved on to the next endpoint while the
    # previous one's last windows were still in flight; endpoint by endpoint, it cannot
    assert peak_endpoints >= 2
    with serve(seed=0, today=TODAY, latency=0.02) as sim:
        for name in OFFLINE_ENDPOINTS:
            load(sim.client(max_workers=4), name, *days, progress=False)
        assert sim.stats.peak_endpoints_in_flight == 1


def test_load_many_checks_names_and_dates_before_sending(fresh_sim: Simulator) -> None:
    client = fresh_sim.client()
    with pytest.raises(wxframe.UnknownEndpointError, match="'nope'"):
        wxframe.load_many(client, "2024-05-01", "2024-05-02", endpoints=["getuserread", "nope"])
    with pytest.raises(InvalidDateError, match="is after end"):
        wxframe.load_many(client, "2024-05-02", "2024-05-01")
    assert fresh_sim.stats.datacube_calls == 0
    one = wxframe.load_many(client, "2024-05-01", "2024-05-02", endpoints="getusershare")
    assert list(one) == ["getusershare"] and len(one["getusershare"]) == 6
