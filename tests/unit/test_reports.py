"""Reports: metric names, ranges, summary assembly, caching and small-count suppression (no I/O)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from shared.domain.reports import (
    MAX_RANGE_DAYS,
    CapacityUse,
    DailyCount,
    InvalidReportQuery,
    SeriesQuery,
    held_cumulative,
    suppress_parts,
    suppressed,
)
from shared.services.reports import Reports
from tests.unit.fakes import FakeReportQueries

DAY = date(2026, 3, 10)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


FIRST_DAY = date(2026, 1, 1)


def reports_on(fake: FakeReportQueries, clock: Clock | None = None, ttl_s: float = 5.0, today: date = DAY) -> Reports:
    return Reports(fake, clock or Clock(), ttl_s, today=lambda: today, first_day=FIRST_DAY, closing_lock=threading.Lock)


def queries() -> FakeReportQueries:
    fake = FakeReportQueries()
    fake.counts = [
        DailyCount(DAY, "14", "VisitBooked", 120),
        DailyCount(DAY, "14", "VisitCompleted", 80),
        DailyCount(DAY, "12", "VisitBooked", 30),
        DailyCount(DAY, "12", "VisitCompleted", 4),
        DailyCount(DAY, "02", "VisitBooked", 11),
        DailyCount(DAY, "02", "VisitCompleted", 25),
        DailyCount(DAY, "14", "VisitCancelled", 7),
        DailyCount(DAY, "12", "VisitNoShow", 2),
        DailyCount(DAY - timedelta(days=1), "14", "VisitBooked", 9),
    ]
    fake.sms = {DAY: {"sent": 140, "failed": 3, "segments": 290}}
    fake.vaccines = {DAY: {"comirnaty": {"VisitBooked": 150, "VisitCompleted": 100, "VisitNoShow": 2},
                           "jcovden": {"VisitBooked": 11, "VisitCompleted": 9}}}  # fmt: skip
    fake.capacity = {DAY: {"14": CapacityUse(400, 300, 80), "12": CapacityUse(50, 40, 4), "30": CapacityUse(20, 0, 0)}}
    fake.first_doses = [(DAY, "60-69")] * 12 + [(DAY, "18-29")] * 3 + [(DAY - timedelta(days=3), "30-39")] * 40
    return fake


def test_summary_adds_up_the_day_per_voivodeship() -> None:
    assert reports_on(queries(), Clock()).summary(DAY) == {
        "day": "2026-03-10", "bookings": 161, "vaccinations": 109, "cancellations": 7, "no_shows": 2,
        "sms_sent": 140,
        "by_voivodeship": [
            {"voivodeship": "02", "bookings": 11, "vaccinations": 25, "no_shows": 0, "places": 0, "booked": 0},
            {"voivodeship": "12", "bookings": 30, "vaccinations": 4, "no_shows": 2, "places": 50, "booked": 40},
            {"voivodeship": "14", "bookings": 120, "vaccinations": 80, "no_shows": 0, "places": 400, "booked": 300},
            {"voivodeship": "30", "bookings": 0, "vaccinations": 0, "no_shows": 0, "places": 20, "booked": 0},
        ],
        "by_vaccine": [
            {"vaccine": "comirnaty", "bookings": 150, "vaccinations": 100},
            {"vaccine": "jcovden", "bookings": 11, "vaccinations": 9},
        ],
        "capacity": {"places": 470, "booked": 340, "vaccinated": 84},
    }  # fmt: skip


def test_a_day_with_nothing_is_all_zeros() -> None:
    summary = reports_on(FakeReportQueries(), Clock()).summary(DAY)
    assert (summary["bookings"], summary["sms_sent"], summary["by_voivodeship"]) == (0, 0, [])
    assert summary["by_vaccine"] == []
    assert summary["capacity"] == {"places": 0, "booked": 0, "vaccinated": 0}


def test_results_are_kept_for_the_cache_time_then_read_again() -> None:
    fake, clock = queries(), Clock()
    reports = reports_on(fake, clock, ttl_s=5)
    reports.summary(DAY)
    calls = fake.calls
    clock.now = 4.9
    reports.summary(DAY)
    assert fake.calls == calls
    fake.counts.append(DailyCount(DAY, "14", "VisitBooked", 1))
    clock.now = 5.1
    assert reports.summary(DAY)["bookings"] == 162
    assert fake.calls > calls


def test_timeseries_fills_every_day_and_filters_the_voivodeship() -> None:
    reports = reports_on(queries(), Clock())
    first = DAY - timedelta(days=2)
    assert reports.timeseries(SeriesQuery.checked("bookings", first, DAY, "14"))["points"] == [
        {"day": "2026-03-08", "value": 0},
        {"day": "2026-03-09", "value": 9},
        {"day": "2026-03-10", "value": 120},
    ]
    assert reports.timeseries(SeriesQuery.checked("sms_segments", DAY, DAY, None)) == {
        "metric": "sms_segments",
        "points": [{"day": "2026-03-10", "value": 290}],
    }


@pytest.mark.parametrize(
    ("metric", "first", "last", "voivodeship", "parameter"),
    [
        ("bogus", DAY, DAY, None, "metric"),
        ("'; DROP TABLE visit_events; --", DAY, DAY, None, "metric"),
        ("bookings", DAY, DAY - timedelta(days=1), None, "to"),
        ("bookings", DAY - timedelta(days=MAX_RANGE_DAYS), DAY, None, "to"),
        ("sms_sent", DAY, DAY, "14", "voivodeship"),
    ],
)
def test_unknown_metrics_and_bad_ranges_are_refused(
    metric: str, first: date, last: date, voivodeship: str | None, parameter: str
) -> None:
    with pytest.raises(InvalidReportQuery) as refused:
        SeriesQuery.checked(metric, first, last, voivodeship)
    assert refused.value.parameter == parameter


def test_the_longest_range_is_accepted() -> None:
    query = SeriesQuery.checked("bookings", DAY - timedelta(days=MAX_RANGE_DAYS - 1), DAY, None)
    assert len(query.days()) == MAX_RANGE_DAYS


def test_a_figure_under_ten_is_suppressed() -> None:
    assert (suppressed(9), suppressed(10), suppressed(0)) == (None, 10, None)


def test_a_lone_hidden_part_takes_the_next_smallest_with_it() -> None:
    assert suppress_parts({"02": 11, "12": 4, "14": 120}) == {"02": None, "12": None, "14": 120}
    # 3 + 4 hidden would still give 7 away (the whole minus the rest): the next part goes too
    assert suppress_parts({"02": 3, "12": 4, "14": 120}) == {"02": None, "12": None, "14": None}
    assert suppress_parts({"02": 3, "12": 4, "30": 6, "14": 120}) == {"02": None, "12": None, "30": None, "14": 120}
    assert suppress_parts({"02": 30, "14": 120}) == {"02": 30, "14": 120}


def test_public_figures_never_show_a_count_under_ten() -> None:
    public = reports_on(queries()).public(DAY)
    assert public == {
        "day": "2026-03-10",
        "suppressed_below": 10,
        # vaccinated people: the sum of the bands as shown (40 + 12), so it gives none of the hidden away
        "national": {"bookings": 161, "vaccinations": 109, "vaccinated_people": 52},
        "by_voivodeship": [
            # 12's 4 vaccinations are hidden, and 02's 25 with them, or national minus the rest would give them away
            {"voivodeship": "02", "bookings": 11, "vaccinations": None},
            {"voivodeship": "12", "bookings": 30, "vaccinations": None},
            {"voivodeship": "14", "bookings": 120, "vaccinations": 80},
        ],
        "by_age_band": [
            {"age_band": "18-29", "vaccinated_people": None},
            {"age_band": "30-39", "vaccinated_people": 40},
            {"age_band": "60-69", "vaccinated_people": 12},
        ],
    }


def test_a_running_total_moves_only_by_ten_or_more() -> None:
    assert held_cumulative([7, 5, 3, 0, 9, 1]) == 24  # the last 1 is held back
    totals = [held_cumulative([7, 5, 3, 0, 9, 1][:n]) for n in range(1, 7)]
    assert totals == [None, 12, 12, 12, 24, 24]
    assert held_cumulative([3, 3, 3]) is None


def test_open_data_is_refused_outside_the_programme() -> None:
    reports = reports_on(queries(), today=DAY)
    for day in (FIRST_DAY - timedelta(days=1), DAY + timedelta(days=1), date(2198, 1, 1)):
        with pytest.raises(InvalidReportQuery) as refused:
            reports.public(day)
        assert refused.value.parameter == "day"
    assert reports.public(FIRST_DAY)["day"] == FIRST_DAY.isoformat()


def test_closed_days_are_written_once_and_later_events_do_not_change_them() -> None:
    fake = queries()
    reports = reports_on(fake, today=DAY + timedelta(days=1))
    assert reports.public(DAY)["national"]["bookings"] == 161
    fake.counts.append(DailyCount(DAY, "14", "VisitBooked", 50))  # arrives after the day was closed
    again = reports_on(fake, today=DAY + timedelta(days=2))  # another process, a day later
    assert again.public(DAY)["national"]["bookings"] == 161
    # every programme day closed once, in order, a week at most per query
    assert fake.closings[0][0] == FIRST_DAY and fake.closings[-1] == (DAY + timedelta(days=1),) * 2
    assert all(b[0] == a[1] + timedelta(days=1) for a, b in zip(fake.closings, fake.closings[1:], strict=False))
    assert all(0 <= (last - first).days < 7 for first, last in fake.closings)


def test_today_is_read_live_and_not_closed() -> None:
    fake = queries()
    assert reports_on(fake, today=DAY).public(DAY)["national"]["bookings"] == 161
    assert DAY not in fake.closed_days and DAY - timedelta(days=1) in fake.closed_days
