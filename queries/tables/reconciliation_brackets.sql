-- deskpulse's wall-clock durations beside the help desk's time brackets (Zendesk Explore's
-- "First reply time brackets" such as `0-1 hrs`, "Full resolution time brackets" such as
-- `1-7 days` or `>30 days`): whether deskpulse's minutes fall in the bracket, bounds included.
--   first_response   tickets created in the period (not cancelled) with a measured reply
--   resolve          tickets resolved in the period (not cancelled)
-- A bracket that names no span of time (`No replies`, `Unsolved`) is compared as no span: a
-- measured duration is outside it.
WITH written AS (
    SELECT 'first_response' AS measure, source, id, first_response_us / 60e6 AS ours,
           reported_first_response_bracket AS bracket
    FROM ledger
    WHERE NOT is_cancelled AND created_at >= $period_start AND created_at < $period_end
      AND first_response_us IS NOT NULL AND reported_first_response_bracket IS NOT NULL
    UNION ALL
    SELECT 'resolve', source, id, resolve_us / 60e6, reported_resolve_bracket
    FROM ledger
    WHERE NOT is_cancelled AND resolved_at >= $period_start AND resolved_at < $period_end
      AND resolve_us IS NOT NULL AND reported_resolve_bracket IS NOT NULL
),
parsed AS (
    SELECT *,
           regexp_extract(lower(trim(bracket)),
                          '^([<>]?)\s*([0-9]+)\s*(?:-\s*([0-9]+))?\s*(min|hr|hour|day)',
                          ['op', 'low', 'high', 'unit']) AS p
    FROM written
),
bounds AS (
    SELECT measure, source, id, ours, bracket,
           CASE p.unit WHEN 'day' THEN 1440 WHEN 'min' THEN 1 ELSE 60 END AS per,
           p.op AS op, nullif(p.low, '')::DOUBLE AS low, nullif(p.high, '')::DOUBLE AS high
    FROM parsed
)
SELECT measure, source, id, ours::DOUBLE AS ours, bracket,
       coalesce(CASE
           WHEN op = '>' THEN ours > low * per
           WHEN op = '<' THEN ours < low * per
           WHEN high IS NOT NULL THEN ours BETWEEN low * per AND high * per
       END, false) AS inside
FROM bounds
ORDER BY measure, source, id
