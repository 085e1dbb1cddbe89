"""The parquet snapshot store: incremental, resumable sync and fast reads.

Layout (hive-partitioned, readable by pyarrow.dataset, DuckDB, Dask, Spark), under a
local folder or an object-storage prefix (``s3://bucket/prefix``, :mod:`._fs`)::

    <root>/
      <endpoint>/account=<appid>/month=YYYY-MM/data-<hash>.parquet   a month's rows
      _manifest/<appid>.json                     the pointer: names every month and file
      _manifest/<appid>/<endpoint>/YYYY-MM.<hash>.json   ... that month's days, its file
      .wxframe.<appid>.lock / _locks/<appid>.json        held while a sync writes

Rows are partitioned by ``ref_date``'s month (getarticletotal too: by sending day).
The ``account`` and ``month`` columns live in the path, not in the files.

Never lose or duplicate anything: data and month objects are immutable and named by
their content; a window's rows replace every row of the window's days (so a re-fetched
day never doubles); the pointer is written last, in one write, and names them: a reader
sees an account before or after a commit, never half. A process killed at any moment
leaves a readable store (and orphans, removed after the grace period), and the next
sync fetches whatever the manifest does not list as final. Stores written before
(``data.parquet``, ``YYYY-MM.json``) read as they are.

:class:`Store` is the front door; each of its jobs has a module of its own: the typed
manifest and its finality rules (``_manifest``), the stored form (``_schema``), where the
objects live (``_fs``), paths and content names (``_files``), one writer (``_lease``),
sync and batched writes (``_sync``), verify and repair (``_verify``), archives
(``_import``) and reads (``_read``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds

from wxframe.client import Client
from wxframe.dates import DateLike, Window
from wxframe.endpoints import Endpoint
from wxframe.errors import WxframeError
from wxframe.store import _files, _fs, _import, _publish, _read, _sync, _verify
from wxframe.store._files import GRACE_SECONDS
from wxframe.store._fs import S3Options
from wxframe.store._import import ImportSummary
from wxframe.store._publish import PublishSummary
from wxframe.store._sync import FIRST_SYNC_DAYS as FIRST_SYNC_DAYS  # for doctor
from wxframe.store._sync import SyncSummary
from wxframe.store._verify import Refetch, RepairSummary

__all__ = [
    "ImportSummary",
    "PublishSummary",
    "Refetch",
    "RepairSummary",
    "S3Options",
    "Store",
    "SyncSummary",
    "publish",
]

#: A sync writes what it fetched every FLUSH_WINDOWS windows or FLUSH_SECONDS seconds.
FLUSH_WINDOWS = 256
FLUSH_SECONDS = 2.0


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

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        lock_timeout: float = 0.0,
        s3: S3Options | None = None,
        grace: float | None = None,
    ) -> None:
        storage = _fs.resolve(root, s3)
        #: A local :class:`~pathlib.Path`, or the ``s3://bucket/prefix`` URL.
        self.root: Path | str = storage.root if isinstance(storage.root, Path) else storage.url
        self.lock_timeout = lock_timeout
        #: Seconds a file no longer named is kept for readers in flight (object storage:
        #: an hour; a local disk: none, so folder readers see each month once).
        self.grace = grace if grace is not None else 0.0 if storage.local else GRACE_SECONDS
        self._storage = storage

    @classmethod
    def open(
        cls,
        root: str | os.PathLike[str],
        *,
        lock_timeout: float = 0.0,
        s3: S3Options | None = None,
    ) -> Store:
        """The store at ``root``, which must hold one: for reading it (reports, checks).

        ``Store(root)`` is how a store is made (its first sync or import creates the
        folder); ``Store.open`` refuses a path that holds no store, with a
        :class:`~wxframe.StoreNotFoundError` that says what is there instead (nothing,
        a file, an empty folder or a folder of something else), so that a mistyped path
        is named rather than read as an empty store.

        Examples
        --------
        >>> from wxframe.datasets import open_demo_store
        >>> Store.open(open_demo_store().root).accounts()
        ['wx5im0000000000001']
        >>> Store.open("/no/such/dir")
        Traceback (most recent call last):
        ...
        wxframe.errors.StoreNotFoundError: no wxframe store at /no/such/dir (no such folder)
        """
        store = cls(root, lock_timeout=lock_timeout, s3=s3)
        store._layout.require()
        return store

    def exists(self) -> bool:
        """Whether :attr:`root` holds a store (a sync or an import has started one)."""
        return self._storage.is_dir(self._storage.root) and self._layout.is_store()

    def create(self, *, dry_run: bool = False) -> bool:
        """Make :attr:`root` a folder for a new store, only where its parent folder
        exists (a :class:`~wxframe.StoreNotFoundError` otherwise, a
        :class:`~wxframe.StoreError` where it is a file); True when it was created,
        False when it was there. A sync or an import does this itself. ``dry_run``:
        say so (or raise) without making anything, as a check before other work."""
        return self._layout.check_root() if dry_run else self._layout.make_root()

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    @property
    def _layout(self) -> _files.Layout:
        return _files.Layout(self._storage, self.lock_timeout, grace=self.grace)

    def accounts(self) -> list[str]:
        """The appids this store holds data or a manifest for."""
        return self._layout.accounts()

    def pick_account(self, account: str | None = None) -> str:
        """``account`` if the store holds it, else the store's only account; otherwise a
        ConfigurationError that lists what it holds (for readers: reports, checks)."""
        return _read.pick_account(self._layout, account)

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
        all complete. Everything else already held is skipped (:meth:`plan` says what
        a sync asks for).

        A new store's folder is created only where its parent folder exists
        (:meth:`create`): a mistyped path raises :class:`~wxframe.StoreNotFoundError`
        instead of becoming a tree of new folders. Raises :class:`SyncIncomplete` (with
        the windows still to fetch) when an error stops it; everything fetched before
        the error is kept.

        An answer that cannot be used (not JSON, a row whose day is not ``YYYY-MM-DD``,
        rows none of which is of the days asked) costs only its window: the sync goes on,
        the window is not recorded, and :attr:`SyncSummary.failed` names it with the
        reason (a :class:`~wxframe.BadAnswerWarning` too); the next sync asks for it
        again. Five such answers of one endpoint in a row stop the sync.
        """
        return _sync.sync_account(
            self._layout, client, begin, end, endpoints=endpoints, progress=progress,
            flush_windows=FLUSH_WINDOWS, flush_seconds=FLUSH_SECONDS,
        )  # fmt: skip

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

        Every account's requests share one pool of ``max_workers`` threads, each client
        at most its own ``max_workers`` (so one account cannot take the whole pool and
        its quota); ``max_accounts`` accounts sync at once (default: twice as many as
        fill the pool). Each account has its own lock, manifest and files. Returns, per
        appid in the order given, the :class:`SyncSummary` or the error that stopped it
        (a :class:`SyncIncomplete` keeps what was fetched, a rerun resumes).

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
        return _sync.sync_many(
            self._layout, clients, begin, end, endpoints=endpoints, max_workers=max_workers,
            max_accounts=max_accounts, progress=progress, flush_windows=FLUSH_WINDOWS,
            flush_seconds=FLUSH_SECONDS,
        )  # fmt: skip

    def plan(
        self,
        begin: DateLike | None,
        end: DateLike,
        *,
        account: str | None = None,
        endpoints: str | Iterable[str] | None = None,
    ) -> dict[str, list[Window]]:
        """The windows a sync of ``begin..end`` asks for, per endpoint; nothing is sent.

        The fewest windows (each within the endpoint's span) that cover the days the
        manifest does not hold as final: missing days, days fetched before they were
        complete, and days whose numbers still grow (getarticletotaldetail's 30). Days
        before an endpoint's first day are left out, as a sync leaves them
        (:func:`~wxframe.endpoints.clip_to_first_days`). ``begin=None``, ``account``
        and ``endpoints`` default as for :meth:`sync` (an account the store does not
        hold needs every window); a sync also skips endpoints switched off for it.

        Examples
        --------
        >>> from wxframe.datasets import open_demo_store
        >>> store = open_demo_store()
        >>> plan = store.plan("2025-12-20", "2026-01-10", endpoints=["getbizsummary",
        ...                                                          "getusersummary"])
        >>> plan["getbizsummary"]
        [Window(begin=datetime.date(2026, 1, 1), end=datetime.date(2026, 1, 10))]
        >>> [(w.begin.isoformat(), w.days) for w in plan["getusersummary"]]
        [('2026-01-01', 7), ('2026-01-08', 3)]
        """
        return _sync.plan(self._layout, begin, end, account=account, endpoints=endpoints)

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
        ``next``: ``fetch`` (a sync fetches those days again), ``import`` (imported
        history: import the archive again) or ``keep`` (the data file is sound, its
        record lost), and ``repair``: what ``repair=True`` does (``keep, list again``;
        ``set aside, fetch again``; ``set aside, import again``; ``forget, ...``; ``import
        again``; ``leave``). Data folders of an account with no manifest: reported too.

        ``repair=True`` forgets the damaged months' days and moves damaged files to
        ``_damaged/`` (never a file it cannot show damaged: a sound file whose month of
        the manifest was lost is listed again); :meth:`repair` also fetches those days.
        Every sync repairs what a cheap check (existence and size) finds.

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
        ...     next(month.glob("data-*.parquet")).unlink()
        ...     print(store.verify()[["endpoint", "month", "problem", "days", "next"]])
        0
                 endpoint    month  problem  days   next
        0  getusersummary  2026-05  missing    31  fetch
        """
        self._layout.require(store=False)
        return _verify.verify(self._layout, account=account, endpoints=endpoints, repair=repair)

    def repair(
        self,
        client: Client | None = None,
        *,
        account: str | None = None,
        progress: bool | None = False,
    ) -> RepairSummary:
        """Verify, forget what is damaged, and fetch the damaged days again.

        :meth:`verify` with ``repair=True`` (every account, or ``account``), then per
        account with damaged days to fetch: a sync of only the days it set aside (of
        each endpoint, the days the manifest held in the damaged month; the whole month
        where it no longer says which), with ``client`` when it is that account's (up
        to its last complete day). The :class:`RepairSummary` says what was found and
        forgotten (``problems``), the sound files listed again (``kept``), what was
        fetched again (``fetched``, ``synced``), what is left for a sync with another
        account's client (``left``; the repair stops at a sync that fails,
        ``stopped``) and the imported history to import again (``to_import``).

        Examples
        --------
        >>> import shutil, tempfile
        >>> from pathlib import Path
        >>> from wxframe.datasets import open_demo_store
        >>> from wxframe.simulator import serve
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     store = Store(shutil.copytree(open_demo_store().root, Path(tmp) / "store"))
        ...     month = store.root / "getusersummary/account=wx5im0000000000001/month=2025-12"
        ...     _ = next(month.glob("data-*.parquet")).write_bytes(b"not parquet")
        ...     with serve(seed=0, today="2026-03-15") as sim:
        ...         done = store.repair(sim.client())
        ...     print(done.problems[["endpoint", "month", "days", "next"]])
        ...     print(done.synced[sim.appid].calls, len(store.verify()))
        ...     print(store.days().query("endpoint == 'getusersummary'")["final"].all())
                 endpoint    month  days   next
        0  getusersummary  2025-12    31  fetch
        5 0
        True
        """
        return _verify.repair(self, self._layout, client, account=account, progress=progress)

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
        (``ref_date``). Imported days are final: a sync never fetches them, but for
        days of answers that said ``"is_delay": true`` (not final yet: a sync fetches
        them again; ``days_not_final`` counts them).

        Safe to repeat: days held as final are kept (counted as skipped) unless
        ``replace=True``. A file that does not parse or fit the endpoint is refused with
        its name and reason, and nothing is written. A file of another account's answers
        (an ``appid``/``account`` field, or an appid in its path) or of days outside the
        endpoint's range is refused whole and named in ``refused`` (``records_refused``
        counts its records) while the others are imported; when every file is refused,
        nothing is written and :class:`~wxframe.StoreError` names them.

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
        return _import.import_json(
            self._layout, endpoint, paths, account=account, replace_held=replace
        )

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
        platform later, or held by one account only) are kept, empty where absent.

        Every file is checked as it is read: each page against its CRC and the whole
        file against the SHA-256 the manifest recorded when it was written, so a file
        whose bytes changed is never read as data. A missing or damaged file raises
        :class:`~wxframe.StoreDamagedError` naming it and ``wxframe verify --repair``;
        a root that is not a folder, :class:`~wxframe.StoreNotFoundError`.
        """
        self._layout.require(store=False)
        return _read.read(self._layout, endpoint, begin, end, account=account, columns=columns)

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
        self._layout.require(store=False)
        return _read.dataset(self._layout, endpoint, account=account)

    def urls(self, endpoint: str, *, account: str | None = None) -> list[str]:
        """The files of ``endpoint`` the manifests name: local paths or ``s3://`` URLs
        (for Dask, pandas, DuckDB: they take the S3 endpoint from the same variables).

        >>> from wxframe.datasets import open_demo_store
        >>> open_demo_store().urls("getbizsummary")[0].split("/")[-3:-1]
        ['account=wx5im0000000000001', 'month=2025-11']
        """
        self._layout.require(store=False)
        return _read.urls(self._layout, endpoint, account=account)

    def days(self, *, account: str | None = None) -> pd.DataFrame:
        """Every day the manifest holds: when it was fetched and whether it can still change.

        Columns: ``account``, ``endpoint``, ``ref_date``, ``fetched_at`` (Beijing time),
        ``complete`` (fetched after 08:00 of the next day, so the day's numbers were all
        in), ``final`` (can no longer change: for getarticletotal, 7 days later) and
        ``rows``.
        """
        self._layout.require(store=False)
        return _read.days(self._layout, account=account)

    def coverage(self) -> pd.DataFrame:
        """Per account and endpoint: which days are held, final, and due for a refresh."""
        self._layout.require(store=False)
        return _read.coverage(self._layout)


def publish(
    store: Store | str | os.PathLike[str],
    to: str,
    *,
    accounts: str | Iterable[str] | None = None,
    dry_run: bool = False,
    replace: bool = False,
    lock_timeout: float = 0.0,
    s3: S3Options | None = None,
) -> dict[str, PublishSummary | WxframeError]:
    """Mirror ``store`` (a local one, usually) to ``to``, ``s3://bucket/prefix``: per
    account, only what changed, the pointer last; readers of ``to`` see each account
    before or after a publish, never half of it.

    Per account (``accounts``, default every one), under the store's lock of the account
    (a sync of it waits, or is refused) and ``to``'s lease of it (a sync into ``to`` or
    another publish of it is refused, :class:`~wxframe.StoreLockedError`, ``lock_timeout``
    seconds to wait): the data files and months of the manifest ``to`` does not hold yet
    are uploaded under their content names (a file whose SHA-256 is not the one recorded
    is never published), then ``to``'s pointer is committed, only if it is still the
    one read (else :class:`~wxframe.WriterConflictError`, nothing committed). What it no
    longer names is removed after ``to``'s grace period (readers in flight). Nothing
    changed: nothing is written, not even the lease. Stores written before data files
    were named by content are published under content names. A destination that holds
    days of an account the store does not (a sync into it) is refused unless
    ``replace=True``. Credentials of ``to`` come from the environment or the SDK's chain,
    as for :class:`Store`.

    Returns, per appid, the :class:`PublishSummary` (``dry_run``: what it would do) or
    the error that stopped that account (the others go on); what is wrong with the
    arguments (``store`` no store, ``to`` not object storage or its bucket missing) is
    raised before anything is written::

        publish("team-store", "s3://team-bucket/wx")   # AWS_ENDPOINT_URL etc. set

    >>> from wxframe.datasets import open_demo_store
    >>> publish(open_demo_store().root, "/tmp/copy")
    Traceback (most recent call last):
    ...
    wxframe.errors.ConfigurationError: publish goes to object storage, ...
    """
    source = store if isinstance(store, Store) else Store(store)
    destination = Store(to, lock_timeout=lock_timeout, s3=s3)
    return _publish.publish(
        source._layout, destination._layout, dry_run=dry_run, replace=replace,
        accounts=[accounts] if isinstance(accounts, str) else accounts,
    )  # fmt: skip
