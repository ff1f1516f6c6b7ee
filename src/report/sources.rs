//! Per-source counts for the report: what each help desk contributed to the period.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::{EngineError, column_i64, column_strings, sql_within};
use crate::pipeline::RunResult;

#[derive(Debug, Serialize)]
pub struct SourceCount {
    pub source: String,
    pub profiles: String,
    pub files: usize,
    pub rows: u64,
    pub rejected: u64,
    pub created: i64,
    pub resolved: i64,
}

pub fn build(result: &RunResult) -> Result<Vec<SourceCount>, EngineError> {
    let mut by_source: BTreeMap<&str, SourceCount> = BTreeMap::new();
    for i in &result.inputs {
        let s = by_source.entry(&i.source).or_insert_with(|| SourceCount {
            source: i.source.clone(),
            profiles: String::new(),
            files: 0,
            rows: 0,
            rejected: 0,
            created: 0,
            resolved: 0,
        });
        s.files += 1;
        s.rows += i.rows;
        s.rejected += i.rejected;
        if !s.profiles.split(", ").any(|p| p == i.profile) {
            if !s.profiles.is_empty() {
                s.profiles.push_str(", ");
            }
            s.profiles.push_str(&i.profile);
        }
    }
    let in_period = |c: &str| sql_within(c, result.period.start, result.period.end);
    let sql = format!(
        "SELECT source,
                count(*) FILTER (WHERE {}) AS created,
                count(*) FILTER (WHERE {}) AS resolved
         FROM ledger WHERE NOT is_cancelled GROUP BY source",
        in_period("created_at"),
        in_period("resolved_at")
    );
    for batch in result.engine.query(&sql)? {
        let sources = column_strings(&batch, "source").unwrap_or_default();
        let created = column_i64(&batch, "created").unwrap_or_default();
        let resolved = column_i64(&batch, "resolved").unwrap_or_default();
        for ((s, c), r) in sources.into_iter().zip(created).zip(resolved) {
            if let Some(entry) = s.as_deref().and_then(|s| by_source.get_mut(s)) {
                entry.created = c.unwrap_or(0);
                entry.resolved = r.unwrap_or(0);
            }
        }
    }
    Ok(by_source.into_values().collect())
}
