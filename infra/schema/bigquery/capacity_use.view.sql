-- Places taken and doses given against places published, by the visit day (Warsaw) and region.
-- Slots and visits each in their latest state: a moved visit counts on its new day, a removed slot offers 0.
WITH published AS (
  SELECT DATE(starts_at, 'Europe/Warsaw') AS day, voivodeship, capacity AS places, 0 AS booked, 0 AS vaccinated
  FROM `{project}.{dataset}.slot_capacity_latest`
),
taken AS (
  SELECT
    DATE(starts_at, 'Europe/Warsaw') AS day,
    voivodeship,
    0 AS places,
    CASE WHEN status IN ('BOOKED', 'COMPLETED', 'NO_SHOW') THEN 1 ELSE 0 END AS booked,
    CASE WHEN status = 'COMPLETED' THEN 1 ELSE 0 END AS vaccinated
  FROM `{project}.{dataset}.visit_latest`
),
together AS (
  SELECT * FROM published
  UNION ALL
  SELECT * FROM taken
)
SELECT
  day,
  voivodeship,
  SUM(places) AS places,
  SUM(booked) AS booked,
  SUM(vaccinated) AS vaccinated,
  CASE WHEN SUM(places) > 0 THEN SUM(booked) / SUM(places) END AS booked_share,
  CASE WHEN SUM(places) > 0 THEN SUM(vaccinated) / SUM(places) END AS vaccinated_share
FROM together
GROUP BY day, voivodeship
