"""One writer per account on object storage: a lease object, and a commit that checks.

Object storage has no file lock. A writer of an account holds ``_locks/<appid>.json``
(a random owner id, its host and pid, an expiry it renews while it works), written
with a conditional PUT (``If-None-Match: *``) where the store has one (AWS S3, moto,
and most S3-compatible servers): then only one writer can hold it. Where the store
answers that it has none (Aliyun OSS: 501), the lease is written, then read back: two
writers starting within the same moment can both believe they hold it. The commit
(:func:`commit_pointer`) is the second guard: the account's pointer is replaced only
if it is still the one the writer started from (``If-Match`` on its ETag where
supported, else read and compared just before the PUT, which leaves a window of one
round trip). A writer that finds another's commit raises
:class:`~wxframe.WriterConflictError` and commits nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import Any

from wxframe.errors import StoreLockedError, WriterConflictError
from wxframe.store._fs import Storage

__all__ = ["LEASE_SECONDS", "Lease", "commit_pointer", "writer_id"]

#: How long a lease holds without renewal; its holder renews it every third of that.
LEASE_SECONDS = 60.0
#: What S3-compatible services answer to a conditional put that fails, or that they
#: do not implement.
_PRECONDITION = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
_UNSUPPORTED = {"NotImplemented", "501"}
#: One id per process: who wrote a pointer, and who holds a lease.
_PROCESS = uuid.uuid4().hex[:12]


def writer_id() -> dict[str, Any]:
    """Who writes: host, pid, and a random id of this process (nothing secret)."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "owner": _PROCESS}


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(error.get("Code") or status or "")


def _describe(doc: Any) -> str:
    if not isinstance(doc, dict):
        return "another writer"
    return f"{doc.get('host', '?')} (pid {doc.get('pid', '?')}, id {doc.get('owner', '?')})"


class Lease:
    """A held lease on one account of an object-storage store."""

    def __init__(self, storage: Storage, path: PurePath, body: dict[str, Any]) -> None:
        self.storage = storage
        self.path = path
        self.body = body
        self.etag: str | None = None
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def acquire(cls, storage: Storage, path: PurePath, *, account: str, timeout: float) -> Lease:
        """Take the lease of ``account`` (waiting up to ``timeout`` seconds for its
        holder), or raise :class:`~wxframe.StoreLockedError` naming the holder."""
        body = {"account": account, **writer_id(), "lease": uuid.uuid4().hex}
        lease = cls(storage, path, body)
        deadline = time.monotonic() + timeout
        while True:
            holder = lease._try_take()
            if holder is None:
                lease._start()
                return lease
            if time.monotonic() >= deadline:
                raise StoreLockedError(
                    f"another sync is writing {account} in {storage.url}: "
                    f"{_describe(holder)} holds its lease until {holder.get('expires', '?')}; "
                    "wait for it to finish, or pass Store(root, lock_timeout=SECONDS) to wait"
                )
            time.sleep(min(0.5, max(deadline - time.monotonic(), 0.01)))

    def _data(self) -> bytes:
        expires = datetime.now(UTC) + timedelta(seconds=LEASE_SECONDS)
        self.body["expires"] = expires.isoformat(timespec="seconds")
        return json.dumps(self.body, sort_keys=True).encode()

    def _read(self) -> dict[str, Any] | None:
        try:
            doc = json.loads(self.storage.read_bytes(self.path))
        except FileNotFoundError:
            return None
        except ValueError:
            return {}  # not a lease: taken as expired
        return doc if isinstance(doc, dict) else {}

    def _expired(self, doc: dict[str, Any]) -> bool:
        try:
            expires = datetime.fromisoformat(str(doc["expires"]))
        except (KeyError, ValueError):
            return True
        if expires <= datetime.now(UTC):
            return True
        # A writer of this host that is gone (killed) holds nothing.
        if doc.get("host") == socket.gethostname() and isinstance(doc.get("pid"), int):
            try:
                os.kill(doc["pid"], 0)
            except ProcessLookupError:
                return True
            except OSError:
                return False
        return False

    def _try_take(self) -> dict[str, Any] | None:
        """None when the lease is ours now, else the holder's lease."""
        current = self._read()
        if current is not None:
            if not self._expired(current):
                return current
            self.storage.delete(self.path)  # expired: whoever puts first takes it
        client = self.storage.boto()
        if client is not None:
            bucket, key = self.storage.bucket_key(self.path)
            try:
                answer = client.put_object(Bucket=bucket, Key=key, Body=self._data(),
                                           IfNoneMatch="*")  # fmt: skip
            except Exception as exc:  # botocore's ClientError: judged by its code
                code = _code(exc)
                if code in _PRECONDITION:
                    return self._read() or {}
                if code not in _UNSUPPORTED:
                    raise StoreLockedError(
                        f"cannot take the lease {self.storage.show(self.path)}: {code or exc}"
                    ) from None
            else:
                self.etag = answer.get("ETag")
                return None
        # No conditional put: written, then read back (see the module's docstring).
        self.storage.write(self.path, self._data())
        time.sleep(0.05)
        back = self._read()
        if back is None or back.get("lease") != self.body["lease"]:
            return back or {}
        return None

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._renew, name="wxframe-lease", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(LEASE_SECONDS / 3):
            current = self._read()
            if current is None or current.get("lease") != self.body["lease"]:
                self.lost = True  # taken over (we were too slow): the commit will say
                return
            with contextlib.suppress(Exception):  # renewal fails: the lease expires
                self.storage.write(self.path, self._data())

    def release(self) -> None:
        """Give the lease back (only if it is still ours)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        current = self._read()
        if current is not None and current.get("lease") == self.body["lease"]:
            self.storage.delete(self.path)


def commit_pointer(
    storage: Storage, path: PurePath, data: bytes, based_on: str | None, account: str
) -> str:
    """Replace the account's pointer with ``data`` if it is still the one the writer
    read (``based_on``: its SHA-256; None: there was none); its new SHA-256. Else a
    :class:`~wxframe.WriterConflictError` naming the writer of the one there now."""
    new = hashlib.sha256(data).hexdigest()
    if storage.local:  # the account's file lock makes this writer the only one
        storage.write(path, data)
        return new
    client = storage.boto()
    etag: str | None = None
    if client is not None:
        bucket, key = storage.bucket_key(path)
        try:
            got = client.get_object(Bucket=bucket, Key=key)
            there: bytes | None = got["Body"].read()
            etag = got.get("ETag")
        except Exception as exc:
            if _code(exc) not in {"NoSuchKey", "404"}:
                raise
            there = None
    else:
        try:
            there = storage.read_bytes(path)
        except FileNotFoundError:
            there = None
    found = None if there is None else hashlib.sha256(there).hexdigest()
    if found != based_on:
        _conflict(storage, path, there, account)
    if client is not None:
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            client.put_object(Bucket=bucket, Key=key, Body=data, **condition)
            return new
        except Exception as exc:
            code = _code(exc)
            if code in _PRECONDITION:
                _conflict(storage, path, storage.read_bytes(path), account)
            if code not in _UNSUPPORTED:
                raise
    storage.write(path, data)
    return new


def _conflict(storage: Storage, path: PurePath, there: bytes | None, account: str) -> None:
    try:
        doc = json.loads(there or b"{}")
    except ValueError:
        doc = {}
    writer = doc.get("writer") if isinstance(doc, dict) else None
    other = _describe(writer)
    generation = doc.get("generation", "?") if isinstance(doc, dict) else "?"
    raise WriterConflictError(
        f"another writer, {other}, committed {account} in {storage.url} (generation "
        f"{generation}) while this one wrote: this writer committed nothing and the "
        "other's state is whole. Run it again: it fetches again what this run had "
        "fetched. Keep one scheduler per account.",
        other=other,
    )
