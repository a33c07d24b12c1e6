-- People vaccinated with at least one dose, by age band: new each day and cumulative (the public figure).
WITH firsts AS (
  SELECT patient_ref, DATE(MIN(occurred_at), 'Europe/Warsaw') AS day, MIN(age_band) AS age_band
  FROM `{project}.{dataset}.visit_latest`
  WHERE status = 'COMPLETED'
  GROUP BY patient_ref
),
daily AS (
  SELECT day, age_band, COUNT(*) AS people
  FROM firsts
  GROUP BY day, age_band
)
SELECT
  day,
  age_band,
  people AS newly_vaccinated,
  SUM(people) OVER (PARTITION BY age_band ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    AS vaccinated_people
FROM daily
