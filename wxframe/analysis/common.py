"""Shape checks, group keys, fractions and article keys: what the helpers and plots share."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from wxframe.endpoints import Labels, check_lang
from wxframe.errors import ConfigurationError, FrameShapeError
from wxframe.frames import endpoint_of

__all__ = [
    "Labels",
    "article_keys",
    "check_column",
    "check_labels",
    "first_of_group",
    "fractions",
    "group_keys",
    "is_all_row",
    "looks_like",
    "require",
    "sorted_unique",
    "stat_day",
]


def looks_like(df: pd.DataFrame) -> str:
    """Which endpoint's frame ``df`` looks like, for error messages."""
    spec = endpoint_of(df)
    if spec is not None:
        return f"a {spec.name} frame"
    return (
        "a frame with columns "
        + ", ".join(map(str, df.columns[:8]))
        + (", ..." if len(df.columns) > 8 else "")
    )


def require(df: object, columns: Iterable[str], helper: str, expected: str) -> pd.DataFrame:
    """``df`` if it is a DataFrame with ``columns``; otherwise a FrameShapeError that says why."""
    if not isinstance(df, pd.DataFrame):
        raise FrameShapeError(f"{helper} needs {expected} (a DataFrame), got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise FrameShapeError(
            f"{helper} needs {expected}; this looks like {looks_like(df)}, "
            f"which lacks column(s) {', '.join(missing)}"
        )
    return df


def check_column(df: pd.DataFrame, name: str, value: object, allowed: Iterable[str]) -> str:
    """``value`` if it is one of ``allowed`` (columns of ``df``); else an error listing them."""
    choices = [c for c in allowed if c in df.columns]
    if not isinstance(value, str) or value not in choices:
        raise ConfigurationError(
            f"{name}={value!r} is not a column this helper can use here; "
            f"allowed: {', '.join(choices) or 'none (see the helper’s docstring)'}"
        )
    return value


def check_labels(labels: object) -> Labels:
    """``labels=`` as the registry takes it: ``"en"``, ``"zh"`` or None (the codes)."""
    return check_lang(labels, "labels")


def group_keys(df: pd.DataFrame) -> list[str]:
    """``account`` when a store frame holds several accounts: it must stay a key."""
    return ["account"] if "account" in df.columns and df["account"].nunique() > 1 else []


def fractions(wide: pd.DataFrame) -> pd.DataFrame:
    """Each column's fraction of the row sum; an all-zero or all-NA row is NA."""
    values = wide.astype("Float64")
    total = values.sum(axis=1, min_count=1)
    return values.div(total.where(total > 0), axis=0)


def is_all_row(df: pd.DataFrame) -> pd.Series:
    """The rows of the ``all`` channel (every row where a frame has no channels)."""
    if "channel" not in df.columns:
        return pd.Series(True, index=df.index)
    return df["channel"].astype("string").eq("all").fillna(False).astype(bool)


def article_keys(df: pd.DataFrame) -> list[str]:
    """What identifies one life of running totals: the endpoint's key without its stat day.

    An article's msgid (per channel where the rows are per channel), within its account
    when a store frame says.
    """
    spec = endpoint_of(df)
    if spec is not None and spec.stat_date is not None:
        keys = [k for k in spec.key if k != spec.stat_date]
    else:
        keys = ["msgid", *(["channel"] if "channel" in df.columns else [])]
    return [*(["account"] if "account" in df.columns else []), *keys]


def sorted_unique(df: pd.DataFrame, keys: list[str], helper: str) -> pd.DataFrame:
    """``df`` sorted by article then stat day, refusing two rows for one article-day."""
    df = df.sort_values([*keys, "stat_date"], kind="stable", ignore_index=True)
    dup = df.duplicated([*keys, "stat_date"])
    if dup.any():
        row = df[[*keys, "stat_date"]][dup.to_numpy()].iloc[0].to_dict()
        raise FrameShapeError(
            f"{helper}: {int(dup.sum())} duplicated article-day row(s), first {row}; "
            f"one row per {', '.join(keys)} and stat_date is expected"
        )
    return df


def stat_day(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Days since sending of each stat row: ``day`` when given, else from the first stat day."""
    if "day" in df.columns:
        return df["day"]
    return (df["stat_date"] - df.groupby(keys)["stat_date"].transform("min")).dt.days


def first_of_group(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Where each group of a frame sorted by ``keys`` starts."""
    first = np.zeros(len(df), dtype=bool)
    if len(df):
        first[0] = True
    for k in keys:
        col = df[k].to_numpy(dtype=object)
        first[1:] |= col[1:] != col[:-1]
    return pd.Series(first, index=df.index)
