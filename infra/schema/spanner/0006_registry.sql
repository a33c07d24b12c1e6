-- The registry of points (issue 20): versions for If-Match, and an append-only audit of changes.

-- NULL for points loaded before the registry: version 1.
ALTER TABLE Points ADD COLUMN Version INT64;

-- Who changed a point, when, what (field -> [before, after] as JSON). Only ever inserted, in the
-- transaction that makes the change; ON DELETE NO ACTION: a point with history cannot be deleted.
CREATE TABLE PointAudit (
  PointId STRING(36) NOT NULL,
  ChangedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
  EntryId STRING(36) NOT NULL,
  StaffId STRING(40) NOT NULL,
  Action STRING(16) NOT NULL,
  Changes STRING(MAX) NOT NULL,
) PRIMARY KEY (PointId, ChangedAt, EntryId),
  INTERLEAVE IN PARENT Points ON DELETE NO ACTION;
