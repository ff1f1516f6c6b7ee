-- `deskpulse explain`: the status history of each ticket asked for (`explain_ids`), in order.
-- Run only by `explain`; the report never reads it.
SELECT s.source, s.id, s.seq, s.at, s.raw_status, s.status
FROM status_changes s
JOIN explain_ids e ON e.id = s.id
ORDER BY s.source, s.id, s.at, s.seq
