-- The vaccination points' back office: deliveries and stock, vaccination records, check-in tries.

-- Wrong check-in codes entered for a visit; NULL means none. Past a few, the code is locked.
ALTER TABLE Visits ADD COLUMN WrongCodeAttempts INT64;

-- Vaccine deliveries to a point. A delivery counts towards the stock from DeliveredAt on, so a
-- planned delivery covers the places published after it arrives.
CREATE TABLE Deliveries (
  PointId STRING(36) NOT NULL,
  DeliveryId STRING(36) NOT NULL,
  Vaccine STRING(40) NOT NULL,
  Doses INT64 NOT NULL,
  Lot STRING(40) NOT NULL,
  DeliveredAt TIMESTAMP NOT NULL,
  RecordedBy STRING(40) NOT NULL,
  RecordedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (PointId, DeliveryId),
  INTERLEAVE IN PARENT Points ON DELETE CASCADE;

-- Doses of a vaccine given at a point: stock = doses delivered - Administered. Changed only by the
-- transaction that records a vaccination.
CREATE TABLE PointStock (
  PointId STRING(36) NOT NULL,
  Vaccine STRING(40) NOT NULL,
  Administered INT64 NOT NULL,
  UpdatedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (PointId, Vaccine),
  INTERLEAVE IN PARENT Points ON DELETE CASCADE;

-- One record per vaccination given: who gave it, when, which lot and dose, where.
CREATE TABLE Vaccinations (
  PatientId STRING(36) NOT NULL,
  VisitId STRING(36) NOT NULL,
  SeriesId STRING(36) NOT NULL,
  Dose INT64 NOT NULL,
  Vaccine STRING(40) NOT NULL,
  PointId STRING(36) NOT NULL,
  Lot STRING(40) NOT NULL,
  VaccinatedAt TIMESTAMP NOT NULL,
  StaffId STRING(40) NOT NULL,
  RecordedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (PatientId, VisitId),
  INTERLEAVE IN PARENT Patients ON DELETE CASCADE;
