//! How long the period's incidents took to resolve, in bands: the shape the median and p90 of
//! `mttr_hours` summarise. The same cohort as `queries/mttr.sql` (incidents resolved in the
//! period, not cancelled), on the calendar clock.

use serde::Serialize;

use crate::engine::{EngineError, column_i64, sql_within};
use crate::pipeline::RunResult;

/// Upper bounds in hours, exclusive; the last band is open.
const BANDS: &[(&str, Option<i64>)] = &[
    ("under 1 h", Some(1)),
    ("1-4 h", Some(4)),
    ("4-8 h", Some(8)),
    ("8-24 h", Some(24)),
    ("1-3 d", Some(72)),
    ("3-7 d", Some(168)),
    ("7-30 d", Some(720)),
    ("over 30 d", None),
];

#[derive(Debug, Serialize)]
pub struct Band {
    pub band: String,
    pub tickets: u64,
    pub share: String,
}

/// The bands, or `None` when no incident was resolved in the period.
pub fn build(result: &RunResult) -> Result<Option<(Vec<Band>, String)>, EngineError> {
    // A band's index is the number of bounds the time reaches.
    let band = BANDS
        .iter()
        .filter_map(|(_, hours)| *hours)
        .map(|h| format!("(resolve_us >= {})::INT", h * 3_600_000_000))
        .collect::<Vec<_>>()
        .join(" + ");
    let sql = format!(
        "SELECT {band} AS band, count(*) AS n FROM ledger
         WHERE kind = 'incident' AND NOT is_cancelled AND resolve_us IS NOT NULL
           AND {resolved}
         GROUP BY ALL",
        resolved = sql_within("resolved_at", result.period.start, result.period.end)
    );
    let mut counts = vec![0u64; BANDS.len()];
    for batch in result.engine.query(&sql)? {
        let band = column_i64(&batch, "band").unwrap_or_default();
        let n = column_i64(&batch, "n").unwrap_or_default();
        for (b, n) in band.iter().zip(&n) {
            if let (Some(b), Some(n)) = (b, n) {
                counts[(*b as usize).min(BANDS.len() - 1)] += (*n).max(0) as u64;
            }
        }
    }
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return Ok(None);
    }
    let bands: Vec<Band> = BANDS
        .iter()
        .zip(&counts)
        .map(|((label, _), n)| Band {
            band: label.to_string(),
            tickets: *n,
            share: super::format::value(Some(*n as f64 * 100.0 / total as f64), "percent"),
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
    Ok(Some((bands, chart)))
}
