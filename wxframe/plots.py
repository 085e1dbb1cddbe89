"""Plots of the analysis helpers' answers, each on a matplotlib Axes it returns.

Every function takes ``ax=`` (a new figure otherwise) and draws nothing it cannot label.
Article titles are Chinese: they are drawn with a CJK font when one is installed (Noto
Sans CJK, Source Han Sans, WenQuanYi, PingFang, Microsoft YaHei, SimHei, or the file
named by ``WXFRAME_CJK_FONT``); without one, articles are labelled by msgid and a single
:class:`MissingFontWarning` says so, instead of boxes and a flood of glyph warnings.
matplotlib is imported when a plot is drawn, not when wxframe is.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from wxframe.analysis import (
    _article_keys,
    _require,
    _stat_day,
    article_lifecycle,
    pivot_channels,
    pivot_scenes,
    to_daily,
)
from wxframe.endpoints import CHANNELS_ZH, SCENES_ZH
from wxframe.errors import ConfigurationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "CJK_FONTS",
    "MissingFontWarning",
    "cjk_font",
    "plot_article_decay",
    "plot_channel_mix",
    "plot_hourly_heatmap",
    "plot_share_scenes",
    "plot_top_articles",
]

#: Font families looked for, in order, to draw Chinese text.
CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "PingFang SC",
    "Microsoft YaHei",
    "SimHei",
    "Heiti SC",
    "Arial Unicode MS",
)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class MissingFontWarning(UserWarning):
    """No CJK font: Chinese labels are replaced (msgids, English names)."""


@functools.cache
def _find_cjk_font(path: str | None) -> str | None:
    from matplotlib import font_manager

    if path:
        if not os.path.isfile(path):
            raise ConfigurationError(f"WXFRAME_CJK_FONT={path!r} is not a font file")
        font_manager.fontManager.addfont(path)
        return font_manager.FontProperties(fname=path).get_name()
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def cjk_font() -> str | None:
    """The font family used for Chinese text, or None when there is none.

    ``WXFRAME_CJK_FONT`` may name a font file (``.ttf``/``.otf``) to use.

    Examples
    --------
    >>> cjk_font() is None or isinstance(cjk_font(), str)
    True
    """
    return _find_cjk_font(os.environ.get("WXFRAME_CJK_FONT") or None)


def _text_labels(labels: Sequence[str], fallback: Sequence[str], what: str) -> list[str]:
    """``labels`` if a CJK font can draw them, else ``fallback`` and one warning."""
    if cjk_font() is not None or all(s.isascii() for s in labels):
        return list(labels)
    warnings.warn(
        f"no CJK font found: {what} are shown as {'msgids' if 'title' in what else 'English'} "
        "(install one, e.g. `apt install fonts-noto-cjk`, or set WXFRAME_CJK_FONT)",
        MissingFontWarning,
        stacklevel=3,
    )
    return list(fallback)


def _use_cjk(texts: Sequence[object]) -> None:
    font = cjk_font()
    if font is None:
        return
    import matplotlib as mpl

    family = [font, *mpl.rcParams["font.sans-serif"]]
    for text in texts:
        text.set_fontfamily(family)  # type: ignore[attr-defined]


def _axes(ax: Axes | None, size: tuple[float, float] = (9, 4.5)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=size, layout="constrained")
    return new


def plot_channel_mix(
    read: pd.DataFrame,
    values: str = "int_page_read_count",
    *,
    share: bool = True,
    labels: Literal["en", "zh"] = "en",
    ax: Axes | None = None,
) -> Axes:
    """Stacked areas of the channels' reads per day (fractions with ``share=True``).

    Takes a getuserread frame (getuserreadhour is summed per day first). The ``all`` row
    is left out: channels are drawn, one area and one legend entry each.

    Examples
    --------
    >>> from datetime import date
    >>> import wxframe
    >>> from wxframe.simulator import SimulatedAccount
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> read = wxframe.to_frame("getuserread", acct.user_read(date(2024, 5, 1), date(2024, 5, 31)))
    >>> ax = plot_channel_mix(read)
    >>> [t.get_text() for t in ax.get_legend().get_texts()][:3]
    ['session', 'friends', 'moments']
    """
    _require(read, ("ref_date", "channel", values), "plot_channel_mix", "a getuserread frame")
    if "ref_hour" in read.columns:
        read = read.groupby(["ref_date", "channel"], observed=True)[values].sum().reset_index()
    wide = pivot_channels(read, values, include_all=False, share=share).astype("float64")
    if wide.empty:
        raise ConfigurationError("plot_channel_mix: no channel rows to draw (pre-2020 data?)")
    names = list(wide.columns)
    if labels == "zh":
        names = _text_labels([CHANNELS_ZH.get(n, n) for n in names], names, "channel names")
    ylabel = "share of channel reads" if share else values
    return _stacked(_axes(ax), wide, names, ylabel, "Where readers come from", "channel")


def _stacked(
    ax: Axes, wide: pd.DataFrame, names: list[str], ylabel: str, title: str, legend: str
) -> Axes:
    """Stacked areas of ``wide``'s columns over its dates, a legend entry per column."""
    x = wide.index.get_level_values("ref_date")
    ax.stackplot(x, wide.fillna(0).to_numpy().T, labels=names, alpha=0.9)
    ax.set_xlabel("day")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ylabel.startswith("share of"):
        ax.set_ylim(0, 1)
    ax.margins(x=0)
    box = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), title=legend)
    _use_cjk(box.get_texts())
    ax.figure.autofmt_xdate()
    return ax


def plot_hourly_heatmap(
    read_hour: pd.DataFrame,
    values: str = "int_page_read_count",
    *,
    ax: Axes | None = None,
) -> Axes:
    """When people read: the mean per weekday (rows) and hour (columns), as a heatmap.

    Takes getuserreadhour (its all-channel rows, or the channels' sum when there is no
    ``all`` row) or getusersharehour (scenes summed).

    Examples
    --------
    >>> from datetime import date
    >>> import wxframe
    >>> from wxframe.simulator import SimulatedAccount
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> records = acct.user_read_hour(date(2024, 5, 1), date(2024, 5, 14))
    >>> hour = wxframe.to_frame("getuserreadhour", records)
    >>> ax = plot_hourly_heatmap(hour)
    >>> ax.images[0].get_array().shape
    (7, 24)
    """
    _require(
        read_hour,
        ("ref_date", "ref_hour", values),
        "plot_hourly_heatmap",
        "a getuserreadhour or getusersharehour frame",
    )
    df = read_hour
    if "channel" in df.columns:
        is_all = df["channel"].astype("string").eq("all").fillna(False)
        df = df[is_all] if is_all.any() else df
    per_hour = df.groupby(["ref_date", "ref_hour"])[values].sum().astype("float64")
    days = pd.Index(per_hour.index.get_level_values("ref_date").unique(), name="ref_date")
    full = per_hour.reindex(
        pd.MultiIndex.from_product([days, range(24)], names=["ref_date", "ref_hour"]),
        fill_value=0.0,
    ).reset_index()
    full["weekday"] = full["ref_date"].dt.day_of_week
    grid = full.pivot_table(index="weekday", columns="ref_hour", values=values, aggfunc="mean")
    grid = grid.reindex(index=range(7), columns=range(24))
    ax = _axes(ax, (10, 3.6))
    image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_yticks(range(7), _WEEKDAYS)
    ax.set_xlabel("hour (Beijing time)")
    ax.set_ylabel("weekday")
    ax.set_title(f"When people read: mean {values} per hour")
    ax.figure.colorbar(image, ax=ax, label=values)
    return ax


def plot_article_decay(
    total: pd.DataFrame,
    *,
    top: int = 8,
    msgids: Sequence[str] | None = None,
    cumulative: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """How fast articles' reads arrive: one line per article over days 0..6.

    ``cumulative=True`` draws the share of the 7-day reads arrived by each day;
    ``False`` the reads per day. The ``top`` most-read articles are drawn, or ``msgids``.

    Examples
    --------
    >>> from datetime import date
    >>> import warnings, wxframe
    >>> from wxframe.simulator import SimulatedAccount
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> records = acct.article_total(date(2024, 5, 1), date(2024, 5, 20))
    >>> total = wxframe.to_frame("getarticletotal", records)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ax = plot_article_decay(total, top=5)
    >>> len(ax.get_lines())
    5
    """
    _require(
        total,
        ("msgid", "stat_date", "int_page_read_count"),
        "plot_article_decay",
        "a getarticletotal frame",
    )
    if not isinstance(top, int) or top < 1:
        raise ConfigurationError(f"top={top!r} is not allowed; use a positive integer")
    life = article_lifecycle(total)
    if msgids is not None:
        unknown = sorted(set(msgids) - set(life["msgid"]))
        if unknown:
            raise ConfigurationError(f"msgids {unknown} are not in the frame")
        chosen = life[life["msgid"].isin(list(msgids))]
    else:
        chosen = life.head(top)
    daily = to_daily(total[total["msgid"].isin(chosen["msgid"])])
    daily = daily.assign(_day=_stat_day(daily, _article_keys(daily)).astype("int64"))
    titles = chosen["title"].astype(str).tolist() if "title" in chosen else []
    ids = chosen["msgid"].astype(str).tolist()
    names = _text_labels(titles, ids, "article titles") if titles else ids
    ax = _axes(ax)
    for msgid, name in zip(ids, names, strict=True):
        rows = daily[daily["msgid"] == msgid].sort_values("_day")
        y = rows["int_page_read_count"].astype("float64").to_numpy(na_value=np.nan)
        if cumulative:
            y = np.cumsum(y)
            y = y / y[-1] if y[-1] > 0 else y * np.nan
        ax.plot(rows["_day"], y, marker="o", label=_short(name))
    ax.set_xlabel("days after sending")
    ax.set_ylabel("share of 7-day reads arrived" if cumulative else "reads per day")
    ax.set_title("How fast reads arrive")
    ax.set_xticks(range(7))
    if cumulative:
        ax.set_ylim(0, 1.02)
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    _use_cjk(legend.get_texts())
    return ax


def plot_top_articles(
    total: pd.DataFrame,
    *,
    n: int = 10,
    by: str = "int_page_read_count",
    ax: Axes | None = None,
) -> Axes:
    """The ``n`` articles with the most ``by`` (7-day totals), as horizontal bars.

    Takes a getarticletotal frame or :func:`~wxframe.article_lifecycle`'s table.

    Examples
    --------
    >>> from datetime import date
    >>> import warnings, wxframe
    >>> from wxframe.simulator import SimulatedAccount
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> records = acct.article_total(date(2024, 5, 1), date(2024, 5, 20))
    >>> total = wxframe.to_frame("getarticletotal", records)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ax = plot_top_articles(total, n=5)
    >>> len(ax.patches)
    5
    """
    _require(total, ("msgid",), "plot_top_articles", "a getarticletotal frame")
    if not isinstance(n, int) or n < 1:
        raise ConfigurationError(f"n={n!r} is not allowed; use a positive integer")
    life = total if "stat_date" not in total.columns else article_lifecycle(total)
    if by not in life.columns:
        raise ConfigurationError(
            f"by={by!r} is not a column of the lifecycle table; "
            f"use one of {', '.join(c for c in life.columns if c.endswith(('_user', '_count')))}"
        )
    top = life.sort_values(by, ascending=False, kind="stable").head(n).iloc[::-1]
    ids = top["msgid"].astype(str).tolist()
    names = (
        _text_labels(top["title"].astype(str).tolist(), ids, "article titles")
        if "title" in top.columns
        else ids
    )
    ax = _axes(ax, (9, 0.45 * len(top) + 1.2))
    ax.barh(range(len(top)), top[by].astype("float64").to_numpy(na_value=np.nan))
    ax.set_yticks(range(len(top)), [_short(s, 24) for s in names])
    _use_cjk(ax.get_yticklabels())
    ax.set_xlabel(by)
    ax.set_title(f"Top {len(top)} articles by {by}")
    return ax


def plot_share_scenes(
    share: pd.DataFrame,
    values: str = "share_count",
    *,
    fractions: bool = False,
    labels: Literal["en", "zh"] = "en",
    ax: Axes | None = None,
) -> Axes:
    """Where shares go (friends, moments, other) per day, as stacked areas.

    Examples
    --------
    >>> from datetime import date
    >>> import wxframe
    >>> from wxframe.simulator import SimulatedAccount
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> sh = wxframe.to_frame("getusershare", acct.user_share(date(2024, 5, 1), date(2024, 5, 31)))
    >>> [t.get_text() for t in plot_share_scenes(sh).get_legend().get_texts()]
    ['friends', 'moments', 'other']
    """
    _require(share, ("ref_date", "scene", values), "plot_share_scenes", "a getusershare frame")
    if "ref_hour" in share.columns:
        share = share.groupby(["ref_date", "scene"], observed=True)[values].sum().reset_index()
    wide = pivot_scenes(share, values, share=fractions).astype("float64")
    names = list(wide.columns)
    if labels == "zh":
        names = _text_labels([SCENES_ZH.get(n, n) for n in names], names, "scene names")
    ylabel = "share of shares" if fractions else values
    return _stacked(_axes(ax), wide, names, ylabel, "Where shares go", "scene")


def _short(text: str, width: int = 18) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
