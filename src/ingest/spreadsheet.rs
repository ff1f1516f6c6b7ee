//! `.xlsx` exports (ServiceNow's "Export > Excel", Jira's "Export Excel", a finance sheet): the
//! first worksheet, read by calamine, written out as CSV text so that the CSV path (header,
//! profiles, row-level rejects) reads it like any other export.

use std::io::Cursor;

use calamine::{Data, DataType, Reader, Xlsx};
use chrono::Timelike;

/// Whether the bytes are a ZIP archive, as every `.xlsx` is.
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// The workbook's first worksheet as CSV text, and a note on what was read when the workbook
/// holds more sheets or its data does not start in the first row.
pub fn first_sheet_as_csv(bytes: &[u8]) -> Result<(Vec<u8>, Option<String>), String> {
    let mut workbook = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| format!("a ZIP archive, but not a readable .xlsx workbook ({e})"))?;
    let names = workbook.sheet_names();
    let first = names
        .first()
        .ok_or_else(|| "the workbook has no worksheet".to_string())?
        .clone();
    let range = workbook
        .worksheet_range(&first)
        .map_err(|e| format!("sheet {first}: cannot read it ({e})"))?;
    let mut notes = Vec::new();
    if names.len() > 1 {
        notes.push(format!(
            "read its first sheet, {first}; not read: {}",
            names[1..].join(", ")
        ));
    }
    if let Some((row, _)) = range.start().filter(|(row, _)| *row > 0) {
        notes.push(format!(
            "its data starts in row {} of sheet {first}: the rows reported are counted from there",
            row + 1
        ));
    }
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    for row in range.rows() {
        writer
            .write_record(row.iter().map(cell_text))
            .map_err(|e| format!("sheet {first}: {e}"))?;
    }
    let csv = writer
        .into_inner()
        .map_err(|e| format!("sheet {first}: {e}"))?;
    Ok((csv, (!notes.is_empty()).then(|| notes.join("; "))))
}

/// A cell as an export's text would have it: a whole number without a fraction, a date and
/// time in ISO form to the second, an error as Excel shows it (for the row to be rejected by
/// the column that needs a value there).
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "true" } else { "false" }.to_string(),
        // Excel keeps a time as a fraction of a day: 09:00 may read back as 08:59:59.999
        Data::DateTime(d) => cell
            .as_datetime()
            .and_then(|t| (t + chrono::Duration::milliseconds(500)).with_nanosecond(0))
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| d.as_f64().to_string()),
        Data::Error(e) => e.to_string(),
    }
}
