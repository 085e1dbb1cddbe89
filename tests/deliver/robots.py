"""WeCom, DingTalk and Feishu robots on loopback, checking what each platform checks.

One threaded HTTP server plays all three:

- WeCom ``/cgi-bin/webhook/send?key=K`` and ``/cgi-bin/webhook/upload_media?key=K&type=file``:
  a known key (93000), markdown <= 4,096 bytes and text <= 2,048 (40058), an image's
  base64, its md5 (301019) and PNG/JPG of <= 2 MB (40009), an upload's multipart field
  ``media`` of 5 B..20 MB (40006), a file's ``media_id`` uploaded by that same robot
  (40007); 20 messages a ``minute`` per robot (45009).
- DingTalk ``/robot/send?access_token=T[&timestamp=&sign=]``: a known token (300001),
  the signature when the robot has a secret and a timestamp within an hour (310000),
  markdown with a title and text; 20 a minute (130101).
- Feishu ``/open-apis/bot/v2/hook/T``: a known hook (19001), the body's signature and
  timestamp within an hour (19021), a body <= 20 KB (19002); 100 a minute and 5 a
  ``second`` (11232).

``minute`` and ``second`` are parameters, so a test of the rate limits takes a fraction
of a second. :meth:`RobotServer.fail` makes the next N requests answer HTTP 500 (or a
given errcode). Every message taken is recorded in :attr:`RobotServer.received`.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import POLL

WECOM_MARKDOWN_LIMIT = 4096
WECOM_TEXT_LIMIT = 2048
WECOM_IMAGE_LIMIT = 2 * 1024 * 1024
WECOM_FILE_LIMITS = (5, 20 * 1024 * 1024)
FEISHU_BODY_LIMIT = 20 * 1024
SKEW = 3600.0


@dataclass
class Received:
    """One message a robot took: the platform, the robot (key, token or hook), the JSON
    body, and for a WeCom file the uploaded bytes and name."""

    platform: str
    robot: str
    body: dict[str, Any]
    at: float
    file: bytes | None = None
    filename: str | None = None


@dataclass
class _Fault:
    remaining: int
    status: int = 500
    errcode: int | None = None


@dataclass
class RobotServer:
    """The three platforms' robots. Register robots with :meth:`wecom`,
    :meth:`dingtalk` and :meth:`feishu` (each returns its webhook address)."""

    minute: float = 60.0
    second: float = 1.0
    received: list[Received] = field(default_factory=list)
    requests: int = 0
    _wecom_keys: set[str] = field(default_factory=set)
    _dingtalk: dict[str, str] = field(default_factory=dict)
    _feishu: dict[str, str] = field(default_factory=dict)
    _media: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    _sent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=itertools.count)
    url: str = ""

    # ------------------------------------------------------------------ robots
    def wecom(self, key: str) -> str:
        """A WeCom robot with ``key``; its webhook address."""
        self._wecom_keys.add(key)
        return f"{self.url}/cgi-bin/webhook/send?key={key}"

    def dingtalk(self, token: str, secret: str = "") -> str:
        self._dingtalk[token] = secret
        return f"{self.url}/robot/send?access_token={token}"

    def feishu(self, hook: str, secret: str = "") -> str:
        self._feishu[hook] = secret
        return f"{self.url}/open-apis/bot/v2/hook/{hook}"

    def fail(self, times: int, *, status: int = 500, errcode: int | None = None) -> None:
        """The next ``times`` requests answer HTTP ``status`` (or 200 with ``errcode``)."""
        self._faults.append(_Fault(times, status, errcode))

    def of(self, platform: str) -> list[Received]:
        return [r for r in self.received if r.platform == platform]

    # ---------------------------------------------------------------- handling
    def handle(self, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            if self._faults:
                fault = self._faults[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.pop(0)
                if fault.errcode is None:
                    return fault.status, {"error": "internal"}
                return 200, {"errcode": fault.errcode, "code": fault.errcode, "errmsg": "fault"}
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/cgi-bin/webhook/send":
            return 200, self._wecom_send(query, body)
        if parts.path == "/cgi-bin/webhook/upload_media":
            return 200, self._wecom_upload(query, headers, body)
        if parts.path == "/robot/send":
            return 200, self._dingtalk_send(query, body)
        if parts.path.startswith("/open-apis/bot/v2/hook/"):
            return 200, self._feishu_send(parts.path.rsplit("/", 1)[-1], body)
        return 404, {"error": "no such path"}

    def _rate(self, robot: str, limits: list[tuple[int, float]]) -> bool:
        """Whether one more message of ``robot`` keeps within ``limits`` (and count it)."""
        with self._lock:
            now = time.monotonic()
            sent = self._sent[robot]
            if any(sum(1 for t in sent if t > now - window) >= n for n, window in limits):
                return False
            sent.append(now)
            return True

    def _record(self, platform: str, robot: str, body: dict[str, Any], **kw: Any) -> None:
        with self._lock:
            self.received.append(Received(platform, robot, body, time.monotonic(), **kw))

    def _wecom_send(self, query: dict[str, str], raw: bytes) -> dict[str, Any]:
        key = query.get("key", "")
        if key not in self._wecom_keys:
            return {"errcode": 93000, "errmsg": "invalid webhook url"}
        if not self._rate(f"wecom:{key}", [(20, self.minute)]):
            return {"errcode": 45009, "errmsg": "api freq out of limit"}
        body = json.loads(raw)
        kind = body.get("msgtype")
        extra: dict[str, Any] = {}
        if kind == "markdown":
            if len(body["markdown"]["content"].encode()) > WECOM_MARKDOWN_LIMIT:
                return {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        elif kind == "text":
            if len(body["text"]["content"].encode()) > WECOM_TEXT_LIMIT:
                return {"errcode": 40058, "errmsg": "text.content exceed max length 2048"}
        elif kind == "image":
            try:
                image = base64.b64decode(body["image"]["base64"], validate=True)
            except ValueError:
                return {"errcode": 40009, "errmsg": "invalid image base64"}
            if hashlib.md5(image).hexdigest() != body["image"]["md5"]:
                return {"errcode": 301019, "errmsg": "media md5 not match"}
            if len(image) > WECOM_IMAGE_LIMIT or not image.startswith(
                (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
            ):
                return {"errcode": 40009, "errmsg": "invalid image size"}
            extra = {"file": image}
        elif kind == "file":
            media = self._media.get(body["file"].get("media_id", ""))
            if media is None or media[0] != key:  # a media_id is its robot's only
                return {"errcode": 40007, "errmsg": "invalid media_id"}
            extra = {"file": media[1], "filename": media[2]}
        else:
            return {"errcode": 40008, "errmsg": "invalid message type"}
        self._record("wecom", key, body, **extra)
        return {"errcode": 0, "errmsg": "ok"}

    def _wecom_upload(self, query: dict[str, str], headers: Any, raw: bytes) -> dict[str, Any]:
        key = query.get("key", "")
        if key not in self._wecom_keys:
            return {"errcode": 93000, "errmsg": "invalid webhook url"}
        if query.get("type") != "file":
            return {"errcode": 40004, "errmsg": "invalid media type"}
        head = f"Content-Type: {headers.get('Content-Type', '')}\r\n\r\n".encode()
        form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
        media = next(
            (p for p in form.iter_parts() if p.get_param("name", header="content-disposition")
             == "media"),
            None,
        )  # fmt: skip
        if media is None:
            return {"errcode": 41001, "errmsg": "missing media field"}
        data = media.get_payload(decode=True)
        if not WECOM_FILE_LIMITS[0] <= len(data) <= WECOM_FILE_LIMITS[1]:
            return {"errcode": 40006, "errmsg": "invalid media size"}
        media_id = f"media-{next(self._ids)}"
        self._media[media_id] = (key, data, media.get_filename() or "")
        return {"errcode": 0, "errmsg": "ok", "type": "file", "media_id": media_id,
                "created_at": str(int(time.time()))}  # fmt: skip

    def _dingtalk_send(self, query: dict[str, str], raw: bytes) -> dict[str, Any]:
        token = query.get("access_token", "")
        if token not in self._dingtalk:
            return {"errcode": 300001, "errmsg": "token is not exist"}
        secret = self._dingtalk[token]
        if secret:
            stamp = query.get("timestamp", "")
            digest = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256)
            expected = base64.b64encode(digest.digest()).decode()
            fresh = stamp.isdigit() and abs(int(stamp) / 1000 - time.time()) <= SKEW
            if not fresh or not hmac.compare_digest(query.get("sign", ""), expected):
                return {"errcode": 310000, "errmsg": "sign not match"}
        if not self._rate(f"dingtalk:{token}", [(20, self.minute)]):
            return {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
        body = json.loads(raw)
        if body.get("msgtype") != "markdown" or not all(body["markdown"].get(k)
                                                         for k in ("title", "text")):  # fmt: skip
            return {"errcode": 40035, "errmsg": "missing markdown title or text"}
        self._record("dingtalk", token, body)
        return {"errcode": 0, "errmsg": "ok"}

    def _feishu_send(self, hook: str, raw: bytes) -> dict[str, Any]:
        if hook not in self._feishu:
            return {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
        if len(raw) > FEISHU_BODY_LIMIT:
            return {"code": 19002, "msg": "request body too large"}
        body = json.loads(raw)
        secret = self._feishu[hook]
        if secret:
            stamp = str(body.get("timestamp", ""))
            key = f"{stamp}\n{secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            fresh = stamp.isdigit() and abs(int(stamp) - time.time()) <= SKEW
            if not fresh or not hmac.compare_digest(str(body.get("sign", "")), expected):
                return {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}
        if not self._rate(f"feishu:{hook}", [(100, self.minute), (5, self.second)]):
            return {"code": 11232, "msg": "frequency limited"}
        if body.get("msg_type") not in ("text", "post"):
            return {"code": 19002, "msg": "params error, msg_type"}
        self._record("feishu", hook, body)
        return {"code": 0, "data": {}, "msg": "success"}


@dataclass
class _Running:
    server: ThreadingHTTPServer
    thread: threading.Thread


def serve(robots: RobotServer) -> _Running:
    """Start ``robots`` on an ephemeral loopback port (sets ``robots.url``)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, payload = robots.handle(self.path, self.headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    robots.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True)
    thread.start()
    return _Running(server, thread)


def stop(running: _Running) -> None:
    running.server.shutdown()
    running.server.server_close()
    running.thread.join()
