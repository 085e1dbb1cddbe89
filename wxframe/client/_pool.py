"""The bounded pool of worker threads that requests run on, leases and cancellation.

One fetch takes a :class:`Lease` of a :class:`RequestPool`: at most its client's
``max_workers`` requests at once, its results on a queue of its own, and a stop that
reaches every request it has running (a retry's wait, a piece of a body) at its next
step. :func:`run_jobs` is the loop a fetch runs on its lease.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable
from typing import Any

from wxframe.dates import Window
from wxframe.endpoints import Endpoint
from wxframe.errors import ApiError, EndpointOfflineError, WxframeError, check_count
from wxframe.pages import Page, RawPage

__all__ = [
    "Cancelled",
    "Job",
    "Lease",
    "Outcome",
    "RequestPool",
    "cancelled",
    "run_jobs",
    "sleep",
]

#: Set in a pool's worker threads: the stop of the fetch whose request they run.
_worker = threading.local()

Job = tuple[Endpoint, Window]
Outcome = tuple[Job, "Page | RawPage | None", "BaseException | None"]
Work = Callable[[Endpoint, Window], "Page | RawPage"]


class Cancelled(Exception):
    """The fetch this request belongs to was given up (Ctrl-C, or an error elsewhere)."""


def _cancel_event() -> threading.Event | None:
    """This worker thread's fetch's stop, or None outside a pool."""
    return getattr(_worker, "cancelled", None)


def cancelled() -> bool:
    """Whether the fetch this thread works for has been given up."""
    event = _cancel_event()
    return event is not None and event.is_set()


def sleep(seconds: float) -> None:
    """Back off between retries; a given-up fetch stops waiting at once."""
    event = _cancel_event()
    if event is None:
        time.sleep(seconds)
    elif event.wait(seconds):
        raise Cancelled


class RequestPool:
    """A bounded set of worker threads that fetches run their requests through.

    Each fetch (:meth:`~wxframe.Client.fetch_many`) makes a pool of its own unless it is
    given one: :meth:`~wxframe.Store.sync_many` gives every account's fetch the same
    pool, so all accounts together keep at most ``size`` requests in flight, each within
    its own client's ``max_workers``. Not a ThreadPoolExecutor: its threads are joined
    when the pool shuts down and again when the interpreter exits, so Ctrl-C during a
    fetch from a stuck server would wait out every request in flight and its retries.
    These threads are daemons, and a cancelled fetch's requests stop at their next step.

    Examples
    --------
    >>> pool = RequestPool(16)
    >>> pool.size
    16
    >>> pool.close()
    """

    def __init__(self, size: int) -> None:
        self.size = check_count("max_workers", size)
        self._jobs: queue.SimpleQueue[tuple[Lease, Job] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def lease(self, work: Work, limit: int) -> Lease:
        """One fetch's share of the pool: at most ``limit`` of its jobs at once, its
        results out, its own stop."""
        return Lease(self, work, limit)

    def close(self) -> None:
        """Let the threads end once the jobs queued before this have been taken."""
        with self._lock:
            for _ in self._threads:
                self._jobs.put(None)
            self._threads = []

    def submit(self, lease: Lease, job: Job) -> None:
        """Run ``job`` of ``lease`` on a pool thread (started as work arrives)."""
        with self._lock:
            if len(self._threads) < self.size:
                thread = threading.Thread(target=self._run, name="wxframe-fetch", daemon=True)
                thread.start()
                self._threads.append(thread)
        self._jobs.put((lease, job))

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            lease, job = item
            next_job: Job | None = job
            while next_job is not None:  # this lease's jobs, one after another
                next_job = lease.run(next_job)


class Lease:
    """One fetch's jobs on a :class:`RequestPool`: those not started yet, at most
    ``limit`` running, and the queue their results arrive on."""

    def __init__(self, pool: RequestPool, work: Work, limit: int) -> None:
        self.pool = pool
        self.work = work
        self.limit = limit
        self.results: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self.cancelled = threading.Event()
        self._ready: deque[Job] = deque()
        self._running = 0  # jobs in a pool thread now: at most ``limit``
        self._unreported = 0  # jobs started whose outcome the caller has not taken
        self._failures = 0  # failed jobs the caller has not dealt with: nothing starts
        self._stopped = False
        self._lock = threading.Lock()

    def offer(self, jobs: Iterable[Job]) -> None:
        """Queue ``jobs`` and start as many as the limit allows."""
        start = []
        with self._lock:
            self._ready.extend(jobs)
            while self._may_start() and self._running < self.limit:
                start.append(self._ready.popleft())
                self._running += 1
                self._unreported += 1
        for job in start:
            self.pool.submit(self, job)

    def withdraw(self, endpoint: str) -> list[Job]:
        """Take back the jobs of ``endpoint`` not started yet."""
        with self._lock:
            mine = [job for job in self._ready if job[0].name == endpoint]
            self._ready = deque(job for job in self._ready if job[0].name != endpoint)
        return mine

    def stop(self) -> None:
        """Start nothing more (those running finish and report)."""
        with self._lock:
            self._stopped = True

    def handled(self) -> None:
        """The caller has dealt with one failed job (stopped all, or withdrawn its
        endpoint): once none is left, start what the limit allows again."""
        with self._lock:
            self._failures -= 1
        self.offer(())

    def _may_start(self) -> bool:  # under the lock
        return (
            bool(self._ready)
            and not self._stopped
            and not self._failures
            and not self.cancelled.is_set()
        )

    def busy(self) -> bool:
        """Whether outcomes are still to come: jobs started and not reported to the
        caller, or queued and not stopped."""
        with self._lock:
            return self._unreported > 0 or (bool(self._ready) and not self._stopped)

    def run(self, job: Job) -> Job | None:
        """Run one job in a pool thread and report it; the next job to run in its place."""
        outcome: Outcome | None = None
        if not self.cancelled.is_set():
            _worker.cancelled = self.cancelled
            try:
                outcome = (job, self.work(*job), None)
            except Cancelled:
                pass
            except BaseException as exc:
                outcome = (job, None, exc)
            finally:
                _worker.cancelled = None
        # After a failure nothing starts, in any worker of this fetch, until the caller
        # has decided (stop all, or only that endpoint): no request after a 48001.
        with self._lock:
            if outcome is None:
                self._unreported -= 1  # cancelled: nobody waits for it
            elif outcome[2] is not None:
                self._failures += 1
            if outcome is not None and self._may_start():
                following: Job | None = self._ready.popleft()  # in its place: the limit holds
                self._unreported += 1
            else:
                following = None
                self._running -= 1
        if outcome is not None:
            self.results.put(outcome)
        return following

    def next_results(self) -> list[Outcome]:
        """The next result (waiting for it), with any others already in."""
        found = [self.results.get()]
        while not self.results.empty():
            found.append(self.results.get_nowait())
        with self._lock:
            self._unreported -= len(found)
        return found

    def cancel(self) -> None:
        self.cancelled.set()


def run_jobs(
    work: Work,
    jobs: Iterable[Job],
    *,
    limit: int,
    pool: RequestPool | None = None,
    stopped: dict[str, tuple[ApiError, list[Window]]] | None = None,
    isolate: tuple[type[ApiError], ...] = (EndpointOfflineError,),
    bar: Callable[[], Any] | None = None,
    window_faults: tuple[type[WxframeError], ...] = (),
) -> Generator[tuple[Endpoint, Window, Page | RawPage | WxframeError], None, None]:
    """Run ``work`` on every job through a lease of ``pool`` (or a pool of its own);
    yield ``(endpoint, window, answer)`` as each completes. See
    :meth:`~wxframe.Client.fetch_many` for ``stopped`` and ``isolate``; ``bar`` makes the
    progress bar (or None), once the first answer is asked for."""
    progress = bar() if bar is not None else None
    ready: deque[Job] = deque()
    # An endpoint the platform has switched off answers 47009 to every window: ask it
    # one window first, and the rest only once that one came back with data.
    held: dict[str, list[Job]] = {}
    for job in jobs:
        spec = job[0]
        if spec.status == "offline" and spec.name in held:
            held[spec.name].append(job)
        else:
            ready.append(job)
            if spec.status == "offline":
                held[spec.name] = []
    own = pool is None
    workers = RequestPool(limit) if pool is None else pool
    # The lease holds the jobs not yet started; a worker that finishes one takes the
    # next itself, so the requests go on while the caller writes what it was given.
    lease = workers.lease(work, limit)
    error: BaseException | None = None
    try:
        lease.offer(ready)
        while lease.busy():
            finished: list[tuple[Endpoint, Window, Page | RawPage | WxframeError]] = []
            for job, page, exc in lease.next_results():
                spec, window = job
                if stopped is not None and isinstance(exc, isolate):
                    # This endpoint's fault (switched off, its quota, its data): the
                    # other endpoints go on. What it did not get: this window and those
                    # not yet asked (those in flight still come back, or land here).
                    left = [w for _, w in lease.withdraw(spec.name)]
                    left += [w for _, w in held.pop(spec.name, ())]
                    first, before = stopped.get(spec.name, (exc, []))
                    stopped[spec.name] = (first, sorted({window, *before, *left}))
                    lease.handled()  # the others go on
                    continue
                if isinstance(exc, window_faults):  # this answer's fault: its window only
                    assert isinstance(exc, WxframeError)
                    finished.append((spec, window, exc))
                    lease.handled()
                    if spec.name in held and error is None:  # not 47009: ask the rest
                        lease.offer(held.pop(spec.name))
                    continue
                if exc is not None:
                    if error is None:
                        error = exc
                        lease.stop()  # those in flight still come back
                    lease.handled()
                    continue
                assert page is not None
                if spec.name in held and error is None:
                    lease.offer(held.pop(spec.name))
                finished.append((spec, window, page))
            for spec, window, answer in finished:
                if progress is not None:
                    progress.update(1)
                yield spec, window, answer
        if error is not None:
            raise error
    finally:
        # Whatever ends the loop (an error, Ctrl-C, a caller that stops early): the
        # workers drop what they hold and stop, and nothing waits for them.
        lease.cancel()
        if own:
            workers.close()
        if progress is not None:
            progress.close()
