"""Dates as the platform counts them: Beijing calendar days, the 2014-12-01 floor,
the "yesterday, after 08:00" rule, and the request windows a load makes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple

from wxframe.errors import IncompleteDataWarning, InvalidDateError

__all__ = [
    "BEIJING",
    "FIRST_DAY",
    "DateLike",
    "Window",
    "as_date",
    "beijing_now",
    "check_range",
    "last_complete_day",
    "windows_between",
]

#: Beijing time (Asia/Shanghai has had no daylight saving since 1991).
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
#: The platform stores nothing before this day.
FIRST_DAY = date(2014, 12, 1)
#: Yesterday's numbers are final from this hour (Beijing time).
COMPLETE_HOUR = 8

DateLike = str | date | datetime
Clock = Callable[[], datetime]


class Window(NamedTuple):
    """One request: ``begin`` to ``end``, both included."""

    begin: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.begin).days + 1

    def __str__(self) -> str:
        return f"{self.begin.isoformat()}..{self.end.isoformat()}"


def beijing_now() -> datetime:
    """The current time in Beijing, timezone-aware."""
    return datetime.now(BEIJING)


def as_date(value: object, name: str = "date") -> date:
    """A calendar date from ``'YYYY-MM-DD'``, ``date``, ``datetime`` or ``pd.Timestamp``.

    A naive datetime's own date is taken; a timezone-aware one is first converted to
    Beijing time, the platform's calendar.

    Examples
    --------
    >>> as_date("2024-05-31")
    datetime.date(2024, 5, 31)
    >>> as_date("31/05/2024", "begin")
    Traceback (most recent call last):
    ...
    wxframe.errors.InvalidDateError: begin='31/05/2024' is not a date: use 'YYYY-MM-DD', ...
    """
    allowed = "use 'YYYY-MM-DD', a date, a datetime or a pandas Timestamp"
    if isinstance(value, datetime):  # pd.Timestamp is a datetime too
        if value != value:  # NaT
            raise InvalidDateError(f"{name}={value!r} is not a date: {allowed}")
        if value.tzinfo is not None:  # an instant: the platform's days are Beijing days
            value = value.astimezone(BEIJING)
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            if len(value) != 10:
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidDateError(f"{name}={value!r} is not a date: {allowed}") from None
    raise InvalidDateError(f"{name}={value!r} ({type(value).__name__}) is not a date: {allowed}")


def last_complete_day(now: datetime | None = None) -> date:
    """The latest day whose numbers are final: yesterday after 08:00 Beijing, else the day before.

    >>> last_complete_day(datetime(2024, 6, 1, 7, 59, tzinfo=BEIJING))
    datetime.date(2024, 5, 30)
    >>> last_complete_day(datetime(2024, 6, 1, 8, 0, tzinfo=BEIJING))
    datetime.date(2024, 5, 31)
    """
    now = (now or beijing_now()).astimezone(BEIJING)
    back = 1 if now.hour >= COMPLETE_HOUR else 2
    return now.date() - timedelta(days=back)


def check_range(
    begin: object,
    end: object,
    *,
    now: datetime | None = None,
    warn: bool = True,
    earliest: date = FIRST_DAY,
    endpoint: str | None = None,
    end_given: bool = True,
    stacklevel: int = 3,
) -> tuple[date, date]:
    """Validate a date range before any request is sent.

    ``begin <= end``, ``begin >= earliest`` (the platform's 2014-12-01, or the
    endpoint's own first day) and ``end <= yesterday`` (Beijing time); a range ending
    yesterday before 08:00 warns that the day may be incomplete. Each mistake has its
    own sentence: a begin not over yet, a begin after the end (``end_given=False``
    when the end is the caller's default, the last complete day), a begin before the
    first day, an end not over yet.

    >>> noon = datetime(2024, 6, 1, 12, tzinfo=BEIJING)
    >>> check_range("2024-05-01", "2024-06-01", now=noon)
    Traceback (most recent call last):
    ...
    wxframe.errors.InvalidDateError: end=2024-06-01 is not yet over in Beijing; allowed: ...
    """
    b = as_date(begin, "begin")
    e = as_date(end, "end")
    now = (now or beijing_now()).astimezone(BEIJING)
    yesterday = now.date() - timedelta(days=1)
    allowed = (
        f"{endpoint} has data from" if endpoint else "allowed:"
    ) + f" {earliest.isoformat()} to {yesterday.isoformat()} (yesterday, Beijing time)"
    if b > yesterday:
        when = "is today, not over yet" if b == now.date() else "is in the future"
        raise InvalidDateError(f"begin={b} {when} in Beijing (today is {now.date()}); {allowed}")
    if b > e and not end_given:
        raise InvalidDateError(
            f"begin={b} is after {e}, the last complete day (the default end): the "
            f"platform completes {b}'s numbers at 08:00 Beijing, it is {now:%H:%M}; "
            "begin earlier, or wait"
        )
    if b > e:
        raise InvalidDateError(f"begin={b} is after end={e}: begin must be on or before end")
    if b < earliest:
        first = f"{endpoint}'s first day" if endpoint else "the platform's first day"
        raise InvalidDateError(f"begin={b} is before {first}; {allowed}")
    if e > yesterday:
        raise InvalidDateError(f"end={e} is not yet over in Beijing; {allowed}")
    if warn and e == yesterday and now.hour < COMPLETE_HOUR:
        warnings.warn(
            f"end={e} is yesterday and it is {now:%H:%M} in Beijing: the platform completes "
            f"yesterday's numbers after 08:00, so this day may be partial",
            IncompleteDataWarning,
            stacklevel=stacklevel,
        )
    return b, e


def windows_between(begin: date, end: date, max_span: int) -> list[Window]:
    """Consecutive windows of ``max_span`` days from ``begin``, the last one shorter."""
    count = math.ceil(((end - begin).days + 1) / max_span)
    out = []
    for i in range(count):
        b = begin + timedelta(days=i * max_span)
        out.append(Window(b, min(b + timedelta(days=max_span - 1), end)))
    return out
