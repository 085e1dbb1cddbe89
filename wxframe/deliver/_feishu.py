"""``type = "feishu"``: a Feishu/Lark custom bot. One message (rich text ``post`` or
plain ``text``): the summary and alerts, and a link to the report when the config says
where it is published (a bot cannot carry a file). Signed when a secret is given."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from wxframe.deliver._base import register
from wxframe.deliver._http import (
    Platform,
    SignedWebhook,
    json_body,
    with_link,
)
from wxframe.deliver._message import Message
from wxframe.errors import ConfigurationError, DeliveryError

__all__ = ["Feishu", "feishu_sign"]

#: Feishu takes a request body of at most 20 KB.
BODY_LIMIT = 20_000

FEISHU = Platform(
    "feishu",
    code_keys=("code", "StatusCode"),
    message_keys=("msg", "StatusMessage"),
    rate_limit=frozenset({9499, 11232}),
    advice={
        19021: "Feishu refused the signature: secret_env must hold the bot's 签名校验 secret, "
        "and this machine's clock must be right (within an hour)",
        19022: "this machine's IP is not on the bot's whitelist",
        19024: "the message lacks the bot's custom keyword",
        19001: "Feishu refused the message's form",
        19002: "Feishu refused the message's form",
    },
)


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's ``sign``: base64 of HMAC-SHA256 keyed by ``"{timestamp}\\n{secret}"``
    over nothing.

    >>> feishu_sign("SECxyz", 1700000000)
    'GnU9dobz1WousiKlH0LX6FYP8yrWNCgoJOvRhpMc8HY='
    """
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


@register
class Feishu(SignedWebhook):
    """A Feishu/Lark custom bot (100 messages a minute and 5 a second, paced here; a
    body of at most 20 KB).

    Config: ``webhook_env`` (the variable holding the whole webhook address, a secret),
    ``secret_env`` (the bot's signing secret, if it signs), ``link`` (where the report is
    published; may hold ``{account}``, ``{begin}``, ``{end}``), ``msg_type`` (``"post"``,
    rich text, the default; or ``"text"``).

    >>> url = "https://open.feishu.cn/open-apis/bot/v2/hook/0123-abcd"
    >>> robot = Feishu("ops", url, webhook_env="FEISHU_URL", link="https://r.example.com/{account}")
    >>> print(robot.describe())
    ops (feishu): summary (post), linking https://r.example.com/{account} to the bot at
    open.feishu.cn whose address $FEISHU_URL holds, unsigned
    """

    kind: ClassVar[str] = "feishu"
    keys: ClassVar[tuple[str, ...]] = (*SignedWebhook.keys, "msg_type")
    platform: ClassVar[Platform] = FEISHU
    limits: ClassVar[tuple[tuple[int, float], ...]] = ((100, 61.0), (5, 1.2))

    noun: ClassVar[str] = "bot"

    def __init__(
        self, name: str, webhook: str, *, msg_type: Literal["post", "text"] = "post",
        **options: Any,
    ) -> None:  # fmt: skip
        if msg_type not in ("post", "text"):
            raise ConfigurationError(
                f"destination {name} (feishu): msg_type={msg_type!r}; allowed: post, text"
            )
        super().__init__(name, webhook, **options)
        self.msg_type = msg_type

    @staticmethod
    def token_of(webhook: str) -> str:
        return urlsplit(webhook).path.rsplit("/", 1)[-1]  # the hook's token is its path

    @property
    def sends(self) -> str:
        return self.msg_type

    def payload(self, message: Message, limit: int | None = None) -> dict[str, Any]:
        """The message's JSON (without the signature), its text cut to ``limit`` bytes."""
        message = with_link(message, self.link)
        if self.msg_type == "text":
            return {"msg_type": "text", "content": {"text": message.text(limit=limit)}}
        lines = dataclasses.replace(message, link=None).text(limit=limit).split("\n")[1:]
        content: list[list[dict[str, str]]] = [[{"tag": "text", "text": line}] for line in lines]
        if message.link:
            text = "完整报告" if message.lang == "zh" else "Full report"
            content.append([{"tag": "a", "text": text, "href": message.link}])
        language = "zh_cn" if message.lang == "zh" else "en_us"
        post = {language: {"title": message.subject, "content": content}}
        return {"msg_type": "post", "content": {"post": post}}

    def _signed(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not self._secret:
            return payload
        timestamp = int(self.clock())
        return {
            "timestamp": str(timestamp),
            "sign": feishu_sign(self._secret, timestamp),
            **payload,
        }

    def send(self, message: Message) -> None:
        """One message within 20 KB: the text is cut (whole lines) until the body fits."""
        limit: int | None = None
        for _ in range(8):
            body = self._signed(self.payload(message, limit))
            size = len(json_body(body)["data"])
            if size <= BODY_LIMIT:
                self.deliver(self._webhook, "summary", body)
                return
            # the body shrinks with the text, in proportion (each line has its JSON around)
            text = limit if limit is not None else len(message.text().encode())
            limit = max(0, text * BODY_LIMIT // size - 64)
        raise DeliveryError(f"{self.robot.where}: the summary does not fit in Feishu's 20 KB")
