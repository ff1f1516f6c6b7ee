//! Writing outputs: whole files or nothing (a temporary file renamed into place), CSV whose text
//! cells can never be read as spreadsheet formulas.

use std::io::Write;
use std::path::{Path, PathBuf};

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// Writes a file atomically: an interrupted run leaves the previous file intact.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    Staged::write(path, bytes)?.commit()
}

/// A file written in full (and synced) under a temporary name beside its place, put in place by
/// [`Staged::commit`]; dropped uncommitted, it is removed. Lets a large output be written while
/// others are still being computed, and still appear only with them.
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    committed: bool,
}

impl Staged {
    pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<Staged> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let staged = Staged {
            tmp: dir.join(format!(".{name}.{}.tmp", std::process::id())),
            path: path.to_path_buf(),
            committed: false,
        };
        let mut f = std::fs::File::create(&staged.tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(staged)
    }

    pub fn commit(mut self) -> std::io::Result<()> {
        std::fs::rename(&self.tmp, &self.path)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A text cell that a spreadsheet would run as a formula gets a leading apostrophe. A plain
/// number (`-100`) is left as it is: it is not a formula.
pub fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.bytes().next() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n')
            if !cell.trim().parse::<f64>().is_ok_and(f64::is_finite) =>
        {
            std::borrow::Cow::Owned(format!("'{cell}"))
        }
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

/// Record batches as CSV with a header; text cells neutralised, nulls empty. Batches are
/// formatted on every core, then joined in order.
pub fn batches_to_csv(batches: &[RecordBatch]) -> Result<Vec<u8>, String> {
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(first.schema().fields().iter().map(|f| f.name().as_str()))
        .map_err(|e| e.to_string())?;
    let mut bytes = out.into_inner().map_err(|e| e.to_string())?;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .max(1);
    let per_thread = batches.len().div_ceil(threads);
    let parts: Vec<Result<Vec<u8>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = batches
            .chunks(per_thread.max(1))
            .map(|group| s.spawn(move || format_batches(group)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("CSV formatting does not panic"))
            .collect()
    });
    for part in parts {
        bytes.extend_from_slice(&part?);
    }
    Ok(bytes)
}

/// How one column's cells become text: strings (plain or dictionary-encoded, as DuckDB hands
/// over its ENUMs) and booleans are read directly, anything else goes through Arrow's formatter.
enum Cells<'a> {
    Text(Box<dyn Fn(usize) -> &'a str + 'a>),
    Flag(&'a arrow::array::BooleanArray),
    Formatted(ArrayFormatter<'a>),
}

impl<'a> Cells<'a> {
    fn of(column: &'a dyn Array, options: &'a FormatOptions<'a>) -> Result<Cells<'a>, String> {
        use arrow::array::AsArray;
        Ok(match column.data_type() {
            DataType::Utf8 => {
                let a = column.as_string::<i32>();
                Cells::Text(Box::new(move |row| a.value(row)))
            }
            DataType::LargeUtf8 => {
                let a = column.as_string::<i64>();
                Cells::Text(Box::new(move |row| a.value(row)))
            }
            DataType::Utf8View => {
                let a = column.as_string_view();
                Cells::Text(Box::new(move |row| a.value(row)))
            }
            DataType::Dictionary(_, values) if values.as_ref() == &DataType::Utf8 => {
                let dictionary = column.as_any_dictionary();
                let keys = dictionary.normalized_keys();
                let values = dictionary.values().as_string::<i32>();
                Cells::Text(Box::new(move |row| values.value(keys[row])))
            }
            DataType::Boolean => Cells::Flag(column.as_boolean()),
            _ => Cells::Formatted(
                ArrayFormatter::try_new(column, options).map_err(|e| e.to_string())?,
            ),
        })
    }
}

fn format_batches(batches: &[RecordBatch]) -> Result<Vec<u8>, String> {
    use std::fmt::Write as _;
    let mut out = csv::Writer::from_writer(Vec::new());
    let options = FormatOptions::default().with_null("");
    let mut cell = String::new();
    for batch in batches {
        let cells: Vec<Cells> = batch
            .columns()
            .iter()
            .map(|c| Cells::of(c.as_ref(), &options))
            .collect::<Result<_, _>>()?;
        for row in 0..batch.num_rows() {
            for (column, cells) in batch.columns().iter().zip(&cells) {
                let field: &[u8] = if column.is_null(row) {
                    b""
                } else {
                    match cells {
                        Cells::Text(text) => {
                            let value = neutralize(text(row));
                            out.write_field(value.as_bytes())
                                .map_err(|e| e.to_string())?;
                            continue;
                        }
                        Cells::Flag(flags) => {
                            if flags.value(row) {
                                b"true"
                            } else {
                                b"false"
                            }
                        }
                        Cells::Formatted(f) => {
                            cell.clear();
                            write!(cell, "{}", f.value(row)).map_err(|e| e.to_string())?;
                            cell.as_bytes()
                        }
                    }
                };
                out.write_field(field).map_err(|e| e.to_string())?;
            }
            out.write_record(None::<&[u8]>).map_err(|e| e.to_string())?;
        }
    }
    out.into_inner().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralize("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralize("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralize("-1+2"), "'-1+2");
        assert_eq!(neutralize("Network"), "Network");
        assert_eq!(neutralize("-100"), "-100");
        assert_eq!(neutralize("+31 20 555 0100"), "'+31 20 555 0100");
    }

    #[test]
    fn a_staged_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ledger.csv");
        write_atomic(&p, b"old").unwrap();
        drop(Staged::write(&p, b"abandoned").unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let staged = Staged::write(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        staged.commit().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn atomic_write_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
