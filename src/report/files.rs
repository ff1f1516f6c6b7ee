//! Writing outputs: whole files or nothing (a temporary file renamed into place), CSV whose text
//! cells can never be read as spreadsheet formulas.

use std::io::Write;
use std::path::Path;

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// Writes a file atomically: an interrupted run leaves the previous file intact.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A text cell that a spreadsheet would run as a formula gets a leading apostrophe. A plain
/// number (`-100`) is left as it is: it is not a formula.
pub fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.trim().parse::<f64>().is_ok_and(f64::is_finite) {
        return std::borrow::Cow::Borrowed(cell);
    }
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n') => {
            std::borrow::Cow::Owned(format!("'{cell}"))
        }
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
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

fn format_batches(batches: &[RecordBatch]) -> Result<Vec<u8>, String> {
    use std::fmt::Write as _;
    let mut out = csv::Writer::from_writer(Vec::new());
    let options = FormatOptions::default().with_null("");
    let mut cell = String::new();
    for batch in batches {
        let formatters: Vec<ArrayFormatter> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let text: Vec<bool> = batch
            .columns()
            .iter()
            .map(|c| is_text(c.data_type()))
            .collect();
        for row in 0..batch.num_rows() {
            for (i, f) in formatters.iter().enumerate() {
                cell.clear();
                write!(cell, "{}", f.value(row)).map_err(|e| e.to_string())?;
                let field = if text[i] && !batch.column(i).is_null(row) {
                    neutralize(&cell)
                } else {
                    std::borrow::Cow::Borrowed(cell.as_str())
                };
                out.write_field(field.as_bytes())
                    .map_err(|e| e.to_string())?;
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
    fn atomic_write_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
