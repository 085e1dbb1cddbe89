"""Shared fixtures: a simulator on a loopback port with its clock pinned."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests

from wxframe.simulator import Simulator, serve

#: The simulated "today" most tests use (Beijing), with yesterday complete (noon).
TODAY = date(2024, 6, 1)


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    """One fault-free simulator for read-only tests (its stats grow across tests)."""
    with serve(seed=0, today=TODAY, hour=12) as s:
        yield s


@pytest.fixture
def fresh_sim() -> Iterator[Simulator]:
    """A simulator of its own, for tests that read its stats or move its clock."""
    with serve(seed=0, today=TODAY, hour=12) as s:
        yield s


def classic_token(sim: Simulator) -> str:
    r = requests.get(
        f"{sim.url}/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": sim.appid, "secret": sim.secret},
        timeout=10,
    )
    return str(r.json()["access_token"])


def datacube(
    sim: Simulator, endpoint: str, begin: str, end: str, token: str | None = None
) -> dict[str, Any]:
    """POST one datacube request the way the platform documents it; the decoded JSON."""
    token = token if token is not None else classic_token(sim)
    r = requests.post(
        f"{sim.url}/datacube/{endpoint}",
        params={"access_token": token},
        json={"begin_date": begin, "end_date": end},
        timeout=10,
    )
    assert r.status_code == 200
    return dict(json.loads(r.content))  # UTF-8 whatever the Content-Type says
