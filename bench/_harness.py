"""Timing, peak memory and the tables every benchmark prints.

A measurement is the median of ``repeat`` runs (with min and max) and the peak resident
memory the call added over what the process held before it, sampled from
``/proc/self/statm`` every millisecond (pyarrow and numpy allocate outside Python's
allocator, so ``tracemalloc`` would not see them). Ratios are always against a baseline
measured in the same run on the same machine.
"""

from __future__ import annotations

import gc
import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

TIMING_COLUMNS = (
    "what", "median s", "min s", "max s", "runs", "peak MiB", "time vs baseline",
    "memory vs baseline",
)  # fmt: skip


def rss_bytes(fd: int | None = None) -> int:
    """The process's resident memory now (Linux /proc; 0 where unavailable); ``fd``: an
    open ``/proc/self/statm`` to read again (a sampler's: opening it every millisecond
    was 4 % of the interpreter's time in a benchmark of many threads)."""
    try:
        if fd is not None:
            return int(os.pread(fd, 256, 0).split()[1]) * _PAGE
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        return 0


class PeakMemory:
    """Context manager: the peak RSS above the level at entry, sampled in a thread."""

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        gc.collect()
        self._start = rss_bytes()
        self._top = self._start
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        try:
            fd: int | None = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:
            fd = None
        try:
            while not self._stop.is_set():
                self._top = max(self._top, rss_bytes(fd))
                time.sleep(self.interval)
        finally:
            if fd is not None:
                os.close(fd)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._top = max(self._top, rss_bytes())
        self.peak = self._top - self._start


@dataclass
class Measurement:
    """Seconds of each run, and the largest peak memory any run added."""

    label: str
    seconds: list[float]
    peak_bytes: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(
    label: str,
    fn: Callable[[], Any],
    *,
    repeat: int = 5,
    memory: bool = True,
) -> Measurement:
    """Run ``fn`` ``repeat`` times; the result of each run is dropped before the next."""
    seconds: list[float] = []
    peak = 0
    for _ in range(repeat):
        gc.collect()
        if memory:
            with PeakMemory() as mem:
                start = time.perf_counter()
                result = fn()
                seconds.append(time.perf_counter() - start)
            peak = max(peak, mem.peak)
        else:
            start = time.perf_counter()
            result = fn()
            seconds.append(time.perf_counter() - start)
        del result
    return Measurement(label, seconds, peak)


@dataclass
class Table:
    """One benchmark's table: rows of values, and notes (verdicts, context)."""

    title: str
    columns: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *values: Any) -> None:
        self.rows.append(values)

    def markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "---|" * len(self.columns))
        lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def _cell(v: Any) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def timing_row(m: Measurement, baseline: Measurement | None) -> list[Any]:
    """what, median, min, max, runs, peak MiB, time and memory ratios to the baseline."""
    ratio = m.median / baseline.median if baseline else 1.0
    if baseline is None:
        mem_ratio = "1.00x (baseline)"
    elif baseline.peak_bytes:
        mem_ratio = f"{m.peak_bytes / baseline.peak_bytes:.2f}x"
    else:
        mem_ratio = "n/a"
    return [
        m.label,
        m.median,
        min(m.seconds),
        max(m.seconds),
        len(m.seconds),
        m.peak_bytes / 2**20,
        f"{ratio:.2f}x" + (" (baseline)" if baseline is None else ""),
        mem_ratio,
    ]


def verdict(ok: bool, claim: str) -> str:
    return f"**{'MET' if ok else 'MISSED'}**: {claim}"
