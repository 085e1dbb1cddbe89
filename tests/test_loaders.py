"""The loaders over loopback HTTP, both families: fewest calls, the simulator's numbers,
exact dtypes, a range across families clipped once, load_many."""

from __future__ import annotations

import math
import warnings
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest

import wxframe
from tests.conftest import TODAY, Call, Reply, fixture_server, scene_list
from wxframe import (
    CURRENT_ENDPOINTS,
    ENDPOINTS,
    OFFLINE_ENDPOINTS,
    InvalidDateError,
    RangeClippedWarning,
    load,
    to_frame,
)
from wxframe.frames import frame_dtypes
from wxframe.simulator import Simulator, records, serve

BEGIN, END = date(2024, 4, 20), date(2024, 5, 31)  # 42 days: several windows everywhere


DAYS = (END - BEGIN).days + 1


YESTERDAY = date(2026, 11, 30)  # the fixture server's clients live on 2026-12-01, noon


def _records(call: Call) -> list[dict[str, Any]]:
    """Plausible records for every day of a window, in each endpoint's documented shape."""
    days = [call.begin + timedelta(days=i) for i in range(call.days)]
    out: list[dict[str, Any]] = []
    for n, d in enumerate(days):
        day = d.isoformat()
        reads = 100 + d.toordinal() % 50
        scenes = scene_list(reads, ("公众号消息", reads // 2), ("朋友圈", reads // 4))
        if call.endpoint == "getbizsummary":
            out.append(
                {
                    "ref_date": day,
                    "detail": {
                        "read_user": reads,
                        "read_user_source": scenes,
                        "share_user": 3,
                        "zaikan_user": 1,
                        "like_user": 2,
                        "comment_count": 0,
                        "collection_user": 1,
                        "redirect_ori_page_user": 0,
                        "send_page_count": 1,
                    },
                }
            )
        elif call.endpoint == "getarticleread":
            out += [
                {
                    "ref_date": day,
                    "msgid": f"{d.toordinal()}_{i}",
                    "detail": {"read_user": reads, "read_user_source": scenes},
                }
                for i in (1, 2)
            ]
        elif call.endpoint == "getarticleshare":
            out.append(
                {"ref_date": day, "msgid": f"{d.toordinal()}_1", "detail": {"share_user": n}}
            )
        elif call.endpoint == "getarticletotaldetail":
            stats = [d + timedelta(days=k) for k in range(30) if d + timedelta(days=k) <= YESTERDAY]
            out.append(
                {
                    "ref_date": day,
                    "msgid": f"{d.toordinal()}_1",
                    "publish_type": 0,
                    "title": f"第{n}篇",
                    "detail_list": [
                        {
                            "stat_date": s.isoformat(),
                            "read_user": 10 * (k + 1),
                            "read_user_source": scene_list(10 * (k + 1), ("推荐", k)),
                        }
                        for k, s in enumerate(stats)
                    ],
                }
            )
        elif call.endpoint == "getusersummary":
            out.append({"ref_date": day, "user_source": 30, "new_user": 5, "cancel_user": 1})
        elif call.endpoint == "getusercumulate":
            out.append({"ref_date": day, "cumulate_user": 1000 + 4 * n, "user_source": 0})
    return out


def _platform(call: Call) -> Reply:
    """What the platform does with a window: a range error past the span, else data."""
    spec = ENDPOINTS[call.endpoint]
    if call.days > spec.max_span or call.end > YESTERDAY:
        return {"errcode": 61501, "errmsg": "date range error"}
    if call.begin < spec.earliest:
        return {"list": [{"ref_date": "1970-01-01"}]}  # garbage: never asked for
    return {"list": _records(call), "is_delay": call.end == YESTERDAY}


ROWS_PER_DAY = {
    "getbizsummary": 3,
    "getarticleread": 6,
    "getarticleshare": 1,
    "getusersummary": 1,
    "getusercumulate": 1,
}


NAMES = ["getusercumulate", "getuserread", "getbizsummary"]


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


@pytest.mark.slow
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


@pytest.mark.parametrize("endpoint", list(CURRENT_ENDPOINTS))
def test_each_current_loader_makes_the_fewest_calls_over_60_days(endpoint: str) -> None:
    spec = ENDPOINTS[endpoint]
    begin, end = date(2026, 10, 2), YESTERDAY  # 60 days
    with fixture_server(_platform) as server:
        loader = getattr(wxframe, spec.loader)
        df = loader(server.client(max_workers=4), begin, end, progress=False)
    calls = server.calls_to(endpoint)
    assert len(calls) == len(server.calls) == math.ceil(60 / spec.max_span)
    asked = sorted(c.begin + timedelta(days=i) for c in calls for i in range(c.days))
    assert asked == [begin + timedelta(days=i) for i in range(60)]  # each day exactly once
    assert dict(df.dtypes) == frame_dtypes(endpoint)
    assert not df.duplicated(list(spec.key)).any()
    if endpoint in ROWS_PER_DAY:
        assert len(df) == 60 * ROWS_PER_DAY[endpoint]
    # the last window answered is_delay: its rows, and only they, say so
    delayed = df.loc[df["is_delay"], spec.partition].unique()
    last_window = max(calls, key=lambda c: c.end)
    assert all(last_window.begin <= d.date() <= last_window.end for d in delayed)
    assert len(delayed) > 0


def test_a_span_of_30_days_is_used_in_full_by_getbizsummary() -> None:
    with fixture_server(_platform) as server:
        wxframe.load_biz_summary(server.client(), "2026-09-01", "2026-11-29", progress=False)
    assert sorted(c.days for c in server.calls) == [30, 30, 30]


def test_load_many_loads_the_current_family_by_default() -> None:
    with fixture_server(_platform) as server:
        frames = wxframe.load_many(server.client(), "2026-11-01", "2026-11-14", progress=False)
    assert list(frames) == list(CURRENT_ENDPOINTS)
    assert {c.endpoint for c in server.calls} == set(CURRENT_ENDPOINTS)
    expected = sum(spec.calls(14) for spec in CURRENT_ENDPOINTS.values())
    assert len(server.calls) == expected
    assert not set(OFFLINE_ENDPOINTS) & {c.endpoint for c in server.calls}


def test_one_range_can_span_both_families_and_is_clipped_once() -> None:
    with fixture_server(_platform) as server, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frames = wxframe.load_many(
            server.client(),
            "2025-10-25",
            "2025-11-03",
            progress=False,
            endpoints=["getbizsummary", "getarticleread", "getusersummary"],
        )
    clipped = [w for w in caught if issubclass(w.category, RangeClippedWarning)]
    assert len(clipped) == 1
    assert "getbizsummary from 2025-11-01" in str(clipped[0].message)
    assert "getusersummary" not in str(clipped[0].message)  # followers go back to 2014
    assert min(c.begin for c in server.calls_to("getarticleread")) == date(2025, 11, 1)
    assert min(c.begin for c in server.calls_to("getusersummary")) == date(2025, 10, 25)
    assert frames["getbizsummary"]["ref_date"].min() == pd.Timestamp("2025-11-01")
    # a range entirely before an endpoint's first day: an empty frame with the full schema
    with fixture_server(_platform) as server, pytest.warns(RangeClippedWarning, match="not at all"):
        early = wxframe.load_many(
            server.client(),
            "2025-10-01",
            "2025-10-05",
            progress=False,
            endpoints=["getbizsummary", "getusercumulate"],
        )
    assert early["getbizsummary"].empty and dict(early["getbizsummary"].dtypes) == frame_dtypes(
        "getbizsummary"
    )
    assert len(early["getusercumulate"]) == 5
    assert {c.endpoint for c in server.calls} == {"getusercumulate"}


@pytest.mark.parametrize(
    "endpoint", ["getbizsummary", "getarticleread", "getarticleshare", "getarticletotaldetail"]
)
def test_a_single_loader_refuses_days_before_its_first_day_before_any_request(
    endpoint: str,
) -> None:
    with fixture_server(_platform) as server:
        loader = getattr(wxframe, ENDPOINTS[endpoint].loader)
        with pytest.raises(InvalidDateError) as caught:
            loader(server.client(), "2025-10-31", "2025-11-03")
    assert str(caught.value) == (
        f"begin=2025-10-31 is before {endpoint}'s first day; {endpoint} has data from "
        "2025-11-01 to 2026-11-30 (yesterday, Beijing time)"
    )
    assert server.calls == [] and server.token_requests == 0


def test_loaders_come_from_the_registry_and_are_exported() -> None:
    for spec in ENDPOINTS.values():
        loader = getattr(wxframe, spec.loader)
        assert loader.__name__ == spec.loader and spec.loader in wxframe.__all__
        assert f"data from {spec.earliest}" in (loader.__doc__ or "")
    n = len(CURRENT_ENDPOINTS)
    assert list(ENDPOINTS)[:n] == list(CURRENT_ENDPOINTS)  # the current family first


def test_load_many_leaves_an_offline_endpoint_out_and_loads_the_others() -> None:
    def platform(call: Call) -> Reply:
        if ENDPOINTS[call.endpoint].status == "offline":
            return {"errcode": 47009, "errmsg": "this api is offline, please use the new api"}
        return _platform(call)

    with (
        fixture_server(platform) as server,
        pytest.warns(wxframe.EndpointSkippedWarning, match="getuserread \\(use getbizsummary\\)"),
    ):
        frames = wxframe.load_many(
            server.client(), "2026-11-01", "2026-11-09", progress=False, endpoints=NAMES
        )
    assert len(server.calls_to("getuserread")) == 1
    assert frames["getuserread"].empty and len(frames["getusercumulate"]) == 9
    assert len(frames["getbizsummary"]) == 27
