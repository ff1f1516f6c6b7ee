//! The report's SLA section: adherence by priority beside the help desk's own verdict, breaches
//! by the month in which they happened, and the SLAs that are breached and still open.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use super::format;
use crate::kpi::{self, KpiRow};
use crate::period::{PeriodKind, local_date};
use crate::pipeline::RunResult;
use crate::table::{column_i64, column_strings};

/// Months of breach history shown, up to the period's end.
const MONTHS: u32 = 12;

#[derive(Debug, Serialize)]
pub struct SlaView {
    pub by_priority: Vec<PriorityRow>,
    pub months: Vec<MonthRow>,
    pub open: Vec<OpenBreach>,
    pub open_total: u64,
    /// Tickets resolved in the period after their resolution SLA was breached, the longest
    /// after first.
    pub resolved: Vec<ResolvedBreach>,
    pub resolved_total: u64,
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
    /// The command that explains why it is listed (filled in by the view).
    pub explain: String,
}

#[derive(Debug, Serialize)]
pub struct ResolvedBreach {
    pub id: String,
    pub priority: String,
    pub group: String,
    pub title: String,
    pub breach_at: String,
    pub resolved_at: String,
    /// How long after the breach it was resolved.
    pub late: String,
    /// The command that explains why it is listed (filled in by the view).
    pub explain: String,
}

/// The section, or `None` when no ticket has an SLA. Breaches by month start at `first_month`,
/// the trend's first.
pub fn build(result: &RunResult, first_month: Option<&str>) -> Option<SlaView> {
    let rows = &result.kpis;
    let has = |k: &str| rows.iter().any(|r| r.kpi == k);
    if !has("sla_resolution_met_pct") && !has("sla_response_met_pct") {
        return None;
    }
    let by_priority = priority_rows(rows);
    // from the first month the trend shows: before the exports begin there is nothing to count
    let mut months = breaches_by_month(result);
    months.retain(|m| first_month.is_some_and(|f| m.month.as_str() >= f));
    let chart = breaches_chart(&months, has("sla_response_met_pct"));
    Some(SlaView {
        by_priority,
        chart,
        months,
        open: open_breaches(result),
        resolved_total: resolved_total(result),
        resolved: resolved_breaches(result),
        open_total: kpi::find(rows, "sla_breached_open", "value", "all", "all").map_or(0, |r| r.n),
        has_response: has("sla_response_met_pct"),
        has_source: has("source_sla_met_pct"),
    })
}

/// The met percentages of every ticket (`All`) and of each priority a KPI row names.
fn priority_rows(rows: &[KpiRow]) -> Vec<PriorityRow> {
    let mut priorities: Vec<&str> = rows
        .iter()
        .filter(|r| {
            r.kpi.starts_with("sla_") && r.kpi.ends_with("_met_pct") && r.dimension == "priority"
        })
        .map(|r| r.key.as_str())
        .collect();
    priorities.sort();
    priorities.dedup();
    std::iter::once("all")
        .chain(priorities.iter().copied())
        .map(|p| {
            let (dimension, key) = match p {
                "all" => ("all", "all"),
                p => ("priority", p),
            };
            let pct = |kpi_id: &str| match kpi::find(rows, kpi_id, "value", dimension, key) {
                Some(r) => (format::value(r.value, "percent"), r.n),
                None => ("—".to_string(), 0),
            };
            let (resolution, resolution_n) = pct("sla_resolution_met_pct");
            let (response, response_n) = pct("sla_response_met_pct");
            let (source, source_n) = pct("source_sla_met_pct");
            PriorityRow {
                priority: match p {
                    "all" => "All".to_string(),
                    p => p.to_string(),
                },
                resolution,
                resolution_n,
                response,
                response_n,
                source,
                source_n,
            }
        })
        .collect()
}

/// Bars of the breaches by month, resolution's and (where the tickets have response targets)
/// response's; none when no month has a breach.
fn breaches_chart(months: &[MonthRow], has_response: bool) -> Option<String> {
    if !months.iter().any(|m| m.response + m.resolution > 0) {
        return None;
    }
    let labels: Vec<String> = months.iter().map(|m| m.month.clone()).collect();
    let mut series = vec![(
        "Resolution",
        months.iter().map(|m| m.resolution as f64).collect(),
    )];
    if has_response {
        series.push((
            "Response",
            months.iter().map(|m| m.response as f64).collect(),
        ));
    }
    Some(super::charts::grouped_bars(
        "SLA breaches by month of breach",
        &labels,
        &series,
    ))
}

/// Breaches per local month of the breach, for the twelve months up to the period's end, from
/// the quarter-hour counts of the `sla_breaches` table.
fn breaches_by_month(result: &RunResult) -> Vec<MonthRow> {
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
    for b in result.tables.get("sla_breaches") {
        let sla = column_strings(b, "sla").unwrap_or_default();
        let bucket = column_i64(b, "quarter_hour").unwrap_or_default();
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
    counts
        .into_iter()
        .map(|(month, (response, resolution))| MonthRow {
            month,
            response,
            resolution,
        })
        .collect()
}

/// The `sla_resolved_breaches` table: tickets resolved in the period after their breach.
fn resolved_breaches(result: &RunResult) -> Vec<ResolvedBreach> {
    let tz = result.period.timezone;
    let mut out = Vec::new();
    for b in result.tables.get("sla_resolved_breaches") {
        let text = |c: &str| column_strings(b, c).unwrap_or_default();
        let (id, priority, group, title) = (
            text("id"),
            text("priority"),
            text("assignment_group"),
            text("title"),
        );
        let instant = |c: &str| -> Vec<Option<DateTime<Utc>>> {
            column_i64(b, c)
                .unwrap_or_default()
                .into_iter()
                .map(|us| us.and_then(DateTime::<Utc>::from_timestamp_micros))
                .collect()
        };
        let (breach, resolved) = (instant("breach_us"), instant("resolved_us"));
        for i in 0..b.num_rows() {
            let (Some(breach_at), Some(resolved_at)) = (breach[i], resolved[i]) else {
                continue;
            };
            let late = (resolved_at - breach_at).num_minutes() as f64 / 60.0;
            let or_none = |v: &Option<String>| {
                v.clone()
                    .unwrap_or_else(|| crate::model::NONE_KEY.to_string())
            };
            out.push(ResolvedBreach {
                id: id[i].clone().unwrap_or_default(),
                priority: or_none(&priority[i]),
                group: or_none(&group[i]),
                title: title[i].clone().unwrap_or_default(),
                breach_at: format::local_time(breach_at, tz),
                resolved_at: format::local_time(resolved_at, tz),
                late: format::on_page(&format::readable(Some(late), "hours")),
                explain: String::new(),
            });
        }
    }
    out
}

/// How many tickets `sla_resolved_breaches` holds before its limit.
fn resolved_total(result: &RunResult) -> u64 {
    result
        .tables
        .get("sla_resolved_breaches")
        .iter()
        .find_map(|b| column_i64(b, "total").ok()?.first().copied().flatten())
        .map_or(0, |n| n.max(0) as u64)
}

/// The SLAs still running at as_of whose breach instant has passed, oldest breach first: the
/// `sla_open_breaches` table.
fn open_breaches(result: &RunResult) -> Vec<OpenBreach> {
    let tz = result.period.timezone;
    let mut out = Vec::new();
    for b in result.tables.get("sla_open_breaches") {
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
                breach_at: format::local_time(at, tz),
                overdue: format::on_page(&format::readable(Some(overdue), "hours")),
                explain: String::new(),
            });
        }
    }
    out
}
