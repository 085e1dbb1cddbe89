"""Plots of the analysis helpers' answers, each on a matplotlib Axes it returns.

Every function takes ``ax=`` (a new figure otherwise), passes its other keyword
arguments on to the matplotlib call that draws (``stackplot``, ``imshow``, ``plot``,
``barh``, ``bar``), and draws nothing it cannot label. Frames of either family are
accepted where the platform gives the numbers (getuserread or getbizsummary for the
channel mix, getarticletotal or getarticletotaldetail for articles).
Article titles are Chinese: they are drawn with a CJK font when one is installed (Noto
Sans CJK, Source Han Sans, WenQuanYi, PingFang, Microsoft YaHei, SimHei, or the file
named by ``WXFRAME_CJK_FONT``); without one, articles are labelled by msgid and a single
:class:`MissingFontWarning` says so, instead of boxes and a flood of glyph warnings.
matplotlib is imported when a plot is drawn, not when wxframe is.

Channels and scenes are labelled with the registry's display names
(:meth:`wxframe.endpoints.Codes.display`), ``labels="en"`` by default as the report
(``wxframe report --lang en``), so a chart of one's own reads like the report it sits
next to; ``labels="zh"`` gives the platform's Chinese names and ``labels=None`` the codes.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from wxframe._axes import date_axis, every_day, mark_families, mark_missing_days, plain_numbers
from wxframe.analysis import (
    DAILY_SUFFIX,
    add_rates,
    article_lifecycle,
    follower_growth,
    pivot_channels,
    pivot_scenes,
    to_daily,
)
from wxframe.analysis.common import check_labels, fractions, is_all_row, require
from wxframe.endpoints import CHANNEL_CODES, SCENE_CODES, Codes, Labels, Lang, check_lang
from wxframe.errors import ConfigurationError, MissingFontWarning, check_count

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "CJK_FONTS",
    "cjk_font",
    "plot_article_decay",
    "plot_channel_mix",
    "plot_dropoff",
    "plot_engagement",
    "plot_followers",
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


#: Parts of font file names that say a CJK font, for fonts matplotlib has not listed.
_CJK_FILES = (
    "notosanscjk",
    "notoserifcjk",
    "sourcehansans",
    "wqy",
    "wenquanyi",
    "droidsansfallback",
    "pingfang",
    "msyh",
    "simhei",
    "heiti",
)


@functools.cache
def _find_cjk_font(path: str | None) -> str | None:
    from matplotlib import font_manager

    if path:
        if path.lower() == "none":  # drawing without one, on purpose
            return None
        if not os.path.isfile(path):
            raise ConfigurationError(f"WXFRAME_CJK_FONT={path!r} is not a font file")
        font_manager.fontManager.addfont(path)
        return font_manager.FontProperties(fname=path).get_name()
    found = _listed_cjk_font()
    if found is None:
        # matplotlib's font list is cached from when it was first built: a font installed
        # since (apt install fonts-noto-cjk) is not in it. Add the system's CJK files once.
        for file in font_manager.findSystemFonts():
            if any(part in os.path.basename(file).lower().replace("-", "") for part in _CJK_FILES):
                try:
                    font_manager.fontManager.addfont(file)
                except (OSError, RuntimeError, ValueError):
                    continue  # a font file matplotlib cannot read (a .ttc it does not take)
        found = _listed_cjk_font()
    return found


def _listed_cjk_font() -> str | None:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def cjk_font() -> str | None:
    """The font family used for Chinese text, or None when there is none.

    ``WXFRAME_CJK_FONT`` may name a font file (``.ttf``/``.otf``) to use, or be ``none``
    to draw without one. A CJK font installed after matplotlib built its font cache is
    found too (wxframe adds the system's CJK font files once, when none is listed).

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


def _display(codes: Codes, names: Sequence[str], labels: object) -> list[str]:
    """The legend's names in ``labels``: Chinese only where a CJK font can draw it (else
    the English names, and one warning), never a name of the plot's own."""
    lang = check_labels(labels)
    shown = codes.display_names(names, lang)
    if lang != "zh":
        return shown
    return _text_labels(shown, codes.display_names(names, "en"), f"{codes.column} names")


def _use_cjk(texts: Sequence[object]) -> None:
    font = cjk_font()
    if font is None:
        return
    for text in texts:
        text.set_fontfamily(_families(font))  # type: ignore[attr-defined]


@functools.cache
def _families(font: str) -> list[str]:
    """``font``, then the installed fonts of matplotlib's sans-serif list: naming one
    that is not installed makes matplotlib warn (``findfont: Font family ... not found``)
    at every draw."""
    import matplotlib as mpl
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return [font, *(name for name in mpl.rcParams["font.sans-serif"] if name in installed)]


_RENAMED = {"share": "normalize", "fractions": "normalize", "top": "n"}
F = TypeVar("F", bound=Callable[..., Any])


def _plot(draw: F) -> F:
    """A plot: keywords it does not take go on to matplotlib, but the helpers' old names
    are answered here (matplotlib's "unexpected keyword argument 'share'" would puzzle)."""

    @functools.wraps(draw)
    def checked(*args: Any, **kwargs: Any) -> Any:
        old = [name for name in _RENAMED if name in kwargs]
        if old:
            raise ConfigurationError(
                f"{draw.__name__}: {', '.join(f'{n}= is now {_RENAMED[n]}=' for n in old)}"
            )
        ax = draw(*args, **kwargs)
        plain_numbers(ax)  # no axis of any plot reads "+2.15e5"
        return ax

    return checked  # type: ignore[return-value]


def _axes(ax: Axes | None, size: tuple[float, float] = (9, 4.5)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=size, layout="constrained")
    return new


def _legend(ax: Axes, title: str | None = None) -> None:
    box = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), title=title, fontsize="small")
    _use_cjk(box.get_texts())


@_plot
def plot_channel_mix(
    read: pd.DataFrame,
    values: str | None = None,
    *,
    normalize: bool = True,
    labels: Labels = "en",
    lang: Lang | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Stacked areas of the channels' readers per day (fractions with ``normalize=True``).

    Takes getbizsummary or getuserread (getuserreadhour is summed per day first), or the
    two concatenated. Days not held are shaded, never bridged; where both families are
    drawn, each stretch is named by its endpoint and field (readers in both by default:
    ``int_page_read_user``, ``read_user``). The ``all`` row is left out. ``values`` as in
    :func:`~wxframe.pivot_channels`; ``labels`` names the channels in the legend:
    ``"en"`` (messages, chats, ..., the report's default), ``"zh"`` (公众号消息, ...) or
    None (the codes); ``lang``: the dates' language (default: that of ``labels``);
    ``kwargs`` go to ``Axes.stackplot``.

    Examples
    --------
    >>> import wxframe
    >>> from wxframe.simulator import serve
    >>> with serve(seed=0, today="2026-01-10") as sim:
    ...     biz = wxframe.load_biz_summary(sim.client(), "2025-12-01", "2025-12-31")
    >>> ax = plot_channel_mix(biz, alpha=0.5)
    >>> [t.get_text() for t in ax.get_legend().get_texts()][:3]
    ['messages', 'chats', 'Moments']
    """
    check_labels(labels)
    require(
        read, ("ref_date", "channel"), "plot_channel_mix", "a getbizsummary or getuserread frame"
    )
    if values is None:
        values = "read_user" if "read_user" in read.columns else "int_page_read_count"
    if "ref_hour" in read.columns:
        require(read, (values,), "plot_channel_mix", f"a frame with {values}")
        read = read.groupby(["ref_date", "channel"], observed=True)[values].sum().reset_index()
    counts = pivot_channels(read, values).astype("float64")
    if "msgid" in counts.index.names:  # articles' readers summed per day
        counts = counts.groupby(level="ref_date").sum(min_count=1)
    if counts.empty:
        raise ConfigurationError("plot_channel_mix: no channel rows to draw (pre-2020 data?)")
    _all_given(counts, values)
    wide = fractions(counts).astype("float64") if normalize else counts
    names = _display(CHANNEL_CODES, list(wide.columns), labels)
    what = {
        "read_user": "readers",
        "int_page_read_user": "readers",
        "int_page_read_count": "reads",
    }.get(values, values)
    ylabel = f"share of {what}" if normalize else what
    ax = _axes(ax)
    shown = _dates(ax, lang, labels)
    _stacked(ax, wide, names, ylabel, "Where readers come from", shown, kwargs)
    mark_families(ax, wide.index.get_level_values("ref_date"), values)
    _legend(ax, "channel")
    return ax


def _all_given(counts: pd.DataFrame, values: str) -> None:
    """A day held without ``values`` (getbizsummary has no ``*_count``) is not 0 readers."""
    if len(none := counts.index[counts.isna().all(axis=1)]):
        raise ConfigurationError(
            f"plot_channel_mix: {values} is not given on {len(none)} of the {len(counts)} "
            f"days ({none.min():%Y-%m-%d} to {none.max():%Y-%m-%d}); values='read_user' "
            "(readers) is given by both families"
        )


def _stacked(
    ax: Axes,
    wide: pd.DataFrame,
    names: list[str],
    ylabel: str,
    title: str,
    lang: Labels,
    kwargs: dict[str, Any],
) -> Axes:
    """Stacked areas of ``wide``'s columns over its dates, a legend entry per column; days
    it does not hold break the areas and are shaded."""
    held = wide.index.get_level_values("ref_date")
    daily = every_day(wide.fillna(0))  # a value not given on a day held: 0; a day not held: NaN
    ax.stackplot(daily.index, daily.to_numpy().T, labels=names, **{"alpha": 0.9, **kwargs})
    ax.set_xlabel("day")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ylabel.startswith("share of"):
        ax.set_ylim(0, 1)
    ax.margins(x=0)
    mark_missing_days(ax, held, lang, _fonts(lang))
    return ax


@_plot
def plot_hourly_heatmap(
    read_hour: pd.DataFrame,
    values: str = "int_page_read_count",
    *,
    cmap: str = "viridis",
    cbar: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """When people read: the mean per weekday (rows) and hour (columns), as a heatmap.

    Takes getuserreadhour (its all-channel rows, or the channels' sum when there is no
    ``all`` row) or getusersharehour (scenes summed); the current family has no hourly
    data. ``cmap`` and ``cbar`` (draw the colour bar) as in matplotlib; ``kwargs`` go to
    ``Axes.imshow``.

    Examples
    --------
    >>> from datetime import date
    >>> import wxframe
    >>> from wxframe.simulator import SimulatedAccount, records
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> raw = records(acct, "getuserreadhour", date(2024, 5, 1), date(2024, 5, 14))
    >>> hour = wxframe.to_frame("getuserreadhour", raw)
    >>> ax = plot_hourly_heatmap(hour, cmap="magma")
    >>> ax.images[0].get_array().shape, ax.images[0].get_cmap().name
    ((7, 24), 'magma')
    """
    require(
        read_hour,
        ("ref_date", "ref_hour", values),
        "plot_hourly_heatmap",
        "a getuserreadhour or getusersharehour frame",
    )
    df = read_hour
    if "channel" in df.columns:
        everyone = is_all_row(df)
        df = df[everyone] if everyone.any() else df
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
    options = {"aspect": "auto", "interpolation": "nearest", **kwargs}
    image = ax.imshow(grid.to_numpy(), cmap=cmap, **options)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_yticks(range(7), _WEEKDAYS)
    ax.set_xlabel("hour (Beijing time)")
    ax.set_ylabel("weekday")
    ax.set_title(f"When people read: mean {values} per hour")
    if cbar:
        ax.figure.colorbar(image, ax=ax, label=values)
    return ax


def _lives(total: pd.DataFrame, helper: str) -> tuple[pd.DataFrame, str, int]:
    """The lifecycle table of a getarticletotal(detail) frame, its readers column, horizon."""
    require(
        total, ("msgid", "stat_date"), helper, "a getarticletotal or getarticletotaldetail frame"
    )
    life = article_lifecycle(total)
    detail = "read_user" in life.columns
    return life, ("read_user" if detail else "int_page_read_count"), (30 if detail else 7)


def _choose(life: pd.DataFrame, n: int, msgids: Sequence[str] | None) -> pd.DataFrame:
    """The articles to draw: ``msgids``, or the ``n`` most read whose life is over."""
    if isinstance(msgids, str):
        raise ConfigurationError(f"msgids= takes a list of msgids; for one: msgids=[{msgids!r}]")
    if msgids is not None:
        unknown = sorted(set(msgids) - set(life["msgid"]))
        if unknown:
            raise ConfigurationError(f"msgids {unknown} are not in the frame")
        return life[life["msgid"].isin(list(msgids))]
    finished = life[life["complete"]]
    if finished.empty:
        raise ConfigurationError(
            "no article in the frame has a finished life (every stat day of its first "
            "7 days, getarticletotal, or 30, getarticletotaldetail): pass msgids= to draw "
            "articles still growing"
        )
    return finished.head(n)


def _names(chosen: pd.DataFrame, names: Mapping[str, str] | None = None) -> list[str]:
    """Marks: ``names[msgid]`` if given ("A1": any font draws it), else the titles."""
    ids = chosen["msgid"].astype(str).tolist()
    if names is not None:
        if unmarked := [i for i in ids if i not in names]:
            raise ConfigurationError(f"names= has no mark for msgids {unmarked}")
        return [str(names[i]) for i in ids]
    if "title" not in chosen.columns or chosen["title"].isna().all():
        return ids
    titles = [t if isinstance(t, str) else i for t, i in zip(chosen["title"], ids, strict=True)]
    return _text_labels(titles, ids, "article titles")


@_plot
def plot_article_decay(
    total: pd.DataFrame,
    *,
    n: int = 8,
    msgids: Sequence[str] | None = None,
    cumulative: bool = True,
    names: Mapping[str, str] | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """How fast articles' readers come: one line per article over its days.

    Takes getarticletotal (reads over days 0..6) or getarticletotaldetail (readers over
    days 0..29). ``cumulative=True`` draws the share of the life's total arrived by each
    day; ``False`` the number per day. The ``n`` most-read articles whose life is over
    are drawn (an article still growing would show a false 100 %), or ``msgids``.
    ``names`` maps msgid to the mark shown in the legend (``{"2247..._1": "A1"}``; default
    the titles). ``kwargs`` go to ``Axes.plot``.

    Examples
    --------
    >>> from datetime import date
    >>> import warnings, wxframe
    >>> from wxframe.simulator import SimulatedAccount, records
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> raw = records(acct, "getarticletotal", date(2024, 5, 1), date(2024, 5, 20))
    >>> total = wxframe.to_frame("getarticletotal", raw)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ax = plot_article_decay(total, n=5, linewidth=3)
    >>> len(ax.get_lines()), ax.get_lines()[0].get_linewidth()
    (5, 3.0)
    """
    check_count("n", n)
    life, reads, horizon = _lives(total, "plot_article_decay")
    chosen = _choose(life, n, msgids)
    rows = total[total["msgid"].isin(chosen["msgid"])]
    if "channel" in rows.columns:
        rows = rows[is_all_row(rows)]
    daily = to_daily(rows)
    ids = chosen["msgid"].astype(str).tolist()
    ax = _axes(ax)
    for msgid, name in zip(ids, _names(chosen, names), strict=True):
        one = daily[daily["msgid"] == msgid].sort_values("stat_date")
        days = (one["stat_date"] - one["stat_date"].min()).dt.days.to_numpy()
        if "day" in one.columns:
            days = one["day"].to_numpy(dtype=float, na_value=np.nan)
        keep = days < horizon
        y = one[reads + DAILY_SUFFIX].astype("float64").to_numpy(na_value=np.nan)[keep]
        if cumulative:
            y = np.cumsum(y)
            y = y / y[-1] if len(y) and y[-1] > 0 else y * np.nan
        ax.plot(days[keep], y, **{"marker": "o", "label": _short(name), **kwargs})
    what = "readers" if reads == "read_user" else "reads"
    since = "publishing" if horizon == 30 else "sending"
    ax.set_xlabel(f"days after {since}")
    ax.set_ylabel(f"share of {horizon}-day {what} arrived" if cumulative else f"{what} per day")
    ax.set_title(f"How fast {what} arrive")
    ax.set_xticks(range(0, horizon, 1 if horizon <= 7 else 5))
    if cumulative:
        ax.set_ylim(0, 1.02)
    _legend(ax)
    return ax


@_plot
def plot_top_articles(
    total: pd.DataFrame,
    *,
    n: int = 10,
    by: str | None = None,
    names: Mapping[str, str] | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """The ``n`` articles with the most ``by``, as horizontal bars.

    Takes getarticletotal, getarticletotaldetail or :func:`~wxframe.article_lifecycle`'s
    table; ``by`` defaults to the readers column (``read_user`` or
    ``int_page_read_count``); ``names`` maps msgid to a mark (default the titles); still
    growing: "(growing)". ``kwargs`` go to ``Axes.barh``.

    Examples
    --------
    >>> from datetime import date
    >>> import warnings, wxframe
    >>> from wxframe.simulator import SimulatedAccount, records
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> raw = records(acct, "getarticletotal", date(2024, 5, 1), date(2024, 5, 20))
    >>> total = wxframe.to_frame("getarticletotal", raw)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ax = plot_top_articles(total, n=5, color="tab:green")
    >>> len(ax.patches)
    5
    """
    require(total, ("msgid",), "plot_top_articles", "a getarticletotal(detail) frame")
    check_count("n", n)
    life = total if "stat_date" not in total.columns else article_lifecycle(total)
    if by is None:
        by = "read_user" if "read_user" in life.columns else "int_page_read_count"
    counters = [c for c in life.columns if c.endswith(("_user", "_count", "_rate", "_7d", "_30d"))]
    if by not in counters:
        raise ConfigurationError(f"by={by!r} is not allowed here; use one of {', '.join(counters)}")
    top = life.sort_values(by, ascending=False, kind="stable").head(n).iloc[::-1]
    marks = _names(top, names)
    if "complete" in top.columns:
        marks = [
            s if done else f"{s} (growing)" for s, done in zip(marks, top["complete"], strict=True)
        ]
    ax = _axes(ax, (9, 0.45 * len(top) + 1.2))
    ax.barh(range(len(top)), top[by].astype("float64").to_numpy(na_value=np.nan), **kwargs)
    ax.set_yticks(range(len(top)), [_short(s, 24) for s in marks])
    _use_cjk(ax.get_yticklabels())
    ax.set_xlabel(by)
    ax.set_title(f"Top {len(top)} articles by {by}")
    return ax


@_plot
def plot_share_scenes(
    share: pd.DataFrame,
    values: str = "share_count",
    *,
    normalize: bool = False,
    labels: Labels = "en",
    lang: Lang | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Where shares go (friends, moments, other) per day, as stacked areas.

    getusershare(hour) only: the current family does not say where shares go.
    ``labels`` names the scenes in the legend: ``"en"`` (chats, Moments, other),
    ``"zh"`` (好友转发, 朋友圈, 其他) or None (the codes); ``lang`` is the language of
    the dates (default: that of ``labels``); days not held are shaded, never bridged.
    ``kwargs`` go to ``Axes.stackplot``.

    Examples
    --------
    >>> from datetime import date
    >>> import wxframe
    >>> from wxframe.simulator import SimulatedAccount, records
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> raw = records(acct, "getusershare", date(2024, 5, 1), date(2024, 5, 31))
    >>> sh = wxframe.to_frame("getusershare", raw)
    >>> [t.get_text() for t in plot_share_scenes(sh).get_legend().get_texts()]
    ['chats', 'Moments', 'other']
    """
    check_labels(labels)
    require(share, ("ref_date", "scene", values), "plot_share_scenes", "a getusershare frame")
    if "ref_hour" in share.columns:
        share = share.groupby(["ref_date", "scene"], observed=True)[values].sum().reset_index()
    wide = pivot_scenes(share, values, normalize=normalize).astype("float64")
    names = _display(SCENE_CODES, list(wide.columns), labels)
    ylabel = "share of shares" if normalize else values
    ax = _axes(ax)
    shown = _dates(ax, lang, labels)
    _stacked(ax, wide, names, ylabel, "Where shares go", shown, kwargs)
    _legend(ax, "scene")
    return ax


#: The rates plot_engagement draws by default, where the frame has them.
_ENGAGEMENT = (
    "share_rate",
    "like_rate",
    "zaikan_rate",
    "comment_rate",
    "collection_rate",
    "subscribe_rate",
    "ori_rate",
)


@_plot
def plot_engagement(
    df: pd.DataFrame,
    rates: Sequence[str] | None = None,
    *,
    n: int = 10,
    names: Mapping[str, str] | None = None,
    lang: Lang | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Engagement rates: over time (getbizsummary) or per article (getarticletotaldetail).

    A getbizsummary frame gives one line per rate over its days (the account's all row;
    days not held break the lines and are shaded; ``lang`` is the language of the dates);
    a getarticletotaldetail frame or its lifecycle table gives grouped bars for the ``n``
    most-read articles. ``rates`` are :func:`~wxframe.add_rates` names (default: those
    the frame allows of share, like, zaikan, comment, collection, subscribe, ori).
    ``names`` maps msgid to the mark of an article (default the titles). ``kwargs`` go
    to ``Axes.plot`` (over time) or ``Axes.barh`` (per article).

    Examples
    --------
    >>> import wxframe
    >>> from wxframe.simulator import serve
    >>> with serve(seed=0, today="2026-01-10") as sim:
    ...     biz = wxframe.load_biz_summary(sim.client(), "2025-12-01", "2025-12-31")
    >>> ax = plot_engagement(biz, ["share_rate", "like_rate"])
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['share_rate', 'like_rate']
    """
    check_count("n", n)
    require(df, (), "plot_engagement", "a getbizsummary or getarticletotaldetail frame")
    per_article = "msgid" in df.columns
    if per_article:
        frame = article_lifecycle(df) if "stat_date" in df.columns else df
        frame = add_rates(frame).head(n).iloc[::-1]
    else:
        require(df, ("ref_date",), "plot_engagement", "a getbizsummary frame")
        frame = add_rates(df[is_all_row(df)]).sort_values("ref_date")
    allowed = [r for r in _ENGAGEMENT if r in frame.columns]
    chosen = list(rates) if rates is not None else allowed
    wrong = [r for r in chosen if r not in allowed]
    if wrong or not chosen:
        raise ConfigurationError(
            f"rates {wrong or chosen} are not allowed for this frame; use some of "
            f"{', '.join(allowed) or 'none (it has no readers column)'}"
        )
    ax = _axes(ax, (9, 0.5 * len(frame) + 1.5) if per_article else (9, 4.5))
    if per_article:
        height = 0.8 / len(chosen)
        for j, rate in enumerate(chosen):
            y = np.arange(len(frame)) + j * height
            values = frame[rate].astype("float64").to_numpy(na_value=np.nan)
            ax.barh(y, values, height=height, label=rate, **kwargs)
        ax.set_yticks(
            np.arange(len(frame)) + 0.4 - height / 2,
            [_short(s, 24) for s in _names(frame, names)],
        )
        _use_cjk(ax.get_yticklabels())
        ax.set_xlabel("rate (of readers so far)")
        ax.set_title(f"Engagement of the {len(frame)} most-read articles")
    else:
        shown = _dates(ax, lang)
        daily = every_day(frame.set_index("ref_date")[chosen].astype("float64"))
        for rate in chosen:
            ax.plot(daily.index, daily[rate].to_numpy(), label=rate, **kwargs)
        ax.set_xlabel("day")
        ax.set_ylabel("rate (of the day's readers)")
        ax.set_title("Engagement per day")
        mark_missing_days(ax, pd.Index(frame["ref_date"]), shown, _fonts(shown))
    (ax.xaxis if per_article else ax.yaxis).set_major_formatter(_percent())
    _legend(ax)
    return ax


@_plot
def plot_dropoff(
    detail: pd.DataFrame,
    *,
    n: int = 5,
    msgids: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Where readers leave an article: the ``jump_rate_1..5`` profile, one line each.

    Position 1 is the first fifth of the article, 5 the last; each point is the share of
    the readers who left the article early that left in that fifth (the five add up to
    1; the finish rate says how many read to the end), as of the last stat day in the
    frame. A position the platform does not list is drawn as 0. Takes
    getarticletotaldetail or its lifecycle table; the ``n`` most-read articles, or
    ``msgids``. ``names`` maps msgid to the mark in the legend (``{"2247..._1": "A1"}``;
    default the titles). ``kwargs`` go to ``Axes.plot``.

    Examples
    --------
    >>> import warnings, wxframe
    >>> from wxframe.simulator import serve
    >>> with serve(seed=0, today="2026-01-10") as sim:
    ...     detail = wxframe.load_article_total_detail(sim.client(), "2025-12-01", "2025-12-03")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ax = plot_dropoff(detail, n=3)
    >>> len(ax.get_lines()), ax.get_lines()[0].get_xdata().tolist()
    (3, [1, 2, 3, 4, 5])
    """
    check_count("n", n)
    positions = [f"jump_rate_{p}" for p in range(1, 6)]
    require(
        detail,
        ("msgid", *positions),
        "plot_dropoff",
        "a getarticletotaldetail frame or its lifecycle table",
    )
    life = article_lifecycle(detail) if "stat_date" in detail.columns else detail
    chosen = _choose(life, n, msgids) if msgids is not None else life.head(n)
    ax = _axes(ax)
    for (_, row), name in zip(chosen.iterrows(), _names(chosen, names), strict=True):
        y = pd.array([row[c] for c in positions], dtype="Float64").to_numpy(na_value=np.nan)
        if not np.isnan(y).all():
            y = np.nan_to_num(y)  # a position the platform does not list: nobody left there
        ax.plot(range(1, 6), y, **{"marker": "o", "label": _short(name), **kwargs})
    ax.set_xticks(range(1, 6), ["0-20%", "20-40%", "40-60%", "60-80%", "80-100%"])
    ax.set_xlabel("where in the article")
    ax.set_ylabel("of the readers who left, share leaving here")
    ax.yaxis.set_major_formatter(_percent())
    ax.set_title("Where readers leave")
    _legend(ax)
    return ax


@_plot
def plot_followers(
    summary: pd.DataFrame,
    cumulate: pd.DataFrame | None = None,
    *,
    lang: Lang | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Net follower growth per day as bars and, with ``cumulate``, the total as a line.

    Takes getusersummary (and getusercumulate); the total is drawn on a second y axis
    (``ax.right``), in full (215,040, not an offset). Days not held break the line and
    are shaded. ``lang`` is the language of the dates; ``kwargs`` go to ``Axes.bar``.

    Examples
    --------
    >>> import wxframe
    >>> from wxframe.simulator import serve
    >>> with serve(seed=0, today="2026-01-10") as sim:
    ...     summary = wxframe.load_user_summary(sim.client(), "2025-12-01", "2025-12-31")
    ...     cumulate = wxframe.load_user_cumulate(sim.client(), "2025-12-01", "2025-12-31")
    >>> ax = plot_followers(summary, cumulate)
    >>> len(ax.patches), len(ax.right.get_lines())
    (31, 1)
    """
    growth = follower_growth(summary, cumulate)
    if "account" in growth.columns:
        raise ConfigurationError("plot_followers draws one account: select one first")
    ax = _axes(ax)
    shown = _dates(ax, lang)
    net = growth["net_user"].astype("float64").to_numpy(na_value=np.nan)
    colors = np.where(net >= 0, "tab:green", "tab:red")
    ax.bar(growth["ref_date"], net, **{"color": colors, "label": "net growth", **kwargs})
    ax.axhline(0, color="0.5", linewidth=0.8)
    ax.set_xlabel("day")
    ax.set_ylabel("followers gained - lost")
    ax.set_title("Followers")
    if "cumulate_user" in growth.columns:
        right = ax.twinx()
        total = every_day(growth.set_index("ref_date")[["cumulate_user"]].astype("float64"))
        right.plot(total.index, total.to_numpy(), color="tab:blue", label="followers")
        right.set_ylabel("followers")
        ax.right = right  # type: ignore[attr-defined]
    mark_missing_days(ax, pd.Index(growth["ref_date"]), shown, _fonts(shown))
    return ax


def _dates(ax: Axes, lang: Lang | None, labels: Labels = None) -> Labels:
    """Format ``ax``'s dates in the plot's language (``lang``, else ``labels``' language,
    else English); that language."""
    shown = check_lang(lang, "lang") or check_labels(labels) or "en"
    date_axis(ax, shown, _fonts(shown))
    return shown


def _fonts(lang: Labels) -> list[str] | None:
    """The fonts to draw Chinese text in, where the plot is Chinese and there is one."""
    font = cjk_font()
    return _families(font) if lang == "zh" and font is not None else None


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def _short(text: str, width: int = 18) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
