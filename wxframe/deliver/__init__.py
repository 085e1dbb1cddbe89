"""Delivering a report where a team reads it: WeCom, DingTalk and Feishu group robots,
mail, a folder. ``wxframe run`` builds one :class:`Message` per account and period and
hands it to each :class:`Destination` of its config.

Each kind lives in a module of its own and registers itself in :data:`DESTINATIONS`;
secrets come only from environment variables the config names (:func:`secret_from`).
"""

from __future__ import annotations

from wxframe.deliver._base import DESTINATIONS, Destination, make_destination, secret_from
from wxframe.deliver._dingtalk import DingTalk, dingtalk_sign
from wxframe.deliver._email import Email
from wxframe.deliver._feishu import Feishu, feishu_sign
from wxframe.deliver._folder import Folder
from wxframe.deliver._http import Pacer, RobotDestination, redact
from wxframe.deliver._message import Alert, Message, fit_bytes
from wxframe.deliver._wecom import WeCom

__all__ = [
    "DESTINATIONS",
    "Alert",
    "Destination",
    "DingTalk",
    "Email",
    "Feishu",
    "Folder",
    "Message",
    "Pacer",
    "RobotDestination",
    "WeCom",
    "dingtalk_sign",
    "feishu_sign",
    "fit_bytes",
    "make_destination",
    "redact",
    "secret_from",
]
