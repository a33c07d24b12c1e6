"""The ministry's reports: daily summary, time series and open data, over the reporting views.

Results are kept a few seconds per process: dashboards poll, and the figures are seconds behind
the events anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from datetime import date, timedelta
from typing import Any, Protocol

from shared.domain.reports import (
    SMS_METRICS,
    SUPPRESSION_THRESHOLD,
    VISIT_METRICS,
    CapacityUse,
    DailyCount,
    SeriesQuery,
    check_public_day,
    held_cumulative,
    suppress_parts,
    suppressed,
    totals_by,
)

MAX_CACHED = 1024
# Days closed per query when open data catches up (each query's bytes stay under the cap).
CLOSE_CHUNK_DAYS = 7


class ReportQueries(Protocol):
    """The reporting views, each event counted once."""

    def daily_events(self, first: date, last: date, voivodeship: str | None) -> list[DailyCount]:
        """Visit events per day (Warsaw), voivodeship and type, for the days first..last."""
        ...

    def daily_sms(self, first: date, last: date) -> dict[date, dict[str, int]]:
        """Per day (Warsaw): SMS ``sent``, ``failed`` and ``segments`` (paid for)."""
        ...

    def closed_through(self) -> date | None:
        """The last day whose open-data aggregates are written (None: none yet)."""
        ...

    def close_days(self, first: date, last: date) -> None:
        """Write the aggregates of the days first..last, read from their partitions only."""
        ...

    def closed_events(self, day: date) -> list[DailyCount]:
        """A closed day's visit events per voivodeship and type, from its aggregates."""
        ...

    def closed_first_doses(self, last: date) -> dict[date, dict[str, int]]:
        """First doses given per closed day up to ``last`` and age band, from the aggregates."""
        ...

    def live_first_doses(self, day: date) -> dict[str, int]:
        """First doses given on ``day`` (not closed yet) per age band, from its partitions."""
        ...

    def vaccine_events(self, day: date) -> dict[str, dict[str, int]]:
        """Visit events on ``day`` (Warsaw) per vaccine and type: {vaccine: {event_type: events}}."""
        ...

    def capacity_use(self, day: date) -> dict[str, CapacityUse]:
        """Places published for visits on ``day``, taken and given, per voivodeship (latest state)."""
        ...


class Reports:
    def __init__(
        self,
        queries: ReportQueries,
        clock: Callable[[], float],
        ttl_s: float = 5.0,
        *,
        today: Callable[[], date],
        first_day: date,
        closing_lock: Callable[[], AbstractContextManager[object]],
    ) -> None:
        self.queries = queries
        self.clock = clock
        self.ttl_s = ttl_s
        self.today = today
        self.first_day = first_day
        # Held while a process writes the aggregates of closed days, so they are written once.
        self.closing_lock = closing_lock
        self._closed_through: date | None = None
        self._cache: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def _cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        value = compute()
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[key] = (now + self.ttl_s, value)
        return value

    def _day_events(self, day: date) -> list[DailyCount]:
        return list(self._cached(("events", day), lambda: self.queries.daily_events(day, day, None)))

    def summary(self, day: date) -> dict[str, Any]:
        """What happened on ``day``: bookings made, doses given, cancellations, no-shows, SMS sent; by
        voivodeship and vaccine; and the use of the places published for that day's visits."""
        counts = self._day_events(day)
        sms = self._cached(("sms", day, day), lambda: self.queries.daily_sms(day, day)).get(day, {})
        vaccines: dict[str, dict[str, int]] = self._cached(("vaccines", day), lambda: self.queries.vaccine_events(day))
        capacity: dict[str, CapacityUse] = self._cached(("capacity", day), lambda: self.queries.capacity_use(day))
        bookings = totals_by(counts, VISIT_METRICS["bookings"])
        vaccinations = totals_by(counts, VISIT_METRICS["vaccinations"])
        no_shows = totals_by(counts, VISIT_METRICS["no_shows"])
        unused = CapacityUse(0, 0, 0)
        return {
            "day": day.isoformat(),
            "bookings": sum(bookings.values()),
            "vaccinations": sum(vaccinations.values()),
            "cancellations": sum(totals_by(counts, VISIT_METRICS["cancellations"]).values()),
            "no_shows": sum(no_shows.values()),
            "sms_sent": int(sms.get("sent", 0)),
            "by_voivodeship": [
                {
                    "voivodeship": v,
                    "bookings": bookings.get(v, 0),
                    "vaccinations": vaccinations.get(v, 0),
                    "no_shows": no_shows.get(v, 0),
                    "places": capacity.get(v, unused).places,
                    "booked": capacity.get(v, unused).booked,
                }
                for v in sorted(set(bookings) | set(vaccinations) | set(no_shows) | set(capacity))
            ],
            "by_vaccine": [
                {
                    "vaccine": vaccine,
                    "bookings": events.get(VISIT_METRICS["bookings"], 0),
                    "vaccinations": events.get(VISIT_METRICS["vaccinations"], 0),
                }
                for vaccine, events in sorted(vaccines.items())
            ],
            "capacity": {
                "places": sum(use.places for use in capacity.values()),
                "booked": sum(use.booked for use in capacity.values()),
                "vaccinated": sum(use.vaccinated for use in capacity.values()),
            },
        }

    def timeseries(self, query: SeriesQuery) -> dict[str, Any]:
        values: dict[date, int] = {}
        if query.metric in SMS_METRICS:
            column = SMS_METRICS[query.metric]
            sms = self._cached(
                ("sms", query.first, query.last), lambda: self.queries.daily_sms(query.first, query.last)
            )
            values = {day: int(figures.get(column, 0)) for day, figures in sms.items()}
        else:
            event_type = VISIT_METRICS[query.metric]
            counts = self._cached(
                ("events", query.first, query.last, query.voivodeship),
                lambda: self.queries.daily_events(query.first, query.last, query.voivodeship),
            )
            for count in counts:
                if count.event_type == event_type:
                    values[count.day] = values.get(count.day, 0) + count.events
        return {"metric": query.metric, "points": query.points(values)}

    def _close_through(self, last: date) -> None:
        """Aggregates written for every programme day up to ``last``, once: under the lock, each
        missing day is read from its own partitions in one pass and never again."""
        if last < self.first_day or (self._closed_through is not None and self._closed_through >= last):
            return
        with self.closing_lock():
            closed = self.queries.closed_through()
            first = max(self.first_day, closed + timedelta(days=1)) if closed else self.first_day
            while first <= last:
                chunk_last = min(last, first + timedelta(days=CLOSE_CHUNK_DAYS - 1))
                self.queries.close_days(first, chunk_last)
                first = chunk_last + timedelta(days=1)
            self._closed_through = max(last, closed or last)

    def public(self, day: date) -> dict[str, Any]:
        """Open data for ``day`` (a programme day): national and per-voivodeship totals and people
        vaccinated per age band, no figure (nor difference of figures) under the threshold.

        Closed days come from their aggregates; today from today's partitions only."""
        today = self.today()
        check_public_day(day, self.first_day, today)
        yesterday = today - timedelta(days=1)
        self._close_through(yesterday)
        if day < today:
            counts = list(self._cached(("closed", day), lambda: self.queries.closed_events(day)))
        else:
            counts = self._day_events(day)
        daily: dict[date, dict[str, int]] = dict(
            self._cached(
                ("first_doses", min(day, yesterday)), lambda: self.queries.closed_first_doses(min(day, yesterday))
            )
        )
        if day == today:
            daily[today] = self._cached(("live_first_doses", today), lambda: self.queries.live_first_doses(today))
        bands = sorted({band for figures in daily.values() for band in figures})
        people = {band: held_cumulative(daily[d].get(band, 0) for d in sorted(daily)) for band in bands}
        bookings = totals_by(counts, VISIT_METRICS["bookings"])
        vaccinations = totals_by(counts, VISIT_METRICS["vaccinations"])
        shown_bookings = suppress_parts(bookings)
        shown_vaccinations = suppress_parts(vaccinations)
        return {
            "day": day.isoformat(),
            "suppressed_below": SUPPRESSION_THRESHOLD,
            "national": {
                "bookings": suppressed(sum(bookings.values())),
                "vaccinations": suppressed(sum(vaccinations.values())),
                # The sum of the bands as shown: the national figure minus them gives nothing away.
                "vaccinated_people": suppressed(sum(n for n in people.values() if n is not None)),
            },
            "by_voivodeship": [
                {"voivodeship": v, "bookings": shown_bookings.get(v, None), "vaccinations": shown_vaccinations.get(v)}
                for v in sorted(set(bookings) | set(vaccinations))
            ],
            "by_age_band": [{"age_band": band, "vaccinated_people": people[band]} for band in bands],
        }
