"""The typed manifest (``wxframe.store._manifest``): its JSON comes back as it was read,
finality follows the registry, and a save writes only the months that changed."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import shard_file
from wxframe import ENDPOINTS, Store, StoreError, Window
from wxframe.datasets import open_demo_store
from wxframe.dates import BEIJING
from wxframe.store._files import Layout
from wxframe.store._manifest import (
    ByMonth,
    DayRecord,
    EndpointRecord,
    FileRecord,
    Manifest,
    dumps,
    is_final,
    load_manifest,
    manifest_problem,
    month_problem,
    save_manifest,
)

# ---------------------------------------------------------------- generated manifests
#: A value of another type than the store writes, which a manifest keeps as it is.
odd = st.one_of(st.none(), st.text(max_size=5), st.integers(-3, 3), st.booleans(),
                st.lists(st.integers(0, 3), max_size=2))  # fmt: skip
#: Keys a newer wxframe might add to a record.
unknown = st.dictionaries(st.sampled_from(["note", "origin", "v"]), odd, max_size=2)
stamps = st.datetimes(datetime(2015, 1, 1), datetime(2030, 12, 31)).map(
    lambda t: t.replace(tzinfo=BEIJING).isoformat(timespec="seconds")
)
sha256 = st.text("0123456789abcdef", min_size=64, max_size=64)


def maybe(key: str, value: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``{key: value}``, ``{key: an odd value}`` or nothing."""
    return st.one_of(st.just({}), value.map(lambda v: {key: v}), odd.map(lambda v: {key: v}))


def record(*parts: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object of the parts' keys and some unknown ones."""
    return st.tuples(unknown, *parts).map(lambda ds: {k: v for d in ds for k, v in d.items()})


days_json = record(
    stamps.map(lambda at: {"at": at}),
    maybe("final", st.booleans()),
    maybe("rows", st.integers(0, 10**6)),
    maybe("delayed", st.just(True)),
    maybe("source", st.just("import")),
)
file_base = (maybe("rows", st.integers(0, 10**6)), maybe("bytes", st.integers(0, 10**9)),
             maybe("sha256", sha256))  # fmt: skip
file_json = record(*file_base, maybe("next", record(*file_base)))
offline_json = record(
    maybe("at", stamps), maybe("errmsg", st.text(max_size=20)),
    maybe("successors", st.lists(st.sampled_from(sorted(ENDPOINTS)), max_size=2)),
)  # fmt: skip
lost_json = st.dictionaries(
    st.sampled_from(["2024-01", "2024-02", "2025-11"]),
    record(maybe("days", st.integers(0, 31)), maybe("at", st.just("20260101T120000"))),
    max_size=2,
)
entry_json = record(
    maybe("windows", st.one_of(st.integers(0, 10**5), st.lists(st.just(["2024-01-01"])))),
    maybe("offline", offline_json),
    maybe("lost", lost_json),
)


@st.composite
def month_json(draw: st.DrawFn, month: str) -> dict[str, Any]:
    """A month file: some of the month's days, its file's record or both."""
    first = date.fromisoformat(f"{month}-01")
    numbers = draw(st.sets(st.integers(0, 27), max_size=4))
    part: dict[str, Any] = {"days": {(first + timedelta(days=n)).isoformat(): draw(days_json)
                                     for n in sorted(numbers)}}  # fmt: skip
    if not part["days"] or draw(st.booleans()):
        part["file"] = draw(file_json)
    return part


@st.composite
def manifests(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, dict[str, dict[str, Any]]]]:
    """An account's file and its month files, as a store of any version may hold them."""
    names = draw(st.lists(st.sampled_from(sorted(ENDPOINTS)), unique=True, max_size=3))
    top: dict[str, Any] = {"endpoints": {name: draw(entry_json) for name in names}}
    top |= draw(record(maybe("account", st.just("wx0123456789abcdef"))))
    months: dict[str, dict[str, dict[str, Any]]] = {}
    for name in names:
        wanted = draw(st.sets(st.sampled_from(["2024-01", "2024-02", "2025-11"]), max_size=3))
        if wanted:
            months[name] = {m: draw(month_json(m)) for m in sorted(wanted)}
    return top, months


@settings(max_examples=60, deadline=None)  # a handful of optional fields, each met often
@given(manifests())
def test_a_manifest_gives_back_the_json_it_was_read_from(
    files: tuple[dict[str, Any], dict[str, dict[str, dict[str, Any]]]],
) -> None:
    top, months = files
    assert manifest_problem(top) is None
    for name, parts in months.items():
        assert all(month_problem(name, part) is None for part in parts.values())
    manifest = Manifest.from_json(top, months)
    assert manifest.to_json() == top
    assert manifest.months_json() == months
    # through the JSON text too: the same bytes as a store writes
    again = Manifest.from_json(json.loads(dumps(top)), json.loads(dumps(months)))
    assert again == manifest and dumps(again.to_json()) == dumps(top)


@settings(max_examples=50, deadline=None)
@given(manifests())
def test_a_saved_manifest_is_the_files_it_was_loaded_from(
    tmp_path_factory: pytest.TempPathFactory,
    files: tuple[dict[str, Any], dict[str, dict[str, dict[str, Any]]]],
) -> None:
    top, months = files
    layout = Layout(tmp_path_factory.mktemp("store"))
    account = "wx0123456789abcdef"
    layout.manifest_path(account).parent.mkdir(parents=True)
    layout.manifest_path(account).write_bytes(dumps(top))
    for name, parts in months.items():
        for month, part in parts.items():
            layout.month_path(account, name, month).parent.mkdir(parents=True, exist_ok=True)
            layout.month_path(account, name, month).write_bytes(dumps(part))
    before = {p: p.read_bytes() for p in layout.root.rglob("*.json")}
    manifest = load_manifest(layout, account)
    assert manifest == Manifest.from_json(top, months)
    for entry in manifest.endpoints.values():  # as if every month had changed
        entry.days.touched |= set(entry.days.months())
        entry.files.touched |= set(entry.files.months())
    save_manifest(layout, account, manifest)
    # Each month again under its content's name, the pointer naming them: the same
    # manifest, each month's bytes as they were.
    assert load_manifest(layout, account) == manifest
    months_before = sorted(b for p, b in before.items() if p.parent.name in months)
    months_now = sorted(
        p.read_bytes() for p in layout.root.rglob("*.*.json") if p.parent.name in months
    )
    assert months_now == months_before


def test_the_demo_stores_manifests_come_back_byte_for_byte() -> None:
    store = open_demo_store()
    layout = Layout(store.root)
    (account,) = store.accounts()
    pointer = json.loads(layout.manifest_path(account).read_bytes())
    # the pointer: the account's own record, and the names of its months and files
    own = ("generation", "shards", "data", "retired")
    top = {k: v for k, v in pointer.items() if k not in own}
    months: dict[str, dict[str, dict[str, Any]]] = {}
    shards = sorted((store.root / "_manifest" / account).glob("*/*.json"))
    for path in shards:
        month = path.name.split(".")[0]
        assert pointer["shards"][path.parent.name][month] == path.name  # every one named
        months.setdefault(path.parent.name, {})[month] = json.loads(path.read_bytes())
    assert len(shards) > 20 and len(top["endpoints"]) == len(ENDPOINTS)
    manifest = load_manifest(layout, account)
    assert manifest == Manifest.from_json(top, months)
    assert manifest.to_json() == top and not pointer["retired"]
    for name, parts in manifest.months_json().items():
        for month, part in parts.items():
            shard = layout.month_path(account, name, month, manifest.shards[name][month])
            assert dumps(part) == shard.read_bytes()
    assert manifest.months_json() == months
    # typed, as the store reads it
    entry = manifest.endpoints["getbizsummary"]
    day = entry.days["2025-11-01"]
    assert day.is_final and day.row_count > 0 and day.fetched_at.tzinfo is not None
    assert entry.files["2025-11"].sha256 is not None and entry.window_count > 0


# ---------------------------------------------------------------- records
def test_values_of_another_type_are_kept_and_read_as_absent() -> None:
    doc = {"at": "2024-06-01T12:00:00+08:00", "final": 1, "rows": True, "note": "x"}
    day = DayRecord.from_json(doc)
    assert (day.final, day.rows, day.is_final, day.row_count) == (None, None, False, 0)
    assert day.extra == {"final": 1, "rows": True, "note": "x"}
    assert day.to_json() == doc
    entry = EndpointRecord.from_json({"windows": True, "offline": None, "lost": {"2024-01": 3}})
    assert entry.window_count == 0 and entry.offline_reason() is None and entry.lost is None
    assert entry.to_json() == {"windows": True, "offline": None, "lost": {"2024-01": 3}}


def test_an_offline_mark_says_since_when_and_an_empty_one_is_none() -> None:
    marked = EndpointRecord.from_json({"offline": {"at": "2026-07-02T09:00:00+08:00"}})
    assert marked.offline_reason() == "errcode 47009 since 2026-07-02"
    assert EndpointRecord.from_json({"offline": {}}).offline_reason() is None


def test_a_manifest_of_0_1_counts_its_window_list_and_moves_its_days_to_months() -> None:
    day = {"at": "2024-05-02T12:00:00+08:00", "final": True, "rows": 3}
    legacy = {"windows": [["2024-05-01", "2024-05-01"]] * 2,
              "days": {"2024-05-01": day, "2024-06-01": day},
              "files": {"2024-05": {"rows": 6, "bytes": 10, "sha256": "0" * 64}}}  # fmt: skip
    entry = EndpointRecord.from_json(legacy)
    assert entry.window_count == 2
    assert entry.days.touched == {"2024-05", "2024-06"} and entry.files.touched == {"2024-05"}
    assert entry.to_json() == {"windows": legacy["windows"]}  # days and files: by month
    assert entry.month_json("2024-05") == {"days": {"2024-05-01": day},
                                           "file": legacy["files"]["2024-05"]}  # fmt: skip
    # without days in the account's file, nothing is to be written again
    plain = EndpointRecord.from_json({"windows": 1, "files": legacy["files"]})
    assert plain.days.touched == plain.files.touched == set()


def test_a_month_map_notes_the_months_it_changes() -> None:
    days: ByMonth[int] = ByMonth()
    days.replace_month("2024-01", {"2024-01-02": 1, "2024-01-01": 2})
    assert days.touched == set() and list(days.month("2024-01")) == ["2024-01-01", "2024-01-02"]
    days["2024-02-01"] = 3
    days.pop("2024-03-01", None)  # absent: the month is still written (as it was)
    del days["2024-01-02"]
    assert days.touched == {"2024-01", "2024-02", "2024-03"}
    assert days == {"2024-01-01": 2, "2024-02-01": 3}
    with pytest.raises(TypeError):
        days.popitem()


@pytest.mark.parametrize(
    ("name", "settles", "final_from"),
    [("getusersummary", 1, "2025-11-11T08:00"), ("getarticletotaldetail", 30, "2025-12-10T08:00")],
)
def test_a_day_is_final_once_its_numbers_have_settled(
    name: str, settles: int, final_from: str
) -> None:
    spec = ENDPOINTS[name]
    assert spec.settles_after == settles
    day = date(2025, 11, 10)
    final = datetime.fromisoformat(final_from).replace(tzinfo=BEIJING)
    assert is_final(spec, day, final) and not is_final(spec, day, final - timedelta(minutes=1))
    entry = EndpointRecord(windows=0)
    assert entry.record(spec, Window(day, day), final, {"2025-11-10": 4}) == 4
    assert entry.record(spec, Window(day, day), final, {}, delayed=True) == 0
    delayed = {"at": f"{final_from}:00+08:00", "final": False, "rows": 0, "delayed": True}
    assert entry.days["2025-11-10"].to_json() == delayed
    assert entry.window_count == 2


# ---------------------------------------------------------------- disk
def test_a_save_writes_only_the_months_that_changed(tmp_path: Path) -> None:
    store = Store(tmp_path)
    layout = Layout(tmp_path)
    account, spec = "wx0123456789abcdef", ENDPOINTS["getusersummary"]
    manifest = Manifest(account=account)
    entry = manifest.entry(spec.name)
    at = datetime(2024, 6, 1, 12, tzinfo=BEIJING)
    for day in (date(2024, 4, 30), date(2024, 5, 1)):
        entry.record(spec, Window(day, day), at, {day.isoformat(): 1})
    save_manifest(layout, account, manifest)
    april = Path(
        layout.month_path(account, spec.name, "2024-04", manifest.shards[spec.name]["2024-04"])
    )
    april.write_bytes(b"left alone")  # a save that rewrote April would replace this
    manifest = load_manifest(layout, account, damaged=[])
    manifest.entry(spec.name).record(spec, Window(date(2024, 5, 2), date(2024, 5, 2)), at, {})
    save_manifest(layout, account, manifest)
    assert april.read_bytes() == b"left alone"
    may = json.loads(shard_file(store, spec.name, "2024-05").read_bytes())
    assert sorted(may["days"]) == ["2024-05-01", "2024-05-02"]
    with pytest.raises(StoreError, match=r"2024-04\.\w+\.json is not valid JSON.*--repair"):
        store.read(spec.name)


@pytest.mark.parametrize(
    ("top", "message"),
    [
        ([], "it has no 'endpoints' object"),
        ({"endpoints": {"getusersummary": {"days": []}}},
         "endpoints.getusersummary has no 'days' object"),
        ({"endpoints": {"getusersummary": {"files": 3}}},
         "endpoints.getusersummary.files is not an object"),
        ({"endpoints": {"getusersummary": {"days": {"2024-01-01": {}}}}},
         "endpoints.getusersummary.days.2024-01-01 has no 'at' time"),
        ({"endpoints": {"getusersummary": {"days": {"2024-01-01": {"at": "noon"}}}}},
         "endpoints.getusersummary.days.2024-01-01 is not a date with a time"),
    ],
)  # fmt: skip
def test_a_damaged_manifest_is_named_with_what_is_wrong(
    tmp_path: Path, top: Any, message: str
) -> None:
    layout = Layout(tmp_path)
    account = "wx0123456789abcdef"
    layout.manifest_path(account).parent.mkdir(parents=True)
    layout.manifest_path(account).write_text(json.dumps(top))
    with pytest.raises(
        StoreError, match="is not a wxframe manifest: " + message.replace(".", r"\.")
    ):
        load_manifest(layout, account)


@pytest.mark.parametrize(
    ("part", "message"),
    [({"file": {}}, "it has no 'days' object"),
     ({"days": {}, "file": 3}, "its 'file' is not an object")],
)  # fmt: skip
def test_a_damaged_month_file_is_set_aside_with_its_reason(
    tmp_path: Path, part: Any, message: str
) -> None:
    layout = Layout(tmp_path)
    account = "wx0123456789abcdef"
    layout.manifest_path(account).parent.mkdir(parents=True)
    layout.manifest_path(account).write_bytes(dumps({"endpoints": {"getusersummary": {}}}))
    shard = layout.month_path(account, "getusersummary", "2024-01")
    shard.parent.mkdir(parents=True)
    shard.write_text(json.dumps(part))
    damaged: list[Any] = []
    assert load_manifest(layout, account, damaged=damaged).endpoints["getusersummary"].days == {}
    assert [(d.endpoint, d.month, d.why) for d in damaged] == [
        ("getusersummary", "2024-01", f"is not a wxframe manifest: {message}")
    ]
    with pytest.raises(StoreError, match=f"2024-01.json is not a wxframe manifest: {message}"):
        load_manifest(layout, account)


def test_a_file_record_staged_before_its_rename_settles_to_itself() -> None:
    staged = FileRecord(rows=2, size=30, sha256="a" * 64)
    record = FileRecord.from_json({"rows": 1, "bytes": 20, "sha256": "b" * 64, "v": 2})
    entry = EndpointRecord(windows=0)
    entry.files.replace_month("2024-01", {"2024-01": record})
    entry.stage("2024-01", staged)
    assert entry.files["2024-01"].next == staged and entry.files.touched == {"2024-01"}
    assert entry.files["2024-01"].to_json()["next"] == {"rows": 2, "bytes": 30, "sha256": "a" * 64}
    assert entry.files["2024-01"].settled() == record
    assert not entry.staged_only("2024-01")  # a file was recorded before
    entry.stage("2024-02", staged)
    assert entry.staged_only("2024-02") and entry.stored_months(None, None) == [
        "2024-01",
        "2024-02",
    ]
