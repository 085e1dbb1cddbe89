"""``python -m bench [--smoke] [--only NAME ...] [--markdown FILE]``: run the benchmarks."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from collections.abc import Callable

import pandas as pd
import pyarrow as pa

import wxframe
from bench import analysis, api, object_storage, parsing, portfolio, storage
from bench._harness import Table

BENCHMARKS: dict[str, Callable[[bool], Table | list[Table]]] = {
    "calls": api.calls,
    "concurrency": api.concurrency,
    "incremental": api.incremental,
    "parsing": parsing.parsing,
    "store": storage.storage,
    "analysis": analysis.analysis,
    "sync_bound": api.sync_bound,
    "decoding": parsing.decoding,
    "scale": storage.scale,
    "many_accounts": api.many_accounts,
    "sync_pairs": api.sync_pairs,
    "checksums": storage.checksums,
    "portfolio": portfolio.portfolio,
    "cluster": api.cluster,
    "object_storage": object_storage.object_storage,
}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, pandas {pd.__version__}, pyarrow {pa.__version__}, "
        f"wxframe {wxframe.__version__}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run each")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument(
        "--before",
        help="sync_pairs: a worktree of the code to pair against (git worktree add DIR REV)",
    )
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    mode = "smoke" if args.smoke else "full"
    header = (
        f"wxframe benchmarks ({mode}), {dt.datetime.now():%Y-%m-%d %H:%M}\n\n"
        f"Machine: {machine()}\n\n"
        f"Command: `python -m bench{' --smoke' if args.smoke else ''}"
        f"{' --only ' + ' '.join(names) if args.only else ''}"
        f"{' --before ' + args.before if args.before else ''}`\n"
    )
    print(header, flush=True)
    parts = [header]
    started = time.perf_counter()
    for name in names:
        if name == "sync_pairs":
            result = api.sync_pairs(args.smoke, before=args.before)
        else:
            result = BENCHMARKS[name](args.smoke)
        for table in result if isinstance(result, list) else [result]:
            text = table.markdown()
            print(text, flush=True)
            parts.append(text)
    footer = f"All benchmarks took {time.perf_counter() - started:.0f} s.\n"
    print(footer)
    parts.append(footer)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("\n".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
