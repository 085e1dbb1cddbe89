"""The one fetch engine: plan -> fetch raw answers -> decode in batches -> keep what is
inside the window. The loaders and the store both run it.

The client's workers hand on each answer they judged to be data as its bytes
(:class:`~wxframe.pages.RawPage`); this engine decodes them a growing batch at a time in
the caller's thread (:func:`~wxframe.frames.decode_many`, one pass of pyarrow's JSON
reader), reads with ``json`` any the reader declines (:meth:`~wxframe.Client.read_answer`,
which names one that is not data after all), and drops the rows of days a window did not
ask for. What it gives the caller is a :class:`Decoded` per window: a typed page, or the
error that window's answer turned out to be, in its place.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import NamedTuple

import pyarrow.compute as pc

from wxframe.client import Client, RequestPool
from wxframe.dates import Window
from wxframe.endpoints import Endpoint
from wxframe.errors import (
    ApiError,
    EndpointOfflineError,
    UnexpectedRowsWarning,
    WxframeError,
)
from wxframe.frames import AnyPage, TablePage, decode_many
from wxframe.pages import Page, RawPage

__all__ = ["DECODE_EVERY", "Decoded", "Fetch", "warn_outside", "within_window"]

#: Most answers of one endpoint decoded in one read while a fetch goes on.
DECODE_EVERY = 64


class Decoded(NamedTuple):
    """One window's answer: its page (only the rows inside the window), or its error."""

    spec: Endpoint
    window: Window
    page: AnyPage | WxframeError


class Fetch:
    """Every ``(endpoint, window)`` job fetched through ``client`` and decoded.

    Iterating gives, for each answer as it arrives, the windows decoded by then (often
    none: answers wait to be decoded a batch at a time); :meth:`rest` decodes what is
    still waiting. The first answer of each endpoint is decoded at once, then 2, 4, ...
    up to :data:`DECODE_EVERY` at a time: an endpoint whose answers are never data stops
    its fetch after one, and one odd answer within that many. Days dropped as outside
    their window are in :attr:`outside` (:func:`warn_outside` says so).
    :meth:`close` stops the workers at once: nothing more is asked.

    Examples
    --------
    >>> from wxframe.endpoints import ENDPOINTS
    >>> from wxframe.simulator import serve
    >>> spec = ENDPOINTS["getarticleshare"]
    >>> with serve(seed=0, today="2026-06-01") as sim:
    ...     fetch = Fetch(sim.client(), [(spec, w) for w in
    ...                                  spec.windows(date(2026, 5, 1), date(2026, 5, 3))])
    ...     decoded = [d for batch in fetch for d in batch] + fetch.rest()
    >>> sorted(str(d.window) for d in decoded), type(decoded[0].page).__name__
    (['2026-05-01..2026-05-01', '2026-05-02..2026-05-02', '2026-05-03..2026-05-03'], 'TablePage')
    """

    def __init__(
        self,
        client: Client,
        jobs: Sequence[tuple[Endpoint, Window]],
        *,
        progress: bool | None = None,
        desc: str | None = None,
        stopped: dict[str, tuple[ApiError, list[Window]]] | None = None,
        isolate: tuple[type[ApiError], ...] = (EndpointOfflineError,),
        pool: RequestPool | None = None,
    ) -> None:
        self.client = client
        self.outside: dict[str, list[str]] = {}
        self._waiting: dict[str, tuple[Endpoint, list[tuple[Window, Page | RawPage]]]] = {}
        self._size: dict[str, int] = {}
        self._answers = client.fetch_many(
            jobs, progress=progress, desc=desc, stopped=stopped, isolate=isolate, raw=True,
            pool=pool,
        )  # fmt: skip

    def __iter__(self) -> Iterator[list[Decoded]]:
        for spec, window, answer in self._answers:
            _, waiting = self._waiting.setdefault(spec.name, (spec, []))
            waiting.append((window, answer))
            size = self._size.setdefault(spec.name, 1)
            if len(waiting) < size:
                yield []
                continue
            self._size[spec.name] = min(2 * size, DECODE_EVERY)
            yield self._decode(spec.name)

    @property
    def pending(self) -> bool:
        """Whether answers wait that :meth:`rest` would decode."""
        return bool(self._waiting)

    def rest(self) -> list[Decoded]:
        """Every answer still waiting, decoded."""
        return [d for name in list(self._waiting) for d in self._decode(name)]

    def close(self) -> None:
        """Stop the workers: whatever they hold is dropped, nothing more is asked."""
        self._answers.close()

    def warn_outside(self, *, stacklevel: int) -> None:
        """One :class:`~wxframe.UnexpectedRowsWarning` for the days dropped so far."""
        warn_outside(self.outside, stacklevel=stacklevel + 1)

    def _decode(self, name: str) -> list[Decoded]:
        spec, waiting = self._waiting.pop(name)
        raw = [k for k, (_, answer) in enumerate(waiting) if isinstance(answer, RawPage)]
        bodies = [answer.body for _, answer in waiting if isinstance(answer, RawPage)]
        tables = dict(zip(raw, decode_many(spec, bodies), strict=True))
        # taken by pyarrow straight from the bytes
        self.client.count("decoded", sum(t is not None for t in tables.values()))
        decoded = []
        for k, (window, answer) in enumerate(waiting):
            page: AnyPage | WxframeError
            if not isinstance(answer, RawPage):
                page = answer  # read with json by the worker already
            elif (table := tables[k]) is not None:
                table.sent_at = answer.sent_at
                page = table
            else:
                try:  # declined by the reader: json says what it is
                    page = self.client.read_answer(spec, window, answer)
                except WxframeError as exc:
                    page = exc
            if not isinstance(page, WxframeError):
                page, dropped = within_window(spec, page, window.begin, window.end)
                if dropped:
                    self.outside.setdefault(spec.name, []).extend(dropped)
            decoded.append(Decoded(spec, window, page))
        return decoded


def within_window(
    spec: Endpoint, page: AnyPage, begin: date, end: date
) -> tuple[AnyPage, list[str]]:
    """``page`` without the records dated outside ``begin..end``, and those dates.

    A response that carries rows of days it was not asked for would put them into the
    store twice (once from each window); they are dropped here and named.

    >>> from wxframe.endpoints import ENDPOINTS
    >>> page = Page([{"ref_date": "2025-11-01"}, {"ref_date": "2025-11-03"}])
    >>> kept, dropped = within_window(ENDPOINTS["getbizsummary"], page,
    ...                               date(2025, 11, 1), date(2025, 11, 2))
    >>> len(kept), dropped
    (1, ['2025-11-03'])
    """
    first, last = begin.isoformat(), end.isoformat()
    if isinstance(page, TablePage):
        if spec.partition not in page.table.column_names:
            return page, []
        days = page.table.column(spec.partition)
        low, high = pc.min_max(days).values()
        if low.as_py() is None or (first <= low.as_py() and high.as_py() <= last):
            return page, []  # every record inside (as nearly every answer is): one pass
        inside = pc.and_kleene(pc.greater_equal(days, first), pc.less_equal(days, last))
        keep = pc.fill_null(inside, True)  # no date: to_frame names what is wrong
        if pc.all(keep).as_py():
            return page, []
        outside = pc.unique(days.filter(pc.invert(keep))).to_pylist()
        return TablePage(page.table.filter(keep), page.meta, page.sent_at), sorted(outside)
    kept, outside_days = [], set()
    for record in page:
        day = record.get(spec.partition) if isinstance(record, dict) else None
        if isinstance(day, str) and not first <= day <= last:
            outside_days.add(day)
        else:
            kept.append(record)  # malformed ones stay: to_frame names what is wrong
    if not outside_days:
        return page, []
    return Page(kept, page.meta, page.sent_at), sorted(outside_days)


def warn_outside(outside: Mapping[str, Sequence[str]], *, stacklevel: int) -> None:
    """One :class:`~wxframe.UnexpectedRowsWarning` for the days :func:`within_window`
    dropped."""
    if outside:
        named = "; ".join(
            f"{name}: {', '.join(sorted(set(days))[:5])}" for name, days in outside.items()
        )
        warnings.warn(
            f"dropped rows of days the requests did not ask for ({named})",
            UnexpectedRowsWarning,
            stacklevel=stacklevel + 1,
        )
