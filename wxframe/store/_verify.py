"""Verify and repair: the files against the manifest, and what to do about damage.

A file the manifest lists must exist, read as parquet, hold the rows the manifest
counts, and have the size and SHA-256 recorded when it was written. Damage is forgotten
(its days dropped from the manifest, its file moved to ``_damaged/``) so that reads work
again and a sync fetches those days; imported history is remembered as ``lost`` until
its archive is imported again. Every sync runs the cheap checks (existence and size).

Nothing is set aside that cannot be shown damaged: a data file whose record in the
manifest is gone or unreadable is kept and listed again when its page checksums, its
SHA-256 (where the manifest still has it), its columns and its days are sound. A repair
fetches only the days it set aside.
"""

from __future__ import annotations

import dataclasses
import hashlib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import PurePath
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wxframe.client import Client
from wxframe.dates import BEIJING, beijing_now, last_complete_day
from wxframe.endpoints import ENDPOINTS, Endpoint, get_endpoint, iter_endpoints
from wxframe.errors import StoreDamagedWarning, StoreError, WxframeError
from wxframe.frames import NULLABLE, conform, endpoint_of
from wxframe.store._files import DAMAGED_DIR, DATA_FILE, MONTH, UNREADABLE, Layout, reason
from wxframe.store._manifest import (
    DamagedShard,
    DayRecord,
    FileRecord,
    LostMonth,
    Manifest,
    is_final,
    load_manifest,
    save_manifest,
)
from wxframe.store._schema import rows_per_day
from wxframe.store._shape import json_problem

if TYPE_CHECKING:
    from wxframe.store import Store
    from wxframe.store._sync import SyncSummary

__all__ = [
    "COLUMNS",
    "Problem",
    "Refetch",
    "RepairSummary",
    "repair",
    "repair_before_sync",
    "verify",
]

#: The columns of :meth:`Store.verify <wxframe.Store.verify>`'s frame.
COLUMNS = ["account", "endpoint", "month", "path", "problem", "days", "next", "repair"]
#: What a repair does with a sound data file whose record in the manifest is lost.
KEEP = "keep"
#: The source of the days a repair listed again from their file.
RELISTED = "relisted"


@dataclass(frozen=True)
class Listing:
    """What a sound month file holds, to list it in the manifest again: its record and
    its days (when written: the file's time; final as a sync then would have judged)."""

    file: FileRecord
    days: Mapping[str, DayRecord]


@dataclass(frozen=True)
class Problem:
    """One damaged month file (or manifest record, or folder) and what brings it back:
    ``next`` is ``fetch`` (a sync), ``import`` (imported history: its archive) or
    ``keep`` (the data file is sound: a repair lists it in the manifest again)."""

    account: str
    endpoint: str
    month: str
    path: str
    problem: str
    day_list: tuple[str, ...]
    next: str
    #: The manifest's month file, when that is what is damaged.
    record: str | None = None
    #: The sound data file's record and days, when ``next`` is ``keep``.
    listing: Listing | None = None

    @classmethod
    def of(
        cls,
        account: str,
        spec: Endpoint,
        month: str,
        path: str,
        problem: str,
        days: Sequence[str],
        next_: str,
    ) -> Problem:
        return cls(account, spec.name, month, path, problem, tuple(sorted(days)), next_)

    @property
    def days(self) -> int:
        return len(self.day_list)

    @property
    def repair(self) -> str:
        """What ``--repair`` does about it (verify says so before it is done)."""
        if self.next == KEEP:
            return "keep, list again"
        if self.problem.startswith("lost"):
            return "import again"  # already forgotten
        if not self.month:
            return "leave"  # an account without a manifest: nothing is moved
        aside = "forget" if self.problem == "missing" else "set aside"
        return f"{aside}, {self.next} again"

    def row(self) -> dict[str, object]:
        """Its row in :meth:`Store.verify <wxframe.Store.verify>`'s frame."""
        return {name: getattr(self, name) for name in COLUMNS}


@dataclass(frozen=True)
class Refetch:
    """Damaged days of one account that a sync fetches again: ``begin..end`` of
    ``endpoints`` (the days a repair set aside; a whole month where the manifest no
    longer said which days it held)."""

    account: str
    begin: date
    end: date
    endpoints: tuple[str, ...]


@dataclass
class RepairSummary:
    """What a repair did: the damage it found and forgot, and what it fetched again.

    ``problems`` is :meth:`Store.verify <wxframe.Store.verify>`'s frame (its ``repair``
    column says what was done with each); ``refetch`` the days each account's repair set
    aside, to fetch again, in order; ``fetched`` those a sync of this repair fetched,
    ``synced`` those syncs (one summary an account); ``stopped`` the error that stopped
    one (the repair stops there). What is in ``refetch`` and neither fetched nor stopped
    (:attr:`left`) needs a client of that account; :attr:`to_import` is imported
    history, which only its archive brings back; :attr:`kept` the sound files listed in
    the manifest again.
    """

    problems: pd.DataFrame
    refetch: list[Refetch] = field(default_factory=list)
    synced: dict[str, SyncSummary] = field(default_factory=dict)
    stopped: dict[str, WxframeError] = field(default_factory=dict)
    fetched: list[Refetch] = field(default_factory=list)

    @property
    def to_import(self) -> pd.DataFrame:
        """The damaged months of imported history: import their archives again."""
        return self.problems[self.problems["next"] == "import"]

    @property
    def kept(self) -> pd.DataFrame:
        """The sound data files whose record was lost: kept, and listed again."""
        return self.problems[self.problems["next"] == KEEP]

    @property
    def left(self) -> list[Refetch]:
        """What no sync of this repair fetched: sync those accounts to finish."""
        return [r for r in self.refetch if r not in self.fetched and r.account not in self.stopped]

    def __str__(self) -> str:
        if self.problems.empty:
            return "no damage"
        forgotten = len(self.problems) - len(self.kept)
        return (
            f"{forgotten} problem(s) forgotten, {len(self.kept)} sound file(s) listed "
            f"again; {len(self.synced)} account(s) fetched again, "
            f"{len(self.left) + len(self.stopped)} left to fetch, "
            f"{len(self.to_import)} month(s) of imported history to import again"
        )


# ------------------------------------------------------------------------ verify
def verify(
    layout: Layout,
    *,
    account: str | None,
    endpoints: str | Iterable[str] | None,
    repair: bool,
) -> pd.DataFrame:
    """:meth:`Store.verify <wxframe.Store.verify>`."""
    return frame(find(layout, account=account, endpoints=endpoints, repair=repair))


def frame(problems: Sequence[Problem]) -> pd.DataFrame:
    """:meth:`Store.verify <wxframe.Store.verify>`'s frame of ``problems``."""
    df = pd.DataFrame([p.row() for p in problems], columns=COLUMNS)
    return df.astype({c: "Int64" if c == "days" else "string" for c in COLUMNS})


def find(
    layout: Layout,
    *,
    account: str | None,
    endpoints: str | Iterable[str] | None,
    repair: bool,
) -> list[Problem]:
    """Every problem of the store (``repair``: each one forgotten, or listed again)."""
    specs = list(iter_endpoints(endpoints, default=ENDPOINTS))
    accounts = [layout.checked_account(account)] if account else layout.manifest_accounts()
    problems: list[Problem] = []
    for acct in accounts:
        lock = layout.lock(acct) if repair else None
        try:
            bad: list[DamagedShard] = []
            manifest = load_manifest(layout, acct, damaged=bad)
            found = _damaged_months(layout, acct, manifest, bad, specs)
            lost = {(p.endpoint, p.month) for p in found}
            found += [
                p
                for p in _check_files(layout, acct, manifest, specs, thorough=True)
                if (p.endpoint, p.month) not in lost  # named once, as the record's
            ]
            if repair and found:
                _forget(layout, acct, manifest, found)
            problems += found
        finally:
            if lock is not None:
                lock.release()
    if account is None:
        for spec in specs:
            for folder in layout.storage.glob(layout.root, f"{spec.name}/account=*"):
                acct = folder.name.removeprefix("account=")
                if acct not in accounts:
                    why = "no manifest: a read never takes these files"
                    shown = layout.show(folder)
                    problems.append(Problem.of(acct, spec, "", shown, why, [], "import"))
    return problems


def repair(
    store: Store,
    layout: Layout,
    client: Client | None,
    *,
    account: str | None,
    progress: bool | None,
) -> RepairSummary:
    """:meth:`Store.repair <wxframe.Store.repair>`: verify and forget what is damaged,
    then sync the days each account's repair set aside with ``client`` (its own
    account): only those, endpoint by endpoint."""
    problems = find(layout, account=account, endpoints=None, repair=True)
    summary = RepairSummary(frame(problems))
    summary.refetch = _refetches([p for p in problems if p.next == "fetch"])
    for todo in summary.refetch:
        if client is None or client.appid != todo.account:
            continue
        last = min(todo.end, last_complete_day(client.now()))
        if last < todo.begin:
            continue  # nothing complete to fetch yet: the next sync asks for it
        try:
            done = store.sync(
                client, todo.begin, last, endpoints=list(todo.endpoints), progress=progress
            )
        except WxframeError as exc:
            summary.stopped[todo.account] = exc
            break  # what is left is for the next repair, or a sync
        before = summary.synced.get(todo.account)
        summary.synced[todo.account] = done if before is None else _added(before, done)
        summary.fetched.append(todo)
    return summary


def _refetches(problems: Sequence[Problem]) -> list[Refetch]:
    """The days set aside, as runs of days per account: the days each problem's month
    held (the whole month where the manifest no longer says which), from each
    endpoint's first day; runs of the same days of several endpoints, one sync."""
    days: dict[tuple[str, str], set[date]] = {}
    for p in problems:
        spec = get_endpoint(p.endpoint)
        if p.day_list:
            held = [date.fromisoformat(d) for d in p.day_list]
        else:
            first = date.fromisoformat(f"{p.month}-01")
            last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
            held = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        days.setdefault((p.account, p.endpoint), set()).update(
            d for d in held if d >= spec.earliest
        )
    runs: dict[tuple[str, date, date], list[str]] = {}
    for (acct, name), held_days in days.items():
        for begin, end in _runs(sorted(held_days)):
            runs.setdefault((acct, begin, end), []).append(name)
    return [
        Refetch(acct, begin, end, tuple(names))
        for (acct, begin, end), names in sorted(runs.items(), key=lambda kv: kv[0])
    ]


def _sum(x: object, y: object) -> object:
    """Two counts added; else the later value (or the one there is)."""
    if isinstance(x, int) and isinstance(y, int):
        return x + y
    return x if y is None else y


def _runs(days: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs."""
    out: list[tuple[date, date]] = []
    for day in days:
        if out and out[-1][1] + timedelta(days=1) == day:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def _added(a: SyncSummary, b: SyncSummary) -> SyncSummary:
    """Two syncs' summaries as one: counts added, per-endpoint counts added."""
    out = replace(a)
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, int | float) and not isinstance(x, bool):
            setattr(out, f.name, x + y)
        elif isinstance(x, dict):
            merged = dict(x)
            for key, value in y.items():
                old = merged.get(key)
                if isinstance(old, dict) and isinstance(value, dict):
                    merged[key] = {k: _sum(old.get(k), value.get(k)) for k in old | value}
                else:
                    merged[key] = value
            setattr(out, f.name, merged)
        elif isinstance(x, list):
            setattr(out, f.name, x + y)
    return out


def repair_before_sync(
    layout: Layout,
    account: str,
    manifest: Manifest,
    specs: Sequence[Endpoint],
    bad: list[DamagedShard],
) -> None:
    """Forget month files that are gone or resized, and months whose record in the
    manifest is damaged, so this sync fetches them again."""
    damaged = _damaged_months(layout, account, manifest, bad, specs)
    damaged += _check_files(layout, account, manifest, specs, thorough=False)
    if not damaged:
        return
    _forget(layout, account, manifest, damaged)
    lines = [
        f"{p.path} ({p.problem}, {p.days} days{'' if p.next == KEEP else ' fetched again'})"
        for p in damaged
    ]
    imported = [p.path for p in damaged if p.next == "import"]
    warnings.warn(
        "damaged store files: "
        + "; ".join(lines)
        + (f". Imported history to import again: {', '.join(imported)}" if imported else ""),
        StoreDamagedWarning,
        stacklevel=3,
    )


def _damaged_months(
    layout: Layout,
    account: str,
    manifest: Manifest,
    bad: list[DamagedShard],
    specs: Sequence[Endpoint],
) -> list[Problem]:
    """Problems for the month files of the manifest that could not be read: their data
    file kept when it is sound, else set aside with them."""
    names = {s.name for s in specs}
    found = []
    for item in bad:
        if item.endpoint not in names:
            continue
        spec = get_endpoint(item.endpoint)
        name = manifest.data.get(item.endpoint, {}).get(item.month)
        path = layout.data_file(spec, account, item.month, name)
        shard = layout.show(item.path)
        why = f"its record in the manifest ({shard}) is damaged: {item.why}"
        if layout.storage.exists(path):
            digests = _recorded_digests(layout, item.path)
            listing = _sound_file(layout, spec, item.month, path, digests)
            if isinstance(listing, Listing):
                why += "; its data file is sound"
                problem = _kept(layout, account, spec, item.month, path, why, listing)
                found.append(replace(problem, record=shard))
                continue
            why += f"; its data file too: {listing}"
        problem = Problem.of(account, spec, item.month, layout.show(path), why, [], "fetch")
        found.append(replace(problem, record=shard))
    return found


def _kept(
    layout: Layout,
    account: str,
    spec: Endpoint,
    month: str,
    path: PurePath,
    why: str,
    listing: Listing,
) -> Problem:
    shown = layout.show(path)
    problem = Problem.of(account, spec, month, shown, why, list(listing.days), KEEP)
    return replace(problem, listing=listing)


def _recorded_digests(layout: Layout, shard: PurePath) -> tuple[str, ...]:
    """The SHA-256 a damaged month file of the manifest still records of its data file
    (a record that parses but lost its days), if any."""
    part, _ = json_problem(layout, shard)
    record = part.get("file") if isinstance(part, dict) else None
    if not isinstance(record, dict):
        return ()
    return FileRecord.from_json(record).digests


def _sound_file(
    layout: Layout, spec: Endpoint, month: str, path: PurePath, digests: Sequence[str]
) -> Listing | str:
    """The listing of a month file nothing shows damaged, or what does: its SHA-256
    (when one is recorded), a page checksum, the endpoint's columns and types, or a day
    outside its month."""
    try:
        if digests and layout.storage.sha256(path) not in digests:
            return "its SHA-256 is not the one recorded when it was written"
        table = layout.read_parquet(path)  # every page against its checksum
    except UNREADABLE as exc:
        return f"not readable as parquet: {reason(exc, path)}"
    names = pd.DataFrame(columns=table.column_names)
    if (fits := endpoint_of(names)) is None or fits.name != spec.name:
        what = "no endpoint's" if fits is None else f"{fits.name}'s"
        return f"its columns are {what}, not {spec.name}'s"
    try:
        conform(spec, table.to_pandas(types_mapper=NULLABLE.get), copy=False)  # as a read does
    except (TypeError, ValueError, pa.ArrowException) as exc:
        return f"its columns are not of {spec.name}'s types: {str(exc)[:120]}"
    days = table.column(spec.partition).cast(pa.date32())
    first = date.fromisoformat(f"{month}-01")
    after = (first + timedelta(days=31)).replace(day=1)
    outside = pc.or_(pc.less(days, first), pc.greater_equal(days, after))
    count = days.null_count + (pc.sum(outside).as_py() or 0)
    if count:
        return f"{count} of its rows are not of days of {month}"
    return _listing(layout, spec, path, table)


def _listing(layout: Layout, spec: Endpoint, path: PurePath, table: pa.Table) -> Listing:
    """A sound file's record and days, as a sync that wrote it at its time would have
    recorded them (days the platform said were not final, ``is_delay``, are not)."""
    written = layout.storage.mtime(path).astimezone(BEIJING)
    stamp = written.isoformat(timespec="seconds")
    delayed: set[str] = set()
    if "is_delay" in table.column_names:
        late = table.filter(pc.fill_null(table.column("is_delay"), False))
        delayed = set(rows_per_day(spec, late))
    days = {
        day: DayRecord(
            at=stamp,
            final=day not in delayed and is_final(spec, date.fromisoformat(day), written),
            rows=rows,
            delayed=True if day in delayed else None,
            source=RELISTED,
        )
        for day, rows in sorted(rows_per_day(spec, table).items())
    }
    data = layout.storage.read_bytes(path)
    sha256 = hashlib.sha256(data).hexdigest()
    name = None if path.name == DATA_FILE else path.name
    record = FileRecord(rows=table.num_rows, size=len(data), sha256=sha256, name=name)
    return Listing(record, days)


def _check_files(
    layout: Layout,
    account: str,
    manifest: Manifest,
    specs: Sequence[Endpoint],
    *,
    thorough: bool,
) -> list[Problem]:
    """The damaged month files of ``account``: missing, resized, or (``thorough``)
    unreadable, of another checksum or another row count than the manifest's."""
    found = []
    for spec in specs:
        entry = manifest.get(spec.name)
        if thorough:  # a data file whose month the manifest does not know
            known = set(entry.stored_months(None, None))
            folder = layout.root / spec.name / f"account={account}"
            for path in layout.storage.glob(folder, f"month=*/{DATA_FILE}"):
                month = path.parent.name.removeprefix("month=")
                if MONTH.match(month) and month not in known:  # not a stray copy
                    why = (
                        "no record of it in the manifest (that month's part is missing): "
                        "a read does not take it"
                    )
                    listing = _sound_file(layout, spec, month, path, ())
                    if isinstance(listing, Listing):
                        why += "; the file is sound"
                        found.append(_kept(layout, account, spec, month, path, why, listing))
                    else:
                        why += f"; {listing}"
                        shown = layout.show(path)
                        found.append(Problem.of(account, spec, month, shown, why, [], "fetch"))
        by_month = entry.month_days()
        for month, info in sorted((entry.lost or {}).items()):
            path = layout.data_file(spec, account, month)  # where it was
            why = (
                f"lost: {info.days} days of imported history were damaged; import "
                f"the archive again (wxframe import --endpoint {spec.name} FILES)"
            )
            found.append(Problem.of(account, spec, month, layout.show(path), why, [], "import"))
        for month in entry.stored_months(None, None):
            days = by_month.get(month, [])
            record = entry.files.get(month)
            path = layout.data_file(spec, account, month, record.name if record else None)
            if entry.staged_only(month) and not layout.storage.exists(path):
                continue  # a crash before its first rename: a sync to resume, not damage
            expected = sum(info.row_count for _, info in days)
            problem = _file_problem(layout, path, record, expected, thorough=thorough)
            if problem:
                imported = any(info.source == "import" for _, info in days)
                next_ = "import" if imported else "fetch"
                days_held = [d for d, _ in days]
                shown = layout.show(path)
                found.append(Problem.of(account, spec, month, shown, problem, days_held, next_))
    return found


def _file_problem(
    layout: Layout, path: PurePath, record: FileRecord | None, rows: int, *, thorough: bool
) -> str | None:
    """What is wrong with one month file, or None."""
    try:
        size = layout.storage.size(path)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    # The file as last recorded, or as staged just before a rename whose manifest update
    # a crash cut off (its days are not listed yet: the next sync fetches them again).
    staged = record.next if record is not None else None
    known = [r for r in (record, staged) if r is not None and r.size is not None]
    if known and size not in [r.size for r in known]:
        return f"{size:,} bytes, written as {known[0].size:,} (truncated or changed)"
    if not thorough:
        return None
    sha256 = layout.storage.sha256(path) if known and known[0].sha256 is not None else None
    if sha256 is not None and sha256 not in [r.sha256 for r in known]:
        return "its checksum is not the one recorded when it was written"
    # A file that is its staged record holds days the manifest does not list yet.
    is_staged = sha256 is not None and staged is not None and sha256 == staged.sha256
    try:
        held = layout.read_parquet(path).num_rows  # its page checksums checked
    except UNREADABLE as exc:
        return f"not readable as parquet: {reason(exc, path)}"
    if held != rows and not is_staged:
        return f"holds {held:,} rows, the manifest {rows:,}"
    return None


def _forget(layout: Layout, account: str, manifest: Manifest, problems: list[Problem]) -> None:
    """Drop damaged months from the manifest (so they are fetched again) and move
    their files to ``_damaged/`` at the root, out of every reader's way; list a sound
    file whose record was lost in the manifest again (its lost record set aside).

    Imported history cannot be fetched again: its months are remembered as ``lost``
    and reported by verify (and warned of by reads) until imported again.
    """
    stamp = beijing_now().strftime("%Y%m%dT%H%M%S")
    for problem in problems:
        if problem.problem.startswith("lost"):
            continue  # already forgotten; waiting for its archive
        if problem.listing is not None:  # sound: its lost record set aside, itself listed
            if problem.record is not None:
                _set_aside(layout, layout.path_of(problem.record), stamp)
            listed = manifest.entry(problem.endpoint)
            for day, info in problem.listing.days.items():
                listed.days.setdefault(day, info)
            listed.files[problem.month] = problem.listing.file
            if listed.lost is not None:
                listed.lost.pop(problem.month, None)
            continue
        entry = manifest.endpoints.get(problem.endpoint)
        if entry is not None:  # else a folder of an endpoint the manifest never had
            for day in problem.day_list:
                entry.days.pop(day, None)
            entry.files.pop(problem.month, None)
            if problem.next == "import":
                if entry.lost is None:
                    entry.lost = {}
                entry.lost[problem.month] = LostMonth(days=problem.days, at=stamp)
        for shown in (problem.path, problem.record or problem.path):
            _set_aside(layout, layout.path_of(shown), stamp)
    save_manifest(layout, account, manifest)


def _set_aside(layout: Layout, path: PurePath, stamp: str) -> None:
    """Move ``path`` to ``_damaged/`` at the root (nothing if it is gone already; on
    object storage a copy and a delete, which is fine here: not the commit path)."""
    if not layout.storage.is_file(path):
        return  # gone already, or the same path twice
    aside = layout.root / DAMAGED_DIR / path.relative_to(layout.root)
    aside = aside.with_name(f"{path.name}.{stamp}")
    try:
        layout.storage.move(path, aside)
    except OSError as exc:
        raise StoreError(f"cannot move {layout.show(path)} aside: {exc}") from None
