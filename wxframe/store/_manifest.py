"""The manifest: what a store holds of one account, typed, and the rules of finality.

On disk (JSON, compact, keys sorted)::

    _manifest/<appid>.json                        {"account", "endpoints": {name: Endpoint}}
    _manifest/<appid>/<endpoint>/YYYY-MM.json     {"days": {day: Day}, "file": File}

An endpoint's record in the account's file holds the count of windows written, the
platform's ``offline`` mark (47009) and the months of imported history that were ``lost``;
its days and its month files' records are kept one file per month, so that a save writes
only the months a sync changed. Each type reads its JSON with ``from_json`` and gives it
back with ``to_json``, unchanged: a key it does not know, or a value of another type than
the store writes, is kept as it was (``extra``) and read as absent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import ItemsView, Iterator, KeysView, Mapping, MutableMapping, ValuesView
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import PurePath
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar, overload

from wxframe.dates import BEIJING, COMPLETE_HOUR, Window
from wxframe.endpoints import ENDPOINTS, Endpoint
from wxframe.errors import EndpointOfflineError, StoreError
from wxframe.store._files import DATA_FILE, MONTH, Layout, shard_name
from wxframe.store._lease import commit_pointer, writer_id
from wxframe.store._shape import (
    json_problem,
    manifest_problem,
    month_problem,
    read_pointer,
)

__all__ = [
    "ByMonth",
    "DamagedShard",
    "DayRecord",
    "EndpointRecord",
    "FileRecord",
    "LostMonth",
    "Manifest",
    "OfflineMark",
    "Only",
    "complete_from",
    "dumps",
    "is_final",
    "json_problem",
    "load_manifest",
    "manifest_problem",
    "month_problem",
    "months_between",
    "named_objects",
    "save_manifest",
]

V = TypeVar("V")
T = TypeVar("T")
#: A month range of one endpoint for a read: (endpoint, first month, last month), where
#: "" and "~" leave the range open.
Only = tuple[str, str, str]
#: The JSON type each known key of a record holds.
Kinds = Mapping[str, type | tuple[type, ...]]


def _split(doc: Mapping[str, Any], kinds: Kinds) -> tuple[dict[str, Any], dict[str, Any]]:
    """``doc``'s values of the expected types, and everything else (kept as it is)."""
    typed: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in doc.items():
        kind = kinds.get(key)
        # bool is an int to isinstance: a count that is true or false is not a count
        wrong = kind is int and isinstance(value, bool)
        if kind is not None and isinstance(value, kind) and not wrong:
            typed[key] = value
        else:
            extra[key] = value
    return typed, extra


def _present(extra: Mapping[str, Any], **typed: Any) -> dict[str, Any]:
    """The JSON of a record: what it did not know, and its typed values that are set."""
    return {**extra, **{k: v for k, v in typed.items() if v is not None}}


#: The extra keys of a record that has none (shared: a record's extra is never changed).
_NONE: Mapping[str, Any] = MappingProxyType({})


# ------------------------------------------------------------------------ records
@dataclass(slots=True)
class DayRecord:
    """One day of an endpoint: when it was fetched, whether it can still change, its rows.

    ``delayed``: the platform said its numbers were not final (``is_delay``);
    ``source``: ``"import"`` for imported history (final, never fetched).

    A value: replace it (:func:`dataclasses.replace`), do not change it in place, or a
    save does not know its month changed. Not frozen, only because a store's fifth year
    holds some 20,000 of them and a frozen dataclass took twice as long to make.
    """

    at: str
    final: bool | None = None
    rows: int | None = None
    delayed: bool | None = None
    source: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    _KINDS: ClassVar[Kinds] = {
        "at": str,
        "final": bool,
        "rows": int,
        "delayed": bool,
        "source": str,
    }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> DayRecord:
        if len(doc) == 3:  # as a sync records a day: at, final, rows (most of a load)
            at, final, rows = doc.get("at"), doc.get("final"), doc.get("rows")
            if type(at) is str and type(final) is bool and type(rows) is int:
                return cls(at, final, rows, None, None, _NONE)
        typed, extra = _split(doc, cls._KINDS)
        return cls(**typed, extra=extra)

    def to_json(self) -> dict[str, Any]:
        return _present(self.extra, at=self.at, final=self.final, rows=self.rows,
                        delayed=self.delayed, source=self.source)  # fmt: skip

    @property
    def fetched_at(self) -> datetime:
        return datetime.fromisoformat(self.at)

    @property
    def is_final(self) -> bool:
        return bool(self.final)

    @property
    def row_count(self) -> int:
        return self.rows or 0


@dataclass(frozen=True)
class FileRecord:
    """What the manifest knows of a month file: its rows, size and SHA-256 when written.

    ``next`` is the record of a rewrite staged before its rename (a process killed
    between the rename and the manifest's update leaves a file that matches it).
    """

    rows: int | None = None
    size: int | None = None
    sha256: str | None = None
    next: FileRecord | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: The data file's name (named by its content); None: ``data.parquet``, the one
    #: file of a month in stores written before.
    name: str | None = None

    _KINDS: ClassVar[Kinds] = {
        "rows": int,
        "bytes": int,
        "sha256": str,
        "next": dict,
        "name": str,
    }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> FileRecord:
        typed, extra = _split(doc, cls._KINDS)
        staged = typed.get("next")
        return cls(
            rows=typed.get("rows"),
            size=typed.get("bytes"),
            sha256=typed.get("sha256"),
            next=None if staged is None else cls.from_json(staged),
            extra=extra,
            name=typed.get("name"),
        )

    def to_json(self) -> dict[str, Any]:
        staged = None if self.next is None else self.next.to_json()
        return _present(self.extra, rows=self.rows, bytes=self.size, sha256=self.sha256,
                        next=staged, name=self.name)  # fmt: skip

    def settled(self) -> FileRecord:
        """This record without its staged rewrite (which never reached the disk)."""
        return replace(self, next=None)

    @property
    def digests(self) -> tuple[str, ...]:
        """The SHA-256 the file may have: as recorded, or as staged before a rename."""
        return tuple(r.sha256 for r in (self, self.next) if r is not None and r.sha256)


@dataclass(frozen=True)
class OfflineMark:
    """The platform switched an endpoint off for this account (47009): when, and what
    it said to use instead. A sync never asks it again."""

    at: str | None = None
    errmsg: str | None = None
    successors: tuple[str, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    _KINDS: ClassVar[Kinds] = {"at": str, "errmsg": str, "successors": list}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> OfflineMark:
        typed, extra = _split(doc, cls._KINDS)
        names = typed.get("successors")
        if names is not None and not all(isinstance(n, str) for n in names):
            extra["successors"], names = names, None
        return cls(at=typed.get("at"), errmsg=typed.get("errmsg"),
                   successors=None if names is None else tuple(names), extra=extra)  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        names = None if self.successors is None else list(self.successors)
        return _present(self.extra, at=self.at, errmsg=self.errmsg, successors=names)

    def reason(self) -> str | None:
        """Why a sync skips the endpoint (None for an empty mark, which does not count)."""
        return f"errcode 47009 since {(self.at or '')[:10]}" if self.to_json() else None


@dataclass(frozen=True)
class LostMonth:
    """A month of imported history whose file was damaged: only an import brings it back."""

    days: int | None = None
    at: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    _KINDS: ClassVar[Kinds] = {"days": int, "at": str}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> LostMonth:
        typed, extra = _split(doc, cls._KINDS)
        return cls(**typed, extra=extra)

    def to_json(self) -> dict[str, Any]:
        return _present(self.extra, days=self.days, at=self.at)


class ByMonth(MutableMapping[str, V]):
    """A manifest map keyed by day or by month (``days``, ``files``) that notes the
    months it changes (``touched``), so that a save writes only those months' files."""

    def __init__(self, items: Mapping[str, V] | None = None) -> None:
        self._items: dict[str, V] = {}
        self._by_month: dict[str, set[str]] = {}
        self.touched: set[str] = set()
        for key, value in (items or {}).items():
            self[key] = value

    def _note(self, key: str, present: bool) -> None:
        month = key[:7]
        self.touched.add(month)
        keys = self._by_month.setdefault(month, set())
        if present:
            keys.add(key)
        else:
            keys.discard(key)

    def __getitem__(self, key: str) -> V:
        return self._items[key]

    def __setitem__(self, key: str, value: V) -> None:
        self._note(key, True)
        self._items[key] = value

    def __delitem__(self, key: str) -> None:
        self._note(key, False)
        del self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    # Read as a dict reads: the mixins' versions go through __getitem__ in Python, and
    # a coverage of a five-year store reads every day.
    def __contains__(self, key: object) -> bool:
        return key in self._items

    @overload
    def get(self, key: str, /) -> V | None: ...
    @overload
    def get(self, key: str, /, default: V | T) -> V | T: ...
    def get(self, key: str, /, default: Any = None) -> Any:
        return self._items.get(key, default)

    def keys(self) -> KeysView[str]:
        return self._items.keys()

    def items(self) -> ItemsView[str, V]:
        return self._items.items()

    def values(self) -> ValuesView[V]:
        return self._items.values()

    def __repr__(self) -> str:
        return f"ByMonth({self._items!r})"

    def pop(self, key: str, *default: Any) -> Any:
        """Remove ``key``: its month is touched, whether the key was there or not."""
        self._note(key, False)
        return self._items.pop(key, *default)

    def clear(self) -> None:
        self.touched |= set(self._by_month)
        self._by_month.clear()
        self._items.clear()

    def popitem(self) -> tuple[str, V]:
        raise TypeError("a manifest map is changed by key")

    def month(self, month: str) -> dict[str, V]:
        """The entries of one month, by key."""
        return {k: self._items[k] for k in sorted(self._by_month.get(month, ()))}

    def months(self) -> list[str]:
        """The months that have (or had) entries."""
        return sorted(self._by_month)

    def replace_month(self, month: str, items: Mapping[str, V]) -> None:
        """One month's entries as read from its file (not a change to save)."""
        for key in self._by_month.get(month, ()):
            del self._items[key]
        self._items.update(items)
        self._by_month[month] = set(items)


@dataclass
class EndpointRecord:
    """What the manifest says of one endpoint of one account."""

    days: ByMonth[DayRecord] = field(default_factory=ByMonth)
    files: ByMonth[FileRecord] = field(default_factory=ByMonth)
    #: Windows written (manifests before 0.1 kept a list of them); None: not recorded.
    windows: int | list[Any] | None = None
    offline: OfflineMark | None = None
    lost: dict[str, LostMonth] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _KINDS: ClassVar[Kinds] = {
        "windows": (int, list),
        "offline": dict,
        "lost": dict,
        "days": dict,
        "files": dict,
    }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> EndpointRecord:
        """An endpoint's record in the account's file. Manifests before 0.2 held its
        days and files there too: kept, and written by month at the next save."""
        typed, extra = _split(doc, cls._KINDS)
        if isinstance(typed.get("windows"), bool):
            extra["windows"] = typed.pop("windows")
        days = ByMonth({d: DayRecord.from_json(i) for d, i in typed.get("days", {}).items()})
        files = ByMonth({m: FileRecord.from_json(r) for m, r in typed.get("files", {}).items()})
        if "days" not in typed:
            days.touched.clear()  # as on disk
            files.touched.clear()
        lost = typed.get("lost")
        if lost is not None and not all(isinstance(i, dict) for i in lost.values()):
            extra["lost"], lost = typed.pop("lost"), None  # not ours: kept as it is
        return cls(
            days=days,
            files=files,
            windows=typed.get("windows"),
            offline=OfflineMark.from_json(typed["offline"]) if "offline" in typed else None,
            lost=None if lost is None else {m: LostMonth.from_json(i) for m, i in lost.items()},
            extra=extra,
        )

    def to_json(self) -> dict[str, Any]:
        """The record in the account's file: everything but the days and files."""
        return _present(
            self.extra,
            windows=self.windows,
            offline=None if self.offline is None else self.offline.to_json(),
            lost=None if self.lost is None else {m: i.to_json() for m, i in self.lost.items()},
        )

    def month_json(self, month: str) -> dict[str, Any] | None:
        """The file of one month: its days and its data file's record (None: no file)."""
        part: dict[str, Any] = {"days": {d: i.to_json() for d, i in self.days.month(month).items()}}
        if month in self.files:
            part["file"] = self.files[month].to_json()
        return part if part["days"] or "file" in part else None

    def read_month(self, month: str, part: Mapping[str, Any]) -> None:
        """One month file's days and record, as read (``part`` is checked: see
        :func:`month_problem`)."""
        self.days.replace_month(month, {d: DayRecord.from_json(i) for d, i in part["days"].items()})
        record = {month: FileRecord.from_json(part["file"])} if "file" in part else {}
        self.files.replace_month(month, record)

    # ---------------------------------------------------------------- reading
    @property
    def window_count(self) -> int:
        windows = self.windows or 0
        return len(windows) if isinstance(windows, list) else int(windows)

    def offline_reason(self) -> str | None:
        """Why the manifest says the platform switched this endpoint off, if it does."""
        return None if self.offline is None else self.offline.reason()

    def held_days(self) -> list[date]:
        return sorted(date.fromisoformat(d) for d in self.days)

    def month_days(self) -> dict[str, list[tuple[str, DayRecord]]]:
        """The days, by month."""
        months: dict[str, list[tuple[str, DayRecord]]] = {}
        for day, info in self.days.items():
            months.setdefault(day[:7], []).append((day, info))
        return months

    def staged_only(self, month: str) -> bool:
        """Whether a month's file is only staged: its first write was recorded as
        ``next`` and a crash came before the manifest's update (the file may or may not
        be renamed)."""
        record = self.files.get(month) or FileRecord()
        return (
            record.next is not None
            and record.size is None
            and not any(info.row_count for day, info in self.days.items() if day[:7] == month)
        )

    def stored_months(self, begin: date | None, end: date | None) -> list[str]:
        """The months of the endpoint's files: those recorded, and (for manifests written
        before files were recorded) those with rows on a held day; within ``begin..end``."""
        months = set(self.files)
        months |= {
            month
            for month, days in self.month_days().items()
            if any(info.row_count for _, info in days)
        }
        low = begin.strftime("%Y-%m") if begin else ""
        high = end.strftime("%Y-%m") if end else "9999-99"
        return sorted(m for m in months if low <= m <= high)

    # ---------------------------------------------------------------- changes
    def record(
        self,
        spec: Endpoint,
        window: Window,
        fetched_at: datetime,
        per_day: Mapping[str, int],
        *,
        delayed: bool = False,
        source: str | None = None,
    ) -> int:
        """Record ``window`` as fetched (its days' rows from ``per_day``); its rows in all."""
        stamp = fetched_at.astimezone(BEIJING).isoformat(timespec="seconds")
        # What planning needs is per day; of the calls, a count (a log of every window
        # ever fetched grew by a dozen entries a day and made each save slower).
        self.windows = self.window_count + 1
        rows = 0
        for n in range(window.days):
            day = window.begin + timedelta(days=n)
            info = DayRecord(
                at=stamp,
                final=source is not None or (not delayed and is_final(spec, day, fetched_at)),
                rows=int(per_day.get(day.isoformat(), 0)),
                delayed=True if delayed else None,
                source=source,
            )
            self.days[day.isoformat()] = info
            rows += info.row_count
        return rows

    def mark_offline(self, spec: Endpoint, exc: EndpointOfflineError, at: datetime) -> str:
        """Remember that the platform switched this endpoint off; why a sync skips it."""
        stamp = at.astimezone(BEIJING).isoformat(timespec="seconds")
        self.offline = OfflineMark(at=stamp, errmsg=exc.errmsg[:200],
                                   successors=tuple(spec.successors))  # fmt: skip
        return f"errcode 47009 since {stamp[:10]}"

    def stage(self, month: str, record: FileRecord) -> None:
        """Note a month file's rewrite as ``next``, before its rename."""
        self.files[month] = replace(self.files.get(month) or FileRecord(), next=record)


@dataclass
class Manifest:
    """Everything the store knows of one account's data: per endpoint, its days (when
    fetched, final or not, rows), its month files (rows, size, SHA-256), and whether the
    platform switched it off.

    ``partial``: read for a read (some months of one endpoint), never saved.
    """

    account: str | None = None
    endpoints: dict[str, EndpointRecord] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    partial: bool = field(default=False, compare=False)
    #: What the pointer says beyond the model: how many commits it has seen, the name
    #: of each month of the manifest (``[endpoint][month]``), the objects no longer
    #: named and since when (removed after the grace period), and the SHA-256 of the
    #: pointer as read (a commit replaces only that one).
    generation: int = field(default=0, compare=False)
    shards: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)
    #: The data file of each month as the pointer names it (a damaged month of the
    #: manifest no longer says which file is its).
    data: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)
    retired: dict[str, str] = field(default_factory=dict, compare=False)
    based_on: str | None = field(default=None, compare=False)

    @classmethod
    def from_json(
        cls,
        doc: Mapping[str, Any],
        months: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
    ) -> Manifest:
        """The manifest of the account's file ``doc`` (checked: see
        :func:`manifest_problem`) and its month files, ``months[endpoint][month]``."""
        typed, extra = _split(doc, {"account": str, "endpoints": dict})
        entries = {k: EndpointRecord.from_json(v) for k, v in typed["endpoints"].items()}
        for name, parts in (months or {}).items():
            for month, part in parts.items():
                entries.setdefault(name, EndpointRecord()).read_month(month, part)
        return cls(account=typed.get("account"), endpoints=entries, extra=extra)

    def to_json(self) -> dict[str, Any]:
        """The account's own file."""
        endpoints = {name: entry.to_json() for name, entry in self.endpoints.items()}
        return _present(self.extra, account=self.account, endpoints=endpoints)

    def months_json(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every month file, ``[endpoint][month]``."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for name, entry in self.endpoints.items():
            for month in sorted({*entry.days.months(), *entry.files.months()}):
                part = entry.month_json(month)
                if part is not None:
                    out.setdefault(name, {})[month] = part
        return out

    def retire(self, path: str, at: datetime) -> None:
        """Note an object the manifest no longer names (relative to the root): it is
        removed once the grace period has passed since ``at``."""
        self.retired.setdefault(path, at.astimezone(BEIJING).isoformat(timespec="seconds"))

    def get(self, name: str) -> EndpointRecord:
        """The endpoint's record, or an empty one (not added to the manifest)."""
        return self.endpoints.get(name) or EndpointRecord()

    def entry(self, name: str) -> EndpointRecord:
        """The endpoint's record, added (with no windows yet) if it has none."""
        return self.endpoints.setdefault(name, EndpointRecord(windows=0))

    def held_days(self) -> dict[str, list[date]]:
        return {name: entry.held_days() for name, entry in self.endpoints.items()}


@dataclass(frozen=True)
class DamagedShard:
    """A month file of the manifest that could not be read, and why."""

    endpoint: str
    month: str
    path: PurePath
    why: str


# ------------------------------------------------------------------------ finality
def complete_from(day: date) -> datetime:
    """08:00 Beijing time of the day after ``day``: from then on its numbers are all in."""
    start = datetime.combine(day + timedelta(days=1), datetime.min.time())
    return start.replace(hour=COMPLETE_HOUR, tzinfo=BEIJING)


def is_final(spec: Endpoint, day: date, fetched_at: datetime) -> bool:
    """Whether ``day``'s numbers fetched at ``fetched_at`` can no longer change.

    The registry says how long an endpoint's numbers settle: 1 day (final after 08:00
    the next day), 7 for getarticletotal's sending days, 30 for getarticletotaldetail's
    publish days.
    """
    return fetched_at >= complete_from(day + timedelta(days=spec.settles_after - 1))


# ------------------------------------------------------------------------ disk
#: The pointer's own keys (beside the model's ``account`` and ``endpoints``).
_POINTER: Kinds = {"generation": int, "shards": dict, "data": dict, "retired": dict,
                   "writer": dict}  # fmt: skip


def load_manifest(
    layout: Layout,
    account: str,
    only: Only | None = None,
    *,
    damaged: list[DamagedShard] | None = None,
) -> Manifest:
    """The manifest of ``account``: its pointer, read once, and the months it names.

    With ``only`` (endpoint, first month, last month), just that endpoint's months in
    that range (what a read needs): such a manifest is never saved. A damaged month
    file raises :class:`StoreError`, or with a ``damaged`` list is put there and left
    out, for verify and sync to set aside. A store written before the pointer named its
    months (``YYYY-MM.json``) is read by listing them, as it was.
    """
    storage = layout.storage
    path = layout.manifest_path(account)
    where = layout.show(path)
    problem: str | None
    try:
        raw, top, problem = read_pointer(storage, path)
    except FileNotFoundError:
        return Manifest(account=account)
    if problem is None and (problem := manifest_problem(top)):
        problem = f"is not a wxframe manifest: {problem}"
    if problem is not None:
        # What is true of a lost account file: the month files keep the days and files,
        # but nothing reads them without it, and repair cannot rebuild it.
        raise StoreError(
            f"the manifest {where} {problem}; `wxframe verify --repair` cannot rebuild it. "
            "Put back a copy from a backup, or move it away and sync again: the sync "
            "fetches again what the platform still serves, and history it no longer "
            "serves (imported archives) must be imported again"
        )
    pointer, top = _split(top, _POINTER)
    top = {**top, **{k: v for k, v in pointer.items() if k not in _POINTER}}
    if only is not None:
        top = {**top, "endpoints": {k: v for k, v in top["endpoints"].items() if k == only[0]}}
    manifest = Manifest.from_json(top)
    manifest.partial = only is not None
    manifest.generation = pointer.get("generation", 0)
    manifest.retired = {k: v for k, v in pointer.get("retired", {}).items() if isinstance(v, str)}
    manifest.based_on = hashlib.sha256(raw or b"").hexdigest()
    data = pointer.get("data", {})
    manifest.data = {n: {m: v for m, v in d.items() if isinstance(v, str)}
                     for n, d in data.items() if isinstance(d, dict)}  # fmt: skip
    named = pointer.get("shards")
    for name, entry in manifest.endpoints.items():
        if named is not None:
            months = {
                m: n
                for m, n in (named.get(name) or {}).items()
                if isinstance(n, str) and _in(m, only)
            }
            shards = [
                (m, layout.month_path(account, name, m, n)) for m, n in sorted(months.items())
            ]
        else:
            shards = _month_files(layout, layout.month_folder(account, name), only)
        manifest.shards[name] = {m: p.name for m, p in shards}
        for month, shard in shards:
            part, why = json_problem(layout, shard)
            if why is None and (problem := month_problem(name, part)):
                why = f"is not a wxframe manifest: {problem}"
            if why is not None:
                _not_a_folder(layout, shard.parent)
                if damaged is None:
                    raise StoreError(
                        f"the manifest {layout.show(shard)} {why}. `wxframe verify --store "
                        f"{layout.url} --repair` sets it aside and the next sync fetches "
                        "that month again"
                    )
                damaged.append(DamagedShard(name, month, shard, why))
                continue
            entry.read_month(month, part)
    return manifest


def _not_a_folder(layout: Layout, folder: PurePath) -> None:
    """A file where the manifest keeps an endpoint's months: a clear error (checked
    only when a month cannot be read, which is what such a file causes)."""
    for place in (folder.parent, folder):
        if layout.storage.is_file(place):
            raise StoreError(
                f"{layout.show(place)} is a file, where the manifest keeps its months: move "
                "it away; `wxframe verify` then names what the store holds"
            )


def _in(month: str, only: Only | None) -> bool:
    return only is None or (only[1] or "") <= month <= (only[2] or "~")


def save_manifest(
    layout: Layout, account: str, manifest: Manifest, *, now: datetime | None = None
) -> None:
    """Commit the manifest: write the months that changed since it was read or last
    saved, each a new object named by its content, then the pointer that names every
    month and data file, last, in one write: a reader sees the account before or after
    this commit, never half of it. A save costs the same in a store's fifth year as in
    its first. Objects superseded at least the grace period ago, and named no more,
    are removed after the commit (readers in flight may still read them before)."""
    if manifest.partial:
        raise AssertionError("a partial manifest (read for a read) cannot be saved")
    now = now or datetime.now(BEIJING)
    storage = layout.storage
    for name, entry in manifest.endpoints.items():
        shards = manifest.shards.setdefault(name, {})
        for month in sorted(entry.days.touched | entry.files.touched):
            old = shards.pop(month, None)
            part = entry.month_json(month)
            if part is not None:
                data = dumps(part)
                shards[month] = shard_name(month, data)
                if shards[month] != old:
                    storage.write(layout.month_path(account, name, month, shards[month]), data)
            if old is not None and old != shards.get(month):
                manifest.retire(layout.relative(layout.month_path(account, name, month, old)), now)
        entry.days.touched.clear()
        entry.files.touched.clear()
    named = _named(layout, account, manifest)
    expired = []
    for rel, at in list(manifest.retired.items()):
        if rel in named:
            del manifest.retired[rel]  # named again (the same content as before)
        elif (now - datetime.fromisoformat(at)).total_seconds() >= layout.grace:
            expired.append(rel)
            del manifest.retired[rel]
    manifest.generation += 1
    pointer = {
        **manifest.to_json(),
        "shards": {n: dict(sorted(s.items())) for n, s in manifest.shards.items() if s},
        "data": {
            n: {m: r.name or DATA_FILE for m, r in sorted(e.files.items())}
            for n, e in manifest.endpoints.items()
            if e.files
        },
        "retired": dict(sorted(manifest.retired.items())),
    }
    if not storage.local:  # what to tell a writer that lost (locally: the file lock)
        pointer.update(generation=manifest.generation, writer=writer_id())
    try:
        manifest.based_on = commit_pointer(
            storage, layout.manifest_path(account), dumps(pointer), manifest.based_on, account
        )
    except BaseException:
        manifest.generation -= 1
        raise
    for rel in expired:
        storage.delete(layout.root / rel)


def _named(layout: Layout, account: str, manifest: Manifest) -> set[str]:
    """Every object the manifest names, relative to the root."""
    named = set()
    for name, entry in manifest.endpoints.items():
        for month, shard in manifest.shards.get(name, {}).items():
            named.add(layout.relative(layout.month_path(account, name, month, shard)))
        if name in ENDPOINTS:
            spec = ENDPOINTS[name]
            for month, record in entry.files.items():
                path = layout.data_file(spec, account, month, record.name)
                named.add(layout.relative(path))
    return named


def named_objects(layout: Layout, account: str, manifest: Manifest) -> set[PurePath]:
    """What the manifest names or keeps for readers (even the data file of a damaged
    month, as the pointer names it): the account's other content-named objects are orphans."""
    names = _named(layout, account, manifest) | set(manifest.retired)
    kept = {layout.root / rel for rel in names}
    for name, months in manifest.data.items():
        if name in ENDPOINTS:
            kept |= {layout.data_file(ENDPOINTS[name], account, m, f) for m, f in months.items()}
    return kept


def dumps(value: Any) -> bytes:
    """A manifest file's bytes."""
    # Compact: the pure-Python indenting encoder cost 5x the C one at three years.
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _month_files(layout: Layout, folder: PurePath, only: Only | None) -> list[tuple[str, PurePath]]:
    """The month files of an endpoint's manifest in a store written before the pointer
    named them (``YYYY-MM.json``): those of ``only``'s months, or every one there is."""
    storage = layout.storage
    _not_a_folder(layout, folder)
    if only is not None and only[1] and only[2] != "~":
        paths = [folder / f"{month}.json" for month in months_between(only[1], only[2])]
        return [(p.stem, p) for p in paths if storage.exists(p)]
    found = [(p.stem, p) for p in storage.glob(folder, "*.json") if MONTH.match(p.stem)]
    return [(m, p) for m, p in found if only is None or only[1] <= m <= only[2]]


def months_between(first: str, last: str) -> list[str]:
    """The months ``first..last`` (``YYYY-MM``), both included."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
