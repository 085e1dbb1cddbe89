"""``type = "dingtalk"``: a DingTalk (钉钉) custom robot. One markdown message: the
summary and alerts, and a link to the report when the config says where it is published
(a robot cannot carry a file). Signed when a secret is given."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import ClassVar
from urllib.parse import quote_plus, urlsplit

from wxframe.deliver._base import register
from wxframe.deliver._http import (
    Platform,
    SignedWebhook,
    with_link,
)
from wxframe.deliver._message import Message

__all__ = ["DingTalk", "dingtalk_sign"]

#: DingTalk documents no markdown size; a summary is a few lines, kept as WeCom's.
MARKDOWN_LIMIT = 4096

DINGTALK = Platform(
    "dingtalk",
    rate_limit=frozenset({130101}),
    advice={
        310000: "DingTalk refused the robot's security check: the signing secret (secret_env) "
        "must be the robot's 加签 secret, a custom keyword must appear in the message, or this "
        "machine's IP must be on the robot's whitelist",
        300001: "the access_token in the webhook address is not a robot's: copy the address "
        "again from the group's robot settings",
        400101: "the robot is switched off or removed from the group",
    },
)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign``: base64 of HMAC-SHA256 keyed by the secret over
    ``"{timestamp}\\n{secret}"``, URL-encoded (it goes in the query).

    >>> dingtalk_sign("SECxyz", 1700000000000)
    '0PUR1j8g85Xg3vlFV%2FUrEcxXfF5HpCAGzcjrNfyJoyg%3D'
    """
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return quote_plus(base64.b64encode(digest.digest()).decode())


@register
class DingTalk(SignedWebhook):
    """A DingTalk custom robot (20 messages a minute, paced here).

    Config: ``webhook_env`` (the variable holding the whole webhook address: its
    access_token is a secret), ``secret_env`` (the robot's signing secret, if it signs),
    ``link`` (where the report is published; may hold ``{account}``, ``{begin}``,
    ``{end}``).

    >>> url = "https://oapi.dingtalk.com/robot/send?access_token=abc123"
    >>> robot = DingTalk("ops", url, webhook_env="DINGTALK_URL")
    >>> print(robot.describe())
    ops (dingtalk): summary (markdown) to the robot at oapi.dingtalk.com
    whose address $DINGTALK_URL holds, unsigned
    """

    kind: ClassVar[str] = "dingtalk"
    platform: ClassVar[Platform] = DINGTALK
    limits: ClassVar[tuple[tuple[int, float], ...]] = ((20, 61.0),)

    @staticmethod
    def token_of(webhook: str) -> str:
        return urlsplit(webhook).query

    def _signed_url(self) -> str:
        if not self._secret:
            return self._webhook
        timestamp = int(self.clock() * 1000)
        joiner = "&" if urlsplit(self._webhook).query else "?"
        sign = dingtalk_sign(self._secret, timestamp)
        return f"{self._webhook}{joiner}timestamp={timestamp}&sign={sign}"

    def send(self, message: Message) -> None:
        message = with_link(message, self.link)
        payload = {
            "msgtype": "markdown",
            "markdown": {"title": message.subject, "text": message.markdown(limit=MARKDOWN_LIMIT)},
        }
        self.deliver(self._signed_url(), "summary", payload)
