"""One timed ``Store.sync`` against a running simulator, in a process of its own; one
line of JSON out. Run by path with ``PYTHONPATH`` at the tree whose wxframe is measured
(:func:`bench.api.sync_pairs`), so it imports nothing but wxframe and the standard
library: the code before a change has no ``bench`` of this shape.

``python bench/_sync_once.py FAMILY WORKERS BEGIN END BASE_URL APPID SECRET LATENCY``
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from datetime import date
from typing import Any

# This file's folder is sys.path[0]: its modules (api, storage ...) are not to be found
# by the code measured.
sys.path.pop(0)

import wxframe


def main(argv: list[str]) -> dict[str, Any]:
    family, workers, begin, end, base, appid, secret, latency = argv
    endpoints = list(
        wxframe.CURRENT_ENDPOINTS if family == "current" else wxframe.OFFLINE_ENDPOINTS
    )
    first, last = date.fromisoformat(begin), date.fromisoformat(end)
    # A first sync warms this process (imports, cached schemas) as one long-lived
    # process would be; the simulator's caches are warm from the parent's first run.
    with tempfile.TemporaryDirectory() as warm:
        warm_client = wxframe.Client(appid, secret, base_url=base, max_workers=16)
        wxframe.Store(warm).sync(warm_client, first, last, progress=False, endpoints=endpoints)
    client = wxframe.Client(appid, secret, base_url=base, max_workers=int(workers))
    # When each answer came back (in its worker): the time after the last one is what the
    # sync still had to do with nothing left to wait for.
    # With it, the CPU the syncing thread had used by then: what it used after the last
    # answer is the work left at the end, in a figure the machine's load moves little.
    answered: list[tuple[float, float]] = []
    fetch_window = wxframe.Client.fetch_window
    caller = time.pthread_getcpuclockid(threading.get_ident())

    def timed(self: wxframe.Client, *args: Any, **kwargs: Any) -> Any:
        page = fetch_window(self, *args, **kwargs)
        answered.append((time.perf_counter(), time.clock_gettime(caller)))
        return page

    wxframe.Client.fetch_window = timed  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as root:
        used = time.process_time()
        started = time.perf_counter()
        summary = wxframe.Store(root).sync(client, first, last, progress=False, endpoints=endpoints)
        seconds = time.perf_counter() - started
        used = time.process_time() - used
        ended = time.clock_gettime(caller)
    at, caller_cpu = max(answered) if answered else (started + seconds, ended)
    return {
        "seconds": seconds,
        "calls": summary.calls,
        "bound": summary.calls * float(latency) / int(workers),
        "cpu": used,
        "tail": seconds - (at - started),
        "tail_cpu": ended - caller_cpu,
        "wxframe": os.path.dirname(os.path.dirname(wxframe.__file__)),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
