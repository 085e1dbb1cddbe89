"""The app secret and access tokens never leave the client: logs, errors, files, reports.

A sync, loads that fail in each way a credential can, the command line and the report
notebook all run with a known secret; every captured log line (at DEBUG, urllib3's
included), exception message, repr and traceback, every file the store writes (parquet
metadata included), the executed notebook and the HTML report are scanned for the
secret and for every token the simulator issued. wxframe keeps no token cache file, so
a token may appear nowhere.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import traceback
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import wxframe
from tests.conftest import FAST
from wxframe.report import render_report
from wxframe.simulator import serve

OFFLINE = list(wxframe.OFFLINE_ENDPOINTS)

TODAY = date(2024, 6, 1)


def _everything_about(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


@pytest.mark.slow
def test_no_secret_or_token_anywhere(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    store = wxframe.Store(tmp_path / "store")
    with serve(seed=7, today=TODAY, schedule={40: 45009}) as sim:
        client = sim.client(**FAST)
        texts += [repr(client), repr(store)]
        with pytest.raises(wxframe.SyncIncomplete) as quota:
            store.sync(client, "2024-05-01", "2024-05-31", progress=False, endpoints=OFFLINE)
        texts.append(_everything_about(quota.value))
        summary = store.sync(client, "2024-05-01", "2024-05-31", progress=False, endpoints=OFFLINE)
        texts.append(str(summary))
        failures = {
            "wrong secret": lambda: wxframe.load_user_read(
                wxframe.Client(sim.appid, sim.secret[::-1], base_url=sim.url), "2024-05-01",
                "2024-05-02", progress=False),
            "expired token, no secret to refresh it": lambda: wxframe.load_user_read(
                wxframe.Client(access_token="expired-" + sim.secret, base_url=sim.url),
                "2024-05-01", "2024-05-02", progress=False),
            "server gone": lambda: wxframe.load_user_read(
                wxframe.Client(sim.appid, sim.secret, base_url="http://127.0.0.1:9",
                               max_retries=1, **FAST),
                "2024-05-01", "2024-05-02", progress=False),
        }  # fmt: skip
        for name, fail in failures.items():
            with pytest.raises(wxframe.WxframeError) as failed:
                fail()
            texts.append(_everything_about(failed.value))
            assert failed.value is not None, name
        secret, tokens = sim.secret, list(sim._tokens)
    assert len(tokens) >= 1
    # the report, with the credentials in the environment the kernel inherits
    env_before = dict(os.environ)
    os.environ.update({"WX_APPID": sim.appid, "WX_APPSECRET": secret})
    try:
        render_report(store.root, tmp_path / "report" / "report.html",
                      notebook_out=tmp_path / "report" / "report.ipynb")  # fmt: skip
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    # the command line, on a simulator whose secret we know from its seed
    cli = subprocess.run(
        [sys.executable, "-m", "wxframe", "sync", "--simulator", "--seed", "7", "--today",
         "2024-06-01", "--begin", "2024-05-25", "--end", "2024-05-31",
         "--store", str(tmp_path / "cli"), "--family", "offline"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    texts += [cli.stdout, cli.stderr, caplog.text]
    assert "access_token" in caplog.text  # urllib3's DEBUG lines were captured, redacted
    needles = [secret, *tokens]
    for text in texts:
        for needle in needles:
            assert needle not in text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    assert {"report.html", "report.ipynb"} <= {p.name for p in files}
    for path in files:
        blob = path.read_bytes()
        for needle in needles:
            assert needle.encode() not in blob, path
        if path.suffix == ".parquet":
            meta = pq.read_metadata(path).metadata or {}
            assert not any(n.encode() in v for v in meta.values() for n in needles), path
    seed7 = hashlib.sha256(b"wxframe-simulator-secret-7").hexdigest()[:32]
    assert seed7 == secret  # the CLI's simulator had this same secret
    print(
        f"\nsecrets: {len(texts)} texts ({len(caplog.records)} log records), "
        f"{len(files)} files scanned for the secret and {len(tokens)} tokens: none found"
    )
