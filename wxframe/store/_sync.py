"""Sync: plan what is missing or may still change, fetch it, write it in batches.

A write puts each month file it touches under a new name (its content's), beside the
one it replaces, then commits the manifest (its months, then its pointer, last) that
names the new files with their days: a process killed before the commit leaves the
store as it was, and orphans a later writer removes. Stores written before kept one
``data.parquet`` a month, renamed into place after a ``next`` record:
:func:`settle_staged` resolves what a process killed on the way left there.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import NamedTuple

import pandas as pd
import pyarrow as pa

from wxframe.client import Client, RequestPool
from wxframe.dates import (
    BEIJING,
    DateLike,
    Window,
    as_date,
    beijing_now,
    check_range,
    last_complete_day,
)
from wxframe.endpoints import (
    ENDPOINTS,
    Endpoint,
    clip_to_first_days,
    get_endpoint,
    iter_endpoints,
)
from wxframe.errors import (
    ApiError,
    BadAnswerWarning,
    ConfigurationError,
    DataNotReadyError,
    EndpointOfflineError,
    EndpointSkippedWarning,
    MalformedResponseError,
    QuotaExceededError,
    SyncIncomplete,
    WxframeError,
    check_count,
    most_urgent,
)
from wxframe.fetch import Decoded, Fetch
from wxframe.frames import AnyPage, stored_from_pages
from wxframe.store._files import UNREADABLE, Layout, Staged
from wxframe.store._manifest import (
    DamagedShard,
    DayRecord,
    EndpointRecord,
    FileRecord,
    Manifest,
    load_manifest,
    named_objects,
    save_manifest,
)
from wxframe.store._schema import combined, rows_per_day, stored_from_frame
from wxframe.store._verify import repair_before_sync

__all__ = [
    "BAD_IN_A_ROW",
    "FailedWindow",
    "SyncSummary",
    "client_account",
    "default_begin",
    "fetch_and_write",
    "plan",
    "plan_windows",
    "settle_staged",
    "sync_account",
    "sync_many",
    "write_batches",
    "write_windows",
]

#: A long sync alone writes early in its last END_ROUNDS rounds of requests, where the
#: answers still to come hide the write (see :func:`fetch_and_write`).
END_ROUNDS = 8

#: Faults that stop only their own endpoint's part of a sync.
_ENDPOINT_FAULTS = (EndpointOfflineError, QuotaExceededError, DataNotReadyError)
#: One fetched window on its way to the disk: its page, when it was asked, is_delay.
_Fetched = tuple[Window, AnyPage, datetime, bool]
#: An endpoint whose answers could not be read this many times in a row stops the
#: sync: one bad answer costs its window, a run of them says the path is broken (a
#: proxy rewriting every answer), and asking on would spend the quota for nothing.
BAD_IN_A_ROW = 5


class FailedWindow(NamedTuple):
    """A window whose answer could not be used: nothing of it was recorded, and the next
    sync asks for it again.

    >>> from wxframe.dates import Window
    >>> day = date(2025, 11, 5)
    >>> print(FailedWindow("getarticleread", Window(day, day), "no 'list' array"))
    getarticleread 2025-11-05..2025-11-05: no 'list' array
    """

    endpoint: str
    window: Window
    #: Why, as the error said it (without the endpoint and window it names first).
    reason: str

    def __str__(self) -> str:
        return f"{self.endpoint} {self.window}: {self.reason}"


@dataclass
class SyncSummary:
    """What a sync did, per endpoint and in total.

    ``failed`` lists the windows whose answers could not be used (an answer that does
    not read as JSON, a row whose day is not a day, rows none of which is of the days
    asked, a value that does not type): each cost only its own window, whose days were
    not recorded, so the next sync asks for them again. A sync with failed windows is
    not complete (the command line exits 3).
    """

    calls: int = 0
    rows_written: int = 0
    windows_skipped: int = 0
    days_skipped: int = 0
    retries: int = 0
    token_refreshes: int = 0
    seconds: float = 0.0
    endpoints: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Endpoints the platform has switched off for this account, and since when.
    offline: dict[str, str] = field(default_factory=dict)
    #: Windows whose answers could not be used, and why: asked again by the next sync.
    failed: list[FailedWindow] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"{self.calls} calls, {self.rows_written} rows written, "
            f"{self.windows_skipped} windows skipped as fresh, {self.retries} retries, "
            f"{self.seconds:.1f}s"
        )
        if self.offline:
            text += "; switched off by the platform: " + ", ".join(self.offline)
        if self.failed:  # the windows; their reasons are in ``failed``
            shown = ", ".join(f"{bad.endpoint} {bad.window}" for bad in self.failed[:5])
            more = f" and {len(self.failed) - 5} more" if len(self.failed) > 5 else ""
            text += (
                f"; NOT COMPLETE: {len(self.failed)} window(s) whose answer could not be "
                f"used, asked again by the next sync: {shown}{more}"
            )
        return text


def client_account(layout: Layout, client: Client) -> str:
    """The client's appid, checked: it names the store's files and its manifest."""
    if not isinstance(client, Client):
        raise ConfigurationError(f"client must be a wxframe.Client, got {type(client).__name__}")
    if client.appid is None:
        raise ConfigurationError(
            "this client was made from an access token alone and does not say which "
            "account it is, so its data could overwrite another account's: pass "
            "appid='wx...' too (Client(appid=..., access_token=...))"
        )
    return layout.checked_account(client.appid)


# ------------------------------------------------------------------------ plan
#: A first sync, with no begin given, asks for this many days up to its end.
FIRST_SYNC_DAYS = 30


def default_begin(manifest: Manifest, specs: Iterable[Endpoint], end: date) -> date:
    """The one default first day of a sync (and of :meth:`Store.plan <wxframe.Store.plan>`
    and doctor's "next sync"): the earliest day the store holds of the endpoints asked,
    so that every gap since is filled; on a first sync, :data:`FIRST_SYNC_DAYS` days up
    to ``end``."""
    held = manifest.held_days()
    firsts = [min(held[s.name]) for s in specs if held.get(s.name)]
    return min(firsts) if firsts else end - timedelta(days=FIRST_SYNC_DAYS - 1)


def plan(
    layout: Layout,
    begin: DateLike | None,
    end: DateLike,
    *,
    account: str | None,
    endpoints: str | Iterable[str] | None,
) -> dict[str, list[Window]]:
    """:meth:`Store.plan <wxframe.Store.plan>`: per endpoint, the windows of the days in
    ``begin..end`` the manifest does not hold as final."""
    specs = list(iter_endpoints(endpoints))
    manifest = load_manifest(layout, layout.checked_account(account))
    e = as_date(end, "end")
    b = as_date(begin, "begin") if begin is not None else default_begin(manifest, specs, e)
    if b > e:
        raise ConfigurationError(f"begin={b} is after end={e}")
    ranges = clip_to_first_days(specs, b, e, warn=begin is not None, doing="planning",
                                stacklevel=3)  # fmt: skip
    return {
        s.name: plan_windows(s, manifest, *w)[0] if (w := ranges[s.name]) else [] for s in specs
    }


def plan_windows(
    spec: Endpoint, manifest: Manifest, begin: date, end: date
) -> tuple[list[Window], int]:
    """The fewest windows covering the days in ``begin..end`` that are not final, and
    how many days were skipped as final."""
    days = manifest.get(spec.name).days
    needed: list[date] = []
    skipped = 0
    for n in range((end - begin).days + 1):
        day = begin + timedelta(days=n)
        entry = days.get(day.isoformat())
        if entry is not None and entry.is_final:
            skipped += 1
        else:
            needed.append(day)
    windows: list[Window] = []
    for run_begin, run_end in _runs(needed):
        windows += spec.windows(run_begin, run_end)
    return windows, skipped


def _runs(days: list[date]) -> Iterable[tuple[date, date]]:
    """Maximal runs of consecutive days."""
    start = prev = None
    for day in days:
        if start is None:
            start = prev = day
        elif day == prev + timedelta(days=1):  # type: ignore[operator]
            prev = day
        else:
            yield start, prev  # type: ignore[misc]
            start = prev = day
    if start is not None:
        yield start, prev  # type: ignore[misc]


# ------------------------------------------------------------------------ sync
def sync_account(
    layout: Layout,
    client: Client,
    begin: DateLike | None,
    end: DateLike | None,
    *,
    endpoints: str | Iterable[str] | None,
    progress: bool | None,
    flush_windows: int,
    flush_seconds: float,
    pool: RequestPool | None = None,
) -> SyncSummary:
    """:meth:`Store.sync <wxframe.Store.sync>`, its requests on ``pool``'s threads when
    one is given; a batch is written every ``flush_windows`` windows or
    ``flush_seconds`` seconds."""
    specs = list(iter_endpoints(endpoints))
    account = client_account(layout, client)
    now = client.now()
    e = as_date(end, "end") if end is not None else last_complete_day(now)
    # Check what can be checked before waiting for the lock or sending anything.
    check_range(begin if begin is not None else e, e, now=now, warn=False,
                end_given=end is not None)  # fmt: skip
    started = time.perf_counter()
    counts_before = dict(client.counts)
    summary = SyncSummary()
    layout.make_root()
    lock = layout.lock(account)
    try:
        # Read the manifest under the lock: another sync may just have written it.
        bad: list[DamagedShard] = []
        manifest = load_manifest(layout, account, damaged=bad)
        b = as_date(begin, "begin") if begin is not None else default_begin(manifest, specs, e)
        b, e = check_range(b, e, now=now, end_given=end is not None)
        layout.remove_stale_temp_files(account)
        if not bad:  # a damaged manifest cannot show what is an orphan: nothing removed
            layout.remove_orphans(account, named_objects(layout, account, manifest), beijing_now())
        settle_staged(layout, account, manifest)
        repair_before_sync(layout, account, manifest, specs, bad)
        skipped = {
            s.name: offline for s in specs if (offline := manifest.get(s.name).offline_reason())
        }
        if skipped:
            warnings.warn(
                "not asked, the platform has switched them off for this account: "
                + "; ".join(f"{name} ({why})" for name, why in skipped.items()),
                EndpointSkippedWarning,
                stacklevel=3,
            )
            summary.offline |= skipped
        specs = [s for s in specs if s.name not in skipped]
        # Days before an endpoint's first day are never asked; a begin the caller gave
        # that reaches before one is said once.
        ranges = clip_to_first_days(specs, b, e, warn=begin is not None, doing="syncing",
                                    stacklevel=3)  # fmt: skip
        plans = {
            s.name: plan_windows(s, manifest, *w) if (w := ranges[s.name]) else ([], 0)
            for s in specs
        }
        for spec in specs:
            windows, skipped_days = plans[spec.name]
            full = len(spec.windows(*window)) if (window := ranges[spec.name]) else 0
            stats = {"calls": 0, "rows": 0, "windows_skipped": max(full - len(windows), 0)}
            summary.endpoints[spec.name] = stats
            summary.windows_skipped += stats["windows_skipped"]
            summary.days_skipped += skipped_days
        done: dict[str, set[Window]] = {spec.name: set() for spec in specs}
        stopped: dict[str, tuple[ApiError, list[Window]]] = {}
        jobs = [(spec, w) for spec in specs for w in plans[spec.name][0]]
        try:
            fetch_and_write(
                layout, client, account, jobs, manifest, done, summary, progress, stopped,
                pool, flush_windows=flush_windows, flush_seconds=flush_seconds,
            )  # fmt: skip
        except WxframeError as exc:
            # A fault no endpoint can go on past (network, credentials): what was
            # fetched is written; the rest is what a rerun asks for.
            left = {s.name: [w for w in plans[s.name][0] if w not in done[s.name]] for s in specs}
            cause: dict[str, tuple[WxframeError, list[Window]]] = {
                getattr(exc, "endpoint", None) or "sync": (exc, [])
            }
            raise _incomplete(cause, left, summary) from exc
        finally:
            for name, (error, _) in list(stopped.items()):
                if isinstance(error, EndpointOfflineError):
                    # Switched off for good: remember it, and never ask again.
                    del stopped[name]
                    entry = manifest.entry(name)
                    summary.offline[name] = entry.mark_offline(
                        get_endpoint(name), error, client.now()
                    )
            if summary.offline.keys() - skipped.keys():
                save_manifest(layout, account, manifest)
        if stopped:
            first = next(iter(stopped.values()))[0]
            raise _incomplete(dict(stopped), {}, summary) from first
        if summary.failed:
            warnings.warn(
                f"{len(summary.failed)} window(s) whose answer could not be used, left for "
                "the next sync: " + "; ".join(map(str, summary.failed[:5])),
                BadAnswerWarning,
                stacklevel=3,
            )
    finally:
        lock.release()
        summary.seconds = time.perf_counter() - started
        summary.retries = client.counts["retries"] - counts_before["retries"]
        summary.token_refreshes = (
            client.counts["token_refreshes"] - counts_before["token_refreshes"]
        )
    return summary


def sync_many(
    layout: Layout,
    clients: Iterable[Client],
    begin: DateLike | None,
    end: DateLike | None,
    *,
    endpoints: str | Iterable[str] | None,
    max_workers: int,
    max_accounts: int | None,
    progress: bool | None,
    flush_windows: int,
    flush_seconds: float,
) -> dict[str, SyncSummary | WxframeError]:
    """:meth:`Store.sync_many <wxframe.Store.sync_many>`: each account's
    :func:`sync_account` on one shared pool, ``max_accounts`` at a time."""
    clients = list(clients)
    check_count("max_workers", max_workers)
    if max_accounts is not None:
        check_count("max_accounts", max_accounts)
    accounts = [client_account(layout, c) for c in clients]
    twice = sorted({a for a in accounts if accounts.count(a) > 1})
    if twice:
        raise ConfigurationError(f"each account once: {', '.join(twice)} is given twice")
    if max_accounts is None:
        each = min((c.max_workers for c in clients), default=1)
        max_accounts = 2 * math.ceil(max_workers / min(each, max_workers))
    results: dict[str, SyncSummary | WxframeError] = {}
    pool = RequestPool(max_workers)
    waiting = deque(zip(clients, accounts, strict=True))
    crashed: list[BaseException] = []

    def syncer() -> None:
        while True:
            try:
                client, account = waiting.popleft()
            except IndexError:
                return
            try:
                results[account] = sync_account(
                    layout, client, begin, end, endpoints=endpoints, progress=progress,
                    flush_windows=flush_windows, flush_seconds=flush_seconds, pool=pool,
                )  # fmt: skip
            except WxframeError as exc:
                results[account] = exc
            except BaseException as exc:  # a bug, not an account's fault: raised below
                crashed.append(exc)
                return

    # Daemon threads, as the pool's: Ctrl-C returns at once, what was fetched
    # stays, and each account's next sync resumes.
    threads = [
        threading.Thread(target=syncer, name=f"wxframe-sync-{k}", daemon=True)
        for k in range(min(max_accounts, len(clients)))
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    finally:
        pool.close()
    if crashed:
        raise crashed[0]
    return {a: results[a] for a in accounts}


def fetch_and_write(
    layout: Layout,
    client: Client,
    account: str,
    jobs: list[tuple[Endpoint, Window]],
    manifest: Manifest,
    done: dict[str, set[Window]],
    summary: SyncSummary,
    progress: bool | None,
    stopped: dict[str, tuple[ApiError, list[Window]]],
    pool: RequestPool | None = None,
    *,
    flush_windows: int,
    flush_seconds: float,
) -> None:
    """Fetch every endpoint's windows through one pool; write them in batches.

    One pool for all endpoints keeps every worker busy to the end (it drained
    between endpoints when they were fetched one after another). Each batch rewrites
    the month files it touches and then the manifest, once: batching keeps a
    backfill linear, and a crash loses at most one batch of fetched windows, which
    the next sync fetches again. On an error (or Ctrl-C) the batch is written first,
    so what was fetched before it stays. ``done`` grows as windows are written;
    endpoints stopped by their own fault (47009, 45009, 61503) land in ``stopped``.
    An answer that cannot be used costs only its window (``summary.failed``);
    :data:`BAD_IN_A_ROW` of one endpoint in a row stop the sync.
    """
    batches: dict[str, list[_Fetched]] = {}
    specs = {spec.name: spec for spec, _ in jobs}
    # Per endpoint, its answers since the last one written, in the order they came:
    # True for one that could not be used, None while it waits to be written.
    since_used: dict[str, dict[Window, bool | None]] = {name: {} for name in specs}
    give_up: list[WxframeError] = []  # a run of answers that could not be used

    def judge(name: str, last: WxframeError | None) -> None:
        answers, run = since_used[name], 0
        for bad in answers.values():
            run = run + 1 if bad else 0
            if run >= BAD_IN_A_ROW and not give_up:
                give_up.append(MalformedResponseError(
                    f"{name}: {BAD_IN_A_ROW} answers in a row could not be used (the last: "
                    f"{last or summary.failed[-1]}); stopped asking: something may be "
                    "changing the platform's answers on their way (a proxy)"
                ))  # fmt: skip
        written = [k for k, bad in enumerate(answers.values()) if bad is False]
        if written:  # a run is broken there: what came before it counts no more
            since_used[name] = dict(list(answers.items())[written[-1] + 1 :])

    def fail(spec: Endpoint, window: Window, exc: WxframeError) -> None:
        # Its window is not recorded: the next sync asks for it again.
        summary.failed.append(
            FailedWindow(spec.name, window, str(exc).removeprefix(f"{spec.name} {window}: "))
        )
        summary.calls += 1  # it was asked, and answered
        summary.endpoints[spec.name]["calls"] += 1
        since_used[spec.name][window] = True

    def take(decoded: list[Decoded]) -> None:
        for spec, window, page in decoded:
            if isinstance(page, WxframeError):
                fail(spec, window, page)
                judge(spec.name, page)
                continue
            since_used[spec.name][window] = None
            # Finality is judged by when the request was sent: an answer that arrives
            # after 08:00 to a request sent before it may hold the partial numbers.
            asked = page.sent_at or client.now()
            # is_delay: the platform says these numbers are not final yet.
            delayed = bool(page.meta.get("is_delay"))
            batches.setdefault(spec.name, []).append((window, page, asked, delayed))

    storing = 0.0  # how long the last write took to store its files and manifest

    def flush() -> None:
        nonlocal storing
        take(fetch.rest())
        converted = {}
        for name, whole in batches.items():
            table, batch, refused = _convert(specs[name], whole)
            for window, exc in refused:
                fail(specs[name], window, exc)
            for window, *_ in batch:
                since_used[name][window] = False
            judge(name, None)
            converted[name] = (table, batch)
        parts = [(specs[name], [w for w, *_ in batch], table)
                 for name, (table, batch) in converted.items()]  # fmt: skip
        began = time.monotonic()
        files = write_batches(layout, account, parts, manifest)
        for name, (table, batch) in converted.items():
            spec = specs[name]
            entry = manifest.entry(name)
            entry.files.update(files[name])  # "next" becomes the record
            per_day = rows_per_day(spec, table)
            stats = summary.endpoints[name]
            for window, _, fetched_at, delayed in batch:
                rows = entry.record(spec, window, fetched_at, per_day, delayed=delayed)
                done[name].add(window)
                stats["calls"] += 1
                stats["rows"] += rows
                summary.calls += 1
                summary.rows_written += rows
        save_manifest(layout, account, manifest)
        storing = time.monotonic() - began
        batches.clear()

    flushed = time.monotonic()
    waiting = 0
    # A long sync alone writes early in its last END_ROUNDS rounds of requests, so
    # that little is left to write after the last answer: whenever it holds as many
    # windows as are still to come, if those will take at least as long to come as
    # storing its last write took (month files, manifest, their fsyncs: about the same
    # for a write of any size, 20-200 ms on a shared disk). Writing early then costs
    # less than it takes off the end, the typing of what is held. The last round is
    # not split: what it brings is written at the end. Writing at the last round alone
    # left a batch of up to flush_windows with one round to hide it (80 days of the
    # current family: 256 of 267 windows, 0.2-0.4 s after the last answer). Not on a
    # shared pool (the other accounts' work fills that time) nor in a sync of one batch
    # (the extra write would rewrite every month it holds): there it would only cost.
    alone = pool is None and len(jobs) > flush_windows
    end_game = END_ROUNDS * client.max_workers if alone else 0
    received = 0
    asking = time.monotonic()
    fetch = Fetch(
        client, jobs, progress=progress, desc="sync", stopped=stopped,
        isolate=_ENDPOINT_FAULTS, pool=pool, window_faults=(MalformedResponseError,),
    )  # fmt: skip
    try:
        for decoded in fetch:
            take(decoded)
            if give_up:
                raise give_up[0]  # what is good is written below
            waiting += 1
            received += 1
            still = len(jobs) - received  # windows not received yet
            now = time.monotonic()
            early = (
                client.max_workers <= still <= end_game
                and waiting >= still
                and still * (now - asking) / received >= storing
            )
            if waiting >= flush_windows or now - flushed >= flush_seconds or early:
                flush()
                waiting, flushed = 0, time.monotonic()
                if give_up:
                    raise give_up[0]
        if batches or fetch.pending:
            flush()
        if give_up:
            raise give_up[0]
    except BaseException:
        fetch.close()  # the workers stop: nothing more is asked that is not written
        if batches or fetch.pending:
            flush()  # an error fetching (or an interrupt): keep what was fetched
        raise
    finally:
        summary.failed.sort(key=lambda bad: (bad.endpoint, bad.window.begin))
        fetch.warn_outside(stacklevel=4)


def _convert(
    spec: Endpoint, batch: list[_Fetched]
) -> tuple[pa.Table, list[_Fetched], list[tuple[Window, WxframeError]]]:
    """One stored table of a batch's pages, parsed at once (the per-window fixed cost of
    building a frame was most of a sync's CPU), in Arrow: what is written is Arrow, and
    a pandas frame on the way cost a third of a flush. If a page does not parse, the
    table of the others, and each refused window with its error: the good windows are
    written, the bad ones not."""
    try:
        return stored_from_pages(spec, [(page, page.meta) for _, page, _, _ in batch]), batch, []
    except WxframeError:
        good, tables, refused = [], [], []
        for item in batch:
            try:
                tables.append(stored_from_pages(spec, [(item[1], item[1].meta)]))
                good.append(item)
            except WxframeError as exc:
                refused.append((item[0], exc))
        return combined(spec, [t for t in tables if t.num_rows]), good, refused


def _incomplete(
    stopped: Mapping[str, tuple[WxframeError, list[Window]]],
    not_started: dict[str, list[Window]],
    summary: SyncSummary,
) -> SyncIncomplete:
    """The error a stopped sync raises: what stopped which endpoint, and what remains
    (with the windows whose answers could not be used)."""
    remaining = {name: list(ws) for name, (_, ws) in stopped.items()} | not_started
    for bad in summary.failed:
        if bad.window not in remaining.setdefault(bad.endpoint, []):
            remaining[bad.endpoint] = sorted([*remaining[bad.endpoint], bad.window])
    remaining = {name: ws for name, ws in remaining.items() if ws}
    parts = [
        f"{name}: {len(ws)} window(s) {ws[0].begin}..{ws[-1].end}" for name, ws in remaining.items()
    ]
    errors = [exc for exc, _ in stopped.values()]
    causes = "; ".join(dict.fromkeys(str(exc) for exc in errors))  # each cause once
    status = most_urgent(exc.exit_status for exc in errors)
    quota = any(isinstance(exc, QuotaExceededError) for exc in errors)
    if status == 3:
        then = "Run the sync again to finish" + (
            " (tomorrow, Beijing time, for a daily quota)." if quota else "."
        )
    else:  # running it again as it is would stop the same way
        then = "Fix that first; then the sync resumes where it stopped."
    message = (
        f"sync stopped: {causes}. Kept {summary.rows_written} rows from {summary.calls} calls; "
        f"remaining: {'; '.join(parts) or 'nothing'}. {then}"
    )
    return SyncIncomplete(
        message, remaining=remaining, summary=summary, reason=causes, exit_status=status
    )


# ------------------------------------------------------------------------ write
def write_windows(
    layout: Layout,
    spec: Endpoint,
    account: str,
    windows: Sequence[Window],
    rows: pa.Table | pd.DataFrame,
    manifest: Manifest | None = None,
) -> dict[str, FileRecord]:
    """Replace every row of the windows' days with ``rows``', one new file per month.

    ``rows`` is a stored table (:func:`~wxframe.frames.stored`) or a tidy frame.

    Returns what the manifest records of each file written: its name (by its content),
    rows, size and SHA-256, by which a verify (and every sync, by the size) finds
    damage. Nothing is named until the caller records these and saves the manifest
    (the commit); with ``manifest``, the files replaced are noted as retired there.
    """
    table = rows if isinstance(rows, pa.Table) else stored_from_frame(rows)
    return write_batches(layout, account, [(spec, windows, table)], manifest)[spec.name]


def write_batches(
    layout: Layout,
    account: str,
    parts: Sequence[tuple[Endpoint, Sequence[Window], pa.Table]],
    manifest: Manifest | None = None,
) -> dict[str, dict[str, FileRecord]]:
    """:func:`write_windows` for several endpoints at once, per endpoint: every month
    file written under its content name beside the one it replaces (which readers of
    the manifest as it is keep reading); the caller's one save of the manifest names
    them all at once."""
    staged: list[Staged] = []
    for spec, windows, table in parts:
        recorded = None
        if manifest is not None:
            recorded = {m: (r.name, r.digests) for m, r in manifest.get(spec.name).files.items()}
        else:  # the files there are, as a manifest would name them
            recorded = {}
        layout.stage(spec, account, windows, table, staged, recorded)
    now = datetime.now(BEIJING)
    written: dict[str, dict[str, FileRecord]] = {spec.name: {} for spec, _, _ in parts}
    for item in staged:
        written[item.spec.name][item.month] = _file_record(item)
        if manifest is not None and item.replaces is not None and item.replaces != item.path:
            manifest.retire(layout.relative(item.replaces), now)
    return written


def _file_record(item: Staged) -> FileRecord:
    return FileRecord(rows=item.rows, size=item.size, sha256=item.sha256, name=item.path.name)


def settle_staged(layout: Layout, account: str, manifest: Manifest) -> None:
    """Resolve the ``next`` records a killed write left, before anything is written.

    A month file is staged in the manifest as ``next``, renamed into place, and only
    then are its days recorded. A kill before the rename leaves the old file: its
    ``next`` is dropped. A kill after it leaves a file that may hold rows of days
    the manifest does not list (or other counts for days it lists): the file is
    taken as the month's record and its days recorded as it holds them, the unlisted
    ones as not final, so this sync fetches them again. Without this, a rewrite of
    part of that month kept those rows under a record that did not count them
    (verify: "holds 1,511 rows, the manifest 346"), and a second staged record
    replaced the first before its file was renamed. Anything else is left for the
    damage check.
    """
    settled = False
    for name, entry in manifest.endpoints.items():
        if name not in ENDPOINTS:
            continue  # a newer wxframe's endpoint: not ours to judge
        spec, files = ENDPOINTS[name], entry.files
        for month in [m for m, record in files.items() if record.next is not None]:
            record = files[month]
            staged = record.next
            assert staged is not None
            path = layout.data_file(spec, account, month, record.name)
            try:
                size: int | None = layout.storage.size(path)
            except FileNotFoundError:
                size = None
            if size is None and record.size is None:
                del files[month]  # a first file, never renamed
            elif size == staged.size and layout.storage.sha256(path) == staged.sha256:
                _adopt(layout, spec, entry, month, path, staged)
            elif size is not None and size == record.size:
                files[month] = record.settled()
            else:
                continue  # neither: damage, which the checks name
            settled = True
    if settled:
        save_manifest(layout, account, manifest)


def _adopt(
    layout: Layout,
    spec: Endpoint,
    entry: EndpointRecord,
    month: str,
    path: PurePath,
    record: FileRecord,
) -> None:
    """Record a renamed month file whose days a kill kept from being recorded."""
    try:
        held = layout.read_parquet(path, [spec.partition])
    except UNREADABLE:
        return  # its checksum matched, so the disk is failing: the checks say so
    rows = rows_per_day(spec, held)
    days = entry.days
    at = layout.storage.mtime(path).astimezone(BEIJING).isoformat(timespec="seconds")
    for day in sorted({d for d in days if d[:7] == month} | rows.keys()):
        info = days.get(day)
        if info is None:
            days[day] = DayRecord(at=at, final=False, rows=rows[day])
        elif info.row_count != rows.get(day, 0):
            days[day] = replace(info, rows=rows.get(day, 0))
    entry.files[month] = record
