"""wxframe: WeChat Official Account article analytics as tidy, typed pandas DataFrames."""

from wxframe.client import Client
from wxframe.dates import Window, plan_windows
from wxframe.endpoints import ENDPOINTS, Endpoint, Field
from wxframe.errors import (
    AccessDeniedError,
    ApiError,
    BusyError,
    ConfigurationError,
    CredentialError,
    DataNotReadyError,
    FrameShapeError,
    IncompleteDataWarning,
    InvalidDateError,
    MalformedResponseError,
    NonJSONResponseError,
    QuotaExceededError,
    RateLimitError,
    RequestRejectedError,
    StoreError,
    StoreLockedError,
    SyncIncomplete,
    TokenError,
    TransportError,
    UnknownEndpointError,
    WxframeError,
)
from wxframe.frames import to_frame
from wxframe.loaders import (
    load,
    load_article_summary,
    load_article_total,
    load_user_read,
    load_user_read_hour,
    load_user_share,
    load_user_share_hour,
)
from wxframe.store import Store, SyncSummary

__version__ = "0.1.0"

__all__ = [
    "ENDPOINTS",
    "AccessDeniedError",
    "ApiError",
    "BusyError",
    "Client",
    "ConfigurationError",
    "CredentialError",
    "DataNotReadyError",
    "Endpoint",
    "Field",
    "FrameShapeError",
    "IncompleteDataWarning",
    "InvalidDateError",
    "MalformedResponseError",
    "NonJSONResponseError",
    "QuotaExceededError",
    "RateLimitError",
    "RequestRejectedError",
    "Store",
    "StoreError",
    "StoreLockedError",
    "SyncIncomplete",
    "SyncSummary",
    "TokenError",
    "TransportError",
    "UnknownEndpointError",
    "Window",
    "WxframeError",
    "__version__",
    "load",
    "load_article_summary",
    "load_article_total",
    "load_user_read",
    "load_user_read_hour",
    "load_user_share",
    "load_user_share_hour",
    "plan_windows",
    "to_frame",
]
