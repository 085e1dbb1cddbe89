"""wxframe: WeChat Official Account article analytics as tidy, typed pandas DataFrames."""

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

__version__ = "0.1.0"

__all__ = [
    "ENDPOINTS",
    "AccessDeniedError",
    "ApiError",
    "BusyError",
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
    "StoreError",
    "StoreLockedError",
    "SyncIncomplete",
    "TokenError",
    "TransportError",
    "UnknownEndpointError",
    "Window",
    "WxframeError",
    "__version__",
    "plan_windows",
]
