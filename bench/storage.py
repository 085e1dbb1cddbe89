"""Benchmark 5: one account-year of all six endpoints in the store, against CSV and JSON.

The year is synced once from the simulator; then the same frames are written as the
store's parquet tree, as CSV and as JSON lines, and read back: the whole year of every
endpoint, and one month (partition pruning) against everything.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

import wxframe
from bench._harness import TIMING_COLUMNS, Table, measure, timing_row, verdict
from wxframe.simulator import serve

#: The benchmarks measure the six original endpoints (figures in RESULTS.md).
OFFLINE = list(wxframe.OFFLINE_ENDPOINTS)

TODAY = date(2024, 6, 1)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def storage(smoke: bool) -> list[Table]:
    days = 31 if smoke else 365
    repeat = 1 if smoke else 5
    end = TODAY - timedelta(days=1)
    begin = end - timedelta(days=days - 1)
    month = ("2024-05-01", "2024-05-31")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with serve(seed=0, today=TODAY) as sim:
            client = sim.client(max_workers=4)
            source = wxframe.Store(work / "source")
            source.sync(client, begin, end, progress=False, endpoints=OFFLINE)
        frames = {name: source.read(name) for name in wxframe.OFFLINE_ENDPOINTS}
        rows = sum(len(df) for df in frames.values())

        # ---- write: the same frames as the store's tree, as CSV and as JSON lines
        def write_store() -> None:
            target = work / "store"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source.root / "_manifest", target / "_manifest")
            store = wxframe.Store(target)
            year = wxframe.Window(begin, end)
            for name, df in frames.items():
                for account, one in df.groupby("account"):
                    spec = wxframe.OFFLINE_ENDPOINTS[name]
                    store._write_windows(spec, str(account), [year], one.drop(columns="account"))

        def write_csv() -> None:
            (work / "csv").mkdir(exist_ok=True)
            for name, df in frames.items():
                df.to_csv(work / "csv" / f"{name}.csv", index=False)

        def write_json() -> None:
            (work / "json").mkdir(exist_ok=True)
            for name, df in frames.items():
                df.to_json(work / "json" / f"{name}.jsonl", orient="records", lines=True,
                           date_format="iso", force_ascii=False)  # fmt: skip

        writes = {
            "CSV (baseline)": measure("CSV (baseline)", write_csv, repeat=repeat),
            "JSON lines": measure("JSON lines", write_json, repeat=repeat),
            "wxframe store (parquet, zstd, monthly files)": measure(
                "wxframe store (parquet, zstd, monthly files)", write_store, repeat=repeat
            ),
        }
        sizes = {
            "CSV (baseline)": _size(work / "csv"),
            "JSON lines": _size(work / "json"),
            "wxframe store (parquet, zstd, monthly files)": _size(work / "store"),
        }
        store = wxframe.Store(work / "store")
        write = Table(
            f"5a. Store: writing one account-year ({days} days, {rows:,} rows, six endpoints)",
            (*TIMING_COLUMNS, "bytes on disk", "size vs CSV"),
        )
        base = writes["CSV (baseline)"]
        for label, m in writes.items():
            ratio = f"{sizes[label] / sizes['CSV (baseline)']:.2f}x"
            write.add(*timing_row(m, None if m is base else base), sizes[label], ratio)

        # ---- read: everything, one month, against CSV
        def read_csv() -> dict[str, pd.DataFrame]:
            return {n: pd.read_csv(work / "csv" / f"{n}.csv") for n in wxframe.OFFLINE_ENDPOINTS}

        def read_all() -> dict[str, pd.DataFrame]:
            return {n: store.read(n) for n in wxframe.OFFLINE_ENDPOINTS}

        def read_month() -> dict[str, pd.DataFrame]:
            return {n: store.read(n, *month) for n in wxframe.OFFLINE_ENDPOINTS}

        csv = measure("pd.read_csv, all six (baseline, untyped)", read_csv, repeat=repeat)
        everything = measure(f"Store.read, all six, all {days} days (typed)", read_all,
                             repeat=repeat)  # fmt: skip
        one_month = measure(f"Store.read, all six, {month[0][:7]} (pruned)", read_month,
                            repeat=repeat)  # fmt: skip
        read = Table(f"5b. Store: reading it back ({days} days, {rows:,} rows)", TIMING_COLUMNS)
        read.add(*timing_row(csv, None))
        read.add(*timing_row(everything, csv))
        read.add(*timing_row(one_month, csv))
        assert all(
            read_all()[n].drop(columns="account").equals(frames[n].drop(columns="account"))
            for n in wxframe.OFFLINE_ENDPOINTS
        ), "the store does not read back what was written"
        read.notes.append(verdict(everything.median < 0.5, f"the full-year read under 0.5 s "
                                  f"({everything.median:.3f} s)"))  # fmt: skip
        speedup = everything.median / one_month.median
        read.notes.append(verdict(speedup >= 5, f"one month at least 5x faster than everything "
                                  f"({speedup:.1f}x)"))  # fmt: skip
    return [write, read]
