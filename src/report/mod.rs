//! Outputs of a run: `kpis.json`, `report.html`, `report.md`, `ledger.csv`, `rejects.csv` and
//! `manifest.json`, all byte-identical for the same inputs, configuration and as_of.

pub mod breakdowns;
pub mod changes;
pub mod charts;
pub mod distribution;
pub mod explain;
pub mod files;
pub mod format;
pub mod output_dir;
pub mod publish;
pub mod reconciliation;
pub mod render;
pub mod sla;
pub mod sources;
pub mod trend;
pub mod view;
pub mod workbook;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use crate::digest::{sha256_hex, sha256_hex_of_pieces};
use crate::period::format_instant;
use crate::pipeline::RunResult;
use crate::what_changed::WhatChanged;
use explain::ExplainCommand;
use files::batches_to_csv;
use output_dir::OutputDir;
use render::Templates;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Render(#[from] render::RenderError),
    #[error(transparent)]
    Workbook(#[from] workbook::WorkbookError),
    #[error(transparent)]
    Output(#[from] output_dir::OutputError),
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

/// `kpis.json`: the contract's shape, one KPI row per line so that two runs diff cleanly; with
/// the `changes` array when the run was compared with a previous period.
pub fn kpis_json(result: &RunResult, changes: Option<&WhatChanged>) -> String {
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
    out.push_str(if result.kpis.is_empty() { "]" } else { "\n  ]" });
    if let Some(changes) = changes.filter(|c| c.previous.is_some()) {
        out.push_str(",\n  \"changes\": [");
        let entries = changes::json_entries(result, changes);
        for (i, entry) in entries.iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            out.push_str(&line(entry));
        }
        out.push_str(if entries.is_empty() { "]" } else { "\n  ]" });
    }
    out.push_str("\n}\n");
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

/// Every ingest issue: file, row, column, value, problem, action (the `rejects` table).
pub fn rejects_csv(result: &RunResult) -> Result<Vec<u8>, ReportError> {
    let mut csv = batches_to_csv(result.tables.get("rejects")).map_err(ReportError::Other)?;
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
        OutputFile::of_pieces(file, &[bytes])
    }

    fn of_pieces(file: &str, pieces: &[&[u8]]) -> OutputFile {
        OutputFile {
            file: file.to_string(),
            bytes: pieces.iter().map(|p| p.len()).sum(),
            sha256: sha256_hex_of_pieces(pieces),
        }
    }
}

/// Writes every output into `out`, replacing the previous run's as a set (see [`output_dir`]),
/// and returns the files written, manifest last.
pub fn write_report(
    result: &RunResult,
    out: &Path,
    changes: &WhatChanged,
    explain: &ExplainCommand,
    site_nav: Option<&str>,
) -> Result<Vec<PathBuf>, ReportError> {
    let dir = OutputDir::prepare(out)?;
    let templates = Templates::new(result.config.report.templates.as_deref());
    let _s = crate::log::stage("render");
    let ledger_rows = result.tables.get(crate::queries::LEDGER_ROWS);
    if ledger_rows.is_empty() {
        // A query's result always has a batch, if only an empty one with its columns.
        return Err(ReportError::Other(
            "this run did not compute the report's tables".to_string(),
        ));
    }
    let pieces = {
        let _s = crate::log::stage("ledger.csv: format");
        files::csv_pieces(ledger_rows).map_err(ReportError::Other)?
    };
    let pieces: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
    let (ledger, rendered) = write_ledger_while_rendering(&dir, &pieces, || {
        let mut view = view::build(result, Some(changes), explain);
        view.site_nav = site_nav.map(str::to_string);
        Ok((
            templates.render("report.html", &view)?,
            templates.render("report.md", &view)?,
        ))
    });
    let (html, md) = rendered?;
    let pages = [
        ("kpis.json", kpis_json(result, Some(changes)).into_bytes()),
        ("report.html", html.into_bytes()),
        ("report.md", md.into_bytes()),
    ];
    let tables = table_files(result)?;
    let _w = crate::log::stage("write the files");
    let put = |(name, bytes): &(&str, Vec<u8>)| -> Result<OutputFile, ReportError> {
        dir.write(name, &[bytes.as_slice()])?;
        Ok(OutputFile::of(name, bytes))
    };
    // the manifest lists them as a reader looks for them: the pages, the ledger, the tables
    let mut listed = pages.iter().map(put).collect::<Result<Vec<_>, _>>()?;
    listed.push(ledger?);
    for output in &tables {
        listed.push(put(output)?);
    }
    let manifest = manifest_json(result, &listed);
    dir.write("manifest.json", &[manifest.as_bytes()])?;
    let written: Vec<PathBuf> = listed
        .iter()
        .map(|f| f.file.as_str())
        .chain(["manifest.json"])
        .map(|name| dir.final_path(name))
        .collect();
    dir.commit(&result.input_files)?;
    Ok(written)
}

/// Writes `ledger.csv` from its pieces (and hashes it) on another thread while `render` makes
/// the pages: the ledger is the largest output.
fn write_ledger_while_rendering(
    dir: &OutputDir,
    pieces: &[&[u8]],
    render: impl FnOnce() -> Result<(String, String), ReportError>,
) -> (
    Result<OutputFile, ReportError>,
    Result<(String, String), ReportError>,
) {
    std::thread::scope(|scope| {
        let ledger = scope.spawn(move || -> Result<OutputFile, ReportError> {
            let _s = crate::log::background_stage("ledger.csv: write");
            let entry = scope.spawn(move || OutputFile::of_pieces("ledger.csv", pieces));
            dir.write("ledger.csv", pieces)?;
            Ok(entry.join().expect("hashing does not panic"))
        });
        let rendered = render();
        (
            ledger.join().expect("writing the ledger does not panic"),
            rendered,
        )
    })
}

/// The tables written beside the pages: `rejects.csv` and, with `[costs]`, the finance
/// workbook and its sheets as CSV.
fn table_files(result: &RunResult) -> Result<Vec<(&'static str, Vec<u8>)>, ReportError> {
    let mut tables = vec![("rejects.csv", rejects_csv(result)?)];
    let cost_tables = workbook::tables(result);
    if !cost_tables.is_empty() {
        tables.push(("costs.xlsx", workbook::xlsx(&cost_tables, result)?));
        for table in &cost_tables {
            tables.push((table.csv, workbook::csv(table).map_err(ReportError::Other)?));
        }
    }
    Ok(tables)
}

/// What produced the report: inputs with their hashes, the configuration's hash, the queries
/// that ran, the tool's version, the period and as_of. No wall-clock time, so it is reproducible.
fn manifest_json(result: &RunResult, outputs: &[OutputFile]) -> String {
    let tz = result.period.timezone;
    let config = &result.config;
    let queries: Vec<serde_json::Value> = std::iter::once(&result.catalogue.ledger)
        .chain(result.catalogue.families.iter())
        .chain(result.catalogue.tables.iter())
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
