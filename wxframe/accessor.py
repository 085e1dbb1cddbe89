"""The ``df.wx`` accessor: the analysis helpers and plots as methods of a frame.

Registered when :mod:`wxframe` is imported. Each method is the helper of the same name,
with its signature (for completion and type checks), on this frame; each checks, when
called, that the frame has the columns it needs and names what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from wxframe import analysis, plots
from wxframe.analysis.common import Labels
from wxframe.endpoints import Lang
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
    >>> from wxframe.simulator import SimulatedAccount, records
    >>> acct = SimulatedAccount(seed=0, today=date(2024, 6, 1))
    >>> raw = records(acct, "getuserread", date(2024, 5, 1), date(2024, 5, 3))
    >>> read = wxframe.to_frame("getuserread", raw)
    >>> read.wx.kind
    'getuserread'
    >>> read.wx.pivot_channels(normalize=True).shape
    (3, 7)
    >>> read.wx.to_daily()
    Traceback (most recent call last):
    ...
    wxframe.errors.FrameShapeError: to_daily needs ... this looks like a getuserread frame, ...
    """

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    @property
    def kind(self) -> str | None:
        """The endpoint whose frame this looks like, or None."""
        spec = endpoint_of(self._df)
        return spec.name if spec is not None else None

    def pivot_channels(
        self,
        values: str | None = None,
        *,
        include_all: bool = False,
        normalize: bool = False,
        labels: Labels = None,
    ) -> pd.DataFrame:
        """:func:`wxframe.pivot_channels` on this frame."""
        return analysis.pivot_channels(
            self._df, values, include_all=include_all, normalize=normalize, labels=labels
        )

    def pivot_scenes(
        self, values: str = "share_count", *, normalize: bool = False, labels: Labels = None
    ) -> pd.DataFrame:
        """:func:`wxframe.pivot_scenes` on this frame."""
        return analysis.pivot_scenes(self._df, values, normalize=normalize, labels=labels)

    def pivot_sources(
        self, values: str = "new_user", *, normalize: bool = False, labels: Labels = None
    ) -> pd.DataFrame:
        """:func:`wxframe.pivot_sources` on this frame."""
        return analysis.pivot_sources(self._df, values, normalize=normalize, labels=labels)

    def to_daily(self) -> pd.DataFrame:
        """:func:`wxframe.to_daily` on this frame."""
        return analysis.to_daily(self._df)

    def to_cumulative(self) -> pd.DataFrame:
        """:func:`wxframe.to_cumulative` on this frame."""
        return analysis.to_cumulative(self._df)

    def add_rates(self) -> pd.DataFrame:
        """:func:`wxframe.add_rates` on this frame."""
        return analysis.add_rates(self._df)

    def article_lifecycle(self, *, horizon: int | None = None) -> pd.DataFrame:
        """:func:`wxframe.article_lifecycle` on this frame."""
        return analysis.article_lifecycle(self._df, horizon=horizon)

    def follower_growth(self, cumulate: pd.DataFrame | None = None) -> pd.DataFrame:
        """:func:`wxframe.follower_growth` on this (getusersummary) frame."""
        return analysis.follower_growth(self._df, cumulate)

    def open_rate(
        self,
        *,
        followers: pd.DataFrame | None = None,
        reads: pd.DataFrame | None = None,
        days: int = analysis.DEFAULT_DAYS,
        labels: Labels = None,
    ) -> pd.DataFrame:
        """:func:`wxframe.open_rate` on this (getarticletotaldetail) frame."""
        return analysis.open_rate(
            self._df, followers=followers, reads=reads, days=days, labels=labels
        )

    def conversion(
        self, *, followers: pd.DataFrame | None = None, labels: Labels = None
    ) -> pd.DataFrame:
        """:func:`wxframe.conversion` on this (getarticletotaldetail) frame."""
        return analysis.conversion(self._df, followers=followers, labels=labels)

    def by_slot(
        self, *, days: int = analysis.DEFAULT_DAYS, pool: bool = False, labels: Labels = None
    ) -> pd.DataFrame:
        """:func:`wxframe.by_slot` on this frame."""
        return analysis.by_slot(self._df, days=days, pool=pool, labels=labels)

    def by_weekday(
        self, *, days: int = analysis.DEFAULT_DAYS, labels: Labels = None
    ) -> pd.DataFrame:
        """:func:`wxframe.by_weekday` on this frame."""
        return analysis.by_weekday(self._df, days=days, labels=labels)

    def recommendation_share(
        self, *, by: Literal["day", "article"] = "day", labels: Labels = None
    ) -> pd.DataFrame:
        """:func:`wxframe.recommendation_share` on this frame."""
        return analysis.recommendation_share(self._df, by=by, labels=labels)

    def plot_channel_mix(
        self,
        values: str | None = None,
        *,
        normalize: bool = True,
        labels: Labels = "en",
        lang: Lang | None = None,
        ax: Axes | None = None,
        **kwargs: Any,
    ) -> Axes:
        """:func:`wxframe.plot_channel_mix` on this frame."""
        return plots.plot_channel_mix(
            self._df, values, normalize=normalize, labels=labels, lang=lang, ax=ax, **kwargs
        )

    def plot_hourly_heatmap(
        self,
        values: str = "int_page_read_count",
        *,
        cmap: str = "viridis",
        cbar: bool = True,
        ax: Axes | None = None,
        **kwargs: Any,
    ) -> Axes:
        """:func:`wxframe.plot_hourly_heatmap` on this frame."""
        return plots.plot_hourly_heatmap(self._df, values, cmap=cmap, cbar=cbar, ax=ax, **kwargs)

    def plot_article_decay(
        self,
        *,
        n: int = 8,
        msgids: Sequence[str] | None = None,
        cumulative: bool = True,
        names: Mapping[str, str] | None = None,
        ax: Axes | None = None,
        **kwargs: Any,
    ) -> Axes:
        """:func:`wxframe.plot_article_decay` on this frame."""
        return plots.plot_article_decay(
            self._df, n=n, msgids=msgids, cumulative=cumulative, names=names, ax=ax, **kwargs
        )

    def plot_top_articles(
        self,
        *,
        n: int = 10,
        by: str | None = None,
        names: Mapping[str, str] | None = None,
        ax: Axes | None = None,
        **kwargs: Any,
    ) -> Axes:
        """:func:`wxframe.plot_top_articles` on this frame."""
        return plots.plot_top_articles(self._df, n=n, by=by, names=names, ax=ax, **kwargs)

    def plot_share_scenes(
        self,
        values: str = "share_count",
        *,
        normalize: bool = False,
        labels: Labels = "en",
        lang: Lang | None = None,
        ax: Axes | None = None,
        **kwargs: Any,
    ) -> Axes:
        """:func:`wxframe.plot_share_scenes` on this frame."""
        return plots.plot_share_scenes(
            self._df, values, normalize=normalize, labels=labels, lang=lang, ax=ax, **kwargs
        )

    def plot_engagement(
        self,
        rates: Sequence[str] | None = None,
        *,
        n: int = 10,
        names: Mapping[str, str] | None = None,
        lang: Lang | None = None,
        ax: Axes | None = None,
        **kwargs: Any,
    ) -> Axes:
        """:func:`wxframe.plot_engagement` on this frame."""
        return plots.plot_engagement(self._df, rates, n=n, names=names, lang=lang, ax=ax, **kwargs)

    def plot_dropoff(
        self,
        *,
        n: int = 5,
        msgids: Sequence[str] | None = None,
        names: Mapping[str, str] | None = None,
        ax: Axes | None = None,
        **kwargs: Any,
    ) -> Axes:
        """:func:`wxframe.plot_dropoff` on this frame."""
        return plots.plot_dropoff(self._df, n=n, msgids=msgids, names=names, ax=ax, **kwargs)

    def plot_followers(
        self,
        cumulate: pd.DataFrame | None = None,
        *,
        lang: Lang | None = None,
        ax: Axes | None = None,
        **kwargs: Any,
    ) -> Axes:
        """:func:`wxframe.plot_followers` on this (getusersummary) frame."""
        return plots.plot_followers(self._df, cumulate, lang=lang, ax=ax, **kwargs)
