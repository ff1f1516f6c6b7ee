//! Per-source counts for the report: what each help desk contributed to the period.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::pipeline::RunResult;
use crate::table::{column_i64, column_strings};

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

/// Files, rows and rejects per source from the ingest, and tickets from `source_counts`.
pub fn build(result: &RunResult) -> Vec<SourceCount> {
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
    for batch in result.tables.get("source_counts") {
        let sources = column_strings(batch, "source").unwrap_or_default();
        let created = column_i64(batch, "created").unwrap_or_default();
        let resolved = column_i64(batch, "resolved").unwrap_or_default();
        for ((s, c), r) in sources.into_iter().zip(created).zip(resolved) {
            if let Some(entry) = s.as_deref().and_then(|s| by_source.get_mut(s)) {
                entry.created = c.unwrap_or(0);
                entry.resolved = r.unwrap_or(0);
            }
        }
    }
    by_source.into_values().collect()
}
