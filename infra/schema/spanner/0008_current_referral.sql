-- Login in three round trips (issue 25): the patient's current e-referral (the ACTIVE one valid
-- longest) kept on their row and stored in PatientsByPesel, so a returning login is one index read.
-- Every writer of Referrals keeps these columns in the same commit. CurrentReferralKnown is NULL on
-- rows written before this file: the next lookup reads that patient's referrals once and fills them
-- in. TRUE with CurrentReferralId NULL: the patient holds no ACTIVE referral.
ALTER TABLE Patients ADD COLUMN CurrentReferralKnown BOOL;
ALTER TABLE Patients ADD COLUMN CurrentReferralId STRING(36);
ALTER TABLE Patients ADD COLUMN CurrentReferralVaccine STRING(40);
ALTER TABLE Patients ADD COLUMN CurrentReferralIssuedAt TIMESTAMP;
ALTER TABLE Patients ADD COLUMN CurrentReferralValidUntil TIMESTAMP;
ALTER INDEX PatientsByPesel ADD STORED COLUMN CurrentReferralKnown;
ALTER INDEX PatientsByPesel ADD STORED COLUMN CurrentReferralId;
ALTER INDEX PatientsByPesel ADD STORED COLUMN CurrentReferralVaccine;
ALTER INDEX PatientsByPesel ADD STORED COLUMN CurrentReferralIssuedAt;
ALTER INDEX PatientsByPesel ADD STORED COLUMN CurrentReferralValidUntil;
