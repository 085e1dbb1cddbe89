"""``wxframe run``: sync the accounts, render each one's report for the period, check
the alert rules, and deliver to every destination once."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from wxframe.accounts import sync_accounts
from wxframe.dates import beijing_now
from wxframe.deliver import Alert, Destination, Message
from wxframe.errors import (
    DeliveryError,
    EmptyPeriodError,
    StoreError,
    WxframeError,
    most_urgent,
)
from wxframe.job._alerts import evaluate
from wxframe.job._config import JobConfig, period_of
from wxframe.job._log import DeliveryLog
from wxframe.report import render_report
from wxframe.report.period import Period
from wxframe.store import Store

__all__ = ["Outcome", "RunSummary", "run_job"]


@dataclass(frozen=True)
class Outcome:
    """What became of one account's delivery to one destination: ``sent``,
    ``already sent``, ``unknown`` (a run stopped while it was being sent: not sent
    again without ``resend``), ``failed``, ``nothing to send`` or ``would send``."""

    account: str
    destination: str
    state: str
    detail: str = ""


@dataclass
class RunSummary:
    """What a run did: the period, each account's sync, report and alerts, each
    delivery's outcome, and the exit code (``wxframe --help``'s table)."""

    begin: date
    end: date
    synced: dict[str, str] = field(default_factory=dict)
    reports: dict[str, Path] = field(default_factory=dict)
    alerts: dict[str, list[Alert]] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        return most_urgent(self.statuses)


def run_job(
    config: JobConfig,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    resend: bool = False,
    say: Callable[[str], None] = print,
) -> RunSummary:
    """Run the job of ``config`` once (idempotent: a rerun of the same period syncs
    what is missing and sends nothing again, unless ``resend``). ``dry_run`` syncs,
    renders and sends nothing: it says what would be sent, where (never a secret).
    ``say`` receives one line per step."""
    begin, end = period_of(config.period, now or beijing_now())
    summary = RunSummary(begin, end)
    days = (end - begin).days + 1
    say(f"period {begin}..{end} ({config.period}), compared with the {days} days before")
    store = Store(config.store)
    log = DeliveryLog(config.store)
    if dry_run:
        results: dict[str, Any] = {}
        for account in config.accounts:  # what a run would meet first: its secret
            try:
                account.client().close()
                results[account.appid] = None
            except WxframeError as exc:
                results[account.appid] = exc
        say(f"would sync {len(config.accounts)} account(s) into {config.store} from "
            f"{begin - timedelta(days=days)} to {end}; the report is from the store as "
            "it is now")  # fmt: skip
    else:
        store.create()
        results = sync_accounts(store, config.accounts, begin - timedelta(days=days), end,
                                endpoints=config.endpoints)  # fmt: skip
    with log.locked() if not dry_run else contextlib.nullcontext():
        for appid, result in results.items():
            _account(config, store, log, appid, result, summary, dry_run, resend, say)
    return summary


def _account(
    config: JobConfig,
    store: Store,
    log: DeliveryLog,
    appid: str,
    result: Any,
    summary: RunSummary,
    dry_run: bool,
    resend: bool,
    say: Callable[[str], None],
) -> None:
    error = result if isinstance(result, WxframeError) else None
    synced = getattr(error, "summary", None) if error is not None else result
    if error is not None:
        summary.statuses.append(error.exit_status)
        summary.synced[appid] = f"not finished: {getattr(error, 'reason', '') or error}"
    elif result is not None:
        summary.synced[appid] = str(result)
        if getattr(result, "failed", None):
            summary.statuses.append(3)
    say(f"{appid}: sync {summary.synced.get(appid, 'skipped (dry run)')}")
    period = _period(store, appid, summary.begin, summary.end)
    alerts = evaluate(config.alerts, period=period, error=error, summary=synced,
                      lang=config.lang)  # fmt: skip
    summary.alerts[appid] = alerts
    for alert in alerts:
        say(f"{appid}: alert {alert.rule}: {alert.text}")
        if alert.fail:
            summary.statuses.append(1)
    message = _message(config, appid, summary, period, alerts)
    finished = error is None and (dry_run or not getattr(result, "failed", None))
    if not finished:
        # A sync that did not finish may lack days of the period: no
        # report that looks whole goes out. The alerts go, under a key of their own, so
        # the report is still sent once a later run has the period.
        message = dataclasses.replace(message, headline=[], key=f"{message.period} alerts")
        if not dry_run:
            say(f"{appid}: the sync did not finish: only alerts are sent; the report "
                "goes with the run that completes it")  # fmt: skip
    pending = [d for d in config.destinations
               if resend or log.state(appid, message.key, d.name) != "sent"]  # fmt: skip
    if period is not None and pending and finished:
        path = config.report_folder / appid / f"{message.period}.html"
        if dry_run:
            say(f"{appid}: would render the report to {path}")
        else:
            try:
                render_report(store.root, path, account=appid, begin=summary.begin,
                              end=summary.end, lang=config.lang)  # fmt: skip
                summary.reports[appid] = path
                say(f"{appid}: report {path}")
                message = dataclasses.replace(message, report=path, chart=_chart(period, config))
            except WxframeError as exc:
                summary.statuses.append(exc.exit_status)
                say(f"{appid}: the report was not rendered: {exc}")
    for destination in config.destinations:
        outcome = _deliver(destination, message, log, dry_run, resend)
        summary.outcomes.append(outcome)
        if outcome.state == "failed":
            summary.statuses.append(int(outcome.detail.split(":", 1)[0]))
        elif outcome.state == "unknown":
            summary.statuses.append(1)
        detail = outcome.detail.split(":", 1)[-1].strip() if outcome.detail else ""
        say(f"{appid} -> {destination.name}: {outcome.state}" + (f" ({detail})" if detail else ""))


def _period(store: Store, appid: str, begin: date, end: date) -> Period | None:
    """The account's period in the store, or None when it holds nothing of it."""
    try:
        period = Period(store, begin, end, account=appid)
        period.require_data()
    except (EmptyPeriodError, StoreError):
        return None
    except WxframeError:  # an account the store does not hold (its first sync failed)
        return None
    return period


def _message(
    config: JobConfig, appid: str, summary: RunSummary, period: Period | None, alerts: list[Alert]
) -> Message:
    headline: list[tuple[str, str, str]] = []
    if period is not None:
        table = period.headline(config.lang)
        this, change = table.columns[0], table.columns[2]
        headline = [(str(k), str(row[this]), str(row[change])) for k, row in table.iterrows()]
    link = None
    if config.link:
        link = config.link.format(account=appid, begin=summary.begin, end=summary.end)
    return Message(appid, summary.begin, summary.end, title=config.report_title(),
                   headline=headline, alerts=alerts, link=link, lang=config.lang)  # fmt: skip


def _chart(period: Period, config: JobConfig) -> bytes | None:
    """The headline chart: the period's readers by channel, as PNG."""
    import matplotlib.pyplot as plt
    from matplotlib.font_manager import FontProperties

    from wxframe.plots import cjk_font, plot_channel_mix

    rows = period.read("getbizsummary", period.begin, period.end)
    if rows.empty:
        return None
    ax = plot_channel_mix(rows, labels=config.lang, lang=config.lang)
    font = cjk_font()
    zh = config.lang == "zh" and font is not None  # else English: no boxes for glyphs
    chinese: dict[str, Any] = {"family": font} if zh else {}
    ax.set_title(f"{'各渠道阅读人数占比' if zh else 'Share of readers by channel'}, "
                 f"{period.begin}..{period.end}", fontdict=chinese)  # fmt: skip
    ax.set_xlabel("")
    ax.set_ylabel("阅读人数占比" if zh else "share of readers", fontdict=chinese)
    if (legend := ax.get_legend()) is not None:
        legend.set_title("渠道" if zh else "channel", prop=FontProperties(**chinese))
    figure = ax.get_figure(root=True)
    assert figure is not None
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def _deliver(
    destination: Destination, message: Message, log: DeliveryLog, dry_run: bool, resend: bool
) -> Outcome:
    account, period, name = message.account, message.key, destination.name
    if not destination.alerts:
        message = dataclasses.replace(message, alerts=[])
    if not message.headline and not message.alerts:
        return Outcome(account, name, "nothing to send", "no report of the period yet, no alert")
    state = log.state(account, period, name)
    if dry_run:
        if state == "sent" and not resend:
            return Outcome(account, name, "already sent")
        return Outcome(account, name, "would send", destination.describe())
    if state == "sent" and not resend:
        return Outcome(account, name, "already sent")
    if state == "sending" and not resend:
        return Outcome(account, name, "unknown", "a run stopped while sending this; check "
                       "the destination, and run again with --resend to send it")  # fmt: skip
    log.record(account, period, name, "sending")
    try:
        destination.send(message)
    except DeliveryError as exc:
        log.record(account, period, name, "failed", str(exc))
        return Outcome(account, name, "failed", f"{exc.exit_status}: {exc}")
    log.record(account, period, name, "sent")
    return Outcome(account, name, "sent")
