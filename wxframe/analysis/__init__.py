"""Answers to the weekly questions, one call each, on the loaders' and the store's frames.

Both families and the followers, one module a topic:

- :mod:`~wxframe.analysis.pivots`: which channels bring readers
  (:func:`pivot_channels`), where shares go (:func:`pivot_scenes`), what brings
  followers (:func:`pivot_sources`);
- :mod:`~wxframe.analysis.daily`: running totals as daily increments and back
  (:func:`to_daily`, :func:`to_cumulative`);
- :mod:`~wxframe.analysis.rates`: engagement rates (:func:`add_rates`);
- :mod:`~wxframe.analysis.lifecycle`: how an article's readers come and go
  (:func:`article_lifecycle`);
- :mod:`~wxframe.analysis.followers`: growth and churn (:func:`follower_growth`);
- :mod:`~wxframe.analysis.articles`: how each article does: its open rate
  (:func:`open_rate`), the followers it brings (:func:`conversion`), its readers from
  推荐 and 搜一搜 (:func:`recommendation_share`);
- :mod:`~wxframe.analysis.placement`: the headline slot against the later ones
  (:func:`by_slot`), the weekday of publishing (:func:`by_weekday`);
- :mod:`~wxframe.analysis.consistency`: whether the numbers agree
  (:func:`check_consistency`).

Every helper checks the shape of the frame it is given and says what it expected.
"""

from wxframe.analysis.articles import DEFAULT_DAYS, conversion, open_rate, recommendation_share
from wxframe.analysis.consistency import check_consistency
from wxframe.analysis.daily import CUMULATIVE_COLUMNS, DAILY_SUFFIX, to_cumulative, to_daily
from wxframe.analysis.followers import follower_growth
from wxframe.analysis.lifecycle import ARTICLE_CHANNELS, article_lifecycle
from wxframe.analysis.pivots import pivot_channels, pivot_scenes, pivot_sources
from wxframe.analysis.placement import by_slot, by_weekday
from wxframe.analysis.rates import RATES, add_rates

__all__ = [
    "ARTICLE_CHANNELS",
    "CUMULATIVE_COLUMNS",
    "DAILY_SUFFIX",
    "DEFAULT_DAYS",
    "RATES",
    "add_rates",
    "article_lifecycle",
    "by_slot",
    "by_weekday",
    "check_consistency",
    "conversion",
    "follower_growth",
    "open_rate",
    "pivot_channels",
    "pivot_scenes",
    "pivot_sources",
    "recommendation_share",
    "to_cumulative",
    "to_daily",
]
