"""Shared pieces of the reliability suite: fast retry settings and store comparison."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from wxframe import OFFLINE_ENDPOINTS, Store

#: Retry waits shrunk so a test spends its time on faults, not sleeping; the policy is
#: the same (bounded attempts, exponential backoff with jitter, 45011 waits).
FAST = {"backoff": 0.001, "max_backoff": 0.01, "rate_limit_wait": 0.01}


def assert_same_store(got: Path | Store, expected: Path | Store) -> int:
    """Every endpoint reads back identical, with unique keys; returns the rows compared."""
    a = got if isinstance(got, Store) else Store(got)
    b = expected if isinstance(expected, Store) else Store(expected)
    rows = 0
    for name, spec in OFFLINE_ENDPOINTS.items():
        left, right = a.read(name), b.read(name)
        assert not left.duplicated(["account", *spec.key]).any(), name
        pd.testing.assert_frame_equal(left, right, obj=name)
        rows += len(left)
    return rows
