"""Whose records are these: the endpoint a page's field names fit best.

An answer of one endpoint that holds another endpoint's records (a proxy that mixed
up two requests, an archive saved under the wrong name) types without an error: every
field the endpoint declares and the records lack becomes ``<NA>``, key fields
included, and the rows would be stored as final. The fetch engine and the import both
ask :func:`foreign_endpoint` before they keep a page.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from wxframe.endpoints import ENDPOINTS, ChannelRows, Endpoint, Positions
from wxframe.frames._decode import AnyPage, TablePage

__all__ = ["RECORDS_NAMED", "foreign_endpoint", "names_in", "names_of_page"]

#: How many records of a page are looked at for their field names.
RECORDS_NAMED = 200


def foreign_endpoint(spec: Endpoint, names: Iterable[str]) -> Endpoint | None:
    """The endpoint whose records carry ``names`` if it is not ``spec``, else ``None``.

    Best is the most names shared, then the fewest of its key fields missing, then the
    fewest of its fields missing; an endpoint is named only if the records carry all
    its key fields. Unknown fields count for none (the platform adds fields without
    notice), and a tie keeps ``spec`` (records may leave fields out).

    >>> summary = {"ref_date", "user_source", "new_user", "cancel_user"}
    >>> foreign_endpoint(ENDPOINTS["getarticleshare"], summary).name
    'getusersummary'
    >>> foreign_endpoint(ENDPOINTS["getusersummary"], summary) is None
    True
    """
    found = frozenset(names)
    if not found:
        return None  # no objects: typing the records names what they are

    def fit(other: Endpoint) -> tuple[int, int, int]:
        declared = _declared_names(other)
        keys = declared.intersection(other.key)
        return len(found & declared), -len(keys - found), -len(declared - found)

    named = [e for e in ENDPOINTS.values() if not _declared_names(e).intersection(e.key) - found]
    best = max(named, key=fit, default=spec)
    return best if fit(best) > fit(spec) else None


def names_in(value: object) -> set[str]:
    """The keys of an object and of the objects nested in it, at any depth.

    >>> sorted(names_in({"a": 1, "b": [{"c": 2}]}))
    ['a', 'b', 'c']
    """
    if isinstance(value, dict):
        out = set(value)
        for v in value.values():
            if isinstance(v, dict | list):
                out |= names_in(v)
        return out
    if isinstance(value, list):
        return set().union(*(names_in(v) for v in value[:RECORDS_NAMED]))
    return set()


def names_of_page(page: AnyPage) -> set[str]:
    """Every field name of ``page``'s records: a decoded table's columns and the fields
    of its nested structs, or the keys of the first :data:`RECORDS_NAMED` records."""
    if isinstance(page, TablePage):
        names: set[str] = set()
        for field in page.table.schema:
            names |= _field_names(field)
        return names
    return names_in(list(page[:RECORDS_NAMED]))


def _field_names(field: pa.Field) -> set[str]:
    out = {field.name}
    kind = field.type
    while pa.types.is_list(kind) or pa.types.is_large_list(kind):
        kind = kind.value_type
    if pa.types.is_struct(kind):
        for k in range(kind.num_fields):
            out |= _field_names(kind.field(k))
    return out


def _declared_names(spec: Endpoint) -> frozenset[str]:
    """Every name a record of ``spec`` has, as the registry declares it (nested ones and
    the fields it sends that carry nothing, as getuserreadhour's ``ori_page_*``)."""
    response = {f.name for f in spec.response_fields}
    names = {f.name for f in spec.all_fields if f.name not in response} | set(spec.ignored)
    for part in spec.nested_parts:
        names.add(part.name)
        if isinstance(part, ChannelRows):
            names |= {part.label, part.value}
        elif isinstance(part, Positions):
            names |= {part.key, part.value}
    return frozenset(names)
