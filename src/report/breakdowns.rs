//! The report's breakdowns of the period's service tickets by the columns of `[report]
//! breakdowns` (category, assignee, channel, ...): the `breakdowns` table, top ten and others.

use serde::Serialize;

use super::format;
use crate::pipeline::RunResult;
use crate::table::{column_f64, column_i64, column_strings};

#[derive(Debug, Serialize)]
pub struct Breakdown {
    pub column: String,
    pub label: String,
    pub rows: Vec<BreakdownRow>,
    /// Whether any ticket has a resolution SLA: without one, a column of breaches would read
    /// as none breached.
    pub with_sla: bool,
}

#[derive(Debug, Serialize)]
pub struct BreakdownRow {
    /// The value, `(none)`, or `(others)` for the values past the ten largest.
    pub key: String,
    /// How many values the row holds: more than one only for `(others)`.
    pub keys: i64,
    pub created: String,
    pub resolved: String,
    pub open: String,
    pub median: String,
    pub breached: String,
}

/// One breakdown per column of `[report] breakdowns`, in that order, each with its rows; a
/// column no ticket of the period fills (every row `(none)`) comes back with no rows, and the
/// report says the exports do not carry it.
pub fn build(result: &RunResult) -> Vec<Breakdown> {
    let with_sla = result
        .kpis
        .iter()
        .any(|r| r.kpi == "sla_resolution_met_pct");
    let mut out: Vec<Breakdown> = result
        .config
        .report
        .breakdowns
        .iter()
        .map(|c| Breakdown {
            column: c.clone(),
            label: super::view::column_label(c),
            rows: Vec::new(),
            with_sla,
        })
        .collect();
    for b in result.tables.get("breakdowns") {
        let column = column_strings(b, "breakdown").unwrap_or_default();
        let key = column_strings(b, "key").unwrap_or_default();
        let int = |c: &str| column_i64(b, c).unwrap_or_default();
        let (keys, created, resolved, open, breached) = (
            int("keys"),
            int("created"),
            int("resolved"),
            int("open"),
            int("resolved_breached"),
        );
        let median = column_f64(b, "median_resolve_hours").unwrap_or_default();
        let count = |v: Option<i64>| format::thousands(v.unwrap_or(0));
        for i in 0..b.num_rows() {
            let Some(target) = out
                .iter_mut()
                .find(|o| Some(&o.column) == column[i].as_ref())
            else {
                continue;
            };
            target.rows.push(BreakdownRow {
                key: key[i].clone().unwrap_or_default(),
                keys: keys[i].unwrap_or(1),
                created: count(created[i]),
                resolved: count(resolved[i]),
                open: count(open[i]),
                median: format::on_page(&format::readable(median[i], "hours")),
                breached: count(breached[i]),
            });
        }
    }
    for b in &mut out {
        if b.rows.iter().all(|r| r.key == crate::model::NONE_KEY) {
            b.rows.clear();
        }
    }
    out
}
