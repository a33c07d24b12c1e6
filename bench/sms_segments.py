"""SMS cost benchmark: GSM-7 segments per routine message kind, and over a simulated booking day.

    .venv/bin/python -m bench.sms_segments [--points 6000] [--bookings 20000] [--seed 7]

No backend: the texts are composed as the services compose them, for visits at points drawn from the
demo data (``EREG_DEMO_POINTS=6000``: the longest names and addresses it seeds) with the demo
programme's vaccines, and encoded as sent (transliterated to GSM-7). A booking day is each booking's
confirmation, the day-before reminder of each visit it booked, and the moves, cancellations and
"cohort open" notices in the proportions below. Prints segments per kind, the day's average, and
what 124 million messages cost in segments against the texts before issue 22 (the confirmation, about
180 characters, the reminder, about 173, and the move took two segments each; the others one).
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from emulators.seed import demo_programme, generate_points
from shared.domain.sms import VisitFacts, booked_text, cancelled_text, encode, moved_text, opening_text, reminder_text
from shared.domain.sms_dialogue import offer_text

NATIONAL_MESSAGES = 124_000_000
BEFORE = {"confirmation": 2, "confirmation with dose 2": 2, "reminder": 2, "move": 2}  # else as now
# Per booking: moves, cancellations and "cohort open" notices (one per person told, not every booking).
MOVES, CANCELS, NOTICES = 0.08, 0.05, 0.3
DOSE2_ELSEWHERE = 0.1  # the later dose at another point nearby (same municipality, another address)


def simulate(points_count: int, bookings: int, seed: int) -> dict[str, list[int]]:
    rng = random.Random(seed)
    points = generate_points(points_count)
    vaccines = demo_programme(datetime(2026, 12, 1, tzinfo=UTC)).vaccines
    start = datetime(2026, 12, 1, 7, tzinfo=UTC)
    kinds: dict[str, list[int]] = defaultdict(list)

    def facts(dose: int, days: int, vaccine: str) -> VisitFacts:
        point = rng.choice(points)
        starts = start + timedelta(days=days, minutes=15 * rng.randrange(32))
        return VisitFacts(dose, starts, vaccine, point.name, point.address, f"{rng.randrange(10_000):04d}")

    def count(kind: str, text: str) -> None:
        kinds[kind].append(encode(text, transliterate=True).segments)

    for _ in range(bookings):
        vaccine = rng.choice(vaccines)
        first = facts(1, rng.randrange(1, 14), vaccine.name)
        later = []
        if vaccine.doses > 1:
            second = facts(2, 21 + rng.randrange(14), vaccine.name)
            if rng.random() >= DOSE2_ELSEWHERE:
                second = VisitFacts(
                    2, second.starts_at, vaccine.name, first.point_name, first.address, second.check_in_code
                )
            later = [second]
        count("confirmation" if not later else "confirmation with dose 2", booked_text(first, later, None))
        for visit in (first, *later):
            count("reminder", reminder_text(visit))
        if rng.random() < MOVES:
            count("move", moved_text(first))
        if rng.random() < CANCELS:
            count("cancellation", cancelled_text(first))
        if rng.random() < NOTICES:
            count("cohort open", opening_text(first.starts_at))
        count("SMS dialogue offer", offer_text(first))
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=6000)
    parser.add_argument("--bookings", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    kinds = simulate(args.points, args.bookings, args.seed)
    print(f"{'kind':28} {'messages':>9} {'avg segments':>13} {'max':>4}")
    routine = {k: v for k, v in kinds.items() if k != "SMS dialogue offer"}
    for kind, segments in sorted(kinds.items()):
        print(f"{kind:28} {len(segments):9d} {sum(segments) / len(segments):13.3f} {max(segments):4d}")
    total = [s for segments in routine.values() for s in segments]
    average = sum(total) / len(total)
    print(f"\nbooking day: {len(total)} routine messages, {sum(total)} segments, {average:.3f} segments a message")
    earlier = sum(BEFORE.get(kind, s) for kind, segments in routine.items() for s in segments) / len(total)
    after, before = NATIONAL_MESSAGES * average, NATIONAL_MESSAGES * earlier
    print(f"124 million messages: {after / 1e6:.1f} million segments; before {before / 1e6:.1f} million "
          f"({earlier:.3f} a message): {100 * (1 - after / before):.1f}% fewer")  # fmt: skip


if __name__ == "__main__":
    main()
