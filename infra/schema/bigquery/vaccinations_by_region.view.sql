-- Doses given, by the day they were given, region, vaccine, dose and age band; each visit once, in its latest state.
SELECT
  DATE(occurred_at, 'Europe/Warsaw') AS day,
  voivodeship,
  county,
  vaccine,
  dose,
  age_band,
  COUNT(*) AS vaccinations
FROM `{project}.{dataset}.visit_latest`
WHERE status = 'COMPLETED'
GROUP BY day, voivodeship, county, vaccine, dose, age_band
