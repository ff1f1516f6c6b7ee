//! The report's monthly trend: the twelve months up to the period's end, from the months the
//! inputs hold data for. Volume from the `month` rows of the volume KPIs; median time to
//! resolve, resolution SLA adherence and the backlog at each month's end from the `monthly`
//! table.

use std::collections::BTreeMap;

use serde::Serialize;

use super::charts::grouped_bars;
use super::format;
use crate::kpi::KpiRow;
use crate::pipeline::RunResult;
use crate::table::{column_f64, column_i64, column_strings};

#[derive(Debug, Default, Serialize)]
pub struct TrendRow {
    pub month: String,
    pub created: u64,
    pub resolved: u64,
    /// Open at the month's end (none without the `monthly` table).
    pub backlog: Option<u64>,
    pub median_resolve_hours: Option<f64>,
    /// The median as the report shows it.
    pub median_resolve: String,
    pub sla_met_pct: Option<f64>,
    pub sla_met: String,
    pub sla_decided: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct TrendCharts {
    pub volume: Option<String>,
    pub median_resolve: Option<String>,
    pub sla: Option<String>,
    pub backlog: Option<String>,
}

/// The months, leading months without any ticket created, resolved or open left out: before
/// the exports begin there is nothing to draw.
pub fn build(result: &RunResult) -> Vec<TrendRow> {
    let mut months = volume(&result.kpis);
    for b in result.tables.get("monthly") {
        let month = column_strings(b, "month").unwrap_or_default();
        let median = column_f64(b, "median_resolve_hours").unwrap_or_default();
        let int = |c: &str| column_i64(b, c).unwrap_or_default();
        let (decided, met, backlog) = (int("sla_decided"), int("sla_met"), int("backlog_open"));
        for i in 0..b.num_rows() {
            let Some(row) = month[i].as_ref().and_then(|m| months.get_mut(m)) else {
                continue;
            };
            row.backlog = backlog[i].map(|n| n.max(0) as u64);
            row.median_resolve_hours = median[i];
            row.sla_decided = decided[i].unwrap_or(0).max(0) as u64;
            row.sla_met_pct = (row.sla_decided > 0)
                .then(|| 100.0 * met[i].unwrap_or(0) as f64 / row.sla_decided as f64);
        }
    }
    let mut rows: Vec<TrendRow> = months
        .into_values()
        .skip_while(|r| r.created + r.resolved + r.backlog.unwrap_or(0) == 0)
        .collect();
    for r in &mut rows {
        r.median_resolve = format::on_page(&format::readable(r.median_resolve_hours, "hours"));
        r.sla_met = format::on_page(&format::value(r.sla_met_pct, "percent"));
    }
    rows
}

/// Tickets created and resolved per month, from the volume KPIs' `month` rows.
fn volume(rows: &[KpiRow]) -> BTreeMap<String, TrendRow> {
    let mut months: BTreeMap<String, TrendRow> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.dimension == "month") {
        let entry = months.entry(r.key.clone()).or_insert_with(|| TrendRow {
            month: r.key.clone(),
            ..TrendRow::default()
        });
        match r.kpi.as_str() {
            "tickets_created" => entry.created = r.n,
            "tickets_resolved" => entry.resolved = r.n,
            _ => {}
        }
    }
    months
}

/// A chart for each series that has a value in some month; a month without one has no bar.
pub fn charts(rows: &[TrendRow]) -> TrendCharts {
    let months: Vec<String> = rows.iter().map(|t| t.month.clone()).collect();
    let series = |f: fn(&TrendRow) -> Option<f64>| -> Option<Vec<f64>> {
        let values: Vec<Option<f64>> = rows.iter().map(f).collect();
        values
            .iter()
            .any(Option::is_some)
            .then(|| values.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    let one = |title: &str, name: &str, values: Option<Vec<f64>>| {
        values.map(|v| grouped_bars(title, &months, &[(name, v)]))
    };
    TrendCharts {
        volume: rows.iter().any(|t| t.created + t.resolved > 0).then(|| {
            grouped_bars(
                "Tickets created and resolved by month",
                &months,
                &[
                    ("Created", rows.iter().map(|t| t.created as f64).collect()),
                    ("Resolved", rows.iter().map(|t| t.resolved as f64).collect()),
                ],
            )
        }),
        median_resolve: one(
            "Median hours to resolve an incident, by month resolved",
            "Median hours",
            series(|t| t.median_resolve_hours),
        ),
        sla: one(
            "Resolution SLA met, by month decided",
            "Met %",
            series(|t| t.sla_met_pct),
        ),
        backlog: one(
            "Open backlog at each month's end",
            "Open",
            series(|t| t.backlog.map(|n| n as f64)),
        ),
    }
}
