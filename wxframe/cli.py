"""The ``wxframe`` command line: ``simulate`` (and the jobs built on the library)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date

__all__ = ["main"]


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from None


def _cmd_simulate(args: argparse.Namespace) -> int:
    from wxframe.simulator._server import serve_forever

    def announce(sim: object) -> None:
        print(f"wxframe simulator serving on {sim.url}", flush=True)  # type: ignore[attr-defined]
        print(f"  WX_API_BASE={sim.url}")  # type: ignore[attr-defined]
        print(f"  WX_APPID={sim.appid}")  # type: ignore[attr-defined]
        print(f"  WX_APPSECRET={sim.secret}")  # type: ignore[attr-defined]
        print(f"  today (Beijing) = {sim.today}; press Ctrl+C to stop", flush=True)  # type: ignore[attr-defined]

    serve_forever(args.seed, args.today, args.latency_ms / 1000.0, args.port, announce)
    return 0


def _cmd_sync(args: argparse.Namespace) -> int:
    import contextlib

    from wxframe.client import Client
    from wxframe.errors import SyncIncomplete, WxframeError
    from wxframe.store import Store

    store = Store(args.store, lock_timeout=args.lock_timeout)
    with contextlib.ExitStack() as stack:
        if args.simulator:
            from wxframe.simulator import serve

            sim = stack.enter_context(serve(seed=args.seed, today=args.today))
            client = sim.client()
            print(f"syncing from the built-in simulator ({sim.url}, today {sim.today})")
        else:
            try:
                client = Client.from_env()
            except WxframeError as exc:
                print(f"wxframe sync: {exc}", file=sys.stderr)
                return 2
        try:
            summary = store.sync(
                client, args.begin, args.end, endpoints=args.endpoint, progress=not args.quiet
            )
        except SyncIncomplete as exc:
            print(f"wxframe sync: {exc}", file=sys.stderr)
            return 3
        except WxframeError as exc:
            print(f"wxframe sync: {exc}", file=sys.stderr)
            return 2
    print(f"synced {store.root}: {summary}")
    return 0


def _cmd_coverage(args: argparse.Namespace) -> int:
    import pandas as pd

    from wxframe.store import Store

    table = Store(args.store).coverage().drop(columns=["refresh"])
    if table.empty:
        print(f"{args.store}: the store holds nothing yet")
        return 0
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wxframe",
        description="WeChat article analytics as tidy pandas DataFrames and parquet snapshots.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    sim.set_defaults(func=_cmd_simulate)

    sync = sub.add_parser(
        "sync",
        help="fill a parquet store with what is missing or may still change",
        description="Sync datacube data into a parquet store. Credentials come from "
        "WX_APPID and WX_APPSECRET (WX_API_BASE for another server), or use --simulator.",
    )
    sync.add_argument("--store", required=True, help="the store's directory")
    sync.add_argument("--begin", type=_date, help="first day (default: the store's first day)")
    sync.add_argument("--end", type=_date, help="last day (default: the last complete day)")
    sync.add_argument(
        "--endpoint", action="append", choices=sorted(_endpoint_names()),
        help="an endpoint to sync (repeat for several; default: all six)",
    )  # fmt: skip
    sync.add_argument("--simulator", action="store_true", help="sync from a built-in simulator")
    sync.add_argument("--seed", type=int, default=0, help="the simulator's seed")
    sync.add_argument("--today", type=_date, default=None, help="the simulator's Beijing date")
    sync.add_argument("--lock-timeout", type=float, default=0.0, help="seconds to wait for a lock")
    sync.add_argument("--quiet", action="store_true", help="no progress bars")
    sync.set_defaults(func=_cmd_sync)

    cov = sub.add_parser("coverage", help="show what a store holds")
    cov.add_argument("--store", required=True, help="the store's directory")
    cov.set_defaults(func=_cmd_coverage)
    return parser


def _endpoint_names() -> list[str]:
    from wxframe.endpoints import ENDPOINTS

    return list(ENDPOINTS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
