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
//! Every ingest writes a whole new version beside the store and exchanges the two in one step
//! (`swap`): a reader, or an ingest killed at any instant, finds one version or the other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::engine::{Engine, EngineError};
use crate::ingest::normalize::polars_type;
use crate::ingest::profile::Profile;
use crate::ingest::{self, IngestError, Ingested, InputReport};
use crate::model::{self, ColumnType};
use crate::sql::sql_text;
use crate::swap::{abort_point, exchange, sync_dir};

pub const MANIFEST: &str = "manifest.json";
/// The layout's version: a store of another version is refused, not misread.
const FORMAT: u32 = 1;
/// Where an ingest writes the new version: `.<store name>.ingest-<pid>` beside the store.
const STAGING_MARK: &str = ".ingest-";

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
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
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
        let path = dir.join(MANIFEST);
        let invalid = |message: String| StoreError::Invalid {
            path: dir.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            invalid(match dir.is_dir() {
                true => format!("not a ticket store: no readable {MANIFEST} ({e})"),
                false => "no such ticket store (`deskpulse ingest --store` makes one)".to_string(),
            })
        })?;
        let manifest: Manifest = serde_json::from_str(&text)
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

/// The store's tables as ingest hands them on.
pub fn load(dir: &Path) -> Result<Ingested, StoreError> {
    let manifest = Manifest::read(dir)?;
    let engine = Engine::with_files_under(dir)?;
    let read = |table: &Table| read_table(&engine, dir, table, &manifest);
    let (tickets, status_changes, issues) =
        (read(&TICKETS)?, read(&STATUS_CHANGES)?, read(&REJECTS)?);
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

/// The `read_parquet` call over a stored table's files, its partitions read as text.
fn scan(dir: &Path, table: &Table) -> String {
    let (files, hive) = match table.month_of {
        Some((month, _)) => (
            dir.join(table.name).join("*").join("*").join("*.parquet"),
            format!(
                ", hive_partitioning = true, hive_types = {{'source': VARCHAR, '{month}': VARCHAR}}"
            ),
        ),
        None => (dir.join(table.name).join("*.parquet"), String::new()),
    };
    format!("read_parquet({}{hive})", sql_text(&files.to_string_lossy()))
}

/// A stored table, its rows in the order of its files (partitions in order, each file's rows
/// as written), its columns those of the canonical model.
fn read_table(
    engine: &Engine,
    dir: &Path,
    table: &Table,
    manifest: &Manifest,
) -> Result<DataFrame, StoreError> {
    let columns = (table.columns)();
    if manifest.rows.get(table.name).copied().unwrap_or(0) == 0 {
        return Ok(ingest::normalize::empty_frame(&columns));
    }
    let _s = crate::log::stage(format!("read {}", table.name));
    let filled = manifest
        .filled
        .get(table.name)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| StoreError::Invalid {
            path: dir.join(MANIFEST),
            message: format!("no columns listed for table {} under `filled`", table.name),
        })?;
    let read: Vec<String> = filled.iter().map(|c| format!("\"{c}\"")).collect();
    let frame = engine.read_frame(&format!(
        "SELECT {} FROM {}",
        read.join(", "),
        scan(dir, table)
    ))?;
    let typed: Vec<Expr> = columns
        .iter()
        .map(|(c, t)| match filled.iter().any(|f| f == c) {
            true => col(*c).cast(polars_type(*t)),
            false => lit(NULL).cast(polars_type(*t)).alias(*c),
        })
        .collect();
    Ok(frame.lazy().select(typed).collect()?)
}

/// What an ingest did.
pub enum Ingest {
    /// Every file of the configuration was in the store already: nothing was written.
    Unchanged { files: usize },
    /// The store now holds these files more, and this many tickets.
    Added {
        files: Vec<InputReport>,
        tickets: usize,
    },
}

/// Adds the configuration's exports to the store at `dir` (made if there is none): files it
/// holds already are skipped, later versions of its tickets replace the older ones.
pub fn ingest(dir: &Path, config: &Config, profiles: &[Profile]) -> Result<Ingest, StoreError> {
    let new_store = !dir.exists() || dir.read_dir().is_ok_and(|mut d| d.next().is_none());
    let held = match new_store {
        true => Ingested::empty(),
        false => load(dir)?,
    };
    let before = held.inputs.len();
    let ingested = ingest::ingest_onto(held, config, profiles)?;
    let added = ingested.inputs.len() - before;
    if added == 0 {
        return Ok(Ingest::Unchanged { files: before });
    }
    write(dir, &ingested)?;
    Ok(Ingest::Added {
        files: ingested.inputs[before..].to_vec(),
        tickets: ingested.tickets.height(),
    })
}

/// Writes the tables as a new version of the store and puts it in place in one step.
fn write(dir: &Path, ingested: &Ingested) -> Result<(), StoreError> {
    let (target, staging) = staging_for(dir)?;
    let engine = Engine::with_files_under(target.parent().expect("a store has a parent"))?;
    let frames = [
        &ingested.tickets,
        &ingested.status_changes,
        &ingested.issues,
    ];
    let (mut rows, mut filled) = (BTreeMap::new(), BTreeMap::new());
    for (table, frame) in TABLES.iter().zip(frames) {
        write_table(&engine, &staging, table, frame)?;
        rows.insert(table.name.to_string(), frame.height() as u64);
        let with_values = frame
            .columns()
            .iter()
            .filter(|c| c.null_count() < c.len())
            .map(|c| c.name().to_string())
            .collect();
        filled.insert(table.name.to_string(), with_values);
        abort_point();
    }
    let manifest = Manifest {
        format: FORMAT,
        written_by: format!("deskpulse {}", env!("CARGO_PKG_VERSION")),
        files: ingested.inputs.iter().map(StoredInput::new).collect(),
        sources_with_history: ingested.sources_with_history.clone(),
        sources_with_first_response: ingested.sources_with_first_response.clone(),
        rows,
        filled,
    };
    let path = staging.join(MANIFEST);
    let text = serde_json::to_string_pretty(&manifest).expect("a manifest serializes") + "\n";
    std::fs::write(&path, text).map_err(io_error(&path))?;
    abort_point();
    put_in_place(&staging, &target)
}

/// Writes a table's files; a partitioned one month by month, so that DuckDB holds one month of
/// it at a time beside the frame (the whole table at once doubled what an ingest of ten million
/// tickets held).
fn write_table(
    engine: &Engine,
    staging: &Path,
    table: &Table,
    frame: &DataFrame,
) -> Result<(), StoreError> {
    let mut columns = (table.columns)();
    let dir = staging.join(table.name);
    let Some((month, of)) = table.month_of else {
        engine.load(table.name, frame, &columns)?;
        engine.write_parquet(&select_in_order(&columns, &[], table.name), &dir, &[])?;
        return Ok(());
    };
    columns.push((month, ColumnType::Text));
    let partitions = ["source", month];
    let select = select_in_order(&columns, &partitions, table.name);
    let months = frame
        .column(of)?
        .as_materialized_series()
        .datetime()?
        .to_string("%Y-%m")?
        .with_name(month.into());
    let mut distinct: Vec<Option<&str>> = months.iter().collect();
    distinct.sort_unstable();
    distinct.dedup();
    for value in distinct {
        let in_month = match value {
            Some(m) => months.equal(m),
            None => months.is_null(),
        };
        let mut slice = frame.filter(&in_month)?;
        slice.with_column(months.filter(&in_month)?.into_column())?;
        engine.load(table.name, &slice, &columns)?;
        engine.write_parquet(&select, &dir, &partitions)?;
    }
    Ok(())
}

/// `SELECT` of a loaded table's columns, the partition columns last (the files leave them out).
fn select_in_order(columns: &[(&str, ColumnType)], partitions: &[&str], table: &str) -> String {
    let (kept, last): (Vec<&str>, Vec<&str>) = columns
        .iter()
        .map(|(c, _)| *c)
        .partition(|c| !partitions.contains(c));
    let quoted: Vec<String> = kept
        .iter()
        .chain(last.iter())
        .map(|c| format!("\"{c}\""))
        .collect();
    format!("SELECT {} FROM \"{table}\"", quoted.join(", "))
}

/// The store's path (its parents made) and a new, empty directory beside it, after removing
/// what killed ingests left there.
fn staging_for(dir: &Path) -> Result<(PathBuf, PathBuf), StoreError> {
    let name = dir
        .file_name()
        .filter(|n| *n != "..")
        .ok_or_else(|| StoreError::Invalid {
            path: dir.to_path_buf(),
            message: "not a directory name".to_string(),
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    let parent = parent.canonicalize().map_err(io_error(parent))?;
    let mark = format!(".{name}{STAGING_MARK}");
    crate::swap::remove_dead(&parent, |entry| entry.strip_prefix(&mark));
    let staging = parent.join(format!("{mark}{}", std::process::id()));
    std::fs::create_dir(&staging).map_err(io_error(&staging))?;
    Ok((parent.join(name), staging))
}

/// Exchanges the new version with the store; the old one, now in `staging`, goes.
fn put_in_place(staging: &Path, target: &Path) -> Result<(), StoreError> {
    sync_dir(staging);
    exchange(staging, target).map_err(io_error(target))?;
    abort_point();
    if let Some(parent) = target.parent() {
        sync_dir(parent);
    }
    let _ = std::fs::remove_dir_all(staging);
    Ok(())
}

/// `deskpulse store info`: what the store holds, by source and month, and the files it read.
pub fn info(dir: &Path) -> Result<String, StoreError> {
    let manifest = Manifest::read(dir)?;
    let engine = Engine::with_files_under(dir)?;
    let mut out = format!(
        "{}: ticket store (format {FORMAT}, written by {})\n",
        dir.display(),
        manifest.written_by
    );
    for table in &TABLES {
        out.push_str(&format!(
            "  {:<15} {:>12} rows\n",
            table.name,
            manifest.rows.get(table.name).copied().unwrap_or(0)
        ));
    }
    out.push_str(&months_by_source(&engine, dir, &manifest)?);
    out.push_str(&format!("files ingested: {}\n", manifest.files.len()));
    for f in &manifest.files {
        let r = &f.report;
        out.push_str(&format!(
            "  {}  {} rows, {} tickets, {} rejected  [{}, sha256 {}]\n",
            r.path,
            r.rows,
            r.tickets,
            r.rejected,
            r.profile,
            &r.sha256[..12.min(r.sha256.len())]
        ));
    }
    Ok(out)
}

/// Per source: its tickets and the months of creation they span, read from the files.
fn months_by_source(
    engine: &Engine,
    dir: &Path,
    manifest: &Manifest,
) -> Result<String, StoreError> {
    if manifest.rows.get(TICKETS.name).copied().unwrap_or(0) == 0 {
        return Ok("sources: none\n".to_string());
    }
    let batches = engine.query(&format!(
        "SELECT source, count(*) AS tickets, count(DISTINCT created_month) AS months,
                min(created_month) AS first_month, max(created_month) AS last_month
         FROM {} GROUP BY source ORDER BY source",
        scan(dir, &TICKETS)
    ))?;
    let mut out = String::from("sources:\n");
    for batch in &batches {
        let text = |c: &str| crate::table::column_strings(batch, c);
        let columns = ["source", "tickets", "months", "first_month", "last_month"].map(|c| {
            text(c).map_err(|message| StoreError::Invalid {
                path: dir.to_path_buf(),
                message,
            })
        });
        let [source, tickets, months, first, last] = columns;
        let (source, tickets, months, first, last) = (source?, tickets?, months?, first?, last?);
        for i in 0..source.len() {
            let v = |c: &[Option<String>]| c[i].clone().unwrap_or_default();
            out.push_str(&format!(
                "  {}  {} tickets created {} to {} ({} months)\n",
                v(&source),
                v(&tickets),
                v(&first),
                v(&last),
                v(&months)
            ));
        }
    }
    Ok(out)
}
