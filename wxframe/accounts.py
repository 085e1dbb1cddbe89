"""Many accounts: a TOML file of them, and a sync of all of them across processes.

An agency syncs hundreds of accounts, and past a few dozen a sync is bound by the
CPU that typing and writing take, not by waiting: threads (:meth:`Store.sync_many`)
share one interpreter's lock, processes do not. :func:`sync_accounts` splits the
accounts over worker processes, each of which builds its clients from the entries
(the secret from the environment variable an entry names, never from the file) and
runs :meth:`Store.sync_many` on its share. Each account has its own lock, manifest
and files, so the processes never write the same file. On a Dask cluster
(``cluster=``), each account is a task of its own on the cluster's workers, which read
the secret from their own environment: the task carries the variable's name, never its
value, so no secret passes through the scheduler.
"""

from __future__ import annotations

import concurrent.futures
import gc
import multiprocessing
import os
import re
import socket
import sys
import tomllib
import uuid
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wxframe.client import DEFAULT_BASE_URL, Client
from wxframe.dates import DateLike
from wxframe.errors import ConfigurationError, StoreError, WxframeError, check_count
from wxframe.store import Store, SyncSummary

__all__ = ["Account", "parse_accounts", "read_accounts", "sync_accounts"]


@dataclass(frozen=True)
class Account:
    """One account to sync: its appid and the name of the variable holding its secret.

    Examples
    --------
    >>> shop = Account("wx5im0000000000001", "WX_SECRET_SHOP", max_workers=8)
    >>> shop.base_url, shop.max_workers
    ('https://api.weixin.qq.com', 8)
    """

    appid: str
    secret_env: str
    base_url: str = DEFAULT_BASE_URL
    max_workers: int = 4

    def client(self) -> Client:
        """A client for the account, its secret read from the environment now."""
        secret = os.environ.get(self.secret_env)
        if not secret:
            raise ConfigurationError(
                f"the variable {self.secret_env} is not set (it holds the secret of {self.appid})"
            )
        return Client(
            self.appid, secret, base_url=self.base_url, max_workers=self.max_workers,
            credentials_from=f"the appid {self.appid} and the secret in {self.secret_env} "
            "(its entry in the accounts file)",
        )  # fmt: skip


def read_accounts(path: str | os.PathLike[str]) -> list[Account]:
    """The accounts of a TOML file: ``[[account]]`` tables with ``appid`` and
    ``secret_env`` (optional ``base_url``, ``max_workers``); never a secret itself.

    ``base_url`` defaults to ``WX_API_BASE`` or the platform's. A file that says
    ``secret =`` is refused, so that secrets stay out of files that get shared.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = pathlib.Path(d) / "accounts.toml"
    ...     _ = path.write_text('[[account]]\\nappid = "wx5im0000000000001"\\n'
    ...                         'secret_env = "WX_SECRET_SHOP"\\n')
    ...     [a.appid for a in read_accounts(path)]
    ['wx5im0000000000001']
    """
    try:
        with open(path, "rb") as f:
            listed = tomllib.load(f).get("account")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path}: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(
            f"{path} is not UTF-8 text (a TOML file must be): save it as UTF-8"
        ) from None
    except RecursionError:  # tomllib recurses once a level of arrays or tables
        raise ConfigurationError(
            f"{path}: nests arrays or tables too deep to read (an accounts file nests two)"
        ) from None
    if not isinstance(listed, list) or not listed:
        raise ConfigurationError(
            f"{path}: no [[account]] tables (each with appid and secret_env, the name of the "
            "variable holding its secret)"
        )
    return parse_accounts(listed, str(path))


def parse_accounts(listed: Sequence[object], where: str) -> list[Account]:
    """``[[account]]`` tables already read (from an accounts file, or a ``wxframe run``
    config), each checked as :func:`read_accounts` checks them; ``where`` names their
    file in messages.

    >>> [a.secret_env for a in parse_accounts([{"appid": "wxa", "secret_env": "S"}], "f")]
    ['S']
    """
    base = os.environ.get("WX_API_BASE") or DEFAULT_BASE_URL
    return [_entry(f"account {n} of {where}", entry, base) for n, entry in enumerate(listed, 1)]


#: The keys an ``[[account]]`` table may have.
KEYS = ("appid", "secret_env", "base_url", "max_workers")
#: What an environment variable's name looks like (what ``secret_env`` must be).
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
#: What an app secret looks like (32 hexadecimal digits): never a variable's name.
_SECRET = re.compile(r"[0-9a-fA-F]{32}")


def _entry(where: str, entry: object, base: str) -> Account:
    """One ``[[account]]`` table, every mistake named by its entry and key; the value of
    ``secret_env`` is never repeated when refused (it may be the secret itself)."""
    if not isinstance(entry, dict):
        raise ConfigurationError(
            f'{where} is not a table: write [[account]] with appid = "wx..." and '
            'secret_env = "VARIABLE" on lines of their own'
        )
    appid = entry.get("appid")
    if not isinstance(appid, str) or not appid.strip():
        raise ConfigurationError(f'{where}: appid must be a string such as "wx..."')
    where = f"{where} ({appid})"
    if "secret" in entry or "appsecret" in entry:
        raise ConfigurationError(
            f"{where}: a secret in the file is refused; secret_env names an environment "
            "variable that holds it"
        )
    unknown = sorted(set(entry) - set(KEYS))
    if unknown:
        raise ConfigurationError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: "
                                 f"{', '.join(KEYS)}")  # fmt: skip
    variable = entry.get("secret_env")
    if not isinstance(variable, str):
        raise ConfigurationError(
            f"{where}: secret_env must be the name of the environment variable holding "
            'the secret (a string such as "WX_SECRET_SHOP")'
        )
    if _SECRET.fullmatch(variable) or not _VARIABLE.fullmatch(variable):
        raise ConfigurationError(
            f"{where}: secret_env names an environment variable; do not put the secret "
            "in the file (a name such as WX_SECRET_SHOP: letters, digits and _)"
        )
    url = entry.get("base_url") or base
    if not isinstance(url, str):
        raise ConfigurationError(f"{where}: base_url={url!r:.60}; allowed: an http(s) URL")
    workers = entry.get("max_workers", 4)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigurationError(f"{where}: max_workers={workers!r:.40}; allowed: an integer >= 1")
    return Account(appid, variable, url, workers)


def sync_accounts(
    store: Store,
    accounts: Sequence[Account],
    begin: DateLike | None = None,
    end: DateLike | None = None,
    *,
    endpoints: str | Iterable[str] | None = None,
    max_workers: int = 16,
    max_accounts: int | None = None,
    processes: int = 1,
    cluster: Any = None,
) -> dict[str, SyncSummary | WxframeError]:
    """Sync every account; one account's failure does not stop the others.

    With ``processes=1``, :meth:`Store.sync_many` in this process: one pool of
    ``max_workers`` requests in flight for all accounts, each account within its own
    ``max_workers``, ``max_accounts`` accounts at once. With more, the accounts are
    dealt out to that many worker processes, each doing the same with its share (so up
    to ``processes x max_workers`` requests in flight): on a machine with cores to spare,
    many accounts sync up to ``processes`` times faster, as each process types and
    writes with its own interpreter. Returns, per appid in the order given, the
    :class:`SyncSummary` or the error that stopped it.

    With ``cluster=`` (a ``distributed.Client``, a Dask cluster object or a scheduler
    address such as ``"tcp://10.0.0.5:8786"``, for which a client is opened and closed
    here; ``pip install "wxframe[dask]"``), each account is one task on the cluster's
    workers, which write into the store at ``store.root``: a path (or URL) every worker
    reaches as this process does. A task holds the account's entry (appid, the *name* of
    its secret's variable, base_url, max_workers) and the store's root, never the
    secret: each worker reads it from its own environment, so set the variables where
    the workers run. Each task has ``max_workers`` requests in flight at most (and the
    account's own limit); ``max_accounts`` does not apply, the workers' threads decide
    how many accounts run at once. A task whose worker died (and whose retries did too)
    is that account's row, a :class:`StoreError`; a rerun resumes.

    Examples
    --------
    >>> import os, tempfile
    >>> from wxframe.simulator import serve
    >>> with serve(seed=0, today="2026-06-01") as sim, tempfile.TemporaryDirectory() as d:
    ...     os.environ["SIM_SECRET"] = sim.secret
    ...     shop = Account(sim.appid, "SIM_SECRET", base_url=sim.url)
    ...     done = sync_accounts(Store(d), [shop], "2026-05-25", "2026-05-31",
    ...                          endpoints="getusersummary")
    ...     print({appid: r.calls for appid, r in done.items()})
    {'wx5im0000000000001': 1}
    """
    check_count("processes", processes)
    check_count("max_workers", max_workers)
    if max_accounts is not None:
        check_count("max_accounts", max_accounts)
    appids = [a.appid for a in accounts]
    twice = sorted({a for a in appids if appids.count(a) > 1})
    if twice:
        raise ConfigurationError(f"each account once: {', '.join(twice)} is given twice")
    if isinstance(endpoints, str):
        endpoints = [endpoints]
    wanted = list(endpoints) if endpoints is not None else None
    args = (str(store.root), store.lock_timeout, begin, end, wanted, max_workers, max_accounts)
    if cluster is not None:
        if processes != 1:
            raise ConfigurationError(
                f"processes={processes} with cluster=: the cluster's workers are the "
                "processes; allowed: one of the two"
            )
        results, caught = _sync_on_cluster(cluster, accounts, args)
    else:
        results, caught = _sync_in_processes(accounts, processes, args)
    for message, category in caught:  # said here, where the caller is
        warnings.warn(message, category, stacklevel=2)
    return {appid: results[appid] for appid in appids}


#: What a worker (a process, a Dask task) hands back: its accounts' outcomes, and the
#: warnings it raised (message, category), to be raised again in the caller.
_Outcome = tuple[dict[str, SyncSummary | WxframeError], list[tuple[str, type[Warning]]]]


def _sync_in_processes(
    accounts: Sequence[Account], processes: int, args: tuple[Any, ...]
) -> _Outcome:
    """The accounts dealt out to ``processes`` spawned worker processes (or synced here,
    for one)."""
    groups = [list(accounts[k::processes]) for k in range(min(processes, len(accounts)))]
    if len(groups) <= 1:
        return _sync_group(groups[0] if groups else [], *args), []
    results: dict[str, SyncSummary | WxframeError] = {}
    caught: list[tuple[str, type[Warning]]] = []
    # spawn, not fork: the parent may hold threads (progress bars, a simulator) and
    # locks that a forked child would inherit in whatever state they were.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(len(groups), mp_context=context) as pool:
        futures = {pool.submit(_sync_in_child, group, *args): group for group in groups}
        for future in concurrent.futures.as_completed(futures):
            _collect(future.result, futures[future], "process", results, caught)
    return results, caught


def _sync_on_cluster(
    cluster: object, accounts: Sequence[Account], args: tuple[Any, ...]
) -> _Outcome:
    """One task per account on a Dask cluster: a client of the caller's, or one opened
    here on a cluster object or a scheduler's address (and closed again)."""
    try:
        import distributed
    except ImportError:
        raise ConfigurationError(
            'cluster= needs Dask\'s distributed scheduler: pip install "wxframe[dask]"'
        ) from None
    if isinstance(cluster, distributed.Client):
        return _submit_accounts(distributed, cluster, accounts, args)
    if not isinstance(cluster, str | distributed.deploy.Cluster):
        raise ConfigurationError(
            f"cluster={cluster!r:.60}; allowed: a distributed.Client, a Dask cluster or a "
            "scheduler's address such as tcp://10.0.0.5:8786"
        )
    try:
        client = distributed.Client(cluster, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigurationError(
            f"no Dask scheduler answered at {cluster} ({type(exc).__name__}); allowed: the "
            "address of a running scheduler, such as tcp://10.0.0.5:8786"
        ) from None
    with client:
        return _submit_accounts(distributed, client, accounts, args)


def _submit_accounts(
    distributed: Any, client: Any, accounts: Sequence[Account], args: tuple[Any, ...]
) -> _Outcome:
    """Each account one task (its key names the appid: the dashboard shows whose it is);
    outcomes gathered as they finish."""
    run = uuid.uuid4().hex[:8]
    futures = {}
    for account in accounts:
        key = f"wxframe-sync-{account.appid}-{run}"
        futures[client.submit(_sync_on_worker, account, *args, key=key, pure=False)] = account
    results: dict[str, SyncSummary | WxframeError] = {}
    caught: list[tuple[str, type[Warning]]] = []
    # loop=: a client that is not the default one (ours is not) is found by no other way
    for future in distributed.as_completed(futures, loop=client.loop):
        _collect(future.result, [futures[future]], "Dask task", results, caught)
        future.release()
    return results, caught


def _collect(
    outcome: Callable[[], _Outcome],
    group: Sequence[Account],
    worker: str,
    results: dict[str, SyncSummary | WxframeError],
    caught: list[tuple[str, type[Warning]]],
) -> None:
    """A worker's outcome into ``results`` and ``caught``; a worker that died (killed, out
    of memory, its retries spent) makes a :class:`StoreError` of each of its accounts.
    Only the exception's type is named: its text might quote a request's address, token
    and all."""
    try:
        done, raised = outcome()
    except Exception as exc:
        what = type(exc).__name__
        if isinstance(exc, ImportError):  # wxframe (or a dependency) missing over there
            what += f": {exc.name} cannot be imported where the {worker} ran"
        why = StoreError(
            f"the {worker} syncing {'this account' if len(group) == 1 else 'these accounts'} "
            f"stopped ({what}); what it wrote stays, and a rerun resumes"
        )
        results |= dict.fromkeys((a.appid for a in group), why)
        return
    results |= done
    caught += raised


def _sync_on_worker(account: Account, *args: Any) -> _Outcome:
    """One account's task on a Dask worker: the secret from this worker's environment
    (a missing one names the worker's host, where the variable is to be set)."""
    if not os.environ.get(account.secret_env):
        return {account.appid: ConfigurationError(
            f"the variable {account.secret_env} is not set on the Dask worker on "
            f"{socket.gethostname()} (it holds the secret of {account.appid}; set it in "
            "the workers' environment: secrets never travel through the scheduler)"
        )}, []  # fmt: skip
    outcome = _sync_in_child([account], *args)
    if sys.version_info < (3, 12):
        # The account's client (its retry state holds a threading.local), unreachable
        # now, freed here rather than by a collection that the worker's profiler sets
        # off, which hangs the worker on 3.11 (see Client: CPython gh-106883).
        gc.collect()
    return outcome


def _sync_in_child(group: Sequence[Account], *args: Any) -> _Outcome:
    """:func:`_sync_group` in a worker process, with the warnings it raised, to be raised
    again in the parent (whose filters and display the caller chose)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = _sync_group(group, *args)
    seen = dict.fromkeys((str(w.message), w.category) for w in caught)
    return done, list(seen)


def _sync_group(
    group: Sequence[Account],
    root: str,
    lock_timeout: float,
    begin: Any,
    end: Any,
    endpoints: list[str] | None,
    max_workers: int,
    max_accounts: int | None,
) -> dict[str, SyncSummary | WxframeError]:
    """One process's share: its clients built here, then :meth:`Store.sync_many`."""
    results: dict[str, SyncSummary | WxframeError] = {}
    clients = []
    for account in group:
        try:
            clients.append(account.client())
        except WxframeError as exc:
            results[account.appid] = exc
    store = Store(root, lock_timeout=lock_timeout)
    if clients:
        results |= store.sync_many(
            clients, begin, end, endpoints=endpoints, max_workers=max_workers,
            max_accounts=max_accounts,
        )  # fmt: skip
    return results
