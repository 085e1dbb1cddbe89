"""Verify and repair: the files against the manifest, and what to do about damage.

A file the manifest lists must exist, read as parquet, hold the rows the manifest
counts, and have the size and SHA-256 recorded when it was written. Damage is forgotten
(its days dropped from the manifest, its file moved to ``_damaged/``) so that reads work
again and a sync fetches those days; imported history is remembered as ``lost`` until
its archive is imported again. Every sync runs the cheap checks (existence and size).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from wxframe.client import Client
from wxframe.dates import beijing_now, last_complete_day
from wxframe.endpoints import ENDPOINTS, Endpoint, get_endpoint, iter_endpoints
from wxframe.errors import StoreDamagedWarning, StoreError, WxframeError
from wxframe.store._files import (
    DAMAGED_DIR,
    DATA_FILE,
    MONTH,
    UNREADABLE,
    Layout,
    digest,
    read_parquet,
    reason,
)
from wxframe.store._manifest import (
    DamagedShard,
    FileRecord,
    LostMonth,
    Manifest,
    load_manifest,
    save_manifest,
)

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
COLUMNS = ["account", "endpoint", "month", "path", "problem", "days", "next"]


@dataclass(frozen=True)
class Problem:
    """One damaged month file (or manifest record, or folder) and what brings it back:
    ``next`` is ``fetch`` (a sync) or ``import`` (imported history: its archive)."""

    account: str
    endpoint: str
    month: str
    path: str
    problem: str
    day_list: tuple[str, ...]
    next: str
    #: The manifest's month file, when that is what is damaged.
    record: str | None = None

    @classmethod
    def of(
        cls,
        account: str,
        spec: Endpoint,
        month: str,
        path: Path,
        problem: str,
        days: Sequence[str],
        next_: str,
    ) -> Problem:
        return cls(account, spec.name, month, str(path), problem, tuple(sorted(days)), next_)

    @property
    def days(self) -> int:
        return len(self.day_list)

    def row(self) -> dict[str, object]:
        """Its row in :meth:`Store.verify <wxframe.Store.verify>`'s frame."""
        return {name: getattr(self, name) for name in COLUMNS}


@dataclass(frozen=True)
class Refetch:
    """Damaged days of one account that a sync fetches again: ``begin..end`` (whole
    months) of ``endpoints``."""

    account: str
    begin: date
    end: date
    endpoints: tuple[str, ...]


@dataclass
class RepairSummary:
    """What a repair did: the damage it found and forgot, and what it fetched again.

    ``problems`` is :meth:`Store.verify <wxframe.Store.verify>`'s frame; ``refetch``
    the damaged days of each account to fetch again, in order; ``synced`` the syncs
    that fetched them; ``stopped`` the error that stopped one (the repair stops
    there). What is in ``refetch`` and neither of those (:attr:`left`) needs a client
    of that account; :attr:`to_import` is imported history, which only its archive
    brings back.
    """

    problems: pd.DataFrame
    refetch: list[Refetch] = field(default_factory=list)
    synced: dict[str, SyncSummary] = field(default_factory=dict)
    stopped: dict[str, WxframeError] = field(default_factory=dict)

    @property
    def to_import(self) -> pd.DataFrame:
        """The damaged months of imported history: import their archives again."""
        return self.problems[self.problems["next"] == "import"]

    @property
    def left(self) -> list[Refetch]:
        """What no sync of this repair fetched: sync those accounts to finish."""
        return [r for r in self.refetch if r.account not in self.synced | self.stopped]

    def __str__(self) -> str:
        if self.problems.empty:
            return "no damage"
        return (
            f"{len(self.problems)} problem(s) forgotten; {len(self.synced)} account(s) "
            f"fetched again, {len(self.left) + len(self.stopped)} left to fetch, "
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
    specs = list(iter_endpoints(endpoints, default=ENDPOINTS))
    accounts = [layout.checked_account(account)] if account else layout.manifest_accounts()
    problems: list[Problem] = []
    for acct in accounts:
        lock = layout.lock(acct) if repair else None
        try:
            bad: list[DamagedShard] = []
            manifest = load_manifest(layout, acct, damaged=bad)
            found = _damaged_months(layout, acct, bad, specs)
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
            for folder in sorted((layout.root / spec.name).glob("account=*")):
                acct = folder.name.removeprefix("account=")
                if folder.is_dir() and acct not in accounts:
                    why = "no manifest: a read never takes these files"
                    problems.append(Problem.of(acct, spec, "", folder, why, [], "import"))
    df = pd.DataFrame([p.row() for p in problems], columns=COLUMNS)
    return df.astype({c: "Int64" if c == "days" else "string" for c in COLUMNS})


def repair(
    store: Store, client: Client | None, *, account: str | None, progress: bool | None
) -> RepairSummary:
    """:meth:`Store.repair <wxframe.Store.repair>`: verify and forget what is damaged,
    then sync each account's damaged months again with ``client`` (its own account)."""
    problems = store.verify(account=account, repair=True)
    summary = RepairSummary(problems)
    to_fetch = problems[problems["next"] == "fetch"]
    for acct in to_fetch["account"].unique():
        rows = to_fetch[to_fetch["account"] == acct]
        begin = date.fromisoformat(f"{min(rows['month'])}-01")
        end = pd.Period(max(rows["month"]), "M").end_time.date()
        endpoints = tuple(rows["endpoint"].unique())
        summary.refetch.append(Refetch(str(acct), begin, end, endpoints))
    for todo in summary.refetch:
        if client is None or client.appid != todo.account:
            continue
        last = min(todo.end, last_complete_day(client.now()))
        try:
            summary.synced[todo.account] = store.sync(
                client, todo.begin, last, endpoints=list(todo.endpoints), progress=progress
            )
        except WxframeError as exc:
            summary.stopped[todo.account] = exc
            break  # what is left is for the next repair, or a sync
    return summary


def repair_before_sync(
    layout: Layout,
    account: str,
    manifest: Manifest,
    specs: Sequence[Endpoint],
    bad: list[DamagedShard],
) -> None:
    """Forget month files that are gone or resized, and months whose record in the
    manifest is damaged, so this sync fetches them again."""
    damaged = _damaged_months(layout, account, bad, specs)
    damaged += _check_files(layout, account, manifest, specs, thorough=False)
    if not damaged:
        return
    _forget(layout, account, manifest, damaged)
    lines = [f"{p.path} ({p.problem}, {p.days} days)" for p in damaged]
    imported = [p.path for p in damaged if p.next == "import"]
    warnings.warn(
        "damaged store files, their days are fetched again: "
        + "; ".join(lines)
        + (f". Imported history to import again: {', '.join(imported)}" if imported else ""),
        StoreDamagedWarning,
        stacklevel=3,
    )


def _damaged_months(
    layout: Layout, account: str, bad: list[DamagedShard], specs: Sequence[Endpoint]
) -> list[Problem]:
    """Problems for the month files of the manifest that could not be read."""
    names = {s.name for s in specs}
    found = []
    for item in bad:
        if item.endpoint not in names:
            continue
        spec = get_endpoint(item.endpoint)
        path = layout.data_file(spec, account, item.month)
        why = f"its record in the manifest ({item.path}) is damaged: {item.why}"
        problem = Problem.of(account, spec, item.month, path, why, [], "fetch")
        found.append(replace(problem, record=str(item.path)))
    return found


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
            for path in sorted(folder.glob(f"month=*/{DATA_FILE}")):
                month = path.parent.name.removeprefix("month=")
                if MONTH.match(month) and month not in known:  # not a stray copy
                    why = (
                        "no record of it in the manifest (that month's part is missing): "
                        "a read does not take it; --repair moves it aside and the next "
                        "sync fetches the month (imported history: import it again)"
                    )
                    found.append(Problem.of(account, spec, month, path, why, [], "fetch"))
        by_month = entry.month_days()
        for month, info in sorted((entry.lost or {}).items()):
            path = layout.data_file(spec, account, month)
            why = (
                f"lost: {info.days} days of imported history were damaged; import "
                f"the archive again (wxframe import --endpoint {spec.name} FILES)"
            )
            found.append(Problem.of(account, spec, month, path, why, [], "import"))
        for month in entry.stored_months(None, None):
            days = by_month.get(month, [])
            path = layout.data_file(spec, account, month)
            if entry.staged_only(month) and not path.exists():
                continue  # a crash before its first rename: a sync to resume, not damage
            expected = sum(info.row_count for _, info in days)
            problem = _file_problem(path, entry.files.get(month), expected, thorough=thorough)
            if problem:
                imported = any(info.source == "import" for _, info in days)
                next_ = "import" if imported else "fetch"
                days_held = [d for d, _ in days]
                found.append(Problem.of(account, spec, month, path, problem, days_held, next_))
    return found


def _file_problem(
    path: Path, record: FileRecord | None, rows: int, *, thorough: bool
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
    staged = record.next if record is not None else None
    known = [r for r in (record, staged) if r is not None and r.size is not None]
    if known and size not in [r.size for r in known]:
        return f"{size:,} bytes, written as {known[0].size:,} (truncated or changed)"
    if not thorough:
        return None
    sha256 = digest(path) if known and known[0].sha256 is not None else None
    if sha256 is not None and sha256 not in [r.sha256 for r in known]:
        return "its checksum is not the one recorded when it was written"
    # A file that is its staged record holds days the manifest does not list yet.
    is_staged = sha256 is not None and staged is not None and sha256 == staged.sha256
    try:
        held = read_parquet(path).num_rows  # its page checksums checked
    except UNREADABLE as exc:
        return f"not readable as parquet: {reason(exc, path)}"
    if held != rows and not is_staged:
        return f"holds {held:,} rows, the manifest {rows:,}"
    return None


def _forget(layout: Layout, account: str, manifest: Manifest, problems: list[Problem]) -> None:
    """Drop damaged months from the manifest (so they are fetched again) and move
    their files to ``_damaged/`` at the root, out of every reader's way.

    Imported history cannot be fetched again: its months are remembered as ``lost``
    and reported by verify (and warned of by reads) until imported again.
    """
    stamp = beijing_now().strftime("%Y%m%dT%H%M%S")
    for problem in problems:
        if problem.problem.startswith("lost"):
            continue  # already forgotten; waiting for its archive
        entry = manifest.endpoints.get(problem.endpoint)
        if entry is not None:  # else a folder of an endpoint the manifest never had
            for day in problem.day_list:
                entry.days.pop(day, None)
            entry.files.pop(problem.month, None)
            if problem.next == "import":
                if entry.lost is None:
                    entry.lost = {}
                entry.lost[problem.month] = LostMonth(days=problem.days, at=stamp)
        for path in (Path(problem.path), Path(problem.record or problem.path)):
            if not path.exists():
                continue  # gone already, or the same path twice
            aside = layout.root / DAMAGED_DIR / path.relative_to(layout.root)
            aside = aside.with_name(f"{path.name}.{stamp}")
            try:
                aside.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, aside)
            except OSError as exc:
                raise StoreError(f"cannot move {path} aside: {exc.strerror or exc}") from None
    save_manifest(layout, account, manifest)
