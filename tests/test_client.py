"""The client against the simulator: tokens, retries, faults, errors and secrets."""

from __future__ import annotations

import logging
import pickle
import threading
import time
from datetime import date, timedelta

import pytest

import wxframe
from tests.conftest import TODAY
from wxframe import (
    BusyError,
    Client,
    ConfigurationError,
    CredentialError,
    QuotaExceededError,
    RateLimitError,
    TokenError,
    TransportError,
    Window,
)
from wxframe.simulator import serve

FAST = {"backoff": 0.001, "max_backoff": 0.01, "rate_limit_wait": 0.01}


def test_token_expiry_in_the_middle_of_a_load_is_survived() -> None:
    with serve(seed=0, today=TODAY, token_calls=7) as s:
        client = s.client(max_workers=1, **FAST)
        df = wxframe.load_user_share_hour(client, "2024-05-01", "2024-05-30", progress=False)
        assert df["ref_date"].nunique() == 30
        assert s.stats.calls(ok=True) == 30
        assert s.stats.calls(ok=False) == 30 // 7  # one expired call per token
        assert client.counts["token_refreshes"] == 1 + 30 // 7


def test_concurrent_threads_refresh_the_token_once() -> None:
    with serve(seed=0, today=TODAY) as s:
        client = s.client(max_workers=8, **FAST)
        wxframe.load_user_share(client, "2024-05-01", "2024-05-07")
        s.expire_tokens()
        df = wxframe.load_user_share_hour(client, "2024-05-01", "2024-05-16", progress=False)
        assert len(df)
        assert client.counts["token_refreshes"] == 2  # the first fetch and one refresh
        assert s.stats.requests["stable_token"] == 2


def test_classic_token_mode() -> None:
    with serve(seed=0, today=TODAY) as s:
        client = s.client(token="classic")
        wxframe.load_user_share(client, "2024-05-01", "2024-05-07")
        assert s.stats.requests["token"] == 1 and s.stats.requests["stable_token"] == 0


def test_token_errors_refresh_once_and_retry_once_then_raise() -> None:
    # Every token expires after 0 calls: the refresh does not help, and the client
    # must not loop on it.
    with serve(seed=0, today=TODAY, token_calls=0) as s:
        client = s.client(**FAST)
        with pytest.raises(TokenError) as info:
            client.fetch("getusershare", "2024-05-01", "2024-05-01")
        assert info.value.errcode == 42001
        assert s.stats.calls() == 2  # the call and one retry after one refresh
        assert client.counts["token_refreshes"] == 2


def test_given_token_without_secret_raises_token_error() -> None:
    with serve(seed=0, today=TODAY) as s:
        token = s.client()._tokens.current()
        client = Client(access_token=token, base_url=s.url, clock=s.now)
        assert len(client.fetch("getusershare", "2024-05-01", "2024-05-01")) == 3
        s.expire_tokens()
        with pytest.raises(TokenError, match="errcode 42001"):
            client.fetch("getusershare", "2024-05-01", "2024-05-01")
        assert s.stats.requests["stable_token"] == 1  # no refresh was tried


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


def test_wrong_credentials() -> None:
    with serve(seed=0, today=TODAY) as s:
        client = Client(s.appid, "not-the-secret", base_url=s.url, clock=s.now)
        with pytest.raises(CredentialError, match=r"40125.*WX_APPSECRET"):
            client.fetch("getusershare", "2024-05-01", "2024-05-01")
        client = Client("wx-nobody", s.secret, base_url=s.url, clock=s.now, token="classic")
        with pytest.raises(CredentialError, match="40013"):
            client.fetch("getusershare", "2024-05-01", "2024-05-01")


def test_non_json_body_names_status_and_snippet() -> None:
    with serve(seed=0, today=TODAY) as s:
        client = Client(s.appid, s.secret, base_url=s.url + "/nowhere", clock=s.now)
        with pytest.raises(wxframe.NonJSONResponseError) as info:
            client.fetch("getusershare", "2024-05-01", "2024-05-01")
        assert info.value.status == 404 and "404 Not Found" in info.value.snippet


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "give appid and secret"),
        ({"appid": "wx1"}, "give appid and secret"),
        ({"appid": "a", "secret": "b", "token": "fast"}, "token='fast'"),
        ({"appid": "a", "secret": "b", "max_workers": 0}, "max_workers=0"),
        ({"appid": "a", "secret": "b", "max_retries": -1}, "max_retries=-1"),
        ({"appid": "a", "secret": "b", "timeout": -1}, "timeout=-1"),
        ({"appid": "a", "secret": "b", "base_url": "ftp://x"}, "base_url='ftp://x'"),
    ],
)
def test_client_arguments_are_checked(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        Client(**kwargs)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(seed=0, today=TODAY) as s:
        monkeypatch.setenv("WX_APPID", s.appid)
        monkeypatch.setenv("WX_APPSECRET", s.secret)
        monkeypatch.setenv("WX_API_BASE", s.url)
        client = Client.from_env(clock=s.now)
        assert client.base_url == s.url and client.appid == s.appid
        assert len(client.fetch("getusershare", "2024-05-01", "2024-05-01")) == 3
    monkeypatch.delenv("WX_APPSECRET")
    monkeypatch.delenv("WX_ACCESS_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="WX_APPSECRET"):
        Client.from_env()


def test_the_token_and_the_secret_never_leak(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    schedule = {2: -1, 3: "drop", 4: "html502"}
    with serve(seed=0, today=TODAY, schedule=schedule, token_calls=2, daily_quota=6) as s:
        client = s.client(max_workers=1, **FAST)
        texts.append(repr(client))
        with pytest.raises(QuotaExceededError) as info:
            wxframe.load_user_share_hour(client, "2024-05-01", "2024-05-10", progress=False)
        texts += [str(info.value), repr(info.value)]
        token = client._tokens.current()
        with pytest.raises(TransportError) as transport:
            Client(s.appid, s.secret, base_url="http://127.0.0.1:9", max_retries=0).fetch(
                "getusershare", "2024-05-01", "2024-05-01"
            )
        texts.append(str(transport.value))
        bad = Client(access_token=token, base_url=s.url, clock=s.now)
        s.expire_tokens()
        with pytest.raises(TokenError) as tok:
            bad.fetch("getusershare", "2024-05-01", "2024-05-01")
        texts += [str(tok.value), repr(bad)]
        secret = s.secret
        tokens = [t for t in s._tokens]
    texts += [r.getMessage() for r in caplog.records]
    assert any("retry" in t for t in texts), "the retries must have been logged"
    assert any("/datacube/" in t for t in texts), "urllib3's debug lines were captured"
    blob = "\n".join(texts)
    assert secret not in blob
    for t in tokens:
        assert t not in blob
    assert repr(client) == f"Client(appid={s.appid!r}, base_url={s.url!r}, token='stable')"


def test_client_is_not_pickled_with_its_secret() -> None:
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(Client("wx1", "secret"))


def test_errors_pickle_with_their_fields() -> None:
    err = QuotaExceededError(45009, "quota", endpoint="getuserread")
    back = pickle.loads(pickle.dumps(err))
    assert (back.errcode, back.endpoint, str(back)) == (45009, "getuserread", str(err))


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


def test_proxies_from_the_environment_are_read_once_when_the_client_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The environment's proxy (a port nobody listens on) is used for every call of a
    # client made while it is set, even after it is unset; NO_PROXY exempts a host.
    with serve(seed=0, today=TODAY) as sim:
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        proxied = sim.client(max_retries=0)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        exempt = sim.client(max_retries=0)
        monkeypatch.delenv("HTTP_PROXY")
        with pytest.raises(wxframe.TransportError, match="connection failed"):
            proxied.fetch("getusersummary", "2024-05-25", "2024-05-31")
        assert len(exempt.fetch("getusersummary", "2024-05-25", "2024-05-31")) > 0


def test_a_socks_proxy_is_refused_by_name_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "socks5://user:pw@127.0.0.1:1080")
    with pytest.raises(ConfigurationError, match="SOCKS proxy") as caught:
        Client("wx0", "s3cret")
    assert "pw" not in str(caught.value) and "s3cret" not in str(caught.value)
