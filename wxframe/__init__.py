"""wxframe: WeChat Official Account article analytics as tidy, typed pandas DataFrames."""

from wxframe.accessor import WxAccessor
from wxframe.analysis import (
    add_rates,
    article_lifecycle,
    check_consistency,
    pivot_channels,
    pivot_scenes,
    to_cumulative,
    to_daily,
)
from wxframe.client import Client
from wxframe.dates import Window
from wxframe.endpoints import (
    CURRENT_ENDPOINTS,
    ENDPOINTS,
    OFFLINE_ENDPOINTS,
    ChannelRows,
    Columns,
    Endpoint,
    Field,
    Positions,
    Rows,
    plan_windows,
)
from wxframe.errors import (
    AccessDeniedError,
    ApiError,
    BusyError,
    ConfigurationError,
    CredentialError,
    DataNotReadyError,
    EndpointOfflineError,
    FrameShapeError,
    IncompleteDataWarning,
    InvalidDateError,
    MalformedResponseError,
    NonJSONResponseError,
    QuotaExceededError,
    RangeClippedWarning,
    RateLimitError,
    RequestRejectedError,
    StoreError,
    StoreLockedError,
    SyncIncomplete,
    TokenError,
    TransportError,
    UnknownEndpointError,
    WxframeError,
    WxframeWarning,
)
from wxframe.frames import to_frame
from wxframe.loaders import LOADERS, Loader, load, load_many, make_loader
from wxframe.plots import (
    MissingFontWarning,
    cjk_font,
    plot_article_decay,
    plot_channel_mix,
    plot_hourly_heatmap,
    plot_share_scenes,
    plot_top_articles,
)
from wxframe.store import Store, SyncSummary

__version__ = "0.1.0"

# One loader per registry entry (load_biz_summary, load_user_read, ...), made from it.
globals().update(LOADERS)

__all__ = [
    "CURRENT_ENDPOINTS",
    "ENDPOINTS",
    "LOADERS",
    "OFFLINE_ENDPOINTS",
    "AccessDeniedError",
    "ApiError",
    "BusyError",
    "ChannelRows",
    "Client",
    "Columns",
    "ConfigurationError",
    "CredentialError",
    "DataNotReadyError",
    "Endpoint",
    "EndpointOfflineError",
    "Field",
    "FrameShapeError",
    "IncompleteDataWarning",
    "InvalidDateError",
    "Loader",
    "MalformedResponseError",
    "MissingFontWarning",
    "NonJSONResponseError",
    "Positions",
    "QuotaExceededError",
    "RangeClippedWarning",
    "RateLimitError",
    "RequestRejectedError",
    "Rows",
    "Store",
    "StoreError",
    "StoreLockedError",
    "SyncIncomplete",
    "SyncSummary",
    "TokenError",
    "TransportError",
    "UnknownEndpointError",
    "Window",
    "WxAccessor",
    "WxframeError",
    "WxframeWarning",
    "__version__",
    "add_rates",
    "article_lifecycle",
    "check_consistency",
    "cjk_font",
    "load",
    "load_many",
    "make_loader",
    "pivot_channels",
    "pivot_scenes",
    "plan_windows",
    "plot_article_decay",
    "plot_channel_mix",
    "plot_hourly_heatmap",
    "plot_share_scenes",
    "plot_top_articles",
    "to_cumulative",
    "to_daily",
    "to_frame",
]
# The loaders made from the registry are public too, in the same order.
__all__ = sorted({*__all__, *LOADERS}, key=lambda name: (not name.isupper(), name))
