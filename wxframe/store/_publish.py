"""Publish: a store mirrored to object storage, only what changed, the pointer last.

A team syncs into a store on one machine and publishes it to ``s3://bucket/prefix`` for
everyone to read. Per account, under the source account's lock (no sync rewrites it
meanwhile) and the destination's lease (no sync or other publish writes it meanwhile),
every data file and month of the manifest that the source's pointer names and the
destination does not hold yet is uploaded under its content name, and then the
destination's pointer is committed as a sync commits it (:func:`save_manifest`: only if
it is still the one read, objects no longer named removed after the grace period).
Content names make "only what changed" a comparison of names: the same name is the
same bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from wxframe.dates import BEIJING
from wxframe.endpoints import ENDPOINTS
from wxframe.errors import (
    ConfigurationError,
    StoreDamagedError,
    StoreError,
    StoreNotFoundError,
    WxframeError,
)
from wxframe.store._files import MANIFEST_DIR, Layout, data_name, shard_name
from wxframe.store._manifest import (
    FileRecord,
    Manifest,
    dumps,
    load_manifest,
    named_objects,
    save_manifest,
)

__all__ = ["UPLOADS_AT_ONCE", "PublishSummary", "publish"]

#: Objects uploaded at once (one PUT each; pyarrow's S3 client works outside the GIL).
UPLOADS_AT_ONCE = 8


@dataclass
class PublishSummary:
    """What a publish of one account did (with ``dry_run``: would do).

    ``uploaded``: data files and months of the manifest uploaded, ``bytes`` their size;
    ``skipped``: those the destination held already (the same name is the same bytes);
    ``replaced``: of those uploaded, the ones the destination held under that name with
    another size (damaged there); ``generation``: the destination pointer's generation
    this publish committed (None: it committed nothing, the destination was up to date).
    """

    uploaded: int = 0
    bytes: int = 0
    skipped: int = 0
    replaced: int = 0
    generation: int | None = None
    dry_run: bool = False

    def __str__(self) -> str:
        there = f"{self.skipped} already there"
        if self.replaced:
            there += f", {self.replaced} replaced (another size there)"
        if self.dry_run:
            return (f"would upload {self.uploaded} object(s) ({_size(self.bytes)}), {there} "
                    "(dry run: nothing written)")  # fmt: skip
        if self.generation is None:
            return f"up to date: nothing uploaded, {there}"
        return (f"{self.uploaded} object(s) uploaded ({_size(self.bytes)}), {there}; "
                f"pointer generation {self.generation}")  # fmt: skip


@dataclass(frozen=True)
class _Upload:
    """A data file to copy: where it is, where it goes, what the manifest says of it."""

    source: PurePath
    to: PurePath
    size: int
    sha256: str | None


@dataclass
class _Plan:
    """What a publish of one account does: the manifest to commit at the destination
    (the source's, its data files named by content, ready for :func:`save_manifest`)."""

    manifest: Manifest
    uploads: list[_Upload]
    summary: PublishSummary
    changed: bool


def publish(
    source: Layout,
    to: Layout,
    *,
    accounts: Iterable[str] | None = None,
    dry_run: bool = False,
    replace: bool = False,
) -> dict[str, PublishSummary | WxframeError]:
    """Publish ``source``'s accounts (default: every one with a manifest) to ``to``:
    per account its :class:`PublishSummary`, or the error that stopped it (the others go
    on). What is wrong with the arguments is raised before anything is read or written."""
    check_destination(source, to)
    held = source.manifest_accounts()
    chosen = list(dict.fromkeys(accounts)) if accounts else held
    unknown = [a for a in chosen if a not in held]
    if unknown:
        raise ConfigurationError(
            f"{source.url} holds no manifest of {', '.join(unknown)}: it holds "
            f"{', '.join(held) or 'no account yet'}"
        )
    results: dict[str, PublishSummary | WxframeError] = {}
    for account in chosen:
        try:
            results[account] = publish_account(
                source, to, account, dry_run=dry_run, replace=replace
            )
        except WxframeError as exc:
            results[account] = exc
    return results


def check_destination(source: Layout, to: Layout) -> None:
    """A StoreError (exit 2) naming what is wrong, before anything is read or written:
    a source that is not a store, a destination that is not object storage, is the
    source, has no bucket, or holds files that are not a store."""
    source.require()
    if to.storage.local:
        raise ConfigurationError(
            f"publish goes to object storage, s3://BUCKET/PREFIX, not {to.url!r}: a "
            "store on a disk is copied as a folder"
        )
    if source.url == to.url:
        raise ConfigurationError(f"{to.url} is the store being published: publish elsewhere")
    bucket = to.root.parts[0]
    if not to.storage.is_dir(type(to.root)(bucket)):
        raise StoreNotFoundError(
            f"cannot publish to {to.url}: the bucket {bucket} does not exist (or these "
            "credentials cannot see it); create it, or publish elsewhere"
        )
    # (a lease's folder alone: a writer that was refused, or released its lease)
    others = [p for p in to.storage.listdir(to.root) if p.name != "_locks"]
    if others and not to.is_store():
        raise StoreError(
            f"{to.url} holds other files, no {MANIFEST_DIR}/: publish into an empty prefix "
            "or a wxframe store"
        )


def publish_account(
    source: Layout, to: Layout, account: str, *, dry_run: bool = False, replace: bool = False
) -> PublishSummary:
    """Publish one account: planned under the source's lock; when there is something to
    publish, planned again under the destination's lease, uploaded, committed."""
    lock = source.lock(account)
    try:
        plan = _plan(source, to, account, replace=replace)
        plan.summary.dry_run = dry_run
        if dry_run or not plan.changed:
            return plan.summary
        lease = to.lock(account)
        try:
            # What the destination holds now that no other writer writes it.
            plan = _plan(source, to, account, replace=replace)
            if plan.changed:
                _upload(source, to, account, plan.uploads)
                now = datetime.now(BEIJING)
                save_manifest(to, account, plan.manifest, now=now)
                plan.summary.generation = plan.manifest.generation
                # What a publish or sync killed before its commit left, past the grace.
                to.remove_orphans(account, named_objects(to, account, plan.manifest), now)
            return plan.summary
        finally:
            lease.release()
    finally:
        lock.release()


def _plan(source: Layout, to: Layout, account: str, *, replace: bool) -> _Plan:
    """What to upload, what the destination holds already, and the manifest to commit."""
    manifest = load_manifest(source, account)
    theirs = load_manifest(to, account)
    if not replace:
        _refuse_dropping(source, to, account, manifest, theirs)
    held = _held(to, account)
    summary = PublishSummary()
    uploads: list[_Upload] = []
    for name, entry in sorted(manifest.endpoints.items()):
        if entry.files and name not in ENDPOINTS:
            raise StoreError(
                f"{source.url} holds {name} of {account}, an endpoint this wxframe does not "
                "know: publish it with the wxframe that wrote it"
            )
        for month, record in sorted(entry.files.items()):
            if record.next is not None:
                raise StoreError(
                    f"{source.url}: a write of {name} {month} of {account} was left staged "
                    f"by a sync killed before 0.3; sync {account} once, then publish"
                )
            spec = ENDPOINTS[name]
            here = source.data_file(spec, account, month, record.name)
            if record.name is None:  # data.parquet of a store written before: content-named
                record = _named_by_content(source, here, record)
                entry.files[month] = record
            there = to.data_file(spec, account, month, record.name)
            size = record.size if record.size is not None else source.storage.size(here)
            found = held.get(to.relative(there))
            if found == size:
                summary.skipped += 1
                continue
            summary.replaced += found is not None
            summary.uploaded += 1
            summary.bytes += size
            uploads.append(_Upload(here, there, size, record.sha256))
    # Every month of the manifest, named by its content: save_manifest writes those whose
    # name is not the one the destination's pointer names.
    shards: dict[str, dict[str, str]] = {}
    for name, entry in manifest.endpoints.items():
        for month in sorted({*entry.days.months(), *entry.files.months()}):
            part = entry.month_json(month)
            if part is None:
                continue
            data = dumps(part)
            shards.setdefault(name, {})[month] = new = shard_name(month, data)
            if new == theirs.shards.get(name, {}).get(month):
                summary.skipped += 1
            else:
                summary.uploaded += 1
                summary.bytes += len(data)
        entry.days.touched |= set(entry.days.months())
        entry.files.touched |= set(entry.files.months())
    # What this manifest names at the destination: its files as renamed, not the names
    # the source's pointer gave them (data.parquet), and none of its retired objects.
    manifest.shards, manifest.retired, manifest.data = shards, {}, {}
    named = {to.relative(p) for p in named_objects(to, account, manifest)}
    before = {to.relative(p) for p in named_objects(to, account, theirs)} - set(theirs.retired)
    changed = bool(uploads) or named != before or manifest.to_json() != theirs.to_json()
    # As the destination's pointer has it, for save_manifest to commit over it.
    manifest.shards = {
        name: {m: s for m, s in theirs.shards.get(name, {}).items() if m in months}
        for name, months in shards.items()
    }
    manifest.retired = dict(theirs.retired)
    now = datetime.now(BEIJING)
    for rel in sorted(before - named):  # kept for readers in flight, for the grace period
        manifest.retire(rel, now)
    manifest.generation, manifest.based_on = theirs.generation, theirs.based_on
    return _Plan(manifest, uploads, summary, changed)


def _refuse_dropping(
    source: Layout, to: Layout, account: str, manifest: Manifest, theirs: Manifest
) -> None:
    """A StoreError when the destination holds days of the account the source does not
    (a sync into it, another publisher): a publish would take them from its readers."""
    dropped = {
        name: missing
        for name, entry in theirs.endpoints.items()
        if (missing := sorted(set(entry.days) - set(manifest.get(name).days)))
    }
    if dropped:
        count = sum(len(days) for days in dropped.values())
        which = "; ".join(f"{n} {d[0]}..{d[-1]}" for n, d in sorted(dropped.items()))
        raise StoreError(
            f"{to.url} holds {count} day(s) of {account} that {source.url} does not ({which}): "
            "a sync into it or another publisher wrote them. Publishing would take them "
            f"from its readers: sync them into {source.url} first, or publish with "
            "replace=True (--replace)"
        )


def _held(to: Layout, account: str) -> dict[str, int]:
    """The account's data files at the destination (relative to its root) and their sizes:
    one listing per endpoint."""
    held: dict[str, int] = {}
    for name in ENDPOINTS:
        for path, info in to.storage.walk(to.root / name / f"account={account}"):
            held[to.relative(path)] = int(info.size or 0)
    return held


def _named_by_content(source: Layout, path: PurePath, record: FileRecord) -> FileRecord:
    """The record of a ``data.parquet`` under the content name it gets at the destination
    (its bytes checked against the SHA-256 recorded, where one was)."""
    data = _read(source, path)
    sha256 = hashlib.sha256(data).hexdigest()
    if record.sha256 is not None and sha256 != record.sha256:
        raise _damaged(source, path)
    return dataclasses.replace(record, name=data_name(sha256), sha256=sha256, size=len(data))


def _upload(source: Layout, to: Layout, account: str, uploads: list[_Upload]) -> None:
    """Copy the data files, each checked against the SHA-256 its manifest recorded: a
    damaged file is never published (nothing is committed; what was uploaded is named
    by the next publish, or removed after the grace period)."""

    def copy(item: _Upload) -> None:
        data = _read(source, item.source)
        if item.sha256 is not None and hashlib.sha256(data).hexdigest() != item.sha256:
            raise _damaged(source, item.source)
        to.storage.write(item.to, data)

    with ThreadPoolExecutor(UPLOADS_AT_ONCE, thread_name_prefix="wxframe-publish") as pool:
        futures = [pool.submit(copy, item) for item in uploads]
        try:
            for future in futures:
                future.result()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def _read(source: Layout, path: PurePath) -> bytes:
    try:
        return source.storage.read_bytes(path)
    except FileNotFoundError:
        raise StoreDamagedError(
            f"{source.relative(path)} is missing, though the manifest lists it: nothing was "
            f"published; {source.repair_hint}"
        ) from None


def _damaged(source: Layout, path: PurePath) -> StoreDamagedError:
    return StoreDamagedError(
        f"{source.relative(path)} is damaged (its SHA-256 is not the one recorded when it "
        f"was written): nothing was published; {source.repair_hint}"
    )


def _size(count: int) -> str:
    """A size as a person reads it: 512 B, 3.4 kB, 1.2 MB."""
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"
