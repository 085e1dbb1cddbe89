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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
