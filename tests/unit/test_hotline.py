"""The hotline on fakes: a confirmation resent to the number on file once an hour per visit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from emulators.seed import demo_programme
from shared.domain.booking import Channel, Visit, VisitStatus
from shared.domain.patients import PatientRecord
from shared.domain.ratelimit import RateLimiter
from shared.domain.refusals import Refused
from shared.services.hotline import Hotline, TooSoon
from shared.services.rate_limits import RateLimits
from shared.topology import SMS_REQUESTS
from tests.unit.fakes import FakeBus, FakePointDirectory, FakeStore
from tests.unit.test_points import NOW, POINT, TODAY, local


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def hotline(phone: str | None = "+48601000001") -> tuple[Hotline, FakeStore, FakeBus, Clock]:
    office, bus, clock = FakeStore(), FakeBus(), Clock()
    office.state.patients["p1"] = PatientRecord("p1", "80010112345", "Jan", "Nowak", date(1980, 1, 1), phone)
    for dose, days in ((1, 0), (2, 25)):
        visit = Visit("p1", f"v{dose}", "s1", dose, "comirnaty", POINT.point_id, local(TODAY + timedelta(days=days), 9),
                      VisitStatus.BOOKED, Channel.CALL_CENTRE, "4321")  # fmt: skip
        office.state.visits[visit.visit_id] = visit
    service = Hotline(office, FakePointDirectory([POINT]), lambda: demo_programme(NOW), bus,
                      RateLimits(None, RateLimiter(), clock), transliterate=True)  # fmt: skip
    return service, office, bus, clock


def test_the_confirmation_is_resent_with_the_later_doses_at_most_once_an_hour() -> None:
    service, _, bus, clock = hotline()
    service.resend_confirmation("v1", NOW)
    with pytest.raises(TooSoon) as too_soon:
        service.resend_confirmation("v1", NOW + timedelta(minutes=59))
    clock.now += 59 * 60
    with pytest.raises(TooSoon):
        service.resend_confirmation("v1", NOW + timedelta(minutes=59))
    clock.now += 61
    service.resend_confirmation("v1", NOW + timedelta(hours=1))

    assert 3000 < too_soon.value.retry_after_s <= 3600
    sent = bus.json(SMS_REQUESTS)
    assert [m["to"] for m in sent] == ["+48601000001"] * 2
    assert "Kod: 4321" in sent[0]["text"] and "Dawka 2" in sent[0]["text"]
    assert sent[0]["request_id"] != sent[1]["request_id"]


@pytest.mark.parametrize(("phone", "visit", "code"), [(None, "v1", "no_mobile_on_file"), ("+48601000001", "nope",
                                                      "visit_not_found")])  # fmt: skip
def test_no_resend_without_a_mobile_or_a_visit(phone: str | None, visit: str, code: str) -> None:
    service, _, bus, _ = hotline(phone)
    with pytest.raises(Refused) as refused:
        service.resend_confirmation(visit, NOW)
    assert refused.value.code == code and bus.messages == []
