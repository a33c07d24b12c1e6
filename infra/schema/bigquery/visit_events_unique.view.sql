-- Each event once, however often Pub/Sub delivered it (streaming insert ids are best effort).
SELECT *
FROM `{project}.{dataset}.visit_events`
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY inserted_at) = 1
