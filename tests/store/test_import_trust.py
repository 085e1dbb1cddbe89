"""Import judges what it is given (issue 28, item 6): another account's answers, days the
endpoint cannot have, and answers that say they are not final."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wxframe.cli
from wxframe import Store, StoreError
from wxframe.datasets import api_example
from wxframe.dates import beijing_now, last_complete_day
from wxframe.simulator import Simulator, serve

APPID = "wx5im0000000000001"  # the simulator's account of seed 0
OTHER = "wx5im0000000000002"  # of seed 1
SHARE = {"share_scene": 1, "share_count": 3, "share_user": 2}


def _share(*days: date | str) -> list[dict[str, Any]]:
    return [{"ref_date": str(day), **SHARE} for day in days]


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _main(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = wxframe.cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("path", "its path says so"),
        ("answer", "its answers' 'appid' says so"),
        ("record", "its records' 'account' says so"),
    ],
)
def test_another_accounts_archive_is_refused_whole_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, says: str
) -> None:
    with serve(seed=1, today="2024-06-01") as other:  # the answers of another account
        assert other.appid == OTHER
        saved = other.write_archive("getusershare", date(2024, 4, 1), date(2024, 4, 30),
                                    tmp_path / "theirs.jsonl")  # fmt: skip
    answers = [json.loads(line) for line in saved.read_text("utf-8").splitlines()]
    if where == "path":  # wxframe's own archives carry no appid: a team keeps one a folder
        foreign = tmp_path / "archive" / OTHER / "getusershare.jsonl"
    else:
        foreign = tmp_path / "archive" / "april.jsonl"
        for answer in answers:
            if where == "answer":  # a script that saved the appid beside the answer
                answer["appid"] = OTHER
            else:
                for record in answer["list"]:
                    record["account"] = OTHER
    foreign.parent.mkdir(parents=True)
    foreign.write_text("".join(json.dumps(a) + "\n" for a in answers), "utf-8")
    mine = tmp_path / "archive" / "may.json"
    mine.write_text(json.dumps({"list": _share("2024-05-01", "2024-05-02")}), "utf-8")
    store = tmp_path / "store"
    args = ("import", "--store", store, "--endpoint", "getusershare", "--account", APPID)
    # alone: nothing written, the file and the account it is of named
    code, out, err = _main(capsys, *args, foreign)
    assert (code, out) == (2, "")
    assert f"{foreign}: its answers are of account {OTHER} ({says}), not {APPID}" in err
    assert f"import it with --account {OTHER}" in err
    assert not store.exists()
    # beside a file of this account's: that one imported, the foreign one counted and named
    code, out, _ = _main(capsys, *args, tmp_path / "archive")
    assert code == 1
    records = sum(len(a["list"]) for a in answers)
    assert f"1 file(s) refused ({records} records)" in out
    assert f"{foreign}: its answers are of" in out
    read = Store(store).read("getusershare")
    assert read["ref_date"].dt.strftime("%Y-%m-%d").unique().tolist() == [
        "2024-05-01",
        "2024-05-02",
    ]
    assert set(read["account"]) == {APPID}
    # the account it is of takes it
    code, out, _ = _main(capsys, *args[:-1], OTHER, foreign)
    assert code == 0 and f"{records} rows" in out
    assert Store(store).accounts() == [APPID, OTHER]


def test_records_that_name_this_account_are_imported_without_a_second_account_column(
    tmp_path: Path,
) -> None:
    saved = tmp_path / "x.json"
    records = [{**r, "account": APPID} for r in _share("2024-05-01")]
    saved.write_text(json.dumps({"appid": APPID, "list": records}), "utf-8")
    store = Store(tmp_path / "s")
    assert store.import_json("getusershare", saved, account=APPID).days_written == 1
    table = store.dataset("getusershare").to_table()  # the hive partition's account only
    assert table.column("account").to_pylist() == [APPID]


# ----------------------------------------------------------------- days out of range
FIRST = date(2014, 12, 1)  # getusershare's first day


@settings(max_examples=12, deadline=None)
@given(
    early=st.lists(st.dates(date(1990, 1, 1), FIRST - timedelta(days=1)), max_size=3),
    late=st.lists(st.integers(1, 20_000), max_size=3),
    good=st.lists(st.dates(FIRST, date(2025, 12, 31)), min_size=1, max_size=4),
)
def test_days_the_endpoint_cannot_have_refuse_their_file_and_nothing_of_it_is_written(
    early: list[date], late: list[int], good: list[date]
) -> None:
    last = last_complete_day(beijing_now())
    bad = early + [last + timedelta(days=n) for n in late]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        (root / "in" / "a-good.json").write_text(json.dumps(_share(*set(good))), "utf-8")
        (root / "in" / "b-mixed.json").write_text(
            json.dumps({"list": _share(*set(good + bad))}), "utf-8"
        )
        store = Store(root / "store")
        summary = store.import_json("getusershare", root / "in", account=APPID)
        days = sorted(store.days()["ref_date"].dt.date)
        if not bad:  # the same days twice: nothing to refuse
            assert not summary.refused and days == sorted(set(good))
            return
        mixed = str(root / "in" / "b-mixed.json")
        assert list(summary.refused) == [mixed]
        assert summary.records_refused == len(set(good + bad))
        why = summary.refused[mixed]
        if early:
            assert f"before getusershare's first day, {FIRST}" in why
            assert str(min(early)) in why
        else:
            assert f"after the last complete day, {last}" in why
        assert days == sorted(set(good))  # the good file's only: nothing of the mixed one
        assert f"1 file(s) refused ({summary.records_refused} records)" in str(summary)
        # alone, it is refused and the store is not touched
        before = _files(root / "store")
        with pytest.raises(StoreError, match="nothing imported: every file with records"):
            store.import_json("getusershare", mixed, account=APPID)
        assert _files(root / "store") == before


def test_days_of_2031_and_2001_are_refused_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = api_example("getuserread")  # the platform's own answer, two records a day
    store = tmp_path / "s"
    for day, why in (
        ("2031-01-01", "1 of its 1 day(s) are after the last complete day"),
        ("2001-01-01", "1 of its 1 day(s) are before getuserread's first day, 2014-12-01"),
    ):
        saved = tmp_path / f"{day}.json"
        answer = {**example, "list": [{**r, "ref_date": day} for r in example["list"]]}
        saved.write_text(json.dumps(answer), "utf-8")
        code, out, err = _main(capsys, "import", "--store", store, "--endpoint", "getuserread",
                               "--account", APPID, saved)  # fmt: skip
        assert (code, out) == (2, "") and f"{saved}: {why}" in err and f"({day})" in err
    assert not store.exists()


# ----------------------------------------------------------------- is_delay
BEGIN = date(2025, 11, 1)
DAYS = 12


@pytest.fixture(scope="module")
def biz_answers() -> Iterator[tuple[Simulator, list[dict[str, Any]]]]:
    """A simulator well after its days (nothing delayed), and one saved answer a day."""
    with serve(seed=0, today="2026-02-01") as sim:
        client = sim.client()
        answers = []
        for n in range(DAYS):
            day = BEGIN + timedelta(days=n)
            page = client.fetch("getbizsummary", day, day)
            answers.append({"errcode": 0, "errmsg": "ok", "list": list(page), **page.meta})
        yield sim, answers


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(delayed=st.sets(st.integers(0, DAYS - 1)))
def test_days_of_answers_that_say_is_delay_are_imported_not_final_and_a_sync_asks_them_again(
    biz_answers: tuple[Simulator, list[dict[str, Any]]], delayed: set[int]
) -> None:
    sim, answers = biz_answers
    lines = [json.dumps({**a, "is_delay": n in delayed}) for n, a in enumerate(answers)]
    late = {BEGIN + timedelta(days=n) for n in delayed}
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "biz.jsonl"
        saved.write_text("\n".join(lines) + "\n", "utf-8")
        store = Store(Path(tmp) / "store")
        summary = store.import_json("getbizsummary", saved, account=sim.appid)
        assert summary.days_written == DAYS and summary.days_not_final == len(late)
        held = store.days().set_index(store.days()["ref_date"].dt.date)["final"]
        assert {d for d, final in held.items() if not final} == late
        before = len(sim.stats.answered)
        end = BEGIN + timedelta(days=DAYS - 1)
        store.sync(sim.client(), BEGIN, end, endpoints="getbizsummary", progress=False)
        asked = set()
        for _, b, e, _ in sim.stats.answered[before:]:
            first, last = date.fromisoformat(b), date.fromisoformat(e)
            asked |= {first + timedelta(days=n) for n in range((last - first).days + 1)}
        assert asked == late  # exactly the days the archive said were not final
        assert store.days()["final"].all()
