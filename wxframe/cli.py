"""The ``wxframe`` command line: ``demo``, ``sync``, ``import``, ``verify``, ``report``,
``run``, ``coverage``, ``labels``, ``doctor``, ``simulate``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from pathlib import Path

    from wxframe.store import RepairSummary

__all__ = ["EXIT_CODES", "build_parser", "main"]


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from None


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds > 0")
    return seconds


def _character_names() -> list[str]:
    from wxframe.simulator import CHARACTERS

    return list(CHARACTERS)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from wxframe.simulator import serve_forever

    def announce(sim: object) -> None:
        print(f"wxframe simulator serving on {sim.url}", flush=True)  # type: ignore[attr-defined]
        print(f"  WX_API_BASE={sim.url}")  # type: ignore[attr-defined]
        print(f"  WX_APPID={sim.appid}")  # type: ignore[attr-defined]
        print(f"  WX_APPSECRET={sim.secret}")  # type: ignore[attr-defined]
        print(f"  character = {sim.character.describe()}")  # type: ignore[attr-defined]
        print(f"  today (Beijing) = {sim.today}; press Ctrl+C to stop", flush=True)  # type: ignore[attr-defined]

    serve_forever(
        args.seed, args.today, args.latency_ms / 1000.0, args.port, announce, args.character
    )
    return 0


def _cmd_sync(args: argparse.Namespace) -> int:
    import contextlib

    from wxframe.errors import WxframeError
    from wxframe.store import Store

    store = Store(args.store, lock_timeout=args.lock_timeout)
    if not store.exists():  # only where the parent folder is: a typo is named, not made
        try:
            store.create()
        except WxframeError as exc:
            print(f"wxframe sync: {exc}", file=sys.stderr)
            return _status(exc)
        print(f"creating a new store at {store.root}", flush=True)
    if args.accounts:
        return _sync_accounts(args, store)
    with contextlib.ExitStack() as stack:
        try:
            client = _clients(args, stack)()
        except WxframeError as exc:
            print(f"wxframe sync: {exc}", file=sys.stderr)
            return _status(exc)
        if args.simulator:
            print(f"syncing from the built-in simulator ({client.base_url}, "
                  f"today {client.now():%Y-%m-%d})")  # fmt: skip
        try:
            summary = store.sync(
                client, args.begin, args.end, endpoints=args.endpoint or _family(args.family),
                progress=_progress(args),
            )  # fmt: skip
        except WxframeError as exc:
            print(f"wxframe sync: {exc}", file=sys.stderr)
            return _status(exc)
    print(f"synced {store.root}: {summary}")
    return _summary_status(summary, args)


def _summary_status(summary: Any, args: argparse.Namespace) -> int:
    """A finished sync's exit code: 3 when windows whose answers could not be used were
    left for the next sync (each named on a line of its own: a truncated or odd answer
    is the platform's or a proxy's, and the next run asks again), else the offline
    code (5 or 0)."""
    from wxframe.errors import most_urgent

    for bad in summary.failed:
        print(f"wxframe sync: not complete: {bad} (asked again by the next sync)",
              file=sys.stderr)  # fmt: skip
    return most_urgent([3 if summary.failed else 0, _offline_status(summary, args)])


def _offline_status(summary: Any, args: argparse.Namespace) -> int:
    """5 when the platform has switched off an endpoint the user named, or every
    endpoint asked: a sync of nothing must not look like a sync that is up to date."""
    from wxframe.endpoints import ENDPOINTS

    asked = args.endpoint or _family(args.family)
    off = [name for name in asked if name in summary.offline]
    if not off or (not args.endpoint and len(off) < len(asked)):
        return 0
    for name in off:
        instead = " or ".join(ENDPOINTS[name].successors) or "nothing (no successor)"
        print(f"wxframe sync: the platform has switched {name} off ({summary.offline[name]}): "
              f"sync {instead} instead", file=sys.stderr)  # fmt: skip
    return 5


def _cmd_verify(args: argparse.Namespace) -> int:
    import contextlib

    import pandas as pd

    from wxframe.client import Client
    from wxframe.errors import WxframeError
    from wxframe.store import Store

    try:
        store = Store.open(args.store)
    except WxframeError as exc:
        print(f"wxframe verify: {exc}", file=sys.stderr)
        return _status(exc)
    with contextlib.ExitStack() as stack:
        client: Client | None = None
        if args.repair:
            with contextlib.suppress(WxframeError):  # without credentials: say what to run
                client = _clients(args, stack)()
        try:
            repaired: RepairSummary | None = None
            if args.repair:
                repaired = store.repair(client, account=args.account)
                problems = repaired.problems
            else:
                problems = store.verify(account=args.account)
        except WxframeError as exc:
            print(f"wxframe verify: {exc}", file=sys.stderr)
            return _status(exc)
        if problems.empty:
            print(f"{store.root}: every file the manifest lists is sound")
            return 0
        with pd.option_context("display.width", 200, "display.max_colwidth", 90):
            print(problems.drop(columns=["path"]).to_string(index=False))
        if repaired is None:  # what a repair would do, before it does it
            counts = problems["repair"].value_counts()
            would = ", ".join(f"{what}: {n}" for what, n in counts.items())
            print(f"\n{len(problems)} problem(s); `wxframe verify --store {store.root} "
                  f"--repair` would do what the repair column says ({would})")  # fmt: skip
            return 1
        return _print_repair(store.root, repaired)


def _print_repair(root: Path | str, repaired: RepairSummary) -> int:
    """What a repair did and what is left to do; the exit status (1: an archive to import
    again, 3: days left to fetch)."""
    status = 0
    for _, row in repaired.kept.iterrows():
        print(f"{row['endpoint']} {row['month']} of {row['account']}: the data file is sound, "
              f"kept and listed in the manifest again ({row['days']} days)")  # fmt: skip
    for _, row in repaired.to_import.iterrows():
        print(f"{row['endpoint']} {row['month']} of {row['account']}: imported history, "
              f"import its archive again (wxframe import --store {root} "
              f"--endpoint {row['endpoint']} FILES)")  # fmt: skip
        status = 1
    for account in dict.fromkeys(todo.account for todo in repaired.refetch):
        if account in repaired.stopped:
            print(f"wxframe verify: the repair's sync stopped: {repaired.stopped[account]}",
                  file=sys.stderr)  # fmt: skip
            return _status(repaired.stopped[account])
        if account in repaired.synced:
            print(f"repaired {account}: {repaired.synced[account]}")
    for todo in repaired.left:
        command = f"wxframe sync --store {root} --begin {todo.begin} --end {todo.end} " + " ".join(
            f"--endpoint {name}" for name in todo.endpoints
        )
        print(f"{todo.account}: damaged days forgotten; to fetch them: {command}")
        status = 3
    return status


def _sync_accounts(args: argparse.Namespace, store: Any) -> int:
    """``wxframe sync --accounts FILE``: every account of a TOML file, several at once,
    and one row per account: what it synced, or what stopped it and what to do."""
    from wxframe.accounts import read_accounts, sync_accounts
    from wxframe.errors import SyncIncomplete, WxframeError, most_urgent

    try:
        accounts = read_accounts(args.accounts)
        results = sync_accounts(
            store, accounts, args.begin, args.end, endpoints=args.endpoint or
            _family(args.family), max_workers=args.max_workers,
            max_accounts=args.max_accounts, processes=args.processes, cluster=args.cluster,
        )  # fmt: skip
    except WxframeError as exc:  # the file itself, or an option: no account was synced
        print(f"wxframe sync: --accounts {args.accounts}: {exc}", file=sys.stderr)
        return _status(exc)
    statuses = []
    width = max(len(appid) for appid in results)
    for appid, result in results.items():
        if isinstance(result, WxframeError):
            statuses.append(_status(result))
            verdict = VERDICTS[result.exit_status]
            if isinstance(result, SyncIncomplete):
                left = ", ".join(result.remaining) or "nothing"
                text = (f"{result.reason} (kept {result.summary.rows_written} rows; "
                        f"unfinished: {left})")  # fmt: skip
            else:
                text = str(result)
            print(f"{appid:<{width}}  {verdict}: {text}")
        else:
            print(f"{appid:<{width}}  synced: {result}")
            statuses.append(_summary_status(result, args))
    failed = sum(status != 0 for status in statuses)
    if failed:
        print(f"wxframe sync: {failed} of {len(results)} account(s) not finished (see their "
              "rows); the others synced", file=sys.stderr)  # fmt: skip
    # A fix to make outranks a rerun: a rerun alone would not finish those accounts.
    return most_urgent(statuses)


def _progress(args: argparse.Namespace) -> bool:
    """Progress bars only where someone watches: not with --quiet, and not into a log
    file or a pipe (a bar redrawn there is hundreds of lines of noise)."""
    return not args.quiet and sys.stderr.isatty()


def _status(exc: BaseException) -> int:
    """The exit code for an error (the table in ``wxframe --help``), as the error's
    class declares it."""
    return int(getattr(exc, "exit_status", 2))


def _print_verdict(row: dict[str, Any]) -> None:
    """One check's verdict as it comes, on a terminal: a doctor takes seconds."""
    print(f"  {row['check']:<22} {row['status']:<18} {row['advice']}"[:160], file=sys.stderr,
          flush=True)  # fmt: skip


def _cmd_doctor(args: argparse.Namespace) -> int:
    import contextlib
    import functools
    import json

    import pandas as pd

    from wxframe.doctor import PROBE_TIMEOUT, check_token, doctor, usable
    from wxframe.errors import WxframeError
    from wxframe.store import Store

    with contextlib.ExitStack() as stack:
        make = functools.partial(
            _clients(args, stack), timeout=min(PROBE_TIMEOUT, args.timeout), max_retries=0
        )
        first = "classic" if args.token == "classic" else "stable"
        live = _print_verdict if sys.stderr.isatty() and not args.json else None
        try:
            client = make(token=first)
            report = doctor(client, store=Store.open(args.store) if args.store else None,
                            timeout=args.timeout, on_row=live)  # fmt: skip
            if args.token == "both":  # which of the two token endpoints works
                classic = pd.DataFrame([check_token(make(token="classic"), "token (classic)")])
                report = pd.concat([report.iloc[:1], classic, report.iloc[1:]], ignore_index=True)
        except WxframeError as exc:
            print(f"wxframe doctor: {exc}", file=sys.stderr)
            return _status(exc)
    ok = usable(report)
    if args.json:
        rows = report.astype(object).where(report.notna(), None).to_dict(orient="records")
        print(json.dumps({"account": client.appid, "usable": ok, "checks": rows},
                         ensure_ascii=False, indent=1))  # fmt: skip
    else:
        print(f"account {client.appid} at {client.base_url}")
        with pd.option_context("display.width", 250, "display.max_colwidth", 120):
            print(report.astype(object).where(report.notna(), "").to_string(index=False))
        print("\n" + ("every current endpoint is usable" if ok else
                      "not every current endpoint is usable: see the advice above"))  # fmt: skip
    return 0 if ok else 1


def _clients(args: argparse.Namespace, stack: Any) -> Callable[..., Any]:
    """What makes the command's clients: a built-in simulator's (``--simulator``, kept
    running by ``stack``) or the environment's credentials (``Client.from_env``)."""
    if args.simulator:
        from wxframe.simulator import serve

        return stack.enter_context(serve(seed=args.seed, today=args.today)).client
    from wxframe.client import Client

    return Client.from_env


def _family(name: str) -> list[str]:
    from wxframe.endpoints import CURRENT_ENDPOINTS, ENDPOINTS, OFFLINE_ENDPOINTS

    return list({"current": CURRENT_ENDPOINTS, "offline": OFFLINE_ENDPOINTS}.get(name, ENDPOINTS))


def _cmd_import(args: argparse.Namespace) -> int:
    from wxframe.errors import WxframeError, command_line
    from wxframe.store import Store

    store = Store(args.store)
    try:
        new = not store.exists() and store.create(dry_run=True)  # a typo named first
        with command_line():  # its messages name this command's flags
            summary = store.import_json(
                args.endpoint, args.paths, account=args.account, replace=args.replace
            )
    except WxframeError as exc:
        print(f"wxframe import: {exc}", file=sys.stderr)
        return _status(exc)
    if new:  # made only where its parent folder is, as by sync
        print(f"created a new store at {store.root}")
    print(f"imported into {store.root} ({args.endpoint}): {summary}")
    return 1 if summary.refused else 0  # done; the files refused are to look at


def _cmd_publish(args: argparse.Namespace) -> int:
    """``wxframe publish``: one row per account, what was uploaded or what stopped it."""
    from wxframe.errors import WxframeError, most_urgent
    from wxframe.store import publish

    try:
        results = publish(args.store, args.to, accounts=args.account, dry_run=args.dry_run,
                          replace=args.replace, lock_timeout=args.lock_timeout)  # fmt: skip
    except WxframeError as exc:  # the arguments: nothing was read or written
        print(f"wxframe publish: {exc}", file=sys.stderr)
        return _status(exc)
    print(f"{args.store} -> {args.to}" + ("" if results else ": no account to publish yet"))
    width = max(map(len, results), default=0)
    for appid, result in results.items():
        verdict = VERDICTS[result.exit_status] if isinstance(result, WxframeError) else ""
        print(f"{appid:<{width}}  {verdict + ': ' if verdict else ''}{result}")
    return most_urgent(r.exit_status for r in results.values() if isinstance(r, WxframeError))


def _cmd_coverage(args: argparse.Namespace) -> int:
    import pandas as pd

    from wxframe.errors import WxframeError
    from wxframe.store import Store

    try:
        table = Store.open(args.store).coverage().drop(columns=["refresh"])
    except WxframeError as exc:
        print(f"wxframe coverage: {exc}", file=sys.stderr)
        return _status(exc)
    if table.empty:
        print(f"{args.store}: the store holds nothing yet")
        return 0
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    """``wxframe run --config FILE``: sync, report, alert and deliver, once per period."""
    from wxframe.errors import WxframeError
    from wxframe.job import read_config, run_job

    try:
        config = read_config(args.config)
        done = run_job(config, dry_run=args.dry_run, resend=args.resend,
                       say=lambda line: print(line, flush=True))  # fmt: skip
    except WxframeError as exc:
        print(f"wxframe run: {exc}", file=sys.stderr)
        return _status(exc)
    sent = sum(o.state == "sent" for o in done.outcomes)
    alerts = sum(map(len, done.alerts.values()))
    print(f"done: {len(config.accounts)} account(s), {sent} delivery(ies) sent, {alerts} "
          f"alert(s); exit {done.exit_status}")  # fmt: skip
    return done.exit_status


def _cmd_labels(args: argparse.Namespace) -> int:
    """The code lists as the registry declares them: what ``code_5`` or ``qr_code`` is
    called in the pivots, the plots and the report, in both languages."""
    import pandas as pd

    from wxframe.endpoints import CODE_LISTS

    lists = [args.list] if args.list else list(CODE_LISTS)
    rows = [
        (column, code, name, codes.display(name, "en"), codes.display(name, "zh"))
        for column in lists
        for codes in [CODE_LISTS[column]]
        for code, name in codes.labels.items()
    ]
    table = pd.DataFrame(rows, columns=["list", "code", "name", "en", "zh"])
    print(table.to_string(index=False))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from wxframe.demo import account_demo, portfolio_demo
    from wxframe.errors import WxframeError

    root = Path(args.dir)
    if root.exists() and any(root.iterdir()) and not (root / "_manifest").is_dir():
        print(f"wxframe demo: {root} exists and is not a wxframe store; "
              "choose another --dir", file=sys.stderr)  # fmt: skip
        return 2
    try:
        if args.accounts != 1:
            return portfolio_demo(root, args.accounts, days=args.days, today=args.today,
                                  progress=_progress(args))  # fmt: skip
        return account_demo(root, seed=args.seed, days=args.days, today=args.today,
                            progress=_progress(args))  # fmt: skip
    except WxframeError as exc:
        print(f"wxframe demo: {exc}", file=sys.stderr)
        return _status(exc)


def _cmd_report(args: argparse.Namespace) -> int:
    from wxframe.errors import ConfigurationError, WxframeError
    from wxframe.report import render_portfolio, render_report

    try:
        if args.accounts is not None:
            if args.account:
                raise ConfigurationError("--account and --accounts: give one of them")
            names = None if args.accounts == "all" else args.accounts.split(",")
            out = render_portfolio(args.store, args.out, accounts=names, begin=args.begin,
                                   end=args.end, lang=args.lang)  # fmt: skip
            print(f"wrote {out}")
            from wxframe.store import Store

            for name in (names or Store.open(args.store).accounts()) if args.each else []:
                page = render_report(args.store, out.parent / f"{name}.html", account=name,
                                     begin=args.begin, end=args.end, lang=args.lang)  # fmt: skip
                print(f"wrote {page}")
            return 0
        out = render_report(
            args.store,
            args.out,
            account=args.account,
            begin=args.begin,
            end=args.end,
            lang=args.lang,
        )
    except WxframeError as exc:
        print(f"wxframe report: {exc}", file=sys.stderr)
        return _status(exc)
    print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wxframe",
        description="WeChat article analytics as tidy pandas DataFrames and parquet snapshots.",
        epilog=_exit_codes_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from importlib.metadata import version  # not the package itself: the CLI sits below it

    from wxframe.endpoints import CODE_LISTS, LANGS

    parser.add_argument("--version", action="version", version=f"wxframe {version('wxframe')}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="the whole tool on the built-in simulator: a store and a report",
        description="Start the built-in simulator (the platform as it is today), sync the "
        "last --days days of the current family into a store at --dir (the folder is the "
        "store), import a year of the six original endpoints' history from JSON it saves "
        "in DIR/archive/, and render the account report to DIR/report.html.",
    )
    demo.add_argument(
        "--dir", default="./wxframe-demo", metavar="DIR",
        help="the store's folder, made if missing (./wxframe-demo)",
    )  # fmt: skip
    demo.add_argument("--days", type=int, default=90, help="days to sync (90)")
    demo.add_argument("--seed", type=int, default=0, help="the simulated account's seed")
    demo.add_argument(
        "--accounts",
        type=int,
        default=1,
        metavar="N",
        help="N accounts (seeds 0..N-1) and the portfolio report (1)",
    )
    demo.add_argument("--today", type=_date, default=None, help="the simulator's Beijing date")
    demo.add_argument("--quiet", action="store_true", help="no progress bars (none off a terminal)")
    demo.set_defaults(func=_cmd_demo)

    report = sub.add_parser(
        "report",
        help="render the account report of a store to one HTML file",
        description="Execute the account report notebook on a store and write "
        "self-contained HTML (code hidden, plots embedded).",
    )
    report.add_argument("--store", required=True, help="a directory, or s3://BUCKET/PREFIX")
    report.add_argument("--account", help="the appid (needed if the store holds several)")
    report.add_argument("--begin", type=_date, help="first day (default: 28 days before --end)")
    report.add_argument("--end", type=_date, help="last day (default: the last day held)")
    report.add_argument("--out", required=True, help="the HTML file to write")
    report.add_argument("--lang", choices=list(LANGS), default="en", help="labels (en)")
    report.add_argument(
        "--accounts",
        metavar="all|APPID,APPID",
        help="the portfolio report: "
        "one page comparing these accounts, each name a link to APPID.html",
    )
    report.add_argument(
        "--each",
        action="store_true",
        help="with --accounts: also render each account's report beside it",
    )
    report.set_defaults(func=_cmd_report)

    sim = sub.add_parser(
        "simulate",
        help="serve the built-in datacube API simulator on loopback",
        description="Serve the built-in WeChat datacube simulator until interrupted. "
        "It prints the base URL, appid and secret to use (WX_API_BASE, WX_APPID, WX_APPSECRET).",
    )
    sim.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    sim.add_argument("--seed", type=int, default=0, help="seed of the simulated account")
    sim.add_argument("--today", type=_date, default=None, help="simulated Beijing date, YYYY-MM-DD")
    sim.add_argument("--latency-ms", type=float, default=0.0, help="delay per datacube request")
    sim.add_argument(
        "--character",
        choices=_character_names(),
        default=None,
        help="what kind of account it plays (default: the seed's; seed 0 is the original)",
    )
    sim.set_defaults(func=_cmd_simulate)

    sync = sub.add_parser(
        "sync",
        help="fill a parquet store with what is missing or may still change",
        description="Sync datacube data into a parquet store. Credentials come from "
        "WX_APPID and WX_APPSECRET (WX_API_BASE for another server), or use --simulator.",
    )
    sync.add_argument("--store", required=True, help="a directory, or s3://BUCKET/PREFIX")
    sync.add_argument("--begin", type=_date, help="first day (default: the store's first day)")
    sync.add_argument("--end", type=_date, help="last day (default: the last complete day)")
    sync.add_argument(
        "--endpoint", action="append", choices=sorted(_endpoint_names()),
        help="an endpoint to sync (repeat for several; default: those of --family)",
    )  # fmt: skip
    sync.add_argument(
        "--family", choices=["current", "offline", "all"], default="current",
        help="without --endpoint: the current family (default), the six switched off in "
        "2026 (for a simulator's history), or all",
    )  # fmt: skip
    sync.add_argument("--simulator", action="store_true", help="sync from a built-in simulator")
    sync.add_argument(
        "--accounts", metavar="FILE",
        help="a TOML file of accounts ([[account]] appid = ..., secret_env = the name of the "
        "variable holding its secret): all of them, several at once",
    )  # fmt: skip
    sync.add_argument(
        "--max-workers",
        type=int,
        default=16,
        help="with --accounts: requests in flight for all accounts, per process (16); each "
        "account's own limit is its max_workers in the file (4)",
    )
    sync.add_argument(
        "--max-accounts",
        type=int,
        default=None,
        help="with --accounts: accounts synced at once, per process (default: twice as "
        "many as fill --max-workers)",
    )
    sync.add_argument(
        "--processes",
        type=int,
        default=1,
        help="with --accounts: worker processes the accounts are dealt to (1)",
    )
    sync.add_argument(
        "--cluster", metavar="ADDRESS",
        help="with --accounts: a Dask scheduler (tcp://host:8786) whose workers sync one "
        "account a task, each secret read from the workers' own environment "
        '(pip install "wxframe[dask]")',
    )  # fmt: skip
    sync.add_argument("--seed", type=int, default=0, help="the simulator's seed")
    sync.add_argument("--today", type=_date, default=None, help="the simulator's Beijing date")
    sync.add_argument("--lock-timeout", type=float, default=0.0, help="seconds to wait for a lock")
    sync.add_argument("--quiet", action="store_true", help="no progress bars (none off a terminal)")
    sync.set_defaults(func=_cmd_sync)

    imp = sub.add_parser(
        "import",
        help="put saved raw JSON responses (history, archives) into a store",
        description="Import saved raw responses of one endpoint: files holding one response, "
        "a JSON array of records, or JSON Lines of responses (folders: their .json/.jsonl "
        "files). Imported days are final; importing the same files again changes nothing.",
    )
    imp.add_argument("--store", required=True, help="a directory, or s3://BUCKET/PREFIX")
    imp.add_argument("--endpoint", required=True, choices=sorted(_endpoint_names()))
    imp.add_argument("--account", help="the appid the files are of (default: the store's only one)")
    imp.add_argument("--replace", action="store_true", help="replace days the store holds")
    imp.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    imp.set_defaults(func=_cmd_import)

    ver = sub.add_parser(
        "verify",
        help="check a store's files against its manifest (and repair them)",
        description="Check that every file the manifest lists exists, reads, and has the "
        "rows, size and checksum recorded when it was written. With --repair, damaged "
        "months are forgotten and their days fetched again (credentials as for sync).",
    )
    ver.add_argument("--store", required=True, help="a directory, or s3://BUCKET/PREFIX")
    ver.add_argument("--account", help="only this appid")
    ver.add_argument("--repair", action="store_true", help="forget and fetch damaged months")
    ver.add_argument("--simulator", action="store_true", help="repair from a built-in simulator")
    ver.add_argument("--seed", type=int, default=0, help="the simulator's seed")
    ver.add_argument("--today", type=_date, default=None, help="the simulator's Beijing date")
    ver.set_defaults(func=_cmd_verify)

    doc = sub.add_parser(
        "doctor",
        help="what this account can fetch, endpoint by endpoint, and what to do",
        description="Get a token, then ask every endpoint for one day (at most one call "
        "each) and say per endpoint: data, empty, switched off (47009), not authorised "
        "(48001), IP not whitelisted (40164), quota used up (45009) or another error. "
        "Credentials from WX_APPID / WX_APPSECRET (or --simulator). Exit 0 when every "
        "current endpoint is usable.",
    )
    doc.add_argument("--store", help="also show what this store holds and a sync would ask")
    doc.add_argument(
        "--token",
        choices=["stable", "classic", "both"],
        default="stable",
        help="the token endpoint to try: stable (default), classic, or both",
    )
    doc.add_argument("--json", action="store_true", help="the report as JSON")
    doc.add_argument(
        "--timeout", type=_seconds, default=60.0,
        help="seconds the whole check may take (60); each request is tried once, for at "
        "most 10 s",
    )  # fmt: skip
    doc.add_argument("--simulator", action="store_true", help="check a built-in simulator")
    doc.add_argument("--seed", type=int, default=0, help="the simulator's seed")
    doc.add_argument("--today", type=_date, default=None, help="the simulator's Beijing date")
    doc.set_defaults(func=_cmd_doctor)

    run = sub.add_parser(
        "run",
        help="the scheduled job: sync, report, alert and deliver (once per period)",
        description="Sync the accounts of a config (TOML), render each one's report for "
        "the period it names, check its alert rules and deliver to its destinations "
        "(WeCom, DingTalk, Feishu, mail, a folder). A delivery log in the store makes a "
        "rerun of the same period send nothing again. Secrets come only from the "
        "environment variables the config names.",
    )
    run.add_argument(
        "--config", required=True,
        help="the job's TOML file (README: 'Leaving it running'; exit codes below)",
    )  # fmt: skip
    run.add_argument(
        "--dry-run", action="store_true",
        help="sync, render and send nothing: check the secrets and say what would be sent "
        "where, from the store as it is",
    )  # fmt: skip
    run.add_argument(
        "--resend", action="store_true",
        help="send this period again, even where the log says it was sent",
    )  # fmt: skip
    run.set_defaults(func=_cmd_run)

    pub = sub.add_parser(
        "publish",
        help="mirror a store to object storage: only what changed, each account whole",
        description="Upload what the destination does not hold yet of each account (files "
        "named by content: the same name is the same bytes), then its pointer: readers see "
        "an account before or after, never half. Credentials: AWS_* variables / ~/.aws.",
    )
    pub.add_argument("--store", required=True, help="the store to publish (a directory)")
    pub.add_argument("--to", required=True, help="where: s3://BUCKET/PREFIX")
    pub.add_argument("--account", action="append", help="only this appid (repeat for more)")
    pub.add_argument("--dry-run", action="store_true", help="say what would be uploaded")
    pub.add_argument("--replace", action="store_true",
                     help="even where the destination holds days the store does not")  # fmt: skip
    pub.add_argument("--lock-timeout", type=float, default=0.0, help="seconds to wait for a lock")
    pub.set_defaults(func=_cmd_publish)

    cov = sub.add_parser("coverage", help="show what a store holds")
    cov.add_argument("--store", required=True, help="a directory, or s3://BUCKET/PREFIX")
    cov.set_defaults(func=_cmd_coverage)

    lab = sub.add_parser(
        "labels",
        help="the channels, share scenes and follower sources: codes and display names",
        description="Print each code of the three code lists with its category in the "
        "frames (channel, scene, source) and the English and Chinese names the pivots' "
        "labels=, the plots and the report show.",
    )
    lab.add_argument("--list", choices=list(CODE_LISTS), help="only this list (default: all)")
    lab.set_defaults(func=_cmd_labels)
    return parser


def _endpoint_names() -> list[str]:
    from wxframe.endpoints import ENDPOINTS

    return list(ENDPOINTS)


#: The exit codes of every command, as the README's table gives them (a test compares).
EXIT_CODES = (
    (0, "done; nothing to look at"),
    (1, "done, and it found something to look at: damaged store files (verify), an "
        "endpoint not usable (doctor), an archive to import again (verify --repair), files "
        "refused (import), an alert with fail = true or a delivery whose fate is unknown "
        "(run)"),
    (2, "something to fix before running again: an argument, no store at the path, a "
        "missing credential or setting, a period the store holds nothing of, a file "
        "refused (nothing was written), or a disk that refused a write (what was written "
        "before stays)"),
    (3, "stopped part-way by the platform or the network (a quota, a busy platform, "
        "retries used up, object storage that did not answer, another writer that "
        "committed the account first), or a repair left days to fetch: what was fetched "
        "is kept; run the same command again later (or the sync it prints) and it "
        "resumes"),
    (4, "the platform refuses this account access (a wrong appid or secret, a refused "
        "token, an IP not whitelisted, an API not authorised): fix it on the platform or "
        "in the credentials; running again as it is does not help"),
    (5, "the platform has switched an endpoint asked for off (47009): ask its successor "
        "instead (the message names it); the history stays readable from a store"),
    (130, "interrupted (Ctrl+C)"),
)  # fmt: skip
#: What a run of several parts exits with (both in the README and ``wxframe --help``).
MANY_PARTS = (
    "With --accounts, each account's row says how it ended, and the command exits with "
    "the code that most needs a person: 4, 5, 2, 3, then 0."
)
#: How a row of ``sync --accounts`` calls an account that did not finish, by exit code.
VERDICTS = {2: "needs a fix", 3: "stopped, run again later", 4: "access refused",
            5: "switched off"}  # fmt: skip


def _exit_codes_text() -> str:
    import textwrap

    lines = ["exit codes:"]
    for code, meaning in EXIT_CODES:
        lines += textwrap.wrap(meaning, 76, initial_indent=f"  {code:<4} ",
                               subsequent_indent=" " * 7)  # fmt: skip
    lines += textwrap.wrap(MANY_PARTS, 78, initial_indent="  ", subsequent_indent="  ")
    return "\n".join(lines)


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Warnings as the command line shows them: one line, no source path or code."""
    text = " ".join(str(message).split())
    print(f"warning: {text}", file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `wxframe doctor | head`: the reader has gone, and that is fine
        import os

        # Python flushes stdout again at exit; point it at nothing so that is quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
