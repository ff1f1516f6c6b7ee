//! Ingest issues: a rejected row or a nulled value, with its file, row, column, value and
//! reason, as `rejects.csv` lists them.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::canonical::empty_frame;
use super::field_count::MalformedRow;
use super::read::ROW_COLUMN;
use crate::model::{self, ACTION_ROW_REJECTED};

/// One issue rule: rows matching `when` get an issue row for `column` with `value`.
pub(super) struct IssueRule {
    pub when: Expr,
    pub column: String,
    pub value: Expr,
    pub problem: String,
    pub action: &'static str,
}

/// The file's issues in row order, and how many rows they reject.
pub(super) fn issue_table(issue_frames: Vec<LazyFrame>) -> PolarsResult<(DataFrame, u64)> {
    let issues = if issue_frames.is_empty() {
        empty_frame(&model::issue_columns())
    } else {
        concat(issue_frames, UnionArgs::default())?
            .sort(
                ["source_row", "column"],
                SortMultipleOptions::default().with_maintain_order(true),
            )
            .collect()?
    };
    let rejected = issues
        .column("action")?
        .str()?
        .iter()
        .filter(|a| *a == Some(ACTION_ROW_REJECTED))
        .count() as u64;
    Ok((issues, rejected))
}

/// The rows of `lf` as issues of `column`, each showing `value`.
pub(super) fn issue_frame(
    lf: LazyFrame,
    file: &str,
    column: &str,
    value: Expr,
    problem: &str,
    action: &str,
) -> LazyFrame {
    lf.select([
        lit(file).alias("source_file"),
        col(ROW_COLUMN).cast(DataType::UInt64).alias("source_row"),
        lit(column).alias("column"),
        value.cast(DataType::String).alias("value"),
        lit(problem).alias("problem"),
        lit(action).alias("action"),
    ])
}

/// The malformed records of a file (`shown`, whose header has `names`) as issues.
pub(super) fn malformed_frame(
    rows: &[MalformedRow],
    shown: &str,
    names: &[String],
) -> PolarsResult<DataFrame> {
    let n = rows.len();
    let column: Vec<Option<&str>> = rows
        .iter()
        .map(|r| r.field.and_then(|f| names.get(f)).map(String::as_str))
        .collect();
    let cols = vec![
        Column::new("source_file".into(), vec![shown; n]),
        Column::new(
            "source_row".into(),
            rows.iter().map(|r| r.row).collect::<Vec<u64>>(),
        ),
        Column::new("column".into(), column).cast(&DataType::String)?,
        Column::new("value".into(), vec![None::<&str>; n]).cast(&DataType::String)?,
        Column::new(
            "problem".into(),
            rows.iter().map(|r| r.problem.clone()).collect::<Vec<_>>(),
        ),
        Column::new("action".into(), vec![ACTION_ROW_REJECTED; n]),
    ];
    DataFrame::new(n, cols)
}

/// Per-source counts of what the frame holds, keyed by file.
pub(super) fn count_by_file(
    frame: &DataFrame,
    file_column: &str,
) -> PolarsResult<BTreeMap<String, u64>> {
    let counts = frame
        .clone()
        .lazy()
        .group_by([col(file_column)])
        .agg([len().alias("n")])
        .collect()?;
    let files = counts.column(file_column)?.str()?.clone();
    let n = counts.column("n")?.cast(&DataType::UInt64)?;
    let n = n.u64()?;
    Ok(files
        .iter()
        .zip(n.iter())
        .filter_map(|(f, n)| Some((f?.to_string(), n?)))
        .collect())
}
