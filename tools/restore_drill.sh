#!/usr/bin/env bash
# Restore drill (docs/runbook.md "Restore from backup"): restores the newest daily backup of the
# Spanner database and of the Firestore database into NEW databases beside the live ones, and
# counts what came back. Never touches the live databases; switching to a restored copy is a
# separate, deliberate step in the runbook.
#
#   tools/restore_drill.sh PROJECT REGION [SUFFIX]     # SUFFIX defaults to today's date (YYYYMMDD)
set -euo pipefail

PROJECT=${1:?usage: restore_drill.sh PROJECT REGION [SUFFIX]}
REGION=${2:?usage: restore_drill.sh PROJECT REGION [SUFFIX]}
SUFFIX=${3:-$(date -u +%Y%m%d)}
INSTANCE=ereg
SPANNER_TARGET="ereg-drill-${SUFFIX}"
FIRESTORE_TARGET="drill-${SUFFIX}"

[[ "$SUFFIX" =~ ^[a-z0-9-]{1,20}$ ]] || { echo "SUFFIX: lower-case letters, digits and -, at most 20" >&2; exit 2; }

backup=$(gcloud spanner backups list --project="$PROJECT" --instance="$INSTANCE" \
  --filter="database:databases/ereg" --sort-by=~createTime --limit=1 --format="value(name)")
[ -n "$backup" ] || { echo "no Spanner backup of ereg" >&2; exit 1; }
echo "spanner: restoring ${backup##*/} into $SPANNER_TARGET"
gcloud spanner databases restore --project="$PROJECT" \
  --source-instance="$INSTANCE" --source-backup="${backup##*/}" \
  --destination-instance="$INSTANCE" --destination-database="$SPANNER_TARGET"

fs_backup=$(gcloud firestore backups list --project="$PROJECT" --location="$REGION" \
  --format="value(name)" --sort-by=~snapshotTime --limit=1)
[ -n "$fs_backup" ] || { echo "no Firestore backup" >&2; exit 1; }
echo "firestore: restoring ${fs_backup##*/} into $FIRESTORE_TARGET"
gcloud firestore databases restore --project="$PROJECT" \
  --source-backup="$fs_backup" --destination-database="$FIRESTORE_TARGET"

for table in Patients Visits Slots Outbox; do
  count=$(gcloud spanner databases execute-sql "$SPANNER_TARGET" --project="$PROJECT" --instance="$INSTANCE" \
    --sql="SELECT COUNT(*) FROM $table" --format="value(rows[0][0])")
  echo "spanner $SPANNER_TARGET: $table $count rows"
done
echo "drill done: compare the counts with the live database, then delete the copies:"
echo "  gcloud spanner databases delete $SPANNER_TARGET --instance=$INSTANCE --project=$PROJECT"
echo "  gcloud firestore databases delete --database=$FIRESTORE_TARGET --project=$PROJECT"
