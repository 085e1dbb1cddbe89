"""Where a store keeps what, and how a file gets there whole.

The layout (paths, partitions, the account's lock or lease), the content names of the
files a write makes, and the digests by which damage is found later: each parquet page
carries a CRC that every read checks, and a read of a file the manifest lists also
checks its SHA-256 (the footer has no CRC). Every read and write goes through the
store's :class:`~wxframe.store._fs.Storage` (a local folder or object storage). What
the manifest says of the files is :mod:`wxframe.store._manifest`'s business.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path, PurePath
from typing import Protocol

import filelock
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from wxframe.dates import Window
from wxframe.endpoints import ENDPOINTS, Endpoint
from wxframe.errors import (
    ConfigurationError,
    StoreDamagedError,
    StoreError,
    StoreLockedError,
    StoreNotFoundError,
)
from wxframe.store._fs import Storage, resolve
from wxframe.store._lease import Lease
from wxframe.store._schema import combined, in_key_order

__all__ = [
    "DAMAGED_DIR",
    "DATA_FILE",
    "GRACE_SECONDS",
    "LOCK_NAME",
    "MANIFEST_DIR",
    "MONTH",
    "UNREADABLE",
    "Layout",
    "Lock",
    "Staged",
    "data_name",
    "parquet_bytes",
    "read_parquet",
    "reason",
    "shard_name",
]

MANIFEST_DIR = "_manifest"
#: Where repairs move damaged files: outside the endpoints' folders, which any parquet
#: reader may scan.
DAMAGED_DIR = "_damaged"
#: One lock per account: syncs of different accounts write different files and manifests.
LOCK_NAME = ".wxframe.{account}.lock"
#: The one data file of a month in stores written before data files were named by
#: their content (a manifest record without a name means this one).
DATA_FILE = "data.parquet"
#: A data file named by its content: ``data-`` and the first 16 hex digits of its SHA-256.
DATA_NAME = re.compile(r"^data-[0-9a-f]{16}\.parquet$")
#: A month of the manifest named by its content (``YYYY-MM.<16 hex>.json``).
SHARD_NAME = re.compile(r"^\d{4}-\d{2}\.[0-9a-f]{16}\.json$")
#: Objects no longer named (superseded, or left by a writer killed before its commit)
#: are removed only this long after: a reader that read the manifest before may still
#: be reading them.
GRACE_SECONDS = 3600.0
#: What reading a damaged parquet file raises: a page whose checksum fails or that does
#: not decode, a footer that does not parse, text that is not UTF-8 ...
UNREADABLE = (OSError, pa.ArrowException, UnicodeDecodeError)
MONTH = re.compile(r"^\d{4}-\d{2}$")
#: The temporary names a local write goes through before its rename (``_fs``).
_TEMP_NAME = re.compile(r"^\.(data\.parquet|[A-Za-z0-9_.-]{1,80})\.[0-9a-f]{32}\.tmp$")
#: What an appid may hold (the platform's are ``wx`` and 16 hex digits).
_APPID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Lock(Protocol):
    """A held account lock (a local file lock, or a lease on object storage)."""

    def release(self) -> None: ...


def data_name(sha256: str) -> str:
    """The name of a data file with this SHA-256: immutable, so a reader that read the
    manifest before a rewrite still finds the file it names."""
    return f"data-{sha256[:16]}.parquet"


def shard_name(month: str, data: bytes) -> str:
    """The name of a month of the manifest holding ``data``: ``YYYY-MM.`` and the first
    16 hex digits of its SHA-256 (what a sync writes, and what a publish uploads)."""
    return f"{month}.{hashlib.sha256(data).hexdigest()[:16]}.json"


@dataclass(frozen=True)
class Staged:
    """A month file written under its content name, not yet named by the manifest."""

    spec: Endpoint
    month: str
    path: PurePath
    rows: int
    size: int
    sha256: str
    #: The file it replaces (None: the month's first), retired once the manifest commits.
    replaces: PurePath | None = None


class Layout:
    """A store's objects: where each account's files, manifest and lock are.

    ``root`` is a local path or ``s3://bucket/prefix`` (or the :class:`Storage` of one);
    ``lock_timeout`` is how long :meth:`lock` waits for another sync of the account;
    ``grace`` how long objects no longer named are kept for readers in flight.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | Storage,
        lock_timeout: float = 0.0,
        *,
        grace: float | None = None,
    ) -> None:
        self.storage = root if isinstance(root, Storage) else resolve(root)
        self.root: PurePath = self.storage.root
        self.lock_timeout = lock_timeout
        local = self.storage.local  # (see Store's grace: none on a local disk)
        self.grace = grace if grace is not None else 0.0 if local else GRACE_SECONDS

    @property
    def url(self) -> str:
        """The root as messages name it (a local path, or ``s3://bucket/prefix``)."""
        return self.storage.url

    # ------------------------------------------------------------------ paths
    def manifest_path(self, account: str) -> PurePath:
        """The account's own manifest object: the pointer, written last, that names
        every month of the manifest and every data file the account holds."""
        return self.root / MANIFEST_DIR / f"{account}.json"

    def month_folder(self, account: str, endpoint: str) -> PurePath:
        """Where the manifest keeps an endpoint's months of an account."""
        return self.root / MANIFEST_DIR / account / endpoint

    def month_path(
        self, account: str, endpoint: str, month: str, name: str | None = None
    ) -> PurePath:
        """The manifest's object of one month (``YYYY-MM``) of an endpoint: ``name``
        as the pointer names it (``YYYY-MM.<hash>.json``), else the name of stores
        written before (``YYYY-MM.json``)."""
        return self.month_folder(account, endpoint) / (name or f"{month}.json")

    def partition(self, spec: Endpoint, account: str, month: str) -> PurePath:
        """The hive partition folder of one account-month of an endpoint."""
        return self.root / spec.name / f"account={account}" / f"month={month}"

    def data_file(
        self, spec: Endpoint, account: str, month: str, name: str | None = None
    ) -> PurePath:
        """The parquet file of one account-month of an endpoint: ``name`` as the
        manifest records it, else the one file of stores written before names."""
        return self.partition(spec, account, month) / (name or DATA_FILE)

    # --------------------------------------------------------------- accounts
    def accounts(self) -> list[str]:
        """The appids this store holds data or a manifest for."""
        found = set(self.manifest_accounts())
        for name in ENDPOINTS:
            found |= {
                p.name.removeprefix("account=")
                for p in self.storage.glob(self.root, f"{name}/account=*")
            }
        return sorted(found)

    def manifest_accounts(self) -> list[str]:
        """The accounts whose files a read takes: those with a manifest."""
        found = self.storage.glob(self.root, f"{MANIFEST_DIR}/*.json")
        return sorted(p.stem for p in found if _APPID.match(p.stem))

    def checked_account(self, account: str | None) -> str:
        """``account`` if it can name the store's files, else the store's only account."""
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

    # ------------------------------------------------------------------ writes
    def make_root(self) -> bool:
        """Create the store's directory where its parent folder exists (True when it
        was created), or say why it cannot be one: a mistyped path never becomes a
        tree of new folders. On object storage a prefix needs no creating: its
        bucket must exist."""
        if not self.check_root():
            return False
        if self.storage.local:
            try:
                Path(self.root).mkdir(exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"the store {self.url} cannot be a directory: {exc.strerror or exc}"
                ) from None
        return True

    def check_root(self) -> bool:
        """What :meth:`make_root` would do, without doing it: True when it would create
        the folder, False when it is there, or the error it would raise."""
        storage = self.storage
        if storage.is_dir(self.root):
            return False
        if not storage.local:
            bucket = self.root.parts[0]
            if not storage.is_dir(type(self.root)(bucket)):
                raise StoreNotFoundError(
                    f"no wxframe store at {self.url}, and the bucket {bucket} does not "
                    "exist (or these credentials cannot see it); create it or choose "
                    "another store URL (--store)"
                )
            return True
        if storage.is_file(self.root):  # (not "exists": another sync may just have made it)
            raise StoreError(f"{self.url} is a file, not a folder: choose another store path")
        parent = Path(self.root).absolute().parent
        if not parent.is_dir():
            raise StoreNotFoundError(
                f"no wxframe store at {self.url}, and {parent} does not exist; create it "
                "or choose another store path (--store)"
            )
        return True

    def is_store(self) -> bool:
        """Whether the root holds a store: its manifests, or the lock of a sync that
        started one."""
        return self.storage.is_dir(self.root / MANIFEST_DIR) or bool(
            self.storage.glob(self.root, LOCK_NAME.format(account="*"))
            or self.storage.glob(self.root, "_locks/*.json")
        )

    def require(self, *, store: bool = True) -> None:
        """A StoreNotFoundError that says what is at the root instead of a store (with
        ``store=False``: only when it is not a folder at all)."""
        storage = self.storage
        if storage.is_dir(self.root):
            if not store or self.is_store():
                return
            if storage.listdir(self.root):
                what = "a folder" if storage.local else "a prefix"
                there = f"{what} of other files, no {MANIFEST_DIR}/: is it the right path?"
            else:
                there = f"an empty folder; `wxframe sync --store {self.url}` makes one there"
        elif not storage.local:
            if not store:
                return  # an empty prefix: reads find nothing, as in an empty folder
            there = f"nothing under this prefix; `wxframe sync --store {self.url}` makes one"
        elif storage.exists(self.root):
            there = "a file, not a folder"
        else:
            there = "no such folder"
        raise StoreNotFoundError(f"no wxframe store at {self.url} ({there})")

    def lock(self, account: str) -> Lock:
        """The account's write lock, acquired (or a StoreLockedError that says what to
        do): a file lock on a local disk, a lease object on object storage."""
        if not self.storage.local:
            return Lease.acquire(self.storage, self.root / "_locks" / f"{account}.json",
                                 account=account, timeout=self.lock_timeout)  # fmt: skip
        path = Path(self.root) / LOCK_NAME.format(account=account)
        lock = filelock.FileLock(str(path), timeout=self.lock_timeout)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise StoreLockedError(
                f"another sync is writing {account} in {self.url} (lock {path}); "
                "wait for it to finish, or pass Store(root, lock_timeout=SECONDS) to wait"
            ) from None
        return lock

    def remove_stale_temp_files(self, account: str) -> None:
        """Remove what a killed local write of ``account`` left: only the temporary
        names the store makes, only in that account's folders (another account's sync
        may be writing its own at this moment)."""
        if not self.storage.local:
            return  # a PUT leaves nothing half-written behind
        root = Path(self.root)
        manifests = root / MANIFEST_DIR
        found = [*manifests.glob(f".{account}.json.*.tmp"), *(manifests / account).rglob(".*.tmp")]
        for place in root.glob(f"*/account={account}"):
            found += place.rglob(".*.tmp")
        for tmp in found:
            if _TEMP_NAME.match(tmp.name) and tmp.is_file():
                tmp.unlink(missing_ok=True)

    def remove_orphans(self, account: str, named: Collection[PurePath], now: datetime) -> int:
        """Remove the content-named objects of ``account`` that ``named`` (what its
        manifest names, and what it keeps for readers) does not hold and that are
        older than :attr:`grace`: what a writer killed before its commit uploaded.
        Only names the store makes; never a legacy ``data.parquet`` (a repair may list
        it again) nor anything else. Returns how many were removed."""
        keep = {str(p) for p in named}
        removed = 0
        places = [self.root / MANIFEST_DIR / account]
        places += [self.root / name / f"account={account}" for name in ENDPOINTS]
        for place in places:
            for path, info in self.storage.walk(place):
                if not (DATA_NAME.match(path.name) or SHARD_NAME.match(path.name)):
                    continue
                if str(path) in keep or info.mtime is None:
                    continue
                if (now - info.mtime).total_seconds() >= self.grace:
                    self.storage.delete(path)
                    removed += 1
        return removed

    def read_parquet(self, path: PurePath, columns: Sequence[str] | None = None) -> pa.Table:
        """A data file as written, its page checksums checked; raises what pyarrow
        raises (:data:`UNREADABLE`) on damage, FileNotFoundError where it is gone."""
        if self.storage.local:
            return read_parquet(Path(path), columns)
        return read_parquet(pa.BufferReader(self.storage.read_bytes(path)), columns)

    def read_file(
        self,
        path: PurePath,
        *,
        digests: Collection[str] = (),
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """A month file the manifest lists, or a StoreDamagedError that names it and the
        repair. Its page checksums are checked, and with ``digests`` (the SHA-256 the
        manifest recorded) its whole bytes: the footer, which no page checksum covers
        (its column names, types, row counts), too."""
        where = self.relative(path)
        try:
            if not digests:
                return self.read_parquet(path, columns)
            data = self.storage.read_bytes(path)  # read once: hashed, then parsed from memory
            if hashlib.sha256(data).hexdigest() not in digests:
                raise StoreDamagedError(
                    f"{where} is damaged (its SHA-256 is not the one recorded when it was "
                    f"written): {self.repair_hint}"
                )
            return read_parquet(pa.BufferReader(data), columns)
        except FileNotFoundError:
            raise StoreDamagedError(
                f"{where} is missing, though the manifest lists it: {self.repair_hint}"
            ) from None
        except UNREADABLE as exc:
            raise StoreDamagedError(
                f"{where} is damaged ({reason(exc, path)}): {self.repair_hint}"
            ) from None

    def relative(self, path: PurePath) -> str:
        """``path`` as the store names it: relative to the root, where it is inside."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return self.storage.show(path)

    def show(self, path: PurePath) -> str:
        """``path`` as a message names it (a local path, or its ``s3://`` URL)."""
        return self.storage.show(path)

    def path_of(self, shown: str) -> PurePath:
        """The path :meth:`show` showed as ``shown``."""
        if self.storage.local:
            return Path(shown)
        return type(self.root)(shown.removeprefix("s3://"))

    @property
    def repair_hint(self) -> str:
        """What to run about a damaged file of this store."""
        return (
            f"run `wxframe verify --store {self.url} --repair` to fetch its days again "
            "(imported history: import it again)"
        )

    def stage(
        self,
        spec: Endpoint,
        account: str,
        windows: Sequence[Window],
        table: pa.Table,
        staged: list[Staged],
        recorded: Mapping[str, tuple[str | None, Collection[str]]] | None = None,
    ) -> None:
        """Each month file the windows touch, rewritten (the rows of the windows' days
        replaced by ``table``'s) and written under its content name beside the one it
        replaces, which stays as it is for readers; appended to ``staged``, for the
        caller to name in the manifest. ``recorded`` is, per month, the name of the
        manifest's file (None: ``data.parquet``) and its SHA-256 (:meth:`read_file`):
        damage is not rewritten as sound."""
        by_month: dict[str, set[date]] = {}
        for w in windows:
            for n in range((w.end - w.begin).days + 1):
                day = w.begin + timedelta(days=n)
                by_month.setdefault(day.strftime("%Y-%m"), set()).add(day)
        partition = table.column(spec.partition)
        for month in sorted(by_month):
            in_month = pa.array(sorted(by_month[month]), pa.date32()).cast(partition.type)
            inside = pc.is_in(partition, value_set=in_month)
            new = table if pc.all(inside).as_py() else table.filter(inside)  # one month: as is
            old_path: PurePath | None = None
            if recorded is not None and month in recorded:
                name, digests = recorded[month]
                old_path = self.data_file(spec, account, month, name)
                old = self.read_file(old_path, digests=digests)
                days = old.column(spec.partition)
                old = old.filter(pc.invert(pc.is_in(days, value_set=in_month.cast(days.type))))
                whole = combined(spec, [old, new] if old.num_rows else [new])
            else:
                whole = in_key_order(spec, new)  # as a batch's table comes, usually
            if not whole.num_rows and old_path is None:
                continue  # an empty window is recorded in the manifest, not as a file
            data = parquet_bytes(whole)
            sha256 = hashlib.sha256(data).hexdigest()
            path = self.data_file(spec, account, month, data_name(sha256))
            if path != old_path:  # the same rows: the same file, already named
                self.storage.write(path, data)
            staged.append(Staged(spec, month, path, whole.num_rows, len(data), sha256, old_path))


def parquet_bytes(table: pa.Table) -> bytes:
    """A month file's bytes: zstd, and a CRC of every page, which every read checks."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_page_checksum=True)
    return sink.getvalue().to_pybytes()


def read_parquet(path: Path | pa.NativeFile, columns: Sequence[str] | None = None) -> pa.Table:
    """A month file as written, its page checksums checked (pages written before the
    store wrote checksums carry none, and read as before); raises what pyarrow raises
    (:data:`UNREADABLE`) on damage."""
    # One known file: ParquetFile, without read_table's dataset discovery (half the time
    # of a month's read).
    with pq.ParquetFile(path, page_checksum_verification=True) as f:
        return f.read(columns=columns)


def reason(exc: Exception, path: PurePath) -> str:
    """pyarrow's reason, short: without the path it repeats, its first sentence."""
    text = " ".join(str(exc).split())
    if str(path) in text:
        text = text.split(str(path), 1)[1].lstrip("': ")
    return text.split(". ")[0][:120]
