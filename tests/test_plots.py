"""The plots under Agg: what is drawn (areas, lines, bars, labels), not just no exception."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

import wxframe
from wxframe import (
    ConfigurationError,
    FrameShapeError,
    MissingFontWarning,
    add_rates,
    article_lifecycle,
    follower_growth,
    plot_article_decay,
    plot_channel_mix,
    plot_hourly_heatmap,
    plot_share_scenes,
    plot_top_articles,
)
from wxframe.datasets import open_demo_store
from wxframe.simulator import serve

HAS_CJK = wxframe.cjk_font() is not None


def _render(ax: plt.Axes) -> list[warnings.WarningMessage]:
    """Draw the figure, returning every warning drawing raised (glyph warnings included)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax.figure.canvas.draw()
    return list(caught)


def _legend(ax: plt.Axes) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


plot_engagement = wxframe.plot_engagement


plot_dropoff = wxframe.plot_dropoff


plot_followers = wxframe.plot_followers


def test_channel_mix_draws_one_area_per_channel(plot_frames: dict) -> None:
    ax = plot_channel_mix(plot_frames["read"])
    areas = [c for c in ax.collections if isinstance(c, PolyCollection)]
    channels = ["messages", "chats", "Moments", "account page", "other", "Top Stories", "Search"]
    assert len(areas) == len(channels)
    assert _legend(ax) == channels  # the all row is not a channel; English names by default
    assert ax.get_ylabel() == "share of reads"
    assert ax.get_ylim() == (0.0, 1.0)
    assert not _render(ax)
    # the top of the stack is 1 on every day: fractions of the channels' sum
    top = areas[-1].get_paths()[0].vertices[:, 1]
    assert np.allclose(top.max(), 1.0)


def test_channel_mix_counts_into_a_given_axes_and_hourly_input(plot_frames: dict) -> None:
    _, given = plt.subplots()
    ax = plot_channel_mix(plot_frames["read_hour"], "int_page_read_user", normalize=False, ax=given)
    assert ax is given
    assert ax.get_ylabel() == "readers"
    assert len(_legend(ax)) == 7


def test_chinese_channel_names_fall_back_with_a_single_warning(plot_frames: dict) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = plot_channel_mix(plot_frames["read"], labels="zh")
        drawn = _render(ax)
    font_warnings = [w for w in caught if issubclass(w.category, MissingFontWarning)]
    if HAS_CJK:
        assert _legend(ax)[0] == "公众号消息" and not font_warnings
    else:
        assert _legend(ax)[0] == "messages"
        assert len(font_warnings) == 1
        assert "fonts-noto-cjk" in str(font_warnings[0].message)
    assert not [w for w in drawn if "Glyph" in str(w.message)]


def test_hourly_heatmap_is_weekday_by_hour_means(plot_frames: dict) -> None:
    ax = plot_hourly_heatmap(plot_frames["read_hour"])
    grid = ax.images[0].get_array()
    assert grid.shape == (7, 24)
    hour = plot_frames["read_hour"]
    rows = hour[(hour["channel"] == "all") & (hour["ref_hour"] == 20)]
    mondays = rows[rows["ref_date"].dt.day_of_week == 0]["int_page_read_count"]
    assert grid[0, 20] == pytest.approx(float(mondays.mean()))
    assert ax.get_xlabel() == "hour (Beijing time)" and ax.get_ylabel() == "weekday"
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == ["Mon", "Tue"]
    assert len(ax.figure.axes) == 2  # the colour bar


def test_article_decay_draws_a_line_per_article_reaching_one(plot_frames: dict) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = plot_article_decay(plot_frames["total"], n=6)
        drawn = _render(ax)
    lines = ax.get_lines()
    assert len(lines) == 6
    life = article_lifecycle(plot_frames["total"])
    top = life[life["complete"]].head(6)  # only articles whose 7 days are over
    for line in lines:
        x, y = line.get_data()
        assert list(x) == list(range(7))
        assert y[-1] == pytest.approx(1.0)
        assert np.all(np.diff(y) >= 0)
    labels = _legend(ax)
    font_warnings = [w for w in caught if issubclass(w.category, MissingFontWarning)]
    if HAS_CJK:
        assert labels[0] == top["title"].iloc[0][:18] or labels[0].endswith("…")
    else:
        assert labels == top["msgid"].tolist()
        assert len(font_warnings) == 1
    assert not [w for w in drawn if "Glyph" in str(w.message)]
    assert ax.get_xlabel() == "days after sending"


def test_article_decay_daily_and_chosen_articles(plot_frames: dict) -> None:
    msgids = plot_frames["total"]["msgid"].unique()[:2].tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingFontWarning)
        ax = plot_article_decay(plot_frames["total"], msgids=msgids, cumulative=False)
    daily = wxframe.to_daily(plot_frames["total"])
    first = daily[daily["msgid"] == msgids[0]]["int_page_read_count_daily"].astype(float).tolist()
    drawn = {tuple(line.get_ydata()) for line in ax.get_lines()}
    assert tuple(first) in drawn
    with pytest.raises(ConfigurationError, match="not in the frame"):
        plot_article_decay(plot_frames["total"], msgids=["nope_1"])


def test_top_articles_bars_are_the_largest_in_order(plot_frames: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingFontWarning)
        ax = plot_top_articles(plot_frames["total"], n=5, by="share_count")
    widths = [p.get_width() for p in ax.patches]
    best = article_lifecycle(plot_frames["total"])["share_count"].sort_values().tail(5)
    assert widths == best.astype(float).tolist()  # bottom to top: the largest on top
    assert ax.get_xlabel() == "share_count"
    assert len(ax.get_yticklabels()) == 5
    with pytest.raises(ConfigurationError, match="by='nope'"):
        plot_top_articles(plot_frames["total"], by="nope")


def test_share_scenes_draws_three_areas(plot_frames: dict) -> None:
    ax = plot_share_scenes(plot_frames["share"])
    areas = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(areas) == 3
    assert _legend(ax) == ["chats", "Moments", "other"]  # the scenes' English names
    assert ax.get_ylabel() == "share_count"


def test_a_named_font_file_draws_titles_as_text(
    plot_frames: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    monkeypatch.setenv("WXFRAME_CJK_FONT", str(font))
    assert wxframe.cjk_font() == "DejaVu Sans"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = plot_top_articles(plot_frames["total"], n=3)
    assert not [w for w in caught if issubclass(w.category, MissingFontWarning)]
    titles = article_lifecycle(plot_frames["total"])["title"].head(3).tolist()[::-1]
    assert [t.get_text() for t in ax.get_yticklabels()] == titles
    monkeypatch.setenv("WXFRAME_CJK_FONT", "/no/such/font.ttf")
    with pytest.raises(ConfigurationError, match="not a font file"):
        wxframe.cjk_font()


def test_plots_refuse_frames_of_the_wrong_shape(plot_frames: dict) -> None:
    with pytest.raises(FrameShapeError, match="looks like a getusershare frame"):
        plot_channel_mix(plot_frames["share"])
    with pytest.raises(FrameShapeError, match="ref_hour"):
        plot_hourly_heatmap(plot_frames["read"])
    with pytest.raises(FrameShapeError, match="getarticletotal"):
        plot_article_decay(plot_frames["read"])
    with pytest.raises(ConfigurationError, match="n=0"):
        plot_article_decay(plot_frames["total"], n=0)


def test_plot_engagement_over_time_and_per_article(current_frames: dict) -> None:
    ax = plot_engagement(current_frames["biz"], ["like_rate", "comment_rate"], linestyle="--")
    lines = ax.get_lines()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["like_rate", "comment_rate"]
    assert all(line.get_linestyle() == "--" for line in lines)
    biz = add_rates(current_frames["biz"])
    expected = biz[biz["channel"] == "all"].sort_values("ref_date")["like_rate"]
    assert np.allclose(lines[0].get_ydata(), expected.to_numpy(dtype=float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wxframe.MissingFontWarning)
        bars = plot_engagement(current_frames["detail"], ["like_rate"], n=4, color="tab:red")
    assert len(bars.patches) == 4
    assert bars.patches[0].get_facecolor() == matplotlib.colors.to_rgba("tab:red")
    with pytest.raises(ConfigurationError, match=r"rates \['fav_rate'\].*like_rate"):
        plot_engagement(current_frames["biz"], ["fav_rate"])
    plt.close("all")


def test_plot_dropoff_draws_each_articles_jump_profile(current_frames: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wxframe.MissingFontWarning)
        ax = plot_dropoff(current_frames["detail"], n=3, linewidth=4)
    life = article_lifecycle(current_frames["detail"]).head(3)
    for line, (_, row) in zip(ax.get_lines(), life.iterrows(), strict=True):
        assert line.get_linewidth() == 4
        expected = [row[f"jump_rate_{p}"] for p in range(1, 6)]
        got = line.get_ydata()
        for e, g in zip(expected, got, strict=True):
            assert g == (0.0 if pd.isna(e) else pytest.approx(e))  # unlisted: nobody left
    assert ax.get_xticklabels()[0].get_text() == "0-20%"
    plt.close("all")


def test_plot_followers_bars_are_net_growth_and_the_line_the_total(current_frames: dict) -> None:
    ax = plot_followers(current_frames["followers"], current_frames["cumulate"], alpha=0.4)
    growth = follower_growth(current_frames["followers"], current_frames["cumulate"])
    assert [p.get_height() for p in ax.patches] == growth["net_user"].astype(float).tolist()
    assert all(p.get_alpha() == 0.4 for p in ax.patches)
    total = ax.right.get_lines()[0].get_ydata()  # type: ignore[attr-defined]
    assert total.tolist() == growth["cumulate_user"].astype(float).tolist()
    plt.close("all")


def test_every_plot_passes_a_matplotlib_keyword_on(current_frames: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wxframe.MissingFontWarning)
        mix = wxframe.plot_channel_mix(current_frames["biz"], alpha=0.25)
        areas = [c for c in mix.collections if isinstance(c, PolyCollection)]
        assert len(areas) == 7 and all(a.get_alpha() == 0.25 for a in areas)
        decay = wxframe.plot_article_decay(current_frames["detail"], n=3, linewidth=5)
        assert [line.get_linewidth() for line in decay.get_lines()] == [5, 5, 5]
        assert decay.get_xlabel() == "days after publishing"
        assert all(line.get_xdata()[-1] == 29 for line in decay.get_lines())
        top = wxframe.plot_top_articles(current_frames["detail"], n=4, color="tab:olive")
        olive = matplotlib.colors.to_rgba("tab:olive")
        assert len(top.patches) == 4 and all(p.get_facecolor() == olive for p in top.patches)
    with serve(seed=0, today="2024-06-01") as old:
        hour = wxframe.load_user_read_hour(old.client(), "2024-05-01", "2024-05-07")
        share = wxframe.load_user_share(old.client(), "2024-05-01", "2024-05-07")
    heat = wxframe.plot_hourly_heatmap(hour, cmap="magma", cbar=False, alpha=0.5)
    assert heat.images[0].get_cmap().name == "magma" and heat.images[0].get_alpha() == 0.5
    assert len(heat.figure.axes) == 1  # no colour bar
    scenes = wxframe.plot_share_scenes(share, hatch="//")
    assert all(c.get_hatch() == "//" for c in scenes.collections if isinstance(c, PolyCollection))
    plt.close("all")


@pytest.mark.parametrize("font", ["installed", "none"])
def test_articles_marked_by_the_callers_names_whatever_the_fonts(
    font: str, plot_frames: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The report marks articles A1, A2, ... and gives their titles in the HTML beside
    # the plot: the marks are drawn the same with or without a CJK font, without a warning.
    if font == "none":
        monkeypatch.setenv("WXFRAME_CJK_FONT", "none")  # as on a machine without one
    detail = open_demo_store().read("getarticletotaldetail", "2025-11-01", "2025-11-20")
    life = add_rates(article_lifecycle(detail))
    marks = {m: f"A{k}" for k, m in enumerate(life["msgid"], start=1)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dropoff = plot_dropoff(detail, msgids=life["msgid"].head(3).tolist(), names=marks)
        decay = plot_article_decay(detail, n=4, names=marks)
        top = plot_top_articles(detail, n=5, names=marks)
        rates = plot_engagement(detail, ["share_rate"], n=3, names=marks)
        drawn = [w for ax in (dropoff, decay, top, rates) for w in _render(ax)]
    assert _legend(dropoff) == ["A1", "A2", "A3"]
    finished = life[life["complete"]].head(4)["msgid"]
    assert _legend(decay) == [marks[m] for m in finished]
    assert [t.get_text() for t in top.get_yticklabels()] == ["A5", "A4", "A3", "A2", "A1"]
    assert [t.get_text() for t in rates.get_yticklabels()] == ["A3", "A2", "A1"]
    assert not [w for w in caught if issubclass(w.category, MissingFontWarning)]
    assert not [w for w in drawn if "Glyph" in str(w.message)]
    with pytest.raises(ConfigurationError, match=r"names= has no mark for msgids \['"):
        plot_dropoff(detail, n=2, names={})
