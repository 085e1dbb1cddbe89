"""Damage that keeps a file's size: a changed byte of a month file is never read as data.

Month files carry parquet page checksums, and a read checks them and the file's SHA-256
as the manifest recorded it (the footer has no page checksum)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import month_file
from wxframe import Store, StoreDamagedError, StoreError
from wxframe.cli import main
from wxframe.store._files import Layout
from wxframe.store._manifest import FileRecord, load_manifest, save_manifest

Synced = tuple[Store, dict[str, pd.DataFrame]]


def _flip(path: Path, at: int, mask: int = 0xFF) -> bytes:
    """Flip the bits of ``mask`` in byte ``at`` of ``path``; the bytes before."""
    data = path.read_bytes()
    changed = bytearray(data)
    changed[at] ^= mask
    path.write_bytes(bytes(changed))
    return data


@pytest.mark.parametrize("where", ["byte 100", "the middle"])
def test_a_changed_byte_is_a_store_error_naming_the_file_and_the_repair(
    synced: Synced, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store, _ = synced
    path = month_file(store, "getusersummary", "2026-09")
    _flip(path, 100 if where == "byte 100" else path.stat().st_size // 2)
    with pytest.raises(StoreDamagedError) as caught:
        store.read("getusersummary")
    message = str(caught.value)
    assert str(path.relative_to(store.root)) in message
    assert f"wxframe verify --store {store.root} --repair" in message
    assert len(store.read("getusercumulate")) > 0  # the other endpoint's files are sound
    # verify names the same file, and --repair brings the store back to reading
    assert main(["verify", "--store", str(store.root)]) == 1
    assert "getusersummary 2026-09" in " ".join(capsys.readouterr().out.split())


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_changed_byte_is_detected_or_harmless(synced: Synced, data: st.DataObject) -> None:
    store, sound = synced
    name = data.draw(st.sampled_from(sorted(sound)), label="endpoint")
    path = month_file(store, name, data.draw(st.sampled_from(["2026-09", "2026-10"])))
    at = data.draw(st.integers(0, path.stat().st_size - 1), label="byte")
    mask = data.draw(st.integers(1, 255), label="mask")
    before = _flip(path, at, mask)
    try:
        got: pd.DataFrame | StoreError = store.read(name)
    except StoreError as exc:
        got = exc
    finally:
        path.write_bytes(before)
    if isinstance(got, StoreError):  # detected: the file and the repair named
        assert str(path.relative_to(store.root)) in str(got) and "--repair" in str(got)
    else:  # or harmless (a byte no read uses): never different values
        pd.testing.assert_frame_equal(got, sound[name])


def test_month_files_carry_page_checksums_any_parquet_reader_checks(synced: Synced) -> None:
    store, _ = synced
    path = month_file(store, "getusersummary", "2026-10")
    sound = pq.read_table(path)
    _flip(path, 100)  # inside the first data page
    with pytest.raises((OSError, pa.ArrowException), match="CRC"):
        pq.read_table(path, page_checksum_verification=True)
    with pytest.raises((OSError, pa.ArrowException), match="CRC"):
        store.dataset("getusersummary").to_table()
    assert sound.num_rows > 0


@pytest.mark.parametrize("recorded", ["sha256", "no sha256"])
def test_files_written_before_page_checksums_still_read(synced: Synced, recorded: str) -> None:
    """A store written before this change: no page checksums (and, older still, no
    SHA-256 in the manifest) reads as it did, and verifies sound."""
    store, sound = synced
    layout = Layout(store.root)
    (account,) = store.accounts()
    manifest = load_manifest(layout, account)
    for month in ("2026-09", "2026-10"):
        # as a store written before files were named by content: data.parquet, no
        # name in its record
        path = month_file(store, "getusersummary", month).with_name("data.parquet")
        pq.write_table(pq.read_table(month_file(store, "getusersummary", month)), path,
                       compression="zstd")  # no page CRCs  # fmt: skip
        old = manifest.endpoints["getusersummary"].files[month]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        manifest.endpoints["getusersummary"].files[month] = FileRecord(
            rows=old.rows,
            size=path.stat().st_size,
            sha256=digest if recorded == "sha256" else None,
        )
    save_manifest(layout, account, manifest)
    pd.testing.assert_frame_equal(store.read("getusersummary"), sound["getusersummary"])
    assert store.verify().empty
