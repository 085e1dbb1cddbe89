"""Benchmarks 1-3 and 7: calls made, concurrency against the latency bound, incremental
sync, and Store.sync itself against the latency bound, for both families.

All talk HTTP to the simulator on loopback, like a user's code talks to the platform.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

import wxframe
from bench._harness import PeakMemory, Table, measure, verdict
from wxframe.simulator import serve

#: The benchmarks measure the six original endpoints (figures in RESULTS.md).
OFFLINE = list(wxframe.OFFLINE_ENDPOINTS)

TODAY = date(2024, 6, 1)
END = TODAY - timedelta(days=1)
#: The families as bench/_sync_once.py names them.
_FAMILIES = {"current": list(wxframe.CURRENT_ENDPOINTS), "six": OFFLINE}


def calls(smoke: bool) -> Table:
    """A backfill of all six endpoints: datacube calls against the minimum and a per-day loop."""
    days = 30 if smoke else 365
    begin = END - timedelta(days=days - 1)
    minimum = sum(math.ceil(days / s.max_span) for s in wxframe.OFFLINE_ENDPOINTS.values())
    per_day = days * len(wxframe.OFFLINE_ENDPOINTS)
    table = Table(
        f"1. Calls: a {days}-day backfill of all six endpoints ({begin}..{END})",
        ("what", "datacube calls", "vs minimum", "rows", "seconds"),
    )
    with serve(seed=0, today=TODAY) as sim, tempfile.TemporaryDirectory() as root:
        client = sim.client(max_workers=4)
        start = time.perf_counter()
        summary = wxframe.Store(root).sync(client, begin, END, progress=False, endpoints=OFFLINE)
        seconds = time.perf_counter() - start
        made = sim.stats.datacube_calls
    table.add("minimum: sum of ceil(days / span)", minimum, "1.00x", "", "")
    table.add("per-day loop with a raw SDK", per_day, f"{per_day / minimum:.2f}x", "", "")
    table.add("wxframe Store.sync", made, f"{made / minimum:.2f}x", summary.rows_written, seconds)
    table.notes.append(verdict(made == minimum, f"exactly the minimum ({made} == {minimum})"))
    return table


def concurrency(smoke: bool) -> Table:
    """A 90-day load of all six endpoints at 50 ms latency, by max_workers, against the bound."""
    days, latency = (14, 0.02) if smoke else (90, 0.05)
    workers = (1, 4) if smoke else (1, 4, 8, 16)
    repeat = 1 if smoke else 5
    begin = END - timedelta(days=days - 1)
    table = Table(
        f"2. Concurrency: a {days}-day load of all six endpoints, "
        f"{latency * 1000:.0f} ms latency per call",
        ("max_workers", "calls", "latency bound s", "median s", "min s", "max s", "runs",
         "vs bound", "vs 1 worker"),
    )  # fmt: skip
    one_worker = None
    # The simulator runs in its own process, as the platform would be remote: in this
    # process its threads would share the client's GIL and measure Python, not waiting.
    with _simulator_process(latency) as client_for:
        # Warm the simulator's per-article cache so every run measures the same work.
        for name in wxframe.OFFLINE_ENDPOINTS:
            wxframe.load(client_for(8), name, begin, END, progress=False)
        for n in workers:
            client = client_for(n)
            before = client.counts["calls"]

            def load_all(client: wxframe.Client = client) -> int:
                frames = wxframe.load_many(
                    client, begin, END, progress=False, endpoints=list(wxframe.OFFLINE_ENDPOINTS)
                )
                return sum(len(df) for df in frames.values())

            m = measure(f"{n}", load_all, repeat=repeat, memory=False)
            made = (client.counts["calls"] - before) // repeat
            bound = made * latency / n
            one_worker = one_worker or m.median
            speedup = f"{one_worker / m.median:.1f}x faster"
            table.add(n, made, bound, m.median, min(m.seconds), max(m.seconds), repeat,
                      f"{m.median / bound:.2f}x", speedup)  # fmt: skip
            if n == 8:
                ratio = m.median / bound
                claim = f"within 1.3x of the bound at 8 workers ({ratio:.3f}x)"
                table.notes.append(verdict(ratio <= 1.3, claim))
    table.notes.append(
        "The bound is calls x latency / workers: time spent waiting if nothing else cost "
        "anything. The simulator (`wxframe simulate`) runs in its own process on the same "
        "cores; calls are the client's count of datacube requests. The load is "
        "`wxframe.load_many` (one pool across the six endpoints)."
    )
    return table


def incremental(smoke: bool) -> Table:
    """The sync one simulated day later: calls made against the expected."""
    days = 14 if smoke else 90
    begin = END - timedelta(days=days - 1)
    table = Table(
        f"3. Incremental: a {days}-day store synced again one simulated day later",
        ("sync", "calls", "expected", "windows skipped", "seconds"),
    )
    with serve(seed=0, today=TODAY) as sim, tempfile.TemporaryDirectory() as root:
        store = wxframe.Store(root)
        first = store.sync(sim.client(), begin, END, progress=False, endpoints=OFFLINE)
        table.add("first (backfill)", first.calls, "", first.windows_skipped, first.seconds)
        sim.advance(1)
        now = sim.now()
        # Expected, from the platform's rules rather than the store's code: one window per
        # endpoint for the new day, plus getarticletotal's sending days whose 7 days were
        # not all complete (08:00 of day + 7) when the first sync fetched them at noon.
        first_at = datetime(TODAY.year, TODAY.month, TODAY.day, 12)
        held = [begin + timedelta(days=k) for k in range(days)]
        not_final = [
            d for d in held if datetime(d.year, d.month, d.day, 8) + timedelta(days=7) > first_at
        ]
        expected = len(wxframe.OFFLINE_ENDPOINTS) + len(not_final)
        second = store.sync(sim.client(), progress=False, endpoints=OFFLINE)
        table.add(f"one day later ({now:%Y-%m-%d %H:%M})", second.calls, expected,
                  second.windows_skipped, second.seconds)  # fmt: skip
    table.notes.append(verdict(second.calls == expected, f"{second.calls} == {expected} calls"))
    return table


def sync_bound(smoke: bool) -> Table:
    """Store.sync of a year of each family at 40 ms latency, against the latency bound."""
    days, latency = (21, 0.02) if smoke else (365, 0.04)
    workers = (8,) if smoke else (8, 16)
    table = Table(
        f"7. Store.sync against the latency bound: {days} days, {latency * 1000:.0f} ms a call",
        ("family", "max_workers", "calls", "latency bound s", "sync s", "vs bound"),
    )
    targets = {8: 1.2, 16: 1.5}
    families = (
        ("offline six", OFFLINE, TODAY),
        ("current family", list(wxframe.CURRENT_ENDPOINTS), date(2026, 12, 1)),
    )
    for family, endpoints, today in families:
        end = today - timedelta(days=1)
        begin = end - timedelta(days=days - 1)
        with _simulator_process(latency, today) as client_for:
            with tempfile.TemporaryDirectory() as warm:  # the simulator's caches, once
                wxframe.Store(warm).sync(client_for(16), begin, end, progress=False,
                                         endpoints=endpoints)  # fmt: skip
            for n in workers:
                with tempfile.TemporaryDirectory() as root:
                    started = time.perf_counter()
                    summary = wxframe.Store(root).sync(
                        client_for(n), begin, end, progress=False, endpoints=endpoints
                    )
                    seconds = time.perf_counter() - started
                bound = summary.calls * latency / n
                ratio = seconds / bound
                table.add(family, n, summary.calls, bound, seconds, f"{ratio:.2f}x")
                if not smoke:
                    claim = f"{family}, {n} workers: at most {targets[n]}x ({ratio:.2f}x)"
                    table.notes.append(verdict(ratio <= targets[n], claim))
    table.notes.append(
        "One sync per row into an empty store, the simulator in its own process (warmed "
        "by a first sync). The bound is calls x latency / workers."
    )
    return table


def sync_pairs(smoke: bool, before: str | None = None) -> Table:
    """80 days of each family, 8 workers at 40 ms, against the latency bound and, paired
    and interleaved, against the code of another tree (``before``: a worktree of an
    earlier commit) on the same simulators (issue 26's figure)."""
    days, latency, workers = (14, 0.02, 8) if smoke else (80, 0.04, 8)
    repeat = 1 if smoke else 7
    here = os.path.dirname(os.path.dirname(os.path.abspath(wxframe.__file__)))
    trees = {"now": here} | ({"before": os.path.abspath(before)} if before else {})
    table = Table(
        f"7b. Store.sync of {days} days at {workers} workers, {latency * 1000:.0f} ms a call, "
        "paired with the code before",
        ("family", "code", "calls", "latency bound s", "median s", "min s", "max s", "runs",
         "vs bound", "vs before", "client CPU ms a call", "s after the last answer",
         "CPU s after it"),
    )  # fmt: skip
    families = (("current family", "current", date(2026, 12, 1)), ("offline six", "six", TODAY))
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_sync_once.py")
    for family, kind, today in families:
        end = today - timedelta(days=1)
        begin = end - timedelta(days=days - 1)
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        with _simulator(latency, today) as sim:
            args = [kind, str(workers), begin.isoformat(), end.isoformat(), sim["WX_API_BASE"],
                    sim["WX_APPID"], sim["WX_APPSECRET"], str(latency)]  # fmt: skip
            with tempfile.TemporaryDirectory() as warm:  # the simulator's caches, once
                client = wxframe.Client(sim["WX_APPID"], sim["WX_APPSECRET"],
                                        base_url=sim["WX_API_BASE"], max_workers=16)  # fmt: skip
                wxframe.Store(warm).sync(client, begin, end, progress=False,
                                         endpoints=_FAMILIES[kind])  # fmt: skip
            for k in range(repeat):  # interleaved, the order swapped every other round
                for name in list(trees) if k % 2 == 0 else list(trees)[::-1]:
                    done = subprocess.run(
                        [sys.executable, script, *args], capture_output=True, text=True,
                        env=os.environ | {"PYTHONPATH": trees[name]}, check=False,
                    )  # fmt: skip
                    if done.returncode:
                        raise RuntimeError(f"a sync of {name} failed: {done.stderr[-2000:]}")
                    runs[name].append(json.loads(done.stdout.splitlines()[-1]))
        medians = {name: statistics.median(r["seconds"] for r in rs) for name, rs in runs.items()}
        for name, rs in runs.items():
            seconds = [r["seconds"] for r in rs]
            bound = rs[0]["bound"]
            cpu = statistics.median(1000 * r["cpu"] / r["calls"] for r in rs)
            tail = statistics.median(r["tail"] for r in rs)
            tail_cpu = statistics.median(r["tail_cpu"] for r in rs)
            # Each run against the run of the other code in its own round (same load).
            paired = (
                statistics.median(
                    a["seconds"] / b["seconds"] for a, b in zip(rs, runs["before"], strict=True)
                )
                if "before" in runs
                else None
            )
            versus = f"{paired:.2f}x" if paired is not None else ""
            table.add(family, name, rs[0]["calls"], bound, medians[name], min(seconds),
                      max(seconds), len(rs), f"{medians[name] / bound:.2f}x", versus, cpu,
                      tail, tail_cpu)  # fmt: skip
    table.notes.append(
        "Each sync in a process of its own (warmed by one sync first), into an empty store, "
        f"the simulator in another; {repeat} rounds, the codes alternated in each. The "
        "bound is calls x latency / workers. vs before: the median of each run's time over "
        "the other code's run in the same round. s after the last answer: the time the sync "
        "took after its last answer came back (writing what it still held), and the CPU its "
        "thread used in that time (what the machine's load moves least). "
        "`python -m bench --only sync_pairs --before DIR` with DIR a worktree of the "
        "earlier commit (`git worktree add DIR 68806b2`)."
    )
    return table


@contextlib.contextmanager
def _simulator_process(
    latency: float, today: date = TODAY
) -> Iterator[Callable[[int], wxframe.Client]]:
    """``wxframe simulate`` in a subprocess, and a factory of clients for it."""
    with _simulator(latency, today) as settings:

        def client_for(workers: int) -> wxframe.Client:
            appid, secret = settings["WX_APPID"], settings["WX_APPSECRET"]
            return wxframe.Client(
                appid, secret, base_url=settings["WX_API_BASE"], max_workers=workers
            )

        yield client_for


@contextlib.contextmanager
def _simulator(latency: float, today: date = TODAY) -> Iterator[dict[str, str]]:
    """``wxframe simulate`` in a subprocess: its WX_API_BASE, WX_APPID and WX_APPSECRET."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "wxframe", "simulate", "--today", today.isoformat(),
         "--latency-ms", str(latency * 1000)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        settings: dict[str, str] = {}
        assert proc.stdout is not None
        while len(settings) < 3:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("wxframe simulate exited before announcing itself")
            key, _, value = line.strip().partition("=")
            if key in ("WX_API_BASE", "WX_APPID", "WX_APPSECRET"):
                settings[key] = value
        yield settings
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def many_accounts(smoke: bool) -> Table:
    """Store.sync_many over many accounts, 16 requests in flight in all, against the bound."""
    n, days, latency = (4, 7, 0.02) if smoke else (200, 30, 0.04)
    workers, each = 16, 4  # in flight in all; each account's own limit
    today = date(2026, 12, 1)
    end = today - timedelta(days=1)
    begin = end - timedelta(days=days - 1)
    endpoints = list(wxframe.CURRENT_ENDPOINTS)
    table = Table(
        f"10. Many accounts: {n} accounts x {days} days of the current family, "
        f"{latency * 1000:.0f} ms a call, {workers} requests in flight",
        ("how", "calls", "latency bound s", "seconds", "vs bound", "client CPU s",
         "simulator CPU s", "peak MiB"),
    )  # fmt: skip
    with _simulators_process(n, latency, today) as (clients_for, simulator_cpu):
        with tempfile.TemporaryDirectory() as warm:  # the simulators' caches, once
            wxframe.Store(warm).sync_many(clients_for(each), begin, end, endpoints=endpoints)
        runs = (  # sync_many first: what the target is about, on the freshest simulators
            (f"Store.sync_many(max_workers={workers}), {each} per account", "shared pool"),
            ("one Store.sync after another (max_workers=16)", "one by one"),
            (f"sync_accounts(processes=2, max_workers={workers // 2})", "processes"),
        )
        shared = 0.0
        for how, kind in runs:
            clients = clients_for(workers if kind == "one by one" else each)
            entries = [
                wxframe.Account(c.appid, f"WXF_BENCH_SECRET_{k}", c.base_url, max_workers=each)
                for k, c in enumerate(clients)
            ]
            with tempfile.TemporaryDirectory() as root:
                store = wxframe.Store(root)
                served, used = simulator_cpu(), time.process_time()
                with PeakMemory() as mem:
                    started = time.perf_counter()
                    if kind == "processes":
                        results = wxframe.sync_accounts(store, entries, begin, end,
                                                        endpoints=endpoints,
                                                        max_workers=workers // 2,
                                                        processes=2)  # fmt: skip
                    elif kind == "one by one":
                        results = {
                            c.appid: store.sync(c, begin, end, endpoints=endpoints, progress=False)
                            for c in clients
                        }
                    else:
                        results = store.sync_many(clients, begin, end, endpoints=endpoints,
                                                  max_workers=workers)  # fmt: skip
                    seconds = time.perf_counter() - started
                used, served = time.process_time() - used, simulator_cpu() - served
            failed = [a for a, r in results.items() if not isinstance(r, wxframe.SyncSummary)]
            assert not failed, f"{len(failed)} accounts failed: {results[failed[0]]}"
            made = sum(r.calls for r in results.values() if isinstance(r, wxframe.SyncSummary))
            bound = made * latency / workers
            cpu = used if kind != "processes" else ""  # the workers' own CPU is not the parent's
            table.add(how, made, bound, seconds, f"{seconds / bound:.2f}x", cpu, served,
                      mem.peak / 2**20)  # fmt: skip
            if kind == "shared pool":
                shared = seconds
                ratio = f"sync_many at most 1.3x the latency bound ({seconds / bound:.2f}x)"
                table.notes.append(verdict(seconds <= 1.3 * bound, ratio))
        # What the simulators allow on these cores: the same requests from a client that
        # does nothing else. The bound assumes a server that takes no time; these take
        # ~1 ms of CPU an answer on the cores the client runs on, and wait for their GIL.
        served_before = simulator_cpu()
        floor, used, made = _minimal_client(clients_for(each), begin, end, endpoints, workers, each)
        bound = made * latency / workers
        how = f"minimal client: http.client, {workers} threads, no decoding or store"
        table.add(how, made, bound, floor, f"{floor / bound:.2f}x", used,
                  simulator_cpu() - served_before, "")  # fmt: skip
        table.notes.append(
            f"sync_many against the minimal client on the same simulators: "
            f"{shared / floor:.2f}x (what wxframe adds to what the simulators cost)"
        )
    table.notes.append(
        f"{n} simulated accounts (one simulator each, all in one process of their own on "
        f"the same cores). The bound is calls x latency / {workers} (requests in flight in "
        "all). Client CPU: the syncing process's; simulator CPU: the simulators' process's. "
        "Peak MiB: resident memory the run added (for worker processes, the parent's only)."
    )
    return table


def _minimal_client(
    clients: list[wxframe.Client],
    begin: date,
    end: date,
    endpoints: list[str],
    workers: int,
    each: int,
) -> tuple[float, float, int]:
    """Every window of every account asked by ``workers`` threads with http.client, each
    answer read and dropped: seconds, CPU seconds, calls. Shaped as sync_many's load:
    each account's windows in ``each`` shares, a thread takes a share and asks its
    windows one after another on one kept-alive connection, so at most ``each`` threads
    ask one account at once, one connection each, accounts in turn."""
    import http.client
    import json
    import queue
    import threading
    from urllib.parse import urlsplit

    shares: queue.SimpleQueue[tuple[str, int, list[tuple[str, bytes]]]] = queue.SimpleQueue()
    made = 0
    for k, client in enumerate(clients):
        place = urlsplit(client.base_url)
        host, port = place.hostname or "127.0.0.1", place.port or 80
        conn = http.client.HTTPConnection(host, port, timeout=30)
        secret = os.environ[f"WXF_BENCH_SECRET_{k}"]  # as _simulators_process set it
        ask = {"grant_type": "client_credential", "appid": client.appid, "secret": secret}
        conn.request("POST", "/cgi-bin/stable_token", json.dumps(ask))
        token = json.loads(conn.getresponse().read())["access_token"]
        conn.close()
        jobs = []
        for name in endpoints:
            spec = wxframe.ENDPOINTS[name]
            for w in spec.windows(max(begin, spec.earliest), end):
                body = {"begin_date": w.begin.isoformat(), "end_date": w.end.isoformat()}
                jobs.append((f"{spec.path}?access_token={token}", json.dumps(body).encode()))
        made += len(jobs)
        for share in range(each):
            shares.put((host, port, jobs[share::each]))
    failed: list[str] = []

    def work() -> None:
        while True:
            try:
                host, port, jobs = shares.get_nowait()
            except queue.Empty:
                return
            conn = http.client.HTTPConnection(host, port, timeout=30)
            try:
                for path, body in jobs:
                    conn.request("POST", path, body, {"Content-Type": "application/json"})
                    answer = conn.getresponse()
                    content = answer.read()
                    if answer.status != 200 or b'"errcode"' in content:
                        failed.append(f"{path.split('?')[0]}: HTTP {answer.status}")
            except (OSError, http.client.HTTPException) as exc:  # counted, not lost
                failed.append(f"{host}:{port}: {type(exc).__name__}")
            finally:
                conn.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    used, started = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds, used = time.perf_counter() - started, time.process_time() - used
    assert not failed, f"the minimal client got {len(failed)} errors ({failed[0]})"
    return seconds, used, made


def _serve_many(n: int, latency: float, today: str) -> None:
    """In a subprocess: ``n`` simulators, one line of JSON each, then wait for stdin."""
    import json

    with contextlib.ExitStack() as stack:
        for seed in range(n):
            sim = stack.enter_context(serve(seed=seed, today=today, latency=latency))
            print(json.dumps({"appid": sim.appid, "secret": sim.secret, "base": sim.url}))
        print("ready", flush=True)
        sys.stdin.read()  # until the parent closes the pipe


@contextlib.contextmanager
def _simulators_process(
    n: int, latency: float, today: date
) -> Iterator[tuple[Callable[[int], list[wxframe.Client]], Callable[[], float]]]:
    """``n`` simulators in a process of their own: clients for them, and that process's
    CPU seconds so far."""
    import json

    code = f"from bench.api import _serve_many; _serve_many({n}, {latency}, {today.isoformat()!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        accounts = []
        for line in proc.stdout:
            if line.strip() == "ready":
                break
            accounts.append(json.loads(line))
        if len(accounts) != n:
            raise RuntimeError("the simulators' process exited before announcing them all")

        for k, a in enumerate(accounts):  # for sync_accounts' worker processes to read
            os.environ[f"WXF_BENCH_SECRET_{k}"] = a["secret"]

        def clients_for(workers: int) -> list[wxframe.Client]:
            return [wxframe.Client(a["appid"], a["secret"], base_url=a["base"],
                                   max_workers=workers) for a in accounts]  # fmt: skip

        def simulator_cpu() -> float:
            with open(f"/proc/{proc.pid}/stat") as f:  # Linux: utime + stime, in ticks
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        yield clients_for, simulator_cpu
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=30)


class TreeMemory:
    """Context manager: the peak resident memory of this process and its descendants
    (worker processes included), summed from ``/proc/PID/statm`` every 20 ms; the
    simulators' process (``_serve_many``) is left out. A sum of RSS counts pages that
    processes share once each: an upper bound."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()

    def _tree(self) -> list[int]:
        pids, todo = [], [os.getpid()]
        while todo:
            pid = todo.pop()
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"_serve_many" in f.read():
                        continue
                pids.append(pid)
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as f:
                        todo += [int(c) for c in f.read().split()]
            except (OSError, ValueError):
                continue  # ended meanwhile
        return pids

    def total(self) -> int:
        size = 0
        for pid in self._tree():
            try:
                with open(f"/proc/{pid}/statm", encoding="ascii") as f:
                    size += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, ValueError):
                pass
        return size

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.total())

    def __enter__(self) -> TreeMemory:
        self.peak = self.total()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.total())


def cluster(smoke: bool) -> Table:
    """Many accounts through a Dask cluster (a LocalCluster: two worker processes) against
    the processes= pool with two processes, on the same cores and simulators."""
    n, days, latency = (3, 3, 0.02) if smoke else (200, 30, 0.04)
    threads, each = 2, 4  # accounts at once a worker; requests in flight an account
    today = date(2026, 12, 1)
    end = today - timedelta(days=1)
    begin = end - timedelta(days=days - 1)
    endpoints = list(wxframe.CURRENT_ENDPOINTS)
    table = Table(
        f"13. Many accounts on a Dask cluster: {n} accounts x {days} days of the current "
        f"family, {latency * 1000:.0f} ms a call, 16 requests in flight",
        ("how", "calls", "seconds", "vs processes=2", "start s", "peak MiB (process tree)"),
    )
    try:
        import distributed
    except ImportError:
        table.notes.append('distributed is not installed (pip install "wxframe[dask]")')
        return table
    with _simulators_process(n, latency, today) as (clients_for, _):
        entries = [wxframe.Account(c.appid, f"WXF_BENCH_SECRET_{k}", c.base_url, max_workers=each)
                   for k, c in enumerate(clients_for(each))]  # fmt: skip
        with tempfile.TemporaryDirectory() as warm:  # the simulators' caches, once
            wxframe.Store(warm).sync_many(clients_for(each), begin, end, endpoints=endpoints)
        with tempfile.TemporaryDirectory() as root, TreeMemory() as mem:
            started = time.perf_counter()
            pool = wxframe.sync_accounts(  # smoke: in this process (spawning two takes 4 s)
                wxframe.Store(root),
                entries,
                begin,
                end,
                endpoints=endpoints,
                max_workers=8,
                processes=1 if smoke else 2,
            )
            baseline = time.perf_counter() - started
        _check(pool)
        calls = sum(r.calls for r in pool.values() if isinstance(r, wxframe.SyncSummary))
        how = f"sync_accounts(processes={1 if smoke else 2}, max_workers=8)"
        table.add(how, calls, baseline, "1.00x", "", mem.peak / 2**20)
        if smoke:  # a cluster takes 2-6 s to start on two busy cores: not for a smoke run
            table.notes.append(
                "smoke: neither the cluster nor the processes were started (each "
                "takes seconds); run without --smoke"
            )
            return table
        with TreeMemory() as mem:
            started = time.perf_counter()
            with distributed.LocalCluster(n_workers=2, threads_per_worker=threads,
                                          processes=True, dashboard_address=":0") as local, \
                    distributed.Client(local) as client:  # fmt: skip
                client.run(lambda: __import__("wxframe"))  # the workers' imports, once
                start = time.perf_counter() - started
                with tempfile.TemporaryDirectory() as root:
                    started = time.perf_counter()
                    done = wxframe.sync_accounts(wxframe.Store(root), entries, begin, end,
                                                 endpoints=endpoints, cluster=client)  # fmt: skip
                    seconds = time.perf_counter() - started
        _check(done)
        calls = sum(r.calls for r in done.values() if isinstance(r, wxframe.SyncSummary))
        how = f"sync_accounts(cluster=LocalCluster(2 workers x {threads} threads))"
        table.add(how, calls, seconds, f"{seconds / baseline:.2f}x", start, mem.peak / 2**20)
    table.notes += [
        f"{n} simulated accounts, all in one process of their own on the same cores. Both "
        f"runs: 16 requests in flight at most (2 processes x 8; 2 workers x {threads} "
        f"accounts x {each}). Seconds: the sync, the cluster already running (its start, "
        "and the workers' first import of wxframe, in 'start s'); the pool's seconds "
        "include starting its processes.",
        "Peak MiB: the largest sum of resident memory of this process and every process "
        "below it (pool processes, the cluster's nannies' worker processes), sampled every "
        "20 ms from /proc; the simulators' process left out.",
    ]
    return table


def _check(results: dict[str, wxframe.SyncSummary | wxframe.WxframeError]) -> None:
    failed = [a for a, r in results.items() if not isinstance(r, wxframe.SyncSummary)]
    assert not failed, f"{len(failed)} accounts failed: {results[failed[0]]}"
