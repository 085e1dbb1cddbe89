"""Bundled data: the platform's example responses and a demo snapshot store.

- ``api-examples/<endpoint>.json``: each example response from the platform's page, as
  valid JSON (:func:`api_example`).
- ``demo-store/``: the simulated account (seed 0) as a :class:`~wxframe.Store`
  (:func:`open_demo_store`) holding both families: the current one for its first two
  months (2025-11-01..2025-12-31) and 120 days (2024-02-02..2024-05-31) of the six
  original endpoints' history. Regenerate it byte-for-byte with
  ``python -m wxframe.datasets``.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from wxframe.endpoints import CURRENT_ENDPOINTS, OFFLINE_ENDPOINTS, get_endpoint
from wxframe.store import Store

__all__ = [
    "DEMO_BEGIN",
    "DEMO_CURRENT_BEGIN",
    "DEMO_CURRENT_END",
    "DEMO_END",
    "DEMO_SEED",
    "api_example",
    "build_demo_store",
    "main",
    "open_demo_store",
]

HERE = Path(__file__).resolve().parent
DEMO_SEED = 0
DEMO_BEGIN, DEMO_END = date(2024, 2, 2), date(2024, 5, 31)
_DEMO_TODAY = date(2024, 6, 20)
#: The current family's part of the demo store, and a clock late enough that its 30 days
#: are final (and after 2026-03-03, so its answers carry titles).
DEMO_CURRENT_BEGIN, DEMO_CURRENT_END = date(2025, 11, 1), date(2025, 12, 31)
_DEMO_CURRENT_TODAY = date(
    2026, 3, 15
)  # late enough that every day, getarticletotal's too, is final


def open_demo_store() -> Store:
    """The bundled demo snapshot as a read-only-by-convention :class:`~wxframe.Store`.

    Examples
    --------
    >>> store = open_demo_store()
    >>> store.accounts()
    ['wx5im0000000000001']
    >>> len(store.read("getusershare", "2024-05-01", "2024-05-31"))
    93
    """
    return Store(HERE / "demo-store")


def api_example(endpoint: str) -> dict[str, Any]:
    """The platform's example response for ``endpoint`` (the decoded JSON).

    Examples
    --------
    >>> api_example("getusershare")["list"][0]["share_scene"]
    1
    """
    spec = get_endpoint(endpoint)
    return dict(json.loads((HERE / "api-examples" / f"{spec.name}.json").read_text("utf-8")))


def build_demo_store(root: str | Path) -> Store:
    """Sync the demo snapshot into ``root`` from a simulator pinned to a fixed clock.

    Everything that goes into the files is deterministic (the account's seed, the
    simulator's clock, one worker so windows are written in order), so two builds are
    identical byte for byte.
    """
    from wxframe.simulator import serve

    store = Store(root, grace=0)  # what a sync rewrote is removed at once: nothing left
    for today, begin, end, family in (
        (_DEMO_TODAY, DEMO_BEGIN, DEMO_END, OFFLINE_ENDPOINTS),
        (_DEMO_CURRENT_TODAY, DEMO_CURRENT_BEGIN, DEMO_CURRENT_END, CURRENT_ENDPOINTS),
    ):
        with serve(seed=DEMO_SEED, today=today, hour=12) as sim:
            client = sim.client(max_workers=1)
            store.sync(client, begin, end, progress=False, endpoints=list(family))
    for lock in Path(store.root).glob(".wxframe.*.lock"):
        lock.unlink()  # a sync's lock, not data
    return store


def main(argv: list[str] | None = None) -> int:
    """``python -m wxframe.datasets [DIR]``: rebuild the demo store (default: in place)."""
    import shutil

    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else HERE / "demo-store"
    if target.exists():
        shutil.rmtree(target)
    build_demo_store(target)
    print(f"demo store rebuilt in {target}")
    return 0
