"""Benchmark 5: one account-year of all six endpoints in the store, against CSV and JSON.

The year is synced once from the simulator; then the same frames are written as the
store's parquet tree, as CSV and as JSON lines, and read back: the whole year of every
endpoint, and one month (partition pruning) against everything.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

import wxframe
from bench._harness import TIMING_COLUMNS, Measurement, Table, measure, timing_row, verdict
from wxframe.frames import NULLABLE, conform
from wxframe.simulator import serve
from wxframe.store._files import Layout
from wxframe.store._manifest import DayRecord, Manifest, load_manifest, save_manifest
from wxframe.store._sync import write_windows

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
                    write_windows(Layout(store.root), spec, str(account), [year],
                                  one.drop(columns="account"))  # fmt: skip

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


def scale(smoke: bool) -> list[Table]:
    """A store of many accounts and years: one account-month read, and a manifest save."""
    years, accounts = (1, 3) if smoke else (3, 50)
    repeat = 5 if smoke else 20
    end = TODAY - timedelta(days=1)
    month, name = "2024-05", "getuserreadhour"
    spec = wxframe.OFFLINE_ENDPOINTS[name]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        one, big = wxframe.Store(work / "one"), wxframe.Store(work / "big")
        with serve(seed=0, today=TODAY) as sim:
            client = sim.client(max_workers=8)
            # smoke: two months make the same tables (a year's sync was most of its time)
            for store, days in ((one, 31 if smoke else 365), (big, 62 if smoke else 365 * years)):
                store.sync(client, end - timedelta(days=days - 1), end, progress=False,
                           endpoints=OFFLINE)  # fmt: skip
        (appid,) = big.accounts()
        for k in range(1, accounts):  # the same account's files, under other appids
            _clone_account(big.root, appid, f"wx{k:016x}")

        def baseline(store: wxframe.Store) -> Callable[[], pd.DataFrame]:
            folder = store.root / name / f"account={appid}" / f"month={month}"
            (path,) = folder.glob("data-*.parquet")  # the one named (no grace period locally)

            def read() -> pd.DataFrame:
                df = pq.read_table(path).to_pandas(types_mapper=NULLABLE.get)
                return conform(spec, df, copy=False)

            return read

        reads = Table(
            f"9a. Store.read of one account-month ({name}, {month}) as the store grows",
            ("store", "what", "median ms", "min ms", "max ms", "runs", "vs pq.read_table"),
        )
        ratios, medians = {}, {}
        for label, store in ((f"1 account x {'31 days' if smoke else '1 year'}", one),
                             (f"{accounts} accounts x {years} years", big)):  # fmt: skip
            ours = measure(label, lambda s=store: s.read(name, f"{month}-01", f"{month}-31",
                                                         account=appid), repeat=repeat,
                           memory=False)  # fmt: skip
            base = measure(label, baseline(store), repeat=repeat, memory=False)
            assert len(store.read(name, f"{month}-01", f"{month}-31", account=appid)) == len(
                baseline(store)()
            )
            for what, m in (("pq.read_table + the same typing (baseline)", base),
                            ("Store.read(..., account=)", ours)):  # fmt: skip
                reads.add(label, what, 1000 * m.median, 1000 * min(m.seconds),
                          1000 * max(m.seconds), len(m.seconds),
                          f"{m.median / base.median:.2f}x")  # fmt: skip
            ratios[label], medians[label] = ours.median / base.median, ours.median
        small, large = medians
        reads.notes.append(verdict(ratios[large] <= 1.2, f"at most 1.2x of pq.read_table "
                                   f"at {large} ({ratios[large]:.2f}x)"))  # fmt: skip
        growth = medians[large] / medians[small]
        reads.notes.append(verdict(growth < 1.3, f"growth from {small} to {large} under 1.3x "
                                   f"({growth:.2f}x)"))  # fmt: skip

        saves = Table(
            "9b. Saving a manifest after a day's sync, as the store's history grows",
            ("history", "manifest bytes on disk", "median ms", "min ms", "max ms", "runs",
             "vs 1 year"),
        )  # fmt: skip
        at_first = None
        for label, store in ((f"{'31 days' if smoke else '1 year'}", one),
                             (f"{years} years", big)):  # fmt: skip
            manifest = load_manifest(Layout(store.root), appid)
            size = sum(p.stat().st_size for p in (store.root / "_manifest").glob(f"{appid}*"))
            size += sum(p.stat().st_size for p in (store.root / "_manifest" / appid).rglob("*"))

            def save(s: wxframe.Store = store, m: Manifest = manifest) -> None:
                day = DayRecord(at="2024-06-01T12:00:00+08:00", final=True, rows=1)
                for endpoint in m.endpoints.values():  # what one day's sync changes
                    endpoint.days[end.isoformat()] = day
                save_manifest(Layout(s.root), appid, m)

            m = measure(label, save, repeat=repeat, memory=False)
            at_first = at_first or m.median
            saves.add(label, size, 1000 * m.median, 1000 * min(m.seconds), 1000 * max(m.seconds),
                      len(m.seconds), f"{m.median / at_first:.2f}x")  # fmt: skip
        ratio = m.median / at_first
        saves.notes.append(verdict(ratio <= 2, f"a save at {years} years at most 2x its cost at "
                                   f"the first ({ratio:.2f}x)"))  # fmt: skip
        saves.notes.append(
            "Each save writes the months it changed (one per endpoint here) and the account's "
            "own file, each atomically (temporary file, fsync, rename, fsync of the folder)."
        )
    return [reads, saves]


def _clone_account(root: Path, appid: str, other: str) -> None:
    """``appid``'s files and manifest again as ``other``'s, hard-linked (a store never
    changes a file in place, so the links stay independent for reads)."""
    for folder in root.glob(f"*/account={appid}"):
        for path in folder.rglob("*.parquet"):
            target = folder.parent / f"account={other}" / path.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
    manifests = root / "_manifest"
    shutil.copytree(manifests / appid, manifests / other, copy_function=os.link)
    top = json.loads((manifests / f"{appid}.json").read_text("utf-8"))
    top["account"] = other
    (manifests / f"{other}.json").write_text(json.dumps(top), "utf-8")


def checksums(smoke: bool) -> Table:
    """What a read's checks cost: every month file of an account-year of the six, read
    plain, with its page checksums checked, and as ``Store.read`` reads it (page
    checksums and the file's SHA-256), the three interleaved run by run."""
    days = 31 if smoke else 365
    rounds = 3 if smoke else 40
    end = TODAY - timedelta(days=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        with serve(seed=0, today=TODAY) as sim:
            store = wxframe.Store(root)
            store.sync(sim.client(max_workers=4), end - timedelta(days=days - 1), end,
                       progress=False, endpoints=OFFLINE)  # fmt: skip
        files = sorted(root.glob("*/account=*/month=*/data-*.parquet"))
        layout = Layout(root)
        (appid,) = store.accounts()
        manifest = load_manifest(layout, appid)
        digests = {
            layout.data_file(wxframe.ENDPOINTS[name], appid, month, record.name): record.digests
            for name, entry in manifest.endpoints.items()
            for month, record in entry.files.items()
        }
        size = sum(p.stat().st_size for p in files)
        bare = Path(tmp) / "bare.parquet"
        plain_size = 0
        for path in files:  # the same tables without page checksums, for their size
            pq.write_table(pq.read_table(path), bare, compression="zstd")
            plain_size += bare.stat().st_size

        def plain() -> int:
            return sum(pq.ParquetFile(p).read().num_rows for p in files)

        def pages() -> int:
            return sum(
                pq.ParquetFile(p, page_checksum_verification=True).read().num_rows for p in files
            )

        def as_read() -> int:
            return sum(layout.read_file(p, digests=digests[p]).num_rows for p in files)

        def read_all() -> int:
            return sum(len(store.read(n)) for n in wxframe.OFFLINE_ENDPOINTS)

        assert plain() == pages() == as_read(), "the checks changed what was read"
        labels = {
            f"{len(files)} month files, pq.ParquetFile.read (baseline, unchecked)": plain,
            "... with page_checksum_verification=True": pages,
            "... as Store.read reads them (page CRCs + the file's SHA-256)": as_read,
            f"Store.read of all six, all {days} days (typed; for scale)": read_all,
        }
        runs: dict[str, list[float]] = {label: [] for label in labels}
        for _ in range(rounds):  # interleaved: drift hits every variant alike
            for label, fn in labels.items():
                runs[label] += measure(label, fn, repeat=1, memory=False).seconds
        ms = {label: Measurement(label, seconds) for label, seconds in runs.items()}
        table = Table(
            f"11. What a read's checks cost: {days} days of the six, one account "
            f"({len(files)} month files, {size:,} bytes)",
            TIMING_COLUMNS,
        )
        base = next(iter(ms.values()))
        for m in ms.values():
            table.add(*timing_row(m, None if m is base else base))
        medians = [m.median for m in ms.values()]
        fastest = [min(m.seconds) for m in ms.values()]
        extra = medians[2] - medians[0]
        table.notes.append(
            f"page checksums: {medians[1] / medians[0]:.2f}x of the unchecked file reads "
            f"(fastest runs: {fastest[1] / fastest[0]:.2f}x); with the SHA-256 too, "
            f"{medians[2] / medians[0]:.2f}x (fastest: {fastest[2] / fastest[0]:.2f}x), "
            f"{1000 * extra:+.1f} ms a year, {100 * extra / medians[3]:.1f} % of the typed "
            "year's Store.read"
        )
        table.notes.append(
            f"on disk: {size:,} bytes with page checksums, {plain_size:,} without "
            f"({100 * (size - plain_size) / plain_size:+.2f} %)"
        )
        table.notes.append(verdict(extra / medians[3] < 0.1, "the checks add under 10 % to "
                                   "a year's Store.read"))  # fmt: skip
    return table
