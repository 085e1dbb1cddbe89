"""How deep bytes of JSON nest, without parsing them: what decides whether a reader
may be given an answer, an archive or a manifest at all (a JSON reader recurses once a
level, and a process's recursion limit is its own: 30,000 levels killed the process).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_NESTING", "nesting_depth", "too_deep"]

#: No answer, archive or manifest wxframe reads nests deeper than this (the registry's
#: deepest answers have 6 levels). Far below Python's default recursion limit (1,000),
#: so whether a body is read never depends on what else ran in the process.
MAX_NESTING = 500


def too_deep(body: bytes, limit: int = MAX_NESTING) -> int | None:
    """How deep ``body`` nests when that is deeper than ``limit``, else None; counting
    its opening brackets settles nearly every body at once, the rest are walked.

    >>> too_deep(b'{"list": []}'), too_deep(b"[" * 600 + b"]" * 600)
    (None, 600)
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return None
    depth = nesting_depth(body)
    return depth if depth > limit else None


def nesting_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body`` (bytes of JSON, or any
    bytes), as a JSON reader tokenises it: brackets inside strings do not count, and a
    quote after an odd run of backslashes is part of its string. Never less than a
    reader reaches, for any bytes; exact for JSON.

    What is left of ``body`` once everything but its structure is dropped is walked
    (:func:`_structure`): 20 MB of answers take about 0.1 s, a fraction of reading them.

    Examples
    --------
    >>> nesting_depth(b'{"list":[{"title":"[[[[","detail":{"n":1}}]}')
    4
    >>> nesting_depth(b'[' * 30000 + b']' * 30000)
    30000
    """
    return _depth(_structure(body))


#: Every byte but the quotes and brackets a JSON reader nests by.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')


def _structure(body: bytes) -> bytes:
    """``body`` reduced to the quotes and brackets that decide how deep it nests, each in
    its place relative to the others: escaped backslashes and escaped quotes removed
    (a run of backslashes that is even escapes nothing), then everything but quotes
    and brackets, then empty strings (two quotes side by side change no bracket's
    side of a string). Bytes' own C loops: a tenth of the time of walking every byte."""
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    return body.translate(None, _NOT_STRUCTURE).replace(b'""', b"")


#: Bytes looked at in one step of :func:`_depth` (numpy's temporaries stay small).
_WALK = 1 << 20
#: A byte's step in depth: +1 opens an array or object, -1 closes one.
_STEP = np.zeros(256, np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


def _depth(structure: bytes) -> int:
    """The deepest nesting in bytes of quotes and brackets only (:func:`_structure`),
    brackets between a quote and the next left out; :data:`_WALK` bytes at a time."""
    data = np.frombuffer(structure, np.uint8)
    depth = deepest = 0
    inside = 0  # 1 while the walk is in a string
    for start in range(0, len(data), _WALK):
        part = data[start : start + _WALK]
        quotes = np.flatnonzero(part == ord('"'))
        step = _STEP[part]
        at = np.flatnonzero(step)
        if len(quotes) or inside:
            at = at[((np.searchsorted(quotes, at) + inside) & 1) == 0]
        if len(at):
            levels = depth + np.cumsum(step[at], dtype=np.int64)
            deepest, depth = max(deepest, int(levels.max())), int(levels[-1])
        inside ^= len(quotes) & 1
    return deepest
