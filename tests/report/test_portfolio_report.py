"""The portfolio report: one render of three simulated accounts, and the CLI's mistakes
(refused before a kernel starts)."""

from __future__ import annotations

import contextlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from wxframe import Store
from wxframe.cli import main
from wxframe.simulator import serve

ENDPOINTS = ["getbizsummary", "getusercumulate", "getarticletotaldetail"]


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, list[str]]:
    """Three accounts (seeds 0..2), 2026-01-04..2026-02-28 of what the portfolio reads."""
    store = Store(tmp_path_factory.mktemp("portfolio") / "store")
    store.create()  # before the three syncs, which would each make it at once

    def sync(seed: int) -> str:
        with serve(seed=seed, today="2026-03-01") as sim:
            store.sync(sim.client(), "2026-01-04", "2026-02-28", endpoints=ENDPOINTS,
                       progress=False)  # fmt: skip
            return sim.appid

    with ThreadPoolExecutor(3) as pool:  # each account under its own lock
        return store, list(pool.map(sync, range(3)))


@pytest.fixture(scope="module")
def page(three: tuple[Store, list[str]]) -> tuple[str, str, int]:
    """``wxframe report --accounts all`` once: the HTML, what it printed, its status."""
    store, _ = three
    out = store.root.parent / "out" / "portfolio.html"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["report", "--store", str(store.root), "--accounts", "all",
                       "--out", str(out)])  # fmt: skip
    return out.read_text(encoding="utf-8"), printed.getvalue(), status


@pytest.mark.slow
def test_the_portfolio_report_ranks_links_and_draws_every_account(
    page: tuple[str, str, int], three: tuple[Store, list[str]]
) -> None:
    html, printed, status = page
    _, names = three
    assert status == 0 and "portfolio.html" in printed
    assert '<html lang="en">' in html and "3 accounts" in html
    for heading in ("Ranking", "The index over time", "Headline numbers", "Who moved most"):
        assert f">{heading}<" in html, heading
    for name in names:  # each name links to its own report, beside the page
        assert f'<a href="{name}.html">{name}</a>' in html
    ranks = re.findall(r"<td>([123])</td>\s*<td><a href=", html)
    assert sorted(ranks) == ["1", "2", "3"]
    assert html.count("<img") >= 3  # the heat map and the two movers' charts
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html  # no warning
    assert "scale point" in html and "log2" in html  # the index explained under it


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(argv)
    return status, capsys.readouterr().err


@pytest.mark.slow  # the module's store: three accounts synced (~5 s)
def test_cli_refuses_an_account_not_in_the_store(
    three: tuple[Store, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, names = three
    out = str(tmp_path / "p.html")
    status, err = _cli(["report", "--store", str(store.root), "--accounts",
                        f"{names[0]},wxnosuch", "--out", out], capsys)  # fmt: skip
    assert status == 2 and "wxnosuch" in err and names[1] in err
    every = ["report", "--store", str(store.root), "--accounts", "all", "--out", out]
    status, err = _cli([*every, "--begin", "2026-02-10", "--end", "2026-02-01"], capsys)
    assert status == 2 and "begin=2026-02-10" in err
    status, err = _cli([*every, "--begin", "2024-01-01", "--end", "2024-01-31"], capsys)
    assert status == 2 and "2026-01-04..2026-02-28" in err
    status, err = _cli(["report", "--store", str(store.root), "--accounts", "all",
                        "--account", names[0], "--out", out], capsys)  # fmt: skip
    assert status == 2 and "--account and --accounts" in err
    assert not Path(out).exists()


def test_cli_refuses_a_store_without_accounts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty" / "_manifest").mkdir(parents=True)  # a store, no account synced
    status, err = _cli(["report", "--store", str(tmp_path / "empty"), "--accounts", "all",
                        "--out", str(tmp_path / "p.html")], capsys)  # fmt: skip
    assert status == 2 and "holds no account" in err and "sync" in err
