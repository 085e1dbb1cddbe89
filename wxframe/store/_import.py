"""Archives into the store: saved raw responses (history a sync can no longer fetch)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wxframe.dates import Window, beijing_now
from wxframe.endpoints import Endpoint, get_endpoint
from wxframe.errors import StoreError, WxframeError
from wxframe.frames import empty_frame, from_pages
from wxframe.store._files import Layout
from wxframe.store._manifest import DayRecord, load_manifest, save_manifest
from wxframe.store._schema import rows_per_day, stored_from_frame
from wxframe.store._sync import settle_staged, write_windows

__all__ = ["ImportSummary", "import_json"]

#: One saved response: its records and the response's own fields.
_Page = tuple[list[Any], dict[str, Any]]


@dataclass
class ImportSummary:
    """What an import did."""

    files: int = 0
    rows: int = 0
    days_written: int = 0
    days_skipped: int = 0

    def __str__(self) -> str:
        return (
            f"{self.files} file(s), {self.rows} rows, {self.days_written} day(s) written, "
            f"{self.days_skipped} day(s) already held"
        )


def import_json(
    layout: Layout,
    endpoint: str | Endpoint,
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    account: str | None,
    replace: bool,
) -> ImportSummary:
    """:meth:`Store.import_json <wxframe.Store.import_json>`."""
    spec = get_endpoint(endpoint)
    files = _json_files(paths)
    account = layout.checked_account(account)
    pages: list[_Page] = []
    for path in files:
        found = _read_pages(spec, path)
        try:
            from_pages(spec, found)  # typed and checked file by file, to name the file
        except WxframeError as exc:
            raise StoreError(f"{path}: does not fit {spec.name}: {exc}") from None
        pages += found
    try:
        frame = from_pages(spec, pages) if pages else empty_frame(spec)
    except WxframeError as exc:
        raise StoreError(f"the files disagree with each other: {exc}") from None
    summary = ImportSummary(files=len(files))
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
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: cannot be read as UTF-8 text: {exc}") from None
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
            if doc.get("errcode"):
                raise StoreError(f"{where}: an error answer (errcode {doc['errcode']}), not data")
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
