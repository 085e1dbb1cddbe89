"""A period of one account in a store: its headline numbers against the previous period.

What the account report shows first, computed here so that it can be checked on its
own. Every number says where it comes from (which family, which endpoint), and a
comparison is made only with a previous period the store holds in full: otherwise it
reads "n/a (k of N days held)". Counts compare in percent, rates in percentage points.

Examples
--------
>>> from wxframe.datasets import open_demo_store
>>> period = Period(open_demo_store(), "2025-12-04", "2025-12-31")
>>> kpis = period.headline()
>>> kpis.loc["readers", ["this period", "previous period", "change"]].tolist()
['445,746', '741,300', '-39.9%']
>>> kpis.loc["like rate", "change"], kpis.loc["readers", "source"]
('-0.3 pp', 'getbizsummary')
>>> Period(open_demo_store(), "2025-11-03", "2025-11-30").headline().loc["readers", "change"]
'n/a (2 of 28 days held)'
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import pandas as pd

from wxframe.analysis import by_slot, by_weekday, conversion, open_rate, recommendation_share
from wxframe.analysis.common import is_all_row
from wxframe.analysis.placement import MIN_ARTICLES, MIN_DAYS, WEEKDAYS
from wxframe.dates import DateLike, as_date
from wxframe.endpoints import CURRENT_FIRST_DAY, ENDPOINTS, OFFLINE_ENDPOINTS, Lang
from wxframe.errors import ConfigurationError, EmptyPeriodError
from wxframe.store import Store

__all__ = [
    "LABELS",
    "METRIC_KEYS",
    "Period",
    "article_answers",
    "day_ranges",
    "format_count",
    "format_rate",
    "label",
]


#: Plain names of what the report shows, in English and as the platform's own pages
#: say it in Chinese (公众号后台). Channels and follower sources are not here: their
#: names are the registry's (``wxframe.endpoints.CHANNEL_CODES.display``), as in the
#: pivots and plots the report draws with ``labels=lang``.
LABELS: Mapping[str, tuple[str, str]] = {
    "readers": ("readers", "阅读人数"),
    "reads": ("reads", "阅读次数"),
    "shares": ("shares (people)", "分享人数"),
    "share_count": ("shares", "分享次数"),
    "likes": ("likes", "点赞人数"),
    "zaikan": ("在看 (wow)", "在看人数"),
    "comments": ("comments", "留言数"),
    "favourites": ("favourites (people)", "收藏人数"),
    "fav_count": ("favourites", "收藏次数"),
    "read_original": ("read the original", "阅读原文人数"),
    "published": ("articles published", "发表篇数"),
    "sent": ("articles sent", "群发篇数"),
    "share rate": ("share rate", "分享率"),
    "like rate": ("like rate", "点赞率"),
    "read-through rate": ("read-through rate", "阅读原文率"),
    "new followers": ("new followers", "新增关注"),
    "unfollows": ("unfollows", "取消关注"),
    "net followers": ("net new followers", "净增关注"),
    "followers": ("followers at the end", "累计关注"),
    "this period": ("this period", "本期"),
    "previous period": ("previous period", "上期"),
    "change": ("change", "变化"),
    "source": ("source", "数据来源"),
    "n/a": ("n/a", "无"),
    "pp": ("pp", "个百分点"),
    "0 before": ("n/a (0 before)", "无（上期为 0）"),
    "endpoint": ("endpoint", "接口"),
    "days held": ("days held", "已有天数"),
    "days missing": ("days missing", "缺少的日期"),
    "held": ("{k} of {n} days held", "仅有 {k}/{n} 天"),
    "other span": (
        "n/a (the previous period has {k} days of this, not {n})",
        "无（上期只有 {k} 天此数据，而非 {n} 天）",
    ),
}


def label(key: str, lang: Lang = "en") -> str:
    """The plain name of ``key`` in ``lang`` (``key`` itself when there is none)."""
    names = LABELS.get(key)
    return key if names is None else names[0 if lang == "en" else 1]


def format_count(value: object, lang: Lang = "en") -> str:
    """``12345`` -> ``'12,345'``; NA -> ``'n/a'`` (``'无'`` in Chinese)."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return label("n/a", lang)
    return f"{float(value):,.0f}"  # type: ignore[arg-type]


def format_rate(value: object, lang: Lang = "en") -> str:
    """``0.01319`` -> ``'1.3%'``; NA -> ``'n/a'`` (``'无'`` in Chinese)."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return label("n/a", lang)
    return f"{float(value):.1%}"  # type: ignore[arg-type]


def day_ranges(days: pd.DatetimeIndex | pd.Series) -> str:
    """Days as runs: ``'2026-01-01..2026-01-11, 2026-01-20'`` (``''`` for none).

    >>> day_ranges(pd.to_datetime(["2026-01-03", "2026-01-01", "2026-01-02", "2026-01-09"]))
    '2026-01-01..2026-01-03, 2026-01-09'
    """
    ordered = sorted({pd.Timestamp(d).date() for d in days})
    runs: list[list[date]] = []
    for day in ordered:
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return ", ".join(f"{b}" if b == e else f"{b}..{e}" for b, e in runs)


@dataclass(frozen=True)
class _Metric:
    key: str
    kind: Literal["count", "rate", "level"]
    endpoint: str
    #: current / offline: the part of the period that family covers; all: the whole
    #: period from ``endpoint``; both: getuserread before 2025-11-01, ``endpoint`` after.
    family: Literal["current", "offline", "all", "both"]
    value: Callable[[Period], float | None]


class Period:
    """``begin..end`` of one account in a store, and the same number of days before.

    ``end`` defaults to the last day the store holds for the account, ``begin`` to 27
    days before ``end`` (four weeks).
    """

    def __init__(
        self,
        store: Store,
        begin: DateLike | None = None,
        end: DateLike | None = None,
        *,
        account: str | None = None,
        held: pd.DataFrame | None = None,
    ) -> None:
        self.store = store
        self.account = account = store.pick_account(account)
        self._held = store.days(account=account) if held is None else held
        if self._held.empty:
            raise EmptyPeriodError(f"the store holds nothing for {account}: sync it first")
        last = self._held["ref_date"].max().date()
        self.end = as_date(end, "end") if end is not None else last
        self.begin = as_date(begin, "begin") if begin is not None else self.end - timedelta(27)
        if self.begin > self.end:
            raise ConfigurationError(f"begin={self.begin} is after end={self.end}")
        self._frames: dict[tuple[str, date, date], pd.DataFrame] = {}

    def __repr__(self) -> str:
        return f"Period({self.account}, {self.begin}..{self.end})"

    @property
    def days(self) -> int:
        return (self.end - self.begin).days + 1

    @functools.cached_property
    def previous(self) -> Period:
        """The same number of days just before (sharing this period's view of the store)."""
        end = self.begin - timedelta(days=1)
        begin = end - timedelta(days=self.days - 1)
        return Period(self.store, begin, end, account=self.account, held=self._held)

    # ---------------------------------------------------------------- what is held
    def endpoint_days(self) -> dict[str, tuple[date, date]]:
        """The endpoints the store holds for the account and the part of the period each
        can cover (the six's before 2025-11-01, the others from their first day)."""
        spans = {}
        for endpoint in sorted(set(self._held["endpoint"])):
            if endpoint in OFFLINE_ENDPOINTS:
                span = self.family_days("offline")
            elif endpoint in ENDPOINTS:
                span = (max(self.begin, ENDPOINTS[endpoint].earliest), self.end)
            else:
                continue
            if span is not None and span[0] <= span[1]:
                spans[endpoint] = span
        return spans

    def holdings(self, lang: Lang = "en") -> pd.DataFrame:
        """What the store holds of the period, endpoint by endpoint: ``days held`` ("k of
        N") and ``days missing`` (runs of days), for each endpoint it holds at all."""
        rows = {}
        for endpoint, (b, e) in self.endpoint_days().items():
            wanted = pd.date_range(b, e, freq="D")
            held = self._held.loc[self._held["endpoint"] == endpoint, "ref_date"]
            missing = wanted[~wanted.isin(held)]
            rows[endpoint] = {
                "days held": f"{len(wanted) - len(missing)} / {len(wanted)}",
                "days missing": day_ranges(missing),
            }
        table = pd.DataFrame.from_dict(rows, orient="index", columns=["days held", "days missing"])
        table.columns = [label(c, lang) for c in table.columns]
        table.index.name = label("endpoint", lang)
        return table

    def is_held_in_full(self) -> bool:
        """Whether the store holds every day of the period for every endpoint it holds."""
        return all(
            self.held_days(endpoint, b, e) == (e - b).days + 1
            for endpoint, (b, e) in self.endpoint_days().items()
        )

    def require_data(self) -> None:
        """Raise :class:`~wxframe.EmptyPeriodError` if the store holds no day of the
        period for any endpoint: one line naming the period and what the store holds."""
        days = self._held["ref_date"]
        if days.between(pd.Timestamp(self.begin), pd.Timestamp(self.end)).any():
            return
        spans = self._held.groupby("endpoint", observed=True)["ref_date"].agg(["min", "max"])
        groups: dict[tuple[date, date], list[str]] = {}
        for endpoint, row in spans.iterrows():
            groups.setdefault((row["min"].date(), row["max"].date()), []).append(str(endpoint))
        held = "; ".join(
            f"{b}..{e} of {', '.join(names)}" for (b, e), names in sorted(groups.items())
        )
        raise EmptyPeriodError(
            f"the store holds nothing of {self.begin}..{self.end} for {self.account}: it holds "
            f"{held}; choose a begin and end inside it"
        )

    def held_days(self, endpoint: str, begin: date | None = None, end: date | None = None) -> int:
        """How many days of ``begin..end`` (the period) the store holds for ``endpoint``."""
        b, e = begin or self.begin, end or self.end
        held = self._held[self._held["endpoint"] == endpoint]["ref_date"]
        return int(held.between(pd.Timestamp(b), pd.Timestamp(e)).sum())

    def family_days(self, family: Literal["current", "offline"]) -> tuple[date, date] | None:
        """The part of the period a family can cover (current: from 2025-11-01)."""
        if family == "current":
            b, e = max(self.begin, CURRENT_FIRST_DAY), self.end
        else:
            b, e = self.begin, min(self.end, CURRENT_FIRST_DAY - timedelta(days=1))
        return (b, e) if b <= e else None

    def read(
        self, endpoint: str, begin: date | None = None, end: date | None = None
    ) -> pd.DataFrame:
        """``endpoint``'s rows of the period (or of ``begin..end``), read once."""
        b, e = begin or self.begin, end or self.end
        key = (endpoint, b, e)
        if key not in self._frames:
            self._frames[key] = self.store.read(endpoint, b, e, account=self.account)
        return self._frames[key]

    def _all_rows(self, endpoint: str, family: Literal["current", "offline"]) -> pd.DataFrame:
        span = self.family_days(family)
        if span is None:
            return self.read(endpoint).iloc[:0]
        df = self.read(endpoint, *span)
        return df[is_all_row(df)]

    # ------------------------------------------------------------------- headline
    def headline(self, lang: Lang = "en") -> pd.DataFrame:
        """The headline table: one row per metric, formatted for reading.

        Columns: ``this period``, ``previous period``, ``change`` (percent for counts,
        percentage points for rates; "n/a (k of N days held)" when the store does not
        hold the previous period in full) and ``source`` (the endpoint, and the part of
        the period it covers when it is not all of it). The index is each metric's plain
        name in ``lang`` (:func:`label`).
        """
        before = self.previous
        rows = {}
        for metric in _METRICS:
            k, n = self._held_of(metric)
            if k == 0:
                continue  # the period has no day of this metric the store holds
            now = metric.value(self) if k == n else None
            then = metric.value(before) if before._holds(metric) else None
            change = _change(metric.kind, now, then, lang)
            k_before, n_before = before._held_of(metric)
            if n_before != n:
                # Across 2025-11-01 the previous period may have fewer days of this
                # family: 9 days of shares against 28 is no comparison.
                then = None
                change = label("other span", lang).format(k=n_before, n=n)
            elif then is None:
                change = f"{label('n/a', lang)} ({label('held', lang).format(k=k_before, n=n)})"
            fmt = format_rate if metric.kind == "rate" else format_count
            held = label("held", lang).format(k=k, n=n)
            rows[label(metric.key, lang)] = {
                "this period": fmt(now, lang)
                if now is not None
                else f"{label('n/a', lang)} ({held})",
                "previous period": fmt(then, lang),
                "change": change,
                "source": self._source(metric),
            }
        columns = ["this period", "previous period", "change", "source"]
        table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
        table.columns = [label(c, lang) for c in columns]
        table.index.name = None
        return table

    def compare(self, key: str) -> tuple[float | None, float | None]:
        """A headline metric's value in this period and the previous one, as numbers
        (``None`` where the store does not hold that period in full): what an alert
        rule compares. ``key`` is one of :data:`METRIC_KEYS`.

        >>> from wxframe.datasets import open_demo_store
        >>> Period(open_demo_store(), "2025-12-04", "2025-12-31").compare("readers")
        (445746.0, 741300.0)
        """
        metric = next((m for m in _METRICS if m.key == key), None)
        if metric is None:
            raise ConfigurationError(f"metric={key!r}; allowed: {', '.join(METRIC_KEYS)}")
        now = metric.value(self) if self._holds(metric) else None
        before = self.previous
        then = metric.value(before) if before._holds(metric) else None
        return now, then

    def _covered(self, metric: _Metric) -> tuple[date, date] | None:
        if metric.family in ("all", "both"):
            return self.begin, self.end
        return self.family_days(metric.family)  # type: ignore[arg-type]

    def _endpoints(self, metric: _Metric) -> list[tuple[str, tuple[date, date]]]:
        """The endpoints (and their days) a metric needs for this period."""
        if metric.family != "both":
            span = self._covered(metric)
            return [(metric.endpoint, span)] if span else []
        parts = []
        for family, endpoint in (("offline", "getuserread"), ("current", metric.endpoint)):
            span = self.family_days(family)  # type: ignore[arg-type]
            if span:
                parts.append((endpoint, span))
        return parts

    def _held_of(self, metric: _Metric) -> tuple[int, int]:
        k = n = 0
        for endpoint, (b, e) in self._endpoints(metric):
            k += self.held_days(endpoint, b, e)
            n += (e - b).days + 1
        return k, n

    def _holds(self, metric: _Metric) -> bool:
        k, n = self._held_of(metric)
        return n > 0 and k == n

    def _source(self, metric: _Metric) -> str:
        parts = []
        for endpoint, (b, e) in self._endpoints(metric):
            whole = (b, e) == (self.begin, self.end)
            parts.append(endpoint if whole else f"{endpoint} {b:%Y-%m-%d}..{e:%Y-%m-%d}")
        return ", ".join(parts)


def _change(kind: str, now: float | None, then: float | None, lang: Lang = "en") -> str:
    if now is None or then is None or pd.isna(now) or pd.isna(then):
        return label("n/a", lang)
    if kind == "rate":
        points = round((now - then) * 100, 1) or 0.0  # no "-0.0"
        return f"{points:+.1f} {label('pp', lang)}"
    if kind == "level":  # followers at the end: how many more, not a percentage of them
        return f"{now - then:+,.0f}"
    if then == 0:
        return label("0 before", lang)
    return f"{now / then - 1:+.1%}"


def _sum(endpoint: str, column: str, family: Literal["current", "offline"]) -> Callable:
    def value(p: Period) -> float | None:
        rows = p._all_rows(endpoint, family)
        return float(rows[column].sum()) if column in rows.columns else None

    return value


def _ratio(num: Callable, den: Callable) -> Callable:
    def value(p: Period) -> float | None:
        n, d = num(p), den(p)
        return None if n is None or not d else n / d

    return value


def _readers(p: Period) -> float:
    """Daily readers summed: getuserread's before 2025-11-01, getbizsummary's from it."""
    old = p._all_rows("getuserread", "offline")
    new = p._all_rows("getbizsummary", "current")
    return float(old["int_page_read_user"].sum()) + float(new["read_user"].sum())


def _followers_at_end(p: Period) -> float | None:
    level = p.read("getusercumulate", p.end, p.end)
    return float(level["cumulate_user"].iloc[-1]) if len(level) else None


def _sent(p: Period) -> float:
    """Articles sent in the period (getarticletotal is keyed by sending day)."""
    span = p.family_days("offline")
    return float(p.read("getarticletotal", *span)["msgid"].nunique()) if span else 0.0


_biz_readers = _sum("getbizsummary", "read_user", "current")
_METRICS: tuple[_Metric, ...] = (
    _Metric("readers", "count", "getbizsummary", "both", _readers),
    _Metric("shares", "count", "getbizsummary", "current",
            _sum("getbizsummary", "share_user", "current")),
    _Metric("likes", "count", "getbizsummary", "current",
            _sum("getbizsummary", "like_user", "current")),
    _Metric("zaikan", "count", "getbizsummary", "current",
            _sum("getbizsummary", "zaikan_user", "current")),
    _Metric("comments", "count", "getbizsummary", "current",
            _sum("getbizsummary", "comment_count", "current")),
    _Metric("favourites", "count", "getbizsummary", "current",
            _sum("getbizsummary", "collection_user", "current")),
    _Metric("read_original", "count", "getbizsummary", "current",
            _sum("getbizsummary", "redirect_ori_page_user", "current")),
    _Metric("published", "count", "getbizsummary", "current",
            _sum("getbizsummary", "send_page_count", "current")),
    _Metric("share rate", "rate", "getbizsummary", "current",
            _ratio(_sum("getbizsummary", "share_user", "current"), _biz_readers)),
    _Metric("like rate", "rate", "getbizsummary", "current",
            _ratio(_sum("getbizsummary", "like_user", "current"), _biz_readers)),
    _Metric("reads", "count", "getuserread", "offline",
            _sum("getuserread", "int_page_read_count", "offline")),
    _Metric("share_count", "count", "getuserread", "offline",
            _sum("getuserread", "share_count", "offline")),
    _Metric("fav_count", "count", "getuserread", "offline",
            _sum("getuserread", "add_to_fav_count", "offline")),
    _Metric("read-through rate", "rate", "getuserread", "offline",
            _ratio(_sum("getuserread", "ori_page_read_user", "offline"),
                   _sum("getuserread", "int_page_read_user", "offline"))),
    _Metric("sent", "count", "getarticletotal", "offline", _sent),
    _Metric("new followers", "count", "getusersummary", "all",
            lambda p: float(p.read("getusersummary")["new_user"].sum())),
    _Metric("unfollows", "count", "getusersummary", "all",
            lambda p: float(p.read("getusersummary")["cancel_user"].sum())),
    _Metric("net followers", "count", "getusersummary", "all",
            lambda p: float(p.read("getusersummary")["new_user"].sum()
                            - p.read("getusersummary")["cancel_user"].sum())),
    _Metric("followers", "level", "getusercumulate", "all", _followers_at_end),
)  # fmt: skip

#: The headline's metrics by key (``Period.compare``, ``wxframe run``'s alert rules).
METRIC_KEYS: tuple[str, ...] = tuple(m.key for m in _METRICS)


#: The rows of :func:`article_answers`, in English and Chinese.
ANSWER_LABELS: Mapping[str, tuple[str, str]] = {
    "open rate": ("open rate (7 days)", "送达阅读率（7 天）"),
    "per 1000": ("followers per 1,000 readers", "每千阅读关注人数"),
    "slots 2+": ("slots 2+ against the headline", "次条及以后相对头条"),
    "weekday": ("most-read weekday", "阅读最多的发表日"),
    "kanyikan": ("readers from Top Stories (推荐)", "来自推荐的读者"),
    "souyisou": ("readers from Search (搜一搜)", "来自搜一搜的读者"),
    "value": ("value", "数值"),
    "basis": ("from", "依据"),
}


def _answer(key: str, lang: Lang) -> str:
    return ANSWER_LABELS[key][0 if lang == "en" else 1]


def article_answers(period: Period, lang: Lang = "en") -> pd.DataFrame:
    """How the period's articles do, one line a question, from the article helpers.

    The mass-sent articles published in the period (getarticletotaldetail) as of their
    7th day: the median open rate (:func:`~wxframe.open_rate`, the platform's, else the
    estimate), followers per 1,000 readers (:func:`~wxframe.conversion`), readers of
    slots 2+ over the headline's of the same send (:func:`~wxframe.by_slot`), the
    weekday with the most readers among those with 5 articles or more
    (:func:`~wxframe.by_weekday`), and the period's readers from 推荐 and 搜一搜
    (:func:`~wxframe.recommendation_share` of getbizsummary's days). Empty when the
    store holds no article of the current family in the period.

    >>> from wxframe.datasets import open_demo_store
    >>> answers = article_answers(Period(open_demo_store(), "2025-12-25", "2025-12-31"))
    >>> answers.loc["most-read weekday"].tolist()
    ['n/a', 'no weekday has 5 articles on 2+ days']
    """
    span = period.family_days("current")
    columns = [_answer("value", lang), _answer("basis", lang)]
    if span is None or period.read("getarticletotaldetail", *span).empty:
        return pd.DataFrame(columns=columns)
    detail = period.read("getarticletotaldetail", *span)
    zh = lang == "zh"
    followers = period.read("getusercumulate", span[0] - timedelta(days=1), span[1])
    rows: dict[str, tuple[str, str]] = {}
    opened = open_rate(detail, followers=followers if len(followers) else None)
    rated = opened[opened["open_rate"].notna()]
    platform = int(rated["source"].eq("platform").sum())
    rows["open rate"] = (
        format_rate(rated["open_rate"].median(), lang),
        (
            f"{len(rated)} 篇（平台 {platform}，估算 {len(rated) - platform}）"
            if zh
            else f"{len(rated)} articles ({platform} platform, {len(rated) - platform} estimated)"
        ),
    )
    everyone = detail[is_all_row(detail)]  # the channel rows serve the open rate alone
    converted = conversion(everyone)
    per_1000 = converted["per_1000"].median()
    rows["per 1000"] = (
        label("n/a", lang) if pd.isna(per_1000) else f"{per_1000:.1f}",
        f"{converted['per_1000'].notna().sum()} 篇"
        if zh
        else f"{converted['per_1000'].notna().sum()} articles",
    )
    slots = by_slot(everyone, pool=True)
    later = slots["readers_vs_headline"].get("2+", pd.NA)
    pairs = int(slots["articles"].get("2+", 0))
    rows["slots 2+"] = (
        format_rate(later, lang),
        f"{pairs} 篇次条及以后" if zh else f"{pairs} articles in slots 2+",
    )
    week = by_weekday(everyone)
    judged = week[week["enough"]]
    if judged.empty or judged["readers"].isna().all():
        best = label("n/a", lang)
        basis = (
            f"没有发表日在 {MIN_DAYS} 天以上共有 {MIN_ARTICLES} 篇"
            if zh
            else f"no weekday has {MIN_ARTICLES} articles on {MIN_DAYS}+ days"
        )
    else:
        day = int(judged["readers"].astype(float).to_numpy().argmax())
        best = WEEKDAYS[int(judged.index[day])][1 if zh else 0]
        median = format_count(judged["readers"].iloc[day], lang)
        n = int(judged["articles"].iloc[day])
        basis = (
            f"阅读中位数 {median}，{n} 篇；"
            f"不足 {MIN_ARTICLES} 篇（或不足 {MIN_DAYS} 天）的发表日不参与"
            if zh
            else f"median readers {median} of {n} articles; weekdays with fewer than "
            f"{MIN_ARTICLES} (or on fewer than {MIN_DAYS} days) not judged"
        )
    rows["weekday"] = (best, basis)
    biz = period.read("getbizsummary", *span)
    if len(biz):
        days = recommendation_share(biz)
        readers = days["readers"].astype(float)
        for channel in ("kanyikan", "souyisou"):
            share = (days[channel].astype(float) * readers).sum() / readers.sum()
            rows[channel] = (
                format_rate(share, lang),
                f"getbizsummary，{len(days)} 天" if zh else f"getbizsummary, {len(days)} days",
            )
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    table.index = [_answer(k, lang) for k in table.index]
    return table
