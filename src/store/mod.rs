//! The ticket store: the canonical tables of every export ingested so far, as Parquet files
//! that DuckDB, Spark, Trino or DataFusion read (docs/store.md). A run from the store computes
//! what a run from the same exports computes: the store holds what ingest hands on, the
//! exports' slices already merged.
//!
//! ```text
//! manifest.json                                        the files ingested, the tables' rows
//! tickets/source=<source>/created_month=<YYYY-MM>/*.parquet    month of creation, UTC
//! status_changes/source=<source>/month=<YYYY-MM>/*.parquet     month of the change, UTC
//! rejects/data_0.parquet                               the ingest issues (rejects.csv's rows)
//! ```
//!
//! Every ingest makes a new version beside the store, the partitions the new exports touch
//! written again and the others carried over as hard links, and exchanges the two in one step
//! (`swap`): a reader, or an ingest killed at any instant, finds one version or the other.
//!
//! Here: the layout and the manifest; reading the store is in `read`, an ingest's writing in
//! `write`, the locks between the two in `lock`, `deskpulse store info` in `info`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::EngineError;
use crate::ingest::{IngestError, Ingested, InputReport};
use crate::model::{self, ColumnType};
use crate::sql::{glob_literal, sql_text};

mod info;
mod lock;
mod read;
mod write;

pub use info::info;
pub use read::StoredTickets;
pub use write::{Ingest, ingest};

use lock::lock_for_reading;
use read::read_table;

pub const MANIFEST: &str = "manifest.json";
/// The layout's version: a store of another version is refused, not misread.
const FORMAT: u32 = 1;
/// A stored table: its directory, the columns its files hold and the partition columns.
struct Table {
    name: &'static str,
    columns: fn() -> Vec<(&'static str, ColumnType)>,
    /// The partition columns: `source`, then the UTC month of this timestamp column.
    month_of: Option<(&'static str, &'static str)>,
}

const TICKETS: Table = Table {
    name: "tickets",
    columns: model::ticket_columns,
    month_of: Some(("created_month", "created_at")),
};

const STATUS_CHANGES: Table = Table {
    name: "status_changes",
    columns: model::status_change_columns,
    month_of: Some(("month", "at")),
};

const REJECTS: Table = Table {
    name: "rejects",
    columns: model::issue_columns,
    month_of: None,
};

const TABLES: [Table; 3] = [TICKETS, STATUS_CHANGES, REJECTS];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write {}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("{0}")]
    Usage(String),
}

impl From<PolarsError> for StoreError {
    fn from(e: PolarsError) -> Self {
        StoreError::Ingest(e.into())
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `manifest.json`: what the store holds and where it came from.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub written_by: String,
    /// Every file ingested, in the order it was read: what its rows became.
    pub files: Vec<StoredInput>,
    pub sources_with_history: BTreeSet<String>,
    pub sources_with_first_response: BTreeSet<String>,
    /// Rows per table.
    pub rows: BTreeMap<String, u64>,
    /// Per table, the columns in which some row has a value: a run reads only these (the
    /// others are null in every row, as in the exports).
    pub filled: BTreeMap<String, Vec<String>>,
}

/// A file's account, whole: the fields `kpis.json` leaves out too.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredInput {
    #[serde(flatten)]
    pub report: InputReport,
    pub close_derived: bool,
    pub first_response_business_only: bool,
    pub reopen_count: bool,
    pub notes: Vec<String>,
}

impl StoredInput {
    fn new(report: &InputReport) -> StoredInput {
        StoredInput {
            report: report.clone(),
            close_derived: report.close_derived,
            first_response_business_only: report.first_response_business_only,
            reopen_count: report.reopen_count,
            notes: report.notes.clone(),
        }
    }

    fn into_report(self) -> InputReport {
        InputReport {
            close_derived: self.close_derived,
            first_response_business_only: self.first_response_business_only,
            reopen_count: self.reopen_count,
            notes: self.notes,
            ..self.report
        }
    }
}

impl Manifest {
    /// The manifest of the store at `dir`; an error that says what `dir` is otherwise.
    pub fn read(dir: &Path) -> Result<Manifest, StoreError> {
        Manifest::parse(dir, &Manifest::text(dir)?)
    }

    /// The manifest's text, as a run compares it to tell one version of the store from another.
    fn text(dir: &Path) -> Result<String, StoreError> {
        std::fs::read_to_string(dir.join(MANIFEST)).map_err(|e| StoreError::Invalid {
            path: dir.to_path_buf(),
            message: match dir.is_dir() {
                true => format!("not a ticket store: no readable {MANIFEST} ({e})"),
                false => "no such ticket store (`deskpulse ingest --store` makes one)".to_string(),
            },
        })
    }

    fn parse(dir: &Path, text: &str) -> Result<Manifest, StoreError> {
        let invalid = |message: String| StoreError::Invalid {
            path: dir.to_path_buf(),
            message,
        };
        let manifest: Manifest = serde_json::from_str(text)
            .map_err(|e| invalid(format!("{MANIFEST} is not a ticket store's: {e}")))?;
        if manifest.format != FORMAT {
            return Err(invalid(format!(
                "a store of format {}, which this deskpulse (format {FORMAT}) does not read",
                manifest.format
            )));
        }
        Ok(manifest)
    }
}

/// The store's tables as ingest hands them on, the tickets to be read a part at a time.
pub fn load(dir: &Path) -> Result<Ingested<StoredTickets>, StoreError> {
    let lock = lock_for_reading(dir)?;
    let text = Manifest::text(dir)?;
    let manifest = Manifest::parse(dir, &text)?;
    let read = |table: &Table| read_table(dir, table, &manifest);
    let (tickets, status_changes, issues) = (
        StoredTickets::open(dir, &manifest, text, lock)?,
        read(&STATUS_CHANGES)?,
        read(&REJECTS)?,
    );
    tickets.unchanged()?;
    Ok(Ingested {
        tickets,
        status_changes,
        issues,
        sources_with_history: manifest.sources_with_history,
        sources_with_first_response: manifest.sources_with_first_response,
        inputs: manifest
            .files
            .into_iter()
            .map(StoredInput::into_report)
            .collect(),
    })
}

/// The files of a stored table, as a `read_parquet` pattern.
fn all_files(dir: &Path, table: &Table) -> String {
    let root = glob_literal(&dir.join(table.name));
    let files = match table.month_of {
        Some(_) => format!("{root}/*/*/*.parquet"),
        None => format!("{root}/*.parquet"),
    };
    sql_text(&files)
}

/// The `read_parquet` call over a stored table's `files` (a pattern), its
/// partitions read as text, each row with the file it is in.
fn scan_sql(files: &str, table: &Table) -> String {
    let hive = match table.month_of {
        Some((month, _)) => format!(
            ", hive_partitioning = true, hive_types = {{'source': VARCHAR, '{month}': VARCHAR}}"
        ),
        None => String::new(),
    };
    format!("read_parquet({files}{hive}, filename = true)")
}

/// The columns of a stored table in which some row has a value, as the manifest lists them.
fn filled(dir: &Path, table: &Table, manifest: &Manifest) -> Result<Vec<String>, StoreError> {
    manifest
        .filled
        .get(table.name)
        .filter(|f| !f.is_empty())
        .cloned()
        .ok_or_else(|| StoreError::Invalid {
            path: dir.join(MANIFEST),
            message: format!("no columns listed for table {} under `filled`", table.name),
        })
}

/// A table whose files hold another number of rows than the manifest says: a file was added,
/// removed or changed by hand, and the tickets would be counted twice or not at all.
fn not_as_written(dir: &Path, table: &Table, read: usize, written: u64) -> StoreError {
    StoreError::Invalid {
        path: dir.join(table.name),
        message: format!(
            "its files hold {read} rows where {MANIFEST} says {written}: a file was added, \
             removed or changed since deskpulse wrote them (ingest the exports into a new store)"
        ),
    }
}

/// The Parquet files of a table, partitions and files in the order of their names.
fn files_of(dir: &Path, table: &Table) -> Result<Vec<PathBuf>, StoreError> {
    let root = dir.join(table.name);
    if !root.exists() {
        // a table with no rows has no files
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.map_err(|e| StoreError::Invalid {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        // only what `write_table` wrote: a file browser's `.DS_Store` is no table's
        if entry.file_type().is_file() && entry.path().extension() == Some("parquet".as_ref()) {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// Ingests `csv` (a ServiceNow export) into the store at `store`, as `deskpulse ingest` does.
    fn ingest_export(store: &Path, name: &str, csv: &str) {
        let exports = tempfile::tempdir().unwrap();
        std::fs::write(exports.path().join(name), csv).unwrap();
        let text = format!("[[sources]]\npath = \"{name}\"\nprofile = \"servicenow\"\n");
        let config = Config::parse(&text, None, exports.path().to_path_buf()).unwrap();
        let profiles = crate::pipeline::load_profiles(&config, None).unwrap();
        ingest(store, &config, &profiles).unwrap();
    }

    #[test]
    fn a_run_without_the_lock_stops_when_an_ingest_puts_a_new_version_in_place() {
        const HEADER: &str = "number,opened_at,state,priority,resolved_at,sys_updated_on\n";
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("tickets.store");
        let september = "INC1,2026-09-10 09:00:00,New,3 - Moderate,,2026-09-10 09:00:00\n";
        ingest_export(&store, "2026-09.csv", &format!("{HEADER}{september}"));
        // A store copied without its lock file: the run takes no lock, so the ingest goes on.
        std::fs::remove_file(dir.path().join(".tickets.store.lock")).unwrap();
        let run = load(&store).unwrap();
        assert_eq!(run.tickets.parts().count(), 1);
        // INC1 resolved: its partition is written again, at the same path
        let october = "INC1,2026-09-10 09:00:00,Resolved,3 - Moderate,2026-10-02 09:00:00,\
                       2026-10-02 09:00:00\n";
        ingest_export(&store, "2026-10.csv", &format!("{HEADER}{october}"));
        let read: Vec<_> = run.tickets.parts().collect();
        let Err(e) = &read[0] else {
            panic!("a part of the new version was read as the old one's");
        };
        assert!(e.to_string().contains("new version of the store"), "{e}");
        assert!(run.tickets.columns(&["id"]).is_err());
        assert_eq!(
            load(&store)
                .unwrap()
                .tickets
                .columns(&["id"])
                .unwrap()
                .height(),
            1
        );
    }
}
