"""Many accounts side by side: one score an account (:func:`account_index`), a table of
every account's headline numbers against the previous period (:func:`compare_accounts`)
and the score week by week (:func:`index_over_time`).

The store's files are read as one ``pyarrow`` dataset per endpoint (``Store.dataset``),
only the columns and rows asked for, so 200 accounts cost one scan, not 200 reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from wxframe.analysis.common import check_labels, require
from wxframe.dates import DateLike, as_date
from wxframe.endpoints import CURRENT_FIRST_DAY
from wxframe.errors import ConfigurationError, EmptyPeriodError, StoreDamagedError, StoreError

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds

    from wxframe.store import Store

__all__ = ["INDEX_TERMS", "account_index", "compare_accounts", "index_over_time"]

#: The index's terms: each one's (scale point, weight). A term at its scale point
#: scores 100; the weights sum to 1. See :func:`account_index`.
INDEX_TERMS: Mapping[str, tuple[float, float]] = {
    "reach": (0.05, 0.30),
    "completion": (0.50, 0.20),
    "share_rate": (0.05, 0.20),
    "zaikan_rate": (0.02, 0.15),
    "growth": (10.0, 0.15),
}

#: Display names (en, zh) of what the portfolio helpers return.
_NAMES: Mapping[str, tuple[str, str]] = {
    "reach": ("readers per follower a day", "日均阅读/粉丝"),
    "completion": ("completion", "完读率"),
    "share_rate": ("shares per reader", "分享率"),
    "zaikan_rate": ("在看 per reader", "在看率"),
    "growth": ("net followers per 1,000 a month", "月净增/千粉"),
    "index": ("index", "指数"),
    "index_terms": ("terms", "指标数"),
    "rank": ("rank", "排名"),
    "readers": ("readers", "阅读人数"),
    "shares": ("shares", "分享人数"),
    "likes": ("likes", "点赞人数"),
    "zaikan": ("在看", "在看人数"),
    "comments": ("comments", "留言数"),
    "articles": ("articles", "发表篇数"),
    "followers": ("followers", "累计关注"),
    "net_followers": ("net followers", "净增关注"),
    "days_held": ("days held", "已有天数"),
    "days_held_before": ("days held before", "上期已有天数"),
    "period": ("period", "时段"),
}

#: The headline numbers of :func:`compare_accounts`, each compared with the period before.
_HEADLINE = ("readers", "shares", "likes", "zaikan", "comments", "articles", "followers")
_BIZ = {"read_user": "readers", "share_user": "shares", "like_user": "likes",
        "zaikan_user": "zaikan", "comment_count": "comments"}  # fmt: skip
_FREQS = {"W": 7, "M": None}


def account_index(totals: pd.DataFrame, *, labels: str | None = None) -> pd.DataFrame:
    """One score per row of ``totals`` (an account, or an account in one period).

    ``totals`` holds, per row, what an account did in ``days`` days: ``readers``,
    ``shares`` and ``zaikan`` (在看) summed over the days (getbizsummary's ``all`` row),
    ``followers`` (the mean of getusercumulate's daily level), ``net_followers`` (the
    level at the end less the level the day before), ``completion`` (完读率: the
    articles' ``read_finish_rate`` weighted by their readers, getarticletotaldetail) and
    ``days``. Every term is a rate, so a 5,000-follower account and a 2-million one are
    on one scale:

    ============  ===============================================  =====  ======
    term          definition                                       scale  weight
    ============  ===============================================  =====  ======
    reach         readers / followers / days                       0.05   0.30
    completion    readers' mean read_finish_rate                   0.50   0.20
    share_rate    shares / readers                                 0.05   0.20
    zaikan_rate   在看 / readers                                   0.02   0.15
    growth        net_followers / followers * 1000 * 30 / days     10     0.15
    ============  ===============================================  =====  ======

    Each term ``x`` scores ``100 * log2(1 + max(x, 0) / scale)``: 0 for nothing, 100 at
    its scale point, 158 at twice it, 200 at three times: more is better, but one
    outsized term (a viral share rate) cannot carry the index alone (the logarithm is
    what 清博's WCI does with its public counters too). The index is the weighted mean of
    the scores: 100 for an account at every scale point. Reach weighs most because it
    says whether the followers read at all; completion, shares and 在看 say whether what
    they read was worth it; growth says where the account is heading. The scale points
    are fixed, not averages of the accounts compared: an account's index does not move
    when others are added.

    A term without its data (no followers data: reach and growth; no article in the
    period: completion) is left out and the other weights count in its place;
    ``index_terms`` says how many of the five were used. The index cannot say why an
    account moved, compare an account with itself across the 2025-11-01 switch (the
    offline six have no 在看), see a follower lost (growth below zero scores 0; the
    net number is in :func:`compare_accounts`), or rank accounts of different kinds
    fairly (a news account's reach against a monthly essay's completion): read it
    beside the numbers.

    ``labels="en"`` or ``"zh"`` gives the columns display names.

    Examples
    --------
    >>> totals = pd.DataFrame({
    ...     "readers": [1500, 90_000], "shares": [75, 900], "zaikan": [30, 450],
    ...     "followers": [1000, 1_000_000], "net_followers": [10, -500],
    ...     "completion": [0.5, None], "days": [30, 30],
    ... }, index=pd.Index(["wxsmall", "wxbig"], name="account"))
    >>> account_index(totals)[["reach", "share_rate", "growth", "index", "index_terms"]].round(3)
             reach  share_rate  growth    index  index_terms
    account
    wxsmall  0.050        0.05    10.0  100.000            5
    wxbig    0.003        0.01    -0.5   15.764            4
    """
    lang = check_labels(labels)
    require(totals, ("readers", "shares", "zaikan", "followers", "net_followers", "days"),
            "account_index", "one row of totals per account (and period)")  # fmt: skip
    t = totals.astype({c: "float64" for c in totals.columns if c != "period"}, errors="ignore")
    readers = _positive(t["readers"])
    followers = _positive(t["followers"])
    days = _positive(t["days"])
    completion = (
        t["completion"].astype("float64")
        if "completion" in t.columns
        else pd.Series(np.nan, index=t.index)
    )
    terms = pd.DataFrame(
        {
            "reach": t["readers"] / followers / days,
            "completion": completion,
            "share_rate": t["shares"] / readers,
            "zaikan_rate": t["zaikan"] / readers,
            "growth": t["net_followers"] / followers * 1000 * 30 / days,
        },
        index=t.index,
    ).astype("float64")
    scores = pd.DataFrame(index=t.index)
    weights = pd.DataFrame(index=t.index)
    for name, (scale, weight) in INDEX_TERMS.items():
        x = terms[name]
        scores[name] = 100 * np.log2(1 + x.clip(lower=0) / scale)
        weights[name] = x.notna() * weight
    used = weights.sum(axis=1)
    out = terms.copy()
    out["index"] = (scores.fillna(0) * weights).sum(axis=1) / used.where(used > 0)
    out["index_terms"] = terms.notna().sum(axis=1).astype("int64")
    return _named(out, lang)


def compare_accounts(
    store: Store,
    accounts: Sequence[str] | str | None = None,
    *,
    begin: DateLike | None = None,
    end: DateLike | None = None,
    labels: str | None = None,
) -> pd.DataFrame:
    """One row per account: its headline numbers of ``begin..end``, their change against
    the same number of days before, its :func:`account_index` and its rank.

    ``accounts`` defaults to every account in the store; ``end`` to the last day the
    store holds of getbizsummary, ``begin`` to 27 days before ``end`` (four weeks).
    Numbers are the current family's (from 2025-11-01): ``readers``, ``shares``,
    ``likes``, ``zaikan`` (在看), ``comments`` (getbizsummary's ``all`` row, summed),
    ``articles`` (published in the period, getarticletotaldetail), ``followers`` (at the
    end, getusercumulate) and ``net_followers``; each with ``<name>_change`` (a fraction:
    0.1 is 10% more; followers' is the net number of the previous period's end to this
    one's) where the store holds every day of the previous period (``days_held``, and
    ``days_held_before``; NA otherwise), then the index's terms, ``index``,
    ``index_change`` (points) and ``rank`` (1 is the highest index). Sorted by rank;
    ``attrs["begin"]`` and ``attrs["end"]`` are the period's days.

    Each endpoint is read once for all accounts from the store's dataset, only the
    columns needed. An account that is not in the store, ``begin`` after ``end`` or a
    period of which the store holds no day is refused before the data is read, naming
    the value and what is allowed.

    Examples
    --------
    >>> from wxframe.datasets import open_demo_store
    >>> table = compare_accounts(open_demo_store(), begin="2025-12-04", end="2025-12-31")
    >>> row = table.loc["wx5im0000000000001"]
    >>> int(row["readers"]), int(row["rank"]), int(row["index_terms"])
    (445746, 1, 5)
    """
    lang = check_labels(labels)
    datasets = _Datasets(store)
    names, b, e = _checked(store, accounts, begin, end, datasets)
    span = (e - b).days + 1
    before = (b - timedelta(days=span), b - timedelta(days=1))
    periods = [("before", *before), ("now", b, e)]
    totals = _totals(datasets, names, periods)
    shown = totals.rename(columns={"followers_end": "followers"})
    now, then = _of(shown, "now"), _of(shown, "before")
    now_index, then_index = _index_of(_of(totals, "now")), _index_of(_of(totals, "before"))
    out = now[[*_HEADLINE, "net_followers", "days_held"]].copy()
    whole = then["days_held"] == span
    for name in _HEADLINE:
        if name == "followers":
            change = now[name] - then[name]
        else:
            change = now[name] / then[name].where(then[name] > 0) - 1
        out[f"{name}_change"] = change.where(whole)
    out["days_held_before"] = then["days_held"].astype("int64")
    out = out.join(now_index)
    out["index_change"] = (now_index["index"] - then_index["index"]).where(whole)
    out["rank"] = out["index"].rank(ascending=False, method="min").astype("Int64")
    out = out.sort_values(["rank", "readers"], ascending=[True, False], na_position="last")
    out.index.name = "account"
    out.attrs.update(begin=b, end=e)
    return _named(out, lang)


def index_over_time(
    store: Store,
    accounts: Sequence[str] | str | None = None,
    *,
    begin: DateLike | None = None,
    end: DateLike | None = None,
    freq: str = "W",
    labels: str | None = None,
) -> pd.DataFrame:
    """:func:`account_index` of each account in each week (``freq="W"``: seven days
    ending on ``end``, the last one whole) or calendar month (``"M"``) of ``begin..end``.

    Rows are accounts, columns the periods' first days; defaults as
    :func:`compare_accounts`' but ``begin``: 12 weeks before ``end``. A period the
    store holds no day of is NA.

    Examples
    --------
    >>> from wxframe.datasets import open_demo_store
    >>> weeks = index_over_time(open_demo_store(), begin="2025-12-04", end="2025-12-31")
    >>> [str(d.date()) for d in weeks.columns]
    ['2025-12-04', '2025-12-11', '2025-12-18', '2025-12-25']
    """
    check_labels(labels)
    if freq not in _FREQS:
        raise ConfigurationError(f"freq={freq!r} is not allowed; use 'W' (weeks) or 'M' (months)")
    datasets = _Datasets(store)
    names, b, e = _checked(store, accounts, begin, end, datasets, weeks=12)
    periods = []
    if freq == "W":
        first = e - timedelta(days=6)
        while first + timedelta(days=6) >= b:
            periods.append((pd.Timestamp(max(first, b)), max(first, b), first + timedelta(6)))
            first -= timedelta(days=7)
    else:
        last = e
        while last >= b:
            first = max(last.replace(day=1), b)
            periods.append((pd.Timestamp(first), first, last))
            last = first - timedelta(days=1)
    totals = _totals(datasets, names, periods[::-1])
    index = _index_of(totals)["index"].where(totals["days_held"] > 0)
    wide = index.unstack("period")
    wide.columns.name = _NAMES["period"][1] if labels == "zh" else None
    return wide.reindex(index=names)


# ------------------------------------------------------------------------ the reading
def _checked(
    store: Store,
    accounts: Sequence[str] | str | None,
    begin: DateLike | None,
    end: DateLike | None,
    datasets: _Datasets,
    *,
    weeks: int = 4,
) -> tuple[list[str], date, date]:
    """The accounts and days asked for, or an error naming what is allowed (the data is
    read only for the default ``end``: the last day held)."""
    held = store.accounts()
    if not held:
        raise ConfigurationError(f"the store {str(store.root)!r} holds no account: sync one first")
    if accounts is None:
        names = held
    else:
        names = [accounts] if isinstance(accounts, str) else list(accounts)
        unknown = [a for a in names if a not in held]
        if unknown or not names:
            raise ConfigurationError(
                f"accounts={unknown or names!r}: not in the store; it holds {', '.join(held)}"
            )
    b = as_date(begin, "begin") if begin is not None else None
    e = as_date(end, "end") if end is not None else None
    if b and e and b > e:
        raise ConfigurationError(f"begin={b} is after end={e}: begin must be on or before end")
    if e is None:
        e = _held_days(datasets, names)[1]
        if e is None:
            raise _nothing_held(datasets, names, None, None)
    b = b or e - timedelta(days=7 * weeks - 1)
    if b > e:
        raise ConfigurationError(f"begin={b} is after end={e}: begin must be on or before end")
    return names, b, e


def _held_days(datasets: _Datasets, names: list[str]) -> tuple[date | None, date | None]:
    """The first and last day of getbizsummary the store holds of these accounts."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    data = datasets["getbizsummary"]
    if data is None:
        return None, None
    days = data.to_table(columns=["ref_date"], filter=ds.field("account").isin(names))
    if days.num_rows == 0:
        return None, None
    low, high = pc.min_max(days["ref_date"]).values()
    return low.as_py().date(), high.as_py().date()


def _nothing_held(
    datasets: _Datasets, names: list[str], b: date | None, e: date | None
) -> EmptyPeriodError:
    """The error for a period of which the store holds no day, naming what it holds."""
    first, last = _held_days(datasets, names)
    who = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    if first is None:
        return EmptyPeriodError(
            f"the store holds no getbizsummary day of {who}: sync the current family "
            f"(from {CURRENT_FIRST_DAY}) first"
        )
    return EmptyPeriodError(
        f"the store holds nothing of {b}..{e} for {who}: it holds getbizsummary of "
        f"{first}..{last}; choose a begin and end inside it"
    )


class _Datasets(dict[str, "ds.Dataset | None"]):
    """Each endpoint's dataset of one store, opened once (None: no file of it)."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def __missing__(self, endpoint: str) -> ds.Dataset | None:
        try:
            data = self.store.dataset(endpoint)
        except StoreDamagedError:
            raise
        except StoreError:
            data = None  # no files of this endpoint: the numbers that need it are NA
        self[endpoint] = data
        return data


def _scan(
    datasets: _Datasets, endpoint: str, names: list[str], b: date, e: date, columns: list[str]
) -> pa.Table | None:
    """``columns`` of the ``all`` rows of ``names`` in ``b..e``, one scan (None: the
    store holds no file of ``endpoint``)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    day = "ref_date"
    data = datasets[endpoint]
    if data is None:
        return None
    kind = data.schema.field(day).type
    where = (
        ds.field("account").isin(names)
        & (ds.field("month") >= f"{b:%Y-%m}")  # skips other months' files unopened
        & (ds.field("month") <= f"{e:%Y-%m}")
        & (ds.field(day) >= pa.scalar(pd.Timestamp(b), kind))
        & (ds.field(day) <= pa.scalar(pd.Timestamp(e), kind))
    )
    if "channel" in data.schema.names:
        where &= ds.field("channel") == "all"
    if "stat_date" in data.schema.names:  # running totals: as they were at the end
        where &= ds.field("stat_date") <= pa.scalar(pd.Timestamp(e), kind)
    return data.to_table(columns=list(dict.fromkeys(["account", day, *columns])), filter=where)


def _frame(table: pa.Table | None, columns: list[str]) -> pd.DataFrame:
    """A scan as pandas (no rows where there was no file)."""
    if table is None:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns}).astype(
            {"account": "object", "ref_date": "datetime64[ns]"}
        )
    return table.to_pandas()


def _totals(
    datasets: _Datasets, names: list[str], periods: Sequence[tuple[object, date, date]]
) -> pd.DataFrame:
    """What :func:`account_index` takes, per account and period (periods in day order,
    not overlapping), from one scan of each endpoint."""
    b, e = periods[0][1], periods[-1][2]
    labels = [p[0] for p in periods]
    starts = pd.to_datetime([p[1] for p in periods])
    ends = pd.to_datetime([p[2] for p in periods])

    def period_of(days: pd.Series) -> pd.Series:
        at = np.searchsorted(starts.to_numpy(), days.to_numpy(), side="right") - 1
        inside = (at >= 0) & (days.to_numpy() <= ends.to_numpy()[np.maximum(at, 0)])
        return pd.Series(
            pd.Categorical.from_codes(np.where(inside, at, -1), categories=pd.Index(labels)),
            index=days.index,
        )

    grid = pd.MultiIndex.from_product([names, labels], names=["account", "period"])
    biz = _frame(_scan(datasets, "getbizsummary", names, b, e, list(_BIZ)),
                 ["account", "ref_date", *_BIZ])  # fmt: skip
    if not (biz["ref_date"] >= starts[-1]).any():  # before the other endpoints are read
        raise _nothing_held(datasets, names, periods[-1][1], e)
    biz["period"] = period_of(biz["ref_date"])
    sums = biz.groupby(["account", "period"], observed=True)[list(_BIZ)].sum()
    out = sums.rename(columns=_BIZ).reindex(grid).astype("float64")
    out["days_held"] = (
        biz.groupby(["account", "period"], observed=True)["ref_date"].nunique().reindex(grid)
    ).fillna(0)
    out["days"] = ((ends - starts).days + 1).to_numpy()[grid.codes[1]]

    # followers: the mean level, the level at the end, the level the day before
    cum = _frame(_scan(datasets, "getusercumulate", names, b - timedelta(days=1), e,
                       ["cumulate_user"]), ["account", "ref_date", "cumulate_user"])  # fmt: skip
    cum = cum.sort_values(["account", "ref_date"])
    cum["period"] = period_of(cum["ref_date"])
    levels = cum.groupby(["account", "period"], observed=True)["cumulate_user"]
    out["followers_end"] = levels.last().reindex(grid).astype("float64")
    out["followers_mean"] = levels.mean().reindex(grid).astype("float64")
    day_before = pd.DataFrame(
        {
            "account": grid.get_level_values(0),
            "period": grid.get_level_values(1),
            "ref_date": starts[grid.codes[1]] - pd.Timedelta(days=1),
        }
    ).merge(cum[["account", "ref_date", "cumulate_user"]], how="left")
    start = pd.Series(day_before["cumulate_user"].astype("float64").to_numpy(), index=grid)
    start = start.fillna(levels.first().reindex(grid).astype("float64"))
    out["net_followers"] = out["followers_end"] - start

    # completion and articles: each article published in a period, at its last stat day
    wanted = ["msgid", "msg_data_id", "msg_index", "stat_date", "read_user", "read_finish_rate"]
    art = _last_stat_day(_scan(datasets, "getarticletotaldetail", names, b, e, wanted))
    art["period"] = period_of(art["ref_date"])
    art["weighted"] = art["read_finish_rate"] * art["read_user"]
    art["weight"] = art["read_user"].where(art["read_finish_rate"].notna())
    by = art.groupby(["account", "period"], observed=True)
    out["articles"] = by.size().reindex(grid).fillna(0).astype("float64")
    out["completion"] = (by["weighted"].sum() / by["weight"].sum().replace(0, np.nan)).reindex(grid)
    for name in ("readers", "shares", "likes", "zaikan", "comments"):
        out[name] = out[name].where(out["days_held"] > 0)
    return out


def _last_stat_day(table: pa.Table | None) -> pd.DataFrame:
    """One row per article: its running totals on the last stat day scanned."""
    columns = ["account", "ref_date", "read_user", "read_finish_rate"]
    if table is None:
        return _frame(None, columns)
    # An article is its send and position (integers group faster than the msgid text),
    # or its msgid where the platform gave a bare id.
    ints = table["msg_data_id"].null_count == 0 and table["msg_index"].null_count == 0
    keys = ["account", *(["msg_data_id", "msg_index"] if ints else ["msgid"])]
    last = table.group_by(keys).aggregate([("stat_date", "max")])
    last = last.rename_columns([*keys, "stat_date"])
    rows = table.join(last, keys=[*keys, "stat_date"], join_type="inner")
    return rows.select(columns).to_pandas()


def _index_of(totals: pd.DataFrame) -> pd.DataFrame:
    """:func:`account_index` of :func:`_totals`' rows: reach divides by the mean level."""
    return account_index(totals.drop(columns="followers_end").rename(
        columns={"followers_mean": "followers"}))  # fmt: skip


def _of(totals: pd.DataFrame, period: str) -> pd.DataFrame:
    """The rows of one period, by account."""
    return totals[totals.index.get_level_values("period") == period].droplevel("period")


def _positive(values: pd.Series) -> pd.Series:
    values = values.astype("float64")
    return values.where(values > 0)


def _named(df: pd.DataFrame, lang: str | None) -> pd.DataFrame:
    """Columns by their display names in ``lang`` (as they are for None)."""
    if lang is None:
        return df
    i = 0 if lang == "en" else 1

    def name(column: str) -> str:
        if column.endswith("_change") and column[:-7] in _NAMES:
            base = _NAMES[column[:-7]][i]
            return f"{base} change" if i == 0 else f"{base}变化"
        return _NAMES[column][i] if column in _NAMES else column

    return df.rename(columns=name)
