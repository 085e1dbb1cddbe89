"""Errcodes: each platform refusal becomes the exception that says what to do."""

from __future__ import annotations

import pytest

import wxframe
from tests.conftest import Call, Reply, fixture_server
from wxframe import (
    AccessDeniedError,
    DataNotReadyError,
    EndpointOfflineError,
)


def test_47009_raises_endpoint_offline_naming_the_successor_after_one_request() -> None:
    def offline(call: Call) -> Reply:
        return {"errcode": 47009, "errmsg": "this api is offline, please use the new api"}

    with fixture_server(offline) as server, pytest.raises(EndpointOfflineError) as caught:
        wxframe.load_user_read(server.client(), "2026-11-01", "2026-11-20", progress=False)
    assert len(server.calls) == 1  # not retried, the other windows not sent
    error = caught.value
    assert isinstance(error, wxframe.ApiError) and error.errcode == 47009
    assert error.endpoint == "getuserread" and error.successors == ("getbizsummary",)
    assert "use getbizsummary instead" in str(error) and "switched getuserread off" in str(error)
    import pickle

    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.successors == error.successors


def test_48001_says_the_account_must_be_verified() -> None:
    def unverified(call: Call) -> Reply:
        return {"errcode": 48001, "errmsg": "api unauthorized"}

    with fixture_server(unverified) as server, pytest.raises(AccessDeniedError) as caught:
        wxframe.load_biz_summary(server.client(), "2026-11-01", "2026-11-05")
    message = str(caught.value)
    assert "getbizsummary" in message and "errcode 48001" in message
    assert "verified (认证) Official Account" in message and "permission set" in message
    assert "whitelist" not in message  # advice for this code, not every code of the class
    assert len(server.calls) == 1


def test_61503_is_reported_as_data_not_ready() -> None:
    def not_ready(call: Call) -> Reply:
        return {"errcode": 61503, "errmsg": "data not ready"}

    with (
        fixture_server(not_ready) as server,
        pytest.raises(DataNotReadyError, match="try again later"),
    ):
        wxframe.load_user_cumulate(server.client(), "2026-11-29", "2026-11-29")
    assert len(server.calls) == 1
