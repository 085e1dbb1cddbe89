"""Making a client: its arguments checked, from the environment, never pickled
with its secret."""

from __future__ import annotations

import pickle

import pytest

from tests.conftest import TODAY
from wxframe import (
    Client,
    ConfigurationError,
)
from wxframe.simulator import serve


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


def test_client_is_not_pickled_with_its_secret() -> None:
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(Client("wx1", "secret"))
