//! Outputs of a run: `kpis.json`, `report.html`, `report.md`, `ledger.csv`, `rejects.csv` and
//! `manifest.json`, all byte-identical for the same inputs, configuration and as_of.

pub mod charts;
pub mod distribution;
pub mod files;
pub mod format;
pub mod previous;
pub mod publish;
pub mod reconciliation;
pub mod render;
pub mod sla;
pub mod sources;
pub mod view;
pub mod workbook;

use std::path::{Path, PathBuf};

use arrow::array::{Array, RecordBatch};
use serde::Serialize;
use serde_json::json;

use crate::ingest::read::{sha256_hex, sha256_hex_of_pieces};
use crate::period::format_instant;
use crate::pipeline::RunResult;
use files::{Staged, batches_to_csv, csv_pieces_of_rows, write_atomic};
use render::Templates;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Render(#[from] render::RenderError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error(transparent)]
    Workbook(#[from] workbook::WorkbookError),
    #[error("{0}")]
    Other(String),
    #[error("{0}")]
    History(String),
}

#[derive(Serialize)]
struct PeriodDoc {
    label: String,
    start: String,
    end: String,
}

#[derive(Serialize)]
struct InputDoc<'a> {
    path: &'a str,
    profile: &'a str,
    sha256: &'a str,
    rows: u64,
    accepted: u64,
    rejected: u64,
}

fn period_doc(result: &RunResult) -> PeriodDoc {
    let tz = result.period.timezone;
    PeriodDoc {
        label: result.period.label(),
        start: format_instant(result.period.start, tz),
        end: format_instant(result.period.end, tz),
    }
}

/// `kpis.json`: the contract's shape, one KPI row per line so that two runs diff cleanly.
pub fn kpis_json(result: &RunResult) -> String {
    let tz = result.period.timezone;
    let line = |v: &dyn erased::Json| v.json();
    let mut out = String::new();
    out.push_str("{\n");
    out.push_str("  \"tool\": \"deskpulse\",\n");
    out.push_str(&format!(
        "  \"version\": \"{}\",\n",
        env!("CARGO_PKG_VERSION")
    ));
    out.push_str(&format!("  \"period\": {},\n", line(&period_doc(result))));
    out.push_str(&format!("  \"timezone\": {},\n", line(&tz.name())));
    out.push_str(&format!(
        "  \"as_of\": {},\n",
        line(&format_instant(result.as_of, tz))
    ));
    out.push_str("  \"inputs\": [");
    for (i, input) in result.inputs.iter().enumerate() {
        let doc = InputDoc {
            path: &input.path,
            profile: &input.profile,
            sha256: &input.sha256,
            rows: input.rows,
            accepted: input.accepted,
            rejected: input.rejected,
        };
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        out.push_str(&line(&doc));
    }
    out.push_str(if result.inputs.is_empty() {
        "],\n"
    } else {
        "\n  ],\n"
    });
    out.push_str("  \"kpis\": [");
    for (i, row) in result.kpis.iter().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        out.push_str(&line(row));
    }
    out.push_str(if result.kpis.is_empty() {
        "]\n"
    } else {
        "\n  ]\n"
    });
    out.push_str("}\n");
    out
}

mod erased {
    /// Compact JSON of any serialisable value.
    pub trait Json {
        fn json(&self) -> String;
    }

    impl<T: serde::Serialize + ?Sized> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("plain data serialises")
        }
    }
}

/// The per-ticket ledger as CSV: the tickets behind this period's figures, one row each, ordered
/// by source and id (those created, resolved or closed in the period, and those open at its
/// end). Run on a connection of its own, so that it is written while the rest of the report is
/// rendered.
fn ledger_csv(
    aside: Option<&crate::aside::Aside>,
    conn: &duckdb::Connection,
    window: &crate::engine::Window,
) -> Result<Vec<Vec<u8>>, ReportError> {
    let query = crate::queries::QueryFile {
        id: "ledger.csv".to_string(),
        sql: LEDGER_CSV_SQL.to_string(),
        origin: "built-in".to_string(),
        runs_if: None,
    };
    let batches = {
        let _s = crate::log::stage("ledger.csv: query");
        let batches = crate::engine::query_batches(conn, &query, window)?;
        crate::aside::shown(aside, batches).map_err(ReportError::Other)?
    };
    let _s = crate::log::stage("ledger.csv: format");
    let rows = ledger_order(&batches).map_err(ReportError::Other)?;
    csv_pieces_of_rows(&batches, &rows).map_err(ReportError::Other)
}

/// The ledger's rows as (batch, row), ordered by source and id; the same id twice in a source
/// (from two files) by file and row, so that every run writes them in one order. Sorting here
/// rather than in the query spares DuckDB moving every column of every row through its sort.
fn ledger_order(batches: &[RecordBatch]) -> Result<Vec<(usize, usize)>, String> {
    use arrow::compute::{SortColumn, SortOptions, concat, lexsort_to_indices};
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let mut keys = Vec::new();
    for name in ["source", "id", "source_file", "source_row"] {
        let Ok(at) = first.schema().index_of(name) else {
            if keys.len() < 2 {
                return Err(format!("the ledger has no `{name}` column to order it by"));
            }
            continue;
        };
        let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(at).as_ref()).collect();
        keys.push(SortColumn {
            values: concat(&parts).map_err(|e| e.to_string())?,
            options: Some(SortOptions {
                descending: false,
                nulls_first: false,
            }),
        });
    }
    let order = lexsort_to_indices(&keys, None).map_err(|e| e.to_string())?;
    let at: Vec<(usize, usize)> = batches
        .iter()
        .enumerate()
        .flat_map(|(b, batch)| (0..batch.num_rows()).map(move |row| (b, row)))
        .collect();
    Ok(order.values().iter().map(|&i| at[i as usize]).collect())
}

const LEDGER_CSV_SQL: &str = "
SELECT * FROM ledger
WHERE (created_at >= $period_start AND created_at < $period_end)
   OR (resolved_at >= $period_start AND resolved_at < $period_end)
   OR (closed_at >= $period_start AND closed_at < $period_end)
   OR (created_at < $backlog_at
       AND NOT coalesce(resolved_at <= $backlog_at, false)
       AND NOT coalesce(closed_at <= $backlog_at, false))";

/// Every ingest issue: file, row, column, value, problem, action.
pub fn rejects_csv(result: &RunResult) -> Result<Vec<u8>, ReportError> {
    let batches = result.engine.query(
        "SELECT * FROM ingest_issues ORDER BY source_file, source_row, \"column\", problem",
    )?;
    let mut csv = batches_to_csv(&batches).map_err(ReportError::Other)?;
    if csv.is_empty() {
        csv = b"source_file,source_row,column,value,problem,action\n".to_vec();
    }
    Ok(csv)
}

#[derive(Serialize)]
struct OutputFile {
    file: String,
    bytes: usize,
    sha256: String,
}

impl OutputFile {
    fn of(file: &str, bytes: &[u8]) -> OutputFile {
        OutputFile {
            file: file.to_string(),
            bytes: bytes.len(),
            sha256: sha256_hex(bytes),
        }
    }

    fn of_pieces(file: &str, pieces: &[&[u8]]) -> OutputFile {
        OutputFile {
            file: file.to_string(),
            bytes: pieces.iter().map(|p| p.len()).sum(),
            sha256: sha256_hex_of_pieces(pieces),
        }
    }
}

/// An output to put in place: its bytes, or a file already written under a temporary name.
enum Output {
    Bytes(Vec<u8>),
    Staged(Staged, OutputFile),
}

/// Writes every output into `out` and returns the files written, manifest last.
pub fn write_report(
    result: &RunResult,
    out: &Path,
    previous: Option<&previous::PreviousDoc>,
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out).map_err(|source| ReportError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let templates = Templates::new(result.config.report.templates.as_deref());
    let _s = crate::log::stage("render");
    let window = result.window();
    let conn = result.engine.connection()?;
    let ledger_path = out.join("ledger.csv");
    let ledger_path = &ledger_path;
    let aside = result.aside.as_ref();
    let (ledger, rendered) = std::thread::scope(|scope| {
        // The ledger is the largest output: it is written (under a temporary name, put in
        // place with the others) while the pages render.
        let ledger = scope.spawn(move || -> Result<(Staged, OutputFile), ReportError> {
            let _s = crate::log::stage("ledger.csv");
            let pieces = ledger_csv(aside, &conn, &window)?;
            let pieces: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            let pieces = &pieces;
            // hashed while it is written
            let (staged, entry) = std::thread::scope(|scope| {
                let entry = scope.spawn(move || OutputFile::of_pieces("ledger.csv", pieces));
                let staged = Staged::write(ledger_path, pieces);
                (staged, entry.join().expect("hashing does not panic"))
            });
            let staged = staged.map_err(|source| ReportError::Write {
                path: ledger_path.clone(),
                source,
            })?;
            Ok((staged, entry))
        });
        let rendered = || -> Result<(String, String), ReportError> {
            let view = view::build(result, previous)?;
            Ok((
                templates.render("report.html", &view)?,
                templates.render("report.md", &view)?,
            ))
        };
        let rendered = rendered();
        (
            ledger.join().expect("writing the ledger does not panic"),
            rendered,
        )
    });
    let (html, md) = rendered?;
    let (staged, ledger) = ledger?;
    let mut outputs: Vec<(&str, Output)> = vec![
        ("kpis.json", Output::Bytes(kpis_json(result).into_bytes())),
        ("report.html", Output::Bytes(html.into_bytes())),
        ("report.md", Output::Bytes(md.into_bytes())),
        ("ledger.csv", Output::Staged(staged, ledger)),
        ("rejects.csv", Output::Bytes(rejects_csv(result)?)),
    ];
    let cost_tables = workbook::tables(result)?;
    if !cost_tables.is_empty() {
        outputs.push((
            "costs.xlsx",
            Output::Bytes(workbook::xlsx(&cost_tables, result)?),
        ));
        for table in &cost_tables {
            outputs.push((
                table.csv,
                Output::Bytes(workbook::csv(table).map_err(ReportError::Other)?),
            ));
        }
    }
    let _w = crate::log::stage("write the files");
    let mut written = Vec::new();
    let mut listed = Vec::new();
    for (name, output) in outputs {
        let path = out.join(name);
        let write_error = |source| ReportError::Write {
            path: path.clone(),
            source,
        };
        listed.push(match output {
            Output::Bytes(bytes) => {
                write_atomic(&path, &bytes).map_err(write_error)?;
                OutputFile::of(name, &bytes)
            }
            Output::Staged(staged, file) => {
                staged.commit().map_err(write_error)?;
                file
            }
        });
        written.push(path);
    }
    let manifest = manifest_json(result, &listed);
    let path = out.join("manifest.json");
    write_atomic(&path, manifest.as_bytes()).map_err(|source| ReportError::Write {
        path: path.clone(),
        source,
    })?;
    written.push(path);
    Ok(written)
}

/// What produced the report: inputs with their hashes, the configuration's hash, the queries
/// that ran, the tool's version, the period and as_of. No wall-clock time, so it is reproducible.
fn manifest_json(result: &RunResult, outputs: &[OutputFile]) -> String {
    let tz = result.period.timezone;
    let config = &result.config;
    let queries: Vec<serde_json::Value> = std::iter::once(&result.catalogue.ledger)
        .chain(result.catalogue.families.iter())
        .map(|q| json!({"id": q.id, "origin": q.origin, "sha256": sha256_hex(q.sql.as_bytes())}))
        .collect();
    let doc = json!({
        "tool": "deskpulse",
        "version": env!("CARGO_PKG_VERSION"),
        "period": period_doc(result),
        "timezone": tz.name(),
        "as_of": format_instant(result.as_of, tz),
        "period_note": result.period_note,
        "config": {
            "path": config.path.as_ref().map(|p| p.file_name().unwrap_or_default().to_string_lossy().to_string()),
            "sha256": sha256_hex(config.raw_text.as_bytes()),
        },
        "inputs": result.inputs,
        "queries": queries,
        "outputs": outputs,
    });
    let mut text = serde_json::to_string_pretty(&doc).expect("manifest serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, StringArray, UInt64Array};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    type Row = (&'static str, &'static str, &'static str, u64);

    fn batch(rows: &[Row]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("source", DataType::Utf8, true),
            Field::new("id", DataType::Utf8, true),
            Field::new("source_file", DataType::Utf8, true),
            Field::new("source_row", DataType::UInt64, true),
        ]));
        let text = |f: fn(&Row) -> &'static str| -> ArrayRef {
            Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
        };
        let row: ArrayRef = Arc::new(UInt64Array::from(
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        ));
        RecordBatch::try_new(
            schema,
            vec![text(|r| r.0), text(|r| r.1), text(|r| r.2), row],
        )
        .unwrap()
    }

    #[test]
    fn the_ledger_is_ordered_by_source_and_id_then_file_and_row() {
        let batches = [
            batch(&[
                ("zendesk", "7", "z.csv", 2),
                ("jsm", "HD-2", "b.csv", 9),
                ("jsm", "HD-10", "b.csv", 3),
            ]),
            batch(&[("jsm", "HD-2", "a.csv", 40), ("jsm", "HD-2", "b.csv", 4)]),
        ];
        assert_eq!(
            ledger_order(&batches).unwrap(),
            [(0, 2), (1, 0), (1, 1), (0, 1), (0, 0)]
        );
        let no_id = batches[0].project(&[0]).unwrap();
        assert!(ledger_order(&[no_id]).unwrap_err().contains("`id`"));
    }
}
