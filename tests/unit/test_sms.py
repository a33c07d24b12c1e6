"""SMS texts, encoding and cost without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.domain.sms import (
    VisitFacts,
    booked_text,
    cancelled_text,
    encode,
    is_booked_text,
    moved_text,
    opening_text,
    reminder_text,
)

FIRST = VisitFacts(
    1, datetime(2026, 12, 1, 8, tzinfo=UTC), "Comirnaty", "Przychodnia Zdrowie", "ul. Długa 1, 00-001 Warszawa", "0427"
)
SECOND = VisitFacts(2, datetime(2026, 12, 22, 9, tzinfo=UTC), "Comirnaty", "Przychodnia Zdrowie", FIRST.address, "0427")


@pytest.mark.parametrize(
    ("text", "transliterate", "encoding", "segments"),
    [
        ("a" * 160, False, "GSM-7", 1),
        ("a" * 161, False, "GSM-7", 2),
        ("a" * 306, False, "GSM-7", 2),
        ("a" * 307, False, "GSM-7", 3),
        ("[" * 80, False, "GSM-7", 1),  # extension characters count twice
        ("[" * 81, False, "GSM-7", 2),
        ("ą" * 70, False, "UCS-2", 1),
        ("ą" * 71, False, "UCS-2", 2),
        ("ą" * 71, True, "GSM-7", 1),
        ("Zażółć gęślą jaźń", True, "GSM-7", 1),
    ],
)
def test_encoding_and_segments(text: str, transliterate: bool, encoding: str, segments: int) -> None:
    encoded = encode(text, transliterate)
    assert (encoded.encoding, encoded.segments) == (encoding, segments)


def test_transliteration_keeps_the_meaning() -> None:
    assert encode("Zażółć gęślą jaźń, Łódź", transliterate=True).text == "Zazolc gesla jazn, Lodz"


def test_booking_text_names_both_doses_in_local_time_and_the_code() -> None:
    text = booked_text(FIRST, [SECOND], None)
    assert "01.12.2026 09:00" in text and "Dawka 2: 22.12.2026 10:00." in text
    assert "Kod: 0427" in text and "ul. Długa 1" in text
    polish = encode(text, transliterate=False)
    ascii_only = encode(text, transliterate=True)
    assert polish.encoding == "UCS-2" and ascii_only.encoding == "GSM-7"
    assert ascii_only.segments < polish.segments
    assert ascii_only.segments == 1  # a short place leaves room for the later dose in one segment


def test_pending_next_dose_and_other_texts() -> None:
    assert "umów od 22.12.2026" in booked_text(FIRST, [], SECOND.starts_at)
    assert "odwołano" in cancelled_text(FIRST) and "989" in cancelled_text(FIRST)
    assert "jutro" in reminder_text(FIRST) and "Kod: 0427" in reminder_text(FIRST)


def test_a_confirmation_is_told_from_every_other_text_as_composed_and_as_sent() -> None:
    confirmations = [booked_text(FIRST, [SECOND], None), booked_text(FIRST, [], SECOND.starts_at)]
    others = [moved_text(FIRST), cancelled_text(FIRST), reminder_text(FIRST), opening_text(FIRST.starts_at)]
    for transliterate in (False, True):
        assert all(is_booked_text(encode(t, transliterate).text) for t in confirmations)
        assert not any(is_booked_text(encode(t, transliterate).text) for t in others)
