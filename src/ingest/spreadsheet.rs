//! Spreadsheet exports (ServiceNow's "Export > Excel", Jira's "Export Excel", a finance sheet;
//! `.xlsx`, `.xls`, `.xlsb` or `.ods`): one worksheet, read by calamine, written out as CSV text
//! so that the CSV path (header, profiles, row-level rejects) reads it like any other export.

use std::io::Cursor;

use calamine::{Data, DataType, Reader, Sheets, open_workbook_auto_from_rs};
use chrono::Timelike;

/// Whether the bytes are a workbook's: a ZIP archive (`.xlsx`, `.xlsb`, `.ods`) or an OLE
/// compound file (the older `.xls`).
pub fn is_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
}

/// A sheet read as CSV text: the text, what kind of workbook it came from, and a note on what
/// was read when the workbook holds more sheets or the data does not start in the first row.
pub struct SheetText {
    pub csv: Vec<u8>,
    pub kind: &'static str,
    pub note: Option<String>,
}

/// The worksheet named `sheet` (by default the first) as CSV text.
pub fn sheet_as_csv(bytes: &[u8], sheet: Option<&str>) -> Result<SheetText, String> {
    let mut workbook = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
        format!("a workbook's container, but not a readable .xlsx, .xls, .xlsb or .ods ({e})")
    })?;
    let kind = match &workbook {
        Sheets::Xls(_) => "xls",
        Sheets::Xlsx(_) => "xlsx",
        Sheets::Xlsb(_) => "xlsb",
        Sheets::Ods(_) => "ods",
    };
    let names = workbook.sheet_names();
    let chosen = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.trim().eq_ignore_ascii_case(wanted.trim()))
            .ok_or_else(|| {
                format!(
                    "the workbook has no sheet `{wanted}` (its sheets: {})",
                    names.join(", ")
                )
            })?,
        None => names
            .first()
            .ok_or_else(|| "the workbook has no worksheet".to_string())?,
    }
    .clone();
    let range = workbook
        .worksheet_range(&chosen)
        .map_err(|e| format!("sheet {chosen}: cannot read it ({e})"))?;
    let mut notes = Vec::new();
    if names.len() > 1 {
        let others: Vec<&str> = names
            .iter()
            .filter(|n| **n != chosen)
            .map(String::as_str)
            .collect();
        let which = if sheet.is_some() {
            "sheet"
        } else {
            "first sheet"
        };
        notes.push(format!(
            "read its {which}, {chosen}; not read: {}",
            others.join(", ")
        ));
    }
    if let Some((row, _)) = range.start().filter(|(row, _)| *row > 0) {
        notes.push(format!(
            "its data starts in row {} of sheet {chosen}: the rows reported are counted from there",
            row + 1
        ));
    }
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    for row in range.rows() {
        writer
            .write_record(row.iter().map(cell_text))
            .map_err(|e| format!("sheet {chosen}: {e}"))?;
    }
    let csv = writer
        .into_inner()
        .map_err(|e| format!("sheet {chosen}: {e}"))?;
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    Ok(SheetText { csv, kind, note })
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
