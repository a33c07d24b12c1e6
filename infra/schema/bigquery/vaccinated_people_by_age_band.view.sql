-- People vaccinated with at least one dose, by age band: new each day and cumulative (the public figure).
-- A dose voided after it was recorded (vaccination_voids) is counted out.
WITH voids AS (
  SELECT visit_id, MAX(voided_at) AS voided_at
  FROM `{project}.{dataset}.vaccination_voids`
  GROUP BY visit_id
),
firsts AS (
  SELECT v.patient_ref, DATE(MIN(v.occurred_at), 'Europe/Warsaw') AS day, MIN(v.age_band) AS age_band
  FROM `{project}.{dataset}.visit_latest` AS v
  LEFT JOIN voids ON voids.visit_id = v.visit_id
  WHERE v.status = 'COMPLETED' AND (voids.voided_at IS NULL OR voids.voided_at < v.occurred_at)
  GROUP BY v.patient_ref
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
