"""The parquet snapshot store: incremental, resumable sync and fast reads.

Layout (hive-partitioned, readable as it is by pyarrow.dataset, DuckDB, Dask, Spark)::

    <root>/
      <endpoint>/account=<appid>/month=YYYY-MM/data.parquet   one file per month
      _manifest/<appid>.json                                  what was fetched, when
      _manifest/<appid>/<endpoint>/YYYY-MM.json               ... its days, by month
      .wxframe.<appid>.lock                                   held while a sync writes

Rows are partitioned by ``ref_date``'s month (getarticletotal too: by sending day).
The ``account`` and ``month`` columns live in the path, not in the files.

Never lose or duplicate anything: each file is written to a temporary name and renamed
into place; a window's rows replace every row of the window's days (so a re-fetched
day never doubles); the manifest is rewritten (atomically) only after the data it
describes is in place. A process killed at any moment leaves a readable store, and the
next sync fetches whatever the manifest does not list as final.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import operator
import os
import re
import threading
import time
import uuid
import warnings
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import filelock
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from wxframe.client import Client, PageDecoder, RequestPool
from wxframe.dates import (
    BEIJING,
    COMPLETE_HOUR,
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
    get_endpoint,
    iter_endpoints,
)
from wxframe.errors import (
    ApiError,
    ConfigurationError,
    DataNotReadyError,
    EndpointOfflineError,
    EndpointSkippedWarning,
    QuotaExceededError,
    StoreDamagedWarning,
    StoreError,
    StoreLockedError,
    SyncIncomplete,
    WxframeError,
    check_count,
)
from wxframe.frames import (
    NULLABLE,
    AnyPage,
    conform,
    empty_frame,
    empty_stored,
    frame_dtypes,
    from_pages,
    in_key_order,
    in_order,
    stored_from_pages,
    stored_schema,
    warn_outside,
    within_window,
)

__all__ = ["ImportSummary", "Store", "SyncSummary"]

MANIFEST_DIR = "_manifest"
#: Where repairs move damaged files: outside the endpoints' folders, which any parquet
#: reader may scan.
DAMAGED_DIR = "_damaged"
#: One lock per account: syncs of different accounts write different files and manifests.
LOCK_NAME = ".wxframe.{account}.lock"
DATA_FILE = "data.parquet"
#: The parts of an endpoint's manifest entry kept in one file per month.
_BY_MONTH = ("days", "files")
#: Marks a manifest read for a read (some months only): never saved.
_PARTIAL = "~partial"
_MONTH = re.compile(r"^\d{4}-\d{2}$")
#: The account column while a read sorts in arrow (a name no field has).
_ACCOUNT = "__wxframe_account"
#: A sync writes what it fetched every FLUSH_WINDOWS windows or FLUSH_SECONDS seconds.
FLUSH_WINDOWS = 256
FLUSH_SECONDS = 2.0
#: A long sync alone writes early in its last END_ROUNDS rounds of requests, where the
#: answers still to come hide the write (see ``Store._fetch_and_write``).
END_ROUNDS = 8
#: The temporary names the store writes to before a rename (``_atomic_write``).
_TEMP_NAME = re.compile(r"^\.(data\.parquet|[A-Za-z0-9_-]{1,64}\.json)\.[0-9a-f]{32}\.tmp$")
#: What an appid may hold (the platform's are ``wx`` and 16 hex digits).
_APPID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Faults that stop only their own endpoint's part of a sync.
_ENDPOINT_FAULTS = (EndpointOfflineError, QuotaExceededError, DataNotReadyError)
_PARTITIONING = ds.partitioning(
    pa.schema([("account", pa.string()), ("month", pa.string())]), flavor="hive"
)


@dataclass
class ImportSummary:
    """What an import did."""

    files: int = 0
    rows: int = 0
    days_written: int = 0
    days_skipped: int = 0

    def __str__(self) -> str:
        return (
            f"{self.files} file(s), {self.rows} rows, {self.days_written} day(s) written, "
            f"{self.days_skipped} day(s) already held"
        )


@dataclass
class SyncSummary:
    """What a sync did, per endpoint and in total."""

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

    def __str__(self) -> str:
        text = (
            f"{self.calls} calls, {self.rows_written} rows written, "
            f"{self.windows_skipped} windows skipped as fresh, {self.retries} retries, "
            f"{self.seconds:.1f}s"
        )
        if self.offline:
            text += "; switched off by the platform: " + ", ".join(self.offline)
        return text


class Store:
    """A local parquet snapshot of one or more accounts' datacube data.

    Examples
    --------
    >>> import tempfile
    >>> from wxframe.simulator import serve
    >>> with serve(seed=0, today="2026-06-01") as sim, tempfile.TemporaryDirectory() as root:
    ...     store = Store(root)
    ...     first = store.sync(sim.client(), "2026-05-01", "2026-05-31", progress=False)
    ...     again = store.sync(sim.client(), "2026-05-01", "2026-05-31", progress=False)
    ...     print(again.endpoints["getarticletotaldetail"]["calls"], again.calls)
    ...     print(len(store.read("getusercumulate")))
    29 29
    31

    The second sync asks only for the publish days whose 30 days are not all final.
    """

    def __init__(self, root: str | os.PathLike[str], *, lock_timeout: float = 0.0) -> None:
        self.root = Path(root)
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # ------------------------------------------------------------ manifest
    def _manifest_path(self, account: str) -> Path:
        return self.root / MANIFEST_DIR / f"{account}.json"

    def _month_folder(self, account: str, endpoint: str) -> Path:
        return self.root / MANIFEST_DIR / account / endpoint

    def _month_path(self, account: str, endpoint: str, month: str) -> Path:
        return self._month_folder(account, endpoint) / f"{month}.json"

    def _load_manifest(
        self,
        account: str,
        only: tuple[str, str, str] | None = None,
        *,
        damaged: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The manifest of ``account``: its own file, and each endpoint's days by month.

        With ``only`` (endpoint, first month, last month), just that endpoint's months in
        that range (what a read needs): such a manifest is never saved. A damaged month
        file raises :class:`StoreError`, or with a ``damaged`` list is put there
        (endpoint, month, path, why) and left out, for verify and sync to set aside.
        """
        path = self._manifest_path(account)
        if not path.exists():
            return {"account": account, "endpoints": {}}
        manifest = dict(_read_json(path))
        problem = _manifest_problem(manifest)
        if problem:
            raise StoreError(
                f"the manifest {path} is not a wxframe manifest: {problem}. Move it away and "
                "sync again to rebuild what it described"
            )
        if only is not None:
            manifest["endpoints"] = {k: v for k, v in manifest["endpoints"].items() if k == only[0]}
            manifest[_PARTIAL] = True
        for name, entry in manifest["endpoints"].items():
            # Manifests before 0.2 held every day in this file: kept as they are, written
            # by month at the next save (the months read below are newer, if any).
            days, files = _Months(entry.get("days", {})), _Months(entry.get("files", {}))
            folder = self._month_folder(account, name)
            for place in (folder.parent, folder):
                if place.exists() and not place.is_dir():
                    raise StoreError(
                        f"{place} is a file, where the manifest keeps its months: move it "
                        "away; `wxframe verify` then names what the store holds"
                    )
            for month, shard in _month_files(folder, only):
                part, why = _json_problem(shard)
                if why is None and (problem := _month_problem(name, part)):
                    why = f"is not a wxframe manifest: {problem}"
                if why is not None:
                    if damaged is None:
                        raise StoreError(
                            f"the manifest {shard} {why}. `wxframe verify --store "
                            f"{self.root} --repair` sets it aside and the next sync fetches "
                            "that month again"
                        )
                    damaged.append({"endpoint": name, "month": month, "path": shard, "why": why})
                    continue
                days.replace_month(month, part["days"])
                files.replace_month(month, {month: part["file"]} if "file" in part else {})
            if "days" not in entry:
                days.touched.clear()  # as on disk
                files.touched.clear()
            entry["days"], entry["files"] = days, files
        return manifest

    def _save_manifest(self, account: str, manifest: dict[str, Any]) -> None:
        """Write the months that changed since the manifest was read or last saved, then
        the account's own file: a save costs the same in a store's fifth year as in its
        first."""
        if manifest.get(_PARTIAL):
            raise AssertionError("a partial manifest (read for a read) cannot be saved")
        path = self._manifest_path(account)
        top = {k: v for k, v in manifest.items() if k != "endpoints"}
        top["endpoints"] = {}
        for name, entry in manifest["endpoints"].items():
            days, files = _Months.of(entry, "days"), _Months.of(entry, "files")
            for month in sorted(days.touched | files.touched):
                shard = self._month_path(account, name, month)
                part: dict[str, Any] = {"days": days.month(month)}
                if month in files:
                    part["file"] = files[month]
                if part["days"] or "file" in part:
                    _atomic_write(shard, _dumps(part), mkdir=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        shard.unlink()
            days.touched.clear()
            files.touched.clear()
            top["endpoints"][name] = {k: v for k, v in entry.items() if k not in _BY_MONTH}
        _atomic_write(path, _dumps(top), mkdir=True)

    def accounts(self) -> list[str]:
        """The appids this store holds data or a manifest for."""
        found = {p.stem for p in (self.root / MANIFEST_DIR).glob("*.json")}
        for name in ENDPOINTS:
            found |= {
                p.name.removeprefix("account=")
                for p in (self.root / name).glob("account=*")
                if p.is_dir()
            }
        return sorted(found)

    # ---------------------------------------------------------------- sync
    def sync(
        self,
        client: Client,
        begin: DateLike | None = None,
        end: DateLike | None = None,
        *,
        endpoints: str | Iterable[str] | None = None,
        progress: bool | None = None,
    ) -> SyncSummary:
        """Fetch what is missing and what may still change; return what was done.

        ``end`` defaults to the last complete day, ``begin`` to the earliest day the
        store holds for this account (on a first sync: 30 days before ``end``).
        Fetched again: days fetched before they were complete (before 08:00 Beijing the
        next day), and getarticletotal sending days whose 7 days of details were not
        all complete. Everything else already held is skipped.

        Raises :class:`SyncIncomplete` (with the windows still to fetch) when an error
        stops it; everything fetched before the error is kept.
        """
        return self._sync(client, begin, end, endpoints=endpoints, progress=progress)

    def _sync(
        self,
        client: Client,
        begin: DateLike | None,
        end: DateLike | None,
        *,
        endpoints: str | Iterable[str] | None,
        progress: bool | None,
        pool: RequestPool | None = None,
    ) -> SyncSummary:
        """:meth:`sync`, its requests on ``pool``'s threads when one is given."""
        specs = list(iter_endpoints(endpoints))
        account = self._client_account(client)
        now = client.now()
        e = as_date(end, "end") if end is not None else last_complete_day(now)
        # Check what can be checked before waiting for the lock or sending anything.
        check_range(begin if begin is not None else e, e, now=now, warn=False)
        started = time.perf_counter()
        counts_before = dict(client.counts)
        summary = SyncSummary()
        self._make_root()
        lock = self._lock(account)
        try:
            # Read the manifest under the lock: another sync may just have written it.
            bad: list[dict[str, Any]] = []
            manifest = self._load_manifest(account, damaged=bad)
            if begin is not None:
                b = as_date(begin, "begin")
            else:
                held = _held_days(manifest)
                firsts = [min(held[s.name]) for s in specs if held.get(s.name)]
                b = min(firsts) if firsts else e - timedelta(days=29)
            b, e = check_range(b, e, now=now)
            self._remove_stale_temp_files(account)
            self._settle_staged(account, manifest)
            self._repair_before_sync(account, manifest, specs, bad)
            skipped = {s.name: offline for s in specs if (offline := _offline(manifest, s))}
            if skipped:
                warnings.warn(
                    "not asked, the platform has switched them off for this account: "
                    + "; ".join(f"{name} ({why})" for name, why in skipped.items()),
                    EndpointSkippedWarning,
                    stacklevel=2,
                )
                summary.offline |= skipped
            specs = [s for s in specs if s.name not in skipped]
            plans = {spec.name: self._plan(spec, manifest, b, e) for spec in specs}
            for spec in specs:
                windows, skipped_days = plans[spec.name]
                full = len(spec.windows(max(b, spec.earliest), e)) if e >= spec.earliest else 0
                stats = {"calls": 0, "rows": 0, "windows_skipped": max(full - len(windows), 0)}
                summary.endpoints[spec.name] = stats
                summary.windows_skipped += stats["windows_skipped"]
                summary.days_skipped += skipped_days
            done: dict[str, set[Window]] = {spec.name: set() for spec in specs}
            stopped: dict[str, tuple[ApiError, list[Window]]] = {}
            jobs = [(spec, w) for spec in specs for w in plans[spec.name][0]]
            try:
                self._fetch_and_write(
                    client, account, jobs, manifest, done, summary, progress, stopped, pool
                )
            except WxframeError as exc:
                # A fault no endpoint can go on past (network, credentials): what was
                # fetched is written; the rest is what a rerun asks for.
                left = {
                    s.name: [w for w in plans[s.name][0] if w not in done[s.name]] for s in specs
                }
                cause: dict[str, tuple[WxframeError, list[Window]]] = {
                    getattr(exc, "endpoint", None) or "sync": (exc, [])
                }
                raise _incomplete(cause, left, summary) from exc
            finally:
                for name, (error, _) in list(stopped.items()):
                    if isinstance(error, EndpointOfflineError):
                        # Switched off for good: remember it, and never ask again.
                        del stopped[name]
                        spec = get_endpoint(name)
                        summary.offline[name] = _mark_offline(manifest, spec, error, client.now())
                if summary.offline.keys() - skipped.keys():
                    self._save_manifest(account, manifest)
            if stopped:
                first = next(iter(stopped.values()))[0]
                raise _incomplete(dict(stopped), {}, summary) from first
        finally:
            lock.release()
            summary.seconds = time.perf_counter() - started
            summary.retries = client.counts["retries"] - counts_before["retries"]
            summary.token_refreshes = (
                client.counts["token_refreshes"] - counts_before["token_refreshes"]
            )
        return summary

    def sync_many(
        self,
        clients: Iterable[Client],
        begin: DateLike | None = None,
        end: DateLike | None = None,
        *,
        endpoints: str | Iterable[str] | None = None,
        max_workers: int = 16,
        max_accounts: int | None = None,
        progress: bool | None = False,
    ) -> dict[str, SyncSummary | WxframeError]:
        """Sync several accounts at once; one account's failure does not stop the others.

        Every account's requests go through one pool of ``max_workers`` threads: at
        most that many are in flight in all, and at most each client's own
        ``max_workers`` for its account (the per-account limit, which keeps one account
        from taking the whole pool and its per-minute quota). ``max_accounts`` accounts
        are synced at the same moment (default: twice as many as fill the pool, so the
        pool stays busy while an account types and writes what it fetched). Each
        account has its own lock, manifest and files, as with :meth:`sync`. Returns,
        per appid in the order given, the :class:`SyncSummary` or the error that
        stopped it (credentials, quota, 47009, network: a :class:`SyncIncomplete` keeps
        what was fetched, a rerun resumes).

        Examples
        --------
        >>> import tempfile
        >>> from wxframe.simulator import serve
        >>> with serve(seed=0, today="2026-06-01") as a, serve(seed=1, today="2026-06-01") as b:
        ...     with tempfile.TemporaryDirectory() as root:
        ...         done = Store(root).sync_many([a.client(), b.client()], "2026-05-25",
        ...                                      "2026-05-31", endpoints="getusersummary")
        ...         print({appid: r.calls for appid, r in done.items()})
        {'wx5im0000000000001': 1, 'wx5im0000000000002': 1}
        """
        clients = list(clients)
        check_count("max_workers", max_workers)
        if max_accounts is not None:
            check_count("max_accounts", max_accounts)
        accounts = [self._client_account(c) for c in clients]
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
                    results[account] = self._sync(
                        client, begin, end, endpoints=endpoints, progress=progress, pool=pool
                    )
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

    def _make_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"the store {self.root} cannot be a directory: {exc.strerror or exc}"
            ) from None
        if not self.root.is_dir():
            raise StoreError(f"the store {self.root} is a file, not a directory")

    def _lock(self, account: str) -> filelock.BaseFileLock:
        """The account's write lock, acquired (or a StoreLockedError that says what to do)."""
        path = self.root / LOCK_NAME.format(account=account)
        lock = filelock.FileLock(str(path), timeout=self.lock_timeout)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise StoreLockedError(
                f"another sync is writing {account} in {self.root} (lock {path}); "
                "wait for it to finish, or pass Store(root, lock_timeout=SECONDS) to wait"
            ) from None
        return lock

    # ----------------------------------------------------------- integrity
    def verify(
        self,
        *,
        account: str | None = None,
        endpoints: str | Iterable[str] | None = None,
        repair: bool = False,
    ) -> pd.DataFrame:
        """Check the files against the manifest; with ``repair=True``, forget what is damaged.

        Every month file the manifest lists must exist, read as parquet, hold the rows
        the manifest counts for its days, and have the size and SHA-256 recorded when it
        was written. One row per problem (none when the store is sound): ``account``,
        ``endpoint``, ``month``, ``path``, ``problem``, ``days`` (the days it held) and
        ``next``: ``fetch`` (a sync fetches those days again) or ``import`` (they were
        imported history: import the archive again). Data folders of an account with no
        manifest are reported too (a read never takes them).

        ``repair=True`` drops the damaged months' days from the manifest and moves a
        damaged file aside (``data.parquet.damaged-<time>``), so that reads work again
        and the next sync fetches those days; ``wxframe verify --repair`` also runs
        that sync. Every sync repairs what a cheap check (existence and size) finds.

        Examples
        --------
        >>> import tempfile
        >>> from wxframe.simulator import serve
        >>> with serve(seed=0, today="2026-06-01") as sim, tempfile.TemporaryDirectory() as root:
        ...     store = Store(root)
        ...     _ = store.sync(sim.client(), "2026-05-01", "2026-05-31",
        ...                    endpoints="getusersummary", progress=False)
        ...     print(len(store.verify()))
        ...     month = store.root / f"getusersummary/account={sim.appid}/month=2026-05"
        ...     (month / "data.parquet").unlink()
        ...     print(store.verify()[["endpoint", "month", "problem", "days", "next"]])
        0
                 endpoint    month  problem  days   next
        0  getusersummary  2026-05  missing    31  fetch
        """
        specs = list(iter_endpoints(endpoints, default=ENDPOINTS))
        accounts = [self._checked_account(account)] if account else self._manifest_accounts()
        problems: list[dict[str, Any]] = []
        for acct in accounts:
            lock = self._lock(acct) if repair else None
            try:
                bad: list[dict[str, Any]] = []
                manifest = self._load_manifest(acct, damaged=bad)
                found = self._damaged_months(acct, bad, specs)
                lost = {(p["endpoint"], p["month"]) for p in found}
                found += [
                    p
                    for p in self._check_files(acct, manifest, specs, thorough=True)
                    if (p["endpoint"], p["month"]) not in lost  # named once, as the record's
                ]
                if repair and found:
                    self._forget(acct, manifest, found)
                problems += found
            finally:
                if lock is not None:
                    lock.release()
        if account is None:
            for spec in specs:
                for folder in sorted((self.root / spec.name).glob("account=*")):
                    acct = folder.name.removeprefix("account=")
                    if folder.is_dir() and acct not in accounts:
                        why = "no manifest: a read never takes these files"
                        problems.append(_problem(acct, spec, "", folder, why, [], "import"))
        columns = ["account", "endpoint", "month", "path", "problem", "days", "next"]
        df = pd.DataFrame([{k: p[k] for k in columns} for p in problems], columns=columns)
        return df.astype({c: "Int64" if c == "days" else "string" for c in columns})

    def _settle_staged(self, account: str, manifest: dict[str, Any]) -> None:
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
        for name, entry in manifest["endpoints"].items():
            if name not in ENDPOINTS:
                continue  # a newer wxframe's endpoint: not ours to judge
            spec, files = ENDPOINTS[name], entry.get("files") or {}
            for month in [m for m, record in files.items() if "next" in record]:
                record, staged = files[month], files[month]["next"]
                path = self._partition(spec, account, month) / DATA_FILE
                try:
                    size: int | None = path.stat().st_size
                except FileNotFoundError:
                    size = None
                if size is None and "bytes" not in record:
                    del files[month]  # a first file, never renamed
                elif size == staged.get("bytes") and _digest(path) == staged.get("sha256"):
                    self._adopt(spec, entry, month, path, staged)
                elif size is not None and size == record.get("bytes"):
                    files[month] = {k: v for k, v in record.items() if k != "next"}
                else:
                    continue  # neither: damage, which the checks name
                settled = True
        if settled:
            self._save_manifest(account, manifest)

    def _adopt(
        self, spec: Endpoint, entry: dict[str, Any], month: str, path: Path, record: dict[str, Any]
    ) -> None:
        """Record a renamed month file whose days a kill kept from being recorded."""
        try:
            held = pq.read_table(path, columns=[spec.partition])
        except (OSError, pa.ArrowException):
            return  # its checksum matched, so the disk is failing: the checks say so
        rows = _per_day(spec, held)
        days = entry["days"]
        at = datetime.fromtimestamp(path.stat().st_mtime, BEIJING).isoformat(timespec="seconds")
        for day in sorted({d for d in days if d[:7] == month} | rows.keys()):
            info = days.get(day)
            if info is None:
                days[day] = {"at": at, "final": False, "rows": rows[day]}
            elif info.get("rows", 0) != rows.get(day, 0):
                days[day] = {**info, "rows": rows.get(day, 0)}
        entry["files"][month] = record

    def _repair_before_sync(
        self,
        account: str,
        manifest: dict[str, Any],
        specs: Sequence[Endpoint],
        bad: list[dict[str, Any]],
    ) -> None:
        """Forget month files that are gone or resized, and months whose record in the
        manifest is damaged, so this sync fetches them again."""
        damaged = self._damaged_months(account, bad, specs)
        damaged += self._check_files(account, manifest, specs, thorough=False)
        if not damaged:
            return
        self._forget(account, manifest, damaged)
        lines = [f"{p['path']} ({p['problem']}, {p['days']} days)" for p in damaged]
        imported = [p["path"] for p in damaged if p["next"] == "import"]
        warnings.warn(
            "damaged store files, their days are fetched again: "
            + "; ".join(lines)
            + (f". Imported history to import again: {', '.join(imported)}" if imported else ""),
            StoreDamagedWarning,
            stacklevel=3,
        )

    def _damaged_months(
        self, account: str, bad: list[dict[str, Any]], specs: Sequence[Endpoint]
    ) -> list[dict[str, Any]]:
        """Problems for the month files of the manifest that could not be read."""
        names = {s.name for s in specs}
        found = []
        for item in bad:
            if item["endpoint"] not in names:
                continue
            spec = get_endpoint(item["endpoint"])
            path = self._partition(spec, account, item["month"]) / DATA_FILE
            why = f"its record in the manifest ({item['path']}) is damaged: {item['why']}"
            problem = _problem(account, spec, item["month"], path, why, [], "fetch")
            found.append(problem | {"record": str(item["path"])})
        return found

    def _check_files(
        self, account: str, manifest: dict[str, Any], specs: Sequence[Endpoint], *, thorough: bool
    ) -> list[dict[str, Any]]:
        """The damaged month files of ``account``: missing, resized, or (``thorough``)
        unreadable, of another checksum or another row count than the manifest's."""
        found = []
        for spec in specs:
            entry = manifest["endpoints"].get(spec.name) or {}
            if thorough:  # a data file whose month the manifest does not know
                known = set(_stored_months(entry, None, None))
                folder = self.root / spec.name / f"account={account}"
                for path in sorted(folder.glob(f"month=*/{DATA_FILE}")):
                    month = path.parent.name.removeprefix("month=")
                    if _MONTH.match(month) and month not in known:  # not a stray copy
                        why = (
                            "no record of it in the manifest (that month's part is missing): "
                            "a read does not take it; --repair moves it aside and the next "
                            "sync fetches the month (imported history: import it again)"
                        )
                        found.append(_problem(account, spec, month, path, why, [], "fetch"))
            by_month = _month_days(entry)
            for month, info in sorted(entry.get("lost", {}).items()):
                path = self._partition(spec, account, month) / DATA_FILE
                why = (
                    f"lost: {info['days']} days of imported history were damaged; import "
                    f"the archive again (wxframe import --endpoint {spec.name} FILES)"
                )
                found.append(_problem(account, spec, month, path, why, [], "import"))
            for month in _stored_months(entry, None, None):
                days = by_month.get(month, [])
                path = self._partition(spec, account, month) / DATA_FILE
                if _staged_only(entry, month) and not path.exists():
                    continue  # a crash before its first rename: a sync to resume, not damage
                expected = sum(int(info.get("rows", 0)) for _, info in days)
                record = entry.get("files", {}).get(month)
                problem = _file_problem(path, record, expected, thorough=thorough)
                if problem:
                    imported = any(info.get("source") == "import" for _, info in days)
                    next_ = "import" if imported else "fetch"
                    days_held = [d for d, _ in days]
                    found.append(_problem(account, spec, month, path, problem, days_held, next_))
        return found

    def _forget(
        self, account: str, manifest: dict[str, Any], problems: list[dict[str, Any]]
    ) -> None:
        """Drop damaged months from the manifest (so they are fetched again) and move
        their files to ``_damaged/`` at the root, out of every reader's way.

        Imported history cannot be fetched again: its months are remembered as ``lost``
        and reported by :meth:`verify` (and warned of by reads) until imported again.
        """
        stamp = beijing_now().strftime("%Y%m%dT%H%M%S")
        for problem in problems:
            if problem["problem"].startswith("lost"):
                continue  # already forgotten; waiting for its archive
            entry = manifest["endpoints"][problem["endpoint"]]
            for day in problem["day_list"]:
                entry["days"].pop(day, None)
            entry.get("files", {}).pop(problem["month"], None)
            if problem["next"] == "import":
                entry.setdefault("lost", {})[problem["month"]] = {
                    "days": problem["days"],
                    "at": stamp,
                }
            for path in (Path(problem["path"]), Path(problem.get("record", problem["path"]))):
                if not path.exists():
                    continue  # gone already, or the same path twice
                aside = self.root / DAMAGED_DIR / path.relative_to(self.root)
                aside = aside.with_name(f"{path.name}.{stamp}")
                try:
                    aside.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(path, aside)
                except OSError as exc:
                    raise StoreError(f"cannot move {path} aside: {exc.strerror or exc}") from None
        self._save_manifest(account, manifest)

    # -------------------------------------------------------------- import
    def import_json(
        self,
        endpoint: str | Endpoint,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        account: str | None = None,
        replace: bool = False,
    ) -> ImportSummary:
        """Put saved raw responses of ``endpoint`` into the store (history, archives).

        Each path is a file or a folder (its ``*.json`` and ``*.jsonl`` files). A file
        holds one response (``{"list": [...]}``, with or without ``errcode: 0`` /
        ``errmsg``), a JSON array of records, or JSON Lines of responses: what wechatpy,
        the platform's own examples or a script's ``json.dump`` leave behind. Records
        are typed and checked as the loaders' are; the days are the records' own
        (``ref_date``). Imported days are final: a sync never fetches them.

        Safe to repeat: days the store already holds as final are kept as they are (and
        counted as skipped) unless ``replace=True``, so importing the same files twice
        changes nothing. A file that does not parse or does not fit the endpoint is
        refused with its name and the reason, and nothing is written.

        Examples
        --------
        >>> import json, pathlib, tempfile
        >>> from wxframe.datasets import api_example
        >>> with tempfile.TemporaryDirectory() as root:
        ...     saved = pathlib.Path(root) / "share.json"
        ...     _ = saved.write_text(json.dumps(api_example("getusershare")))
        ...     store = Store(pathlib.Path(root) / "store")
        ...     print(store.import_json("getusershare", saved, account="wx0123456789abcdef"))
        ...     print(store.import_json("getusershare", saved, account="wx0123456789abcdef"))
        1 file(s), 2 rows, 1 day(s) written, 0 day(s) already held
        1 file(s), 0 rows, 0 day(s) written, 1 day(s) already held
        """
        spec = get_endpoint(endpoint)
        files = _json_files(paths)
        account = self._checked_account(account)
        pages: list[tuple[list[Any], dict[str, Any]]] = []
        for path in files:
            found = _read_pages(spec, path)
            try:
                from_pages(spec, found)  # typed and checked file by file, to name the file
            except WxframeError as exc:
                raise StoreError(f"{path}: does not fit {spec.name}: {exc}") from None
            pages += found
        try:
            frame = from_pages(spec, pages) if pages else empty_frame(spec)
        except WxframeError as exc:
            raise StoreError(f"the files disagree with each other: {exc}") from None
        summary = ImportSummary(files=len(files))
        self._make_root()
        lock = self._lock(account)
        try:
            manifest = self._load_manifest(account)
            self._settle_staged(account, manifest)
            held = manifest["endpoints"].get(spec.name, {}).get("days", {})
            days = sorted({d.date() for d in frame[spec.partition]})
            wanted = [d for d in days if replace or not held.get(d.isoformat(), {}).get("final")]
            summary.days_skipped = len(days) - len(wanted)
            if wanted:
                at = beijing_now()
                windows = [Window(d, d) for d in wanted]
                rows = _to_arrow(frame[frame[spec.partition].dt.date.isin(wanted)])
                written = self._write_windows(spec, account, windows, rows, manifest)
                _record_files(manifest, spec, written)
                lost = manifest["endpoints"][spec.name].get("lost", {})
                for month in {w.begin.strftime("%Y-%m") for w in windows}:
                    lost.pop(month, None)  # imported again
                per_day = _per_day(spec, rows)
                for window in windows:
                    _record(manifest, spec, window, at, per_day, source="import")
                summary.rows += len(rows)
                self._save_manifest(account, manifest)
                summary.days_written = len(wanted)
        finally:
            lock.release()
        return summary

    def _client_account(self, client: Client) -> str:
        """The client's appid, checked: it names the store's files and its manifest."""
        if not isinstance(client, Client):
            raise ConfigurationError(
                f"client must be a wxframe.Client, got {type(client).__name__}"
            )
        if client.appid is None:
            raise ConfigurationError(
                "this client was made from an access token alone and does not say which "
                "account it is, so its data could overwrite another account's: pass "
                "appid='wx...' too (Client(appid=..., access_token=...))"
            )
        return self._checked_account(client.appid)

    def pick_account(self, account: str | None = None) -> str:
        """``account`` if the store holds it, else the store's only account; otherwise a
        ConfigurationError that lists what it holds (for readers: reports, checks)."""
        accounts = self.accounts()
        if account is not None and account not in accounts:
            raise ConfigurationError(
                f"account={account!r} is not in the store; it holds {', '.join(accounts) or 'none'}"
            )
        if account is None and len(accounts) != 1:
            if not accounts:
                raise ConfigurationError(
                    f"the store {str(self.root)!r} holds no data: run `wxframe sync` first"
                )
            raise ConfigurationError(
                f"the store holds {len(accounts)} accounts ({', '.join(accounts)}): pass account="
            )
        return account if account is not None else accounts[0]

    def _checked_account(self, account: str | None) -> str:
        if account is None:
            accounts = self.accounts()
            if len(accounts) != 1:
                held = ", ".join(accounts) or "none yet"
                raise ConfigurationError(
                    f"say which account the files are of (account=APPID); the store holds {held}"
                )
            return accounts[0]
        if not isinstance(account, str) or not _APPID.match(account):
            raise ConfigurationError(
                f"account={account!r} is not an appid: letters, digits, '_' and '-' only"
            )
        return account

    def _fetch_and_write(
        self,
        client: Client,
        account: str,
        jobs: list[tuple[Endpoint, Window]],
        manifest: dict[str, Any],
        done: dict[str, set[Window]],
        summary: SyncSummary,
        progress: bool | None,
        stopped: dict[str, tuple[ApiError, list[Window]]],
        pool: RequestPool | None = None,
    ) -> None:
        """Fetch every endpoint's windows through one pool; write them in batches.

        One pool for all endpoints keeps every worker busy to the end (it drained
        between endpoints when they were fetched one after another). Each batch rewrites
        the month files it touches and then the manifest, once: batching keeps a
        backfill linear, and a crash loses at most one batch of fetched windows, which
        the next sync fetches again. On an error (or Ctrl-C) the batch is written first,
        so what was fetched before it stays. ``done`` grows as windows are written;
        endpoints stopped by their own fault (47009, 45009, 61503) land in ``stopped``.
        """
        batches: dict[str, list[tuple[Window, AnyPage, datetime, bool]]] = {}
        specs = {spec.name: spec for spec, _ in jobs}
        outside: dict[str, list[str]] = {}
        decoder = PageDecoder(client)
        failed: list[WxframeError] = []  # answers that were not data after all

        def take(spec: Endpoint, decoded: list[tuple[Window, AnyPage | WxframeError]]) -> None:
            for window, page in decoded:
                if isinstance(page, WxframeError):
                    failed.append(page)  # its window is left for the next sync
                    continue
                # Finality is judged by when the request was sent: an answer that arrives
                # after 08:00 to a request sent before it may hold the partial numbers.
                asked = page.sent_at or client.now()
                # is_delay: the platform says these numbers are not final yet.
                delayed = bool(page.meta.get("is_delay"))
                page, dropped = within_window(spec, page, window.begin, window.end)
                if dropped:
                    outside.setdefault(spec.name, []).extend(dropped)
                batches.setdefault(spec.name, []).append((window, page, asked, delayed))

        storing = 0.0  # how long the last write took to store its files and manifest

        def flush() -> None:
            nonlocal storing
            for spec, decoded in decoder.rest():
                take(spec, decoded)
            malformed = failed[0] if failed else None
            failed.clear()
            converted = {}
            for name, whole in batches.items():
                table, batch, error = _convert(specs[name], whole)
                malformed = malformed or error
                converted[name] = (table, batch)
            parts = [(specs[name], [w for w, *_ in batch], table)
                     for name, (table, batch) in converted.items()]  # fmt: skip
            began = time.monotonic()
            files = self._write_batches(account, parts, manifest)
            for name, (table, batch) in converted.items():
                spec = specs[name]
                _record_files(manifest, spec, files[name])
                per_day = _per_day(spec, table)
                stats = summary.endpoints[name]
                for window, _, fetched_at, delayed in batch:
                    rows = _record(manifest, spec, window, fetched_at, per_day, delayed=delayed)
                    done[name].add(window)
                    stats["calls"] += 1
                    stats["rows"] += rows
                    summary.calls += 1
                    summary.rows_written += rows
            self._save_manifest(account, manifest)
            storing = time.monotonic() - began
            batches.clear()
            if malformed is not None:
                raise malformed  # after writing every good window of the batch

        flushed = time.monotonic()
        waiting = 0
        # A long sync alone writes early in its last END_ROUNDS rounds of requests, so
        # that little is left to write after the last answer: whenever it holds as many
        # windows as are still to come, if those will take at least as long to come as
        # storing its last write took (month files, manifest, their fsyncs: about the
        # same for a write of any size, 20-200 ms on a shared disk). Writing early then
        # costs less than it takes off the end, the typing of what is held. The last
        # round is not split: what it brings is written at the end. Writing at the
        # last round alone left a batch of up to FLUSH_WINDOWS with one round to
        # hide it (80 days of the current family: 256 of 267 windows, 0.2-0.4 s after
        # the last answer). Not on a shared pool (the other accounts' work fills that
        # time) nor in a sync of one batch (the extra write would rewrite every month it
        # holds): there it would only cost.
        alone = pool is None and len(jobs) > FLUSH_WINDOWS
        end_game = END_ROUNDS * client.max_workers if alone else 0
        received = 0
        asking = time.monotonic()
        fetched = client.fetch_many(
            jobs,
            progress=progress,
            desc="sync",
            stopped=stopped,
            isolate=_ENDPOINT_FAULTS,
            raw=True,
            pool=pool,
        )
        try:
            for spec, window, page in fetched:
                take(spec, decoder.add(spec, window, page))
                if failed:
                    flush()  # writes what is good, then raises
                waiting += 1
                received += 1
                still = len(jobs) - received  # windows not received yet
                now = time.monotonic()
                early = (
                    client.max_workers <= still <= end_game
                    and waiting >= still
                    and still * (now - asking) / received >= storing
                )
                if waiting >= FLUSH_WINDOWS or now - flushed >= FLUSH_SECONDS or early:
                    flush()
                    waiting, flushed = 0, time.monotonic()
            if batches or decoder.pending:
                flush()
        except BaseException:
            fetched.close()  # the workers stop: nothing more is asked that is not written
            if batches or decoder.pending:
                flush()  # an error fetching (or an interrupt): keep what was fetched
            raise
        finally:
            warn_outside(outside, stacklevel=4)

    def _plan(
        self, spec: Endpoint, manifest: dict[str, Any], begin: date, end: date
    ) -> tuple[list[Window], int]:
        """The fewest windows covering the days in ``begin..end`` that are not final."""
        days = manifest["endpoints"].get(spec.name, {}).get("days", {})
        begin = max(begin, spec.earliest)  # nothing exists before the endpoint's first day
        needed: list[date] = []
        skipped = 0
        for n in range((end - begin).days + 1):
            day = begin + timedelta(days=n)
            entry = days.get(day.isoformat())
            if entry is not None and entry.get("final"):
                skipped += 1
            else:
                needed.append(day)
        windows: list[Window] = []
        for run_begin, run_end in _runs(needed):
            windows += spec.windows(run_begin, run_end)
        return windows, skipped

    def _remove_stale_temp_files(self, account: str) -> None:
        """Remove what a killed write of ``account`` left: only the temporary names the
        store makes, only in that account's folders (another account's sync may be
        writing its own at this moment)."""
        manifests = self.root / MANIFEST_DIR
        found = [*manifests.glob(f".{account}.json.*.tmp"), *(manifests / account).rglob(".*.tmp")]
        for place in self.root.glob(f"*/account={account}"):
            found += place.rglob(".*.tmp")
        for tmp in found:
            if _TEMP_NAME.match(tmp.name) and tmp.is_file():
                tmp.unlink(missing_ok=True)

    # --------------------------------------------------------------- write
    def _partition(self, spec: Endpoint, account: str, month: str) -> Path:
        return self.root / spec.name / f"account={account}" / f"month={month}"

    def _write_windows(
        self,
        spec: Endpoint,
        account: str,
        windows: Sequence[Window],
        rows: pa.Table | pd.DataFrame,
        manifest: dict[str, Any] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Replace every row of the windows' days with ``rows``', one rewrite per month file.

        ``rows`` is a stored table (:func:`~wxframe.frames.stored`) or a tidy frame.

        Returns what the manifest records of each file written: its rows, size and
        SHA-256, by which :meth:`verify` (and every sync, by the size) finds damage.
        With ``manifest``, the new files' records are saved in it as ``next`` before the
        files are renamed into place: a process killed between the renames and the
        manifest's own update leaves files that match their ``next`` record, which is a
        crash to resume, not damage.
        """
        table = rows if isinstance(rows, pa.Table) else _to_arrow(rows)
        return self._write_batches(account, [(spec, windows, table)], manifest)[spec.name]

    def _write_batches(
        self,
        account: str,
        parts: Sequence[tuple[Endpoint, Sequence[Window], pa.Table]],
        manifest: dict[str, Any] | None = None,
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """:meth:`_write_windows` for several endpoints at once, per endpoint: every file
        staged, the manifest saved once with all their ``next`` records, then every
        rename (a save per endpoint was a fifth of a sync's flush)."""
        staged: list[tuple[Endpoint, str, Path, Path, dict[str, Any]]] = []
        try:
            for spec, windows, table in parts:
                self._stage(spec, account, windows, table, staged)
            if manifest is not None and staged:
                for spec, month, _, _, record in staged:
                    files = _entry(manifest, spec).setdefault("files", {})
                    files.setdefault(month, {})["next"] = record
                self._save_manifest(account, manifest)
            for _, _, path, tmp, _ in staged:
                try:
                    os.replace(tmp, path)
                    _fsync_dir(path.parent)  # the rename itself survives a power cut
                except OSError as exc:
                    raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None
        finally:
            for _, _, _, tmp, _ in staged:  # what was not renamed (an error on the way)
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
        written: dict[str, dict[str, dict[str, Any]]] = {spec.name: {} for spec, _, _ in parts}
        for spec, month, _, _, record in staged:
            written[spec.name][month] = record
        return written

    def _stage(
        self,
        spec: Endpoint,
        account: str,
        windows: Sequence[Window],
        table: pa.Table,
        staged: list[tuple[Endpoint, str, Path, Path, dict[str, Any]]],
    ) -> None:
        """Each month file the windows touch, rewritten under a temporary name beside
        it; appended to ``staged`` as ``(spec, month, path, temporary, record)``."""
        by_month: dict[str, set[date]] = {}
        for w in windows:
            for n in range((w.end - w.begin).days + 1):
                day = w.begin + timedelta(days=n)
                by_month.setdefault(day.strftime("%Y-%m"), set()).add(day)
        partition = table.column(spec.partition)
        for month in sorted(by_month):
            in_month = pa.array(sorted(by_month[month]), pa.date32()).cast(partition.type)
            path = self._partition(spec, account, month) / DATA_FILE
            inside = pc.is_in(partition, value_set=in_month)
            new = table if pc.all(inside).as_py() else table.filter(inside)  # one month: as is
            if path.exists():
                old = self._read_file(path)
                days = old.column(spec.partition)
                old = old.filter(pc.invert(pc.is_in(days, value_set=in_month.cast(days.type))))
                combined = _combined(spec, [old, new] if old.num_rows else [new])
            else:
                combined = in_key_order(spec, new)  # as a batch's table comes, usually
            if not combined.num_rows and not path.exists():
                continue  # an empty window is recorded in the manifest, not as a file
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
            try:
                if not path.parent.is_dir():
                    path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(combined, tmp, compression="zstd")
                _fsync(tmp)
                size, digest = tmp.stat().st_size, _digest(tmp)
            except OSError as exc:  # a full disk, a read-only folder: say where
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
                raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None
            record = {"rows": combined.num_rows, "bytes": size, "sha256": digest}
            staged.append((spec, month, path, tmp, record))

    def _read_file(self, path: Path) -> pa.Table:
        """A month file the manifest lists, or a StoreError that says how to repair it."""
        repair = (
            f"`wxframe verify --store {self.root} --repair` fetches its days again "
            "(imported history: import it again)"
        )
        try:
            # One known file: ParquetFile, without read_table's dataset discovery (half
            # the time of a month's read).
            with pq.ParquetFile(path) as f:
                return f.read()
        except FileNotFoundError:
            raise StoreError(f"{path} is missing, though the manifest lists it: {repair}") from None
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"{path} is damaged ({_reason(exc, path)}): {repair}") from None

    # ---------------------------------------------------------------- read
    def read(
        self,
        endpoint: str,
        begin: DateLike | None = None,
        end: DateLike | None = None,
        *,
        account: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The stored frame of ``endpoint``: the loaders' columns and dtypes plus ``account``.

        Only the month files that can hold ``begin..end`` are opened, and only files the
        store wrote (its manifest lists them): anything else under the root, a backup
        copy or a note, is never read. Fields that only some files have (added by the
        platform later, or held by one account only) are kept, empty where absent. A
        missing or damaged file raises :class:`StoreError` naming it and the repair.
        """
        spec = get_endpoint(endpoint)
        b = as_date(begin, "begin") if begin is not None else None
        e = as_date(end, "end") if end is not None else None
        if b and e and b > e:
            raise ConfigurationError(f"begin={b} is after end={e}")
        if columns is not None:
            known = frame_dtypes(spec)
            unknown = [c for c in columns if c not in known and c != "account"]
            if unknown:
                raise ConfigurationError(
                    f"unknown column(s) {unknown} for {spec.name}; columns: {', '.join(known)}"
                )
        months = (b.strftime("%Y-%m") if b else "", e.strftime("%Y-%m") if e else "~")
        manifests = self._manifests(account, (spec.name, *months))
        self._warn_unreadable(spec, account, manifests, b, e)
        tables, accounts = [], []
        for acct, path in self._files(spec, manifests, b, e):
            table = self._read_file(path)
            if "account" in table.column_names:
                table = table.drop_columns(["account"])
            if not _month_within(path.parent.name.removeprefix("month="), b, e):
                table = table.filter(_between(spec.partition, table[spec.partition].type, b, e))
            tables.append(table)
            accounts.append(pa.repeat(acct, table.num_rows))
        if not tables:
            df = empty_frame(spec)
            df.insert(0, "account", pd.Series(dtype="string"))
        else:
            # The union of the files' fields: one the platform added later, or one only
            # some accounts have, is kept (null where a file does not have it).
            table = pa.concat_tables(tables, promote_options="permissive")
            table = table.append_column(_ACCOUNT, pa.chunked_array(accounts, pa.string()))
            labels = _label_keys(spec)
            keys = [_ACCOUNT, *spec.key]
            if not labels and not in_order(table, keys):  # one file usually is: checked
                table = table.sort_by([(k, "ascending") for k in keys])  # stored values
            names = table.column(_ACCOUNT).to_pandas(types_mapper=NULLABLE.get)
            table = table.drop_columns([_ACCOUNT])
            df = conform(spec, table.to_pandas(types_mapper=NULLABLE.get), copy=False)
            df.insert(0, "account", names.array)
            if labels:  # a channel label: sorted by its categories' order, as loaders do
                df = df.sort_values(["account", *spec.key], ignore_index=True)
        if columns is not None:
            df = df[["account", *[c for c in columns if c != "account"]]]
        return df

    def _manifests(
        self, account: str | None, only: tuple[str, str, str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """The manifest of ``account``, or of every account with one, read once (with
        ``only``, of one endpoint's months: see :meth:`_load_manifest`)."""
        accounts = [self._checked_account(account)] if account else self._manifest_accounts()
        return {acct: self._load_manifest(acct, only) for acct in accounts}

    def _warn_unreadable(
        self,
        spec: Endpoint,
        account: str | None,
        manifests: dict[str, dict[str, Any]],
        b: date | None,
        e: date | None,
    ) -> None:
        """Say so when what a read returns is less than the store once held."""
        if account is not None:  # only this account's files could be passed over
            held = (self.root / spec.name / f"account={account}").is_dir()
            orphans = [account] if held and not self._manifest_path(account).exists() else []
        else:
            known = set(self._manifest_accounts())
            orphans = [
                name
                for p in (self.root / spec.name).glob("account=*")
                if p.is_dir() and (name := p.name.removeprefix("account=")) not in known
            ]
        if orphans:
            warnings.warn(
                f"{self.root / spec.name} holds files of {', '.join(orphans)} with no manifest "
                f"in {self.root / MANIFEST_DIR}: a read does not take them "
                f"(`wxframe verify --store {self.root}`)",
                StoreDamagedWarning,
                stacklevel=3,
            )
        low, high = (b.strftime("%Y-%m") if b else ""), (e.strftime("%Y-%m") if e else "~")
        for acct, manifest in manifests.items():
            lost = manifest["endpoints"].get(spec.name, {}).get("lost", {})
            months = [m for m in sorted(lost) if low <= m <= high]
            if months:
                warnings.warn(
                    f"{spec.name} of {acct}: the imported history of {', '.join(months)} was "
                    "damaged and is not in this read; import its archive again",
                    StoreDamagedWarning,
                    stacklevel=3,
                )

    def _files(
        self, spec: Endpoint, manifests: dict[str, dict[str, Any]], b: date | None, e: date | None
    ) -> Iterable[tuple[str, Path]]:
        """The month files the manifests list for ``spec`` in ``b..e``: found from the
        layout, without listing the endpoint's folders."""
        for acct, manifest in manifests.items():
            entry = manifest["endpoints"].get(spec.name, {})
            for month in _stored_months(entry, b, e):
                path = self._partition(spec, acct, month) / DATA_FILE
                if _staged_only(entry, month) and not path.exists():
                    continue  # a crash before its first rename: nothing of it is held yet
                yield acct, path

    def dataset(self, endpoint: str, *, account: str | None = None) -> ds.Dataset:
        """The store's files of ``endpoint`` as one ``pyarrow.dataset.Dataset``.

        For tools that work out of core on every account at once (DuckDB, polars, Dask,
        Spark, pyarrow itself): the files the manifests list (never a stray copy), with
        ``account`` and ``month`` as partition columns and the union of the files'
        fields. Values are as stored: categorical columns as text, no pandas dtypes
        (:meth:`read` gives those).

        Examples
        --------
        >>> from wxframe.datasets import open_demo_store
        >>> biz = open_demo_store().dataset("getbizsummary")
        >>> biz.count_rows(), sorted(biz.schema.names)[:3]
        (488, ['account', 'channel', 'collection_user'])
        """
        spec = get_endpoint(endpoint)
        files = [
            str(path)
            for _, path in self._files(
                spec, self._manifests(account, (spec.name, "", "~")), None, None
            )
        ]
        base = str(self.root / spec.name)
        if not files:
            raise StoreError(f"the store {self.root} holds no {spec.name} files")
        try:
            schema = pa.unify_schemas(
                [pq.read_schema(f) for f in files], promote_options="permissive"
            )
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(
                f"a {spec.name} file is damaged ({exc}): run `wxframe verify --store "
                f"{self.root} --repair`"
            ) from None
        schema = schema.append(pa.field("account", pa.string())).append(
            pa.field("month", pa.string())
        )
        return ds.dataset(
            files,
            schema=schema,
            format="parquet",
            partitioning=_PARTITIONING,
            partition_base_dir=base,
        )

    def _manifest_accounts(self) -> list[str]:
        """The accounts whose files a read takes: those with a manifest."""
        return sorted(p.stem for p in (self.root / MANIFEST_DIR).glob("*.json"))

    def days(self, *, account: str | None = None) -> pd.DataFrame:
        """Every day the manifest holds: when it was fetched and whether it can still change.

        Columns: ``account``, ``endpoint``, ``ref_date``, ``fetched_at`` (Beijing time),
        ``complete`` (fetched after 08:00 of the next day, so the day's numbers were all
        in), ``final`` (can no longer change: for getarticletotal, 7 days later) and
        ``rows``.
        """
        rows = []
        for acct in [account] if account is not None else self.accounts():
            manifest = self._load_manifest(acct)
            for name, entry in manifest["endpoints"].items():
                for day, info in entry.get("days", {}).items():
                    d = date.fromisoformat(day)
                    at = datetime.fromisoformat(info["at"])
                    rows.append((acct, name, d, at, at >= _complete_from(d),
                                 bool(info.get("final")), int(info.get("rows", 0))))  # fmt: skip
        df = pd.DataFrame(
            rows,
            columns=["account", "endpoint", "ref_date", "fetched_at", "complete", "final", "rows"],
        )
        df["ref_date"] = pd.to_datetime(df["ref_date"]).astype("datetime64[ns]")
        df = df.astype({"account": "string", "endpoint": "string", "complete": bool,
                        "final": bool, "rows": "Int64"})  # fmt: skip
        return df.sort_values(["account", "endpoint", "ref_date"], ignore_index=True)

    def coverage(self) -> pd.DataFrame:
        """Per account and endpoint: which days are held, final, and due for a refresh."""
        rows = []
        for account in self.accounts():
            manifest = self._load_manifest(account)
            for name, days in _held_days(manifest).items():
                entries = manifest["endpoints"][name]["days"]
                final = [d for d in days if entries[d.isoformat()].get("final")]
                refresh = sorted(set(days) - set(final))
                first, last = (min(days), max(days)) if days else (None, None)
                span = (last - first).days + 1 if first and last else 0
                rows.append(
                    {
                        "account": account,
                        "endpoint": name,
                        "first": first,
                        "last": last,
                        "days_held": len(days),
                        "days_final": len(final),
                        "days_to_refresh": len(refresh),
                        "missing_days": span - len(days),
                        "refresh": ", ".join(d.isoformat() for d in refresh),
                        "rows": sum(int(entries[d.isoformat()].get("rows", 0)) for d in days),
                    }
                )
        return pd.DataFrame(rows, columns=[
            "account", "endpoint", "first", "last", "days_held", "days_final",
            "days_to_refresh", "missing_days", "refresh", "rows",
        ])  # fmt: skip


def _json_files(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The files behind ``paths``: each file itself, each folder's JSON files, sorted."""
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".json", ".jsonl"))
        elif path.is_file():
            files.append(path)
        else:
            raise StoreError(f"{path}: no such file or folder")
    if not files:
        raise StoreError(f"no JSON files in {', '.join(map(str, items)) or 'nothing'}")
    return files


def _read_pages(spec: Endpoint, path: Path) -> list[tuple[list[Any], dict[str, Any]]]:
    """One file's responses as ``(records, response fields)``: one, an array, or JSON Lines."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: cannot be read as UTF-8 text: {exc}") from None
    try:
        documents = [json.loads(text)]
    except ValueError:
        documents = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    documents.append(json.loads(line))
                except ValueError as exc:
                    raise StoreError(
                        f"{path}: line {n} is not JSON ({exc}); a file holds one response, "
                        "an array of records, or one response per line"
                    ) from None
    pages: list[tuple[list[Any], dict[str, Any]]] = []
    for n, doc in enumerate(documents, start=1):
        where = f"{path}" + (f" line {n}" if len(documents) > 1 else "")
        if isinstance(doc, list):
            pages.append((doc, {}))
        elif isinstance(doc, dict):
            if doc.get("errcode"):
                raise StoreError(f"{where}: an error answer (errcode {doc['errcode']}), not data")
            if not isinstance(doc.get(spec.records), list):
                raise StoreError(
                    f"{where}: a response of {spec.name} has a {spec.records!r} array; "
                    f"this has keys {sorted(doc)[:8]}"
                )
            pages.append(
                (doc[spec.records], {f.name: doc.get(f.name) for f in spec.response_fields})
            )
        else:
            raise StoreError(f"{where}: {type(doc).__name__} is neither a response nor records")
    return pages


def _held_days(manifest: dict[str, Any]) -> dict[str, list[date]]:
    return {
        name: sorted(date.fromisoformat(d) for d in entry.get("days", {}))
        for name, entry in manifest["endpoints"].items()
    }


def _complete_from(day: date) -> datetime:
    """08:00 Beijing time of the day after ``day``: from then on its numbers are all in."""
    start = datetime.combine(day + timedelta(days=1), datetime.min.time())
    return start.replace(hour=COMPLETE_HOUR, tzinfo=BEIJING)


def _is_final(spec: Endpoint, day: date, fetched_at: datetime) -> bool:
    """Whether ``day``'s numbers fetched at ``fetched_at`` can no longer change.

    The registry says how long an endpoint's numbers settle: 1 day (final after 08:00
    the next day), 7 for getarticletotal's sending days, 30 for getarticletotaldetail's
    publish days.
    """
    return fetched_at >= _complete_from(day + timedelta(days=spec.settles_after - 1))


class _Months(dict[str, Any]):
    """A manifest map keyed by day or month (``days``, ``files``) that notes the months
    it changes, so that a save writes only those months' files."""

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.touched: set[str] = set()
        self._by_month: dict[str, set[str]] = {}
        self.update(items or {})

    @classmethod
    def of(cls, entry: dict[str, Any], key: str) -> _Months:
        """``entry[key]`` as a _Months (a plain dict someone put there: all touched)."""
        value = entry.get(key, {})
        if not isinstance(value, _Months):
            value = entry[key] = cls(value)
        return value

    def _note(self, key: str, present: bool) -> None:
        month = key[:7]
        self.touched.add(month)
        keys = self._by_month.setdefault(month, set())
        if present:
            keys.add(key)
        else:
            keys.discard(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._note(key, True)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self._note(key, False)
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self._note(key, False)
        return super().pop(key, *default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        self.touched.add(key[:7])  # the caller may change the value in place
        return super().__getitem__(key)

    def update(self, *others: Any, **more: Any) -> None:
        for key, value in dict(*others, **more).items():
            self[key] = value

    def clear(self) -> None:
        self.touched |= set(self._by_month)
        self._by_month.clear()
        super().clear()

    def popitem(self) -> tuple[str, Any]:
        raise TypeError("a manifest map is changed by key")

    def month(self, month: str) -> dict[str, Any]:
        """The entries of one month."""
        return {
            k: super(_Months, self).__getitem__(k) for k in sorted(self._by_month.get(month, ()))
        }

    def replace_month(self, month: str, items: Mapping[str, Any]) -> None:
        """One month's entries as read from its file (not a change to save)."""
        for key in list(self._by_month.get(month, ())):
            super().__delitem__(key)
        self._by_month[month] = set()
        for key, value in items.items():
            super().__setitem__(key, value)
            self._by_month[month].add(key)


def _month_files(folder: Path, only: tuple[str, str, str] | None) -> list[tuple[str, Path]]:
    """The month files of an endpoint's manifest: those of ``only``'s months (found by
    name when the range is bounded, without listing the folder), or every one there is."""
    if only is not None and only[1] and only[2] != "~":
        paths = [folder / f"{month}.json" for month in _months_between(only[1], only[2])]
        return [(p.stem, p) for p in paths if p.exists()]
    found = [(p.stem, p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
    return [(m, p) for m, p in found if only is None or only[1] <= m <= only[2]]


def _json_problem(path: Path) -> tuple[Any, str | None]:
    """A manifest file's JSON, or what stops reading it (to follow its path)."""
    try:
        return json.loads(path.read_text(encoding="utf-8")), None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"is not valid JSON: {exc}"
    except OSError as exc:
        return None, f"cannot be read: {exc}"


def _read_json(path: Path) -> Any:
    value, problem = _json_problem(path)
    if problem is not None:
        raise StoreError(f"the manifest {path} {problem}")
    return value


def _dumps(value: Any) -> bytes:
    # Compact: the pure-Python indenting encoder cost 5x the C one at three years.
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _month_problem(name: str, part: object) -> str | None:
    """What is wrong with one month file of a manifest, or None."""
    if not isinstance(part, dict) or not isinstance(part.get("days"), dict):
        return "it has no 'days' object"
    if "file" in part and not isinstance(part["file"], dict):
        return "its 'file' is not an object"
    return _days_problem(name, part["days"])


def _days_problem(name: str, days: Mapping[str, Any]) -> str | None:
    for day, info in days.items():
        if not isinstance(info, dict) or not isinstance(info.get("at"), str):
            return f"endpoints.{name}.days.{day} has no 'at' time"
        try:
            date.fromisoformat(day)
            datetime.fromisoformat(info["at"])
        except ValueError:
            return f"endpoints.{name}.days.{day} is not a date with a time"
    return None


def _manifest_problem(manifest: object) -> str | None:
    """What is wrong with a manifest's shape, or None."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("endpoints"), dict):
        return "it has no 'endpoints' object"
    for name, entry in manifest["endpoints"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("days", {}), dict):
            return f"endpoints.{name} has no 'days' object"
        if not isinstance(entry.get("files", {}), dict):
            return f"endpoints.{name}.files is not an object"
        problem = _days_problem(name, entry.get("days", {}))
        if problem:
            return problem
    return None


def _offline(manifest: dict[str, Any], spec: Endpoint) -> str | None:
    """Why the manifest says ``spec`` is switched off for this account, if it does."""
    info = manifest["endpoints"].get(spec.name, {}).get("offline")
    return f"errcode 47009 since {info['at'][:10]}" if info else None


def _mark_offline(
    manifest: dict[str, Any], spec: Endpoint, exc: EndpointOfflineError, at: datetime
) -> str:
    entry = _entry(manifest, spec)
    stamp = at.astimezone(BEIJING).isoformat(timespec="seconds")
    entry["offline"] = {
        "at": stamp,
        "errmsg": exc.errmsg[:200],
        "successors": list(spec.successors),
    }
    return f"errcode 47009 since {stamp[:10]}"


def _record(
    manifest: dict[str, Any],
    spec: Endpoint,
    window: Window,
    fetched_at: datetime,
    per_day: Mapping[str, int],
    *,
    delayed: bool = False,
    source: str | None = None,
) -> int:
    """Record ``window`` as fetched (its days' rows from ``per_day``); its rows in all."""
    entry = _entry(manifest, spec)
    stamp = fetched_at.astimezone(BEIJING).isoformat(timespec="seconds")
    # What planning needs is per day; of the calls, a count (a log of every window ever
    # fetched grew by a dozen entries a day and made each save slower).
    entry["windows"] = _window_count(entry) + 1
    rows = 0
    for n in range(window.days):
        day = window.begin + timedelta(days=n)
        info: dict[str, Any] = {
            "at": stamp,
            "final": source is not None or (not delayed and _is_final(spec, day, fetched_at)),
            "rows": int(per_day.get(day.isoformat(), 0)),
        }
        if delayed:
            info["delayed"] = True
        if source is not None:
            info["source"] = source
        entry["days"][day.isoformat()] = info
        rows += info["rows"]
    return rows


def _convert(
    spec: Endpoint, batch: list[tuple[Window, AnyPage, datetime, bool]]
) -> tuple[pa.Table, list[tuple[Window, AnyPage, datetime, bool]], WxframeError | None]:
    """One stored table of a batch's pages, parsed at once (the per-window fixed cost of
    building a frame was most of a sync's CPU), in Arrow: what is written is Arrow, and
    a pandas frame on the way cost a third of a flush. If a page does not parse, the
    table of the others, and the error: the good windows are written, the bad one not."""
    try:
        return stored_from_pages(spec, [(page, page.meta) for _, page, _, _ in batch]), batch, None
    except WxframeError:
        good, tables, first = [], [], None
        for item in batch:
            try:
                tables.append(stored_from_pages(spec, [(item[1], item[1].meta)]))
                good.append(item)
            except WxframeError as exc:
                first = first or exc
        return _combined(spec, [t for t in tables if t.num_rows]), good, first


def _combined(spec: Endpoint, tables: Sequence[pa.Table]) -> pa.Table:
    """Stored tables as one, in key order: columns the registry knows in the frame's
    order, then the others as they come; a field one of them lacks is null there, and
    a file written with other types (an older wxframe) takes the stored ones."""
    if not tables:
        return empty_stored(spec)
    if len(tables) == 1:
        return in_key_order(spec, tables[0])
    first = tables[0].schema
    if all(t.schema.equals(first) for t in tables[1:]):  # the usual case: same fields
        whole = pa.concat_tables(tables)  # keeps the first's metadata: an old file's
        return in_key_order(spec, whole.replace_schema_metadata(tables[-1].schema.metadata))
    try:  # a field one lacks is null there; string and large_string become the latter
        whole = pa.concat_tables(tables, promote_options="permissive")
        names = [n for n in frame_dtypes(spec) if n in whole.column_names]
        names += [n for n in whole.column_names if n not in names]
        whole = whole.select(names)
        return in_key_order(spec, whole.cast(stored_schema(whole.schema.remove_metadata())))
    except (TypeError, pa.ArrowException):  # a type wxframe does not write: through pandas
        frames = [conform(spec, t.to_pandas(types_mapper=NULLABLE.get)) for t in tables]
        return in_key_order(spec, _to_arrow(pd.concat(frames, ignore_index=True)))


def _per_day(spec: Endpoint, table: pa.Table) -> dict[str, int]:
    """Rows per partition day (``YYYY-MM-DD``): counted in Arrow, only the distinct
    days formatted (the text of every row was a tenth of a sync's typing)."""
    days = table.column(spec.partition).cast(pa.date32())
    counts = pc.value_counts(days.drop_null())
    return {
        str(day): n
        for day, n in zip(
            counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
        )
    }


def _file_problem(
    path: Path, record: dict[str, Any] | None, rows: int, *, thorough: bool
) -> str | None:
    """What is wrong with one month file, or None."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    # The file as last recorded, or as staged just before a rename whose manifest update
    # a crash cut off (its days are not listed yet: the next sync fetches them again).
    known = [r for r in (record, (record or {}).get("next")) if r and "bytes" in r]
    if known and size not in [r["bytes"] for r in known]:
        written = known[0]["bytes"]
        return f"{size:,} bytes, written as {written:,} (truncated or changed)"
    if not thorough:
        return None
    digest = _digest(path) if known and "sha256" in known[0] else None
    if digest is not None and digest not in [r.get("sha256") for r in known]:
        return "its checksum is not the one recorded when it was written"
    # A file that is its staged record holds days the manifest does not list yet.
    staged = digest is not None and digest == (record or {}).get("next", {}).get("sha256")
    try:
        held = pq.read_table(path).num_rows
    except (OSError, pa.ArrowException) as exc:
        return f"not readable as parquet: {_reason(exc, path)}"
    if held != rows and not staged:
        return f"holds {held:,} rows, the manifest {rows:,}"
    return None


def _reason(exc: Exception, path: Path) -> str:
    """pyarrow's reason, short: without the path it repeats, its first sentence."""
    text = " ".join(str(exc).split())
    if str(path) in text:
        text = text.split(str(path), 1)[1].lstrip("': ")
    return text.split(". ")[0][:120]


def _problem(
    account: str, spec: Endpoint, month: str, path: Path, problem: str, days: list[str], next_: str
) -> dict[str, Any]:
    return {
        "account": account,
        "endpoint": spec.name,
        "month": month,
        "path": str(path),
        "problem": problem,
        "days": len(days),
        "day_list": sorted(days),
        "next": next_,
    }


def _entry(manifest: dict[str, Any], spec: Endpoint) -> dict[str, Any]:
    entry: dict[str, Any] = manifest["endpoints"].setdefault(spec.name, {"windows": 0})
    _Months.of(entry, "days")
    _Months.of(entry, "files")
    return entry


def _window_count(entry: dict[str, Any]) -> int:
    """Windows written for an endpoint (manifests before 0.1 kept a list of them)."""
    windows = entry.get("windows", 0)
    return len(windows) if isinstance(windows, list) else int(windows)


def _record_files(
    manifest: dict[str, Any], spec: Endpoint, files: dict[str, dict[str, Any]]
) -> None:
    _entry(manifest, spec).setdefault("files", {}).update(files)  # "next" becomes the record


def _month_days(entry: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """The manifest's days of an endpoint, by month."""
    months: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for day, info in entry.get("days", {}).items():
        months.setdefault(day[:7], []).append((day, info))
    return months


def _staged_only(entry: dict[str, Any], month: str) -> bool:
    """Whether a month's file is only staged: its first write was recorded as ``next``
    and a crash came before the manifest's update (the file may or may not be renamed)."""
    record = entry.get("files", {}).get(month, {})
    return (
        "next" in record
        and "bytes" not in record
        and not any(
            int(info.get("rows", 0))
            for day, info in entry.get("days", {}).items()
            if day[:7] == month
        )
    )


def _stored_months(entry: dict[str, Any], begin: date | None, end: date | None) -> list[str]:
    """The months of an endpoint's files: those recorded, and (for manifests written
    before files were recorded) those with rows on a held day; within ``begin..end``."""
    months = set(entry.get("files", {}))
    months |= {
        month
        for month, days in _month_days(entry).items()
        if any(int(info.get("rows", 0)) for _, info in days)
    }
    low = begin.strftime("%Y-%m") if begin else ""
    high = end.strftime("%Y-%m") if end else "9999-99"
    return sorted(m for m in months if low <= m <= high)


def _label_keys(spec: Endpoint) -> list[str]:
    """Key columns that are labels rebuilt as categoricals on read (stored as text, so
    their order is the categories', not the text's)."""
    rows = spec.channel_rows
    return [k for k in spec.key if rows is not None and k == rows.codes.column]


def _months_between(first: str, last: str) -> list[str]:
    """The months ``first..last`` (``YYYY-MM``), both included."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _month_within(month: str, begin: date | None, end: date | None) -> bool:
    """Whether every day of ``month`` (``YYYY-MM``) is within ``begin..end``."""
    first = date.fromisoformat(f"{month}-01")
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return (begin is None or begin <= first) and (end is None or last <= end)


def _between(name: str, kind: pa.DataType, begin: date | None, end: date | None) -> pc.Expression:
    """``begin <= name <= end`` (either bound optional) on a timestamp column."""
    bounds = []
    if begin is not None:
        bounds.append(pc.field(name) >= pa.scalar(pd.Timestamp(begin), kind))
    if end is not None:
        bounds.append(pc.field(name) <= pa.scalar(pd.Timestamp(end), kind))
    return functools.reduce(operator.and_, bounds)


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


def _to_arrow(df: pd.DataFrame) -> pa.Table:
    flat = df.copy()
    for name in flat.columns:
        if isinstance(flat[name].dtype, pd.CategoricalDtype):
            flat[name] = flat[name].astype("string")  # rebuilt from codes on read
    # One thread: for a batch's few thousand rows, starting pyarrow's conversion threads
    # cost more than converting (1.4 ms a call, in every flush of a sync).
    return pa.Table.from_pandas(flat, preserve_index=False, nthreads=1)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (POSIX; elsewhere a folder cannot be opened)."""
    with contextlib.suppress(OSError):
        _fsync(path)


def _digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _atomic_write(path: Path, data: bytes, *, mkdir: bool = False) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        if mkdir and not path.parent.is_dir():  # a stat, not a failed mkdir per level
            path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None


def _incomplete(
    stopped: Mapping[str, tuple[WxframeError, list[Window]]],
    not_started: dict[str, list[Window]],
    summary: SyncSummary,
) -> SyncIncomplete:
    """The error a stopped sync raises: what stopped which endpoint, and what remains."""
    remaining = {name: ws for name, (_, ws) in stopped.items()} | not_started
    remaining = {name: ws for name, ws in remaining.items() if ws}
    parts = [
        f"{name}: {len(ws)} window(s) {ws[0].begin}..{ws[-1].end}" for name, ws in remaining.items()
    ]
    causes = "; ".join(str(exc) for exc, _ in stopped.values())
    quota = any(isinstance(exc, QuotaExceededError) for exc, _ in stopped.values())
    message = (
        f"sync stopped: {causes}. Kept {summary.rows_written} rows from {summary.calls} calls; "
        f"remaining: {'; '.join(parts) or 'nothing'}. Run the sync again to finish"
        + (" (tomorrow, Beijing time, for a daily quota)." if quota else ".")
    )
    return SyncIncomplete(message, remaining=remaining, summary=summary)
