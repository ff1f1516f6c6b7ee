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

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::engine::{Engine, EngineError};
use crate::ingest::normalize::polars_type;
use crate::ingest::profile::Profile;
use crate::ingest::{self, IngestError, Ingested, InputReport};
use crate::model::{self, ColumnType};
use crate::sql::{glob_literal, sql_text};
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

/// The stored tickets, read a part at a time: a run hands DuckDB one part after the other, and
/// never holds the whole history as a frame beside DuckDB's table of it.
pub struct StoredTickets {
    dir: PathBuf,
    /// The manifest's text when the run began: the version of the store it reads.
    version: String,
    /// The columns in which some ticket has a value.
    filled: Vec<String>,
    /// The pieces of each part (see [`in_parts`]), in order.
    parts: Vec<Vec<Piece>>,
    /// Keeps ingests from putting a new version in place while the run reads this one (see
    /// [`lock_for_reading`]).
    _lock: Option<std::fs::File>,
}

/// Rows of a stored file: all of them, or `len` of them from row `offset`.
#[derive(Debug, Clone, PartialEq)]
struct Piece {
    file: PathBuf,
    rows: Option<(usize, usize)>,
}

impl Piece {
    fn whole(file: PathBuf) -> Piece {
        Piece { file, rows: None }
    }
}

/// The most tickets a part holds, unless `DESKPULSE_PART_ROWS` says otherwise (docs/store.md):
/// a part is held as a frame while DuckDB takes it in, and DuckDB appends small parts at a
/// higher cost per row (docs/benchmarks.md).
const PART_ROWS: usize = 500_000;

/// The most tickets a part holds: `DESKPULSE_PART_ROWS`, else [`PART_ROWS`].
fn part_rows() -> Result<usize, StoreError> {
    const VAR: &str = "DESKPULSE_PART_ROWS";
    let refused = |shown: &str| {
        StoreError::Usage(format!(
            "{VAR}={shown}: not a number of tickets such as 500000"
        ))
    };
    match std::env::var(VAR) {
        Err(std::env::VarError::NotPresent) => Ok(PART_ROWS),
        Err(std::env::VarError::NotUnicode(text)) => Err(refused(&text.to_string_lossy())),
        Ok(text) => match text.trim().parse() {
            Ok(0) | Err(_) => Err(refused(&text)),
            Ok(rows) => Ok(rows),
        },
    }
}

impl StoredTickets {
    /// The tickets of the store at `dir`, once their files are found to hold as many rows as
    /// the manifest says.
    fn open(
        dir: &Path,
        manifest: &Manifest,
        version: String,
        lock: Option<std::fs::File>,
    ) -> Result<StoredTickets, StoreError> {
        let written = manifest.rows.get(TICKETS.name).copied().unwrap_or(0);
        let (filled, files) = match written {
            0 => (Vec::new(), Vec::new()),
            _ => (filled(dir, &TICKETS, manifest)?, files_of(dir, &TICKETS)?),
        };
        let rows = files
            .iter()
            .map(|file| rows_in(dir, file))
            .collect::<Result<Vec<usize>, StoreError>>()?;
        let read: usize = rows.iter().sum();
        if read as u64 != written {
            return Err(not_as_written(dir, &TICKETS, read, written));
        }
        Ok(StoredTickets {
            dir: dir.to_path_buf(),
            version,
            filled,
            parts: in_parts(files.into_iter().zip(rows).collect(), part_rows()?),
            _lock: lock,
        })
    }

    /// Those columns of every ticket, in the order of the files.
    pub fn columns(&self, names: &[&str]) -> Result<DataFrame, StoreError> {
        let names: Vec<Expr> = names.iter().map(|n| col(*n)).collect();
        self.read(&self.parts.concat(), |rows| rows.select(names))
    }

    /// The tickets, a part at a time (one empty frame when the store holds none).
    pub fn parts(&self) -> Box<dyn Iterator<Item = Result<DataFrame, StoreError>> + '_> {
        match self.parts.is_empty() {
            true => Box::new(std::iter::once(Ok(ingest::normalize::empty_frame(
                &model::ticket_columns(),
            )))),
            false => Box::new(self.parts.iter().map(|pieces| self.read(pieces, |r| r))),
        }
    }

    /// The tickets of `pieces` as `shape` selects them, from the version of the store the run
    /// began reading.
    fn read(
        &self,
        pieces: &[Piece],
        shape: impl FnOnce(LazyFrame) -> LazyFrame,
    ) -> Result<DataFrame, StoreError> {
        let rows = match pieces.is_empty() {
            true => {
                shape(ingest::normalize::empty_frame(&model::ticket_columns()).lazy()).collect()?
            }
            false => read_files(&self.dir, &TICKETS, &self.filled, pieces, shape)?,
        };
        self.unchanged()?;
        Ok(rows)
    }

    /// The store is still the version the run began reading. A run reads its files part by
    /// part, and where it holds no lock ([`lock_for_reading`]) an ingest may put a new version
    /// in place meanwhile (`swap`): the files read before this check are then the old
    /// version's, and a file read after it would be the new one's, with other rows at the same
    /// path. Versions differ in their manifests.
    fn unchanged(&self) -> Result<(), StoreError> {
        match Manifest::text(&self.dir) {
            Ok(text) if text == self.version => Ok(()),
            _ => Err(StoreError::Invalid {
                path: self.dir.clone(),
                message: "an ingest put a new version of the store in place while this run \
                          read it; run again"
                    .to_string(),
            }),
        }
    }
}

/// The rows a stored file holds, from its footer.
fn rows_in(dir: &Path, file: &Path) -> Result<usize, StoreError> {
    let opened = std::fs::File::open(file).map_err(|e| StoreError::Invalid {
        path: file.to_path_buf(),
        message: format!("cannot be read: {e}"),
    })?;
    ParquetReader::new(opened)
        .num_rows()
        .map_err(|e| unreadable(dir, &TICKETS, e))
}

/// Files, with their rows, in the order `files_of` lists them, as parts of at most `most` rows:
/// a file of more is cut into stretches of about the same size, and files and stretches
/// follow one another in a part while it has room.
fn in_parts(files: Vec<(PathBuf, usize)>, most: usize) -> Vec<Vec<Piece>> {
    let most = most.max(1);
    let mut parts: Vec<(Vec<Piece>, usize)> = Vec::new();
    for (file, rows) in files {
        let cuts = rows.div_ceil(most).max(1);
        let pieces: Vec<(Piece, usize)> = match cuts {
            1 => vec![(Piece::whole(file), rows)],
            _ => (0..cuts)
                .map(|i| {
                    let (from, to) = (rows * i / cuts, rows * (i + 1) / cuts);
                    let rows = Some((from, to - from));
                    (
                        Piece {
                            file: file.clone(),
                            rows,
                        },
                        to - from,
                    )
                })
                .collect(),
        };
        for (piece, rows) in pieces {
            match parts.last_mut() {
                Some((pieces, held)) if *held + rows <= most => {
                    pieces.push(piece);
                    *held += rows;
                }
                _ => parts.push((vec![piece], rows)),
            }
        }
    }
    parts.into_iter().map(|(pieces, _)| pieces).collect()
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

/// A stored table, its rows in the order of its files (partitions in order, each file's rows
/// as written), its columns those of the canonical model.
fn read_table(dir: &Path, table: &Table, manifest: &Manifest) -> Result<DataFrame, StoreError> {
    let rows = manifest.rows.get(table.name).copied().unwrap_or(0);
    let frame = match rows {
        0 => ingest::normalize::empty_frame(&(table.columns)()),
        _ => {
            let filled = filled(dir, table, manifest)?;
            let files: Vec<Piece> = files_of(dir, table)?
                .into_iter()
                .map(Piece::whole)
                .collect();
            read_files(dir, table, &filled, &files, |r| r)?
        }
    };
    match frame.height() as u64 == rows {
        true => Ok(frame),
        false => Err(not_as_written(dir, table, frame.height(), rows)),
    }
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

/// The rows of a stored table's files, read by Polars' Parquet reader straight into a frame of
/// the canonical columns (`filled`, the others null), as `shape` selects them.
fn read_files(
    dir: &Path,
    table: &Table,
    filled: &[String],
    pieces: &[Piece],
    shape: impl FnOnce(LazyFrame) -> LazyFrame,
) -> Result<DataFrame, StoreError> {
    let _s = crate::log::stage(format!("read {}", table.name));
    let typed: Vec<Expr> = (table.columns)()
        .iter()
        .map(|(c, t)| match filled.iter().any(|f| f == c) {
            true => col(*c).cast(polars_type(*t)),
            false => lit(NULL).cast(polars_type(*t)).alias(*c),
        })
        .collect();
    scan(pieces, table)
        .and_then(|rows| shape(rows.select(typed)).collect())
        .map_err(|e| unreadable(dir, table, e))
}

/// How Polars reads a stored file: that file, as named (a `[` in its path is no wildcard), with
/// its source taken from its directory's name ([`source_of`]).
fn parquet_args() -> ScanArgsParquet {
    ScanArgsParquet {
        hive_options: HiveOptions {
            enabled: Some(false),
            ..HiveOptions::default()
        },
        glob: false,
        ..ScanArgsParquet::default()
    }
}

/// The pieces, one after the other, a partitioned table's each with its source.
fn scan(pieces: &[Piece], table: &Table) -> PolarsResult<LazyFrame> {
    let args = parquet_args();
    let scans = pieces
        .iter()
        .map(|Piece { file, rows }| {
            let all = LazyFrame::scan_parquet(PlRefPath::try_from_path(file)?, args.clone())?;
            let rows = match rows {
                Some((offset, len)) => all.slice(*offset as i64, *len as IdxSize),
                None => all,
            };
            Ok(match table.month_of {
                Some(_) => rows.with_column(lit(source_of(file)?).alias("source")),
                None => rows,
            })
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    concat(
        scans,
        UnionArgs {
            rechunk: true,
            ..UnionArgs::default()
        },
    )
}

/// The source of a partitioned table's file, from the name `write_table` gave its partition's
/// directory: `<table>/source=<source, percent-encoded>/<month>=<YYYY-MM>/data_0.parquet`.
/// (Polars reads the partitions of a list of files from their whole paths, where the store's
/// own path may hold an `=` too.)
fn source_of(file: &Path) -> PolarsResult<String> {
    file.parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .and_then(|name| name.to_str()?.strip_prefix("source="))
        .and_then(|value| Some(percent_decode_str(value).decode_utf8().ok()?.into_owned()))
        .ok_or_else(|| polars_err!(ComputeError: "{} is in no source's directory", file.display()))
}

/// What a partition directory's name escapes of a value: all but letters, digits, `-` and `_`
/// (a source named after a profile may hold a space or a `/`).
const PARTITION_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

/// The error of a table that Polars could not read, naming the first of its files whose
/// footer does not read, where one does not (Polars' message names none).
fn unreadable(dir: &Path, table: &Table, error: PolarsError) -> StoreError {
    let footer_unread = |file: &PathBuf| {
        PlRefPath::try_from_path(file)
            .and_then(|path| LazyFrame::scan_parquet(path, parquet_args()))
            .and_then(|mut scan| scan.collect_schema())
            .is_err()
    };
    let files = files_of(dir, table).unwrap_or_default();
    let path = match files.into_iter().find(footer_unread) {
        Some(file) => file,
        None => dir.join(table.name),
    };
    StoreError::Invalid {
        path,
        message: format!("the store's {} do not read: {error}", table.name),
    }
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
/// holds already are skipped, later versions of its tickets replace the older ones. Only the
/// partitions the new exports touch are read and written again; the others are carried into
/// the new version as they are.
pub fn ingest(dir: &Path, config: &Config, profiles: &[Profile]) -> Result<Ingest, StoreError> {
    let _one_at_a_time = lock_for_ingest(dir)?;
    let new_store = !dir.exists() || dir.read_dir().is_ok_and(|mut d| d.next().is_none());
    let manifest = match new_store {
        true => None,
        false => Some(Manifest::read(dir)?),
    };
    let before: Vec<InputReport> = manifest
        .iter()
        .flat_map(|m| m.files.iter().map(|f| f.report.clone()))
        .collect();
    let files = ingest::read_new(config, profiles, &before)?;
    if files.is_empty() {
        return Ok(Ingest::Unchanged {
            files: before.len(),
        });
    }
    let added: Vec<InputReport> = files.iter().map(|f| f.report.clone()).collect();
    let (target, staging) = staging_for(dir)?;
    let written = write_version(&target, &staging, manifest, files);
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    Ok(Ingest::Added {
        files: added,
        tickets: written?.rows[TICKETS.name] as usize,
    })
}

/// The new version of the store: its untouched partitions carried over, the others written
/// again with the new exports; put in place in one step.
fn write_version(
    target: &Path,
    staging: &Path,
    manifest: Option<Manifest>,
    files: Vec<ingest::FileRead>,
) -> Result<Manifest, StoreError> {
    let engine = Engine::with_files_under(target.parent().expect("a store has a parent"))?;
    let touched = match manifest {
        Some(manifest) => touched_by(&engine, target, manifest, &files)?,
        None => Touched::nothing(),
    };
    let combined = ingest::combine(touched.held, files)?;
    for kept in &touched.kept {
        carry(target, staging, kept)?;
    }
    let manifest = write(staging, &combined, &touched.rows_kept, touched.filled)?;
    put_in_place(staging, target)?;
    Ok(manifest)
}

/// What of a store the new exports touch.
struct Touched {
    /// The touched partitions' rows, all the rejects, and every file's account.
    held: Ingested,
    /// The files of the partitions not touched, relative to the store.
    kept: Vec<PathBuf>,
    /// Per table, the rows of those files.
    rows_kept: BTreeMap<String, u64>,
    /// The columns with values before.
    filled: BTreeMap<String, Vec<String>>,
}

impl Touched {
    fn nothing() -> Touched {
        Touched {
            held: Ingested::empty(),
            kept: Vec::new(),
            rows_kept: BTreeMap::new(),
            filled: BTreeMap::new(),
        }
    }
}

/// How a partition names its month (UTC, as the instants are stored).
const MONTH: &str = "%Y-%m";

/// A row's partition month, as `month`, for a partitioned table's rows.
fn month_of(table: &Table) -> Expr {
    let (_, of) = table.month_of.expect("a partitioned table");
    col(of).dt().strftime(MONTH).alias("month")
}

/// The partitions the new exports touch: of the tickets, those of their months and those that
/// hold another version of one of them; of the status changes, those of their months.
fn touched_by(
    engine: &Engine,
    dir: &Path,
    manifest: Manifest,
    files: &[ingest::FileRead],
) -> Result<Touched, StoreError> {
    let _s = crate::log::stage("read the partitions the exports touch");
    let new_tickets = files.iter().map(|f| {
        f.tables
            .tickets
            .clone()
            .lazy()
            .select([col("source"), col("id"), month_of(&TICKETS)])
    });
    let new_changes = files.iter().filter_map(|f| {
        let history = f.tables.history.clone()?;
        Some(history.lazy().select([
            col("source"),
            lit(NULL).cast(DataType::String).alias("id"),
            month_of(&STATUS_CHANGES),
        ]))
    });
    let keys = concat(new_tickets.collect::<Vec<_>>(), UnionArgs::default())?.collect()?;
    let months = match new_changes.collect::<Vec<_>>() {
        m if m.is_empty() => keys.clone().lazy().filter(lit(false)).collect()?,
        m => concat(m, UnionArgs::default())?.collect()?,
    };
    let key_columns = [
        ("source", ColumnType::Text),
        ("id", ColumnType::Text),
        ("month", ColumnType::Text),
    ];
    engine.load("new_tickets", &keys, &key_columns)?;
    engine.load("new_changes", &months, &key_columns)?;
    let mut held = Ingested::empty();
    let mut touched_files = BTreeSet::new();
    let mut rows_kept = BTreeMap::new();
    for (table, new) in [(&TICKETS, "new_tickets"), (&STATUS_CHANGES, "new_changes")] {
        let stored = manifest.rows.get(table.name).copied().unwrap_or(0);
        let files = match stored {
            0 => Vec::new(),
            _ => touched_files_of(engine, dir, table, new)?,
        };
        let frame = match files.is_empty() {
            true => ingest::normalize::empty_frame(&(table.columns)()),
            false => {
                let pieces: Vec<Piece> = files.iter().cloned().map(Piece::whole).collect();
                read_files(dir, table, &filled(dir, table, &manifest)?, &pieces, |r| r)?
            }
        };
        let kept = stored
            .checked_sub(frame.height() as u64)
            .ok_or_else(|| not_as_written(dir, table, frame.height(), stored))?;
        rows_kept.insert(table.name.to_string(), kept);
        match table.name {
            "tickets" => held.tickets = frame,
            _ => held.status_changes = frame,
        }
        touched_files.extend(files);
    }
    held.issues = read_table(dir, &REJECTS, &manifest)?;
    let kept = stored_files(dir)?
        .into_iter()
        .filter(|f| !touched_files.contains(&dir.join(f)))
        .collect();
    held.sources_with_history = manifest.sources_with_history;
    held.sources_with_first_response = manifest.sources_with_first_response;
    held.inputs = manifest
        .files
        .into_iter()
        .map(StoredInput::into_report)
        .collect();
    Ok(Touched {
        held,
        kept,
        rows_kept,
        filled: manifest.filled,
    })
}

/// The files of the partitions of a partitioned table that `new` (a loaded table of source,
/// id and month) touches: those of its months, and those that hold another version of one of
/// its tickets. Whole partitions, since each is written again as one file.
fn touched_files_of(
    engine: &Engine,
    dir: &Path,
    table: &Table,
    new: &str,
) -> Result<Vec<PathBuf>, StoreError> {
    let (month, _) = table.month_of.expect("a partitioned table");
    let stored = scan_sql(&all_files(dir, table), table);
    let batches = engine.query(&format!(
        "SELECT DISTINCT t.filename FROM {stored} t
         SEMI JOIN (
             SELECT source, month FROM \"{new}\"
             UNION
             SELECT s.source, s.\"{month}\" FROM {stored} s
             SEMI JOIN \"{new}\" n ON s.source = n.source AND s.id = n.id
         ) p ON t.source = p.source AND t.\"{month}\" = p.month
         ORDER BY 1"
    ))?;
    let mut files = Vec::new();
    for batch in &batches {
        let names = crate::table::column_strings(batch, "filename").map_err(|message| {
            StoreError::Invalid {
                path: dir.to_path_buf(),
                message,
            }
        })?;
        files.extend(names.into_iter().flatten().map(PathBuf::from));
    }
    Ok(files)
}

/// The Parquet files of the store's partitioned tables, relative to it.
fn stored_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut files = Vec::new();
    for table in [&TICKETS, &STATUS_CHANGES] {
        for file in files_of(dir, table)? {
            files.push(
                file.strip_prefix(dir)
                    .expect("under the store")
                    .to_path_buf(),
            );
        }
    }
    Ok(files)
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

/// Puts a file of the store into the new version: a hard link, or a copy where the file
/// system has none.
fn carry(dir: &Path, staging: &Path, file: &Path) -> Result<(), StoreError> {
    let (from, to) = (dir.join(file), staging.join(file));
    let parent = to.parent().expect("a file has a directory");
    std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    if std::fs::hard_link(&from, &to).is_err() {
        std::fs::copy(&from, &to).map_err(io_error(&to))?;
    }
    Ok(())
}

/// Writes the tables into the new version, beside the files carried over (`rows_kept` rows),
/// and its manifest.
fn write(
    staging: &Path,
    ingested: &Ingested,
    rows_kept: &BTreeMap<String, u64>,
    mut filled: BTreeMap<String, Vec<String>>,
) -> Result<Manifest, StoreError> {
    let frames = [
        &ingested.tickets,
        &ingested.status_changes,
        &ingested.issues,
    ];
    let mut rows = BTreeMap::new();
    for (table, frame) in TABLES.iter().zip(frames) {
        write_table(staging, table, frame)?;
        let kept = rows_kept.get(table.name).copied().unwrap_or(0);
        rows.insert(table.name.to_string(), kept + frame.height() as u64);
        let before = filled.remove(table.name).unwrap_or_default();
        let with_values = frame
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .filter(|c| {
                before.contains(c) || frame.column(c).is_ok_and(|c| c.null_count() < c.len())
            })
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
    Ok(manifest)
}

/// Writes a table's files with Polars' Parquet writer: a partitioned table one file per source
/// and month, filtered out of the frame one at a time so that one partition is held beside it;
/// the rejects in one file.
fn write_table(staging: &Path, table: &Table, frame: &DataFrame) -> Result<(), StoreError> {
    let dir = staging.join(table.name);
    let canonical = in_canonical_columns(frame, table)?;
    let Some((month, of)) = table.month_of else {
        return write_file(&dir, canonical);
    };
    let keys = frame
        .clone()
        .lazy()
        .select([col("source"), col(of).dt().strftime(MONTH).alias(month)])
        .collect()?;
    let distinct = keys
        .unique_stable(None, UniqueKeepStrategy::First, None)?
        .sort(["source", month], SortMultipleOptions::default())?;
    let (sources, months) = (
        distinct.column("source")?.str()?,
        distinct.column(month)?.str()?,
    );
    for (source, value) in sources.iter().zip(months.iter()) {
        let source = source.expect("every ticket has a source");
        let in_partition = keys.column("source")?.str()?.equal(source)
            & match value {
                Some(m) => keys.column(month)?.str()?.equal(m),
                None => keys.column(month)?.is_null(),
            };
        let source = utf8_percent_encode(source, PARTITION_ESCAPES);
        let partition = dir
            .join(format!("source={source}"))
            .join(format!("{month}={}", value.unwrap_or(HIVE_NULL)));
        write_file(&partition, canonical.filter(&in_partition)?)?;
    }
    Ok(())
}

/// The directory name of a partition whose value is null, as Hive, DuckDB and Spark write it.
const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// A table's canonical columns but `source` (a partitioned table's files leave it to their
/// paths), in order and typed; those the frame lacks are null.
fn in_canonical_columns(frame: &DataFrame, table: &Table) -> Result<DataFrame, StoreError> {
    let typed: Vec<Expr> = (table.columns)()
        .into_iter()
        .filter(|(c, _)| table.month_of.is_none() || *c != "source")
        .map(|(c, t)| match frame.column(c) {
            Ok(_) => col(c).cast(polars_type(t)),
            Err(_) => lit(NULL).cast(polars_type(t)).alias(c),
        })
        .collect();
    Ok(frame.clone().lazy().select(typed).collect()?)
}

/// Writes `rows` as `dir/data_0.parquet`, zstd-compressed, synced to disk. Never over a file
/// there: one carried over is a hard link to the store's own.
fn write_file(dir: &Path, mut rows: DataFrame) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let path = dir.join("data_0.parquet");
    let mut file = std::fs::File::create_new(&path).map_err(io_error(&path))?;
    ParquetWriter::new(&mut file)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(&mut rows)
        .map_err(|e| io_error(&path)(std::io::Error::other(e)))?;
    file.sync_all().map_err(io_error(&path))
}

/// The store's path (its parents made) and a new, empty directory beside it, after removing
/// what killed ingests left there.
fn staging_for(dir: &Path) -> Result<(PathBuf, PathBuf), StoreError> {
    let (parent, name) = parent_and_name(dir)?;
    let mark = format!(".{name}{STAGING_MARK}");
    crate::swap::remove_dead(&parent, |entry| entry.strip_prefix(&mark));
    let staging = parent.join(format!("{mark}{}", std::process::id()));
    std::fs::create_dir(&staging).map_err(io_error(&staging))?;
    Ok((parent.join(name), staging))
}

/// The directory the store is in (made if it is not there) and the store's name in it.
fn parent_and_name(dir: &Path) -> Result<(PathBuf, String), StoreError> {
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
    Ok((parent, name))
}

/// Keeps other ingests, and runs, out of the store until the returned file is dropped: an
/// ingest that finds one running waits for it, then reads the version it put in place. Two at
/// once would each make a new version from the same old one, and the second to finish would
/// drop the exports of the first. The lock is the system's lock on `.<store name>.lock` beside
/// the store, released by the system when the process ends, however it ends.
fn lock_for_ingest(dir: &Path) -> Result<std::fs::File, StoreError> {
    let path = lock_path(dir)?;
    let waiting = format!(
        "another ingest is writing {}, or a run is reading it: waiting for it to finish",
        dir.display()
    );
    crate::swap::hold_lock(&path, &waiting).map_err(io_error(&path))
}

/// Keeps ingests from putting a new version of the store in place until the returned file is
/// dropped; runs share it. A run reads the store for as long as it measures, and an ingest
/// would swap the files under it; one that finds the lock held by an ingest says so and waits
/// for the version it puts in place. `None` where no ingest has made the lock file or this user
/// cannot read it: the run then relies on [`StoredTickets::unchanged`] alone.
fn lock_for_reading(dir: &Path) -> Result<Option<std::fs::File>, StoreError> {
    if !dir.is_dir() {
        // no store there: reading its manifest says so
        return Ok(None);
    }
    let path = lock_path(dir)?;
    let waiting = format!(
        "an ingest is writing {}: waiting for it to finish",
        dir.display()
    );
    crate::swap::share_lock(&path, &waiting).map_err(io_error(&path))
}

/// `.<store name>.lock` beside the store.
fn lock_path(dir: &Path) -> Result<PathBuf, StoreError> {
    let (parent, name) = parent_and_name(dir)?;
    Ok(parent.join(format!(".{name}.lock")))
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
        scan_sql(&all_files(dir, &TICKETS), &TICKETS)
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn parts_hold_at_most_so_many_rows_in_file_order() {
        let files: Vec<(PathBuf, usize)> = [("a", 3), ("b", 2), ("c", 9), ("d", 1), ("e", 1)]
            .iter()
            .map(|(name, rows)| (PathBuf::from(name), *rows))
            .collect();
        let shown = |parts: Vec<Vec<Piece>>| -> Vec<Vec<String>> {
            parts
                .iter()
                .map(|part| {
                    part.iter()
                        .map(|p| match p.rows {
                            None => p.file.display().to_string(),
                            Some((from, len)) => format!("{}[{from}+{len}]", p.file.display()),
                        })
                        .collect()
                })
                .collect()
        };
        assert_eq!(
            shown(in_parts(files.clone(), 5)),
            [
                vec!["a", "b"],
                vec!["c[0+4]"],
                vec!["c[4+5]"],
                vec!["d", "e"],
            ]
        );
        for most in 1..=17 {
            let parts = in_parts(files.clone(), most);
            let sizes: Vec<usize> = parts
                .iter()
                .map(|part| {
                    part.iter()
                        .map(|p| p.rows.map_or_else(|| rows_of(&files, &p.file), |(_, n)| n))
                        .sum()
                })
                .collect();
            assert!(
                sizes.iter().all(|n| *n <= most && *n > 0),
                "{most}: {sizes:?}"
            );
            assert_eq!(sizes.iter().sum::<usize>(), 16, "{most}");
        }
        assert_eq!(in_parts(files.clone(), 100).len(), 1);
        assert!(in_parts(Vec::new(), 5).is_empty());
    }

    fn rows_of(files: &[(PathBuf, usize)], file: &Path) -> usize {
        files.iter().find(|(f, _)| f == file).unwrap().1
    }
}
