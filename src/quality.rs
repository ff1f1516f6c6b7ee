//! The data-quality account of a run: rows read, accepted and rejected per file, what went
//! wrong and where, tickets left out of cohorts and why, and what could not be measured.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::DataFrame;
use serde::Serialize;

use crate::engine::{Engine, EngineError, column_i64, column_strings};
use crate::ingest::InputReport;
use crate::kpi::KpiRow;
use crate::model;
use crate::queries::Catalogue;

/// How many example rows a problem lists in the report.
const EXAMPLES: i64 = 3;

#[derive(Debug, Clone, Serialize)]
pub struct Quality {
    pub rows: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub values_nulled: u64,
    pub problems: Vec<Problem>,
    /// Tickets known at as_of.
    pub tickets: u64,
    pub cancelled: u64,
    pub resolved_without_timestamp: u64,
    pub notes: Vec<String>,
    pub not_measured: Vec<NotMeasured>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub file: String,
    pub column: Option<String>,
    pub problem: String,
    pub action: String,
    pub count: u64,
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub row: u64,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotMeasured {
    pub kpi: String,
    pub title: String,
    pub reason: String,
}

pub fn assess(
    engine: &Engine,
    issues: &DataFrame,
    inputs: &[InputReport],
    sources_with_history: &BTreeSet<String>,
    catalogue: &Catalogue,
    kpis: &[KpiRow],
) -> Result<Quality, EngineError> {
    engine.load("ingest_issues", issues, &model::issue_columns())?;
    let problems = problems(engine)?;
    let values_nulled = problems
        .iter()
        .filter(|p| p.action == model::ACTION_VALUE_NULLED)
        .map(|p| p.count)
        .sum();

    // One pass over the ledger, by source.
    let by_source = engine.query(
        "SELECT source,
                count(*) AS tickets,
                count(*) FILTER (WHERE is_cancelled) AS cancelled,
                count(*) FILTER (WHERE resolved_without_timestamp AND NOT is_cancelled) AS resolved_without_timestamp,
                count(*) FILTER (WHERE reopen_count IS NOT NULL) AS with_reopen_count
         FROM ledger GROUP BY source",
    )?;
    let total = |name: &str| -> u64 {
        by_source
            .iter()
            .flat_map(|b| column_i64(b, name).unwrap_or_default())
            .map(|v| v.unwrap_or(0).max(0) as u64)
            .sum()
    };
    let mut with_reopen_count: BTreeSet<String> = BTreeSet::new();
    for batch in &by_source {
        let names = column_strings(batch, "source").unwrap_or_default();
        let counts = column_i64(batch, "with_reopen_count").unwrap_or_default();
        for (name, n) in names.into_iter().zip(counts) {
            if let (Some(name), Some(1..)) = (name, n) {
                with_reopen_count.insert(name);
            }
        }
    }

    let mut notes = Vec::new();
    let sources: BTreeSet<&str> = inputs.iter().map(|i| i.source.as_str()).collect();
    for s in &sources {
        if !sources_with_history.contains(*s) {
            notes.push(if with_reopen_count.contains(*s) {
                format!(
                    "{s}: the export has no status history, so reopens come only from its reopen count and pause time was not available"
                )
            } else {
                format!(
                    "{s}: the export has neither status history nor a reopen count, so its reopens are not measured (counted as missing) and pause time was not available"
                )
            });
        }
    }

    let measured: BTreeSet<&str> = kpis.iter().map(|r| r.kpi.as_str()).collect();
    let not_measured = catalogue
        .kpis
        .iter()
        .filter(|(id, _)| !measured.contains(id.as_str()))
        .map(|(id, meta)| NotMeasured {
            kpi: id.clone(),
            title: meta.title.clone(),
            reason: match &meta.needs {
                Some(needs) => format!("needs {needs}"),
                None => "its query returned no rows".to_string(),
            },
        })
        .collect();

    Ok(Quality {
        rows: inputs.iter().map(|i| i.rows).sum(),
        accepted: inputs.iter().map(|i| i.accepted).sum(),
        rejected: inputs.iter().map(|i| i.rejected).sum(),
        values_nulled,
        problems,
        tickets: total("tickets"),
        cancelled: total("cancelled"),
        resolved_without_timestamp: total("resolved_without_timestamp"),
        notes,
        not_measured,
    })
}

fn problems(engine: &Engine) -> Result<Vec<Problem>, EngineError> {
    let groups = engine.query(
        "SELECT source_file, \"column\", problem, action, count(*) AS n
         FROM ingest_issues
         GROUP BY ALL
         ORDER BY source_file, action DESC, n DESC, \"column\", problem",
    )?;
    let examples = engine.query(&format!(
        "SELECT source_file, \"column\", problem, action, source_row, value
         FROM ingest_issues
         QUALIFY row_number() OVER (PARTITION BY source_file, \"column\", problem, action ORDER BY source_row) <= {EXAMPLES}
         ORDER BY source_row"
    ))?;
    type Key = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let mut by_key: BTreeMap<Key, Vec<Example>> = BTreeMap::new();
    for b in &examples {
        let (f, c, p, a) = (
            column_strings(b, "source_file").unwrap_or_default(),
            column_strings(b, "column").unwrap_or_default(),
            column_strings(b, "problem").unwrap_or_default(),
            column_strings(b, "action").unwrap_or_default(),
        );
        let rows = column_i64(b, "source_row").unwrap_or_default();
        let values = column_strings(b, "value").unwrap_or_default();
        for i in 0..b.num_rows() {
            by_key
                .entry((f[i].clone(), c[i].clone(), p[i].clone(), a[i].clone()))
                .or_default()
                .push(Example {
                    row: rows[i].unwrap_or(0).max(0) as u64,
                    value: values[i].clone(),
                });
        }
    }
    let mut out = Vec::new();
    for b in &groups {
        let (f, c, p, a) = (
            column_strings(b, "source_file").unwrap_or_default(),
            column_strings(b, "column").unwrap_or_default(),
            column_strings(b, "problem").unwrap_or_default(),
            column_strings(b, "action").unwrap_or_default(),
        );
        let n = column_i64(b, "n").unwrap_or_default();
        for i in 0..b.num_rows() {
            let key = (f[i].clone(), c[i].clone(), p[i].clone(), a[i].clone());
            out.push(Problem {
                file: f[i].clone().unwrap_or_default(),
                column: c[i].clone(),
                problem: p[i].clone().unwrap_or_default(),
                action: a[i].clone().unwrap_or_default(),
                count: n[i].unwrap_or(0).max(0) as u64,
                examples: by_key.remove(&key).unwrap_or_default(),
            });
        }
    }
    Ok(out)
}
