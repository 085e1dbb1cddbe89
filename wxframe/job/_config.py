"""A ``wxframe run`` config: the store, the accounts, the period, the report, the
destinations and the alert rules, every key checked before anything is asked or sent.

Secrets are never in the file: accounts name the variable holding their secret
(``secret_env``), destinations the variables holding keys and passwords (``*_env``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

from wxframe.accounts import Account, parse_accounts
from wxframe.dates import last_complete_day
from wxframe.deliver import Destination, make_destination
from wxframe.endpoints import CURRENT_ENDPOINTS, ENDPOINTS, LANGS, OFFLINE_ENDPOINTS
from wxframe.errors import ConfigurationError
from wxframe.report.period import METRIC_KEYS

__all__ = ["ALERT_KINDS", "PERIODS", "AlertRule", "JobConfig", "period_of", "read_config"]

#: The periods a config may name, in Beijing days ending on the last complete one.
PERIODS = ("last-week", "last-28-days", "last-month")
#: What an alert rule watches: a headline metric's change, or what the run met.
ALERT_KINDS = ("change", "sync", "offline", "access", "partial")
_TOP_KEYS = {"store", "account", "sync", "report", "destination", "alert"}


@dataclass(frozen=True)
class AlertRule:
    """One ``[[alert]]``: ``kind`` (``change``: ``metric`` changed by at most ``below``
    or at least ``above`` as a fraction of the previous period, and by at least
    ``floor`` in absolute terms; ``sync``: a sync did not finish; ``offline``: an
    endpoint was switched off; ``access``: the platform refused access; ``partial``:
    the period is not held in full); ``fail`` makes ``wxframe run`` exit 1 when it fires.
    """

    name: str
    kind: str
    metric: str | None = None
    below: float | None = None
    above: float | None = None
    floor: float = 0.0
    fail: bool = False


@dataclass
class JobConfig:
    """What ``wxframe run`` does, as its TOML file says (:func:`read_config`)."""

    path: Path
    store: Path
    accounts: list[Account]
    endpoints: list[str]
    period: str = "last-week"
    lang: Literal["en", "zh"] = "en"
    title: str | None = None
    reports: Path | None = None
    link: str | None = None
    destinations: list[Destination] = field(default_factory=list)
    alerts: list[AlertRule] = field(default_factory=list)

    @property
    def report_folder(self) -> Path:
        """Where the rendered reports are kept: ``[report] folder``, or ``STORE/_reports``."""
        return self.reports if self.reports is not None else self.store / "_reports"

    def report_title(self) -> str:
        if self.title:
            return self.title
        names = {"last-week": ("Weekly report", "公众号周报"),
                 "last-28-days": ("Four-week report", "公众号四周报告"),
                 "last-month": ("Monthly report", "公众号月报")}  # fmt: skip
        return names[self.period][self.lang == "zh"]


def period_of(name: str, now: datetime) -> tuple[date, date]:
    """The days ``name`` means at ``now``: Beijing days up to the last complete one.

    ``last-week``: the last Monday..Sunday wholly complete; ``last-28-days``: the 28
    days to the last complete day; ``last-month``: the last calendar month wholly
    complete.

    >>> from wxframe.dates import BEIJING
    >>> now = datetime(2026, 12, 7, 9, tzinfo=BEIJING)  # a Monday, after 08:00
    >>> [str(d) for d in period_of("last-week", now)]
    ['2026-11-30', '2026-12-06']
    >>> [str(d) for d in period_of("last-month", now)]
    ['2026-11-01', '2026-11-30']
    """
    last = last_complete_day(now)
    if name == "last-week":
        end = last - timedelta(days=(last.weekday() + 1) % 7)  # the last Sunday held
        return end - timedelta(days=6), end
    if name == "last-28-days":
        return last - timedelta(days=27), last
    if name == "last-month":
        first = last.replace(day=1)
        end = last if (last + timedelta(days=1)).day == 1 else first - timedelta(days=1)
        return end.replace(day=1), end
    raise ConfigurationError(f"period={name!r}; allowed: {', '.join(PERIODS)}")


def read_config(path: str | os.PathLike[str]) -> JobConfig:
    """The job of a TOML file, every key checked (one line naming the key and what is
    allowed); destinations' secrets read from their variables now, so a missing one is
    said before anything is synced.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     conf = pathlib.Path(d) / "wxframe.toml"
    ...     _ = conf.write_text('store = "s"\\n[[account]]\\nappid = "wxa"\\n'
    ...                         'secret_env = "S"\\n[report]\\nperiod = "last-month"\\n')
    ...     job = read_config(conf)
    >>> job.period, [a.appid for a in job.accounts], job.store.name
    ('last-month', ['wxa'], 's')
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: no such file (the job's TOML config)") from None
    except IsADirectoryError:
        raise ConfigurationError(f"{path} is a folder; give the job's TOML file") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path}: {exc}") from None
    except (UnicodeDecodeError, RecursionError):
        raise ConfigurationError(f"{path} is not UTF-8 TOML that wxframe can read") from None
    unknown = sorted(set(table) - _TOP_KEYS)
    if unknown:
        raise ConfigurationError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: "
                                 f"{', '.join(sorted(_TOP_KEYS))}")  # fmt: skip
    store = table.get("store")
    if not isinstance(store, str) or not store:
        raise ConfigurationError(f'{path}: store = "FOLDER" is needed (the parquet store)')
    listed = table.get("account")
    if not isinstance(listed, list) or not listed:
        raise ConfigurationError(f"{path}: no [[account]] tables (appid and secret_env each)")
    here = path.parent
    config = JobConfig(
        path=path,
        store=_relative(here, store),
        accounts=parse_accounts(listed, str(path)),
        endpoints=_endpoints(path, _table(path, table, "sync")),
    )
    _report(config, _table(path, table, "report"), here)
    config.destinations = _destinations(path, table.get("destination", []), here)
    config.alerts = _alerts(path, table.get("alert", []))
    return config


def _relative(here: Path, value: str) -> Path:
    """A path of the config, relative to the config's own folder."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else here / path


def _table(path: Path, table: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    part = table.get(key, {})
    if not isinstance(part, dict):
        raise ConfigurationError(f"{path}: [{key}] must be a table")
    return part


def _endpoints(path: Path, sync: Mapping[str, Any]) -> list[str]:
    unknown = sorted(set(sync) - {"family", "endpoints"})
    if unknown:
        raise ConfigurationError(f"{path}: [sync] unknown key(s) {', '.join(unknown)}; "
                                 "allowed: family, endpoints")  # fmt: skip
    if "endpoints" in sync:
        names = sync["endpoints"]
        if not isinstance(names, list) or not all(n in ENDPOINTS for n in names) or not names:
            raise ConfigurationError(
                f"{path}: [sync] endpoints must list endpoints of {', '.join(ENDPOINTS)}"
            )
        return list(names)
    family = sync.get("family", "current")
    families = {"current": CURRENT_ENDPOINTS, "offline": OFFLINE_ENDPOINTS, "all": ENDPOINTS}
    if family not in families:
        raise ConfigurationError(f"{path}: [sync] family={family!r}; allowed: current, "
                                 "offline, all")  # fmt: skip
    return list(families[family])


def _report(config: JobConfig, report: Mapping[str, Any], here: Path) -> None:
    where = f"{config.path}: [report]"
    unknown = sorted(set(report) - {"period", "lang", "title", "folder", "link"})
    if unknown:
        raise ConfigurationError(f"{where} unknown key(s) {', '.join(unknown)}; allowed: "
                                 "period, lang, title, folder, link")  # fmt: skip
    period = report.get("period", "last-week")
    if period not in PERIODS:
        raise ConfigurationError(f"{where} period={period!r}; allowed: {', '.join(PERIODS)}")
    lang = report.get("lang", "en")
    if lang not in LANGS:
        raise ConfigurationError(f"{where} lang={lang!r}; allowed: {', '.join(LANGS)}")
    for key in ("title", "folder", "link"):
        if key in report and not isinstance(report[key], str):
            raise ConfigurationError(f"{where} {key} must be a string")
    link = report.get("link")
    if link is not None and not link.startswith(("https://", "http://")):
        raise ConfigurationError(
            f"{where} link={link!r}; allowed: an http(s) URL, with {{account}}, {{begin}}, "
            "{end} where the report is published"
        )
    config.period = period
    config.lang = cast(Literal["en", "zh"], lang)
    config.title = report.get("title")
    config.reports = _relative(here, report["folder"]) if "folder" in report else None
    config.link = link


def _destinations(path: Path, listed: object, here: Path) -> list[Destination]:
    if not isinstance(listed, list):
        raise ConfigurationError(f"{path}: destination must be [[destination]] tables")
    out: list[Destination] = []
    for n, table in enumerate(listed, 1):
        if not isinstance(table, dict):
            raise ConfigurationError(f"{path}: destination {n} is not a table")
        name = table.get("name", f"{table.get('type', 'destination')}-{n}")
        if not isinstance(name, str) or not name or any(c in name for c in "/\\\n"):
            raise ConfigurationError(f"{path}: destination {n}: name must be a plain word")
        if isinstance(table.get("path"), str):  # a folder: relative to the config, as store
            table = {**table, "path": str(_relative(here, table["path"]))}
        out.append(make_destination(name, table))
    names = [d.name for d in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigurationError(f"{path}: destination names must differ: {', '.join(twice)}")
    return out


def _alerts(path: Path, listed: object) -> list[AlertRule]:
    if not isinstance(listed, list):
        raise ConfigurationError(f"{path}: alert must be [[alert]] tables")
    rules = []
    for n, table in enumerate(listed, 1):
        where = f"{path}: alert {n}"
        if not isinstance(table, dict):
            raise ConfigurationError(f"{where} is not a table")
        unknown = sorted(set(table) - {"name", "kind", "metric", "below", "above", "floor",
                                       "fail"})  # fmt: skip
        if unknown:
            raise ConfigurationError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: "
                                     "name, kind, metric, below, above, floor, fail")  # fmt: skip
        kind = table.get("kind", "change")
        if kind not in ALERT_KINDS:
            raise ConfigurationError(f"{where}: kind={kind!r}; allowed: {', '.join(ALERT_KINDS)}")
        numbers = {k: table[k] for k in ("below", "above", "floor") if k in table}
        for key, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigurationError(f"{where}: {key}={value!r}; allowed: a number")
        if not -1 < numbers.get("below", -0.5) < 0 or numbers.get("above", 1) <= 0:
            raise ConfigurationError(
                f"{where}: below and above are fractions of the previous period: below = "
                "-0.3 for a fall of 30 % (between -1 and 0), above = 0.5 for a rise of 50 %"
            )
        if numbers.get("floor", 0) < 0:
            raise ConfigurationError(f"{where}: floor={numbers['floor']!r}; allowed: >= 0")
        metric = table.get("metric")
        if kind == "change":
            if metric not in METRIC_KEYS:
                raise ConfigurationError(f"{where}: metric={metric!r}; allowed: "
                                         f"{', '.join(METRIC_KEYS)}")  # fmt: skip
            if "below" not in numbers and "above" not in numbers:
                raise ConfigurationError(
                    f"{where}: say below = -0.3 (a fall of 30 %) or above = 0.5 (a rise)"
                )
        if not isinstance(table.get("fail", False), bool):
            raise ConfigurationError(f"{where}: fail must be true or false")
        rules.append(AlertRule(
            name=str(table.get("name", metric or kind)), kind=kind, metric=metric,
            below=numbers.get("below"), above=numbers.get("above"),
            floor=float(numbers.get("floor", 0.0)), fail=table.get("fail", False),
        ))  # fmt: skip
    return rules
