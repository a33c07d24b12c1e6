"""tools/restore_drill.sh with a stand-in gcloud on PATH: it restores the newest backups into new
databases, counts rows, and never names a live database as a target."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "restore_drill.sh"

FAKE_GCLOUD = """#!/usr/bin/env bash
echo "$*" >> "$GCLOUD_LOG"
case "$*" in
  "spanner backups list"*) [ -z "$NO_BACKUPS" ] && echo "projects/p/instances/ereg/backups/daily-20261207" ;;
  "firestore backups list"*) echo "projects/p/locations/europe-central2/backups/fs-1" ;;
  *execute-sql*) echo 42 ;;
esac
exit 0
"""


def _run(tmp_path: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "gcloud").write_text(FAKE_GCLOUD)
    (bin_dir / "gcloud").chmod(0o755)
    log = tmp_path / "gcloud.log"
    log.write_text("")
    done = subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True, text=True, timeout=30, check=False,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GCLOUD_LOG": str(log), **env},
    )  # fmt: skip
    return done, log.read_text().splitlines()


def test_the_drill_restores_the_newest_backups_into_new_databases(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, "ereg-staging", "europe-central2", "20261208")
    assert done.returncode == 0, done.stderr
    restores = [c for c in calls if " restore " in f" {c} "]
    assert any("--source-backup=daily-20261207" in c and "--destination-database=ereg-drill-20261208" in c
               for c in restores)  # fmt: skip
    assert any("--source-backup=projects/p/locations/europe-central2/backups/fs-1" in c
               and "--destination-database=drill-20261208" in c for c in restores)  # fmt: skip
    assert not any("delete" in c.split()[:3] for c in calls)  # it only prints how to delete the copies
    assert not any("--destination-database=ereg " in c + " " or "(default)" in c for c in calls)
    assert "Visits 42 rows" in done.stdout


def test_the_drill_stops_without_a_backup_and_refuses_odd_names(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, "ereg-staging", "europe-central2", "x", NO_BACKUPS="1")
    assert done.returncode == 1 and "no Spanner backup" in done.stderr
    assert not any(" restore " in f" {c} " for c in calls)
    odd, calls = _run(tmp_path, "ereg-staging", "europe-central2", "../ereg")
    assert odd.returncode == 2 and calls == []
