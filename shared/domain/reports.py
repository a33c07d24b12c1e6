"""The ministry's figures: metric names, date ranges and small-count suppression. No I/O.

Counts are of what happened on a day in Warsaw (a booking counts on the day it was made, a
vaccination on the day it was given). Open data never shows a figure under ``SUPPRESSION_THRESHOLD``,
so no person can be singled out; where one figure of a whole is hidden, the next smallest is hidden
too, or the whole minus the others would give it away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

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
    """Parts of a published whole, small ones hidden; a lone hidden part takes the next smallest with it."""
    shown: dict[str, int | None] = {key: suppressed(value) for key, value in parts.items()}
    hidden = [key for key, value in shown.items() if value is None]
    if len(hidden) == 1:
        visible = sorted((value, key) for key, value in parts.items() if shown[key] is not None)
        if visible:
            shown[visible[0][1]] = None
    return shown


def totals_by(counts: Iterable[DailyCount], event_type: str) -> dict[str, int]:
    """Events of one type per voivodeship."""
    result: dict[str, int] = {}
    for count in counts:
        if count.event_type == event_type:
            result[count.voivodeship] = result.get(count.voivodeship, 0) + count.events
    return result
