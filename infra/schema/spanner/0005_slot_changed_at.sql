-- When a slot's places last changed (the commit timestamp): the version the live availability
-- projection orders a slot's states by. NULL for slots never changed since they were loaded.
ALTER TABLE Slots ADD COLUMN ChangedAt TIMESTAMP OPTIONS (allow_commit_timestamp = true);
