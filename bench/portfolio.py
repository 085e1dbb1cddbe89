"""Benchmark 12: ``compare_accounts`` on 200 accounts x 90 days, against pyarrow alone.

The store is built once: four simulated accounts (seeds 0..3) are synced for 90 days
of what the comparison reads (getbizsummary, getusercumulate, getarticletotaldetail),
then each account's files and manifest are copied under 49 further appids (the files
byte for byte, the manifest with its account renamed), so the store holds 200 accounts
whose every file a read checks against its manifest's digests, as a synced one. The
baseline reads the same columns and rows of the same files with ``pyarrow.dataset``
directly (hive partitions, the same filters), without the store's manifests, checks or
the grouping that makes the table.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

import wxframe
from bench._harness import TIMING_COLUMNS, Table, measure, timing_row, verdict
from wxframe.simulator import serve

TODAY = date(2026, 3, 1)
ENDPOINTS = ("getbizsummary", "getusercumulate", "getarticletotaldetail")
COLUMNS = {
    "getbizsummary": ["read_user", "share_user", "like_user", "zaikan_user", "comment_count"],
    "getusercumulate": ["cumulate_user"],
    "getarticletotaldetail": ["msgid", "stat_date", "read_user", "read_finish_rate"],
}


def _build(root: Path, seeds: int, copies: int, days: int) -> list[str]:
    """``seeds`` synced accounts, each copied ``copies`` times: the store's appids."""
    end = TODAY - timedelta(days=1)
    begin = end - timedelta(days=days - 1)
    store = wxframe.Store(root)
    synced = []
    for seed in range(seeds):
        with serve(seed=seed, today=TODAY) as sim:
            store.sync(sim.client(), begin, end, endpoints=list(ENDPOINTS), progress=False)
            synced.append(sim.appid)
    accounts = list(synced)
    for i, source in enumerate(synced):
        for k in range(1, copies + 1):
            name = f"wxbench{i:02d}{k:07d}"
            for endpoint in ENDPOINTS:
                shutil.copytree(
                    root / endpoint / f"account={source}", root / endpoint / f"account={name}"
                )
            shutil.copytree(root / "_manifest" / source, root / "_manifest" / name)
            manifest = json.loads((root / "_manifest" / f"{source}.json").read_text())
            manifest["account"] = name
            (root / "_manifest" / f"{name}.json").write_text(json.dumps(manifest))
            accounts.append(name)
    return accounts


def _direct(root: Path, accounts: list[str], begin: date, end: date) -> int:
    """The same columns and rows (``begin`` is the previous period's first day), read
    with ``pyarrow.dataset`` alone."""
    rows = 0
    for endpoint in ENDPOINTS:
        data = ds.dataset(root / endpoint, format="parquet", partitioning="hive")
        kind = data.schema.field("ref_date").type
        low = begin - timedelta(days=1) if endpoint == "getusercumulate" else begin
        where = (
            ds.field("account").isin(accounts)
            & (ds.field("ref_date") >= pa.scalar(pd.Timestamp(low), kind))
            & (ds.field("ref_date") <= pa.scalar(pd.Timestamp(end), kind))
        )
        if "channel" in data.schema.names:
            where &= ds.field("channel") == "all"
        columns = ["account", "ref_date", *COLUMNS[endpoint]]
        rows += data.to_table(columns=columns, filter=where).num_rows
    return rows


def portfolio(smoke: bool) -> Table:
    seeds, copies, days = (2, 1, 30) if smoke else (4, 49, 90)
    repeat = 1 if smoke else 5
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        accounts = _build(root, seeds, copies, days)
        store = wxframe.Store(root)
        end = TODAY - timedelta(days=1)
        begin = end - timedelta(days=days - 1)
        table = Table(
            f"12. compare_accounts: {len(accounts)} accounts x {days} days "
            f"(and the {days} days before, not held)",
            TIMING_COLUMNS,
        )
        compared = wxframe.compare_accounts(store, begin=begin, end=end)
        assert len(compared) == len(accounts) and compared["index"].notna().all()
        base = measure(
            "baseline: pyarrow.dataset, same columns and filters",
            lambda: _direct(root, accounts, begin - timedelta(days=days), end),
            repeat=repeat,
        )
        mine = measure(
            "wxframe.compare_accounts (the table, index and rank)",
            lambda: wxframe.compare_accounts(store, begin=begin, end=end),
            repeat=repeat,
        )
        table.add(*timing_row(base, None))
        table.add(*timing_row(mine, base))
        ratio = mine.median / base.median
        table.notes.append(
            f"compare_accounts takes {ratio:.2f}x the time of reading its columns with "
            f"pyarrow alone ({mine.median:.2f} s against {base.median:.2f} s)"
        )
        table.notes.append(
            verdict(ratio < 2, "compare_accounts within 2x of pyarrow.dataset")
            + (" (smoke sizes: the figure says little)" if smoke else "")
        )
    return table
