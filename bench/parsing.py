"""Benchmark 4: ``to_frame`` against the pandas code people write today, on the same records.

Records are the simulator's own, tiled to size (dates shifted, msgids made unique), so
they have the platform's shapes: flat hourly rows, and articles with 7 nested details.
Peak memory is measured in a fresh process per method, so no method profits from memory
another one freed; times are the median of 5 runs in this process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa

import wxframe
from bench._harness import TIMING_COLUMNS, PeakMemory, Table, measure, timing_row, verdict
from wxframe.endpoints import Endpoint
from wxframe.frames import decode, decode_many, from_pages, stored_from_pages
from wxframe.simulator import DATACUBE, SimulatedAccount, records
from wxframe.store import FLUSH_WINDOWS

_ACCOUNT = SimulatedAccount(seed=0, today=date(2024, 6, 1))
SYNC_ROW = f"decode_many and one stored table per {FLUSH_WINDOWS} windows (as sync writes)"


def hourly_records(n: int) -> list[dict[str, Any]]:
    """``n`` getuserreadhour records: a month of the simulator's, tiled over more days."""
    by_day: dict[object, list[dict[str, Any]]] = {}
    for r in records(_ACCOUNT, "getuserreadhour", date(2024, 5, 1), date(2024, 5, 30)):
        by_day.setdefault(r["ref_date"], []).append(r)
    days = list(by_day.values())
    out: list[dict[str, Any]] = []
    k = 0
    while len(out) < n:
        day = (date(2000, 1, 1) + timedelta(days=k)).isoformat()
        out += [{**r, "ref_date": day} for r in days[k % len(days)]]
        k += 1
    return out[:n]


def article_records(n: int) -> list[dict[str, Any]]:
    """``n`` getarticletotal records (articles), each with its 7 details."""
    base = [
        r
        for r in records(_ACCOUNT, "getarticletotal", date(2024, 3, 1), date(2024, 5, 20))
        if len(r["details"]) == 7  # type: ignore[arg-type]
    ]
    return [{**base[i % len(base)], "msgid": f"{3000000000 + i}_1"} for i in range(n)]


def _flatten_then_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """What people write for getarticletotal today: a row per detail, then a DataFrame."""
    return pd.DataFrame(
        [
            {**{k: v for k, v in r.items() if k != "details"}, **detail}
            for r in records
            for detail in r["details"]
        ]
    )


def _methods(kind: str) -> dict[str, Any]:
    """Label -> function; the first is the baseline."""
    if kind == "hourly":
        return {
            "pd.DataFrame(records) (baseline, untyped)": pd.DataFrame,
            "pd.json_normalize(records) (untyped)": pd.json_normalize,
            "wxframe.to_frame (typed, checked)": lambda recs: wxframe.to_frame(
                "getuserreadhour", recs
            ),
        }
    return {
        "flatten details + pd.DataFrame (baseline, untyped)": _flatten_then_frame,
        "pd.DataFrame(records) (details left as lists)": pd.DataFrame,
        "pd.json_normalize(records, 'details', meta) (untyped)": lambda recs: pd.json_normalize(
            recs, "details", ["ref_date", "msgid", "title"]
        ),
        "wxframe.to_frame (typed, checked)": lambda recs: wxframe.to_frame("getarticletotal", recs),
    }


def _records(kind: str, n: int) -> list[dict[str, Any]]:
    return hourly_records(n) if kind == "hourly" else article_records(n)


def _peaks_in_fresh_process(kind: str, n: int, methods: list[str]) -> list[int]:
    """The peak each method adds, measured one after another in one fresh process."""
    code = f"from bench.parsing import _peaks_here; print(_peaks_here({kind!r}, {n}, {methods!r}))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=900
    )
    peaks: list[int] = json.loads(out.stdout.strip().splitlines()[-1])
    return peaks


def _peaks_here(kind: str, n: int, methods: list[str]) -> list[int]:
    records = _records(kind, n)
    peaks = []
    for method in methods:
        fn = _methods(kind)[method]
        fn(records[:1000])  # import and warm what the method uses, outside the measurement
        with PeakMemory() as mem:
            fn(records)
        peaks.append(mem.peak)
    return peaks


def parsing(smoke: bool) -> list[Table]:
    sizes = {"hourly": 20_000, "articles": 1_000} if smoke else {
        "hourly": 1_000_000, "articles": 50_000,
    }  # fmt: skip
    repeat = 1 if smoke else 5
    tables = []
    for kind, n in sizes.items():
        records = _records(kind, n)
        what = (
            f"{n:,} getuserreadhour records"
            if kind == "hourly"
            else f"{n:,} getarticletotal articles x 7 details ({7 * n:,} rows)"
        )
        table = Table(f"4. Parsing: {what}", TIMING_COLUMNS)
        results = {}
        for label, fn in _methods(kind).items():
            fn(records[:1000])
            m = measure(label, lambda fn=fn, recs=records: fn(recs), repeat=repeat, memory=False)
            if not smoke:  # a fresh process per method: the peak is its own
                (m.peak_bytes,) = _peaks_in_fresh_process(kind, n, [label])
            results[label] = m
        if smoke:  # one fresh process for them all: a small peak each, and the path still runs
            peaks = _peaks_in_fresh_process(kind, 2_000, list(results))
            for m, peak in zip(results.values(), peaks, strict=True):
                m.peak_bytes = peak
        baseline = next(iter(results.values()))
        for m in results.values():
            table.add(*timing_row(m, None if m is baseline else baseline))
        ours = results["wxframe.to_frame (typed, checked)"]
        table.notes.append(
            verdict(
                ours.median <= baseline.median,
                f"to_frame no slower than pd.DataFrame ({ours.median / baseline.median:.2f}x)",
            )
        )
        table.notes.append(
            verdict(
                ours.peak_bytes <= 2 * baseline.peak_bytes,
                f"peak memory at most 2x ({ours.peak_bytes / max(baseline.peak_bytes, 1):.2f}x)",
            )
        )
        if kind == "articles":
            plain = results["pd.DataFrame(records) (details left as lists)"]
            table.notes.append(
                "The baseline for nested records is the flattening people write by hand: "
                "`pd.DataFrame(records)` alone leaves `details` as a column of lists (one row "
                f"per article, not per stat day) and takes {plain.median:.3f} s; it does not "
                "produce the frame and is shown for reference."
            )
        tables.append(table)
        del records
    return tables


def decoding(smoke: bool) -> Table:
    """Response bytes to a typed frame: wxframe's bulk path against json + pd.DataFrame."""
    n, windows = (20_000, 50) if smoke else (1_000_000, 500)
    repeat = 1 if smoke else 5
    spec = wxframe.ENDPOINTS["getuserreadhour"]
    body = _body(hourly_records(n))
    table = Table(
        f"8. Bytes to typed frame: one answer of {n:,} getuserreadhour records "
        f"({len(body) / 2**20:.0f} MiB), and {windows} one-day answers",
        ("what", "median s", "min s", "max s", "runs", "time vs baseline"),
    )
    whole = {
        "json.loads + pd.DataFrame (baseline, untyped)": lambda: pd.DataFrame(
            json.loads(body)["list"]
        ),
        "json.loads + to_frame (typed; the path of client.fetch)": lambda: wxframe.to_frame(
            spec, json.loads(body)
        ),
        "frames.decode_many + from_pages (typed; load_many and sync)": lambda: _decoded([body]),
    }
    results = {
        label: measure(label, fn, repeat=repeat, memory=False) for label, fn in whole.items()
    }
    base = next(iter(results.values()))
    for label, m in results.items():
        table.add(label, m.median, min(m.seconds), max(m.seconds), len(m.seconds),
                  f"{m.median / base.median:.2f}x")  # fmt: skip
    typed = results["frames.decode_many + from_pages (typed; load_many and sync)"]
    ours = typed.median / base.median
    table.notes.append(
        verdict(ours <= 0.5, f"at most 0.5x of json.loads + pd.DataFrame ({ours:.2f}x)")
    )

    # One window: a day of hours (about 190 records), as a sync gets them.
    day = [r for r in hourly_records(400) if r["ref_date"] == "2000-01-01"]
    bodies = [_body(day)] * windows
    per_window = {
        "json.loads + pd.DataFrame, per window (baseline)": lambda: [
            pd.DataFrame(json.loads(b)["list"]) for b in bodies
        ],
        "decode + from_pages, each window alone": lambda: [_decoded([b]) for b in bodies],
        "decode_many, one from_pages for all (as load_many)": lambda: _decoded(bodies),
        SYNC_ROW: lambda: [_decoded(batch, stored=True) for batch in _batches(bodies)],
    }
    window_results = {
        label: measure(label, fn, repeat=repeat, memory=False) for label, fn in per_window.items()
    }
    base = next(iter(window_results.values()))
    for label, m in window_results.items():
        ms = 1000 * m.median / windows
        table.add(f"{label}: {ms:.3f} ms a window", m.median, min(m.seconds), max(m.seconds),
                  len(m.seconds), f"{m.median / base.median:.2f}x")  # fmt: skip
    batched = window_results[SYNC_ROW]
    ratio = batched.median / base.median
    table.notes.append(
        verdict(ratio <= 2, f"per-window cost at most 2x that of pd.DataFrame ({ratio:.2f}x)")
    )
    table.notes.append(
        f"{len(day)} records a window. decode_many runs in the caller's thread (a batch "
        "of answers in one pass of pyarrow's JSON reader, which does not hold the GIL)."
    )

    # A nested endpoint: the current family's one-day getarticletotaldetail answers, as
    # the reader takes them and as json does (the way of an answer the reader declines).
    nested = wxframe.ENDPOINTS["getarticletotaldetail"]
    account = SimulatedAccount(seed=0, today=date(2026, 12, 1))
    produce = DATACUBE[nested.name].produce
    first = date(2026, 11, 1)
    days = [first + timedelta(days=k % 30) for k in range(windows)]
    records = [produce(account, d, d) for d in days]
    answers = [_body(r) for r in records]
    ways = {
        "getarticletotaldetail, json.loads each, a stored table per batch": lambda: [
            _stored(nested, batch, json_only=True) for batch in _batches(answers)
        ],
        "getarticletotaldetail, decode each alone, a stored table per batch": lambda: [
            _stored(nested, batch, json_only=False, alone=True) for batch in _batches(answers)
        ],
        "getarticletotaldetail, decode_many, a stored table per batch (as sync)": lambda: [
            _stored(nested, batch, json_only=False) for batch in _batches(answers)
        ],
    }
    found = {label: measure(label, fn, repeat=repeat, memory=False) for label, fn in ways.items()}
    base = next(iter(found.values()))
    for label, m in found.items():
        ms = 1000 * m.median / windows
        table.add(f"{label}: {ms:.3f} ms a window", m.median, min(m.seconds), max(m.seconds),
                  len(m.seconds), f"{m.median / base.median:.2f}x")  # fmt: skip
    rows = sum(map(len, records)) / windows
    table.notes.append(
        f"getarticletotaldetail: {rows:.0f} articles a one-day answer "
        f"({sum(map(len, answers)) / windows / 1024:.0f} KiB), each with its detail rows; "
        "against json for the same answers (no pandas baseline does this typing)."
    )
    return table


def _stored(
    spec: Endpoint, bodies: list[bytes], *, json_only: bool, alone: bool = False
) -> pa.Table:
    """A sync's flush of ``bodies``: decoded from their bytes (together, or each
    ``alone``) or by json, then one stored table of them all."""
    if json_only:
        decoded: list[Any] = [None] * len(bodies)
    else:
        decoded = [decode(spec, b) for b in bodies] if alone else decode_many(spec, bodies)
    pages: list[tuple[Any, dict[str, Any]]] = []
    for body, page in zip(bodies, decoded, strict=True):
        pages.append((page, page.meta) if page is not None else (json.loads(body)["list"], {}))
    return stored_from_pages(spec, pages)


def _batches(bodies: list[bytes]) -> list[list[bytes]]:
    """``bodies`` in a sync's batches of FLUSH_WINDOWS."""
    return [bodies[i : i + FLUSH_WINDOWS] for i in range(0, len(bodies), FLUSH_WINDOWS)]


def _body(records: list[dict[str, Any]]) -> bytes:
    answer = {"errcode": 0, "errmsg": "ok", "list": records}
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()


def _decoded(bodies: list[bytes], *, stored: bool = False) -> pd.DataFrame | pa.Table:
    """What load_many makes of the answers (a frame), or a sync's flush (``stored``: the
    Arrow table it writes)."""
    spec = wxframe.ENDPOINTS["getuserreadhour"]
    pages = [(p, p.meta) for p in decode_many(spec, bodies) if p is not None]
    return stored_from_pages(spec, pages) if stored else from_pages(spec, pages)
