//! Writing outputs: whole files or nothing (a temporary file renamed into place), CSV whose text
//! cells can never be read as spreadsheet formulas.

use std::io::Write;
use std::path::Path;

use arrow::array::{Array, RecordBatch};
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// Whether a file's name is that of a temporary file of [`write_atomic`], `.NAME.PID.tmp`: one
/// that a process killed between creating and renaming it leaves behind.
pub fn is_atomic_temporary(file_name: &str) -> bool {
    let inner = file_name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(".tmp"));
    inner
        .and_then(|n| n.rsplit_once('.'))
        .is_some_and(|(name, pid)| {
            !name.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
        })
}

/// The name of the temporary file [`write_atomic`] writes `path` to before renaming it.
fn temporary_name(path: &Path) -> String {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    format!(".{name}.{}.tmp", std::process::id())
}

/// Writes a file atomically (a temporary file beside it, renamed into place): an interrupted
/// run leaves the previous file intact.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(temporary_name(path));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    crate::swap::abort_point();
    written
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

/// The given rows as CSV records: every cell through Arrow's formatter (nulls empty), text
/// cells neutralised, every record through the `csv` crate.
fn format_rows(batches: &[RecordBatch], rows: &[(usize, usize)]) -> Result<Vec<u8>, String> {
    use arrow::array::AsArray;
    use std::fmt::Write as _;
    let options = FormatOptions::default().with_null("");
    let columns: Vec<Vec<(ArrayFormatter, bool)>> = batches
        .iter()
        .map(|batch| {
            batch
                .columns()
                .iter()
                .map(|c| {
                    let is_text = c.as_string_opt::<i32>().is_some()
                        || c.as_string_opt::<i64>().is_some()
                        || c.as_string_view_opt().is_some()
                        || c.as_any_dictionary_opt().is_some();
                    ArrayFormatter::try_new(c.as_ref(), &options).map(|f| (f, is_text))
                })
                .collect::<Result<_, _>>()
        })
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    // Room for every record up front: pages not written to are never touched, and growing the
    // buffer would copy it and hold both copies at once.
    let room = rows.len() * 64 * columns.first().map_or(1, Vec::len);
    let mut out = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::with_capacity(room));
    let mut cell = String::new();
    for &(b, row) in rows {
        for (i, (format, is_text)) in columns[b].iter().enumerate() {
            cell.clear();
            write!(cell, "{}", format.value(row)).map_err(|e| e.to_string())?;
            let field = if *is_text && !batches[b].column(i).is_null(row) {
                neutralize(&cell)
            } else {
                std::borrow::Cow::Borrowed(cell.as_str())
            };
            out.write_field(field.as_bytes())
                .map_err(|e| e.to_string())?;
        }
        out.write_record(None::<&[u8]>).map_err(|e| e.to_string())?;
    }
    out.into_inner().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// What a CSV output must hold, written record by record: every cell through Arrow's
    /// formatter (text neutralised), every record through the `csv` crate.
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
    fn csv_outputs_are_the_same_in_pieces_formatted_on_several_threads() {
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
    fn atomic_temporaries_are_known_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("index.html");
        let tmp = temporary_name(&p);
        assert!(is_atomic_temporary(&tmp), "{tmp}");
        // a leftover of this very name is replaced, then renamed away
        std::fs::write(dir.path().join(&tmp), b"x").unwrap();
        write_atomic(&p, b"page").unwrap();
        assert!(!dir.path().join(&tmp).exists());
        for other in [
            "index.html",
            ".tmp",
            "..1.tmp",
            ".a.b.tmp",
            ".a.12x.tmp",
            ".lock",
        ] {
            assert!(!is_atomic_temporary(other), "{other}");
        }
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
