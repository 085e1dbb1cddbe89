"""Reads: an endpoint's stored frame, its files as a dataset, and what the store holds.

A read opens only the month files its range can touch, and only files the manifest
lists: anything else under the root (a backup copy, a note) is never read.
"""

from __future__ import annotations

import functools
import operator
import warnings
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import PurePath

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from wxframe.dates import DateLike, as_date
from wxframe.endpoints import Endpoint, get_endpoint
from wxframe.errors import (
    ConfigurationError,
    StoreDamagedError,
    StoreDamagedWarning,
    StoreError,
)
from wxframe.frames import NULLABLE, conform, empty_frame, frame_dtypes
from wxframe.store._files import MANIFEST_DIR, UNREADABLE, Layout, reason
from wxframe.store._manifest import Manifest, Only, complete_from, load_manifest
from wxframe.store._schema import in_order

__all__ = ["coverage", "dataset", "days", "pick_account", "read"]

#: The account column while a read sorts in arrow (a name no field has).
_ACCOUNT = "__wxframe_account"
_CHECKED_PARQUET = ds.ParquetFileFormat(
    default_fragment_scan_options=ds.ParquetFragmentScanOptions(page_checksum_verification=True)
)
_PARTITIONING = ds.partitioning(
    pa.schema([("account", pa.string()), ("month", pa.string())]), flavor="hive"
)


def read(
    layout: Layout,
    endpoint: str,
    begin: DateLike | None,
    end: DateLike | None,
    *,
    account: str | None,
    columns: Sequence[str] | None,
) -> pd.DataFrame:
    """:meth:`Store.read <wxframe.Store.read>`."""
    spec = get_endpoint(endpoint)
    b = as_date(begin, "begin") if begin is not None else None
    e = as_date(end, "end") if end is not None else None
    if b and e and b > e:
        raise ConfigurationError(f"begin={b} is after end={e}")
    if columns is not None:
        known = frame_dtypes(spec)
        unknown = [c for c in columns if c not in known and c != "account"]
        if unknown:
            raise ConfigurationError(
                f"unknown column(s) {unknown} for {spec.name}; columns: {', '.join(known)}"
            )
    months = (b.strftime("%Y-%m") if b else "", e.strftime("%Y-%m") if e else "~")
    manifests = _manifests(layout, account, (spec.name, *months))
    _warn_unreadable(layout, spec, account, manifests, b, e)
    tables, accounts = [], []
    for acct, month, path in _files(layout, spec, manifests, b, e):
        table = _read_month(layout, spec, acct, month, path, manifests[acct])
        if "account" in table.column_names:
            table = table.drop_columns(["account"])
        if not _month_within(path.parent.name.removeprefix("month="), b, e):
            table = table.filter(_between(spec.partition, table[spec.partition].type, b, e))
        tables.append(table)
        accounts.append(pa.repeat(acct, table.num_rows))
    if not tables:
        df = empty_frame(spec)
        df.insert(0, "account", pd.Series(dtype="string"))
    else:
        # The union of the files' fields: one the platform added later, or one only
        # some accounts have, is kept (null where a file does not have it).
        table = pa.concat_tables(tables, promote_options="permissive")
        table = table.append_column(_ACCOUNT, pa.chunked_array(accounts, pa.string()))
        labels = _label_keys(spec)
        keys = [_ACCOUNT, *spec.key]
        if not labels and not in_order(table, keys):  # one file usually is: checked
            table = table.sort_by([(k, "ascending") for k in keys])  # stored values
        names = table.column(_ACCOUNT).to_pandas(types_mapper=NULLABLE.get)
        table = table.drop_columns([_ACCOUNT])
        df = conform(spec, table.to_pandas(types_mapper=NULLABLE.get), copy=False)
        df.insert(0, "account", names.array)
        if labels:  # a channel label: sorted by its categories' order, as loaders do
            df = df.sort_values(["account", *spec.key], ignore_index=True)
    if columns is not None:
        df = df[["account", *[c for c in columns if c != "account"]]]
    return df


def urls(layout: Layout, endpoint: str, *, account: str | None) -> list[str]:
    """:meth:`Store.urls <wxframe.Store.urls>`."""
    spec = get_endpoint(endpoint)
    manifests = _manifests(layout, account, (spec.name, "", "~"))
    return [layout.show(path) for _, _, path in _files(layout, spec, manifests, None, None)]


def dataset(layout: Layout, endpoint: str, *, account: str | None) -> ds.Dataset:
    """:meth:`Store.dataset <wxframe.Store.dataset>`."""
    spec = get_endpoint(endpoint)
    manifests = _manifests(layout, account, (spec.name, "", "~"))
    storage = layout.storage
    paths = [path for _, _, path in _files(layout, spec, manifests, None, None)]
    files = [storage.key(path) for path in paths]
    base = storage.key(layout.root / spec.name)
    if not files:
        raise StoreError(f"the store {layout.url} holds no {spec.name} files")
    schemas = []
    for path, f in zip(paths, files, strict=True):
        try:
            schemas.append(pq.read_schema(f, filesystem=storage.fs))
        except UNREADABLE as exc:
            raise StoreDamagedError(
                f"{layout.relative(path)} is damaged ({reason(exc, path)}): {layout.repair_hint}"
            ) from None
    try:
        schema = pa.unify_schemas(schemas, promote_options="permissive")
    except (TypeError, pa.ArrowException) as exc:
        raise StoreDamagedError(
            f"the {spec.name} files disagree on their fields ({exc}): run `wxframe verify "
            f"--store {layout.url}`"
        ) from None
    schema = schema.append(pa.field("account", pa.string())).append(pa.field("month", pa.string()))
    return ds.dataset(
        files,
        filesystem=storage.fs,
        schema=schema,
        format=_CHECKED_PARQUET,  # a scan checks each page's checksum
        partitioning=_PARTITIONING,
        partition_base_dir=base,
    )


def days(layout: Layout, *, account: str | None) -> pd.DataFrame:
    """:meth:`Store.days <wxframe.Store.days>`."""
    rows = []
    for acct in [account] if account is not None else layout.accounts():
        manifest = load_manifest(layout, acct)
        for name, entry in manifest.endpoints.items():
            for day, info in entry.days.items():
                d = date.fromisoformat(day)
                at = info.fetched_at
                rows.append((acct, name, d, at, at >= complete_from(d), info.is_final,
                             info.row_count))  # fmt: skip
    df = pd.DataFrame(
        rows,
        columns=["account", "endpoint", "ref_date", "fetched_at", "complete", "final", "rows"],
    )
    df["ref_date"] = pd.to_datetime(df["ref_date"]).astype("datetime64[ns]")
    df = df.astype({"account": "string", "endpoint": "string", "complete": bool,
                    "final": bool, "rows": "Int64"})  # fmt: skip
    return df.sort_values(["account", "endpoint", "ref_date"], ignore_index=True)


def coverage(layout: Layout) -> pd.DataFrame:
    """:meth:`Store.coverage <wxframe.Store.coverage>`."""
    rows = []
    for account in layout.accounts():
        manifest = load_manifest(layout, account)
        for name, held in manifest.held_days().items():
            entries = manifest.endpoints[name].days
            final = {date.fromisoformat(d) for d, info in entries.items() if info.is_final}
            refresh = sorted(set(held) - final)
            first, last = (min(held), max(held)) if held else (None, None)
            span = (last - first).days + 1 if first and last else 0
            rows.append(
                {
                    "account": account,
                    "endpoint": name,
                    "first": first,
                    "last": last,
                    "days_held": len(held),
                    "days_final": len(final),
                    "days_to_refresh": len(refresh),
                    "missing_days": span - len(held),
                    "refresh": ", ".join(d.isoformat() for d in refresh),
                    "rows": sum(info.row_count for info in entries.values()),
                }
            )
    return pd.DataFrame(rows, columns=[
        "account", "endpoint", "first", "last", "days_held", "days_final",
        "days_to_refresh", "missing_days", "refresh", "rows",
    ])  # fmt: skip


def pick_account(layout: Layout, account: str | None) -> str:
    """:meth:`Store.pick_account <wxframe.Store.pick_account>`."""
    accounts = layout.accounts()
    if account is not None and account not in accounts:
        raise ConfigurationError(
            f"account={account!r} is not in the store; it holds {', '.join(accounts) or 'none'}"
        )
    if account is None and len(accounts) != 1:
        if not accounts:
            raise ConfigurationError(
                f"the store {layout.url!r} holds no data: run `wxframe sync` first"
            )
        raise ConfigurationError(
            f"the store holds {len(accounts)} accounts ({', '.join(accounts)}): pass account="
        )
    return account if account is not None else accounts[0]


def _manifests(layout: Layout, account: str | None, only: Only | None) -> dict[str, Manifest]:
    """The manifest of ``account``, or of every account with one, read once (with
    ``only``, of one endpoint's months: see :func:`load_manifest`)."""
    accounts = [layout.checked_account(account)] if account else layout.manifest_accounts()
    return {acct: load_manifest(layout, acct, only) for acct in accounts}


def _warn_unreadable(
    layout: Layout,
    spec: Endpoint,
    account: str | None,
    manifests: dict[str, Manifest],
    b: date | None,
    e: date | None,
) -> None:
    """Say so when what a read returns is less than the store once held."""
    root, storage = layout.root, layout.storage
    if account is not None:  # only this account's files could be passed over
        held = storage.is_dir(root / spec.name / f"account={account}")
        orphans = [account] if held and not storage.exists(layout.manifest_path(account)) else []
    else:
        known = set(layout.manifest_accounts())
        orphans = [
            name
            for p in storage.glob(root, f"{spec.name}/account=*")
            if (name := p.name.removeprefix("account=")) not in known
        ]
    if orphans:
        warnings.warn(
            f"{layout.show(root / spec.name)} holds files of {', '.join(orphans)} with no "
            f"manifest in {layout.show(root / MANIFEST_DIR)}: a read does not take them "
            f"(`wxframe verify --store {layout.url}`)",
            StoreDamagedWarning,
            stacklevel=4,  # the caller of Store.read
        )
    low, high = (b.strftime("%Y-%m") if b else ""), (e.strftime("%Y-%m") if e else "~")
    for acct, manifest in manifests.items():
        lost = manifest.get(spec.name).lost or {}
        months = [m for m in sorted(lost) if low <= m <= high]
        if months:
            warnings.warn(
                f"{spec.name} of {acct}: the imported history of {', '.join(months)} was "
                "damaged and is not in this read; import its archive again",
                StoreDamagedWarning,
                stacklevel=4,
            )


def _files(
    layout: Layout,
    spec: Endpoint,
    manifests: dict[str, Manifest],
    b: date | None,
    e: date | None,
) -> Iterable[tuple[str, str, PurePath]]:
    """The month files the manifests list for ``spec`` in ``b..e`` (account, month,
    path): found from the layout, without listing the endpoint's folders."""
    for acct, manifest in manifests.items():
        entry = manifest.get(spec.name)
        for month in entry.stored_months(b, e):
            record = entry.files.get(month)
            path = layout.data_file(spec, acct, month, record.name if record else None)
            if entry.staged_only(month) and not layout.storage.exists(path):
                continue  # a crash before its first rename: nothing of it is held yet
            yield acct, month, path


def _read_month(
    layout: Layout, spec: Endpoint, account: str, month: str, path: PurePath, manifest: Manifest
) -> pa.Table:
    """One month file, its bytes checked against the SHA-256 the manifest recorded.

    A sync may have rewritten the month since the manifest was read: a content-named
    file is then gone once the grace period is over (none on a local disk), and in a
    store written before files were named by content its one file has other bytes. On
    a missing file or a mismatch the month's record is read again, once, and the file
    it names read before it is called damaged."""
    record = manifest.get(spec.name).files.get(month)
    digests = record.digests if record is not None else ()
    try:
        return layout.read_file(path, digests=digests)
    except StoreDamagedError:
        if not digests:
            raise
        again = load_manifest(layout, account, (spec.name, month, month))
        fresh = again.get(spec.name).files.get(month)
        if fresh is None or fresh.digests == digests:
            raise
        now = layout.data_file(spec, account, month, fresh.name)
        return layout.read_file(now, digests=fresh.digests)


def _label_keys(spec: Endpoint) -> list[str]:
    """Key columns that are labels rebuilt as categoricals on read (stored as text, so
    their order is the categories', not the text's)."""
    rows = spec.channel_rows
    return [k for k in spec.key if rows is not None and k == rows.codes.column]


def _month_within(month: str, begin: date | None, end: date | None) -> bool:
    """Whether every day of ``month`` (``YYYY-MM``) is within ``begin..end``."""
    first = date.fromisoformat(f"{month}-01")
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return (begin is None or begin <= first) and (end is None or last <= end)


def _between(name: str, kind: pa.DataType, begin: date | None, end: date | None) -> pc.Expression:
    """``begin <= name <= end`` (either bound optional) on a timestamp column."""
    bounds = []
    if begin is not None:
        bounds.append(pc.field(name) >= pa.scalar(pd.Timestamp(begin), kind))
    if end is not None:
        bounds.append(pc.field(name) <= pa.scalar(pd.Timestamp(end), kind))
    return functools.reduce(operator.and_, bounds)
