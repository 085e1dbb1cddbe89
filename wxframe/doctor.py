"""``wxframe doctor``: what an account can fetch, and what to do about what it cannot.

With real credentials the first hour goes on finding out why nothing comes back: a wrong
secret, the machine's IP not on the whitelist, an unverified account, an endpoint the
platform switched off, a proxy in the way. :func:`doctor` asks for a token, then every
registry endpoint for one day (the last complete one, at most one call each), and says
per endpoint what came back and what to do.

Examples
--------
>>> from wxframe.simulator import serve
>>> with serve(seed=0, today="2026-12-01") as sim:
...     report = doctor(sim.client())
>>> report.set_index("check").loc[["token", "getbizsummary", "getuserread"], "status"].tolist()
['ok', 'ok', 'offline']
"""

from __future__ import annotations

import functools
import queue
import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pandas as pd

from wxframe.client import Client
from wxframe.dates import Window, last_complete_day
from wxframe.endpoints import ENDPOINTS, Endpoint, clip_to_first_days
from wxframe.errors import (
    ApiError,
    ConfigurationError,
    TransportError,
    WxframeError,
)
from wxframe.store import FIRST_SYNC_DAYS

__all__ = ["DEADLINE", "PROBE_TIMEOUT", "USABLE", "check_token", "doctor", "usable"]

#: Seconds the whole doctor may take (``wxframe doctor --timeout``).
DEADLINE = 60.0
#: Seconds the command line's client gives one request (tried once, not retried): a
#: health check wants a verdict, not the patience of a sync.
PROBE_TIMEOUT = 10.0

#: The verdicts an endpoint can be used with.
USABLE = frozenset({"ok", "empty"})
_IP = re.compile(r"invalid ip ([0-9a-fA-F.:]+)")
COLUMNS = ["check", "family", "status", "rows", "errcode", "advice"]


def doctor(
    client: Client,
    *,
    store: Any | None = None,
    timeout: float = DEADLINE,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> pd.DataFrame:
    """Check the credentials and every endpoint; one row per check.

    ``check`` is ``token`` (the client's token kind) then each endpoint; ``family`` is
    ``current`` or ``offline``; ``status`` one of ``ok`` (data came back), ``empty``
    (online, nothing for that day), ``offline`` (47009), ``unauthorised`` (48001 /
    50001), ``ip not whitelisted`` (40164), ``quota used up`` (45009), ``not ready``
    (61503), ``credentials`` (40013 / 40125, token errors), ``no answer`` (the network
    failed, or nothing came back before the deadline), ``error`` (anything else, with
    its ``errcode``), ``skipped`` (not asked: no token); ``rows`` what came back and
    ``advice`` what to do. With a :class:`~wxframe.Store`, the store's columns ``held``
    (days held) and ``next sync`` (days a default sync would ask for: the current
    family, missing days and those that may still change) are added.

    Never more than one datacube call per endpoint (the client's own retries aside: the
    command line's client tries once, with a short timeout), the endpoints asked at
    once, and the whole check done within ``timeout`` seconds: a host that accepts
    connections and never answers gets ``no answer`` rows, not a hang. ``on_row`` is
    called with each row as its verdict comes (the command line prints it). No secret
    or token appears in the frame.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigurationError(f"timeout={timeout!r}; allowed: a number of seconds > 0")
    deadline = time.monotonic() + timeout
    said = on_row or (lambda row: None)
    [token] = _within(deadline, timeout, {"token": lambda: check_token(client)}, said)
    rows: list[dict[str, Any]] = [token]
    day = last_complete_day(client.now())
    checks: dict[str, Callable[[], dict[str, Any]]] = {}
    for spec in ENDPOINTS.values():
        if token["status"] != "ok":
            rows.append(_row(spec.name, spec.status, "skipped", advice="no token: see above"))
        elif day < spec.earliest:
            rows.append(
                _row(spec.name, spec.status, "skipped", advice=f"no data before {spec.earliest}")
            )
        else:
            checks[spec.name] = functools.partial(_check, client, spec, day)
    for row in rows[1:]:
        said(row)
    rows += _within(deadline, timeout, checks, said)
    order = {name: n for n, name in enumerate(["token", *ENDPOINTS])}
    rows.sort(key=lambda row: order.get(row["check"], -1))
    report = pd.DataFrame(rows, columns=COLUMNS)
    report["rows"] = report["rows"].astype("Int64")
    report["errcode"] = report["errcode"].astype("Int64")
    if store is not None:
        report = _with_store(report, store, client, day)
    return report


def _within(
    deadline: float,
    timeout: float,
    checks: dict[str, Callable[[], dict[str, Any]]],
    said: Callable[[dict[str, Any]], None],
) -> list[dict[str, Any]]:
    """Run the checks at once, each on a daemon thread (one stuck in a socket read must
    not hold the process at exit), and the rows that came before the deadline; a
    check still waiting then is a ``no answer`` row."""
    answers: queue.Queue[dict[str, Any]] = queue.Queue()

    def run(name: str, check: Callable[[], dict[str, Any]]) -> None:
        try:
            answers.put(check())
        except Exception as exc:  # a bug must not look like a hang: say it in the row
            answers.put(_row(name, _family(name), "error", advice=f"{type(exc).__name__}"))

    for name, check in checks.items():
        threading.Thread(target=run, args=(name, check), daemon=True,
                         name=f"wxframe-doctor-{name}").start()  # fmt: skip
    rows: list[dict[str, Any]] = []
    while len(rows) < len(checks):
        try:
            row = answers.get(timeout=max(deadline - time.monotonic(), 0.0))
        except queue.Empty:
            break
        rows.append(row)
        said(row)
    for name in checks.keys() - {row["check"] for row in rows}:
        row = _row(name, _family(name), "no answer", advice=f"nothing came back within "
                   f"the doctor's {timeout:g} s: a host that accepts connections and never "
                   "answers (a firewall or proxy dropping them?); check base_url and the "
                   "network, or give --timeout more")  # fmt: skip
        rows.append(row)
        said(row)
    return rows


def _family(name: str) -> str:
    return ENDPOINTS[name].status if name in ENDPOINTS else ""


def check_token(client: Client, check: str = "token") -> dict[str, Any]:
    """One row: whether the client's token endpoint (stable or classic) issues a token."""
    try:
        client.check_token()  # never by force: the account's other services keep theirs
    except WxframeError as exc:
        status, code, _, advice = _verdict(exc)
        return _row(check, "", status, errcode=code, advice=f"{client.token_kind}: {advice}")
    return _row(check, "", "ok", advice=f"a {client.token_kind} token was issued")


def usable(report: pd.DataFrame) -> bool:
    """Whether the token works and every current endpoint answers."""
    current = report[report["family"] == "current"]
    token = report[report["check"].str.startswith("token")]
    return bool((token["status"] == "ok").all() and current["status"].isin(USABLE).all())


def _check(client: Client, spec: Endpoint, day: Any) -> dict[str, Any]:
    window = Window(day, day)
    try:
        page = client.fetch_window(spec, window)
    except WxframeError as exc:
        return _row(spec.name, spec.status, *_verdict(exc))
    if not page:
        return _row(
            spec.name,
            spec.status,
            "empty",
            rows=0,
            advice=f"online; nothing for {day} (a quiet day, or no articles)",
        )
    return _row(spec.name, spec.status, "ok", rows=len(page), advice=f"{day}: {len(page)} records")


def _verdict(exc: WxframeError) -> tuple[str, int | None, None, str]:
    """(status, errcode, rows, advice) for an error: the word and the advice its class
    declares (``errors.py``), in one sentence."""
    if isinstance(exc, TransportError):  # retries (the command line's: none) used up
        return "no answer", None, None, str(exc).split(". ")[0][:160]
    if not isinstance(exc, ApiError) or exc.verdict == "error":
        return "error", getattr(exc, "errcode", None), None, str(exc).split(". ")[0][:160]
    advice = exc.advice.split(". ")[0]
    if exc.errcode == 40164 and (ip := _IP.search(exc.errmsg)):
        advice += f" ({ip.group(1)} is the IP the platform saw)"
    return exc.verdict, exc.errcode, None, advice


def _row(
    check: str,
    family: str,
    status: str,
    errcode: int | None = None,
    rows: int | None = None,
    advice: str = "",
) -> dict[str, Any]:
    return {
        "check": check,
        "family": family,
        "status": status,
        "rows": rows,
        "errcode": errcode,
        "advice": advice,
    }


def _with_store(report: pd.DataFrame, store: Any, client: Client, day: Any) -> pd.DataFrame:
    """Add what the store holds per endpoint and what a sync would ask for next."""
    coverage = store.coverage()
    account = client.appid
    mine = coverage[coverage["account"] == account].set_index("endpoint")
    held: list[Any] = []
    due: list[Any] = []
    # What a sync of the current family with no begin would ask: the store's own plan
    # (its default first day and the first-day policy), nothing computed here.
    current = [n for n in report["check"] if n in ENDPOINTS and ENDPOINTS[n].status == "current"]
    if account is None:  # no appid: nothing of it can be in the store, a first sync
        first = day - timedelta(days=FIRST_SYNC_DAYS - 1)
        ranges = clip_to_first_days([ENDPOINTS[n] for n in current], first, day, warn=False)
        plan = {n: ENDPOINTS[n].windows(*w) for n, w in ranges.items() if w}
    else:
        plan = store.plan(None, day, account=account, endpoints=current) if current else {}
    for name in report["check"]:
        if name not in ENDPOINTS:
            held.append(pd.NA)
            due.append(pd.NA)
            continue
        held.append(int(mine.loc[name, "days_held"]) if name in mine.index else 0)
        if name not in current:
            due.append(pd.NA)  # a sync asks the current family unless told otherwise
            continue
        due.append(sum(w.days for w in plan.get(name, [])))
    report["held"] = pd.array(held, dtype="Int64")
    report["next sync"] = pd.array(due, dtype="Int64")
    return report
