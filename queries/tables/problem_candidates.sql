-- Problem candidates: the repeat keys ([repeat] key, the configuration item by default) whose
-- incidents keep coming back. Over the trend window (the twelve months up to the period's end),
-- each incident is a repeat by the rule of queries/repeat.sql: an earlier incident with the same
-- key was resolved within [repeat] window_days before it was created. Listed: the ten keys with
-- the most repeats in the window (at least two), with their incidents and repeats in the window
-- and in the period.
WITH incidents AS (
    SELECT repeat_key, created_at, resolved_at
    FROM ledger
    WHERE kind = 'incident' AND NOT is_cancelled AND repeat_key IS NOT NULL
),
flagged AS (
    SELECT b.repeat_key, b.created_at,
           coalesce(epoch_us(a.resolved_at) >= epoch_us(b.created_at) - repeat_window_us(), false)
               AS is_repeat
    FROM (SELECT * FROM incidents WHERE trend_month(created_at) IS NOT NULL) b
    ASOF LEFT JOIN (SELECT repeat_key, resolved_at FROM incidents WHERE resolved_at IS NOT NULL) a
      ON a.repeat_key = b.repeat_key AND b.created_at > a.resolved_at
)
SELECT repeat_key AS key,
       count(*) AS incidents,
       count(*) FILTER (WHERE is_repeat) AS repeats,
       count(*) FILTER (WHERE created_at >= $period_start AND created_at < $period_end)
           AS incidents_in_period,
       count(*) FILTER (WHERE is_repeat AND created_at >= $period_start
                              AND created_at < $period_end) AS repeats_in_period
FROM flagged
GROUP BY repeat_key
HAVING count(*) FILTER (WHERE is_repeat) >= 2
ORDER BY repeats DESC, repeats_in_period DESC, key
LIMIT 10
