"""A sync process killed with SIGKILL at 20 seeded moments: nothing lost, nothing doubled.

Each kill lands at a seeded point of progress (windows the manifest records) plus a
seeded delay of up to 0.3 s, so kills fall before, during and after writes. After every
kill the store must read cleanly, and a copy of it must complete to exactly the store a
clean sync builds. The killed syncs resume one another: the last one finishes the job.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from tests.conftest import assert_same_store, windows_written
from wxframe import OFFLINE_ENDPOINTS, Store, StoreDamagedWarning
from wxframe.simulator import serve

#: These tests are about the six original endpoints' history.
OFFLINE = list(OFFLINE_ENDPOINTS)

KILLS = 20
ARGS = ["--simulator", "--seed", "0", "--today", "2024-06-01", "--begin", "2024-04-01",
        "--end", "2024-05-31", "--quiet", "--family", "offline"]  # fmt: skip
SYNC = [sys.executable, "-m", "wxframe", "sync"]


@pytest.mark.slow
def test_twenty_kills_lose_nothing_and_every_rerun_completes(tmp_path: Path) -> None:
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    subprocess.run([*SYNC, "--store", str(clean), *ARGS], check=True, capture_output=True)
    total = windows_written(clean)
    rng = random.Random(20)
    moments = sorted((rng.randrange(0, total - 80), rng.uniform(0.0, 0.3)) for _ in range(KILLS))
    kills, reruns, resumed_rows = 0, 0, 0
    with serve(seed=0, today="2024-06-01") as sim:
        for i, (point, delay) in enumerate(moments):
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            proc = subprocess.Popen([*SYNC, "--store", str(killed), *ARGS], **quiet)
            deadline = time.monotonic() + 120
            while proc.poll() is None and windows_written(killed) < point:
                assert time.monotonic() < deadline, "the sync made no progress"
                time.sleep(0.002)
            time.sleep(delay)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
            # readable after every kill, never a duplicate key, and not taken for damage:
            # a kill between a file's rename and the manifest's update is a crash to
            # resume (the file matches the record staged before the rename)
            store = Store(killed)
            for name, spec in OFFLINE_ENDPOINTS.items():
                assert not store.read(name).duplicated(["account", *spec.key]).any()
            assert store.verify().empty, store.verify()[["endpoint", "month", "problem"]]
            # and a rerun from this state completes to the clean store
            copy = tmp_path / f"rerun-{i}"
            shutil.copytree(killed, copy)
            with warnings.catch_warnings():
                warnings.simplefilter("error", StoreDamagedWarning)
                summary = Store(copy).sync(
                    sim.client(), "2024-04-01", "2024-05-31", progress=False, endpoints=OFFLINE
                )
            resumed_rows += summary.rows_written
            assert_same_store(copy, clean)
            assert not list(copy.rglob("*.tmp"))
            shutil.rmtree(copy)
            reruns += 1
    assert kills == KILLS, f"only {kills} of {KILLS} syncs were still running when killed"
    subprocess.run([*SYNC, "--store", str(killed), *ARGS], check=True, capture_output=True)
    rows = assert_same_store(killed, clean)
    assert not list(killed.rglob("*.tmp"))
    print(f"\ncrash: {kills} SIGKILLs, store readable after each, {reruns} reruns completed "
          f"({resumed_rows:,} rows fetched again in total), final {rows:,} rows identical to "
          "a clean sync; lost 0, duplicated 0")  # fmt: skip
