//! Writing outputs: whole files or nothing (a temporary file renamed into place), CSV whose text
//! cells can never be read as spreadsheet formulas.

use std::io::Write;
use std::path::{Path, PathBuf};

use arrow::array::{Array, RecordBatch};
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// Writes a file atomically: an interrupted run leaves the previous file intact.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    Staged::write(path, &[bytes])?.commit()
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
    /// Writes `pieces`, one after the other.
    pub fn write(path: &Path, pieces: &[&[u8]]) -> std::io::Result<Staged> {
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
        for piece in pieces {
            f.write_all(piece)?;
        }
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

/// Record batches as CSV with a header; text cells neutralised, nulls empty.
pub fn batches_to_csv(batches: &[RecordBatch]) -> Result<Vec<u8>, String> {
    Ok(csv_pieces(batches)?.concat())
}

/// [`batches_to_csv`] as consecutive pieces: the header, then the rows each core formatted.
/// A large file is written and hashed piece by piece rather than joined first.
pub fn csv_pieces(batches: &[RecordBatch]) -> Result<Vec<Vec<u8>>, String> {
    csv_pieces_of_rows(batches, &rows_of(batches))
}

/// Every row of `batches`, as (batch, row), in order.
fn rows_of(batches: &[RecordBatch]) -> Vec<(usize, usize)> {
    batches
        .iter()
        .enumerate()
        .flat_map(|(b, batch)| (0..batch.num_rows()).map(move |row| (b, row)))
        .collect()
}

/// [`csv_pieces`] with the rows in the order given, each as (batch, row).
fn csv_pieces_of_rows(
    batches: &[RecordBatch],
    rows: &[(usize, usize)],
) -> Result<Vec<Vec<u8>>, String> {
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(first.schema().fields().iter().map(|f| f.name().as_str()))
        .map_err(|e| e.to_string())?;
    let header = out.into_inner().map_err(|e| e.to_string())?;
    let per_thread = rows.len().div_ceil(crate::cores());
    let parts: Vec<Result<Vec<u8>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .chunks(per_thread.max(1))
            .map(|part| s.spawn(move || format_rows(batches, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("CSV formatting does not panic"))
            .collect()
    });
    std::iter::once(Ok(header)).chain(parts).collect()
}

/// Writes one cell of a column whose text needs no quoting.
type WritePlain<'a> = dyn Fn(usize, &mut Vec<u8>) + 'a;

/// How one column's cells become text: strings (plain or dictionary-encoded, as DuckDB hands
/// over its ENUMs), booleans, whole numbers and UTC instants are written directly, anything
/// else goes through Arrow's formatter.
enum Cells<'a> {
    /// Every cell is null.
    Empty,
    Text(Box<dyn Fn(usize) -> &'a str + 'a>),
    Flag(&'a arrow::array::BooleanArray),
    /// Digits and punctuation only: never quoted, never a formula.
    Plain(Box<WritePlain<'a>>),
    Formatted(ArrayFormatter<'a>),
}

impl<'a> Cells<'a> {
    fn of(column: &'a dyn Array, options: &'a FormatOptions<'a>) -> Result<Cells<'a>, String> {
        use arrow::array::AsArray;
        use arrow::datatypes::*;
        fn whole<T: ArrowPrimitiveType>(column: &dyn Array) -> Cells<'_>
        where
            T::Native: itoa::Integer,
        {
            let values = column.as_primitive::<T>().values();
            Cells::Plain(Box::new(move |row, out| {
                out.extend_from_slice(itoa::Buffer::new().format(values[row]).as_bytes())
            }))
        }
        if column.null_count() == column.len() {
            return Ok(Cells::Empty);
        }
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
            DataType::Int8 => whole::<Int8Type>(column),
            DataType::Int16 => whole::<Int16Type>(column),
            DataType::Int32 => whole::<Int32Type>(column),
            DataType::Int64 => whole::<Int64Type>(column),
            DataType::UInt8 => whole::<UInt8Type>(column),
            DataType::UInt16 => whole::<UInt16Type>(column),
            DataType::UInt32 => whole::<UInt32Type>(column),
            DataType::UInt64 => whole::<UInt64Type>(column),
            DataType::Timestamp(TimeUnit::Microsecond, Some(zone)) if zone.as_ref() == "UTC" => {
                let values = column.as_primitive::<TimestampMicrosecondType>().values();
                let fallback =
                    ArrayFormatter::try_new(column, options).map_err(|e| e.to_string())?;
                Cells::Plain(Box::new(move |row, out| {
                    if !utc_instant(values[row], out) {
                        out.extend_from_slice(fallback.value(row).to_string().as_bytes());
                    }
                }))
            }
            _ => Cells::Formatted(
                ArrayFormatter::try_new(column, options).map_err(|e| e.to_string())?,
            ),
        })
    }
}

/// A UTC instant as Arrow's formatter writes it (RFC 3339 with `Z`, a fraction of 3 or 6
/// digits only when there is one), for the years 0 to 9999; false for any other instant.
fn utc_instant(micros: i64, out: &mut Vec<u8>) -> bool {
    use chrono::{Datelike, Timelike};
    let Some(t) = chrono::DateTime::from_timestamp_micros(micros) else {
        return false;
    };
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return false;
    }
    let two = |out: &mut Vec<u8>, v: u32| {
        out.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8])
    };
    two(out, year as u32 / 100);
    two(out, year as u32 % 100);
    out.push(b'-');
    two(out, t.month());
    out.push(b'-');
    two(out, t.day());
    out.push(b'T');
    two(out, t.hour());
    out.push(b':');
    two(out, t.minute());
    out.push(b':');
    two(out, t.second());
    let micro = micros.rem_euclid(1_000_000) as u32;
    if micro != 0 {
        let (digits, value) = if micro.is_multiple_of(1000) {
            (3, micro / 1000)
        } else {
            (6, micro)
        };
        out.push(b'.');
        for place in (0..digits).rev() {
            out.push(b'0' + (value / 10u32.pow(place) % 10) as u8);
        }
    }
    out.push(b'Z');
    true
}

/// One CSV field as the `csv` crate writes it by default: quoted when it holds a comma, a quote
/// or a line break, with quotes doubled.
fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    if field
        .iter()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        out.push(b'"');
        for &b in field {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field);
    }
}

fn format_rows(batches: &[RecordBatch], rows: &[(usize, usize)]) -> Result<Vec<u8>, String> {
    use std::fmt::Write as _;
    let mut out = Vec::new();
    let options = FormatOptions::default().with_null("");
    let mut cell = String::new();
    let cells: Vec<Vec<Cells>> = batches
        .iter()
        .map(|batch| {
            batch
                .columns()
                .iter()
                .map(|c| Cells::of(c.as_ref(), &options))
                .collect::<Result<_, _>>()
        })
        .collect::<Result<_, _>>()?;
    let nulls: Vec<Vec<Option<&arrow::buffer::NullBuffer>>> = batches
        .iter()
        .map(|batch| batch.columns().iter().map(|c| c.nulls()).collect())
        .collect();
    const SAMPLE: usize = 1024;
    for (n, &(b, row)) in rows.iter().enumerate() {
        if n == SAMPLE {
            // the first rows say about how much the others take
            out.reserve(out.len() / SAMPLE * (rows.len() - SAMPLE) * 9 / 8);
        }
        let record_start = out.len();
        for (i, cells) in cells[b].iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            if nulls[b][i].is_some_and(|n| n.is_null(row)) {
                continue;
            }
            match cells {
                Cells::Empty => {}
                Cells::Text(text) => push_field(&mut out, neutralize(text(row)).as_bytes()),
                Cells::Flag(flags) => {
                    out.extend_from_slice(if flags.value(row) { b"true" } else { b"false" })
                }
                Cells::Plain(write) => write(row, &mut out),
                Cells::Formatted(f) => {
                    cell.clear();
                    write!(cell, "{}", f.value(row)).map_err(|e| e.to_string())?;
                    push_field(&mut out, cell.as_bytes());
                }
            }
        }
        // A record of one empty field is written quoted, or it would read as a blank line.
        if out.len() == record_start {
            out.extend_from_slice(b"\"\"");
        }
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// What the fast paths must write: every cell through Arrow's formatter (text
    /// neutralised), every record through the `csv` crate.
    fn reference_csv(batch: &RecordBatch) -> Vec<u8> {
        use arrow::array::AsArray;
        let options = FormatOptions::default().with_null("");
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(batch.schema().fields().iter().map(|f| f.name().as_str()))
            .unwrap();
        let formatters: Vec<ArrayFormatter> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for row in 0..batch.num_rows() {
            let record: Vec<String> = batch
                .columns()
                .iter()
                .zip(&formatters)
                .map(|(column, f)| {
                    let text = f.value(row).to_string();
                    let is_text = column.as_string_opt::<i32>().is_some()
                        || column.as_string_view_opt().is_some()
                        || column.as_any_dictionary_opt().is_some();
                    if is_text && !column.is_null(row) {
                        neutralize(&text).into_owned()
                    } else {
                        text
                    }
                })
                .collect();
            out.write_record(&record).unwrap();
        }
        out.into_inner().unwrap()
    }

    #[test]
    fn fast_cells_read_as_arrow_and_the_csv_crate_write_them() {
        use arrow::array::*;
        use arrow::datatypes::*;
        let instants: Vec<Option<i64>> = vec![
            Some(0),
            Some(1_792_146_783_000_000), // 2026-10-16T10:33:03Z
            Some(-1),                    // a microsecond before 1970
            Some(-62_135_596_800_000_000 - 86_400_000_000), // before year 1: Arrow's own way
            Some(253_402_300_799_999_000), // 9999-12-31T23:59:59.999Z
            Some(253_402_300_800_000_000), // year 10000
            Some(1_700_000_000_123_456),
            Some(1_700_000_000_120_000),
            Some(1_700_000_000_100_000),
            None,
            Some(951_782_400_000_000), // 2000-02-29
        ];
        let n = instants.len();
        let pick = |values: &[&'static str]| -> Vec<Option<&'static str>> {
            (0..n).map(|i| Some(values[i % values.len()])).collect()
        };
        let mut text = pick(&[
            "plain",
            "a, comma",
            "a \"quote\"",
            "two\nlines",
            "=1+2",
            "-100",
            "",
            "cr\r",
        ]);
        text[3] = None;
        let schema = Arc::new(Schema::new(vec![
            Field::new("text", DataType::Utf8, true),
            Field::new("view", DataType::Utf8View, true),
            Field::new(
                "choice",
                DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8)),
                true,
            ),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new(
                "local",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                true,
            ),
            Field::new("big", DataType::Int64, true),
            Field::new("count", DataType::UInt32, true),
            Field::new("hours", DataType::Float64, true),
            Field::new("flag", DataType::Boolean, true),
            Field::new("nothing", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(text.clone())),
                Arc::new(StringViewArray::from(text.clone())),
                Arc::new(
                    text.iter()
                        .map(|t| t.map(|t| &t[..t.len().min(1)]))
                        .collect::<DictionaryArray<Int8Type>>(),
                ),
                Arc::new(TimestampMicrosecondArray::from(instants.clone()).with_timezone("UTC")),
                Arc::new(TimestampMicrosecondArray::from(instants.clone())),
                Arc::new(Int64Array::from(
                    (0..n as i64)
                        .map(|i| (i % 4 != 3).then_some(i64::MIN / (i + 1) + i))
                        .collect::<Vec<_>>(),
                )),
                Arc::new(UInt32Array::from(
                    (0..n as u32)
                        .map(|i| (i % 5 != 4).then_some(u32::MAX - i))
                        .collect::<Vec<_>>(),
                )),
                Arc::new(Float64Array::from(
                    (0..n)
                        .map(|i| Some(i as f64 / 3.0 - 1.0))
                        .collect::<Vec<_>>(),
                )),
                Arc::new(BooleanArray::from(
                    (0..n)
                        .map(|i| (i % 3 != 0).then_some(i % 2 == 0))
                        .collect::<Vec<_>>(),
                )),
                Arc::new(Int64Array::from(vec![None; n])),
            ],
        )
        .unwrap();
        let expected = reference_csv(&batch);
        assert_eq!(
            String::from_utf8(batches_to_csv(std::slice::from_ref(&batch)).unwrap()).unwrap(),
            String::from_utf8(expected.clone()).unwrap()
        );
        // in pieces of a few rows, formatted on several threads and put together in order
        let slices: Vec<RecordBatch> = (0..n)
            .step_by(3)
            .map(|at| batch.slice(at, 3.min(n - at)))
            .collect();
        assert_eq!(batches_to_csv(&slices).unwrap(), expected);
        // a record of one empty cell is not a blank line
        let one = batch.project(&[0]).unwrap();
        assert_eq!(
            batches_to_csv(std::slice::from_ref(&one)).unwrap(),
            reference_csv(&one)
        );
    }

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
        drop(Staged::write(&p, &[b"aban", b"doned"]).unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let staged = Staged::write(&p, &[b"new"]).unwrap();
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
