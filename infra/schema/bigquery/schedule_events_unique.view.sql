-- Each schedule event once, however often Pub/Sub delivered it.
SELECT *
FROM `{project}.{dataset}.schedule_events`
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY inserted_at) = 1
