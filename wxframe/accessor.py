"""The ``df.wx`` accessor: the analysis helpers and plots as methods of a frame.

Registered when :mod:`wxframe` is imported. Each method checks, when called, that the
frame has the columns it needs and names what is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from wxframe import analysis, plots
from wxframe.frames import endpoint_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["WxAccessor"]


@pd.api.extensions.register_dataframe_accessor("wx")
class WxAccessor:
    """wxframe's helpers on any DataFrame: ``df.wx.pivot_channels()``, ``df.wx.to_daily()``...

    Examples
    --------
    >>> from datetime import date
    >>> import wxframe
    >>> from wxframe.simulator import SimulatedAccount
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> read = wxframe.to_frame("getuserread", acct.user_read(date(2024, 5, 1), date(2024, 5, 3)))
    >>> read.wx.kind
    'getuserread'
    >>> read.wx.pivot_channels(share=True).shape
    (3, 7)
    >>> read.wx.to_daily()
    Traceback (most recent call last):
    ...
    wxframe.errors.FrameShapeError: to_daily needs a getarticletotal frame ...
    """

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    @property
    def kind(self) -> str | None:
        """The endpoint whose frame this looks like, or None."""
        spec = endpoint_of(self._df)
        return spec.name if spec is not None else None

    def pivot_channels(self, *args: Any, **kwargs: Any) -> pd.DataFrame:
        """:func:`wxframe.pivot_channels` on this frame."""
        return analysis.pivot_channels(self._df, *args, **kwargs)

    def pivot_scenes(self, *args: Any, **kwargs: Any) -> pd.DataFrame:
        """:func:`wxframe.pivot_scenes` on this frame."""
        return analysis.pivot_scenes(self._df, *args, **kwargs)

    def to_daily(self) -> pd.DataFrame:
        """:func:`wxframe.to_daily` on this frame."""
        return analysis.to_daily(self._df)

    def to_cumulative(self) -> pd.DataFrame:
        """:func:`wxframe.to_cumulative` on this frame."""
        return analysis.to_cumulative(self._df)

    def add_rates(self) -> pd.DataFrame:
        """:func:`wxframe.add_rates` on this frame."""
        return analysis.add_rates(self._df)

    def article_lifecycle(self, **kwargs: Any) -> pd.DataFrame:
        """:func:`wxframe.article_lifecycle` on this frame."""
        return analysis.article_lifecycle(self._df, **kwargs)

    def plot_channel_mix(self, *args: Any, **kwargs: Any) -> Axes:
        """:func:`wxframe.plot_channel_mix` on this frame."""
        return plots.plot_channel_mix(self._df, *args, **kwargs)

    def plot_hourly_heatmap(self, *args: Any, **kwargs: Any) -> Axes:
        """:func:`wxframe.plot_hourly_heatmap` on this frame."""
        return plots.plot_hourly_heatmap(self._df, *args, **kwargs)

    def plot_article_decay(self, **kwargs: Any) -> Axes:
        """:func:`wxframe.plot_article_decay` on this frame."""
        return plots.plot_article_decay(self._df, **kwargs)

    def plot_top_articles(self, **kwargs: Any) -> Axes:
        """:func:`wxframe.plot_top_articles` on this frame."""
        return plots.plot_top_articles(self._df, **kwargs)

    def plot_share_scenes(self, *args: Any, **kwargs: Any) -> Axes:
        """:func:`wxframe.plot_share_scenes` on this frame."""
        return plots.plot_share_scenes(self._df, *args, **kwargs)
