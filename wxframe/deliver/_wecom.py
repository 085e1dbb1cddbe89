"""``type = "wecom"``: a WeCom (企业微信) group robot. Three messages: the summary as
markdown, the headline chart as an image, the HTML report as a file (uploaded first,
then sent by its ``media_id``). The key in the webhook address is its only credential."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

from wxframe.client import RetryPolicy
from wxframe.deliver._base import register, secret_from
from wxframe.deliver._http import TIMEOUT, Pacer, Platform, RobotDestination
from wxframe.deliver._message import Message
from wxframe.errors import ConfigurationError, DeliveryError

__all__ = ["WeCom"]

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"
MARKDOWN_LIMIT = 4096
IMAGE_LIMIT = 2 * 1024 * 1024
FILE_LIMITS = (5, 20 * 1024 * 1024)

WECOM = Platform(
    "wecom",
    rate_limit=frozenset({45009}),
    advice={
        93000: "the robot's key is not valid (the robot was removed, or the variable holds "
        "another key): copy the webhook address again from the group's robot settings",
        93004: "the robot is switched off in the group's settings",
        40008: "WeCom refused the message type",
        40009: "the image is over 2 MB or not PNG/JPG",
        40006: "the file is under 5 B or over 20 MB",
        40007: "the file's media_id is unknown to this robot (it is valid 3 days)",
        301019: "the image's md5 does not match its bytes",
    },
)


def _image_kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPG"
    return None


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


@register
class WeCom(RobotDestination):
    """A WeCom group robot (20 messages a minute, paced here).

    Config: ``key_env`` (the variable holding the robot's key, or its whole webhook
    address), ``base_url`` (default ``https://qyapi.weixin.qq.com``), ``mentions`` (user
    ids @-mentioned in the summary when it carries alerts).

    >>> robot = WeCom("team", "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", key_env="WECOM_KEY")
    >>> print(robot.describe())
    team (wecom): summary (markdown), headline chart (image), report (file)
    to the robot at qyapi.weixin.qq.com whose key $WECOM_KEY holds
    >>> "693a91f6" in repr(robot) + robot.describe() + repr(robot.robot)
    False
    """

    kind: ClassVar[str] = "wecom"
    keys: ClassVar[tuple[str, ...]] = ("key_env", "base_url", "mentions")
    platform: ClassVar[Platform] = WECOM
    limits: ClassVar[tuple[tuple[int, float], ...]] = ((20, 61.0),)

    def __init__(
        self,
        name: str,
        key: str,
        *,
        key_env: str = "",
        base_url: str = DEFAULT_BASE_URL,
        mentions: Sequence[str] = (),
        alerts: bool = True,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        if not key or any(c.isspace() or c in "?&#/" for c in key):
            raise ConfigurationError(
                f"destination {name} (wecom): the variable {key_env or 'given'} does not hold "
                "a robot key (the part after key= of the robot's webhook address)"
            )
        super().__init__(
            name, secrets=[key], alerts=alerts, retry=retry, pacer=pacer, timeout=timeout
        )
        self._key = key
        self.key_env = key_env
        self.base_url = base_url.rstrip("/")
        self.mentions = tuple(mentions)

    @classmethod
    def from_config(cls, name: str, table: Mapping[str, Any]) -> WeCom:
        key = secret_from(name, table, "key_env")
        if "key=" in key:  # the whole webhook address: its key
            key = (parse_qs(urlsplit(key).query).get("key") or [""])[0]
        base_url = table.get("base_url", DEFAULT_BASE_URL)
        parts = urlsplit(base_url) if isinstance(base_url, str) else None
        local = parts is not None and parts.hostname in ("127.0.0.1", "localhost", "::1")
        if (
            parts is None
            or not parts.hostname
            or parts.query
            or not (parts.scheme == "https" or (parts.scheme == "http" and local))
        ):
            raise ConfigurationError(
                f"destination {name} (wecom): base_url={base_url!r}; allowed: an https:// "
                f"address without a query (default {DEFAULT_BASE_URL})"
            )
        mentions = table.get("mentions", [])
        if not isinstance(mentions, list) or not all(
            isinstance(m, str) and m and not any(c.isspace() or c in "<>" for c in m)
            for m in mentions
        ):
            raise ConfigurationError(
                f"destination {name} (wecom): mentions={mentions!r}; allowed: a list of "
                'WeCom user ids, e.g. ["zhangsan"]'
            )
        return cls(
            name, key, key_env=str(table["key_env"]), base_url=base_url, mentions=mentions,
            alerts=table.get("alerts", True),
        )  # fmt: skip

    def describe(self) -> str:
        host = urlsplit(self.base_url).netloc
        return (
            f"{self.name} (wecom): summary (markdown), headline chart (image), report (file) "
            f"to the robot at {host} whose key ${self.key_env or '?'} holds"
        )

    def _url(self, path: str, **params: str) -> str:
        query = "&".join(
            f"{k}={quote(v, safe='')}" for k, v in {"key": self._key, **params}.items()
        )
        return f"{self.base_url}/cgi-bin/webhook/{path}?{query}"

    def send(self, message: Message) -> None:
        """The summary, then the chart, then the report; a chart or report WeCom would
        refuse (size, format) is left out with a line in the summary saying why."""
        zh = message.lang == "zh"
        notes: list[str] = []
        chart = message.chart
        if chart is not None and _image_kind(chart) is None:
            notes.append("图表不是 PNG/JPG，未发送" if zh else "the chart is not PNG/JPG: not sent")
            chart = None
        elif chart is not None and len(chart) > IMAGE_LIMIT:
            size = _mb(len(chart))
            notes.append(f"图表 {size}，超过企业微信的 2 MB 上限，未发送" if zh
                         else f"the chart ({size}) is over WeCom's 2 MB: not sent")  # fmt: skip
            chart = None
        report = self._report_bytes(message.report)
        if report is not None and not FILE_LIMITS[0] <= len(report) <= FILE_LIMITS[1]:
            size = _mb(len(report)) if len(report) > 1024 else f"{len(report)} B"
            notes.append(f"报告 {size}，超出企业微信文件 5 B 至 20 MB 的范围，未发送" if zh
                         else f"the report ({size}) is outside WeCom's 5 B..20 MB for a file: "
                         "not sent")  # fmt: skip
            report = None
        tail = [f"> {n}" for n in notes]
        if message.alerts and self.mentions:
            tail.append(" ".join(f"<@{m}>" for m in self.mentions))
        # a blank line first: a renderer must not run the notes into the list above
        tail = ["", *tail] if tail else []
        room = MARKDOWN_LIMIT - sum(len(line.encode()) + 1 for line in tail)
        content = "\n".join([message.markdown(limit=room), *tail])
        self.deliver(self._url("send"), "summary", {"msgtype": "markdown",
                     "markdown": {"content": content}})  # fmt: skip
        if chart is not None:
            image = {
                "base64": base64.b64encode(chart).decode(),
                "md5": hashlib.md5(chart).hexdigest(),
            }
            self.deliver(self._url("send"), "chart", {"msgtype": "image", "image": image})
        if report is not None and message.report is not None:
            name = f"{message.account}_{message.begin}_{message.end}{message.report.suffix}"
            media_id = self._upload(name, report)
            self.deliver(self._url("send"), "report", {"msgtype": "file",
                         "file": {"media_id": media_id}})  # fmt: skip

    def _report_bytes(self, path: Path | None) -> bytes | None:
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError as exc:
            raise DeliveryError(
                f"{self.robot.where}: cannot read the report {path}: {exc.strerror or exc}"
            ) from None

    def _upload(self, name: str, data: bytes) -> str:
        """The ``media_id`` of ``data`` uploaded as a file (for this robot, 3 days)."""
        answer = self.robot.post(
            self._url("upload_media", type="file"), "report upload", paced=False,
            files={"media": (name, data, "application/octet-stream")},
        )  # fmt: skip
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise DeliveryError(f"{self.robot.where}: report upload: the answer holds no media_id")
        return media_id
