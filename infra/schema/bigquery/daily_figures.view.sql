-- The ministry's daily figures by region, vaccine and event type, each event counted once.
SELECT
  DATE(occurred_at, 'Europe/Warsaw') AS day,
  voivodeship,
  vaccine,
  event_type,
  COUNT(*) AS events
FROM `{project}.{dataset}.visit_events_unique`
GROUP BY day, voivodeship, vaccine, event_type
