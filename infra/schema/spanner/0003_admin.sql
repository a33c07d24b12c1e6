-- Programme administration (issue 11).

-- "Tell me when I can book": one row per (cohort, patient). Pending is TRUE until the opening SMS
-- was requested, then NULL, so the NULL_FILTERED index holds only who still waits for it.
CREATE TABLE Interest (
  Cohort STRING(40) NOT NULL,
  PatientId STRING(36) NOT NULL,
  Phone STRING(16) NOT NULL,
  Pending BOOL,
  CreatedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
  RequestedAt TIMESTAMP OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (Cohort, PatientId);

CREATE NULL_FILTERED INDEX PendingInterest ON Interest (Pending, Cohort, PatientId) STORING (Phone);
