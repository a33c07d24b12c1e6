-- Bookings made, by the day and hour (Warsaw) they were made, channel and region; each booking event once.
SELECT
  DATE(occurred_at, 'Europe/Warsaw') AS day,
  EXTRACT(HOUR FROM DATETIME(occurred_at, 'Europe/Warsaw')) AS hour,
  channel,
  voivodeship,
  COUNT(*) AS bookings
FROM `{project}.{dataset}.visit_events_unique`
WHERE event_type = 'VisitBooked'
GROUP BY day, hour, channel, voivodeship
