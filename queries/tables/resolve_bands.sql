-- How long the period's incidents took to resolve, in bands: the shape the median and p90 of
-- `mttr_hours` summarise. The cohort of queries/mttr.sql (incidents resolved in the period, not
-- cancelled), on the calendar clock. Every band is listed, empty ones with 0.
WITH bands(position, band, from_hours, below_hours) AS (
    VALUES (0, 'under 1 h', NULL, 1), (1, '1-4 h', 1, 4), (2, '4-8 h', 4, 8),
           (3, '8-24 h', 8, 24), (4, '1-3 d', 24, 72), (5, '3-7 d', 72, 168),
           (6, '7-30 d', 168, 720), (7, 'over 30 d', 720, NULL)
),
resolved AS (
    SELECT resolve_us FROM ledger
    WHERE kind = 'incident' AND NOT is_cancelled AND resolve_us IS NOT NULL
      AND resolved_at >= $period_start AND resolved_at < $period_end
)
SELECT b.band, count(r.resolve_us) AS tickets
FROM bands b
LEFT JOIN resolved r
  ON (b.from_hours IS NULL OR r.resolve_us >= b.from_hours * 3600000000)
 AND (b.below_hours IS NULL OR r.resolve_us < b.below_hours * 3600000000)
GROUP BY b.position, b.band
ORDER BY b.position
