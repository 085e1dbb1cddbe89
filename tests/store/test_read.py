"""Reads: partitions pruned, filters applied, and the files readable by duckdb."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wxframe
from tests.conftest import SECRET, TODAY, Call, fixture_server, month_file
from wxframe import (
    Client,
    Store,
)
from wxframe.frames import in_order
from wxframe.simulator import serve
from wxframe.store._files import Layout
from wxframe.store._manifest import FileRecord, load_manifest, save_manifest

MAY_FIRST, MAY_LAST = date(2024, 5, 1), date(2024, 5, 31)


def summary_answer(extra_from: date | None) -> Any:
    """getusersummary rows for each day; from ``extra_from`` on, with a field wxframe does
    not know (as the platform adds fields without notice)."""

    def answer(call: Call) -> dict[str, Any]:
        rows = []
        for n in range(call.days):
            day = call.begin + timedelta(days=n)
            row = {"ref_date": day.isoformat(), "user_source": 0, "new_user": n, "cancel_user": 1}
            if extra_from is not None and day >= extra_from:
                row["new_user_from_live"] = 2 * n
            rows.append(row)
        return {"list": rows}

    return answer


def test_read_prunes_partitions_and_filters(tmp_path: Path) -> None:
    with serve(seed=0, today=TODAY) as s:
        store = Store(tmp_path)
        store.sync(s.client(), "2024-04-01", "2024-05-31", endpoints=["getuserread"])
        may = store.read("getuserread", "2024-05-10", "2024-05-12", columns=["int_page_read_count"])
        assert list(may.columns) == ["account", "int_page_read_count"]
        assert len(may) == 3 * 8
        everything = store.read("getuserread")
        assert everything["ref_date"].dt.month.unique().tolist() == [4, 5]
        assert store.read("getuserread", account="wx-other").empty
        files = sorted(p.parent.name for p in tmp_path.rglob("*.parquet"))
        assert files == ["month=2024-04", "month=2024-05"]
        with pytest.raises(wxframe.ConfigurationError, match="unknown column"):
            store.read("getuserread", columns=["nope"])


def test_duckdb_reads_the_store_as_it_is(tmp_path: Path) -> None:
    import duckdb  # a dev dependency: this test must run, not skip

    with serve(seed=0, today=TODAY) as s:
        store = Store(tmp_path)
        store.sync(s.client(), MAY_FIRST, MAY_LAST, endpoints=["getuserread"])
    pattern = str(tmp_path / "getuserread" / "**" / "*.parquet")
    got = duckdb.sql(
        f"select account, month, count(*) n, sum(int_page_read_count) reads "
        f"from read_parquet('{pattern}', hive_partitioning=true) "
        f"where user_source = 99999999 group by all"
    ).fetchall()
    df = store.read("getuserread")
    expected = int(df.loc[df["channel"] == "all", "int_page_read_count"].sum())
    assert got == [(s.appid, "2024-05", 31, expected)]


def test_a_field_some_files_lack_is_kept_in_every_read(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with fixture_server(summary_answer(extra_from=date(2026, 11, 1))) as server:
        # October first, so that the first file a read meets lacks the field
        for begin, end in (("2026-10-01", "2026-10-31"), ("2026-11-01", "2026-11-30")):
            store.sync(server.client(), begin, end, endpoints="getusersummary", progress=False)
        loaded = wxframe.load_user_summary(server.client(), "2026-11-01", "2026-11-07")
    df = store.read("getusersummary")
    assert len(df) == 61 and "new_user_from_live" in df.columns
    assert df["new_user_from_live"].dtype == loaded["new_user_from_live"].dtype == "Int64"
    october = df["ref_date"] < "2026-11-01"
    assert df.loc[october, "new_user_from_live"].isna().all()
    assert df.loc[~october, "new_user_from_live"].notna().all()
    assert len(store.read("getusersummary", "2026-10-01", "2026-10-31")) == 31


def test_a_month_rewritten_over_a_file_of_other_types_and_fields_keeps_both(
    tmp_path: Path,
) -> None:
    # A month file as an older wxframe (pandas 2) wrote it: text as 'string', not
    # 'large_string', its own pandas metadata, no field the platform added since. A sync
    # that adds the month's last days combines it with answers that have the field.
    store = Store(tmp_path)
    with fixture_server(summary_answer(extra_from=None)) as server:
        store.sync(server.client(), "2026-10-01", "2026-10-24", endpoints="getusersummary",
                   progress=False)  # fmt: skip
    path = month_file(store, "getusersummary", "2026-10")
    old = pq.read_table(path)
    older = pa.schema([(f.name, pa.string() if f.type == pa.large_string() else f.type)
                       for f in old.schema], metadata={b"pandas": b"{}"})  # fmt: skip
    pq.write_table(old.cast(older), path, compression="zstd")
    (account,) = store.accounts()
    manifest = load_manifest(Layout(store.root), account)
    record = FileRecord(rows=old.num_rows, size=path.stat().st_size, name=path.name,
                        sha256=hashlib.sha256(path.read_bytes()).hexdigest())  # fmt: skip
    manifest.endpoints["getusersummary"].files["2026-10"] = record
    save_manifest(Layout(store.root), account, manifest)
    assert store.verify().empty
    with fixture_server(summary_answer(extra_from=date(2026, 10, 20))) as server:
        store.sync(server.client(), "2026-10-25", "2026-10-31", endpoints="getusersummary",
                   progress=False)  # fmt: skip
    assert store.verify().empty
    # the rewrite is a new file, named by its content; the old one is kept for readers
    written = pq.read_table(month_file(store, "getusersummary", "2026-10"))
    assert written.schema.field("new_user_from_live").type == pa.int64()
    assert written.schema.metadata[b"pandas"] != b"{}"  # this wxframe's, with the new field
    df = store.read("getusersummary")
    assert len(df) == 31 and df["new_user_from_live"].dtype == "Int64"
    late = df["ref_date"] >= "2026-10-25"
    assert df.loc[late, "new_user_from_live"].notna().all()
    assert df.loc[~late, "new_user_from_live"].isna().all()
    # and a pandas reader of the file alone gets the nullable dtypes from its metadata
    plain = pd.read_parquet(month_file(store, "getusersummary", "2026-10"))
    plain = plain.drop(columns="source").dtypes
    assert plain.equals(df.drop(columns=["account", "source"]).dtypes)


def test_a_field_only_one_account_has_is_kept(tmp_path: Path) -> None:
    store = Store(tmp_path)
    plain, extra = "wxaaaaaaaaaaaaaaaa", "wxbbbbbbbbbbbbbbbb"
    for appid, extra_from in ((plain, None), (extra, date(2026, 1, 1))):
        with fixture_server(summary_answer(extra_from)) as server:
            client = Client(appid, SECRET, base_url=server.url, clock=server.client().now)
            store.sync(client, "2026-11-01", "2026-11-30", endpoints="getusersummary",
                       progress=False)  # fmt: skip
    df = store.read("getusersummary")
    by_account = df.groupby("account")["new_user_from_live"].count()
    assert by_account.to_dict() == {plain: 0, extra: 30}


def test_a_month_read_is_in_key_order_after_a_new_channel_label(tmp_path: Path) -> None:
    # Found by a hostile review: a label the platform adds mid-month makes the month
    # file's rows sorted as text (the categoricals of the two writes differ), so a read
    # of the one file must still sort by the categories' order.
    def answer(call: Call) -> dict[str, Any]:
        labels = {"全部": 9, "公众号消息": 3, "聊天会话": 2, "朋友圈": 1}
        if call.begin.day == 6:
            labels["新渠道"] = 1  # a channel the platform added
        sources = [{"user_count": n, "scene_desc": label} for label, n in labels.items()]
        detail = {"read_user": 9, "read_user_source": sources}
        return {"list": [{"ref_date": call.begin.isoformat(), "detail": detail}], "is_delay": False}

    store = Store(tmp_path)
    with fixture_server(answer) as server:
        for begin, end in (("2026-11-01", "2026-11-05"), ("2026-11-06", "2026-11-06")):
            store.sync(server.client(), begin, end, endpoints="getbizsummary", progress=False)
    for read in (
        store.read("getbizsummary"),
        store.read("getbizsummary", "2026-11-01", "2026-11-30"),
    ):
        assert read["channel"].cat.categories[-1] == "新渠道"
        resorted = read.sort_values(["account", "ref_date", "channel"], ignore_index=True)
        pd.testing.assert_frame_equal(read, resorted)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.text("ab", max_size=2)),
                max_size=8))  # fmt: skip
def test_the_reads_order_check_agrees_with_sorting(rows: list[tuple[int, int, str]]) -> None:
    # a read skips its sort when the rows are already in key order: the check must say
    # so exactly when sorting would change nothing
    table = pa.table({"a": [r[0] for r in rows], "b": [r[1] for r in rows],
                      "c": pa.array([r[2] for r in rows], pa.string())})  # fmt: skip
    keys = ["a", "b", "c"]
    assert in_order(table, keys) == (rows == sorted(rows))
