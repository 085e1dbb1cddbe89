"""A destination: where a team reads its report. Each kind declares how it is
configured (which keys, which environment variables hold its secrets), what a dry run
says of it (never a secret) and how it sends one :class:`~wxframe.deliver.Message`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from wxframe.deliver._message import Message
from wxframe.errors import ConfigurationError

__all__ = ["DESTINATIONS", "Destination", "make_destination", "register", "secret_from"]


class Destination:
    """Base of every destination kind.

    A subclass sets ``kind`` (the config's ``type``), reads its table in
    :meth:`from_config` (secrets only through :func:`secret_from`), says what it would do
    in :meth:`describe` and does it in :meth:`send`, raising :class:`DeliveryError`
    (``exit_status`` 3 for a transient fault that retries did not cure, 2 for one to
    fix). ``alerts`` (from the table, default True) says whether alerts go there.
    """

    kind: ClassVar[str] = ""
    #: The keys its table may hold besides ``type``, ``name`` and ``alerts``.
    keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, *, alerts: bool = True) -> None:
        self.name = name
        self.alerts = alerts

    @classmethod
    def from_config(cls, name: str, table: Mapping[str, Any]) -> Destination:
        raise NotImplementedError

    def describe(self) -> str:
        """One line for ``--dry-run``: where it goes and what it carries; no secret."""
        raise NotImplementedError

    def send(self, message: Message) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:  # never the secrets the instance holds
        return f"{type(self).__name__}({self.name!r})"


#: Every destination kind by its config ``type``; filled by the modules that define them.
DESTINATIONS: dict[str, type[Destination]] = {}


def register(cls: type[Destination]) -> type[Destination]:
    """Class decorator: make ``cls`` a destination kind the config can name."""
    DESTINATIONS[cls.kind] = cls
    return cls


def secret_from(name: str, table: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    """The secret held by the environment variable ``table[key]`` names (the config
    holds names, never secrets): a ConfigurationError naming the destination, the key
    and the variable (never its value) when it is missing."""
    variable = table.get(key)
    if variable is None and not required:
        return ""
    if not isinstance(variable, str) or not variable.isidentifier():
        raise ConfigurationError(
            f"destination {name}: {key} names the environment variable that holds the "
            "secret (a name such as WECOM_KEY); do not put the secret in the file"
        )
    value = os.environ.get(variable)
    if not value:
        raise ConfigurationError(f"destination {name}: the variable {variable} ({key}) is not set")
    return value


def make_destination(name: str, table: Mapping[str, Any]) -> Destination:
    """A destination from its config table, every key checked before anything is sent."""
    kind = table.get("type")
    if kind not in DESTINATIONS:
        raise ConfigurationError(
            f"destination {name}: type={kind!r}; allowed: {', '.join(sorted(DESTINATIONS))}"
        )
    cls = DESTINATIONS[kind]
    unknown = sorted(set(table) - {"type", "name", "alerts", *cls.keys})
    if unknown:
        raise ConfigurationError(
            f"destination {name} ({kind}): unknown key(s) {', '.join(unknown)}; allowed: "
            f"{', '.join(('name', 'alerts', *cls.keys))}"
        )
    if not isinstance(table.get("alerts", True), bool):
        raise ConfigurationError(f"destination {name}: alerts must be true or false")
    return cls.from_config(name, table)
