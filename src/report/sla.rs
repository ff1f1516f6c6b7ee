//! The report's SLA section: adherence by priority beside the help desk's own verdict, breaches
//! by the month in which they happened, and the SLAs that are breached and still open.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use super::format;
use crate::engine::{EngineError, column_i64, column_strings};
use crate::kpi::{self, KpiRow};
use crate::period::{PeriodKind, format_instant, local_date};
use crate::pipeline::RunResult;

/// Open breached SLAs listed by name in the report (the oldest breaches first).
const OPEN_LISTED: usize = 25;
/// Months of breach history shown, up to the period's end.
const MONTHS: u32 = 12;

#[derive(Debug, Serialize)]
pub struct SlaView {
    pub by_priority: Vec<PriorityRow>,
    pub months: Vec<MonthRow>,
    pub open: Vec<OpenBreach>,
    pub open_total: u64,
    pub has_response: bool,
    pub has_source: bool,
    /// Breaches by month of breach, as a chart.
    pub chart: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PriorityRow {
    pub priority: String,
    pub resolution: String,
    pub resolution_n: u64,
    pub response: String,
    pub response_n: u64,
    pub source: String,
    pub source_n: u64,
}

#[derive(Debug, Serialize)]
pub struct MonthRow {
    pub month: String,
    pub response: u64,
    pub resolution: u64,
}

#[derive(Debug, Serialize)]
pub struct OpenBreach {
    pub id: String,
    pub priority: String,
    pub group: String,
    pub title: String,
    pub sla: String,
    pub breach_at: String,
    pub overdue: String,
}

/// The section, or `None` when no ticket has an SLA.
pub fn build(result: &RunResult) -> Result<Option<SlaView>, EngineError> {
    let rows = &result.kpis;
    let has = |k: &str| rows.iter().any(|r| r.kpi == k);
    if !has("sla_resolution_met_pct") && !has("sla_response_met_pct") {
        return Ok(None);
    }
    let pct = |kpi_id: &str, key: &str| -> (String, u64) {
        match kpi::find(rows, kpi_id, "value", "priority", key) {
            Some(r) => (format::value(r.value, "percent"), r.n),
            None => ("—".to_string(), 0),
        }
    };
    let mut priorities: Vec<&str> = rows
        .iter()
        .filter(|r| {
            r.kpi.starts_with("sla_") && r.kpi.ends_with("_met_pct") && r.dimension == "priority"
        })
        .map(|r| r.key.as_str())
        .collect();
    priorities.sort();
    priorities.dedup();
    let by_priority = std::iter::once("all")
        .chain(priorities.iter().copied())
        .map(|p| {
            let dim_key = |kpi_id: &str| {
                if p == "all" {
                    kpi::find(rows, kpi_id, "value", "all", "all")
                        .map(|r: &KpiRow| (format::value(r.value, "percent"), r.n))
                        .unwrap_or(("—".to_string(), 0))
                } else {
                    pct(kpi_id, p)
                }
            };
            let (resolution, resolution_n) = dim_key("sla_resolution_met_pct");
            let (response, response_n) = dim_key("sla_response_met_pct");
            let (source, source_n) = dim_key("source_sla_met_pct");
            PriorityRow {
                priority: if p == "all" {
                    "All".to_string()
                } else {
                    p.to_string()
                },
                resolution,
                resolution_n,
                response,
                response_n,
                source,
                source_n,
            }
        })
        .collect();
    let months = breaches_by_month(result)?;
    let chart = months
        .iter()
        .any(|m| m.response + m.resolution > 0)
        .then(|| {
            let labels: Vec<String> = months.iter().map(|m| m.month.clone()).collect();
            let mut series = vec![(
                "Resolution",
                months.iter().map(|m| m.resolution as f64).collect(),
            )];
            if has("sla_response_met_pct") {
                series.push((
                    "Response",
                    months.iter().map(|m| m.response as f64).collect(),
                ));
            }
            super::charts::grouped_bars("SLA breaches by month of breach", &labels, &series)
        });
    Ok(Some(SlaView {
        by_priority,
        chart,
        months,
        open: open_breaches(result)?,
        open_total: kpi::find(rows, "sla_breached_open", "value", "all", "all").map_or(0, |r| r.n),
        has_response: has("sla_response_met_pct"),
        has_source: has("source_sla_met_pct"),
    }))
}

/// Breaches per local month of the breach, for the twelve months up to the period's end.
fn breaches_by_month(result: &RunResult) -> Result<Vec<MonthRow>, EngineError> {
    let tz = result.period.timezone;
    let last = local_date(result.period.end - chrono::Duration::microseconds(1), tz);
    let mut months: Vec<PeriodKind> = vec![PeriodKind::month_of(last)];
    for _ in 1..MONTHS {
        let prev = months.last().expect("not empty").previous();
        months.push(prev);
    }
    months.reverse();
    let mut counts: BTreeMap<String, (u64, u64)> =
        months.iter().map(|m| (m.to_string(), (0, 0))).collect();
    // Quarter-hour buckets in SQL (every zone's offset is a whole number of them), months here,
    // in the report's zone.
    let batches = result.engine.query(
        "SELECT 'response' AS sla, epoch_us(sla_response_decided_at) // 900000000 AS bucket, count(*) AS n
         FROM ledger WHERE sla_response_state = 'breached' AND is_service AND NOT is_cancelled GROUP BY ALL
         UNION ALL
         SELECT 'resolution', epoch_us(sla_resolution_decided_at) // 900000000, count(*)
         FROM ledger WHERE sla_resolution_state = 'breached' AND is_service AND NOT is_cancelled GROUP BY ALL",
    )?;
    for b in &batches {
        let sla = column_strings(b, "sla").unwrap_or_default();
        let bucket = column_i64(b, "bucket").unwrap_or_default();
        let n = column_i64(b, "n").unwrap_or_default();
        for i in 0..b.num_rows() {
            let (Some(bucket), Some(n)) = (bucket[i], n[i]) else {
                continue;
            };
            let Some(at) = DateTime::<Utc>::from_timestamp(bucket * 900, 0) else {
                continue;
            };
            let d = local_date(at, tz);
            let label = format!("{:04}-{:02}", d.year(), d.month());
            if let Some(c) = counts.get_mut(&label) {
                if sla[i].as_deref() == Some("response") {
                    c.0 += n.max(0) as u64;
                } else {
                    c.1 += n.max(0) as u64;
                }
            }
        }
    }
    Ok(counts
        .into_iter()
        .map(|(month, (response, resolution))| MonthRow {
            month,
            response,
            resolution,
        })
        .collect())
}

/// The SLAs still running at as_of whose breach instant has passed, oldest breach first.
fn open_breaches(result: &RunResult) -> Result<Vec<OpenBreach>, EngineError> {
    let tz = result.period.timezone;
    let batches = result.engine.query(&format!(
        "SELECT id, priority, assignment_group, title, source_row, sla,
                epoch_us(breach_at) AS breach_us FROM (
             SELECT source, id, priority, assignment_group, title, source_row, 'response' AS sla,
                    sla_response_breach_at AS breach_at
             FROM ledger
             WHERE is_service AND NOT is_cancelled
               AND sla_response_state = 'breached' AND first_response_at IS NULL
             UNION ALL
             SELECT source, id, priority, assignment_group, title, source_row, 'resolution',
                    sla_resolution_breach_at
             FROM ledger
             WHERE is_service AND NOT is_cancelled
               AND sla_resolution_state = 'breached' AND resolved_at IS NULL AND closed_at IS NULL)
         ORDER BY breach_at, source, id, sla
         LIMIT {OPEN_LISTED}"
    ))?;
    let batches = crate::aside::shown(result.aside.as_ref(), batches).map_err(|message| {
        EngineError::Query {
            query: "open SLA breaches".to_string(),
            origin: "report".to_string(),
            message,
        }
    })?;
    let mut out = Vec::new();
    for b in &batches {
        let text = |c: &str| column_strings(b, c).unwrap_or_default();
        let (id, priority, group, title, sla) = (
            text("id"),
            text("priority"),
            text("assignment_group"),
            text("title"),
            text("sla"),
        );
        let breach = column_i64(b, "breach_us").unwrap_or_default();
        for i in 0..b.num_rows() {
            let Some(at) = breach[i].and_then(DateTime::<Utc>::from_timestamp_micros) else {
                continue;
            };
            let overdue = (result.as_of - at).num_minutes() as f64 / 60.0;
            out.push(OpenBreach {
                id: id[i].clone().unwrap_or_default(),
                priority: priority[i]
                    .clone()
                    .unwrap_or_else(|| crate::model::NONE_KEY.to_string()),
                group: group[i]
                    .clone()
                    .unwrap_or_else(|| crate::model::NONE_KEY.to_string()),
                title: title[i].clone().unwrap_or_default(),
                sla: sla[i].clone().unwrap_or_default(),
                breach_at: format_instant(at, tz),
                overdue: format::value(Some(overdue), "hours"),
            });
        }
    }
    Ok(out)
}
