//! How long the period's incidents took to resolve, in bands (`queries/tables/resolve_bands.sql`):
//! the shape the median and p90 of `mttr_hours` summarise.

use serde::Serialize;

use crate::pipeline::RunResult;
use crate::table::{column_i64, column_strings};

#[derive(Debug, Serialize)]
pub struct Band {
    pub band: String,
    pub tickets: u64,
    pub share: String,
}

/// The bands of the `resolve_bands` table, or `None` when no incident was resolved in the
/// period.
pub fn build(result: &RunResult) -> Option<(Vec<Band>, String)> {
    let mut counts: Vec<(String, u64)> = Vec::new();
    for batch in result.tables.get("resolve_bands") {
        let band = column_strings(batch, "band").unwrap_or_default();
        let n = column_i64(batch, "tickets").unwrap_or_default();
        for (b, n) in band.into_iter().zip(n) {
            counts.push((b.unwrap_or_default(), n.unwrap_or(0).max(0) as u64));
        }
    }
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let bands: Vec<Band> = counts
        .into_iter()
        .map(|(band, n)| Band {
            band,
            tickets: n,
            share: super::format::value(Some(n as f64 * 100.0 / total as f64), "percent"),
        })
        .collect();
    let chart = super::charts::hbars(
        "Incidents by time to resolve",
        &bands
            .iter()
            .map(|b| {
                (
                    b.band.clone(),
                    Some(b.tickets as f64),
                    format!("{} ({})", b.tickets, b.share),
                )
            })
            .collect::<Vec<_>>(),
        None,
    );
    Some((bands, chart))
}
