"""The hostile corpus: generated answers and files, each with what must come of it.

A :class:`Case` makes the bytes of one answer for the day it is asked (so every case has
a day of its own on a shared server), and says what each path must end in: data (so
many rows) or a named wxframe error (its class and words of its message). The paths
are ``load`` (over HTTP), ``sync`` (a store, over HTTP) and ``import`` (the bytes saved
as a file); ``verify`` follows every sync and import.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from wxframe import (
    ApiError,
    MalformedResponseError,
    NonJSONResponseError,
    StoreError,
    WxframeError,
)

#: The paths a case is run through.
PATHS = ("load", "sync", "import")


@dataclass(frozen=True)
class Data:
    """The path ends in data: ``rows`` rows of the case's day (final unless ``delayed``)."""

    rows: int
    delayed: bool = False


@dataclass(frozen=True)
class Refused:
    """The path ends in ``error`` (a wxframe error) whose message holds ``words``."""

    error: type[WxframeError]
    words: str


@dataclass(frozen=True)
class Unfinished:
    """The path ends in data or a wxframe error, and the day is not recorded final."""


Outcome = Data | Refused | Unfinished


@dataclass(frozen=True)
class Case:
    name: str
    endpoint: str
    body: Callable[[date], bytes]
    #: The outcome of every path, or of each path by name (``"*"`` for the others).
    expect: Outcome | Mapping[str, Outcome]
    #: Run in a child process: a crash (a signal) must fail the test, not the run.
    child: bool = False
    #: Sync getusersummary beside it: the other endpoint must be held after the sync.
    beside: bool = False
    #: The paths it is run through (a huge valid answer: not import, json's 7 s).
    paths: tuple[str, ...] = PATHS

    def outcome(self, path: str) -> Outcome:
        if isinstance(self.expect, Data | Refused | Unfinished):
            return self.expect
        return self.expect.get(path) or self.expect["*"]


# ---------------------------------------------------------------- answer builders
def share_row(day: date, **changes: Any) -> dict[str, Any]:
    """A getarticleshare record of ``day``."""
    row: dict[str, Any] = {"ref_date": day.isoformat(), "msgid": "2247490098_1",
                           "detail": {"share_user": 5}}  # fmt: skip
    row.update(changes)
    return row


def answer(*rows: Any, **fields: Any) -> bytes:
    return json.dumps({"list": list(rows), "is_delay": False, **fields}).encode()


def shares(**changes: Any) -> Callable[[date], bytes]:
    """A getarticleshare answer of one record of the day, with ``changes``."""
    return lambda day: answer(share_row(day, **changes))


def raw_shares(template: bytes) -> Callable[[date], bytes]:
    """An answer written as bytes, ``DAY`` replaced by the day asked."""
    return lambda day: template.replace(b"DAY", day.isoformat().encode())


def summary_row(day: date, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"ref_date": day.isoformat(), "user_source": 0, "new_user": 3,
                           "cancel_user": 1}  # fmt: skip
    row.update(changes)
    return row


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def big_deep_answer(day: date) -> bytes:
    """An answer of more than 16 MiB nested 30,000 deep (the size the guard once skipped)."""
    pad = b'"' + b"a" * (17 << 20) + b'"'
    row = b'{"ref_date":"%s","msgid":"1_1","pad":%s,"x":%s}' % (
        day.isoformat().encode(),
        pad,
        deep(30_000),
    )
    return b'{"list":[' + row + b'],"is_delay":false}'  # fmt: skip


def huge_answer(day: date) -> bytes:
    """About 20 MB of a valid answer: 150,000 articles of one day."""
    rows = [share_row(day, msgid=f"{2247490000 + k}_1") for k in range(150_000)]
    return answer(*rows)


def refused(error: type[WxframeError], words: str, file_words: str | None = None,
            ) -> dict[str, Outcome]:  # fmt: skip
    """Refused over HTTP with ``error``, and as a file with a StoreError (same words)."""
    return {"*": Refused(error, words), "import": Refused(StoreError, file_words or words)}


def deep_answer(levels: int) -> Callable[[date], bytes]:
    return raw_shares(b'{"list":[{"ref_date":"DAY","msgid":"1_1","x":' + deep(levels) + b"}]}")


def cut_inside_a_character(day: date) -> bytes:
    whole = json.dumps({"list": [share_row(day, title="标题")]}, ensure_ascii=False).encode()
    return whole.replace("标题".encode(), "标题".encode()[:4])


TOO_DEEP = Refused(MalformedResponseError, "too deep")
NOT_JSON = refused(NonJSONResponseError, "non-JSON body", "is not JSON")
SUMMARY_AS_SHARE = {"ref_date": "DAY", "user_source": 0, "new_user": 3, "cancel_user": 1}
READ_AS_SHARE = b'{"list":[{"ref_date":"DAY","user_source":0,"int_page_read_user":1}]}'
BIG = b"9" * 5000

# fmt: off
CASES: list[Case] = [
    # ------------------------------------------------------------- data
    Case("plain", "getarticleshare", shares(), Data(1)),
    Case("byte_order_mark", "getarticleshare",
         lambda d: b"\xef\xbb\xbf" + answer(share_row(d)), Data(1)),
    Case("pretty_printed", "getarticleshare",
         lambda d: json.dumps({"list": [share_row(d)]}, indent=2).encode(), Data(1)),
    Case("unknown_field", "getarticleshare", shares(new_field={"a": [1, 2]}), Data(1)),
    Case("text_with_escapes", "getarticleshare", shares(title='标题 \\ " [ {'), Data(1)),
    Case("chinese_text_raw", "getarticleshare", lambda d: json.dumps(
        {"list": [share_row(d, title="标题【一】")]}, ensure_ascii=False).encode(), Data(1)),
    Case("count_as_text", "getarticleshare", shares(detail={"share_user": "5"}), Data(1)),
    Case("count_as_integral_float", "getarticleshare", shares(detail={"share_user": 5.0}),
         Data(1)),
    Case("count_beyond_doubles", "getarticleshare", shares(detail={"share_user": 2**53 + 1}),
         Data(1)),
    Case("msgid_as_number", "getarticleshare", shares(msgid=2247490098), Data(1)),
    Case("errcode_zero", "getarticleshare",
         lambda d: answer(share_row(d), errcode=0, errmsg="ok"), Data(1)),
    Case("is_delay", "getarticleshare",
         lambda d: json.dumps({"list": [share_row(d)], "is_delay": True}).encode(),
         Data(1, delayed=True)),
    Case("no_records", "getarticleshare", lambda d: answer(),
         {"*": Data(0), "import": Refused(StoreError, "holds no records")}),
    Case("nested_50_deep", "getarticleshare", deep_answer(50), Data(1)),
    Case("same_row_twice", "getarticleshare",
         lambda d: answer(share_row(d), share_row(d)), Data(1)),
    Case("row_of_a_day_not_asked_too", "getarticleshare",
         lambda d: answer(share_row(d), share_row(d - timedelta(days=1))),
         {"*": Data(1), "import": Data(2)}),
    Case("followers", "getusersummary", lambda d: answer(summary_row(d)), Data(1)),
    Case("followers_unknown_source", "getusersummary",
         lambda d: answer(summary_row(d, user_source=999)), Data(1)),
    # ------------------------------------------------------------- not JSON
    Case("truncated", "getarticleshare", lambda d: answer(share_row(d))[:40], NOT_JSON),
    Case("empty_body", "getarticleshare", lambda d: b"",
         refused(NonJSONResponseError, "non-JSON body", "holds no records")),
    Case("html_page", "getarticleshare", lambda d: b"<html><body>login</body></html>",
         NOT_JSON),
    Case("json_then_junk", "getarticleshare", lambda d: answer(share_row(d)) + b"}", NOT_JSON),
    Case("binary", "getarticleshare", lambda d: bytes(range(256)) * 4,
         refused(NonJSONResponseError, "non-JSON body", "cannot be read as UTF-8")),
    # ------------------------------------------------------------- mis-typed
    Case("json_null", "getarticleshare", lambda d: b"null",
         refused(MalformedResponseError, "expected a JSON object",
                 "neither a response nor records")),
    Case("list_is_null", "getarticleshare", lambda d: b'{"list":null}',
         refused(MalformedResponseError, "no 'list' array", "has a 'list' array")),
    Case("list_is_object", "getarticleshare", lambda d: b'{"list":{"a":1}}',
         refused(MalformedResponseError, "no 'list' array", "has a 'list' array")),
    Case("record_is_text", "getarticleshare", lambda d: answer("a record"),
         refused(MalformedResponseError, "not a JSON object")),
    Case("count_is_word", "getarticleshare", shares(detail={"share_user": "many"}),
         refused(MalformedResponseError, "'share_user' must be an integer")),
    Case("count_is_nan", "getarticleshare", raw_shares(
        b'{"list":[{"ref_date":"DAY","msgid":"1_1","detail":{"share_user":NaN}}]}'),
         refused(MalformedResponseError, "'share_user' must be an integer")),
    Case("lone_surrogate", "getarticleshare", raw_shares(
        b'{"list":[{"ref_date":"DAY","msgid":"1_1","title":"\\ud800","detail":{}}]}'),
         refused(MalformedResponseError, "not valid Unicode")),
    Case("date_missing", "getarticleshare",
         lambda d: answer({"msgid": "1_1", "detail": {"share_user": 1}}),
         refused(MalformedResponseError, "'ref_date'")),
    Case("same_key_other_numbers", "getarticleshare",
         lambda d: answer(share_row(d), share_row(d, detail={"share_user": 6})),
         refused(MalformedResponseError, "share a key ('ref_date', 'msgid') but disagree")),
    # ------------------------------------------------------------- big numbers
    Case("count_beyond_int64", "getarticleshare", shares(detail={"share_user": 2**64}),
         refused(MalformedResponseError, "18446744073709551616, beyond a 64-bit integer")),
    Case("count_of_5000_digits", "getarticleshare", raw_shares(
        b'{"list":[{"ref_date":"DAY","msgid":"1_1","detail":{"share_user":%s}}]}' % BIG),
         refused(MalformedResponseError, "a number of 5000 digits", "5000 digits")),
    Case("msgid_beyond_int64", "getarticleshare", shares(msgid="18446744073709551616_1"),
         refused(MalformedResponseError, "msg_data_id 18446744073709551616 is beyond")),
    Case("msgid_index_of_100_digits", "getarticleshare", shares(msgid="1_" + "7" * 100),
         refused(MalformedResponseError, "msg_index 77777777777777777777... (100 digits)")),
    Case("msgid_number_beyond_int64", "getarticleshare", shares(msgid=10**30),
         refused(MalformedResponseError, "'msgid' has 10000000000000000000... (31 digits)")),
    # ------------------------------------------------------------- errors as data
    Case("errcode_in_answer", "getarticleshare",
         lambda d: b'{"errcode":61500,"errmsg":"date format error"}',
         refused(ApiError, "61500")),
    Case("errcode_beside_records", "getarticleshare",
         lambda d: answer(share_row(d), errcode=61501, errmsg="date range error"),
         refused(ApiError, "61501")),
    # ------------------------------------------------------------- deep and huge
    Case("nested_30000_deep", "getarticleshare", deep_answer(30_000),
         {"*": TOO_DEEP, "import": Refused(StoreError, "nests arrays or objects 30,003 deep")}),
    Case("nested_1000_deep", "getarticleshare", deep_answer(1000),
         {"*": TOO_DEEP, "import": Refused(StoreError, "nests arrays or objects 1,003 deep")}),
    Case("nested_200_deep", "getarticleshare", deep_answer(200),
         {"*": Data(1), "import": Refused(StoreError, "nests arrays or objects 203 deep")}),
    Case("over_16_mib_nested_30000_deep", "getarticleshare", big_deep_answer,
         {"*": TOO_DEEP, "import": Refused(StoreError, "nests arrays or objects 30,003 deep")},
         child=True),
    Case("twenty_megabytes", "getarticleshare", huge_answer, Data(150_000), child=True,
         paths=("load", "sync")),
    # ------------------------------------------------------------- mis-dated, foreign
    Case("date_impossible", "getarticleshare", shares(ref_date="2026-13-45"),
         {"*": Unfinished(), "import": Refused(StoreError, "'YYYY-MM-DD' date")}),
    Case("date_with_slashes", "getarticleshare", shares(ref_date="2026/10/05"),
         {"*": Unfinished(), "import": Refused(StoreError, "2026/10/05")}),
    Case("every_row_of_another_day", "getarticleshare",
         lambda d: answer(share_row(d - timedelta(days=3))), Unfinished()),
    Case("day_in_2031", "getarticleshare", shares(ref_date="2031-01-01"),
         {"*": Unfinished(), "import": Refused(StoreError, "2031-01-01")}),
    # item 5's decision: the bytes that are not UTF-8 become U+FFFD, named in a warning,
    # and the answer's numbers are kept (every retry would bring the same bytes back)
    Case("title_cut_inside_a_character", "getarticleshare", cut_inside_a_character,
         {"*": Data(1), "import": Refused(StoreError, "UTF-8")}, beside=True),
    Case("another_endpoints_records", "getarticleshare", raw_shares(
        json.dumps({"list": [SUMMARY_AS_SHARE]}).encode()),
         {"*": Refused(MalformedResponseError, "getusersummary"),
          "import": Refused(StoreError, "look like getusersummary records")}),
    Case("six_records_into_another_of_the_six", "getusershare", raw_shares(READ_AS_SHARE),
         {"*": Refused(MalformedResponseError, "getuserread"),
          "import": Refused(StoreError, "getuserread")}),
    Case("archive_of_another_account", "getarticleshare",
         lambda d: answer(share_row(d), appid="wx9999999999999999"),
         {"*": Data(1), "import": Refused(StoreError, "wx9999999999999999")}),
]
# fmt: on
