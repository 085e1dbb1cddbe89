"""`wxframe doctor` (issue 18): the right verdict and advice for each case a real account
meets, over HTTP, at most one datacube call per endpoint, and never a secret or token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import wxframe
from tests.conftest import APPID, SECRET, TOKEN, Call, fixture_server, raw_client, raw_server
from wxframe.simulator import Simulator, serve

#: The simulators play today (Beijing): `wxframe doctor` runs on the real clock, as a
#: user's machine does, and asks for the last complete day.
TODAY = None
CURRENT = list(wxframe.CURRENT_ENDPOINTS)
OFFLINE = list(wxframe.OFFLINE_ENDPOINTS)


def run_doctor(
    sim: Simulator | None, *args: str, secret: str | None = None, server: Any = None
) -> subprocess.CompletedProcess:
    """`wxframe doctor` as a user runs it, its credentials from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WX_")}
    if sim is not None:
        env |= {"WX_APPID": sim.appid, "WX_APPSECRET": secret or sim.secret, "WX_API_BASE": sim.url}
    else:
        env |= {"WX_APPID": APPID, "WX_APPSECRET": SECRET, "WX_API_BASE": server.url}
    return subprocess.run(
        [sys.executable, "-m", "wxframe", "doctor", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def verdicts(run: subprocess.CompletedProcess) -> dict[str, dict[str, Any]]:
    return {row["check"]: row for row in json.loads(run.stdout)["checks"]}


def no_secrets(sim: Simulator, run: subprocess.CompletedProcess) -> None:
    text = run.stdout + run.stderr
    assert sim.secret not in text
    issued = [t for t in getattr(sim, "_tokens", {})]  # every token the simulator gave out
    assert issued and not [t for t in issued if t in text]


@pytest.mark.slow
def test_a_healthy_account_today(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY) as sim:
        run = run_doctor(sim, "--json")
        text = run_doctor(sim)
        per_endpoint = {name: sim.stats.calls(name) for name in wxframe.ENDPOINTS}
    assert run.returncode == 0 and text.returncode == 0, run.stderr
    found = verdicts(run)
    assert found["token"]["status"] == "ok"
    for name in CURRENT:
        assert found[name]["status"] == "ok" and found[name]["rows"] > 0, name
    for name in OFFLINE:  # switched off, with what replaces it
        assert found[name]["status"] == "offline" and found[name]["errcode"] == 47009
        assert "instead" in found[name]["advice"]
    assert max(per_endpoint.values()) == 2  # one call per endpoint, per run (two runs)
    assert "every current endpoint is usable" in text.stdout
    no_secrets(sim, run)
    no_secrets(sim, text)


@pytest.mark.slow
def test_both_token_endpoints_are_tried_when_asked() -> None:
    with serve(seed=0, today=TODAY) as sim:
        run = run_doctor(sim, "--json", "--token", "both")
        asked = dict(sim.stats.requests)
    found = verdicts(run)
    assert found["token"]["status"] == found["token (classic)"]["status"] == "ok"
    assert "classic token was issued" in found["token (classic)"]["advice"]
    assert asked.get("stable_token", 0) >= 1 and asked.get("token", 0) >= 1
    assert run.returncode == 0


@pytest.mark.slow
def test_a_wrong_secret_says_so_and_asks_nothing(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY) as sim:
        run = run_doctor(sim, "--json", secret="not-the-secret-0123")
        assert sim.stats.datacube_calls == 0
    assert run.returncode == 1
    found = verdicts(run)
    assert found["token"]["status"] == "credentials"
    assert "WX_APPSECRET" in found["token"]["advice"]
    assert {found[n]["status"] for n in wxframe.ENDPOINTS} == {"skipped"}
    assert "not-the-secret-0123" not in run.stdout + run.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("setup", "status", "errcode", "advice"),
    [
        ({"verified": False}, "unauthorised", 48001, "verified"),
        ({"ip_refused": "203.0.113.7"}, "ip not whitelisted", 40164, "203.0.113.7"),
        ({"daily_quota": 0}, "quota used up", 45009, "tomorrow"),
    ],
)
def test_each_refusal_has_its_verdict(setup: dict, status: str, errcode: int, advice: str) -> None:
    with serve(seed=0, today=TODAY, **setup) as sim:
        run = run_doctor(sim, "--json")
        calls = {name: sim.stats.calls(name) for name in CURRENT}
    assert run.returncode == 1, run.stderr
    found = verdicts(run)
    for name in CURRENT:
        assert found[name]["status"] == status and found[name]["errcode"] == errcode, name
        assert advice in found[name]["advice"]
    assert max(calls.values()) <= 1
    assert "not every current endpoint is usable" not in run.stdout  # JSON: no prose


@pytest.mark.slow
def test_empty_answers_and_other_errors() -> None:
    def answer(call: Call) -> Any:
        if call.endpoint == "getarticleshare":
            return {"list": [], "is_delay": False}  # online, nothing that day
        if call.endpoint == "getarticleread":
            return {"errcode": 40003, "errmsg": "invalid openid"}
        return {"list": [{"ref_date": call.begin.isoformat(), "cumulate_user": 5}]}

    with fixture_server(answer) as server:
        run = run_doctor(None, "--json", server=server)
        asked = {c.endpoint for c in server.calls}
        counts = {name: len(server.calls_to(name)) for name in asked}
    assert run.returncode == 1  # getarticleread is not usable
    found = verdicts(run)
    assert found["getarticleshare"]["status"] == "empty" and found["getarticleshare"]["rows"] == 0
    assert found["getarticleread"]["status"] == "error"
    assert found["getarticleread"]["errcode"] == 40003
    assert "40003" in found["getarticleread"]["advice"]
    assert max(counts.values()) == 1
    assert TOKEN not in run.stdout and SECRET not in run.stdout


@pytest.mark.slow
def test_with_a_store_it_says_what_is_held_and_what_a_sync_would_ask(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY) as sim:
        store = wxframe.Store(tmp_path)
        end = wxframe.dates.last_complete_day(sim.now())
        begin = end - timedelta(days=29)
        store.sync(sim.client(), begin, end, endpoints=["getusersummary"], progress=False)
        run = run_doctor(sim, "--json", "--store", str(tmp_path))
    found = verdicts(run)
    assert found["getusersummary"]["held"] == 30 and found["getusersummary"]["next sync"] == 0
    assert found["getbizsummary"]["held"] == 0 and found["getbizsummary"]["next sync"] == 30
    assert found["getuserread"]["next sync"] is None  # a default sync never asks the six


def test_doctor_never_rotates_the_accounts_token() -> None:
    # A forced stable_token rotates the account's token: every other service of the
    # account (a CMS, a bot) would hold a dead one. A health check must not do that.
    with serve(seed=0, today=TODAY) as sim:
        other = sim.client()  # another service of the same account, token in hand
        other.check_token()
        report = wxframe.doctor(sim.client())
        assert (report.loc[report["check"] == "token", "status"] == "ok").all()
        assert sim.stats.requests["stable_token_forced"] == 0
        # the other service's token still works: it fetches no new one
        wxframe.load_user_cumulate(other, "2026-11-01", "2026-11-02", progress=False)
        assert other.counts["token_refreshes"] == 1


def test_a_bare_token_is_not_reported_as_issued() -> None:
    # Without a secret there is no token to fetch: the token check cannot pass, and no
    # endpoint is asked with a token nobody checked.
    with serve(seed=0, today=TODAY) as sim:
        report = wxframe.doctor(wxframe.Client(access_token="bogus", base_url=sim.url))
        assert sim.stats.datacube_calls == 0
    token = report.set_index("check").loc["token"]
    assert token["status"] == "credentials" and "issued" not in token["advice"]
    assert (report["status"] == "skipped").sum() == len(wxframe.ENDPOINTS)


@pytest.mark.slow
def test_a_black_hole_gets_a_verdict_within_the_deadline() -> None:
    # The token host answers; the datacube host accepts connections and never answers
    # (a firewall dropping them). Every endpoint is asked at once, and the whole check
    # ends at --timeout with a verdict for each, where it used to hang ~20 minutes.
    def reply(path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/cgi-bin/"):
            answer = {"access_token": TOKEN, "expires_in": 7200}
            return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
        time.sleep(30)
        return 200, {"Content-Type": "application/json"}, b"{}"

    with raw_server(reply) as (url, asked):
        env = {k: v for k, v in os.environ.items() if not k.startswith("WX_")}
        env |= {"WX_APPID": APPID, "WX_APPSECRET": SECRET, "WX_API_BASE": url}
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "wxframe", "doctor", "--json", "--timeout", "3"],
            capture_output=True, text=True, env=env, check=False, timeout=60,
        )  # fmt: skip
        took = time.monotonic() - started
    assert took < 20, took  # 3 s of waiting and starting Python; the server sleeps 30 s
    assert run.returncode == 1
    found = verdicts(run)
    datacube = [path.split("?")[0] for path in asked if not path.startswith("/cgi-bin/")]
    assert sorted(datacube) == sorted(set(datacube))  # each endpoint asked once, not retried
    for name in wxframe.ENDPOINTS:
        assert found[name]["status"] == "no answer", found[name]
    assert found["token"]["status"] == "ok"


def test_the_deadline_holds_whatever_the_clients_own_patience() -> None:
    # A Python user's client keeps its 15 s x 6 attempts; doctor's deadline still holds,
    # and its stuck threads do not keep anything waiting.
    def reply(path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/cgi-bin/"):
            answer = {"access_token": TOKEN, "expires_in": 7200}
            return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
        time.sleep(30)
        return 200, {"Content-Type": "application/json"}, b"{}"

    seen: list[str] = []
    with raw_server(reply) as (url, _):
        started = time.monotonic()
        report = wxframe.doctor(
            raw_client(url), timeout=1.5, on_row=lambda r: seen.append(r["check"])
        )
        took = time.monotonic() - started
    assert took < 10, took
    waiting = report[report["status"] == "no answer"]
    assert len(waiting) == len(report) - 1  # all but the token
    assert waiting["advice"].str.contains("within the doctor's 1.5 s").all()
    assert sorted(seen) == sorted(report["check"])  # each verdict was said as it came


def test_doctor_refuses_a_timeout_that_is_not_one() -> None:
    with pytest.raises(wxframe.ConfigurationError, match="timeout=0"):
        wxframe.doctor(wxframe.Client("wxa", "s", base_url="http://127.0.0.1:9"), timeout=0)
