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

/// Record batches as CSV with a header; text cells neutralised, nulls empty.
pub fn batches_to_csv(batches: &[RecordBatch]) -> Result<Vec<u8>, String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let schema = first.schema();
    out.write_record(schema.fields().iter().map(|f| f.name().as_str()))
        .map_err(|e| e.to_string())?;
    let options = FormatOptions::default().with_null("");
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
        let mut record: Vec<String> = Vec::with_capacity(formatters.len());
        for row in 0..batch.num_rows() {
            record.clear();
            for (i, f) in formatters.iter().enumerate() {
                let cell = f.value(row).to_string();
                record.push(if text[i] && !batch.column(i).is_null(row) {
                    neutralize(&cell).into_owned()
                } else {
                    cell
                });
            }
            out.write_record(&record).map_err(|e| e.to_string())?;
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
