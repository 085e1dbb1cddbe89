"""A WeChat datacube API simulator: a real HTTP server on loopback.

It behaves like the platform, quirks and errors included, and is the embedded default
that the demo, the notebooks and the test suite run on. Start it with :func:`serve`::

    with wxframe.simulator.serve(seed=0, today="2024-06-01") as sim:
        client = wxframe.Client(sim.appid, sim.secret, base_url=sim.url)
"""

from wxframe.simulator._account import Article, SimulatedAccount
from wxframe.simulator._server import DROP, HTML_502, Faults, Simulator, SimulatorStats, serve

__all__ = [
    "DROP",
    "HTML_502",
    "Article",
    "Faults",
    "SimulatedAccount",
    "Simulator",
    "SimulatorStats",
    "serve",
]
