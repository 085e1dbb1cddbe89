"""``type = "folder"``: the files written where the config says (a shared drive)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from wxframe.deliver._base import Destination, register
from wxframe.deliver._message import Message
from wxframe.errors import ConfigurationError, DeliveryError

__all__ = ["Folder"]


@register
class Folder(Destination):
    """``path/ACCOUNT/BEGIN..END/``: ``report.html``, ``summary.md`` and ``chart.png``,
    each written whole (a temporary file renamed in), so a reader of the share never
    sees half a file.

    >>> import tempfile, datetime
    >>> with tempfile.TemporaryDirectory() as d:
    ...     folder = Folder.from_config("share", {"type": "folder", "path": d})
    ...     folder.send(Message("wxa", datetime.date(2026, 11, 30),
    ...                         datetime.date(2026, 12, 6), title="Weekly"))
    ...     sorted(p.name for p in (Path(d) / "wxa" / "2026-11-30..2026-12-06").iterdir())
    ['summary.md']
    """

    kind: ClassVar[str] = "folder"
    keys: ClassVar[tuple[str, ...]] = ("path",)

    def __init__(self, name: str, path: Path, *, alerts: bool = True) -> None:
        super().__init__(name, alerts=alerts)
        self.path = path

    @classmethod
    def from_config(cls, name: str, table: Mapping[str, Any]) -> Folder:
        path = table.get("path")
        if not isinstance(path, str) or not path:
            raise ConfigurationError(f"destination {name} (folder): path must be a folder")
        return cls(name, Path(path).expanduser(), alerts=table.get("alerts", True))

    def describe(self) -> str:
        return f"{self.name} (folder): report.html, summary.md, chart.png into {self.path}/"

    def send(self, message: Message) -> None:
        if not self.path.is_dir():
            raise DeliveryError(f"{self.name}: {self.path} is not a folder (is the share mounted?)")
        target = self.path / message.account / message.period
        try:
            target.mkdir(parents=True, exist_ok=True)
            _write(target / "summary.md", message.markdown().encode())
            if message.chart is not None:
                _write(target / "chart.png", message.chart)
            if message.report is not None:
                _write(target / "report.html", message.report.read_bytes())
        except OSError as exc:
            raise DeliveryError(
                f"{self.name}: cannot write into {target}: {exc.strerror or exc}"
            ) from None


def _write(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes it owner-only: a shared folder's readers get what umask allows
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
