"""A point's vaccine stock and the places it may publish. Plain Python, no I/O.

Stock of a vaccine at a moment = doses delivered by then - doses given. The places a point
publishes for a vaccine may never exceed it: for every future slot, the places of the slots from
now up to and including it must fit in the stock at its start (a delivery due on Monday covers
Monday's places, not Sunday's). In 2021 points published more than they received and visits had
to be moved; this rule stops that at publication time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain.booking import Slot, local_iso
from shared.domain.refusals import RefusalKind, Refused


@dataclass(frozen=True)
class Delivery:
    point_id: str
    delivery_id: str
    vaccine: str
    doses: int
    lot: str
    delivered_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "delivery_id": self.delivery_id,
            "point_id": self.point_id,
            "vaccine": self.vaccine,
            "doses": self.doses,
            "lot": self.lot,
            "delivered_at": local_iso(self.delivered_at),
        }


@dataclass(frozen=True)
class StockLevel:
    vaccine: str
    delivered: int  # delivered by now
    administered: int
    expected: int  # deliveries still to come
    published_places: int  # places of the slots from now on

    @property
    def on_hand(self) -> int:
        return self.delivered - self.administered

    def as_json(self) -> dict[str, Any]:
        return {
            "vaccine": self.vaccine,
            "delivered": self.delivered,
            "administered": self.administered,
            "on_hand": self.on_hand,
            "expected": self.expected,
            "published_places": self.published_places,
        }


def stock_level(
    vaccine: str, deliveries: Iterable[Delivery], administered: int, future_slots: Iterable[Slot], now: datetime
) -> StockLevel:
    mine = [d for d in deliveries if d.vaccine == vaccine]
    return StockLevel(
        vaccine,
        sum(d.doses for d in mine if d.delivered_at <= now),
        administered,
        sum(d.doses for d in mine if d.delivered_at > now),
        sum(s.capacity for s in future_slots if s.vaccine == vaccine and s.starts_at > now),
    )


def first_shortfall(
    vaccine: str, deliveries: Iterable[Delivery], administered: int, slots: Iterable[Slot], now: datetime
) -> tuple[Slot, int, int] | None:
    """The first future slot whose places, counted from now, exceed the stock at its start:
    (slot, places so far, stock then); None when the stock covers them all."""
    arrivals = sorted((d.delivered_at, d.doses) for d in deliveries if d.vaccine == vaccine)
    future = sorted((s for s in slots if s.vaccine == vaccine and s.starts_at > now), key=lambda s: s.starts_at)
    delivered = -administered
    next_arrival = 0
    places = 0
    for slot in future:
        while next_arrival < len(arrivals) and arrivals[next_arrival][0] <= slot.starts_at:
            delivered += arrivals[next_arrival][1]
            next_arrival += 1
        places += slot.capacity
        if places > delivered:
            return slot, places, delivered
    return None


def check_within_stock(
    vaccines: Iterable[str],
    deliveries: Sequence[Delivery],
    administered: dict[str, int],
    slots: Sequence[Slot],
    now: datetime,
) -> None:
    """Refuse (422 exceeds_stock) when the published places of any of ``vaccines`` exceed the stock."""
    for vaccine in sorted(set(vaccines)):
        shortfall = first_shortfall(vaccine, deliveries, administered.get(vaccine, 0), slots, now)
        if shortfall is not None:
            slot, places, stock = shortfall
            raise Refused(
                RefusalKind.RULE,
                "exceeds_stock",
                f"Do {local_iso(slot.starts_at)} punkt publikuje {places} miejsc na {vaccine}, "
                f"a będzie miał {max(stock, 0)} dawek",
                field="blocks",
            )
