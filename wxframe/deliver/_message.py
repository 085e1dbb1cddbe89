"""What one delivery carries: an account's period in a few lines, its alerts, the
headline chart and the report file; and each platform's way of writing it within its
limits."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

__all__ = ["Alert", "Message", "fit_bytes"]


@dataclass(frozen=True)
class Alert:
    """One alert rule that fired: ``rule`` names it (as the config does), ``text`` says
    what happened and what to do, in the report's language; ``fail`` makes ``wxframe
    run`` exit non-zero."""

    rule: str
    text: str
    fail: bool = False


@dataclass(frozen=True)
class Message:
    """One account's delivery for one period.

    ``headline`` holds ``(label, this period, change)`` rows as the report's headline
    table shows them; ``report`` is the rendered HTML file, ``chart`` the headline chart
    as PNG bytes (or None), ``link`` where the report is published (for destinations
    that cannot carry a file).

    >>> m = Message("wx5im0000000000001", date(2026, 11, 30), date(2026, 12, 6),
    ...             title="Weekly report", headline=[("readers", "562,599", "-17.3%")])
    >>> print(m.text())
    Weekly report: wx5im0000000000001, 2026-11-30..2026-12-06
    readers: 562,599 (-17.3%)
    """

    account: str
    begin: date
    end: date
    title: str
    headline: list[tuple[str, str, str]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    report: Path | None = None
    chart: bytes | None = None
    link: str | None = None
    lang: Literal["en", "zh"] = "en"
    #: What the delivery log knows this message by (default: :attr:`period`); alerts
    #: sent before the period's report have a key of their own.
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.period)

    @property
    def period(self) -> str:
        """The period as the delivery log and the messages name it: ``begin..end``."""
        return f"{self.begin.isoformat()}..{self.end.isoformat()}"

    @property
    def subject(self) -> str:
        return f"{self.title}: {self.account}, {self.period}"

    def _alert_heading(self) -> str:
        return "告警" if self.lang == "zh" else "Alerts"

    def _link_text(self) -> str:
        return "完整报告" if self.lang == "zh" else "Full report"

    def text(self, limit: int | None = None) -> str:
        """Plain text (alerts first), cut to ``limit`` bytes of UTF-8 if given."""
        lines = [self.subject]
        if self.alerts:
            lines += [f"{self._alert_heading()}:"] + [f"! {a.text}" for a in self.alerts]
        lines += [f"{label}: {value} ({change})" if change else f"{label}: {value}"
                  for label, value, change in self.headline]  # fmt: skip
        if self.link:
            lines.append(f"{self._link_text()}: {self.link}")
        return fit_bytes("\n".join(lines), limit)

    def markdown(self, limit: int | None = None) -> str:
        """Markdown as the robots render it (alerts first, then the headline), cut to
        ``limit`` bytes of UTF-8 on a line boundary if given."""
        # Blank lines between the blocks: CommonMark renderers (DingTalk's) would run the
        # title and the alerts into one paragraph otherwise; WeCom's shows them alike.
        lines = [f"**{self.title}** `{self.account}` {self.period}", ""]
        if self.alerts:
            lines += [f"**{self._alert_heading()}**"] + [f"> {a.text}" for a in self.alerts]
            lines.append("")
        lines += [f"- {label}: **{value}** {change}".rstrip()
                  for label, value, change in self.headline]  # fmt: skip
        if self.link:
            lines.append(f"[{self._link_text()}]({self.link})")
        return fit_bytes("\n".join(lines), limit)

    def html(self) -> str:
        """An HTML body (for mail): the same as :meth:`markdown`, as a small table."""
        esc = html.escape
        parts = [f"<p><b>{esc(self.title)}</b> {esc(self.account)} {esc(self.period)}</p>"]
        if self.alerts:
            parts.append(f"<p><b>{esc(self._alert_heading())}</b></p><ul>")
            parts += [f"<li>{esc(a.text)}</li>" for a in self.alerts]
            parts.append("</ul>")
        parts.append("<table>")
        parts += [f"<tr><th align=left>{esc(label)}</th><td align=right>{esc(value)}</td>"
                  f"<td align=right>{esc(change)}</td></tr>"
                  for label, value, change in self.headline]  # fmt: skip
        parts.append("</table>")
        if self.link:
            parts.append(f'<p><a href="{esc(self.link)}">{esc(self._link_text())}</a></p>')
        return "\n".join(parts)


def fit_bytes(text: str, limit: int | None) -> str:
    """``text`` within ``limit`` bytes of UTF-8: whole lines dropped from the end and
    a last line saying so; never a character cut in half.

    >>> fit_bytes("a\\nb\\nc\\nd", 6)
    'a\\n…'
    """
    if limit is None or len(text.encode()) <= limit:
        return text
    lines = text.split("\n")
    while lines:
        lines.pop()
        candidate = "\n".join([*lines, "…"])
        if len(candidate.encode()) <= limit:
            return candidate
    return "…"[: max(limit, 0)]
