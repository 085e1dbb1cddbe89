"""Alert rules against what a run met: a metric's change past a threshold with an
absolute floor (3 -> 1 readers is not news), a sync that did not finish, an endpoint
switched off, access refused, a period not held in full."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wxframe.deliver import Alert
from wxframe.errors import SyncIncomplete, WxframeError
from wxframe.job._config import AlertRule
from wxframe.report.period import Period, label

__all__ = ["evaluate"]


def evaluate(
    rules: Sequence[AlertRule],
    *,
    period: Period | None,
    error: WxframeError | None,
    summary: Any | None,
    lang: str = "en",
) -> list[Alert]:
    """The alerts the rules raise for one account's run: its ``period`` in the store (None
    when the store holds nothing of it), the ``error`` that stopped its sync (if any),
    and the sync's ``summary``."""
    zh = lang == "zh"
    fired: list[Alert] = []
    for rule in rules:
        text = _check(rule, period=period, error=error, summary=summary, zh=zh)
        if text:
            fired.append(Alert(rule.name, text, fail=rule.fail))
    return fired


def _check(
    rule: AlertRule, *, period: Period | None, error: WxframeError | None, summary: Any, zh: bool
) -> str | None:
    if rule.kind == "change":
        return _change(rule, period, zh) if period is not None else None
    if rule.kind == "sync":
        failed = list(getattr(summary, "failed", None) or [])
        if error is not None:
            why = error.reason if isinstance(error, SyncIncomplete) and error.reason else error
            return (f"同步未完成：{why}" if zh else f"the sync did not finish: {why}")[:600]
        if failed:
            return (f"同步有 {len(failed)} 个窗口未取到，下次运行会重新获取" if zh else
                    f"the sync left {len(failed)} window(s) to fetch again next run")  # fmt: skip
        return None
    if rule.kind == "offline":
        offline = dict(getattr(summary, "offline", None) or {})
        if not offline:
            return None
        names = ", ".join(offline)
        return f"平台已停用接口：{names}" if zh else f"the platform switched off: {names}"
    if rule.kind == "access":
        if error is None or error.exit_status != 4:
            return None
        return (f"平台拒绝访问：{error}" if zh else f"the platform refuses access: {error}")[:600]
    if rule.kind == "partial":
        if period is None:
            return "本期没有任何数据" if zh else "the store holds nothing of the period"
        if period.is_held_in_full():
            return None
        return (f"本期数据不完整（{period.begin}..{period.end}）" if zh else
                f"the period {period.begin}..{period.end} is not held in full")  # fmt: skip
    raise AssertionError(rule.kind)  # read_config allows no other


def _change(rule: AlertRule, period: Period, zh: bool) -> str | None:
    assert rule.metric is not None  # read_config requires one for a change rule
    now, then = period.compare(rule.metric)
    if now is None or then is None or then == 0:
        return None  # not held in full, or nothing to compare with: the partial rule's
    change = now / then - 1
    if abs(now - then) < rule.floor:
        return None
    low = rule.below is not None and change <= rule.below
    high = rule.above is not None and change >= rule.above
    if not (low or high):
        return None
    name = label(rule.metric, "zh" if zh else "en")
    a, b = (
        (f"{now:.1%}", f"{then:.1%}") if "rate" in rule.metric else (f"{now:,.0f}", f"{then:,.0f}")
    )
    if zh:
        return f"{name}：本期 {a}，上期 {b}（{change:+.0%}）"
    return f"{name}: {a} against {b} the period before ({change:+.0%})"
