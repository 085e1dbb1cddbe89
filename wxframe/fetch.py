"""The one fetch engine: plan -> fetch raw answers -> decode in batches -> keep what is
inside the window. The loaders and the store both run it.

The client's workers hand on each answer they judged to be data as its bytes
(:class:`~wxframe.pages.RawPage`); this engine decodes them a growing batch at a time in
the caller's thread (:func:`~wxframe.frames.decode_many`, one pass of pyarrow's JSON
reader), reads with ``json`` any the reader declines (:meth:`~wxframe.Client.read_answer`,
which names one that is not data after all), and drops the rows of days a window did not
ask for. What it gives the caller is a :class:`Decoded` per window: a typed page, or the
error that window's answer turned out to be, in its place.

Three faults of an answer are judged here, the same for a load and a sync. An answer
that holds another endpoint's records (:func:`~wxframe.frames.foreign_endpoint`) is that
window's error: typed as the endpoint asked, its key fields would be ``<NA>``. Bytes that are
not UTF-8 inside its text (a title cut inside a character) are replaced by U+FFFD and
named: the numbers are kept. A row whose day is not written as the platform writes one
(``"2025/11/05"``), or an answer with rows none of which is of the days asked, is that
window's error: its days are never taken as answered.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

import pyarrow.compute as pc

from wxframe.client import Client, RequestPool
from wxframe.dates import Window
from wxframe.endpoints import Endpoint
from wxframe.errors import (
    ApiError,
    BadAnswerWarning,
    EndpointOfflineError,
    MalformedResponseError,
    UnexpectedRowsWarning,
    WxframeError,
)
from wxframe.frames import AnyPage, TablePage, decode_many, foreign_endpoint, names_of_page
from wxframe.pages import Page, RawPage

__all__ = [
    "DECODE_EVERY",
    "Decoded",
    "Fetch",
    "unreadable_days",
    "warn_outside",
    "within_window",
]

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
    their window are in :attr:`outside`, text that was not UTF-8 in :attr:`replaced`
    (:meth:`warn_outside` says both).
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
        window_faults: tuple[type[WxframeError], ...] = (),
    ) -> None:
        self.client = client
        self.outside: dict[str, list[str]] = {}
        #: Per answer whose text held bytes that are not UTF-8: where they were replaced.
        self.replaced: list[str] = []
        self._waiting: dict[str, tuple[Endpoint, list[tuple[Window, Page | RawPage]]]] = {}
        self._size: dict[str, int] = {}
        self._answers = client.fetch_many(
            jobs, progress=progress, desc=desc, stopped=stopped, isolate=isolate, raw=True,
            pool=pool, window_faults=window_faults,
        )  # fmt: skip

    def __iter__(self) -> Iterator[list[Decoded]]:
        for spec, window, answer in self._answers:
            if isinstance(answer, WxframeError):  # one of window_faults: its window's
                yield [Decoded(spec, window, answer)]
                continue
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
        """One :class:`~wxframe.UnexpectedRowsWarning` for the days dropped so far, and
        one :class:`~wxframe.BadAnswerWarning` for the text replaced as not UTF-8."""
        warn_outside(self.outside, stacklevel=stacklevel + 1)
        if self.replaced:
            shown = "; ".join(self.replaced[:5]) + (
                f"; and {len(self.replaced) - 5} answer(s) more" if len(self.replaced) > 5 else ""
            )
            warnings.warn(
                f"bytes that are not UTF-8 replaced by U+FFFD (the numbers are kept): {shown}",
                BadAnswerWarning,
                stacklevel=stacklevel + 1,
            )

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
                page = self._read_declined(spec, window, answer)
            if not isinstance(page, WxframeError):
                page = self._inside(spec, window, page)
            decoded.append(Decoded(spec, window, page))
        return decoded

    def _read_declined(
        self, spec: Endpoint, window: Window, answer: RawPage
    ) -> AnyPage | WxframeError:
        """An answer the reader declined, read with json: its page, or its error.

        Bytes that are not UTF-8 are replaced by U+FFFD first, and named. The platform
        writes UTF-8 (API-NOTES); such bytes inside an answer that is otherwise whole
        were put there by whoever cut a text by bytes (a title cut inside a character),
        and come back the same on every request: refusing the answer would lose its
        numbers for good. A replaced byte can only harm text: in a number or a key it
        makes JSON that does not read, or a field the frames name; in a day, a day that
        :func:`unreadable_days` refuses.
        """
        body = answer.body
        replaced = 0
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode("utf-8", errors="replace")
            replaced = text.count("\ufffd") - body.count("\ufffd".encode())
            answer = RawPage(text.encode(), answer.sent_at)
        try:  # json says what it is
            page = self.client.read_answer(spec, window, answer)
        except WxframeError as exc:
            return exc
        if replaced:
            where = ", ".join(_replaced_in(spec, page)[:3]) or "the answer's text"
            self.replaced.append(f"{spec.name} {window}: {where} ({replaced} replaced)")
        return page

    def _inside(self, spec: Endpoint, window: Window, page: AnyPage) -> AnyPage | WxframeError:
        """``page``'s rows of the days ``window`` asked for, or the error the answer is:
        a row of a day that cannot be read, or rows none of which is of those days."""
        other = foreign_endpoint(spec, names_of_page(page)) if len(page) else None
        if other is not None:
            return MalformedResponseError(
                f"{spec.name} {window}: the answer holds {other.name} records, not "
                f"{spec.name}: their fields are {other.name}'s and {spec.name}'s key "
                f"fields are missing; nothing of it is kept"
            )
        bad = unreadable_days(spec, page)
        if bad:
            return MalformedResponseError(
                f"{spec.name} {window}: rows dated {', '.join(map(repr, bad[:3]))}, not a "
                f"day as the platform writes one (YYYY-MM-DD); no day is guessed"
            )
        kept, dropped = within_window(spec, page, window.begin, window.end)
        if len(page) and not len(kept):
            return MalformedResponseError(
                f"{spec.name} {window}: none of the {len(page)} rows is of a day asked "
                f"(they are of {', '.join(dropped[:3])})"
            )
        if dropped:
            self.outside.setdefault(spec.name, []).extend(dropped)
        return kept


#: How the platform writes a day (and a real date besides): anything else is not guessed.
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def unreadable_days(spec: Endpoint, page: AnyPage) -> list[str]:
    """The values of ``page``'s day column that are not a day as the platform writes one
    (``YYYY-MM-DD``, a real date), each once, as text. A missing day is not one of them
    (:func:`~wxframe.to_frame` names a record without its day).

    ``"2025/11/05"`` and ``"20251105"`` are unambiguous to a reader, but the platform
    never writes them: whatever rewrote the day may have rewritten more, and
    ``"11/05/2025"`` would be read wrong. Such a window is left for a later request.

    >>> from wxframe.endpoints import ENDPOINTS
    >>> unreadable_days(ENDPOINTS["getbizsummary"],
    ...                 Page([{"ref_date": "2025/11/05"}, {"ref_date": "2025-11-06"}]))
    ['2025/11/05']
    """
    if isinstance(page, TablePage):
        if spec.partition not in page.table.column_names:
            return []
        values = pc.unique(page.table.column(spec.partition).drop_null()).to_pylist()
    else:
        found = (r.get(spec.partition) for r in page if isinstance(r, dict))
        values = list(dict.fromkeys(v for v in found if v is not None))
    return [str(v) for v in values if not _is_day(v)]


def _is_day(value: object) -> bool:
    if not isinstance(value, str) or _DAY.fullmatch(value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _replaced_in(spec: Endpoint, page: AnyPage) -> list[str]:
    """Where in ``page`` text holds U+FFFD: the field and the record's article or day."""
    records = page.table.to_pylist() if isinstance(page, TablePage) else page
    found = []
    for record in records:
        fields = sorted(_text_fields_with_fffd(record))
        if fields:
            if isinstance(record, dict) and record.get("msgid") is not None:
                whose = f"article {record['msgid']}"
            elif isinstance(record, dict):
                whose = f"the row of {record.get(spec.partition)}"
            else:
                whose = "a record"
            found.append(f"{', '.join(fields)} of {whose}")
    return found


def _text_fields_with_fffd(value: Any, path: str = "") -> set[str]:
    """The fields (``detail.title``) whose text in ``value`` holds U+FFFD."""
    if isinstance(value, str):
        return {path or "text"} if "\ufffd" in value else set()
    if isinstance(value, dict):
        parts = [_text_fields_with_fffd(v, f"{path}.{k}" if path else str(k))
                 for k, v in value.items()]  # fmt: skip
    elif isinstance(value, list):
        parts = [_text_fields_with_fffd(v, path) for v in value]
    else:
        return set()
    return set().union(*parts)


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
