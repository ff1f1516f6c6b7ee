//! Writing the store: an ingest's new version, the partitions the new exports touch written
//! again and the others carried over, put in place in one step.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use polars::prelude::*;

use super::lock::{lock_for_ingest, parent_and_name};
use super::read::{Piece, read_files, read_table};
use super::{
    FORMAT, MANIFEST, Manifest, REJECTS, STATUS_CHANGES, StoreError, StoredInput, TABLES, TICKETS,
    Table, all_files, files_of, filled, io_error, not_as_written, scan_sql,
};
use crate::config::Config;
use crate::engine::Engine;
use crate::ingest::canonical::polars_type;
use crate::ingest::profile::Profile;
use crate::ingest::{self, Ingested, InputReport};
use crate::model::ColumnType;
use crate::swap::{abort_point, exchange, sync_dir};

/// Where an ingest writes the new version: `.<store name>.ingest-<pid>` beside the store.
const STAGING_MARK: &str = ".ingest-";

/// What a partition directory's name escapes of a value: all but letters, digits, `-` and `_`
/// (a source named after a profile may hold a space or a `/`).
const PARTITION_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

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
    load_new_keys(engine, files)?;
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
            true => ingest::canonical::empty_frame(&(table.columns)()),
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

/// The new exports' keys as DuckDB tables: `new_tickets`, each ticket's source, id and month
/// of creation; `new_changes`, each status change's source and month.
fn load_new_keys(engine: &Engine, files: &[ingest::FileRead]) -> Result<(), StoreError> {
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
    Ok(())
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
/// Column by column rather than through a lazy select, which made the tickets of an export read
/// in stretches one piece, a copy of every column: 1.9 GiB more on ten million tickets.
fn in_canonical_columns(frame: &DataFrame, table: &Table) -> Result<DataFrame, StoreError> {
    let height = frame.height();
    let typed = (table.columns)()
        .into_iter()
        .filter(|(c, _)| table.month_of.is_none() || *c != "source")
        .map(|(c, t)| match frame.column(c) {
            Ok(column) => column.cast(&polars_type(t)),
            Err(_) => Ok(Column::full_null(c.into(), height, &polars_type(t))),
        })
        .collect::<PolarsResult<Vec<Column>>>()?;
    Ok(DataFrame::new(height, typed)?)
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
