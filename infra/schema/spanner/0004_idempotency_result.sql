-- An idempotency record holds the service's result (the booked visits), not an HTTP answer:
-- the status is the edge's business.
-- contract: no code reads or writes ResponseStatus since the record holds the service's result.
ALTER TABLE IdempotencyRecords DROP COLUMN ResponseStatus;
