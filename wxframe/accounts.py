"""Many accounts: a TOML file of them, and a sync of all of them across processes.

An agency syncs hundreds of accounts, and past a few dozen a sync is bound by the
CPU that typing and writing take, not by waiting: threads (:meth:`Store.sync_many`)
share one interpreter's lock, processes do not. :func:`sync_accounts` splits the
accounts over worker processes, each of which builds its clients from the entries
(the secret from the environment variable an entry names, never from the file) and
runs :meth:`Store.sync_many` on its share. Each account has its own lock, manifest
and files, so the processes never write the same file.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import re
import tomllib
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
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
    groups = [list(accounts[k::processes]) for k in range(min(processes, len(accounts)))]
    args = (str(store.root), store.lock_timeout, begin, end, wanted, max_workers, max_accounts)
    if len(groups) <= 1:
        results = _sync_group(groups[0] if groups else [], *args)
    else:
        results = {}
        # spawn, not fork: the parent may hold threads (progress bars, a simulator) and
        # locks that a forked child would inherit in whatever state they were.
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(len(groups), mp_context=context) as pool:
            futures = {pool.submit(_sync_in_child, group, *args): group for group in groups}
            for future in concurrent.futures.as_completed(futures):
                try:
                    done, caught = future.result()
                    results |= done
                    for message, category in caught:  # said here, where the caller is
                        warnings.warn(message, category, stacklevel=2)
                except Exception as exc:  # the process died (killed, out of memory)
                    why = StoreError(
                        f"the process syncing these accounts stopped ({type(exc).__name__}); "
                        "what it wrote stays, and a rerun resumes"
                    )
                    results |= dict.fromkeys((a.appid for a in futures[future]), why)
    return {appid: results[appid] for appid in appids}


def _sync_in_child(
    group: Sequence[Account], *args: Any
) -> tuple[dict[str, SyncSummary | WxframeError], list[tuple[str, type[Warning]]]]:
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
    store = Store(Path(root), lock_timeout=lock_timeout)
    if clients:
        results |= store.sync_many(
            clients, begin, end, endpoints=endpoints, max_workers=max_workers,
            max_accounts=max_accounts,
        )  # fmt: skip
    return results
