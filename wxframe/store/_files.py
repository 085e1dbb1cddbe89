"""Where a store keeps what, and how a file gets there whole.

The layout (paths, partitions, the account's lock), the temporary names every write goes
through, atomic writes with fsync, and the digests by which damage is found later: each
parquet page carries a CRC that every read checks, and a read of a file the manifest
lists also checks its SHA-256 (the footer has no CRC). What
the manifest says of the files is :mod:`wxframe.store._manifest`'s business.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

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
from wxframe.store._schema import combined, in_key_order

__all__ = [
    "DAMAGED_DIR",
    "DATA_FILE",
    "LOCK_NAME",
    "MANIFEST_DIR",
    "MONTH",
    "UNREADABLE",
    "Layout",
    "Staged",
    "atomic_write",
    "digest",
    "discard_staged",
    "fsync",
    "fsync_dir",
    "read_parquet",
    "reason",
    "rename_staged",
    "temp_path",
    "write_parquet",
]

MANIFEST_DIR = "_manifest"
#: Where repairs move damaged files: outside the endpoints' folders, which any parquet
#: reader may scan.
DAMAGED_DIR = "_damaged"
#: One lock per account: syncs of different accounts write different files and manifests.
LOCK_NAME = ".wxframe.{account}.lock"
DATA_FILE = "data.parquet"
#: What reading a damaged parquet file raises: a page whose checksum fails or that does
#: not decode, a footer that does not parse, text that is not UTF-8 ...
UNREADABLE = (OSError, pa.ArrowException, UnicodeDecodeError)
MONTH = re.compile(r"^\d{4}-\d{2}$")
#: The temporary names the store writes to before a rename (:func:`temp_path`).
_TEMP_NAME = re.compile(r"^\.(data\.parquet|[A-Za-z0-9_-]{1,64}\.json)\.[0-9a-f]{32}\.tmp$")
#: What an appid may hold (the platform's are ``wx`` and 16 hex digits).
_APPID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Staged:
    """A month file rewritten under a temporary name beside its place, not yet renamed."""

    spec: Endpoint
    month: str
    path: Path
    tmp: Path
    rows: int
    size: int
    sha256: str


@dataclass(frozen=True)
class Layout:
    """A store's directory: where each account's files, manifest and lock are.

    ``lock_timeout`` is how long :meth:`lock` waits for another sync of the account.
    """

    root: Path
    lock_timeout: float = 0.0

    # ------------------------------------------------------------------ paths
    def manifest_path(self, account: str) -> Path:
        """The account's own manifest file (its endpoints; their days are by month)."""
        return self.root / MANIFEST_DIR / f"{account}.json"

    def month_folder(self, account: str, endpoint: str) -> Path:
        """Where the manifest keeps an endpoint's months of an account."""
        return self.root / MANIFEST_DIR / account / endpoint

    def month_path(self, account: str, endpoint: str, month: str) -> Path:
        """The manifest's file of one month (``YYYY-MM``) of an endpoint."""
        return self.month_folder(account, endpoint) / f"{month}.json"

    def partition(self, spec: Endpoint, account: str, month: str) -> Path:
        """The hive partition folder of one account-month of an endpoint."""
        return self.root / spec.name / f"account={account}" / f"month={month}"

    def data_file(self, spec: Endpoint, account: str, month: str) -> Path:
        """The parquet file of one account-month of an endpoint."""
        return self.partition(spec, account, month) / DATA_FILE

    # --------------------------------------------------------------- accounts
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

    def manifest_accounts(self) -> list[str]:
        """The accounts whose files a read takes: those with a manifest."""
        return sorted(p.stem for p in (self.root / MANIFEST_DIR).glob("*.json"))

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
        tree of new folders."""
        if not self.check_root():
            return False
        try:
            self.root.mkdir(exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"the store {self.root} cannot be a directory: {exc.strerror or exc}"
            ) from None
        return True

    def check_root(self) -> bool:
        """What :meth:`make_root` would do, without doing it: True when it would create
        the folder, False when it is there, or the error it would raise."""
        if self.root.is_dir():
            return False
        if self.root.exists():
            raise StoreError(f"{self.root} is a file, not a folder: choose another store path")
        parent = self.root.absolute().parent
        if not parent.is_dir():
            raise StoreNotFoundError(
                f"no wxframe store at {self.root}, and {parent} does not exist; create it "
                "or choose another store path (--store)"
            )
        return True

    def is_store(self) -> bool:
        """Whether the root holds a store: its manifests, or the lock of a sync that
        started one."""
        return (self.root / MANIFEST_DIR).is_dir() or any(
            self.root.glob(LOCK_NAME.format(account="*"))
        )

    def require(self, *, store: bool = True) -> None:
        """A StoreNotFoundError that says what is at the root instead of a store (with
        ``store=False``: only when it is not a folder at all)."""
        if self.root.is_dir():
            if not store or self.is_store():
                return
            if any(self.root.iterdir()):
                there = f"a folder of other files, no {MANIFEST_DIR}/: is it the right path?"
            else:
                there = f"an empty folder; `wxframe sync --store {self.root}` makes one there"
        elif self.root.exists():
            there = "a file, not a folder"
        else:
            there = "no such folder"
        raise StoreNotFoundError(f"no wxframe store at {self.root} ({there})")

    def lock(self, account: str) -> filelock.BaseFileLock:
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

    def remove_stale_temp_files(self, account: str) -> None:
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

    def read_file(
        self,
        path: Path,
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
                return read_parquet(path, columns)
            data = path.read_bytes()  # read once: hashed, then parsed from memory
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

    def relative(self, path: Path) -> str:
        """``path`` as the store names it: relative to the root, where it is inside."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    @property
    def repair_hint(self) -> str:
        """What to run about a damaged file of this store."""
        return (
            f"run `wxframe verify --store {self.root} --repair` to fetch its days again "
            "(imported history: import it again)"
        )

    def stage(
        self,
        spec: Endpoint,
        account: str,
        windows: Sequence[Window],
        table: pa.Table,
        staged: list[Staged],
        recorded: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        """Each month file the windows touch, rewritten under a temporary name beside
        it (the rows of the windows' days replaced by ``table``'s); appended to
        ``staged``, for the caller to record and rename. ``recorded`` is the SHA-256 the
        manifest holds of each month file (:meth:`read_file`): damage is not rewritten
        as sound."""
        by_month: dict[str, set[date]] = {}
        for w in windows:
            for n in range((w.end - w.begin).days + 1):
                day = w.begin + timedelta(days=n)
                by_month.setdefault(day.strftime("%Y-%m"), set()).add(day)
        partition = table.column(spec.partition)
        for month in sorted(by_month):
            in_month = pa.array(sorted(by_month[month]), pa.date32()).cast(partition.type)
            path = self.data_file(spec, account, month)
            inside = pc.is_in(partition, value_set=in_month)
            new = table if pc.all(inside).as_py() else table.filter(inside)  # one month: as is
            if path.exists():
                old = self.read_file(path, digests=(recorded or {}).get(month, ()))
                days = old.column(spec.partition)
                old = old.filter(pc.invert(pc.is_in(days, value_set=in_month.cast(days.type))))
                whole = combined(spec, [old, new] if old.num_rows else [new])
            else:
                whole = in_key_order(spec, new)  # as a batch's table comes, usually
            if not whole.num_rows and not path.exists():
                continue  # an empty window is recorded in the manifest, not as a file
            tmp = temp_path(path)
            try:
                if not path.parent.is_dir():
                    path.parent.mkdir(parents=True, exist_ok=True)
                write_parquet(whole, tmp)
                fsync(tmp)
                size, sha256 = tmp.stat().st_size, digest(tmp)
            except OSError as exc:  # a full disk, a read-only folder: say where
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
                raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None
            staged.append(Staged(spec, month, path, tmp, whole.num_rows, size, sha256))


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write a month file: zstd, and a CRC of every page, which every read checks."""
    pq.write_table(table, path, compression="zstd", write_page_checksum=True)


def read_parquet(path: Path | pa.NativeFile, columns: Sequence[str] | None = None) -> pa.Table:
    """A month file as written, its page checksums checked (pages written before the
    store wrote checksums carry none, and read as before); raises what pyarrow raises
    (:data:`UNREADABLE`) on damage."""
    # One known file: ParquetFile, without read_table's dataset discovery (half the time
    # of a month's read).
    with pq.ParquetFile(path, page_checksum_verification=True) as f:
        return f.read(columns=columns)


def rename_staged(staged: Sequence[Staged]) -> None:
    """Rename each staged file into its place, each rename made durable."""
    for item in staged:
        try:
            os.replace(item.tmp, item.path)
            fsync_dir(item.path.parent)  # the rename itself survives a power cut
        except OSError as exc:
            raise StoreError(f"cannot write {item.path}: {exc.strerror or exc}") from None


def discard_staged(staged: Sequence[Staged]) -> None:
    """Remove the temporary files of ``staged`` that were not renamed (an error on the way)."""
    for item in staged:
        with contextlib.suppress(OSError):
            item.tmp.unlink(missing_ok=True)


def temp_path(path: Path) -> Path:
    """A temporary name beside ``path``, one :meth:`Layout.remove_stale_temp_files` knows."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def fsync(path: Path) -> None:
    """Flush a file's contents to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (POSIX; elsewhere a folder cannot be opened)."""
    with contextlib.suppress(OSError):
        fsync(path)


def digest(path: Path) -> str:
    """A file's SHA-256, as the manifest records it."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def atomic_write(path: Path, data: bytes, *, mkdir: bool = False) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new, whole."""
    tmp = temp_path(path)
    try:
        if mkdir and not path.parent.is_dir():  # a stat, not a failed mkdir per level
            path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None


def reason(exc: Exception, path: Path) -> str:
    """pyarrow's reason, short: without the path it repeats, its first sentence."""
    text = " ".join(str(exc).split())
    if str(path) in text:
        text = text.split(str(path), 1)[1].lstrip("': ")
    return text.split(". ")[0][:120]
