"""A WeChat datacube API simulator: a real HTTP server on loopback.

It behaves like the platform, quirks and errors included, and is the embedded default
that the demo, the notebooks and the test suite run on. Start it with :func:`serve`::

    with wxframe.simulator.serve(seed=0, today="2024-06-01") as sim:
        client = wxframe.Client(sim.appid, sim.secret, base_url=sim.url)
"""

from datetime import date

from wxframe.simulator._account import Article, SimulatedAccount
from wxframe.simulator._character import (
    CHANNEL_NAMES,
    CHARACTERS,
    Character,
    character_for_seed,
    character_named,
)
from wxframe.simulator._server import (
    DATACUBE,
    DROP,
    HTML_502,
    Answers,
    Faults,
    Simulator,
    SimulatorStats,
    serve,
    serve_forever,
)

__all__ = [
    "CHANNEL_NAMES",
    "CHARACTERS",
    "DATACUBE",
    "DROP",
    "HTML_502",
    "Answers",
    "Article",
    "Character",
    "Faults",
    "SimulatedAccount",
    "Simulator",
    "SimulatorStats",
    "character_for_seed",
    "character_named",
    "records",
    "serve",
    "serve_forever",
]


def records(account: SimulatedAccount, endpoint: str, begin: date, end: date) -> list[dict]:
    """The records ``account`` answers ``endpoint`` with for ``begin..end``, without a
    server: the ``list`` of the answer, as saved JSON holds it.

    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> rows = records(acct, "getusershare", date(2024, 5, 1), date(2024, 5, 1))
    >>> sorted(r["share_scene"] for r in rows)
    [1, 2, 255]
    """
    return DATACUBE[endpoint].produce(account, begin, end)
