-- Each visit in its latest state: the last of its events by when it happened, not by when it arrived
-- (Pub/Sub may deliver a cancellation before the booking it cancels).
SELECT *
FROM `{project}.{dataset}.visit_events_unique`
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY visit_id ORDER BY occurred_at DESC, event_id DESC) = 1
