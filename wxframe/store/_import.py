"""Archives into the store: saved raw responses (history a sync can no longer fetch)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wxframe.dates import Window, beijing_now
from wxframe.endpoints import ENDPOINTS, ChannelRows, Endpoint, Positions, get_endpoint
from wxframe.errors import ConfigurationError, StoreError, WxframeError, argument
from wxframe.frames import error_of_answer, from_pages, nesting_depth
from wxframe.store._files import Layout
from wxframe.store._manifest import DayRecord, load_manifest, save_manifest
from wxframe.store._schema import rows_per_day, stored_from_frame
from wxframe.store._sync import settle_staged, write_windows

__all__ = ["ImportSummary", "import_json"]

#: One saved response: its records and the response's own fields.
_Page = tuple[list[Any], dict[str, Any]]
#: How many records of a file are read for the names of their fields (an archive's
#: records all have the same ones).
_RECORDS_NAMED = 200


@dataclass
class ImportSummary:
    """What an import did. ``files_without_records``: files of a folder that held no
    record (a quiet day's ``{"list": []}``), left out."""

    files: int = 0
    rows: int = 0
    days_written: int = 0
    days_skipped: int = 0
    files_without_records: int = 0

    def __str__(self) -> str:
        text = (
            f"{self.files} file(s), {self.rows} rows, {self.days_written} day(s) written, "
            f"{self.days_skipped} day(s) already held"
        )
        if self.files_without_records:
            text += f", {self.files_without_records} file(s) without records left out"
        return text


def import_json(
    layout: Layout,
    endpoint: str | Endpoint,
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    account: str | None,
    replace: bool,
) -> ImportSummary:
    """:meth:`Store.import_json <wxframe.Store.import_json>`.

    Every file is read and checked before anything is written: a file of another
    endpoint's records, an error answer, or an import without a single record is
    refused (a :class:`~wxframe.StoreError` naming the file), and the store is unchanged.
    """
    spec = get_endpoint(endpoint)
    files = _json_files(paths)
    account = _account(layout, account)
    pages: list[_Page] = []
    without_records: list[Path] = []
    for path in files:
        found = _read_pages(spec, path)
        if not any(len(records) for records, _ in found):
            without_records.append(path)
            continue
        _check_endpoint(spec, path, found)
        try:
            from_pages(spec, found)  # typed and checked file by file, to name the file
        except WxframeError as exc:
            raise StoreError(f"{path}: does not fit {spec.name}: {exc}") from None
        pages += found
    if not pages:
        raise StoreError(
            f"{files[0]} holds no records"
            if len(files) == 1
            else f"none of the {len(files)} files holds a record "
            f"({', '.join(map(str, files[:3]))}{', ...' if len(files) > 3 else ''})"
        )
    try:
        frame = from_pages(spec, pages)
    except WxframeError as exc:
        raise StoreError(f"the files disagree with each other: {exc}") from None
    summary = ImportSummary(files=len(files), files_without_records=len(without_records))
    layout.make_root()
    lock = layout.lock(account)
    try:
        manifest = load_manifest(layout, account)
        settle_staged(layout, account, manifest)
        held = manifest.get(spec.name).days
        days = sorted({d.date() for d in frame[spec.partition]})
        wanted = [d for d in days if replace or not _final(held.get(d.isoformat()))]
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
                entry.record(spec, window, at, per_day, source="import")
            summary.rows += len(rows)
            save_manifest(layout, account, manifest)
            summary.days_written = len(wanted)
    finally:
        lock.release()
    return summary


def _account(layout: Layout, account: str | None) -> str:
    """The account the files are of: ``account``, or the store's only one."""
    if account is None and len(held := layout.accounts()) != 1:
        raise ConfigurationError(
            f"say which account the files are of ({argument('account', 'APPID')}); the "
            f"store holds {', '.join(held) or 'none yet'}"
        )
    return layout.checked_account(account)


def _check_endpoint(spec: Endpoint, path: Path, pages: list[_Page]) -> None:
    """A file whose records are another endpoint's, refused by name: the endpoint whose
    declared fields the records' fields fit best is not ``spec``. Best is the most
    names shared, then the fewest of its key fields missing, then the fewest of its
    fields missing; an endpoint is named only if the records carry all its key fields.
    Unknown fields count for none (the platform adds fields without notice), and a tie
    keeps ``spec`` (records may leave fields out)."""
    names: set[str] = set()
    for records, _ in pages:
        for record in records[:_RECORDS_NAMED]:
            names |= _names_in(record)
    if not names:
        return  # no objects: typing the records names what they are

    def fit(other: Endpoint) -> tuple[int, int, int]:
        declared = _declared_names(other)
        keys = declared.intersection(other.key)
        return len(names & declared), -len(keys - names), -len(declared - names)

    # Only an endpoint whose key fields the records all carry can be named instead.
    named = [e for e in ENDPOINTS.values() if not _declared_names(e).intersection(e.key) - names]
    best = max(named, key=fit, default=spec)
    if fit(best) > fit(spec):
        raise StoreError(
            f"{path}: these look like {best.name} records, not {spec.name}: import them "
            f"with {argument('endpoint', best.name)}"
        )


def _names_in(value: object) -> set[str]:
    """The keys of an object and of the objects nested in it, at any depth."""
    if isinstance(value, dict):
        out = set(value)
        for v in value.values():
            if isinstance(v, dict | list):
                out |= _names_in(v)
        return out
    if isinstance(value, list):
        return set().union(*(_names_in(v) for v in value[:_RECORDS_NAMED]))
    return set()


def _declared_names(spec: Endpoint) -> frozenset[str]:
    """Every name a record of ``spec`` has, as the registry declares it (nested ones and
    the fields it sends that carry nothing, as getuserreadhour's ``ori_page_*``)."""
    response = {f.name for f in spec.response_fields}
    names = {f.name for f in spec.all_fields if f.name not in response} | set(spec.ignored)
    for part in spec.nested_parts:
        names.add(part.name)
        if isinstance(part, ChannelRows):
            names |= {part.label, part.value}
        elif isinstance(part, Positions):
            names |= {part.key, part.value}
    return frozenset(names)


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


def _read_pages(spec: Endpoint, path: Path) -> list[_Page]:
    """One file's responses as ``(records, response fields)``: one, an array, or JSON Lines."""
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
    pages: list[_Page] = []
    for n, doc in enumerate(documents, start=1):
        where = f"{path}" + (f" line {n}" if len(documents) > 1 else "")
        if isinstance(doc, list):
            pages.append((doc, {}))
        elif isinstance(doc, dict):
            if (error := error_of_answer(spec, doc)) is not None:
                raise StoreError(f"{where}: {error}") from error
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
