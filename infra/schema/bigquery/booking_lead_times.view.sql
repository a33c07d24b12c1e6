-- Time from a booking to the visit it booked, by the booking's day (Warsaw), region, vaccine and channel.
SELECT
  DATE(occurred_at, 'Europe/Warsaw') AS day,
  voivodeship,
  vaccine,
  channel,
  COUNT(*) AS bookings,
  AVG(TIMESTAMP_DIFF(starts_at, occurred_at, MINUTE)) / 1440 AS avg_lead_days,
  MIN(TIMESTAMP_DIFF(starts_at, occurred_at, MINUTE)) / 1440 AS min_lead_days,
  MAX(TIMESTAMP_DIFF(starts_at, occurred_at, MINUTE)) / 1440 AS max_lead_days
FROM `{project}.{dataset}.visit_events_unique`
WHERE event_type = 'VisitBooked'
GROUP BY day, voivodeship, vaccine, channel
