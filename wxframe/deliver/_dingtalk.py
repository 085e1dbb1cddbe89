"""``type = "dingtalk"``: a DingTalk (钉钉) custom robot. One markdown message: the
summary and alerts, and a link to the report when the config says where it is published
(a robot cannot carry a file). Signed when a secret is given."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote_plus, urlsplit

from wxframe.client import RetryPolicy
from wxframe.deliver._base import register, secret_from
from wxframe.deliver._http import (
    TIMEOUT,
    Pacer,
    Platform,
    RobotDestination,
    check_link,
    check_webhook,
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
class DingTalk(RobotDestination):
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
    keys: ClassVar[tuple[str, ...]] = ("webhook_env", "secret_env", "link")
    platform: ClassVar[Platform] = DINGTALK
    limits: ClassVar[tuple[tuple[int, float], ...]] = ((20, 61.0),)

    def __init__(
        self,
        name: str,
        webhook: str,
        *,
        secret: str = "",
        link: str | None = None,
        webhook_env: str = "",
        secret_env: str = "",
        alerts: bool = True,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        timeout: float = TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_webhook(name, self.kind, webhook_env or "given", webhook)
        token = urlsplit(webhook).query
        super().__init__(
            name, secrets=[webhook, token, secret], alerts=alerts, retry=retry, pacer=pacer,
            timeout=timeout,
        )  # fmt: skip
        self._webhook = webhook
        self._secret = secret
        self.link = check_link(name, self.kind, link)
        self.webhook_env = webhook_env
        self.secret_env = secret_env
        self.clock = clock

    @classmethod
    def from_config(cls, name: str, table: Mapping[str, Any]) -> DingTalk:
        return cls(
            name,
            secret_from(name, table, "webhook_env"),
            secret=secret_from(name, table, "secret_env", required=False),
            link=table.get("link"),
            webhook_env=str(table["webhook_env"]),
            secret_env=str(table.get("secret_env", "")),
            alerts=table.get("alerts", True),
        )

    def describe(self) -> str:
        signed = f"signed with ${self.secret_env}" if self._secret else "unsigned"
        link = f", linking {self.link}" if self.link else ""
        return (
            f"{self.name} (dingtalk): summary (markdown){link} to the robot at "
            f"{urlsplit(self._webhook).netloc} whose address ${self.webhook_env or '?'} "
            f"holds, {signed}"
        )

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
