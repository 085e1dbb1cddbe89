"""One case of the corpus through one path, with its checks; in this process or a child.

:func:`check` is what every corpus test runs. A case marked ``child`` runs it in a child
process (:func:`check_in_child`): a crash there is a negative return code, which fails
the test instead of killing the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

import wxframe
from tests.conftest import APPID, RAW_CLOCK, SECRET, Call, Reply, fixture_server
from tests.hostile.corpus import CASES, Case, Data, Refused, answer, summary_row

#: The day of the first case; each case has its own day, one before the previous.
FIRST_DAY = date(2026, 10, 31)
REPO = Path(__file__).resolve().parents[2]


def day_of(case: Case) -> date:
    return FIRST_DAY - timedelta(days=CASES.index(case))


def case_named(name: str) -> Case:
    return next(c for c in CASES if c.name == name)


def serve_corpus(call: Call) -> Reply:
    """The fixture server's answer: the case of the day asked, or followers for
    getusersummary beside a case."""
    case = CASES[(FIRST_DAY - call.begin).days]
    if call.endpoint != case.endpoint:
        return (200, "application/json", answer(summary_row(call.begin)))
    return (200, "application/json", case.body(call.begin))


def check(case: Case, path: str, url: str, tmp: Path) -> None:
    """Run ``case`` through ``path`` against the server at ``url``; assert its outcome."""
    day = day_of(case)
    expected = case.outcome(path)
    client = wxframe.Client(APPID, SECRET, base_url=url, backoff=0.0, clock=lambda: RAW_CLOCK)
    store = wxframe.Store(tmp / "store")
    stopped: wxframe.WxframeError | None = None
    rows = -1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if path == "load":
                got = wxframe.load(client, case.endpoint, day, day, progress=False)
                rows = len(got)
            elif path == "sync":
                endpoints = [case.endpoint, "getusersummary"] if case.beside else case.endpoint
                store.sync(client, day, day, endpoints=endpoints, progress=False)
                rows = len(store.read(case.endpoint))
            else:
                saved = tmp / "saved.json"
                saved.write_bytes(case.body(day))
                store.import_json(case.endpoint, saved, account=APPID)
                rows = len(store.read(case.endpoint))
    except wxframe.WxframeError as exc:
        stopped = exc
    if stopped is not None:
        assert not isinstance(expected, Data), f"{case.name} {path}: refused: {stopped}"
        if isinstance(expected, Refused):
            # a sync that stops says the answer's error in its own (SyncIncomplete)
            wanted = wxframe.WxframeError if path == "sync" else expected.error
            assert isinstance(stopped, wanted), f"{case.name} {path}: {stopped!r}"
            assert expected.words in str(stopped), f"{case.name} {path}: {stopped}"
        if path == "import":
            assert not list(tmp.glob("store/**/*.parquet")), "a refused file wrote data"
    else:
        # a sync may go on past a bad answer (issue 28 item 5): the day is then not final
        refused_here = isinstance(expected, Refused) and path != "sync"
        assert not refused_here, f"{case.name} {path}: not refused"
        if isinstance(expected, Data):
            assert rows == expected.rows, f"{case.name} {path}: {rows} rows"
    if path != "load" and store.exists():
        _nothing_final_unreceived(case, path, store, day, expected)
        assert store.verify().empty, store.verify().to_dict("records")
    if case.beside and path == "sync":
        # one bad answer costs only its window: the sync ends, the other endpoint held
        assert stopped is None, f"{case.name}: the sync stopped: {stopped}"
        held = store.days()
        assert (held["endpoint"] == "getusersummary").any(), "the other endpoint was not synced"


def _nothing_final_unreceived(
    case: Case, path: str, store: wxframe.Store, day: date, expected: object
) -> None:
    """A day is final in the store only when its answer came and was stored as data."""
    days = store.days()
    mine = days[(days["endpoint"] == case.endpoint) & (days["ref_date"] == pd.Timestamp(day))]
    if isinstance(expected, Data):
        assert len(mine) == 1, f"{case.name} {path}: the day is not recorded"
        assert bool(mine["final"].iloc[0]) is not expected.delayed, mine.to_dict("records")
    else:
        assert not mine["final"].any(), f"{case.name} {path}: a final day from no data"


def check_in_child(case: Case, path: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    """:func:`check` in a child process with a server of its own."""
    code = (
        "from pathlib import Path\n"
        "from tests.conftest import fixture_server\n"
        "from tests.hostile.run import case_named, check, serve_corpus\n"
        "with fixture_server(serve_corpus) as server:\n"
        f"    check(case_named({case.name!r}), {path!r}, server.url, Path({str(tmp)!r}))\n"
        "print('checked')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=300, check=False)  # fmt: skip


__all__ = ["check", "check_in_child", "fixture_server", "serve_corpus"]
