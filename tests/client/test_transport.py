"""Transport: what goes on the wire and what comes back before it is an answer:
statuses, bodies that are not JSON, redirects, plain HTTP, proxies."""

from __future__ import annotations

import json

import pytest

import wxframe
from tests.conftest import (
    APPID,
    SECRET,
    TODAY,
    fixture_server,
    raw_client,
    raw_server,
    token_then,
)
from wxframe import (
    Client,
    ConfigurationError,
    TransportError,
)
from wxframe.simulator import serve


def test_non_json_body_names_status_and_snippet() -> None:
    with serve(seed=0, today=TODAY) as s:
        client = Client(s.appid, s.secret, base_url=s.url + "/nowhere", clock=s.now)
        with pytest.raises(wxframe.NonJSONResponseError) as info:
            client.fetch("getusershare", "2024-05-01", "2024-05-01")
        assert info.value.status == 404 and "404 Not Found" in info.value.snippet


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


def test_redirects_are_never_followed() -> None:
    def moved(path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        return 307, {"Location": "http://elsewhere.example/cgi-bin/stable_token"}, b""

    with raw_server(moved) as (url, asked), pytest.raises(TransportError) as refused:
        wxframe.load_user_cumulate(raw_client(url), "2026-11-20", "2026-11-26")
    assert "HTTP 307" in str(refused.value) and "elsewhere.example" in str(refused.value)
    assert asked == ["/cgi-bin/stable_token"]  # asked once, not re-sent anywhere
    assert SECRET not in str(refused.value)


def test_plain_http_off_this_machine_needs_allow_insecure() -> None:
    with pytest.raises(ConfigurationError, match=r"unencrypted.*allow_insecure=True"):
        Client(APPID, SECRET, base_url="http://api.example.com")
    Client(APPID, SECRET, base_url="http://api.example.com", allow_insecure=True)
    Client(APPID, SECRET, base_url="http://localhost:8080")
    Client(APPID, SECRET, base_url="https://api.example.com")


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, b'{"errcode": 40001}'),
        (404, b'{"list": []}'),  # not data: a wrong path that happens to answer JSON
        (403, b"<html>forbidden</html>"),
    ],
)
def test_statuses_other_than_200_are_named(status: int, body: bytes) -> None:
    def answer(path: str, _: bytes) -> tuple[int, dict[str, str], bytes]:
        return status, {"Content-Type": "application/json"}, body

    expected = TransportError if body.startswith(b"{") else wxframe.NonJSONResponseError
    with raw_server(token_then(answer)) as (url, _), pytest.raises(expected) as error:
        wxframe.load_user_cumulate(raw_client(url), "2026-11-20", "2026-11-26")
    assert f"HTTP {status}" in str(error.value) and "getusercumulate" in str(error.value)


def test_a_text_plain_body_is_decoded_as_utf8() -> None:
    body = {
        "list": [
            {
                "ref_date": "2026-11-02",
                "msgid": "77_1",
                "publish_type": 0,
                "title": "公众号的标题：测试",
                "detail_list": [{"stat_date": "2026-11-02", "read_user": 5}],
            }
        ],
        "is_delay": False,
    }
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")

    with fixture_server(lambda call: (200, "text/plain", raw)) as server:
        df = wxframe.load_article_total_detail(server.client(), "2026-11-02", "2026-11-02")
    assert df["title"].tolist() == ["公众号的标题：测试"]
