"""``Store.plan`` and ``Store.repair``: what a sync asks for, and damage mended in one call;
and the doctor and the CLI use the store's public names only."""

from __future__ import annotations

import ast
import shutil
import types
import warnings
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import wxframe
from tests.conftest import month_file, shard_file
from wxframe import ConfigurationError, Refetch, Store, StoreDamagedWarning, Window
from wxframe.cli import main
from wxframe.simulator import serve

TODAY = "2026-12-01"
ENDPOINTS = ["getusersummary", "getusercumulate"]


# ------------------------------------------------------------------------ plan
def test_the_plan_is_what_the_sync_then_asks_for(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with serve(seed=0, today="2025-12-05") as sim:
        store.sync(sim.client(), "2025-11-01", "2025-11-20", progress=False)
        sim.set_clock("2025-12-20")
        plan = store.plan("2025-11-01", "2025-12-19")
        before = len(sim.stats.answered)
        summary = store.sync(sim.client(), "2025-11-01", "2025-12-19", progress=False)
        asked = {(n, b, e) for n, b, e, _ in sim.stats.answered[before:]}
    planned = {(n, w.begin.isoformat(), w.end.isoformat()) for n, ws in plan.items() for w in ws}
    assert planned == asked and summary.calls == len(asked)
    assert sorted(plan) == sorted(wxframe.CURRENT_ENDPOINTS)
    # the publish days of the last 30 days are asked again, the settled ones are not
    detail = {w.begin for w in plan["getarticletotaldetail"]}
    assert date(2025, 11, 1) not in detail and date(2025, 11, 20) in detail
    # nothing is held now that is not final: the same plan is empty but for new days
    assert store.plan("2025-11-01", "2025-11-19", endpoints="getusersummary") == {
        "getusersummary": []
    }


def test_a_plan_of_an_account_not_held_is_every_window_from_the_first_day(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    with pytest.warns(wxframe.RangeClippedWarning, match="planning getbizsummary from 2025-11-01"):
        plan = store.plan("2025-10-25", "2025-11-03", account="wx0123456789abcdef",
                          endpoints=["getbizsummary", "getusersummary"])  # fmt: skip
    assert plan["getbizsummary"] == [Window(date(2025, 11, 1), date(2025, 11, 3))]
    assert [w.days for w in plan["getusersummary"]] == [7, 3]
    with pytest.raises(ConfigurationError, match="after"):
        store.plan("2025-11-03", "2025-11-01", account="wx0123456789abcdef")
    with pytest.raises(ConfigurationError, match="which account"):
        store.plan("2025-11-01", "2025-11-03")  # an empty store has no only account


# ------------------------------------------------------------------------ repair
def test_a_repair_forgets_the_damage_and_fetches_it_again(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    store, sound = synced
    truncated = month_file(store, "getusercumulate", "2026-10")
    truncated.write_bytes(truncated.read_bytes()[:200])
    (account,) = store.accounts()
    shard_file(store, "getusersummary", "2026-09").write_text("{")
    with serve(seed=0, today=TODAY) as sim:
        done = store.repair(sim.client())
    # the damaged record's data file is sound: kept and listed again, not fetched
    assert done.problems[["endpoint", "month", "next"]].values.tolist() == [
        ["getusersummary", "2026-09", "keep"],
        ["getusercumulate", "2026-10", "fetch"],
    ]
    assert done.refetch == [Refetch(account, date(2026, 10, 1), date(2026, 10, 31),
                                    ("getusercumulate",))]  # fmt: skip
    assert done.synced[account].calls > 0 and not done.left and not done.stopped
    assert done.to_import.empty and "1 account(s) fetched again" in str(done)
    assert done.kept["month"].tolist() == ["2026-09"]
    assert store.verify().empty
    for name in ENDPOINTS:
        pd.testing.assert_frame_equal(store.read(name), sound[name])
    damaged = sorted(p.name for p in (store.root / "_damaged").rglob("*") if p.is_file())
    assert len(damaged) == 2  # moved aside, not deleted
    assert damaged[0].startswith("2026-09.") and damaged[1].startswith("data-")


def test_a_repair_without_the_accounts_client_says_what_is_left(
    synced: tuple[Store, dict[str, pd.DataFrame]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("WX_APPID", "WX_APPSECRET", "WX_ACCESS_TOKEN"):  # no credentials
        monkeypatch.delenv(name, raising=False)
    store, _ = synced
    month_file(store, "getusersummary", "2026-10").unlink()
    (account,) = store.accounts()
    with serve(seed=5, today=TODAY) as other:  # another account's simulator
        done = store.repair(other.client())
    assert not done.synced and done.left == done.refetch
    assert done.left == [Refetch(account, date(2026, 10, 1), date(2026, 10, 31),
                                 ("getusersummary",))]  # fmt: skip
    assert store.verify().empty  # forgotten: reads work, and the next sync fetches it
    assert (store.plan("2026-10-01", "2026-10-31", endpoints="getusersummary")
            == {"getusersummary": [Window(date(2026, 10, d), date(2026, 10, d + 6))
                                   for d in (1, 8, 15, 22)]
                + [Window(date(2026, 10, 29), date(2026, 10, 31))]})  # fmt: skip
    # the CLI prints the repair and the command that finishes it
    month_file(store, "getusercumulate", "2026-09").unlink()
    assert main(["verify", "--store", str(store.root), "--repair"]) == 3
    out = capsys.readouterr().out
    assert "getusercumulate 2026-09 missing" in out
    assert (f"{account}: damaged days forgotten; to fetch them: wxframe sync --store "
            f"{store.root} --begin 2026-09-01 --end 2026-09-30 --endpoint getusercumulate"
            in out)  # fmt: skip


def test_a_repair_stops_at_a_sync_that_fails(
    synced: tuple[Store, dict[str, pd.DataFrame]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, _ = synced
    month_file(store, "getusersummary", "2026-10").unlink()
    (account,) = store.accounts()
    with serve(seed=0, today=TODAY, verified=False) as sim:  # every datacube call: 48001
        done = store.repair(sim.client())
        assert list(done.stopped) == [account] and "48001" in str(done.stopped[account])
        assert not done.synced and not done.left
        # the CLI, with the account's credentials in the environment
        month_file(store, "getusercumulate", "2026-10").unlink()
        monkeypatch.setenv("WX_API_BASE", sim.url)
        monkeypatch.setenv("WX_APPID", sim.appid)
        monkeypatch.setenv("WX_APPSECRET", sim.secret)
        monkeypatch.delenv("WX_ACCESS_TOKEN", raising=False)
        assert (
            main(["verify", "--store", str(store.root), "--repair"]) == 4
        )  # 48001: access refused
    err = capsys.readouterr().err
    assert "wxframe verify: the repair's sync stopped" in err and "48001" in err


def test_a_repair_of_imported_history_asks_for_its_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path / "store")
    with serve(seed=0, today="2024-06-01") as sim:
        archive = sim.write_archive("getusershare", date(2024, 4, 1), date(2024, 5, 31),
                                    tmp_path / "share.jsonl")  # fmt: skip
    store.import_json("getusershare", archive, account=sim.appid)
    month_file(store, "getusershare", "2024-05").unlink()
    assert main(["verify", "--store", str(store.root), "--repair"]) == 1
    out = capsys.readouterr().out
    assert f"getusershare 2024-05 of {sim.appid}: imported history, import its archive" in out
    again = store.repair()
    assert again.problems["problem"].str.startswith("lost: 31 days").all()
    assert again.to_import["month"].tolist() == ["2024-05"] and not again.refetch
    store.import_json("getusershare", archive, account=sim.appid)
    assert store.repair().problems.empty and str(store.repair()) == "no damage"


def test_a_repair_moves_aside_the_files_of_an_endpoint_the_manifest_never_had(
    synced: tuple[Store, dict[str, pd.DataFrame]],
) -> None:
    # found while moving the repair: a month folder of an endpoint the account's
    # manifest has no record of made the repair raise KeyError
    store, sound = synced
    # (a month file as stores written before content names had them: an orphan of
    # a content name is left to the grace period instead)
    where = month_file(store, "getusersummary", "2026-10").parent
    stray = store.root / "getbizsummary" / where.relative_to(store.root / "getusersummary")
    stray = stray / "data.parquet"
    stray.parent.mkdir(parents=True)
    shutil.copy(month_file(store, "getusersummary", "2026-10"), stray)
    found = store.verify()
    assert found[["endpoint", "month", "next"]].values.tolist() == [
        ["getbizsummary", "2026-10", "fetch"]
    ]
    done = store.repair()
    assert len(done.problems) == 1 and not stray.exists() and store.verify().empty
    with warnings.catch_warnings():
        warnings.simplefilter("error", StoreDamagedWarning)
        pd.testing.assert_frame_equal(store.read("getusersummary"), sound["getusersummary"])


# ------------------------------------------------------------------------ callers
@pytest.mark.parametrize("module", ["doctor.py", "cli.py", "accounts.py", "report/__init__.py",
                                    "report/period.py", "datasets/__init__.py"])  # fmt: skip
def test_the_stores_callers_use_its_public_names_only(module: str) -> None:
    source = (Path(wxframe.__file__).parent / module).read_text("utf-8")
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert not node.module.startswith("wxframe.store._"), (module, node.module)
            if node.module == "wxframe.store":
                assert all(not a.name.startswith("_") for a in node.names), module
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            owner = node.value
            name = owner.id if isinstance(owner, ast.Name) else ""
            assert "store" not in name.lower(), (module, ast.unparse(node))


def test_the_stores_all_is_sorted_complete_and_exported() -> None:
    import wxframe.store

    names = wxframe.store.__all__
    assert names == sorted(names)
    public = {
        name
        for name, value in vars(wxframe.store).items()
        if isinstance(value, type | types.FunctionType)  # classes, and publish
        and value.__module__.startswith("wxframe.store")
        and not name.startswith("_")
    }
    assert public == set(names)
    assert set(names) <= set(wxframe.__all__)
