"""The delivery log: what was sent where, for which account and period. It makes a
scheduled job exactly-once from the team's side: a rerun of a period sends nothing
again, and a run stopped between destinations sends the rest.

``STORE/_deliveries/log.jsonl``: one JSON line per event, appended and flushed to disk
before the next step (``sending`` before a send, ``sent`` or ``failed`` after it).
A ``sending`` never followed by ``sent`` means a run stopped while a destination was
answering: whether the team got it is unknown, so it is not sent again on its own
(never twice), and the run says so; ``--resend`` sends it. No secret is ever written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import filelock

from wxframe.dates import beijing_now
from wxframe.errors import StoreError, StoreLockedError

__all__ = ["DeliveryLog", "State"]

State = Literal["sending", "sent", "failed"]


@dataclass(frozen=True)
class _Key:
    account: str
    period: str
    destination: str


class DeliveryLog:
    """The log of one store.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     log = DeliveryLog(Path(root))
    ...     log.record("wxa", "2026-11-30..2026-12-06", "team", "sending")
    ...     log.record("wxa", "2026-11-30..2026-12-06", "team", "sent")
    ...     log.state("wxa", "2026-11-30..2026-12-06", "team")
    'sent'
    """

    def __init__(self, store: Path) -> None:
        self.folder = store / "_deliveries"
        self.path = self.folder / "log.jsonl"
        self._states: dict[_Key, State] | None = None

    def state(self, account: str, period: str, destination: str) -> State | None:
        """The last event of a delivery, or None when it was never tried."""
        if self._states is None:
            self._states = self._read()
        return self._states.get(_Key(account, period, destination))

    def record(
        self, account: str, period: str, destination: str, state: State, why: str = ""
    ) -> None:
        """Append one event and flush it to disk before returning."""
        line = {"at": beijing_now().isoformat(timespec="seconds"), "account": account,
                "period": period, "destination": destination, "state": state}  # fmt: skip
        if why:
            line["why"] = why[:300]
        self.folder.mkdir(exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if self._states is not None:
            self._states[_Key(account, period, destination)] = state

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One run at a time per store: a second one waits for nobody, it stops."""
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(self.folder / ".lock"), timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise StoreLockedError(
                f"another wxframe run is delivering from {self.folder.parent}; let it finish"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _read(self) -> dict[_Key, State]:
        states: dict[_Key, State] = {}
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return states
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"the delivery log {self.path} cannot be read: {exc}") from None
        for n, raw in enumerate(text.splitlines(), 1):
            try:
                event = json.loads(raw)
                key = _Key(event["account"], event["period"], event["destination"])
                state = event["state"]
            except (ValueError, KeyError, TypeError):
                if n == len(text.splitlines()):
                    continue  # a last line cut by a crash: the event it began did not finish
                raise StoreError(
                    f"the delivery log {self.path} is damaged at line {n}: fix or move that "
                    "line (each line is one delivery event)"
                ) from None
            if state in ("sending", "sent", "failed"):
                states[key] = state
        return states
