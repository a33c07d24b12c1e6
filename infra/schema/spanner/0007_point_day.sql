-- Vaccinations after an identity check instead of the check-in code (issue 20): who, where, why;
-- keyed by staff member and local day, so the daily limit is one key-range read.
CREATE TABLE IdentityChecks (
  StaffId STRING(64) NOT NULL,
  Day DATE NOT NULL,
  VisitId STRING(36) NOT NULL,
  PointId STRING(36) NOT NULL,
  Reason STRING(500) NOT NULL,
  CheckedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (StaffId, Day, VisitId);

-- A voided dose keeps its record (who voided it, when, why); reports count it out.
ALTER TABLE Vaccinations ADD COLUMN VoidedAt TIMESTAMP;
ALTER TABLE Vaccinations ADD COLUMN VoidedBy STRING(64);
ALTER TABLE Vaccinations ADD COLUMN VoidReason STRING(500);

-- The number a patient had before a booking gave another: the PhoneChanged event's SMS goes to it.
ALTER TABLE Patients ADD COLUMN PreviousPhone STRING(16);
