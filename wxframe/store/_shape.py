"""What a manifest file must look like: its JSON read safely, and its shape checked.

Every reader of a manifest (loads, verify, repair) judges a file here before it types
it (:mod:`wxframe.store._manifest`): a file that is not JSON, nests too deep or is not of
the manifest's shape is named with what is wrong, never half read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from wxframe.nesting import nesting_depth
from wxframe.store._files import Layout
from wxframe.store._fs import Storage

__all__ = ["json_problem", "manifest_problem", "month_problem", "parse_json", "read_pointer"]


# ------------------------------------------------------------------------ checks
#: The deepest a manifest file may nest arrays and objects (its own nest 4 levels):
#: json and the checks recurse once a level, and Python stops at 1,000 frames.
_DEEPEST = 100


def json_problem(layout: Layout, path: PurePath) -> tuple[Any, str | None]:
    """A manifest file's JSON, or what stops reading it (to follow its path)."""
    try:
        raw = layout.storage.read_bytes(path)
    except FileNotFoundError:
        return None, "is missing, though the manifest's pointer names it"
    except OSError as exc:
        return None, f"cannot be read: {exc}"
    return parse_json(raw)


#: Reads of a pointer on object storage before one that does not parse is damage.
_POINTER_READS = 4


def read_pointer(storage: Storage, path: PurePath) -> tuple[bytes, Any, str | None]:
    """An account's pointer: its bytes, its JSON or what stops reading it;
    FileNotFoundError where there is none. An object store reads an object as its size,
    then its bytes: a pointer replaced in between reads cut short, so one that does not
    parse is read again (a damaged one reads the same each time)."""
    raw, top = b"", None
    problem: str | None = "was not read"
    for attempt in range(1 if storage.local else _POINTER_READS):
        if attempt:
            time.sleep(0.05 * attempt)
        try:
            raw = storage.read_bytes(path)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            problem = f"cannot be read: {exc}"
            continue
        top, problem = parse_json(raw)
        if problem is None:
            break
    return raw, top, problem


def parse_json(raw: bytes) -> tuple[Any, str | None]:
    try:
        if raw.count(b"[") + raw.count(b"{") > _DEEPEST and nesting_depth(raw) > _DEEPEST:
            return None, f"nests arrays or objects {nesting_depth(raw):,} deep (a manifest: 4)"
        return json.loads(raw.decode("utf-8")), None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"is not valid JSON: {exc}"


def month_problem(name: str, part: object) -> str | None:
    """What is wrong with one month file of a manifest, or None."""
    if not isinstance(part, dict):
        return f"it has no 'days' object: it is {_json_kind(part)}"
    if not isinstance(part.get("days"), dict):
        return "it has no 'days' object"
    if "file" in part and not isinstance(part["file"], dict):
        return "its 'file' is not an object"
    return _days_problem(name, part["days"])


def _days_problem(name: str, days: Mapping[str, Any]) -> str | None:
    for day, info in days.items():
        if not isinstance(info, dict) or not isinstance(info.get("at"), str):
            return f"endpoints.{name}.days.{day} has no 'at' time"
        try:
            date.fromisoformat(day)
            datetime.fromisoformat(info["at"])
        except ValueError:
            return f"endpoints.{name}.days.{day} is not a date with a time"
    return None


def manifest_problem(manifest: object) -> str | None:
    """What is wrong with the shape of an account's manifest file, or None."""
    if not isinstance(manifest, dict):
        return f"it has no 'endpoints' object: it is {_json_kind(manifest)}"
    if not isinstance(manifest.get("endpoints"), dict):
        return "it has no 'endpoints' object"
    for name, entry in manifest["endpoints"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("days", {}), dict):
            return f"endpoints.{name} has no 'days' object"
        if not isinstance(entry.get("files", {}), dict):
            return f"endpoints.{name}.files is not an object"
        problem = _days_problem(name, entry.get("days", {}))
        if problem:
            return problem
    return None


def _json_kind(value: object) -> str:
    """What a JSON value is, in words: ``JSON null``, ``an array``, ``a number``..."""
    if value is None:
        return "JSON null"
    if isinstance(value, bool):
        return f"JSON {str(value).lower()}"
    kinds = {list: "an array", str: "a string", int: "a number", float: "a number"}
    return kinds.get(type(value), type(value).__name__)
