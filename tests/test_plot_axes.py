"""What every plot's axes share (wxframe/_axes.py), on real Agg figures: days not held
are never bridged, numbers are written in full, dates are in the plot's language."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from datetime import date

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.dates import ConciseDateFormatter

import wxframe
from wxframe.simulator import SimulatedAccount, records

ENGLISH_MONTHS = re.compile(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec")


@pytest.fixture(scope="module")
def families() -> dict[str, pd.DataFrame]:
    """getuserread of May 2025 and the current family of November 2026, 17 months apart
    (what the quickstart draws), from one simulated account."""
    acct = SimulatedAccount(seed=0, today=date(2026, 12, 1))
    may, nov = (date(2025, 5, 1), date(2025, 5, 31)), (date(2026, 11, 1), date(2026, 11, 30))
    return {
        "read": wxframe.to_frame("getuserread", records(acct, "getuserread", *may)),
        "share": wxframe.to_frame("getusershare", records(acct, "getusershare", *may)),
        "biz": wxframe.to_frame("getbizsummary", records(acct, "getbizsummary", *nov)),
        "followers": wxframe.to_frame("getusersummary", records(acct, "getusersummary", *nov)),
        "cumulate": wxframe.to_frame("getusercumulate", records(acct, "getusercumulate", *nov)),
    }


def _bridged_lines(ax: Axes) -> list[str]:
    """Segments of any line drawn between two points more than a day apart."""
    found = []
    for line in [*ax.get_lines(), *getattr(ax, "right", ax).get_lines()]:
        xy = line.get_xydata()
        if len(xy) < 2 or line.get_linestyle() == "--":
            continue  # the dashed family line is vertical, not data
        drawn = np.isfinite(xy[:-1, 1]) & np.isfinite(xy[1:, 1])
        steps = np.diff(xy[:, 0])[drawn]
        if (steps > 1 + 1e-9).any():
            found.append(f"{line.get_label()} joins days {steps.max():.0f} apart")
    return found


def _bridged_areas(ax: Axes, missing: pd.DatetimeIndex) -> list[str]:
    """Polygons of stacked areas whose x extent covers a day not held."""
    import matplotlib.dates as mdates

    days = mdates.date2num(missing)
    found = []
    for areas in ax.collections:
        if not isinstance(areas, PolyCollection):
            continue
        for path in areas.get_paths():
            x = path.vertices[:, 0]
            covered = days[(days > x.min()) & (days < x.max())]
            if len(covered):
                found.append(f"{areas.get_label()} covers {len(covered)} day(s) not held")
    return found


def _without(df: pd.DataFrame, missing: pd.DatetimeIndex) -> pd.DataFrame:
    return df[~df["ref_date"].isin(missing)]


@pytest.mark.slow
@settings(max_examples=10, deadline=None)
@given(start=st.integers(1, 27), length=st.integers(1, 20))
def test_no_line_or_area_is_drawn_through_days_not_held(
    families: dict[str, pd.DataFrame], start: int, length: int
) -> None:
    length = min(length, 28 - start)  # the gap stays inside the month: days held on both sides
    missing = pd.date_range("2026-11-01", periods=30)[start : start + length]
    may_missing = missing - pd.DateOffset(months=18)  # the same days of May 2025
    plots: list[Axes] = [
        wxframe.plot_channel_mix(_without(families["biz"], missing)),
        wxframe.plot_engagement(_without(families["biz"], missing)),
        wxframe.plot_followers(
            _without(families["followers"], missing), _without(families["cumulate"], missing)
        ),
        wxframe.plot_share_scenes(_without(families["share"], may_missing)),
    ]
    try:
        for ax, gap in zip(plots, [missing, missing, missing, may_missing], strict=True):
            assert not _bridged_lines(ax) and not _bridged_areas(ax, gap), ax.get_title()
            shaded = [p for p in ax.patches if p.get_label() == "days not held"]
            assert len(shaded) == 1, ax.get_title()  # the run of days is marked, once
    finally:
        plt.close("all")


def test_two_families_17_months_apart_are_two_stretches_and_a_gap(
    families: dict[str, pd.DataFrame],
) -> None:
    both = pd.concat([families["read"], families["biz"]])
    ax = wxframe.plot_channel_mix(both)
    not_held = pd.date_range("2025-06-01", "2026-10-31")
    assert not _bridged_areas(ax, not_held)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "days not held" in labels
    # both measures named: readers on both sides, each by its own field
    assert "before: getuserread\nint_page_read_user" in labels
    assert "from here: getbizsummary\nread_user" in labels
    # the current family's line is where its data begins, not at 2025-11-01 in the gap
    (dashed,) = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    import matplotlib.dates as mdates

    at = mdates.num2date(np.asarray(dashed.get_xdata(), dtype=float)[0]).date()
    assert at == date(2026, 11, 1)
    text = " ".join(t.get_text() for t in ax.texts)
    assert "not held" in text and "2025-06-01 – 2026-10-31" in text
    plt.close("all")


def test_a_field_one_family_does_not_give_is_refused_not_drawn_as_zero(
    families: dict[str, pd.DataFrame],
) -> None:
    both = pd.concat([families["read"], families["biz"]])
    with pytest.raises(wxframe.ConfigurationError, match="int_page_read_count is not given on 30"):
        wxframe.plot_channel_mix(both, "int_page_read_count")


def _every_plot(
    families: dict[str, pd.DataFrame], plot_frames: dict, current_frames: dict
) -> dict[str, Callable[[], Axes]]:
    big = plot_frames["read_hour"].assign(
        int_page_read_count=lambda d: d["int_page_read_count"] + 215_000
    )
    return {
        "plot_channel_mix": lambda: wxframe.plot_channel_mix(families["biz"], normalize=False),
        "plot_hourly_heatmap": lambda: wxframe.plot_hourly_heatmap(big),
        "plot_article_decay": lambda: wxframe.plot_article_decay(plot_frames["total"]),
        "plot_top_articles": lambda: wxframe.plot_top_articles(plot_frames["total"]),
        "plot_share_scenes": lambda: wxframe.plot_share_scenes(families["share"]),
        "plot_engagement": lambda: wxframe.plot_engagement(families["biz"]),
        "plot_dropoff": lambda: wxframe.plot_dropoff(current_frames["detail"]),
        "plot_followers": lambda: wxframe.plot_followers(
            families["followers"], families["cumulate"]
        ),
    }


@pytest.mark.slow
def test_no_axis_of_any_plot_shows_an_offset(
    families: dict[str, pd.DataFrame], plot_frames: dict, current_frames: dict
) -> None:
    plots = _every_plot(families, plot_frames, current_frames)
    assert sorted(plots) == sorted(n for n in wxframe.plots.__all__ if n.startswith("plot_"))
    offsets = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wxframe.MissingFontWarning)
        for name, draw in plots.items():
            ax = draw()
            ax.figure.canvas.draw()
            for each in ax.figure.axes:
                for axis in (each.xaxis, each.yaxis):
                    if isinstance(axis.get_major_formatter(), ConciseDateFormatter):
                        continue  # a date axis's offset is the year and month, not a number
                    if text := axis.get_offset_text().get_text():
                        offsets[name] = text
            plt.close("all")
    assert not offsets  # on 68806b2: plot_followers "+2.15e5"


def test_followers_total_reads_in_full_with_thousands_separated(
    families: dict[str, pd.DataFrame],
) -> None:
    ax = wxframe.plot_followers(families["followers"], families["cumulate"])
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.right.get_yticklabels() if t.get_text()]
    assert ticks and all(re.fullmatch(r"21[45],\d{3}", t) for t in ticks), ticks
    plt.close("all")


@pytest.mark.parametrize("font", ["installed", "none"])
def test_chinese_plots_have_no_english_month_names(
    families: dict[str, pd.DataFrame], font: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if font == "none":  # a machine without a CJK font
        monkeypatch.setenv("WXFRAME_CJK_FONT", "none")
    elif wxframe.cjk_font() is None:
        pytest.skip("no CJK font installed")
    both = pd.concat([families["read"], families["biz"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wxframe.MissingFontWarning)  # channel names
        plots = [
            wxframe.plot_channel_mix(both, labels="zh"),  # months apart: month ticks
            wxframe.plot_channel_mix(families["biz"], labels=None, lang="zh"),  # day ticks
            wxframe.plot_share_scenes(families["share"], labels="zh"),
            wxframe.plot_engagement(families["biz"], lang="zh"),
            wxframe.plot_followers(families["followers"], families["cumulate"], lang="zh"),
        ]
    for ax in plots:
        ax.figure.canvas.draw()
        shown = [t.get_text() for t in ax.get_xticklabels()]
        shown.append(ax.xaxis.get_offset_text().get_text())
        assert not [s for s in shown if ENGLISH_MONTHS.search(s)], shown
        if font == "installed":
            assert any("月" in s for s in shown), shown
        else:  # numeric dates: nothing a Latin font draws as boxes
            assert all(s.isascii() for s in shown) and any(
                re.match(r"\d{4}-\d{2}", s) for s in shown
            ), shown
    plt.close("all")


def test_several_accounts_are_refused_not_joined_into_one_line(
    families: dict[str, pd.DataFrame],
) -> None:
    two = pd.concat([families["biz"].assign(account="a"), families["biz"].assign(account="b")])
    for plot in (wxframe.plot_channel_mix, wxframe.plot_engagement):
        with pytest.raises(wxframe.ConfigurationError, match="several accounts"):
            plot(two)
    plt.close("all")
