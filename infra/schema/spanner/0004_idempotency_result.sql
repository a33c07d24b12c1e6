-- An idempotency record holds the service's result (the booked visits), not an HTTP answer:
-- the status is the edge's business.
ALTER TABLE IdempotencyRecords DROP COLUMN ResponseStatus;
