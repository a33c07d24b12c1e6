"""The business time zone and the calendar facts every rule shares. No I/O."""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")


@functools.lru_cache(maxsize=16_384)
def local_iso(moment: datetime) -> str:
    """ISO 8601 in the business time zone, with its offset (what people and clients are shown).

    Cached: search shows the same few thousand slot starts over and over (datetimes are immutable).
    """
    return moment.astimezone(WARSAW).isoformat()


def age_on(birth_date: date, day: date) -> int:
    """Whole years of age on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
