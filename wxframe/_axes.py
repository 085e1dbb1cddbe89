"""What every plot's axes share: dates in the reader's language, numbers written out in
full, and days a frame does not hold left blank and marked, never bridged by a line.

matplotlib is imported when an axis is formatted, not when this module is.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from wxframe.endpoints import CURRENT_FIRST_DAY, Labels
from wxframe.errors import ConfigurationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "date_axis",
    "every_day",
    "mark_families",
    "mark_missing_days",
    "missing_days",
    "plain_numbers",
]

#: ConciseDateFormatter's three format lists (ticks, first tick of a new period, offset)
#: by year, month, day, hour, minute, second; Chinese with a CJK font, else numeric.
_ZH = (
    ["%Y年", "%m月", "%d日", "%H:%M", "%H:%M", "%S.%f"],
    ["", "%Y年", "%m月", "%m月%d日", "%H:%M", "%H:%M"],
    ["", "%Y年", "%Y年%m月", "%Y年%m月%d日", "%Y年%m月%d日", "%Y年%m月%d日 %H:%M"],
)
_NUMERIC = (
    ["%Y", "%Y-%m", "%d", "%H:%M", "%H:%M", "%S.%f"],
    ["", "%Y", "%Y-%m", "%m-%d", "%H:%M", "%H:%M"],
    ["", "%Y", "%Y-%m", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"],
)
_LEADING_ZERO = re.compile(
    r"(?<!\d)0(\d[月日])"
)  # "09月" -> "9月" (strftime's %-m is not portable)


def _say(en: str, zh: str, lang: Labels, fonts: list[str] | None) -> str:
    """``zh`` where the plot is Chinese and there are CJK ``fonts`` to draw it, else ``en``."""
    return zh if lang == "zh" and fonts else en


def date_axis(ax: Axes, lang: Labels = "en", fonts: list[str] | None = None) -> None:
    """Short date labels on this axes only (``Figure.autofmt_xdate`` would hide the x
    labels of every other subplot of the figure), in ``lang``. Chinese dates ("11月",
    "2026年12月") are drawn in ``fonts`` (a CJK font first); without them they are
    numeric ("2026-12"), never English month names in a Chinese plot."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    if lang != "zh":
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        return
    formats, zero, offset = _ZH if fonts else _NUMERIC
    formatter = _chinese_dates()(locator, formats=formats, zero_formats=zero, offset_formats=offset)
    ax.xaxis.set_major_formatter(formatter)
    if fonts:
        ax.xaxis.set_tick_params(labelfontfamily=fonts)
        ax.xaxis.get_offset_text().set_fontfamily(fonts)


@functools.cache
def _chinese_dates() -> type:
    import matplotlib.dates as mdates

    class ChineseDates(mdates.ConciseDateFormatter):
        """Concise dates without the zero padding Chinese dates do not write."""

        def format_ticks(self, values: Any) -> list[str]:
            return [_LEADING_ZERO.sub(r"\1", s) for s in super().format_ticks(values)]

        def get_offset(self) -> str:
            return _LEADING_ZERO.sub(r"\1", super().get_offset())

    return ChineseDates


def plain_numbers(ax: Axes) -> None:
    """Numbers in full on ``ax``, its twins and its colour bars: no offset (``+2.15e5``)
    nor scientific notation, thousands separated (215,040). Axes labelled otherwise
    (dates, percent, names) keep their labels."""
    from matplotlib.ticker import ScalarFormatter

    shown = [
        other
        for other in ax.figure.axes
        if other is ax
        or ax.get_shared_x_axes().joined(ax, other)
        or ax.get_shared_y_axes().joined(ax, other)
    ]
    shown += [image.colorbar.ax for image in ax.images if image.colorbar is not None]
    for each in shown:
        for axis in (each.xaxis, each.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(_thousands()())


@functools.cache
def _thousands() -> type:
    from matplotlib.ticker import ScalarFormatter

    class Thousands(ScalarFormatter):
        """matplotlib's numbers, in full, with a comma every three digits."""

        def __init__(self) -> None:
            super().__init__(useOffset=False, useMathText=False)
            self.set_scientific(False)

        def __call__(self, x: float, pos: int | None = None) -> str:
            whole, dot, fraction = super().__call__(x, pos).partition(".")
            return re.sub(r"(\d)(?=(\d{3})+$)", r"\1,", whole) + dot + fraction

    return Thousands


def every_day(wide: pd.DataFrame) -> pd.DataFrame:
    """``wide`` (one row per day, on a ``ref_date`` index) with a row of NaN for each day
    between its first and last that it does not hold: a line or an area breaks there."""
    days = pd.DatetimeIndex(wide.index.get_level_values("ref_date"))
    if days.has_duplicates:  # several accounts (a store frame): one line would join them
        raise ConfigurationError(
            f"the plot draws one row a day; this frame has {len(days)} rows for "
            f"{days.nunique()} days (several accounts? select one first)"
        )
    if days.empty:
        return wide
    full = pd.date_range(days.min(), days.max(), freq="D", name="ref_date")
    return wide.set_axis(days).reindex(full)


def missing_days(days: pd.Index) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The runs of days between the first and the last of ``days`` that are not among
    them: (last day held before, first day held after) each."""
    held = pd.DatetimeIndex(days).normalize().unique().sort_values()
    steps = held[1:] - held[:-1]
    return [(held[i], held[i + 1]) for i in range(len(steps)) if steps[i] > pd.Timedelta(days=1)]


def mark_missing_days(
    ax: Axes, days: pd.Index, lang: Labels = "en", fonts: list[str] | None = None
) -> None:
    """Shade each run of days the plot does not hold (legend entry "days not held"), and
    name the longest run in its band."""
    import matplotlib.dates as mdates

    runs = missing_days(days)
    if not runs:
        return
    label = _say("days not held", "无数据的日子", lang, fonts)
    for i, (before, after) in enumerate(runs):
        ax.axvspan(
            mdates.date2num(before),
            mdates.date2num(after),
            facecolor="0.93",
            edgecolor="0.6",
            hatch="//",
            linewidth=0,
            zorder=0,
            label=label if i == 0 else None,
        )
    before, after = max(runs, key=lambda run: run[1] - run[0])
    first, last = before + pd.Timedelta(days=1), after - pd.Timedelta(days=1)
    span = f"{first:%Y-%m-%d}" if first == last else f"{first:%Y-%m-%d} – {last:%Y-%m-%d}"
    middle = mdates.date2num(before + (after - before) / 2)
    left, right = ax.get_xlim()
    wide = (after - before).days >= 0.2 * (right - left)  # room to write across the band
    text = ax.text(
        middle,
        0.5,
        f"{_say('not held', '无数据', lang, fonts)}\n{span}",
        transform=ax.get_xaxis_transform(),
        rotation=0 if wide else 90,
        ha="center",
        va="center",
        fontsize="small",
        color="0.3",
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 2},
    )
    if fonts:
        text.set_fontfamily(fonts)


def mark_families(ax: Axes, days: pd.Index, values: str) -> None:
    """Where the chart holds both families: a dashed line where the current family's data
    begins (not where there is none), and a legend entry naming each family's field."""
    boundary = pd.Timestamp(CURRENT_FIRST_DAY)
    old, new = days[days < boundary], days[days >= boundary]
    if old.empty or new.empty:
        return
    import matplotlib.dates as mdates

    old_field = "int_page_read_user" if values == "read_user" else values
    ax.plot([], [], " ", label=f"before: getuserread\n{old_field}")
    ax.axvline(
        mdates.date2num(new.min()),
        color="black",
        linewidth=1,
        linestyle="--",
        label=f"from here: getbizsummary\n{values}",
    )
