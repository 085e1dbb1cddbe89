"""Archives into the store: saved raw responses (history a sync can no longer fetch).

Every file is judged before anything is written: one that cannot be what it claims (not
JSON, an error answer, another endpoint's records) stops the import; one whose answers
are another account's, or of days the endpoint cannot have, is refused whole and named
in the summary, and the other files are imported.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from wxframe.dates import Window, beijing_now, last_complete_day
from wxframe.endpoints import Endpoint, get_endpoint
from wxframe.errors import ConfigurationError, StoreError, WxframeError, argument
from wxframe.frames import (
    RECORDS_NAMED,
    error_of_answer,
    foreign_endpoint,
    from_pages,
    names_in,
    nesting_depth,
)
from wxframe.store._files import Layout
from wxframe.store._manifest import DayRecord, load_manifest, save_manifest
from wxframe.store._schema import rows_per_day, stored_from_frame
from wxframe.store._sync import settle_staged, write_windows

__all__ = ["ImportSummary", "import_json"]

#: One saved response: its records and the response's own fields.
_Page = tuple[list[Any], dict[str, Any]]


@dataclass(frozen=True)
class _Answer:
    """One saved response as read: its page, whether it said ``"is_delay": true``, and
    the account it names itself (a script's ``appid`` or ``account`` beside ``list``)."""

    page: _Page
    delayed: bool = False
    account: dict[str, str] = field(default_factory=dict)


#: Where an archive names the account its answers are of: a field of a saved response
#: or of its records (a script's own wrapper), or an appid in the file's path.
_ACCOUNT_FIELDS = ("appid", "account")
#: An appid in a path: ``wx`` and 16 letters or digits, not inside a longer word.
_APPID_IN_PATH = re.compile(r"(?<![A-Za-z0-9])wx[A-Za-z0-9]{16}(?![A-Za-z0-9])")


@dataclass
class ImportSummary:
    """What an import did. ``files_without_records``: files of a folder that held no
    record (a quiet day's ``{"list": []}``), left out. ``days_not_final``: days written
    from answers that said ``"is_delay": true`` (a sync fetches them again).
    ``refused``: the files refused whole, by path, with the reason (their answers are
    another account's, or of days before the endpoint's first day or after the last
    complete day); nothing of them was written, and ``records_refused`` counts their
    records."""

    files: int = 0
    rows: int = 0
    days_written: int = 0
    days_skipped: int = 0
    files_without_records: int = 0
    days_not_final: int = 0
    records_refused: int = 0
    refused: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        text = (
            f"{self.files} file(s), {self.rows} rows, {self.days_written} day(s) written, "
            f"{self.days_skipped} day(s) already held"
        )
        if self.days_not_final:
            text += (
                f", {self.days_not_final} day(s) not final (is_delay: a sync fetches them again)"
            )
        if self.files_without_records:
            text += f", {self.files_without_records} file(s) without records left out"
        if self.refused:
            text += f"; {len(self.refused)} file(s) refused ({self.records_refused} records):"
            text += "".join(f"\n  {path}: {why}" for path, why in self.refused.items())
        return text


def import_json(
    layout: Layout,
    endpoint: str | Endpoint,
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    account: str | None,
    replace_held: bool,
) -> ImportSummary:
    """:meth:`Store.import_json <wxframe.Store.import_json>`.

    Every file is read and checked before anything is written: a file of another
    endpoint's records, an error answer, or an import without a single record is
    refused (a :class:`~wxframe.StoreError` naming the file), and the store is unchanged.
    A file whose answers are another account's or of days the endpoint cannot have is
    refused whole and named in the summary, and the other files are imported.
    """
    spec = get_endpoint(endpoint)
    files = _json_files(paths)
    account = _account(layout, account)
    last = last_complete_day(beijing_now())
    pages: list[_Page] = []
    delayed: set[date] = set()
    without_records: list[Path] = []
    refused: dict[str, str] = {}
    records_refused = 0
    for path in files:
        found = _read_pages(spec, path)
        if not any(len(a.page[0]) for a in found):
            without_records.append(path)
            continue
        answers = [a.page for a in found]
        _check_endpoint(spec, path, answers)
        try:
            frame = from_pages(spec, answers)  # typed and checked file by file, to name it
        except WxframeError as exc:
            raise StoreError(f"{path}: does not fit {spec.name}: {exc}") from None
        why = _foreign_account(path, found, account) or _days_outside(spec, frame, last)
        if why is not None:  # the whole file: a part of an archive is not history
            refused[str(path)] = why
            records_refused += sum(len(a.page[0]) for a in found)
            continue
        pages += answers
        delayed |= _days_of(spec, [a.page for a in found if a.delayed])
    if not pages:
        raise StoreError(_nothing_to_import(files, refused))
    try:
        frame = from_pages(spec, pages)
    except WxframeError as exc:
        raise StoreError(f"the files disagree with each other: {exc}") from None
    if "account" in frame.columns:  # the archive's own name for it: the folder says it
        frame = frame.drop(columns="account")
    summary = ImportSummary(
        files=len(files),
        files_without_records=len(without_records),
        records_refused=records_refused,
        refused=refused,
    )
    layout.make_root()
    lock = layout.lock(account)
    try:
        manifest = load_manifest(layout, account)
        settle_staged(layout, account, manifest)
        held = manifest.get(spec.name).days
        days = sorted({d.date() for d in frame[spec.partition]})
        wanted = [d for d in days if replace_held or not _final(held.get(d.isoformat()))]
        summary.days_skipped = len(days) - len(wanted)
        if wanted:
            at = beijing_now()
            windows = [Window(d, d) for d in wanted]
            rows = stored_from_frame(frame[frame[spec.partition].dt.date.isin(wanted)])
            written = write_windows(layout, spec, account, windows, rows, manifest)
            entry = manifest.entry(spec.name)
            entry.files.update(written)  # "next" becomes the record
            for month in {w.begin.strftime("%Y-%m") for w in windows}:
                if entry.lost is not None:
                    entry.lost.pop(month, None)  # imported again
            per_day = rows_per_day(spec, rows)
            for window in windows:
                late = window.begin in delayed
                entry.record(spec, window, at, per_day, delayed=late, source="import")
                if late:  # not final: the platform said so; a sync fetches it again
                    key = window.begin.isoformat()
                    entry.days[key] = replace(entry.days[key], final=False)
            summary.rows += len(rows)
            summary.days_not_final = sum(d in delayed for d in wanted)
            save_manifest(layout, account, manifest)
            summary.days_written = len(wanted)
    finally:
        lock.release()
    return summary


def _nothing_to_import(files: list[Path], refused: dict[str, str]) -> str:
    """Why an import writes nothing: every file refused, or none holds a record."""
    if refused:
        return "nothing imported: every file with records was refused: " + "; ".join(
            f"{path}: {why}" for path, why in refused.items()
        )
    if len(files) == 1:
        return f"{files[0]} holds no records"
    names = ", ".join(map(str, files[:3])) + (", ..." if len(files) > 3 else "")
    return f"none of the {len(files)} files holds a record ({names})"


def _foreign_account(path: Path, found: list[_Answer], account: str) -> str | None:
    """Why ``path`` is another account's, where it says whose it is: a field of its
    responses or records (``appid``, ``account``), or an appid in its path (the file's
    name or a folder's)."""
    named: dict[str, str] = {}
    for answer in found:
        for name, value in answer.account.items():
            named.setdefault(value, f"its answers' {name!r}")
        for record in answer.page[0]:
            if isinstance(record, dict):
                for name in _ACCOUNT_FIELDS:
                    if isinstance(named_by := record.get(name), str):
                        named.setdefault(named_by, f"its records' {name!r}")
    # The part nearest the file names it: archives/wxA/wxB-share.json is wxB's.
    in_path = [m for part in path.parts for m in _APPID_IN_PATH.findall(part)]
    if in_path:
        named.setdefault(in_path[-1], "its path")
    others = {value: where for value, where in named.items() if value != account}
    if not others:
        return None
    other, where = next(iter(others.items()))
    return (
        f"its answers are of account {other} ({where} says so), not {account}: import it "
        f"with {argument('account', other)}"
    )


def _days_outside(spec: Endpoint, frame: pd.DataFrame, last: date) -> str | None:
    """Why a file's days cannot be the endpoint's: before its first day, or after the
    last complete day (a saving tool's wrong clock, a typing mistake)."""
    days = sorted({d.date() for d in frame[spec.partition].dropna()})
    early = [d for d in days if d < spec.earliest]
    late = [d for d in days if d > last]
    for outside, what in (
        (early, f"before {spec.name}'s first day, {spec.earliest}"),
        (late, f"after the last complete day, {last}"),
    ):
        if outside:
            span = str(outside[0]) + (f"..{outside[-1]}" if len(outside) > 1 else "")
            return f"{len(outside)} of its {len(days)} day(s) are {what} ({span})"
    return None


def _days_of(spec: Endpoint, pages: list[_Page]) -> set[date]:
    """The days of the rows of ``pages``."""
    if not pages:
        return set()
    return {d.date() for d in from_pages(spec, pages)[spec.partition].dropna()}


def _account(layout: Layout, account: str | None) -> str:
    """The account the files are of: ``account``, or the store's only one."""
    if account is None and len(held := layout.accounts()) != 1:
        raise ConfigurationError(
            f"say which account the files are of ({argument('account', 'APPID')}); the "
            f"store holds {', '.join(held) or 'none yet'}"
        )
    return layout.checked_account(account)


def _check_endpoint(spec: Endpoint, path: Path, pages: list[_Page]) -> None:
    """A file whose records are another endpoint's, refused by name
    (:func:`~wxframe.frames.foreign_endpoint` says whose they are)."""
    names: set[str] = set()
    for records, _ in pages:
        names |= names_in(list(records[:RECORDS_NAMED]))
    best = foreign_endpoint(spec, names)
    if best is not None:
        raise StoreError(
            f"{path}: these look like {best.name} records, not {spec.name}: import them "
            f"with {argument('endpoint', best.name)}"
        )


def _final(info: DayRecord | None) -> bool:
    return info is not None and info.is_final


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


def _read_pages(spec: Endpoint, path: Path) -> list[_Answer]:
    """One file's responses: one response, an array of records, or JSON Lines."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: cannot be read as UTF-8 text: {exc}") from None
    _check_nesting(spec, path, raw)
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
    pages: list[_Answer] = []
    for n, doc in enumerate(documents, start=1):
        where = f"{path}" + (f" line {n}" if len(documents) > 1 else "")
        if isinstance(doc, list):
            pages.append(_Answer((doc, {})))
        elif isinstance(doc, dict):
            if (error := error_of_answer(spec, doc)) is not None:
                raise StoreError(f"{where}: {error}") from error
            if not isinstance(doc.get(spec.records), list):
                raise StoreError(
                    f"{where}: a response of {spec.name} has a {spec.records!r} array; "
                    f"this has keys {sorted(doc)[:8]}"
                )
            meta = {f.name: doc.get(f.name) for f in spec.response_fields}
            names = {k: v for k in _ACCOUNT_FIELDS if isinstance(v := doc.get(k), str)}
            pages.append(_Answer((doc[spec.records], meta), doc.get("is_delay") is True, names))
        else:
            raise StoreError(f"{where}: {type(doc).__name__} is neither a response nor records")
    return pages


#: The deepest a saved file may nest arrays and objects. The registry's answers have 6
#: levels; json, typing and the checks here recurse once or twice a level, and Python
#: stops at 1,000 frames (a RecursionError, or a crash in a C reader).
_DEEPEST_FILE = 100


def _check_nesting(spec: Endpoint, path: Path, raw: bytes) -> None:
    """A file nested deeper than :data:`_DEEPEST_FILE` refused by name, before json."""
    if raw.count(b"[") + raw.count(b"{") <= _DEEPEST_FILE:
        return
    if (depth := nesting_depth(raw)) > _DEEPEST_FILE:
        raise StoreError(
            f"{path}: nests arrays or objects {depth:,} deep; an archive of {spec.name} "
            f"answers nests at most {_DEEPEST_FILE} (the platform's have 6 levels)"
        )
