-- e-Registration system of record. Applied in file order, each file once (SchemaMigrations).
-- Keys are UUIDv4 strings so writes spread over splits; slots live in their point, visits and
-- referrals in their patient.

CREATE TABLE SchemaMigrations (
  Version STRING(100) NOT NULL,
  Checksum STRING(64) NOT NULL,
  AppliedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (Version);

CREATE TABLE Patients (
  PatientId STRING(36) NOT NULL,
  Pesel STRING(11) NOT NULL,
  GivenName STRING(200) NOT NULL,
  FamilyName STRING(200) NOT NULL,
  BirthDate DATE NOT NULL,
  Phone STRING(16),
  CreatedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
  UpdatedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (PatientId);

CREATE UNIQUE INDEX PatientsByPesel ON Patients (Pesel) STORING (GivenName, FamilyName, BirthDate, Phone);

CREATE TABLE Referrals (
  PatientId STRING(36) NOT NULL,
  ReferralId STRING(36) NOT NULL,
  -- NULL: valid for any vaccine of the programme.
  Vaccine STRING(40),
  Status STRING(16) NOT NULL,
  IssuedAt TIMESTAMP NOT NULL,
  ValidUntil TIMESTAMP NOT NULL,
  IssuedBy STRING(40) NOT NULL,
) PRIMARY KEY (PatientId, ReferralId),
  INTERLEAVE IN PARENT Patients ON DELETE CASCADE;

CREATE TABLE Points (
  PointId STRING(36) NOT NULL,
  Name STRING(300) NOT NULL,
  Voivodeship STRING(2) NOT NULL,
  County STRING(4) NOT NULL,
  Municipality STRING(7) NOT NULL,
  City STRING(100) NOT NULL,
  Street STRING(200) NOT NULL,
  PostalCode STRING(6) NOT NULL,
  Vaccines ARRAY<STRING(40)> NOT NULL,
  Active BOOL NOT NULL,
) PRIMARY KEY (PointId);

CREATE INDEX PointsByMunicipality ON Points (Voivodeship, County, Municipality) STORING (Name, City, Street, PostalCode, Vaccines, Active);

-- One row per (point, start, vaccine). Booked only changes inside a booking transaction, which keeps
-- 0 <= Booked <= Capacity (no CHECK constraint: on the emulator it made bulk loads 6x slower).
-- FreeMarker is TRUE while Booked < Capacity and NULL once full, so the NULL_FILTERED search
-- indexes below hold free slots only.
CREATE TABLE Slots (
  PointId STRING(36) NOT NULL,
  StartsAt TIMESTAMP NOT NULL,
  Vaccine STRING(40) NOT NULL,
  Capacity INT64 NOT NULL,
  Booked INT64 NOT NULL,
  Voivodeship STRING(2) NOT NULL,
  County STRING(4) NOT NULL,
  Municipality STRING(7) NOT NULL,
  FreeMarker BOOL,
) PRIMARY KEY (PointId, StartsAt, Vaccine),
  INTERLEAVE IN PARENT Points ON DELETE CASCADE;

CREATE NULL_FILTERED INDEX FreeSlotsByVoivodeship ON Slots (Voivodeship, Vaccine, StartsAt, PointId, FreeMarker) STORING (Capacity, Booked);
CREATE NULL_FILTERED INDEX FreeSlotsByCounty ON Slots (County, Vaccine, StartsAt, PointId, FreeMarker) STORING (Capacity, Booked);
CREATE NULL_FILTERED INDEX FreeSlotsByMunicipality ON Slots (Municipality, Vaccine, StartsAt, PointId, FreeMarker) STORING (Capacity, Booked);

CREATE TABLE Visits (
  PatientId STRING(36) NOT NULL,
  VisitId STRING(36) NOT NULL,
  SeriesId STRING(36) NOT NULL,
  Dose INT64 NOT NULL,
  Vaccine STRING(40) NOT NULL,
  PointId STRING(36) NOT NULL,
  StartsAt TIMESTAMP NOT NULL,
  Status STRING(16) NOT NULL,
  Channel STRING(16) NOT NULL,
  CheckInCode STRING(4) NOT NULL,
  -- Local (Europe/Warsaw) day of a BOOKED visit, NULL otherwise: drives reminders.
  BookedDay DATE,
  CreatedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
  ChangedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (PatientId, VisitId),
  INTERLEAVE IN PARENT Patients ON DELETE CASCADE;

CREATE UNIQUE INDEX VisitsById ON Visits (VisitId);
CREATE INDEX VisitsByPoint ON Visits (PointId, StartsAt) STORING (Dose, Vaccine, Status, Channel);
CREATE NULL_FILTERED INDEX BookedVisitsByDay ON Visits (BookedDay, VisitId) STORING (PointId, StartsAt, Dose, Vaccine);

CREATE TABLE IdempotencyRecords (
  Scope STRING(64) NOT NULL,
  IdempotencyKey STRING(200) NOT NULL,
  RequestHash STRING(64) NOT NULL,
  ResponseStatus INT64 NOT NULL,
  ResponseBody STRING(MAX) NOT NULL,
  CreatedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (Scope, IdempotencyKey),
  ROW DELETION POLICY (OLDER_THAN(CreatedAt, INTERVAL 7 DAY));

-- Transactional outbox: written in the same transaction as the change it describes.
-- Pending is TRUE until the relay has published the row, then NULL.
CREATE TABLE Outbox (
  EventId STRING(36) NOT NULL,
  EventType STRING(40) NOT NULL,
  Payload STRING(MAX) NOT NULL,
  CreatedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
  Pending BOOL,
  PublishedAt TIMESTAMP OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (EventId),
  ROW DELETION POLICY (OLDER_THAN(CreatedAt, INTERVAL 30 DAY));

CREATE NULL_FILTERED INDEX PendingOutbox ON Outbox (Pending, CreatedAt, EventId);
