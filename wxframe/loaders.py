"""The loaders: any date range of an endpoint as one tidy typed DataFrame.

Each validates its dates before any request, plans the fewest windows the endpoint's
span allows, fetches them concurrently and types the result with :func:`to_frame`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import pandas as pd

from wxframe.client import Client
from wxframe.dates import DateLike, check_range, windows_between
from wxframe.endpoints import Endpoint, get_endpoint, iter_endpoints
from wxframe.errors import ConfigurationError
from wxframe.frames import to_frame

__all__ = [
    "load",
    "load_article_summary",
    "load_article_total",
    "load_many",
    "load_user_read",
    "load_user_read_hour",
    "load_user_share",
    "load_user_share_hour",
]


def load(
    client: Client,
    endpoint: str | Endpoint,
    begin: DateLike,
    end: DateLike,
    *,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Load ``begin..end`` (both included) of ``endpoint`` as a tidy typed frame.

    Parameters
    ----------
    client:
        A :class:`wxframe.Client`.
    endpoint:
        A name in ``wxframe.ENDPOINTS`` (``"getuserread"``, ...).
    begin, end:
        ``'YYYY-MM-DD'``, ``date``, ``datetime`` or ``pd.Timestamp``; from 2014-12-01
        to yesterday (Beijing time).
    progress:
        A progress bar: ``None`` shows one for more than 3 requests, ``False`` never.

    Examples
    --------
    >>> from wxframe.simulator import serve
    >>> with serve(seed=0, today="2024-06-01") as sim:
    ...     df = load(sim.client(), "getuserread", "2024-05-01", "2024-05-07")
    >>> df.groupby("channel", observed=True).size().head(3)
    channel
    all        7
    session    7
    friends    7
    dtype: int64
    """
    spec = get_endpoint(endpoint)
    if not isinstance(client, Client):
        raise ConfigurationError(f"client must be a wxframe.Client, got {type(client).__name__}")
    b, e = check_range(begin, end, now=client.now())
    windows = windows_between(b, e, spec.max_span)
    records: list[dict] = []
    for _, chunk in client.fetch_windows(spec, windows, progress=progress):
        records.extend(chunk)  # in completion order: to_frame sorts by the key
    return to_frame(spec, records)


def load_many(
    client: Client,
    begin: DateLike,
    end: DateLike,
    *,
    endpoints: str | Iterable[str] | None = None,
    progress: bool | None = None,
) -> dict[str, pd.DataFrame]:
    """Load several endpoints (default: all six) for ``begin..end`` through one pool.

    The same frames as :func:`load` endpoint by endpoint, and the same fewest calls, but
    every worker stays busy until the last window: nothing drains between endpoints.

    Examples
    --------
    >>> from wxframe.simulator import serve
    >>> with serve(seed=0, today="2024-06-01") as sim:
    ...     frames = load_many(sim.client(), "2024-05-01", "2024-05-07", progress=False)
    >>> {name: len(df) for name, df in frames.items()}["getusershare"]
    21
    """
    if not isinstance(client, Client):
        raise ConfigurationError(f"client must be a wxframe.Client, got {type(client).__name__}")
    specs = list(iter_endpoints(endpoints))
    b, e = check_range(begin, end, now=client.now())
    jobs = [(spec, w) for spec in specs for w in windows_between(b, e, spec.max_span)]
    records: dict[str, list[dict]] = {spec.name: [] for spec in specs}
    for spec, _, chunk in client.fetch_many(jobs, progress=progress):
        records[spec.name].extend(chunk)
    return {spec.name: to_frame(spec, records[spec.name]) for spec in specs}


class Loader(Protocol):
    """The signature every per-endpoint loader has."""

    __name__: str

    def __call__(
        self, client: Client, begin: DateLike, end: DateLike, *, progress: bool | None = None
    ) -> pd.DataFrame: ...


def _loader(name: str, doc: str) -> Loader:
    def loader(
        client: Client, begin: DateLike, end: DateLike, *, progress: bool | None = None
    ) -> pd.DataFrame:
        return load(client, name, begin, end, progress=progress)

    spec = get_endpoint(name)
    loader.__name__ = loader.__qualname__ = spec.loader
    loader.__module__ = __name__
    loader.__doc__ = (
        f"Load ``{name}`` for ``begin..end``: {doc}\n\n"
        f"One row per {spec.description}; the key is {', '.join(spec.key)}. At most "
        f"{spec.max_span} day(s) per request, so D days make ceil(D / {spec.max_span}) "
        "calls. See :func:`load` for the parameters.\n"
    )
    return loader


load_article_summary = _loader("getarticlesummary", "each article's numbers per day.")
load_article_total = _loader("getarticletotal", "each article's cumulative numbers by stat day.")
load_user_read = _loader("getuserread", "the account's reads per day and channel.")
load_user_read_hour = _loader("getuserreadhour", "the account's reads per hour and channel.")
load_user_share = _loader("getusershare", "the account's shares per day and scene.")
load_user_share_hour = _loader("getusersharehour", "the account's shares per hour and scene.")
