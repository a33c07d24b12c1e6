-- Doses given, by the day they were given, region, vaccine, dose and age band; each visit once, in its latest state.
-- A dose voided after it was recorded (vaccination_voids) is counted out.
WITH voids AS (
  SELECT visit_id, MAX(voided_at) AS voided_at
  FROM `{project}.{dataset}.vaccination_voids`
  GROUP BY visit_id
)
SELECT
  DATE(v.occurred_at, 'Europe/Warsaw') AS day,
  v.voivodeship,
  v.county,
  v.vaccine,
  v.dose,
  v.age_band,
  COUNT(*) AS vaccinations
FROM `{project}.{dataset}.visit_latest` AS v
LEFT JOIN voids ON voids.visit_id = v.visit_id
WHERE v.status = 'COMPLETED' AND (voids.voided_at IS NULL OR voids.voided_at < v.occurred_at)
GROUP BY day, v.voivodeship, v.county, v.vaccine, v.dose, v.age_band
