//! The data-quality account of a run: rows read, accepted and rejected per file, what went
//! wrong and where, tickets left out of cohorts and why, and what could not be measured.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::ingest::InputReport;
use crate::kpi::KpiRow;
use crate::model;
use crate::queries::Catalogue;
use crate::table::{Tables, column_i64, column_strings};

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
    /// What the report says on its first screen: a value map that does not know many of a
    /// column's values.
    pub warnings: Vec<String>,
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

/// The account, from the tables `quality_by_source`, `ingest_problems` and
/// `ingest_problem_examples`.
pub fn assess(
    tables: &Tables,
    inputs: &[InputReport],
    sources_with_history: &BTreeSet<String>,
    catalogue: &Catalogue,
    kpis: &[KpiRow],
) -> Quality {
    let problems = problems(tables);
    let values_nulled = problems
        .iter()
        .filter(|p| p.action == model::ACTION_VALUE_NULLED)
        .map(|p| p.count)
        .sum();

    let by_source = tables.get("quality_by_source");
    let total = |name: &str| -> u64 {
        by_source
            .iter()
            .flat_map(|b| column_i64(b, name).unwrap_or_default())
            .map(|v| v.unwrap_or(0).max(0) as u64)
            .sum()
    };
    let with_reopen_count = InputReport::sources_where(inputs, |i| i.reopen_count);

    let mut notes = Vec::new();
    let sources: BTreeSet<&str> = inputs.iter().map(|i| i.source.as_str()).collect();
    for s in &sources {
        if !sources_with_history.contains(*s) {
            notes.push(if with_reopen_count.contains(s) {
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

    for input in inputs {
        notes.extend(input.notes.iter().map(|n| format!("{}: {n}", input.path)));
    }

    let mut warnings = unknown_values(&problems, inputs);
    warnings.extend(capped_exports(inputs));

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

    Quality {
        rows: inputs.iter().map(|i| i.rows).sum(),
        accepted: inputs.iter().map(|i| i.accepted).sum(),
        rejected: inputs.iter().map(|i| i.rejected).sum(),
        values_nulled,
        problems,
        tickets: total("tickets"),
        cancelled: total("cancelled"),
        resolved_without_timestamp: total("resolved_without_timestamp"),
        notes,
        warnings,
        not_measured,
    }
}

/// Row counts at which help desks stop a list export (ServiceNow's default limit, and the limits
/// instances raise it to): a file of exactly that many rows is most likely cut short.
const EXPORT_CAPS: [u64; 3] = [10_000, 50_000, 100_000];

/// What a file of exactly an export limit's rows probably is, and what to do.
const CAPPED: &str = "a help desk's export limit (ServiceNow stops a list export at 10,000 rows \
     unless raised to 50,000 or 100,000)";

/// The files named in full in a sentence on several capped files; the others are counted.
const CAPPED_NAMED: usize = 3;

/// A sentence for each export limit that some files' row count is: one sentence for all of
/// them, so that a hundred slices of a limit's size make one warning, not a hundred.
fn capped_exports(inputs: &[InputReport]) -> Vec<String> {
    EXPORT_CAPS
        .iter()
        .filter_map(|cap| {
            let files: Vec<&str> = inputs
                .iter()
                .filter(|i| i.rows == *cap)
                .map(|i| i.path.as_str())
                .collect();
            match files.as_slice() {
                [] => None,
                [file] => Some(format!(
                    "{file} has exactly {cap} rows, {CAPPED}: it is probably cut short; export in \
                     slices (by month of creation) and name them all"
                )),
                files => Some(format!(
                    "{} files have exactly {cap} rows each, {CAPPED}: each is probably cut \
                     short; export in smaller slices and name them all ({})",
                    files.len(),
                    named_and_counted(files)
                )),
            }
        })
        .collect()
}

/// `a, b, c and 4 more`, or all of them when there are no more than [`CAPPED_NAMED`].
fn named_and_counted(files: &[&str]) -> String {
    let named = files[..files.len().min(CAPPED_NAMED)].join(", ");
    match files.len().saturating_sub(CAPPED_NAMED) {
        0 => named,
        more => format!("{named} and {more} more"),
    }
}

/// Share of a file's rows above which values that a value map does not know are said on the
/// report's first screen: a whole column read as unknown changes what the KPIs mean.
const UNKNOWN_SHARE_WARNED: f64 = 0.05;

/// A sentence for each column whose unknown values are more than [`UNKNOWN_SHARE_WARNED`] of its
/// file's rows.
fn unknown_values(problems: &[Problem], inputs: &[InputReport]) -> Vec<String> {
    problems
        .iter()
        .filter(|p| p.action == model::ACTION_VALUE_NULLED)
        .filter(|p| {
            model::MAPPED_FIELDS
                .iter()
                .any(|f| p.problem == model::unknown_value_problem(f))
        })
        .filter_map(|p| {
            let rows = inputs.iter().find(|i| i.path == p.file)?.rows;
            let share = p.count as f64 / rows.max(1) as f64;
            (share > UNKNOWN_SHARE_WARNED).then(|| {
                format!(
                    "{}: {} of {} rows ({:.0} %) have a {} the value map does not know ({}); \
                     they are read as unknown: map them in [sources.values]",
                    p.file,
                    p.count,
                    rows,
                    share * 100.0,
                    p.column.as_deref().unwrap_or("value"),
                    p.problem
                )
            })
        })
        .collect()
}

fn problems(tables: &Tables) -> Vec<Problem> {
    let groups = tables.get("ingest_problems");
    let examples = tables.get("ingest_problem_examples");
    type Key = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let mut by_key: BTreeMap<Key, Vec<Example>> = BTreeMap::new();
    for b in examples {
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
    for b in groups {
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
    out
}
