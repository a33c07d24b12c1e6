"""The ministry's figures: metric names, date ranges and small-count suppression. No I/O.

Counts are of what happened on a day in Warsaw (a booking counts on the day it was made, a
vaccination on the day it was given). Open data never shows a figure under ``SUPPRESSION_THRESHOLD``,
so no person can be singled out; where one figure of a whole is hidden, the next smallest is hidden
too, or the whole minus the others would give it away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from shared.domain.local_time import WARSAW

MAX_RANGE_DAYS = 366
SUPPRESSION_THRESHOLD = 10

# Metric -> the visit event type it counts (None: an SMS figure, which has no region).
VISIT_METRICS = {
    "bookings": "VisitBooked",
    "vaccinations": "VisitCompleted",
    "cancellations": "VisitCancelled",
    "no_shows": "VisitNoShow",
    "moves": "VisitMoved",
}
SMS_METRICS = {"sms_sent": "sent", "sms_failed": "failed", "sms_segments": "segments"}
METRICS = (*VISIT_METRICS, *SMS_METRICS)


class InvalidReportQuery(ValueError):
    """A report asked for something that is not a report: names the parameter at fault."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(detail)
        self.parameter = parameter
        self.detail = detail


@dataclass(frozen=True)
class SeriesQuery:
    metric: str
    first: date
    last: date
    voivodeship: str | None = None

    @classmethod
    def checked(cls, metric: str, first: date, last: date, voivodeship: str | None) -> SeriesQuery:
        if metric not in METRICS:
            raise InvalidReportQuery("metric", f"Nieznana miara; dostępne: {', '.join(METRICS)}")
        if last < first:
            raise InvalidReportQuery("to", "Koniec zakresu nie może być przed jego początkiem")
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise InvalidReportQuery("to", f"Zakres może mieć najwyżej {MAX_RANGE_DAYS} dni")
        if voivodeship is not None and metric in SMS_METRICS:
            raise InvalidReportQuery("voivodeship", "Ta miara nie ma podziału na województwa")
        return cls(metric, first, last, voivodeship)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def points(self, values: Mapping[date, int]) -> list[dict[str, object]]:
        """Every day of the range, 0 where nothing happened."""
        return [{"day": day.isoformat(), "value": int(values.get(day, 0))} for day in self.days()]


@dataclass(frozen=True)
class DailyCount:
    """How many events of a type happened on a day in a voivodeship."""

    day: date
    voivodeship: str
    event_type: str
    events: int


@dataclass(frozen=True)
class CapacityUse:
    """Places published for a day's visits, those taken (booked, given or missed) and doses given."""

    places: int
    booked: int
    vaccinated: int


def suppressed(value: int) -> int | None:
    """The figure as published: None when it is under the threshold."""
    return value if value >= SUPPRESSION_THRESHOLD else None


def suppress_parts(parts: Mapping[str, int]) -> dict[str, int | None]:
    """Parts of a published whole, small ones hidden. The whole minus the shown parts is the sum of the
    hidden ones, so more parts are hidden (smallest first) until that sum is 0 or at least the threshold."""
    shown: dict[str, int | None] = {key: suppressed(value) for key, value in parts.items()}
    visible = sorted((value, key) for key, value in parts.items() if shown[key] is not None)
    hidden_sum = sum(value for key, value in parts.items() if shown[key] is None)
    while 0 < hidden_sum < SUPPRESSION_THRESHOLD and visible:
        value, key = visible.pop(0)
        shown[key] = None
        hidden_sum += value
    return shown


def held_cumulative(daily: Iterable[int]) -> int | None:
    """A running total as published day after day: it moves only when it has grown by at least the
    threshold since it last moved, so the difference of any two published days is 0 or at least the
    threshold (day D minus day D-1 never gives a small count away). None until it first reaches it."""
    true_total, published = 0, 0
    for value in daily:
        true_total += value
        if true_total - published >= SUPPRESSION_THRESHOLD:
            published = true_total
    return published or None


def check_public_day(day: date, first: date, today: date) -> None:
    """Open data exists only for the programme's days: from its start to today (Warsaw)."""
    if not first <= day <= today:
        raise InvalidReportQuery("day", f"Dane są dostępne od {first.isoformat()} do {today.isoformat()}")


def warsaw_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants from the start of ``first`` to the end of ``last`` in Warsaw (a partition filter)."""
    start = datetime.combine(first, time(0), WARSAW).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), WARSAW).astimezone(UTC)
    return start, end


def totals_by(counts: Iterable[DailyCount], event_type: str) -> dict[str, int]:
    """Events of one type per voivodeship."""
    result: dict[str, int] = {}
    for count in counts:
        if count.event_type == event_type:
            result[count.voivodeship] = result.get(count.voivodeship, 0) + count.events
    return result
