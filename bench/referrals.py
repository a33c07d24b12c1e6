"""Bulk e-referrals: how many the job issues per second, through Pub/Sub push and the local host.

    flock /tmp/ereg-load.lock .venv/bin/python -m bench.referrals --patients 1000000

Seeds ``--patients`` patients (bulk mutations; born 1940-1999, a tenth already holding a valid
e-referral), starts the job for the adults' cohort (the service the admin route calls) and times it
from the start to the job's DONE as its progress reports it: every chunk (a patient key range) is a
Pub/Sub message pushed to ``issue_referrals`` on the host. Then it runs the job once more (with a
new Idempotency-Key), which must issue nothing. Seeding 1,000,000 patients took 331 s on the
2-core machine (the emulator's commits of Patients get slower with their size, so they are small).
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from bench.common import bench_stack
from emulators.seed import demo_programme, seed_bulk_patients
from emulators.waiting import poll_until
from shared.services.referrals import ReferralIssuer


def run_job(issuer: ReferralIssuer, timeout_s: float) -> tuple[dict[str, Any], float]:
    """Start a job (as the admin route does) and wait for its progress to say DONE."""
    started = time.perf_counter()
    job = issuer.start("adults", str(uuid.uuid4()), "bench", datetime.now(UTC)).job
    progress = poll_until(
        lambda: issuer.progress(job.job_id).as_json(), lambda p: p["status"] == "DONE", timeout_s, every_s=0.5
    )
    if progress["status"] != "DONE":
        raise SystemExit(f"the job did not finish within {timeout_s} s: {progress}")
    return progress, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--prefix-length", type=int, default=2, help="16 ** this many chunks (default 256)")
    parser.add_argument("--threads", type=int, default=4, help="host threads, so concurrent chunk deliveries")
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    os.environ["EREG_REFERRAL_CHUNK_PREFIX_LENGTH"] = str(args.prefix_length)  # the host inherits it
    os.environ["EREG_LOG_LEVEL"] = "WARNING"
    with bench_stack("referrals", threads=args.threads) as stack:
        now = datetime.now(UTC)
        stack.container.firestore.publish_programme(demo_programme(now))
        seeded = time.perf_counter()
        patients = seed_bulk_patients(stack.container.spanner, args.patients, now, progress=True)
        adults = [p for p, (birth, _) in patients.items() if 1962 <= birth.year <= 2008]
        missing = sum(1 for p in adults if patients[p][1] != "valid")
        print(f"seeded {len(patients):,} patients in {time.perf_counter() - seeded:.0f} s: {len(adults):,} adults, "
              f"{missing:,} without a valid e-referral", flush=True)  # fmt: skip
        issuer = stack.container.referral_issuer
        progress, seconds = run_job(issuer, args.timeout)
        print(f"first run: {progress['issued']:,} e-referrals issued to {progress['patients']:,} adults in "
              f"{progress['total']} chunks, {seconds:.1f} s: {progress['issued'] / seconds:,.0f} referrals/s "
              f"({progress['patients'] / seconds:,.0f} patients examined/s)", flush=True)  # fmt: skip
        if progress["issued"] != missing or progress["failed"]:
            raise SystemExit(f"expected {missing} issued and no failed chunk, got {progress}")

        again, seconds = run_job(issuer, args.timeout)
        print(f"second run: {again['issued']} issued, {again['patients']:,} adults examined in {seconds:.1f} s "
              f"({again['patients'] / seconds:,.0f} patients/s)", flush=True)  # fmt: skip
        if again["issued"] != 0:
            raise SystemExit("the second run issued referrals")


if __name__ == "__main__":
    main()
