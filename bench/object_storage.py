"""Benchmark 14: one account-year synced into ``s3://`` against the same sync to a local disk.

The S3 side is a real S3 HTTP API on loopback (moto's ``ThreadedMotoServer``, in this
process), reached as a user reaches one: the ``AWS_*`` environment variables only. Both
sides sync the six from the same simulator; the ratio is what object storage costs a
sync (whole-object PUTs, a HEAD and a GET for every read, the lease), not a network:
on a real service each request adds its round trip.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import wxframe
from bench._harness import TIMING_COLUMNS, Measurement, Table, measure, timing_row
from wxframe.simulator import serve

__all__ = ["object_storage"]

#: The six original endpoints, as the other store benchmarks (figures in RESULTS.md).
OFFLINE = list(wxframe.OFFLINE_ENDPOINTS)
TODAY = date(2024, 6, 1)


@contextlib.contextmanager
def _s3_on_loopback() -> Iterator[str]:
    """A moto S3 server and a bucket; the environment a user sets, restored after."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_REGION")
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench-secret",
                      AWS_ENDPOINT_URL=f"http://{host}:{port}", AWS_REGION="us-east-1")  # fmt: skip
    try:
        import boto3  # type: ignore[import-untyped]

        boto3.client("s3").create_bucket(Bucket="bench")
        yield "s3://bench"
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _read_all(store: wxframe.Store) -> int:
    return sum(len(store.read(name)) for name in OFFLINE)


def object_storage(smoke: bool) -> Table:
    days = 10 if smoke else 365  # smoke: tiny (tests/test_bench.py runs it)
    repeat = 1 if smoke else 3
    end = TODAY - timedelta(days=1)
    begin = end - timedelta(days=days - 1)
    with tempfile.TemporaryDirectory() as tmp, _s3_on_loopback() as bucket:
        with serve(seed=0, today=TODAY) as sim:

            def sync_to(root: str | Path) -> wxframe.SyncSummary:
                store = wxframe.Store(root)
                return store.sync(sim.client(max_workers=4), begin, end, progress=False,
                                  endpoints=OFFLINE)  # fmt: skip

            # interleaved, a fresh store each run: drift hits both alike
            runs: dict[str, list[float]] = {"local": [], "s3": []}
            for _ in range(repeat):
                where = uuid.uuid4().hex
                runs["local"] += measure("", lambda: sync_to(Path(tmp) / where),  # noqa: B023
                                         repeat=1, memory=False).seconds  # fmt: skip
                runs["s3"] += measure("", lambda: sync_to(f"{bucket}/{where}"),  # noqa: B023
                                      repeat=1, memory=False).seconds  # fmt: skip
        local_store, s3_store = wxframe.Store(Path(tmp) / where), wxframe.Store(f"{bucket}/{where}")
        rows = _read_all(s3_store)
        assert rows == _read_all(local_store), "the s3 store reads back other rows"
        read_local = measure("read the six back, local disk", lambda: _read_all(local_store),
                             repeat=repeat, memory=False)  # fmt: skip
        read_s3 = measure("read the six back, s3://", lambda: _read_all(s3_store),
                          repeat=repeat, memory=False)  # fmt: skip
    sync_local = Measurement("sync, local disk", runs["local"])
    sync_s3 = Measurement("sync, s3:// (moto on loopback)", runs["s3"])
    table = Table(
        f"14. Store on object storage: one account-year of the six ({days} days, "
        f"{rows:,} rows) synced and read on s3:// (moto on loopback) and on a local disk",
        TIMING_COLUMNS,
    )
    table.add(*timing_row(sync_local, None))
    table.add(*timing_row(sync_s3, sync_local))
    table.add(*timing_row(read_local, None))
    table.add(*timing_row(read_s3, read_local))
    table.notes.append(
        f"sync: s3:// takes {sync_s3.median / sync_local.median:.2f}x the local disk's time; "
        f"read: {read_s3.median / read_local.median:.2f}x (loopback: no network round trip; "
        "on a real service every PUT and GET adds one)"
    )
    table.notes.append(
        "moto serves from a thread of this process: its request handling shares the "
        "interpreter with the sync and the read, so the ratios are an upper bound for "
        "the store's own work (a read does a HEAD and a GET per object: the pointer, "
        "each month of the manifest, each data file)"
    )
    return table
