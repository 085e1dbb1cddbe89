"""Tokens: fetched, refreshed once under their lock, never logged or leaked, and
a malformed or refused token answer named for what it is."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

import wxframe
from tests.conftest import FAST, TODAY, TOKEN, raw_client, raw_server, token_then
from wxframe import (
    Client,
    CredentialError,
    QuotaExceededError,
    TokenError,
    TransportError,
)
from wxframe.cli import main
from wxframe.simulator import serve


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


def test_wrong_credentials() -> None:
    with serve(seed=0, today=TODAY) as s:
        client = Client(s.appid, "not-the-secret", base_url=s.url, clock=s.now)
        with pytest.raises(CredentialError, match=r"40125.*check the appid and the secret given"):
            client.fetch("getusershare", "2024-05-01", "2024-05-01")
        client = Client("wx-nobody", s.secret, base_url=s.url, clock=s.now, token="classic")
        with pytest.raises(CredentialError, match="40013"):
            client.fetch("getusershare", "2024-05-01", "2024-05-01")


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


def test_classic_token_requests_never_log_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with serve(seed=0, today="2026-12-01") as sim, caplog.at_level(logging.DEBUG):
        c = Client(sim.appid, sim.secret, base_url=sim.url, token="classic", clock=sim.now)
        wxframe.load_user_cumulate(c, "2026-11-20", "2026-11-26", progress=False)
        secret = sim.secret
    lines = [r.getMessage() for r in caplog.records]
    assert any("/cgi-bin/token" in line for line in lines)  # the line is there...
    assert not any(secret in line for line in lines)  # ...without the secret
    assert any("secret=***" in line for line in lines)


def test_a_refused_fresh_token_gets_advice_that_fits() -> None:
    def refuse(path: str, _: bytes) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, b'{"errcode": 40001, "errmsg": "x"}'

    with (
        raw_server(token_then(refuse)) as (url, _),
        pytest.raises(TokenError) as error,
        pytest.warns(wxframe.TokenRotatedWarning),  # the last resort was tried, once
    ):
        wxframe.load_user_cumulate(raw_client(url), "2026-11-20", "2026-11-26")
    message = str(error.value)
    assert "freshly fetched token too" in message
    assert "give an app secret" not in message  # one was given


@pytest.mark.parametrize(
    "answer",
    [
        {"access_token": TOKEN, "expires_in": "abc"},
        {"access_token": TOKEN, "expires_in": -5},
        {"expires_in": 7200},
        {"access_token": "", "expires_in": 7200},
    ],
)
def test_a_malformed_token_answer_is_a_token_error(answer: dict[str, Any]) -> None:
    def reply(path: str, _: bytes) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    with raw_server(reply) as (url, _), pytest.raises(TokenError, match="malformed"):
        wxframe.load_user_cumulate(raw_client(url), "2026-11-20", "2026-11-26")


@pytest.mark.parametrize("expires_in", ["7200", " 7200 ", None, 7200.0])
def test_a_usable_token_with_an_odd_lifetime_is_used(expires_in: object) -> None:
    # A gateway that writes the lifetime as a string, or leaves it out: the token is
    # usable, and its lifetime is the one given (or the documented 7200 s).
    def reply(path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/cgi-bin/"):
            answer = {"access_token": TOKEN, "expires_in": expires_in}
            return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
        return 200, {"Content-Type": "application/json"}, b'{"list": []}'

    with raw_server(reply) as (url, _):
        client = raw_client(url)
        left = client.check_token()
    assert 7200 - 300 - 5 < left <= 7200 - 300


def test_forcing_a_token_is_a_said_last_resort_at_most_once_in_30_s() -> None:
    # The platform refuses the very token stable_token keeps handing out (as after a
    # leak was reported): the client forces a new one once, says what that does to the
    # account's other services, and does not force again within 30 s.
    forced: list[bool] = []

    def reply(path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/cgi-bin/stable_token"):
            forced.append(bool(json.loads(body).get("force_refresh")))
            answer = {"access_token": TOKEN, "expires_in": 7200}
            return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
        return 200, {"Content-Type": "application/json"}, b'{"errcode": 40001, "errmsg": "x"}'

    with raw_server(reply) as (url, _):
        client = raw_client(url)
        with (
            pytest.warns(wxframe.TokenRotatedWarning, match="invalidates the token"),
            pytest.raises(TokenError),
        ):
            client.fetch("getusercumulate", "2026-11-20", "2026-11-20")
        assert forced == [False, False, True]  # the first token, the refetch, one force
        with pytest.raises(TokenError, match="less than 30 s ago"):
            client.fetch("getusercumulate", "2026-11-20", "2026-11-20")
    assert forced.count(True) == 1


def test_no_command_forces_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every command that talks to the platform, on an account whose tokens expire
    # every 10 calls (so a sync refreshes): none ever sends force_refresh. In this process
    # (each command builds its own clients, as a fresh process would).
    with serve(seed=0, token_calls=10) as sim:  # today: the commands use the real clock
        for name in [k for k in os.environ if k.startswith("WX_")]:
            monkeypatch.delenv(name)
        env = {"WX_APPID": sim.appid, "WX_APPSECRET": sim.secret, "WX_API_BASE": sim.url}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        accounts = tmp_path / "accounts.toml"
        accounts.write_text(f'[[account]]\nappid = "{sim.appid}"\nsecret_env = "WX_APPSECRET"\n'
                            f'base_url = "{sim.url}"\n')  # fmt: skip
        store = str(tmp_path / "store")
        few = ["--endpoint", "getusersummary", "--endpoint", "getusercumulate", "--quiet"]
        commands = [
            ["sync", "--store", store, "--begin", "2026-10-01", *few],
            ["sync", "--store", store, "--accounts", str(accounts), *few],
            ["doctor", "--store", store],
            ["doctor", "--token", "both"],
            ["verify", "--store", store, "--repair"],
        ]
        for command in commands:
            status = main(command)
            assert status in (0, 1), (command, capsys.readouterr().err)
        assert sim.stats.requests["stable_token"] > len(commands)  # tokens were refreshed
        assert sim.stats.requests["stable_token_forced"] == 0
