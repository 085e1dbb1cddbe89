"""The loaders: any date range of an endpoint as one tidy typed DataFrame.

Each validates its dates before any request, plans the fewest windows the endpoint's
span allows, fetches them concurrently and types the result with
:func:`~wxframe.frames.to_frame`. The per-endpoint loaders (``load_user_read``,
``load_biz_summary``, ...) are made from the registry, one typed line each, named by the
entry's ``loader``; :func:`make_loader` makes one for any :class:`~wxframe.Endpoint`.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, Protocol

import pandas as pd

from wxframe.client import Client
from wxframe.dates import DateLike, Window, as_date, check_range
from wxframe.endpoints import (
    ENDPOINTS,
    Endpoint,
    clip_to_first_days,
    get_endpoint,
    iter_endpoints,
)
from wxframe.errors import (
    ApiError,
    ConfigurationError,
    EndpointOfflineError,
    EndpointSkippedWarning,
    WxframeError,
)
from wxframe.fetch import Decoded, Fetch
from wxframe.frames import AnyPage, empty_frame, frame_dtypes, from_pages

__all__ = [
    "LOADERS",
    "Loader",
    "load",
    "load_article_read",
    "load_article_share",
    "load_article_summary",
    "load_article_total",
    "load_article_total_detail",
    "load_biz_summary",
    "load_many",
    "load_user_cumulate",
    "load_user_read",
    "load_user_read_hour",
    "load_user_share",
    "load_user_share_hour",
    "load_user_summary",
    "make_loader",
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
        A name in ``wxframe.ENDPOINTS`` (``"getbizsummary"``, ...) or an
        :class:`~wxframe.Endpoint`.
    begin, end:
        ``'YYYY-MM-DD'``, ``date``, ``datetime`` or ``pd.Timestamp``; from the
        endpoint's first day (2025-11-01 for the current article endpoints, 2014-12-01
        for the others) to yesterday (Beijing time).
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
    return _load(client, get_endpoint(endpoint), begin, end, progress=progress)


def _load(
    client: Client, spec: Endpoint, begin: DateLike, end: DateLike, *, progress: bool | None
) -> pd.DataFrame:
    """:func:`load`, called by it and by each per-endpoint loader alike, so that its
    warnings point at the user's line through either (two frames above this one)."""
    _check_client(client)
    now = client.now()
    # One endpoint named for the range: days before its first day are refused.
    clip_to_first_days([spec], as_date(begin, "begin"), as_date(end, "end"), refuse=True, now=now)
    b, e = check_range(begin, end, now=now, earliest=spec.earliest, endpoint=spec.name,
                       stacklevel=4)  # fmt: skip
    jobs = [(spec, w) for w in spec.windows(b, e)]
    pages, fetch = _fetch_pages(client, jobs, progress=progress)
    fetch.warn_outside(stacklevel=3)
    return from_pages(spec, pages[spec.name])  # to_frame sorts by key


def load_many(
    client: Client,
    begin: DateLike,
    end: DateLike,
    *,
    endpoints: str | Iterable[str] | None = None,
    progress: bool | None = None,
) -> dict[str, pd.DataFrame]:
    """Load several endpoints for ``begin..end`` through one pool of workers.

    ``endpoints`` defaults to the current family (``wxframe.CURRENT_ENDPOINTS``); the
    offline six are loaded only when named. Each endpoint's range is clipped to its own
    first day (one :class:`~wxframe.RangeClippedWarning` says which), so one range can
    span both families. An endpoint the platform has switched off (47009) gets an empty
    frame and one :class:`~wxframe.EndpointSkippedWarning` names what replaces it; the
    others load as usual. The same frames as :func:`load` endpoint by endpoint, and the
    same fewest calls, but every worker stays busy until the last window.

    Examples
    --------
    >>> from wxframe.simulator import serve
    >>> with serve(seed=0, today="2024-06-01") as sim:
    ...     frames = load_many(sim.client(), "2024-05-01", "2024-05-07", progress=False,
    ...                        endpoints=["getusershare", "getuserread"])
    >>> {name: len(df) for name, df in frames.items()}["getusershare"]
    21
    """
    _check_client(client)
    specs = list(iter_endpoints(endpoints))
    b, e = check_range(begin, end, now=client.now())
    ranges = clip_to_first_days(specs, b, e, doing="loading", stacklevel=2)
    jobs = [
        (spec, window)
        for spec in specs
        if (wanted := ranges[spec.name]) is not None
        for window in spec.windows(*wanted)
    ]
    stopped: dict[str, tuple[ApiError, list[Window]]] = {}
    pages, fetch = _fetch_pages(client, jobs, progress=progress, stopped=stopped)
    fetch.warn_outside(stacklevel=2)
    offline = {n: e for n, (e, _) in stopped.items() if isinstance(e, EndpointOfflineError)}
    if offline:
        warnings.warn(
            "switched off by the platform (errcode 47009), their frames are empty: "
            + "; ".join(f"{name} (use {' or '.join(e.successors)})" for name, e in offline.items()),
            EndpointSkippedWarning,
            stacklevel=2,
        )
        for name in offline:
            pages[name] = []
    return {
        spec.name: from_pages(spec, pages[spec.name]) if pages.get(spec.name) else empty_frame(spec)
        for spec in specs
    }


def _fetch_pages(
    client: Client,
    jobs: list[tuple[Endpoint, Window]],
    *,
    progress: bool | None,
    stopped: dict[str, tuple[ApiError, list[Window]]] | None = None,
) -> tuple[dict[str, list[tuple[AnyPage, dict[str, Any]]]], Fetch]:
    """Every job's answer as a page, per endpoint, and the fetch (which holds the days
    dropped as outside their windows). The first answer that is not data raises, and
    no more is asked."""
    pages: dict[str, list[tuple[AnyPage, dict[str, Any]]]] = {spec.name: [] for spec, _ in jobs}

    def keep(decoded: list[Decoded]) -> None:
        for spec, _, page in decoded:
            if isinstance(page, WxframeError):
                raise page
            pages[spec.name].append((page, page.meta))

    fetch = Fetch(client, jobs, progress=progress, stopped=stopped)
    with contextlib.closing(fetch):  # an error below: the workers stop at once
        for decoded in fetch:
            keep(decoded)
        keep(fetch.rest())
    return pages, fetch


def _check_client(client: object) -> None:
    if not isinstance(client, Client):
        raise ConfigurationError(f"client must be a wxframe.Client, got {type(client).__name__}")


class Loader(Protocol):
    """The signature every per-endpoint loader has."""

    __name__: str

    def __call__(
        self, client: Client, begin: DateLike, end: DateLike, *, progress: bool | None = None
    ) -> pd.DataFrame: ...


def make_loader(endpoint: str | Endpoint) -> Loader:
    """A loader for one endpoint: ``loader(client, begin, end, *, progress=None)``.

    >>> make_loader("getbizsummary").__name__
    'load_biz_summary'
    """
    spec = get_endpoint(endpoint)

    def loader(
        client: Client, begin: DateLike, end: DateLike, *, progress: bool | None = None
    ) -> pd.DataFrame:
        return _load(client, spec, begin, end, progress=progress)

    loader.__name__ = loader.__qualname__ = spec.loader
    loader.__module__ = "wxframe"
    loader.__doc__ = _loader_doc(spec)
    return loader


def _loader_doc(spec: Endpoint) -> str:
    """A loader's docstring, with an example run on the simulator (a doctest)."""
    history = (
        f" The platform has switched it off (errcode 47009); use "
        f"{' or '.join(spec.successors)} for new data."
        if spec.status == "offline"
        else ""
    )
    # The six are alive on the simulator until its legacy_offline_from (2026-07-01).
    today = "2024-06-01" if spec.status == "offline" else "2026-06-01"
    first = max(spec.earliest, date.fromisoformat(today) - timedelta(days=3))
    columns = list(frame_dtypes(spec))[:4]
    return (
        f"Load ``{spec.name}`` for ``begin..end``: one row per {spec.description}.\n\n"
        f"The key is {', '.join(spec.key)}; data from {spec.earliest}. At most "
        f"{spec.max_span} day(s) per request, so D days make ceil(D / {spec.max_span}) "
        f"calls.{history} See :func:`wxframe.load` for the parameters.\n\n"
        "Examples\n--------\n"
        ">>> import wxframe\n"
        ">>> from wxframe.simulator import serve\n"
        f">>> with serve(seed=0, today={today!r}) as sim:\n"
        f"...     df = wxframe.{spec.loader}(sim.client(), {first.isoformat()!r}, "
        f"{(date.fromisoformat(today) - timedelta(days=1)).isoformat()!r})\n"
        ">>> list(df.columns[:4])\n"
        f"{columns!r}\n"
    )


# One typed line per registry entry, so that type checkers and editors see each loader.
load_biz_summary: Loader = make_loader("getbizsummary")
load_article_read: Loader = make_loader("getarticleread")
load_article_share: Loader = make_loader("getarticleshare")
load_article_total_detail: Loader = make_loader("getarticletotaldetail")
load_user_summary: Loader = make_loader("getusersummary")
load_user_cumulate: Loader = make_loader("getusercumulate")
load_article_summary: Loader = make_loader("getarticlesummary")
load_article_total: Loader = make_loader("getarticletotal")
load_user_read: Loader = make_loader("getuserread")
load_user_read_hour: Loader = make_loader("getuserreadhour")
load_user_share: Loader = make_loader("getusershare")
load_user_share_hour: Loader = make_loader("getusersharehour")

#: Every registry entry's loader, by its name (``load_user_read``, ``load_biz_summary``...),
#: in the registry's order: an entry without its typed line above fails here, at import.
LOADERS: dict[str, Loader] = {spec.loader: globals()[spec.loader] for spec in ENDPOINTS.values()}
