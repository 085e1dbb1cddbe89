"""What an answer is once the client has it: its bytes, or its records.

The client (``wxframe.client``) judges every answer (data or an error) and hands on the
data as a :class:`RawPage`: the bytes, not decoded. The frames package decodes a batch
of them at once (``wxframe.frames.decode_many``). :class:`Page` is an answer read with
``json``: what :meth:`~wxframe.Client.fetch` gives a user, and what the fetch engine
makes of an answer the batch reader declines. Both live here, below the client and the
frames, so that neither imports the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

__all__ = ["Page", "RawPage"]


class Page(list[dict[str, Any]]):
    """The records of one response, with the response's own fields (``is_delay``) in ``meta``.

    A ``list``, so everything that takes records takes a page; :func:`~wxframe.to_frame`
    also copies ``meta`` onto each row.

    >>> page = Page([{"ref_date": "2025-11-01"}], {"is_delay": False})
    >>> len(page), page.meta
    (1, {'is_delay': False})
    """

    __slots__ = ("meta", "sent_at")

    def __init__(
        self,
        records: Sequence[dict[str, Any]] = (),
        meta: dict[str, Any] | None = None,
        sent_at: datetime | None = None,
    ):
        super().__init__(records)
        self.meta: dict[str, Any] = dict(meta or {})
        #: When the request this page answers was sent (the client's clock).
        self.sent_at = sent_at


class RawPage:
    """The bytes of one answer the client has judged to be data, not decoded yet.

    What the client's workers give the bulk paths (:func:`~wxframe.load_many`,
    :meth:`~wxframe.Store.sync`): the fetch engine (``wxframe.fetch``) decodes a batch
    of them at once, and a worker's next request does not wait for it.

    >>> RawPage(b'{"list":[]}')
    RawPage(11 bytes)
    """

    __slots__ = ("body", "sent_at")

    def __init__(self, body: bytes, sent_at: datetime | None = None) -> None:
        self.body = body
        #: When the request this answer answers was sent (the client's clock).
        self.sent_at = sent_at

    def __repr__(self) -> str:
        return f"RawPage({len(self.body):,} bytes)"
