-- deskpulse's durations beside the help desk's own, ticket by ticket, in minutes: every ticket
-- of a measure's cohort for which the help desk gave a figure (`ours` may be null).
--   resolve_calendar   tickets resolved in the period (not cancelled), wall-clock time
--   resolve_business   the same, business time; `comparable` only on a calendar that is not
--                      open around the clock (`business_calendar(name)`, from [calendars])
--   first_response     tickets created in the period (not cancelled), except sources whose
--                      first response is the help desk's own reply time
--                      (`first_response_from_reply_time(source)`)
--   close_calendar     tickets closed in the period (not cancelled), wall-clock time, except
--                      sources whose close time is the help desk's own duration
--                      (`close_from_duration(source)`)
WITH resolved AS (
    SELECT * FROM ledger
    WHERE NOT is_cancelled AND resolved_at >= $period_start AND resolved_at < $period_end
),
created AS (
    SELECT * FROM ledger
    WHERE NOT is_cancelled AND created_at >= $period_start AND created_at < $period_end
),
closed AS (
    SELECT * FROM ledger
    WHERE NOT is_cancelled AND closed_at >= $period_start AND closed_at < $period_end
)
SELECT 'resolve_calendar' AS measure, source, id, (resolve_us / 60e6)::DOUBLE AS ours,
       reported_resolve_minutes::DOUBLE AS theirs, true AS comparable
FROM resolved WHERE reported_resolve_minutes IS NOT NULL
UNION ALL
SELECT 'resolve_business', source, id, (resolve_business_us / 60e6)::DOUBLE,
       reported_resolve_business_minutes::DOUBLE,
       coalesce(business_calendar(calendar), false)
FROM resolved WHERE reported_resolve_business_minutes IS NOT NULL
UNION ALL
SELECT 'first_response', source, id, (first_response_us / 60e6)::DOUBLE,
       reported_first_response_minutes::DOUBLE, true
FROM created
WHERE reported_first_response_minutes IS NOT NULL
  AND NOT first_response_from_reply_time(source)
UNION ALL
SELECT 'close_calendar', source, id,
       ((epoch_us(closed_at) - epoch_us(created_at)) / 60e6)::DOUBLE,
       reported_close_minutes::DOUBLE, true
FROM closed
WHERE reported_close_minutes IS NOT NULL AND NOT close_from_duration(source)
ORDER BY measure, source, id
