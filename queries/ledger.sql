-- The ledger: one row per ticket with the values behind every KPI, as of $as_of.
--
-- Anything after $as_of has not happened yet: tickets created later are left out, and in
-- `tickets` a later response, resolution or close time already reads as null. An event exactly
-- at $as_of has happened.
-- Durations are whole microseconds, so that sums and means are exact and every run gives the
-- same digits.
WITH known AS (
    SELECT *
    FROM tickets
    WHERE created_at <= $as_of
       OR (created_at IS NULL AND closed_at <= $as_of)
)
SELECT
    k.source, k.id, k.kind, k.title, k.priority, k.status, k.raw_status,
    k.service, k.ci, k.category, k.assignment_group, k.assignee, k.requester, k.channel,
    k.csat, k.problem_id, k.caused_by_change, k.change_outcome, k.change_type,
    k.created_at,
    k.first_response_at, k.resolved_at, k.closed_at,
    k.reopen_count, k.reassignment_count, k.labor_minutes, k.source_sla_met,
    k.source_response_sla_met,
    -- the help desk's own durations, for reconciliation only
    k.reported_resolve_minutes, k.reported_resolve_business_minutes,
    k.reported_first_response_minutes,
    k.reported_close_minutes,
    k.reported_first_response_bracket, k.reported_resolve_bracket,
    k.kind IN ('incident', 'request') AS is_service,
    coalesce(k.status = 'cancelled', false) AS is_cancelled,
    -- resolved or closed in the help desk, but exported without a resolution time (judged on
    -- the export, before as_of): never guessed from closed_at, so in no "resolved in period"
    -- cohort
    k.resolved_without_timestamp,
    -- ... nor a close time: when it stopped being open is unknown, so the open backlog counts
    -- it as missing rather than open
    k.end_unknown,
    -- unknown (null) when the export has neither a reopen count nor status history
    CASE WHEN k.reopen_count IS NOT NULL OR k.reopened_in_history IS NOT NULL
         THEN coalesce(k.reopen_count > 0, false) OR coalesce(k.reopened_in_history, false)
    END AS reopened,
    epoch_us(k.resolved_at) - epoch_us(k.created_at) AS resolve_us,
    epoch_us(k.first_response_at) - epoch_us(k.created_at) AS first_response_us,
    (epoch_us(k.resolved_at) - epoch_us(k.created_at)) / 3600e6 AS resolve_hours,
    -- Business clock (the ticket's calendar, net of pauses) and SLAs, computed per ticket by
    -- deskpulse's clock kernel: see docs/kpis.md, "Business time" and "SLA decision instant".
    sla_calendar(k.priority) AS calendar, k.pauses_known, k.paused_us,
    k.resolve_business_us, k.resolve_business_us / 3600e6 AS resolve_business_hours,
    k.first_response_business_us,
    CASE WHEN k.sla_response_state IS NOT NULL THEN sla_response_target(k.priority) END
        AS sla_response_target,
    k.sla_response_breach_at,
    CASE k.sla_response_state WHEN 1 THEN 'met' WHEN 2 THEN 'breached' WHEN 3 THEN 'running' END
        AS sla_response_state,
    k.sla_response_decided_at,
    CASE WHEN k.sla_resolution_state IS NOT NULL THEN sla_resolution_target(k.priority) END
        AS sla_resolution_target,
    k.sla_resolution_breach_at,
    CASE k.sla_resolution_state WHEN 1 THEN 'met' WHEN 2 THEN 'breached' WHEN 3 THEN 'running' END
        AS sla_resolution_state,
    k.sla_resolution_decided_at,
    k.repeat_key,
    k.source_file, k.source_row
FROM known k
