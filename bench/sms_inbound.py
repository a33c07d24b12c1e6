"""Incoming SMS benchmark: many patients register by SMS at once, against the emulators.

    .venv/bin/python -m bench.sms_inbound [--messages 10000] [--threads 8] [--seconds 600]

Each simulated patient (a seeded person with an e-referral and no number on file) texts SZCZEPIMYSIE,
the PESEL, a town (a third with a typo), sometimes NIE, then TAK (again while the place offered was
taken meanwhile); some texts are delivered twice (a Pub/Sub redelivery) and some are noise. Patients
run concurrently, each one's texts in order, through the SMS dialogue service over Spanner, Firestore
and Redis (the replies go to ``sms-requests``, which no consumer drains here). Stops starting
patients after ``--seconds``. Then checks: no dialogue left open but those waiting for another town,
none open after 15 minutes, no slot over capacity, no patient with two first doses booked, one booking
per patient who got "booked".
"""

from __future__ import annotations

import argparse
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from bench.booking import check_no_overbooking
from bench.common import bench_stack
from emulators.seed import generate_patients, generate_points, seed
from shared.domain.sms_dialogue import SILENCE, Inbound

ENDED = {"booked", "no_more", "other_phone", "unknown_patient"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--points", type=int, default=64)
    args = parser.parse_args()
    patients = generate_patients(args.messages // 5 + 1)
    towns = sorted({p.city for p in generate_points(args.points)})
    with bench_stack("smsin", consumers=False) as stack:
        container = stack.container
        seed(container.spanner, container.firestore, points=args.points, days=3, second_dose_days=3,
             capacity=2, patients=len(patients))  # fmt: skip
        # A bounded-staleness read (search's Spanner fallback) sees no table of a database younger
        # than its staleness: in service the points are long older than that.
        time.sleep(container.settings.spanner_search_staleness_s)
        dialogue = container.sms_dialogue
        lock = threading.Lock()
        sent = Counter[str]()
        outcomes: dict[str, str] = {}
        deadline = time.monotonic() + args.seconds

        def text(sender: str, body: str, rng: random.Random, message_id: str | None = None) -> str:
            message_id = message_id or str(uuid.uuid4())
            outcome = dialogue.handle(Inbound(message_id, sender, body, datetime.now(UTC)), datetime.now(UTC))
            with lock:
                sent["messages"] += 1
            if rng.random() < 0.1:  # delivered again: same id, nothing new
                dialogue.handle(Inbound(message_id, sender, body, datetime.now(UTC)), datetime.now(UTC))
                with lock:
                    sent["messages"] += 1
                    sent["redeliveries"] += 1
            return outcome

        def register(index: int) -> None:
            if time.monotonic() > deadline or sent["messages"] >= args.messages:
                return
            rng = random.Random(index)
            sender = f"+48602{index:06d}"
            if rng.random() < 0.1:
                text(sender, rng.choice(["POMOC", "halo?", "Dzien dobry"]), rng)
            text(sender, rng.choice(["SZCZEPIMYSIE", "Szczepimy się", "szczepimysie "]), rng)
            text(sender, patients[index].pesel, rng)
            town = rng.choice(towns)
            outcome = text(sender, town[:-2] + town[-1] if rng.random() < 0.33 and len(town) > 5 else town, rng)
            # Up to three NIE, and a TAK whose place was taken meanwhile is offered the next: the
            # patient answers until the dialogue ends (a patient who walks away leaves it to expire).
            for _ in range(10):
                if outcome != "offered":
                    break
                outcome = text(sender, "NIE" if rng.random() < 0.3 else "TAK", rng)
            with lock:
                outcomes[sender] = outcome

        started = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(register, range(len(patients))))
        seconds = time.perf_counter() - started
        print(f"{sent['messages']} incoming messages ({sent['redeliveries']} redelivered) from {len(outcomes)} "
              f"patients in {seconds:.1f} s = {sent['messages'] / seconds:.0f}/s", flush=True)  # fmt: skip
        print("last outcome per patient:", dict(Counter(outcomes.values())), flush=True)
        store = container.sms_conversations
        now = datetime.now(UTC)
        open_ones = {s: d for s in outcomes if (d := store.dialogue(s)) is not None}
        stuck = [s for s in open_ones if outcomes[s] in ENDED or outcomes[s] not in ("no_place", "unknown_town")]
        later = [s for s, d in open_ones.items() if not d.expired(now + SILENCE)]
        print(f"open dialogues {len(open_ones)} (waiting for another town), stuck {len(stuck)}, "
              f"still open after 15 minutes {len(later)}", flush=True)  # fmt: skip
        check_no_overbooking(container)
        with container.spanner.snapshot(multi_use=True) as snapshot:
            doubled = list(snapshot.execute_sql(
                "SELECT PatientId FROM Visits WHERE Status = 'BOOKED' AND Dose = 1 "
                "GROUP BY PatientId HAVING COUNT(*) > 1"
            ))  # fmt: skip
            booked = next(iter(snapshot.execute_sql(
                "SELECT COUNT(DISTINCT PatientId) FROM Visits WHERE Status = 'BOOKED' AND Channel = 'SMS'"
            )))[0]  # fmt: skip
        expected = sum(1 for o in outcomes.values() if o == "booked")
        print(f"patients booked by SMS {booked} (outcomes 'booked': {expected}); with two first doses {len(doubled)}")
        if stuck or later or doubled or booked != expected:
            raise SystemExit("STUCK DIALOGUE OR DOUBLE BOOKING")


if __name__ == "__main__":
    main()
