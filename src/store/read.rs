//! Reading the store: its tickets a part at a time, its other tables whole, by Polars' Parquet
//! reader.

use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use polars::prelude::*;

use super::{Manifest, StoreError, TICKETS, Table, files_of, filled, not_as_written};
use crate::ingest;
use crate::ingest::canonical::polars_type;
use crate::model;

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
    /// [`super::lock::lock_for_reading`]).
    _lock: Option<std::fs::File>,
}

/// Rows of a stored file: all of them, or `len` of them from row `offset`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Piece {
    file: PathBuf,
    rows: Option<(usize, usize)>,
}

impl Piece {
    pub(super) fn whole(file: PathBuf) -> Piece {
        Piece { file, rows: None }
    }
}

/// The most tickets a part holds, unless `DESKPULSE_PART_ROWS` says otherwise (docs/store.md):
/// a part is held as a frame while DuckDB takes it in, and DuckDB appends small parts at a
/// higher cost per row (docs/benchmarks.md).
const PART_ROWS: usize = 500_000;

/// The most tickets a part holds: `DESKPULSE_PART_ROWS`, else [`PART_ROWS`].
fn part_rows() -> Result<usize, StoreError> {
    crate::size_from_env("DESKPULSE_PART_ROWS", PART_ROWS, "tickets", 500_000)
        .map_err(StoreError::Usage)
}

impl StoredTickets {
    /// The tickets of the store at `dir`, once their files are found to hold as many rows as
    /// the manifest says.
    pub(super) fn open(
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

    /// Whether some stored ticket has a value in that canonical column.
    pub fn is_filled(&self, column: &str) -> bool {
        self.filled.iter().any(|f| f == column)
    }

    /// Those columns of every ticket, in the order of the files.
    pub fn columns(&self, names: &[&str]) -> Result<DataFrame, StoreError> {
        let names: Vec<Expr> = names.iter().map(|n| col(*n)).collect();
        self.read(&self.parts.concat(), |rows| rows.select(names))
    }

    /// The tickets, a part at a time (one empty frame when the store holds none).
    pub fn parts(&self) -> Box<dyn Iterator<Item = Result<DataFrame, StoreError>> + '_> {
        match self.parts.is_empty() {
            true => Box::new(std::iter::once(Ok(ingest::canonical::empty_frame(
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
                shape(ingest::canonical::empty_frame(&model::ticket_columns()).lazy()).collect()?
            }
            false => read_files(&self.dir, &TICKETS, &self.filled, pieces, shape)?,
        };
        self.unchanged()?;
        Ok(rows)
    }

    /// The store is still the version the run began reading. A run reads its files part by
    /// part, and where it holds no lock ([`super::lock::lock_for_reading`]) an ingest may put a
    /// new version in place meanwhile (`swap`): the files read before this check are then the
    /// old version's, and a file read after it would be the new one's, with other rows at the
    /// same path. Versions differ in their manifests.
    pub(super) fn unchanged(&self) -> Result<(), StoreError> {
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

/// A stored table, its rows in the order of its files (partitions in order, each file's rows
/// as written), its columns those of the canonical model.
pub(super) fn read_table(
    dir: &Path,
    table: &Table,
    manifest: &Manifest,
) -> Result<DataFrame, StoreError> {
    let rows = manifest.rows.get(table.name).copied().unwrap_or(0);
    let frame = match rows {
        0 => ingest::canonical::empty_frame(&(table.columns)()),
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

/// The rows of a stored table's files, read by Polars' Parquet reader straight into a frame of
/// the canonical columns (`filled`, the others null), as `shape` selects them.
pub(super) fn read_files(
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

#[cfg(test)]
mod tests {
    use super::*;

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
