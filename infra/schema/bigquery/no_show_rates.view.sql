-- No-shows against visits that were due (vaccinated or no-show), by point and region; each visit in its latest state.
SELECT
  point_id,
  voivodeship,
  county,
  COUNTIF(status = 'NO_SHOW') AS no_shows,
  COUNTIF(status = 'COMPLETED') AS vaccinated,
  COUNTIF(status = 'NO_SHOW') / COUNTIF(status IN ('NO_SHOW', 'COMPLETED')) AS no_show_rate
FROM `{project}.{dataset}.visit_latest`
WHERE status IN ('NO_SHOW', 'COMPLETED')
GROUP BY point_id, voivodeship, county
