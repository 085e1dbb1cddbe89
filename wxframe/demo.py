"""``wxframe demo``: one simulated account synced, a year of its history imported from
saved JSON and its report rendered; with ``--accounts N``, N accounts side by side, each
one's report and the portfolio report."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from wxframe.dates import last_complete_day
from wxframe.endpoints import CURRENT_FIRST_DAY, OFFLINE_ENDPOINTS
from wxframe.errors import ConfigurationError
from wxframe.report import render_portfolio, render_report
from wxframe.simulator import Simulator, serve
from wxframe.store import Store

__all__ = ["account_demo", "portfolio_demo"]


def account_demo(
    root: Path,
    *,
    seed: int = 0,
    days: int = 90,
    today: date | None = None,
    progress: bool = False,
    report: bool = True,
) -> int:
    """Sync the simulator of ``seed`` into the store at ``root`` (the last ``days`` days
    of the current family), import a year of the six's history from saved JSON, render
    the account report to ``root/report.html`` (unless ``report`` is False: the store
    only); print where they are. Returns the exit status (0); a ``--today`` before the
    current family's data is a ConfigurationError."""
    started = time.perf_counter()
    store = Store(root)
    with serve(seed=seed, today=today) as sim:
        end = last_complete_day(sim.now())
        if end < CURRENT_FIRST_DAY:
            raise ConfigurationError(
                f"--today {sim.today} is before the current family's data (from "
                f"{CURRENT_FIRST_DAY}); choose a later day"
            )
        begin = max(end - timedelta(days=days - 1), CURRENT_FIRST_DAY)
        print(f"[1/3] syncing {begin}..{end} of the current family (what a real account "
              f"gets today) from the built-in simulator at {sim.url} into {root}/",
              flush=True)  # fmt: skip
        summary = store.sync(sim.client(), begin, end, progress=progress)
        print(f"      {summary}", flush=True)
        # The six original endpoints are switched off: their history comes from the
        # JSON a team saved before, here a year of it up to the switch to the new family.
        archive = root / "archive"
        history_end = min(CURRENT_FIRST_DAY, begin) - timedelta(days=1)
        print(f"[2/3] importing {history_end - timedelta(days=364)}..{history_end} of the six "
              f"original endpoints from saved JSON ({archive}/)", flush=True)  # fmt: skip
        _import_history(store, sim, begin, archive)
    out = root / "report.html"
    if report:
        print(f"[3/3] rendering the account report to {out} ...", flush=True)
        render_report(root, out)
    else:
        print(f"[3/3] not rendering the report: {out} is left as it was", flush=True)
    print(
        f"""
done in {time.perf_counter() - started:.0f} s.
  store:   {root}/   (parquet, one file per endpoint and month; `wxframe coverage --store {root}`)
  report:  {out}   (open it in a browser)
  in Python:  wxframe.Store("{root}").read("getbizsummary")

The same on your account (a verified account's AppID and AppSecret):
  export WX_APPID=wx... WX_APPSECRET=...
  wxframe sync --store ./wx-store --begin {begin}
  wxframe import --store ./wx-store --endpoint getuserread ./saved-json/   # your history
  wxframe report --store ./wx-store --out report.html"""
    )
    return 0


def portfolio_demo(
    root: Path, accounts: int, *, days: int = 90, today: date | None = None, progress: bool = False
) -> int:
    """Sync ``accounts`` simulators (seeds 0..N-1) into the store at ``root``, two at a
    time, import a year of each one's history, render each account's report to
    ``root/APPID.html`` and the portfolio report to ``root/portfolio.html``; print where
    they are. Returns the exit status (0)."""
    if not 1 <= accounts <= 200:
        raise ConfigurationError(f"--accounts {accounts}: give 1 to 200 accounts")
    started = time.perf_counter()
    store = Store(root)
    store.create()  # once, before the syncs that run side by side each make sure of it
    archive = root / "archive"

    def one(seed: int) -> tuple[str, date, date]:
        with serve(seed=seed, today=today) as sim:
            end = last_complete_day(sim.now())
            if end < CURRENT_FIRST_DAY:
                raise ConfigurationError(
                    f"--today {sim.today} is before the current family's data (from "
                    f"{CURRENT_FIRST_DAY}); choose a later day"
                )
            begin = max(end - timedelta(days=days - 1), CURRENT_FIRST_DAY)
            summary = store.sync(sim.client(), begin, end, progress=False)
            _import_history(store, sim, begin, archive / sim.appid)
            print(f"      {sim.appid} (seed {seed}): {summary}", flush=True)
            return sim.appid, begin, end

    print(f"[1/3] syncing {accounts} simulated accounts (seeds 0..{accounts - 1}, two at a "
          f"time) into {root}/ and importing a year of each one's history from saved JSON "
          f"({archive}/)", flush=True)  # fmt: skip
    with ThreadPoolExecutor(max_workers=2) as pool:
        synced = list(pool.map(one, range(accounts)))
    names = [name for name, _, _ in synced]
    begin, end = synced[0][1], synced[0][2]
    print(f"[2/3] rendering each account's report to {root}/APPID.html ...", flush=True)
    for name in names:
        render_report(root, root / f"{name}.html", account=name)
    portfolio = root / "portfolio.html"
    print(f"[3/3] rendering the portfolio report to {portfolio} ...", flush=True)
    render_portfolio(root, portfolio)
    del progress  # the accounts' syncs print one line each instead of bars
    print(
        f"""
done in {time.perf_counter() - started:.0f} s.
  store:      {root}/   ({accounts} accounts; `wxframe coverage --store {root}`)
  portfolio:  {portfolio}   (open it in a browser; each name opens that account's report)
  accounts:   {", ".join(f"{root}/{n}.html" for n in names[:3])}{" ..." if accounts > 3 else ""}
  in Python:  wxframe.compare_accounts(wxframe.Store("{root}"))

The same on your accounts (accounts.toml: one [[account]] per appid, each secret from a variable):
  wxframe sync --store ./wx-store --accounts accounts.toml --begin {begin}
  wxframe report --store ./wx-store --accounts all --each --out reports/portfolio.html"""
    )
    del end
    return 0


def _import_history(store: Store, sim: Simulator, begin: date, folder: Path) -> None:
    """A year of the six original endpoints up to the switch, as saved JSON, imported."""
    history_end = min(CURRENT_FIRST_DAY, begin) - timedelta(days=1)
    history_begin = history_end - timedelta(days=364)
    for name in OFFLINE_ENDPOINTS:
        saved = sim.write_archive(name, history_begin, history_end, folder / f"{name}.jsonl")
        store.import_json(name, saved, account=sim.appid)
