-- Each slot's published places in its latest state (0 once removed), by when the change happened.
SELECT *
FROM `{project}.{dataset}.schedule_events_unique`
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY point_id, starts_at, vaccine ORDER BY occurred_at DESC, event_id DESC) = 1
