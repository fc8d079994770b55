"""EventBridge schedule expressions: ``rate(value unit)`` and ``cron(...)``.

Why it looks like this: PutRule validates a ScheduleExpression once and the bus then asks, again and
again, when the rule fires next. :class:`Schedule` compiles the expression into sets of minutes,
hours, months and years plus one rule for days (day-of-month or day-of-week, never both), so that
:meth:`Schedule.next_fire_time` walks months, not minutes.

AWS's rules (EventBridge user guide, "Creating a rule that runs on a schedule"; LocalStack tests
recorded on AWS for the rate cases):

- Every invalid expression gives ``ValidationException`` "Parameter ScheduleExpression is not valid."
- ``rate(value unit)``: value a positive integer; unit ``minute``/``hour``/``day`` when the value is 1,
  ``minutes``/``hours``/``days`` otherwise; lower case, one space, nothing around it.
- ``cron(Minutes Hours Day-of-month Month Day-of-week Year)``, in UTC: six fields, each with the
  values and wildcards of the guide's table (``, - * /`` everywhere but day-of-week, which has
  ``, - * ? L #``; day-of-month adds ``? L W``); month names JAN-DEC, day-of-week 1-7 (1 = Sunday)
  or SUN-SAT; years 1970-2199; one of day-of-month and day-of-week must be ``?`` and the other not.
  ``L`` is the last day of the month (day-of-month) or Saturday, the last day of the week
  (day-of-week); ``6L`` the month's last Friday; ``3W`` the weekday nearest the 3rd within the
  month; ``3#2`` the month's second Tuesday, alone in its field. A range may wrap (hours ``20-2`` is
  20-23 and 0-2, as in the guide's examples) except for years.

Rate schedules count from the start time given to :class:`Schedule` (AWS: "A rate expression starts
when you create the scheduled event rule"): they fire at the start's minute plus whole periods, the
first one a full period after the start, because EventBridge schedules have minute precision.
"""

from __future__ import annotations

import calendar
import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from rulebus._errors import AwsError

__all__ = ["INVALID_SCHEDULE_EXPRESSION", "MAX_YEAR", "MIN_YEAR", "Schedule"]

INVALID_SCHEDULE_EXPRESSION = "Parameter ScheduleExpression is not valid."
MIN_YEAR = 1970
MAX_YEAR = 2199

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((.*)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
# Spelled out: calendar.month_abbr follows the locale.
_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_DAY_NAMES = {
    name: number for number, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)
}

# A day rule: the days of (year, month) on which the schedule fires, ascending.
DayRule = Callable[[int, int], list[int]]


class _Invalid(Exception):
    """Raised inside the parser; turned into AWS's one error text at the boundary."""


def _invalid() -> AwsError:
    return AwsError("ValidationException", INVALID_SCHEDULE_EXPRESSION)


# --------------------------------------------------------------------------------------------------
# Fields


@dataclass(frozen=True)
class _Field:
    low: int
    high: int
    names: dict[str, int]
    wraps: bool = True  # a range like 20-2 runs over the end (all but years)
    steps: bool = True  # "/" allowed (all but day-of-week, per the guide's table)


_MINUTES = _Field(0, 59, {})
_HOURS = _Field(0, 23, {})
_DAYS_OF_MONTH = _Field(1, 31, {})
_MONTH_FIELD = _Field(1, 12, _MONTH_NAMES)
_DAYS_OF_WEEK = _Field(1, 7, _DAY_NAMES, steps=False)
_YEARS = _Field(MIN_YEAR, MAX_YEAR, {}, wraps=False)


def _number(text: str, field: _Field) -> int:
    # UNVERIFIED: AWS's case rules for names; upper case only here, as the guide writes them.
    value = field.names.get(text)
    if value is None:
        if not text.isdigit():
            raise _Invalid
        value = int(text)
    if not field.low <= value <= field.high:
        raise _Invalid
    return value


def _run(start: int, end: int, step: int, field: _Field) -> list[int]:
    """start, start + step, ... through end, running over the field's end when end < start."""
    if end < start and not field.wraps:
        raise _Invalid
    span = field.high - field.low + 1
    length = (end - start) % span + 1
    return [field.low + (start - field.low + offset) % span for offset in range(0, length, step)]


def _element(text: str, field: _Field) -> list[int]:
    """One comma-separated element: ``*``, ``v``, ``a-b``, each optionally ``/step``."""
    base, slash, step_text = text.partition("/")
    step = 1
    if slash:
        if not field.steps or not step_text.isdigit():
            raise _Invalid
        step = int(step_text)
        # UNVERIFIED: AWS's bound on increments; at least 1, at most the field's span.
        if not 1 <= step <= field.high - field.low + 1:
            raise _Invalid
    if base == "*":
        return _run(field.low, field.high, step, field)
    first, dash, last = base.partition("-")
    start = _number(first, field)
    if dash:
        return _run(start, _number(last, field), step, field)
    return _run(start, field.high, step, field) if slash else [start]


def _values(text: str, field: _Field) -> frozenset[int]:
    return frozenset(value for element in text.split(",") for value in _element(element, field))


# --------------------------------------------------------------------------------------------------
# Day rules


def _weekday(year: int, month: int, day: int) -> int:
    """AWS's day-of-week number: 1 = Sunday ... 7 = Saturday."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _nearest_weekday(day: int) -> DayRule:
    """``nW``: the weekday nearest day n, without leaving the month (Quartz's rule)."""

    def days(year: int, month: int) -> list[int]:
        last = _last_day(year, month)
        if day > last:
            return []  # UNVERIFIED: 31W in a 30-day month never fires here
        weekday = _weekday(year, month, day)
        if weekday == 7:  # Saturday: the Friday before, or Monday when the 1st is a Saturday
            return [day + 2] if day == 1 else [day - 1]
        if weekday == 1:  # Sunday: the Monday after, or the Friday before at the month's end
            return [day - 2] if day == last else [day + 1]
        return [day]

    return days


def _days_of_month(text: str) -> DayRule:
    if text == "L":
        return lambda year, month: [_last_day(year, month)]
    if text.endswith("W"):
        return _nearest_weekday(_number(text[:-1], _DAYS_OF_MONTH))
    wanted = _values(text, _DAYS_OF_MONTH)
    return lambda year, month: sorted(day for day in wanted if day <= _last_day(year, month))


def _matching_days(year: int, month: int, keep: Callable[[int, int], bool]) -> list[int]:
    """The days of the month whose (day, AWS weekday) ``keep`` accepts."""
    return [day for day in range(1, _last_day(year, month) + 1) if keep(day, _weekday(year, month, day))]


def _nth_weekday(weekday: int, nth: int) -> DayRule:
    """``d#n``: the month's n-th day d of the week, if it has one."""
    return lambda year, month: _matching_days(year, month, lambda _day, wd: wd == weekday)[nth - 1 : nth]


def _last_weekday(weekday: int) -> DayRule:
    """``dL``: the month's last day d of the week."""
    return lambda year, month: _matching_days(year, month, lambda _day, wd: wd == weekday)[-1:]


def _days_of_week(text: str) -> DayRule:
    if text == "L":
        return _days_of_week("7")  # the last day of the week: Saturday
    if "#" in text:
        weekday_text, _, nth_text = text.partition("#")
        if not nth_text.isdigit() or not 1 <= int(nth_text) <= 5:
            raise _Invalid
        return _nth_weekday(_number(weekday_text, _DAYS_OF_WEEK), int(nth_text))
    if len(text) > 1 and text.endswith("L"):
        return _last_weekday(_number(text[:-1], _DAYS_OF_WEEK))
    wanted = _values(text, _DAYS_OF_WEEK)
    return lambda year, month: _matching_days(year, month, lambda _day, weekday: weekday in wanted)


# --------------------------------------------------------------------------------------------------
# Cron


@dataclass(frozen=True)
class _Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: DayRule
    months: frozenset[int]
    years: frozenset[int]

    def next_after(self, after: float) -> float:
        """The first fire time (a whole UTC minute) strictly after ``after``; inf if none is left."""
        first = max(math.floor(after / 60) * 60 + 60, 0)
        start = datetime.fromtimestamp(first, timezone.utc)
        for year in range(start.year, MAX_YEAR + 1):
            if year not in self.years:
                continue
            for month in range(1, 13):
                if month not in self.months or (year, month) < (start.year, start.month):
                    continue
                found = self._in_month(year, month, start)
                if found is not None:
                    return found
        return math.inf

    def _in_month(self, year: int, month: int, start: datetime) -> float | None:
        this_month = (year, month) == (start.year, start.month)
        for day in self.days(year, month):
            if this_month and day < start.day:
                continue
            today = this_month and day == start.day
            for hour in self.hours:
                if today and hour < start.hour:
                    continue
                now = today and hour == start.hour
                for minute in self.minutes:
                    if not now or minute >= start.minute:
                        return datetime(year, month, day, hour, minute, tzinfo=timezone.utc).timestamp()
        return None


def _compile_cron(body: str) -> _Cron:
    fields = body.split(" ")
    if len(fields) != 6 or not all(fields):
        raise _Invalid
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise _Invalid  # exactly one of the two must be "?"
    if "?" in (minutes, hours, month, year):
        raise _Invalid
    days = _days_of_month(day_of_month) if day_of_week == "?" else _days_of_week(day_of_week)
    return _Cron(
        minutes=tuple(sorted(_values(minutes, _MINUTES))),
        hours=tuple(sorted(_values(hours, _HOURS))),
        days=days,
        months=_values(month, _MONTH_FIELD),
        years=_values(year, _YEARS),
    )


# --------------------------------------------------------------------------------------------------
# Rate


@dataclass(frozen=True)
class _Rate:
    anchor: float  # the start's whole minute
    period: int  # seconds

    def next_after(self, after: float) -> float:
        periods = max(math.floor((after - self.anchor) / self.period) + 1, 1)
        return self.anchor + periods * self.period


def _compile_rate(match: re.Match[str], start: float) -> _Rate:
    value = int(match.group(1))
    unit = match.group(2)
    singular = not unit.endswith("s")
    if value < 1 or singular != (value == 1):
        raise _Invalid
    return _Rate(anchor=math.floor(start / 60) * 60, period=value * _UNIT_SECONDS[unit.rstrip("s")])


# --------------------------------------------------------------------------------------------------
# The compiled schedule


class Schedule:
    """A compiled ScheduleExpression; invalid ones raise AWS's ValidationException.

    ``start`` (UTC epoch seconds) is when the rule was created: rate schedules count from it.
    """

    __slots__ = ("_compiled", "expression", "kind")

    def __init__(self, expression: str, start: float = 0.0) -> None:
        self.expression = expression
        try:
            self._compiled = _compile(expression, start)
        except (_Invalid, ValueError):
            raise _invalid() from None
        self.kind = "rate" if isinstance(self._compiled, _Rate) else "cron"

    def next_fire_time(self, after: float) -> float:
        """The first fire time strictly after ``after`` (UTC epoch seconds), ``math.inf`` when the
        schedule never fires again (a cron past its last year, or one no date satisfies)."""
        if after == math.inf:
            return math.inf
        return self._compiled.next_after(max(after, -1e15))  # -1e15 s: long before any schedule

    def scheduled_event(self, rule_arn: str, account: str, region: str, fire_time: float) -> dict[str, Any]:
        """The event EventBridge emits when the rule fires (envelope recorded on AWS)."""
        minute = math.floor(fire_time / 60) * 60
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": account,
            "time": datetime.fromtimestamp(minute, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "resources": [rule_arn],
            "detail": {},
        }

    def __repr__(self) -> str:
        return f"Schedule({self.expression!r})"


def _compile(expression: Any, start: float) -> _Rate | _Cron:
    if not isinstance(expression, str):
        raise _Invalid
    rate = _RATE.fullmatch(expression)
    if rate is not None:
        return _compile_rate(rate, start)
    cron = _CRON.fullmatch(expression)
    if cron is not None:
        return _compile_cron(cron.group(1))
    raise _Invalid
