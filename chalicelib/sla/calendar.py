"""Business calendars: weekly hours in a time zone, China's statutory holidays and make-up
workdays (调休, from ``chinese-calendar``), tenant closures and extra working days. Pure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from chalicelib.core.errors import ValidationFailedError

Interval = tuple[time, time]
MAX_DAYS = 800


class CalendarYearUnknownError(ValidationFailedError):
    code = "calendar_year_unknown"

    def __init__(self, year: int) -> None:
        super().__init__(f"China's holiday schedule for {year} is not published in this version of chinese-calendar; "
                         "add the year's closures and make-up workdays to the calendar, or upgrade.")
        self.year = year


@lru_cache(maxsize=1)
def _published_years() -> range:
    """The years whose holiday schedule the installed chinese-calendar knows."""
    from chinese_calendar.constants import holidays

    years = {d.year for d in holidays}
    return range(min(years), max(years) + 1)


@lru_cache(maxsize=4096)
def _statutory(day: date) -> tuple[bool, bool]:
    """(statutory holiday, make-up workday) for a date."""
    if day.year not in _published_years():
        raise CalendarYearUnknownError(day.year)
    import chinese_calendar

    holiday, name = chinese_calendar.get_holiday_detail(day)
    return (holiday and name is not None, chinese_calendar.is_workday(day) and day.weekday() >= 5)


@dataclass(frozen=True)
class BusinessCalendar:
    """When the clock runs. ``always_open`` is 24×7.

    Example
    -------
    >>> cal = BusinessCalendar.weekdays("09:00", "18:00")
    >>> cal.add(datetime(2026, 3, 6, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai")), timedelta(hours=2)).isoformat()
    '2026-03-09T02:00:00+00:00'
    """

    timezone: str = "Asia/Shanghai"
    weekly_hours: tuple[tuple[Interval, ...], ...] = field(default_factory=lambda: ((),) * 7)
    china_holidays: bool = True
    closures: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    always_open: bool = False

    @classmethod
    def twenty_four_seven(cls) -> BusinessCalendar:
        return cls(always_open=True, china_holidays=False)

    @classmethod
    def weekdays(cls, start: str, end: str, **kwargs: object) -> BusinessCalendar:
        hours = ((time.fromisoformat(start), time.fromisoformat(end)),)
        return cls(weekly_hours=(hours,) * 5 + ((), ()), **kwargs)  # type: ignore[arg-type]

    @property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _workday_hours(self) -> tuple[Interval, ...]:
        return next((h for h in self.weekly_hours[:5] if h), ())

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """Opening intervals on a local date."""
        if day in self.closures:
            return ()
        if day in self.extra_workdays:
            return self.weekly_hours[day.weekday()] or self._workday_hours()
        if self.china_holidays:
            holiday, makeup = _statutory(day)
            if holiday:
                return ()
            if makeup:
                return self.weekly_hours[day.weekday()] or self._workday_hours()
        return self.weekly_hours[day.weekday()]

    def _windows(self, start: datetime):  # noqa: ANN202 - generator of (open, close) in UTC
        local = start.astimezone(self._zone)
        day = local.date()
        for _ in range(MAX_DAYS):
            for opens, closes in self.hours_on(day):
                a = datetime.combine(day, opens, self._zone)
                b = datetime.combine(day + timedelta(days=1) if closes <= opens else day, closes, self._zone)
                yield a, b
            day += timedelta(days=1)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of business time after ``start``."""
        if self.always_open:
            return start + duration
        remaining = duration
        for opens, closes in self._windows(start):
            if closes <= start:
                continue
            begin = max(opens, start)
            available = closes - begin
            if remaining <= available:
                return (begin + remaining).astimezone(ZoneInfo("UTC"))
            remaining -= available
        raise ValidationFailedError("The calendar has no opening hours in the next two years.",
                                    code="calendar_never_open")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two moments."""
        if end <= start:
            return timedelta(0)
        if self.always_open:
            return end - start
        total = timedelta(0)
        for opens, closes in self._windows(start):
            if opens >= end:
                break
            begin, finish = max(opens, start), min(closes, end)
            if finish > begin:
                total += finish - begin
        return total
