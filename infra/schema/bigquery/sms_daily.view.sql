-- SMS sent and failed, and the segments paid for, by day (Warsaw): each request once, in its latest outcome.
WITH latest AS (
  SELECT *
  FROM `{project}.{dataset}.sms_events`
  WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (PARTITION BY request_id ORDER BY occurred_at DESC, inserted_at DESC) = 1
)
SELECT
  DATE(occurred_at, 'Europe/Warsaw') AS day,
  COUNTIF(status = 'SENT') AS sent,
  COUNTIF(status IN ('FAILED', 'REJECTED')) AS failed,
  SUM(CASE WHEN status = 'SENT' THEN segments ELSE 0 END) AS segments
FROM latest
GROUP BY day
