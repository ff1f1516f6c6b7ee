//! Reading one export file: its text (see [`super::bytes`]), CSV or JSON (see [`super::json`]),
//! the header, and the projected columns as a Polars frame of strings. Nothing here knows a help
//! desk.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;
use serde_json::{Map, Value};

use super::IngestError;
use super::bytes::{Bytes, Text, decode_file, map_file};
use super::field_count::{Counted, FieldCounter, MalformedRow, Progress};
use super::json;
use super::profile::HeaderIndex;

/// Name of the column that carries each row's position in its file.
pub const ROW_COLUMN: &str = "__row";

/// One export, opened and decoded, before any column is chosen.
pub struct ExportFile {
    pub path: PathBuf,
    /// How the file is named in messages and reports.
    pub shown: String,
    hashing: Option<std::thread::JoinHandle<String>>,
    sha256: Option<String>,
    pub encoding: &'static str,
    pub compressed: bool,
    pub content: Content,
    /// The bytes of a stretch, for a CSV text long enough to be read in stretches
    /// ([`read_stretches`]).
    pub stretch: Option<usize>,
}

pub enum Content {
    Csv {
        text: Bytes,
        /// Where the text starts (after a byte-order mark).
        start: usize,
        separator: u8,
        header: HeaderIndex,
    },
    Json {
        columns: json::JsonColumns,
        /// Each record's row number.
        rows: Vec<u64>,
        malformed: Vec<MalformedRow>,
        header: HeaderIndex,
        shape: String,
    },
}

impl ExportFile {
    pub fn header(&self) -> &HeaderIndex {
        match &self.content {
            Content::Csv { header, .. } | Content::Json { header, .. } => header,
        }
    }

    pub fn format(&self) -> String {
        match &self.content {
            Content::Csv { separator, .. } => match separator {
                b',' => "CSV".to_string(),
                b';' => "CSV (;)".to_string(),
                b'\t' => "CSV (tab)".to_string(),
                other => format!("CSV ({})", *other as char),
            },
            Content::Json { shape, .. } => format!("JSON ({shape})"),
        }
    }

    /// The sha256 of the file as it is on disk, computed on another thread while the file is
    /// read: waited for on the first call.
    pub fn sha256(&mut self) -> String {
        if let Some(hashing) = self.hashing.take() {
            self.sha256 = Some(hashing.join().expect("hashing does not panic"));
        }
        self.sha256.clone().expect("the hash is joined above")
    }
}

/// Starts hashing the file's bytes on a thread of its own. The bytes of a file read in
/// stretches are given back to the system as they are hashed, as the parse gives back each
/// stretch it has read: the hash would otherwise hold the whole file.
fn hash_in_background(on_disk: Bytes, in_stretches: bool) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let _t = crate::log::background_stage("hash");
        if !in_stretches {
            return crate::digest::sha256_hex(on_disk.as_slice());
        }
        // Asking for a block means the one before it is hashed.
        let blocks = on_disk.as_slice().chunks(HASH_BLOCK).enumerate();
        let releasing = blocks.map(|(i, block)| {
            if i > 0 {
                on_disk.release((i - 1) * HASH_BLOCK..i * HASH_BLOCK);
            }
            block
        });
        let digest = crate::digest::sha256_hex_of_blocks(releasing);
        on_disk.release(0..on_disk.as_slice().len());
        digest
    })
}

/// The bytes hashed between two releases of a file read in stretches.
const HASH_BLOCK: usize = 16 << 20;

/// How a source asks its files to be read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions<'a> {
    /// The encoding the source declares, if any (see [`decode`]).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// A CSV quote escaped by a backslash rather than doubled.
    pub backslash_escapes: bool,
    /// The worksheet of a workbook to read (default: the first).
    pub sheet: Option<&'a str>,
}

/// Opens an export.
pub fn open(path: &Path, shown: &str, options: ReadOptions) -> Result<ExportFile, IngestError> {
    let ReadOptions {
        encoding: declared,
        backslash_escapes,
        sheet,
    } = options;
    let fail = |message: String| IngestError::Unreadable {
        file: shown.to_string(),
        message,
    };
    let on_disk = map_file(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let stretch = stretch_bytes()?;
    let long = stretch.saturating_mul(2);
    if super::spreadsheet::is_workbook(on_disk.as_slice()) {
        return open_spreadsheet(path, shown, on_disk, sheet).map_err(fail);
    }
    if let Some(sheet) = sheet {
        return Err(fail(format!(
            "the source names sheet `{sheet}`, but the file is no workbook"
        )));
    }
    let Text {
        on_disk,
        compressed,
        text,
        start,
        encoding,
    } = decode_file(on_disk, shown, declared, Some(long)).map_err(fail)?;
    let body = &text.as_slice()[start..];
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let content = match first {
        None => return Err(fail("the file is empty".to_string())),
        Some(b'[') | Some(b'{') => json_content(json::parse(body).map_err(fail)?),
        Some(_) if backslash_escapes => {
            let unescaped = doubled_quotes(body, sniff_separator(body));
            csv_content(Bytes::Owned(Arc::new(unescaped)), 0).map_err(fail)?
        }
        Some(_) => csv_content(text.clone(), start).map_err(fail)?,
    };
    let stretch = match &content {
        Content::Csv { text, start, .. } if text.as_slice().len() - start > long => Some(stretch),
        _ => None,
    };
    Ok(ExportFile {
        path: path.to_path_buf(),
        shown: shown.to_string(),
        hashing: Some(hash_in_background(on_disk, stretch.is_some())),
        sha256: None,
        encoding,
        compressed,
        content,
        stretch,
    })
}

/// An `.xlsx` export: its first sheet as CSV text.
fn open_spreadsheet(
    path: &Path,
    shown: &str,
    on_disk: Bytes,
    sheet: Option<&str>,
) -> Result<ExportFile, String> {
    let super::spreadsheet::SheetText { csv, kind, note } =
        super::spreadsheet::sheet_as_csv(on_disk.as_slice(), sheet)?;
    if let Some(note) = note {
        crate::log::note(&format!("{shown}: {note}"));
    }
    Ok(ExportFile {
        path: path.to_path_buf(),
        shown: shown.to_string(),
        hashing: Some(hash_in_background(on_disk, false)),
        sha256: None,
        encoding: kind,
        compressed: false,
        content: csv_content(Bytes::Owned(Arc::new(csv)), 0)?,
        stretch: None,
    })
}

fn csv_content(text: Bytes, start: usize) -> Result<Content, String> {
    let body = &text.as_slice()[start..];
    let separator = sniff_separator(body);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut record = csv::ByteRecord::new();
    let got = reader
        .read_byte_record(&mut record)
        .map_err(|e| format!("cannot read the header line: {e}"))?;
    if !got || record.iter().all(|c| c.trim_ascii().is_empty()) {
        return Err("no header line: the first line is empty".to_string());
    }
    if record.as_slice().contains(&0) {
        return Err(
            "it is binary data, not a text export: its first line holds NUL bytes".to_string(),
        );
    }
    let names: Vec<String> = record
        .iter()
        .map(|c| String::from_utf8_lossy(c).trim().to_string())
        .collect();
    Ok(Content::Csv {
        text,
        start,
        separator,
        header: HeaderIndex::new(names),
    })
}

/// CSV text that escapes quotes inside quoted fields with a backslash, as RFC 4180 writes it:
/// `\"` becomes `""` and `\\` a backslash inside a quoted field; elsewhere the text is unchanged.
fn doubled_quotes(text: &[u8], separator: u8) -> Vec<u8> {
    #[derive(PartialEq)]
    enum At {
        FieldStart,
        Unquoted,
        Quoted,
    }
    let mut out = Vec::with_capacity(text.len() + text.len() / 64);
    let mut at = At::FieldStart;
    let mut bytes = text.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        let next = bytes.peek().copied();
        match at {
            At::Quoted if b == b'\\' && matches!(next, Some(b'"' | b'\\')) => {
                out.extend_from_slice(if next == Some(b'"') { b"\"\"" } else { b"\\" });
                bytes.next();
                continue;
            }
            At::Quoted if b == b'"' && next == Some(b'"') => {
                out.extend_from_slice(b"\"\"");
                bytes.next();
                continue;
            }
            At::Quoted if b == b'"' => at = At::Unquoted,
            At::Quoted => {}
            _ if b == separator || b == b'\n' => at = At::FieldStart,
            At::FieldStart if b == b'"' => at = At::Quoted,
            _ => at = At::Unquoted,
        }
        out.push(b);
    }
    out
}

/// The separator is the candidate seen most often outside quotes in the first line.
fn sniff_separator(text: &[u8]) -> u8 {
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for &b in text.iter().take(64 * 1024) {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = candidates.iter().position(|c| *c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..4)
        .max_by_key(|&i| (counts[i], usize::MAX - i))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        candidates[best]
    }
}

fn json_content(table: json::JsonTable) -> Content {
    Content::Json {
        header: HeaderIndex::new(table.columns.names().to_vec()),
        columns: table.columns,
        rows: table.rows,
        malformed: table.malformed,
        shape: table.shape,
    }
}

impl ExportFile {
    /// Joins related records (read by [`json::related_records`]) into a JSON export's tickets.
    pub fn join_related(&mut self, related: Vec<Map<String, Value>>) -> Result<(), String> {
        let Content::Json {
            columns,
            rows,
            malformed,
            shape,
            ..
        } = &mut self.content
        else {
            return Err("related records join JSON exports only; this export is CSV".to_string());
        };
        let table = json::JsonTable {
            columns: std::mem::take(columns),
            rows: std::mem::take(rows),
            malformed: std::mem::take(malformed),
            shape: std::mem::take(shape),
        };
        self.content = json_content(json::join_related(table, related));
        Ok(())
    }
}

/// The projected columns as strings, named `c<index>`, with the row position in [`ROW_COLUMN`].
pub struct RawFrame {
    pub frame: DataFrame,
    pub malformed: Vec<MalformedRow>,
    /// Data rows in the file.
    pub rows: u64,
}

pub fn column_name(index: usize) -> String {
    format!("c{index}")
}

/// Reads the given columns of every row; cells equal to one of `nulls` are null.
pub fn read_columns(
    export: &mut ExportFile,
    columns: &[usize],
    nulls: &[String],
) -> Result<RawFrame, IngestError> {
    let mut wanted: Vec<usize> = columns.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let (text, start, separator) = match &export.content {
        Content::Csv {
            text,
            start,
            separator,
            ..
        } => (text, *start, *separator),
        Content::Json {
            columns,
            rows,
            malformed,
            ..
        } => return read_json(export, columns, rows, malformed, &wanted, nulls),
    };
    let width = export.header().names().len();
    let body = &text.as_slice()[start..];
    parse_csv(body, separator, width, &wanted, nulls).map_err(|message| IngestError::Unreadable {
        file: export.shown.clone(),
        message,
    })
}

/// The projected columns of a CSV text (header included), as strings, with each row's
/// spreadsheet row number.
///
/// Polars' CSV reader parses the text on every core; beside it, on a thread of its own, the
/// field counter reads every record once to find the rows whose field count differs from the
/// header's and the blank lines, which the reader reads as rows of nulls. The two must agree
/// on how many rows the text holds, or the run stops: a row number is only as good as that.
fn parse_csv(
    text: &[u8],
    separator: u8,
    width: usize,
    wanted: &[usize],
    nulls: &[String],
) -> Result<RawFrame, String> {
    let (counted, parsed) = std::thread::scope(|scope| {
        let counted = scope.spawn(|| {
            let mut counter = FieldCounter::new(separator, width);
            counter.feed(text);
            counter.finish()
        });
        let parsed = read_csv_text(text, separator, width, wanted, nulls, true);
        (
            counted.join().expect("counting fields does not panic"),
            parsed,
        )
    });
    let mut counted = counted?;
    for row in &mut counted.malformed {
        say_lines_swallowed(row, text);
    }
    if counted.lone_carriage_return {
        // Classic Mac or mixed line ends, which the reader does not take as line ends.
        return parse_csv(&with_line_feeds(text), separator, width, wanted, nulls);
    }
    // Rows after the header, blank lines included.
    let lines = counted.lines.saturating_sub(1);
    let frame = match parsed {
        Ok(frame) if frame.height() as u64 == lines => frame,
        _ if !counted.malformed.is_empty() => {
            // The reader stumbled over a malformed record (a quote escaped by a backslash can
            // make it refuse the file): read again with those records as blank lines, which
            // keeps every other row where the count has it.
            let blanked = blank_records(text, &counted.malformed);
            read_csv_text(&blanked, separator, width, wanted, nulls, true)
                .ok()
                .filter(|frame| frame.height() as u64 == lines)
                .ok_or_else(|| untrusted_after(&counted.malformed[0]))?
        }
        Ok(frame) => {
            return Err(format!(
                "the CSV reader found {} rows where a strict count finds {lines}; the file's quoting is inconsistent",
                frame.height(),
            ));
        }
        Err(_) => {
            return Err(
                "the CSV reader cannot read it, though every record has the header's number of fields"
                    .to_string(),
            );
        }
    };
    Ok(RawFrame {
        frame: numbered(frame, wanted, (2..lines + 2).collect(), &counted.blank)?,
        malformed: counted.malformed,
        rows: counted.rows,
    })
}

/// The rows Polars read, numbered, without the blank lines (which it reads as rows of nulls);
/// with no column `wanted`, the column read to count the rows is left out.
fn numbered(
    read: DataFrame,
    wanted: &[usize],
    numbers: Vec<u64>,
    blank: &[u64],
) -> Result<DataFrame, String> {
    let height = numbers.len();
    let mut columns = vec![Column::new(ROW_COLUMN.into(), numbers)];
    if !wanted.is_empty() {
        columns.extend(read.into_columns());
    }
    let mut frame = DataFrame::new(height, columns).map_err(|e| e.to_string())?;
    if !blank.is_empty() {
        let blank = Series::new("blank".into(), blank);
        frame = frame
            .lazy()
            .filter(
                col(ROW_COLUMN)
                    .is_in(lit(blank).implode(false), false)
                    .not(),
            )
            .collect()
            .map_err(|e| e.to_string())?;
    }
    Ok(frame)
}

/// Adds to a malformed record's problem the lines it runs over, when it runs over several: a
/// quote that opens and is never closed where it should be takes the lines after it into one
/// record, whose rows are then no rows of their own.
fn say_lines_swallowed(row: &mut MalformedRow, text: &[u8]) {
    let record = &text[row.span.clone()];
    let record = record.strip_suffix(b"\n").unwrap_or(record);
    let breaks = record.iter().filter(|b| **b == b'\n').count() as u64;
    if breaks > 0 {
        row.problem = format!(
            "{}; the record spans {} lines (a quoted field holds line breaks, or a quote is missing)",
            row.problem,
            breaks + 1
        );
    }
}

/// The text with each carriage return that no line feed follows made a line feed.
fn with_line_feeds(text: &[u8]) -> Vec<u8> {
    let mut out = text.to_vec();
    for i in 0..out.len() {
        if out[i] == b'\r' && out.get(i + 1) != Some(&b'\n') {
            out[i] = b'\n';
        }
    }
    out
}

/// The text with each of the records replaced by a blank line.
fn blank_records(text: &[u8], records: &[MalformedRow]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut from = 0;
    for record in records {
        out.extend_from_slice(&text[from..record.span.start]);
        out.push(b'\n');
        from = record.span.end;
    }
    out.extend_from_slice(&text[from..]);
    out
}

/// Why a text whose malformed records cannot be set aside is not read at all.
fn untrusted_after(first: &MalformedRow) -> String {
    format!(
        "row {} is malformed ({}) and the rows after it cannot be told apart reliably; fix the \
         quoting there (a quote inside a quoted field is written twice: `\"\"`)",
        first.row, first.problem
    )
}

/// The most bytes of a CSV export parsed at a time, unless `DESKPULSE_STRETCH_BYTES` says
/// otherwise: an export more than twice as long is read a stretch of rows at a time
/// ([`read_stretches`]), so that its parsed text is never held whole.
const STRETCH_BYTES: usize = 256 << 20;

/// The most bytes of a CSV export parsed at a time: `DESKPULSE_STRETCH_BYTES`, else
/// [`STRETCH_BYTES`].
fn stretch_bytes() -> Result<usize, IngestError> {
    crate::size_from_env(
        "DESKPULSE_STRETCH_BYTES",
        STRETCH_BYTES,
        "bytes",
        268_435_456,
    )
    .map_err(IngestError::Source)
}

/// How reading a CSV text in stretches ended.
pub enum Stretched {
    /// Every row was handed on.
    Read,
    /// The text must be read whole, for the reason given.
    Irregular(&'static str),
    /// `each` declined a stretch: the text must be read whole.
    Declined,
}

/// Why a text with a malformed record is read whole: its rows after the record are told apart
/// as the whole text's count tells them.
const IRREGULAR: &str = "a malformed record, or a line ended by a carriage return alone";

/// Why a text whose stretch two readers read otherwise is read whole.
const MISREAD: &str =
    "the CSV reader and the strict count read a stretch as a different number of rows";

/// Reads the given columns of a CSV export `stretch` bytes at a time (cut at record ends) and
/// hands each stretch's rows to `each`, which returns whether to go on. As in [`parse_csv`],
/// the field count reads the text on a thread of its own, a stretch ahead of Polars' parse;
/// a mapped file's stretch is given back to the system once parsed, so that neither the
/// file nor its parsed text is ever held whole.
pub fn read_stretches(
    export: &ExportFile,
    columns: &[usize],
    nulls: &[String],
    mut each: impl FnMut(RawFrame) -> Result<bool, IngestError>,
) -> Result<Stretched, IngestError> {
    let (
        Content::Csv {
            text,
            start,
            separator,
            ..
        },
        Some(stretch),
    ) = (&export.content, export.stretch)
    else {
        return Ok(Stretched::Irregular("it is no CSV text long enough"));
    };
    let mut wanted: Vec<usize> = columns.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let width = export.header().names().len();
    let body = &text.as_slice()[*start..];
    let fail = |message: String| IngestError::Unreadable {
        file: export.shown.clone(),
        message,
    };
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let counting = scope.spawn(move || count_ahead(body, *separator, width, stretch, sender));
        let mut reading = StretchReading {
            body,
            text,
            start: *start,
            separator: *separator,
            width,
            wanted: &wanted,
            nulls,
            from: 0,
            lines: 0,
            blank: 0,
        };
        // How the reading ends with these rows, or `None` where it goes on.
        let mut take = |raw: Result<Option<RawFrame>, &'static str>| -> Result<_, IngestError> {
            match raw {
                Err(why) => Ok(Some(Stretched::Irregular(why))),
                Ok(None) => Ok(Some(Stretched::Irregular(MISREAD))),
                Ok(Some(raw)) if raw.frame.height() == 0 => Ok(None),
                Ok(Some(raw)) => Ok((!each(raw)?).then_some(Stretched::Declined)),
            }
        };
        let mut outcome = Stretched::Read;
        for (progress, blank) in receiver.iter() {
            let raw = match progress.irregular {
                true => Err(IRREGULAR),
                false => Ok(reading
                    .next(progress.ended, progress.lines, &blank)
                    .map_err(fail)?),
            };
            if let Some(end) = take(raw)? {
                outcome = end;
                break;
            }
        }
        drop(receiver);
        let counted = counting.join().expect("counting fields does not panic");
        if !matches!(outcome, Stretched::Read) {
            return Ok(outcome);
        }
        let counted = counted.map_err(fail)?;
        if !counted.malformed.is_empty() || counted.lone_carriage_return {
            return Ok(Stretched::Irregular(IRREGULAR));
        }
        let blank = &counted.blank[reading.blank..];
        let raw = reading
            .next(body.len(), counted.lines, blank)
            .map_err(fail)?;
        Ok(take(Ok(raw))?.unwrap_or(Stretched::Read))
    })
}

/// Counts the text's fields a stretch at a time, sending after each how far it has read and
/// the blank lines found, until the reader stops listening; what the whole count found.
fn count_ahead(
    body: &[u8],
    separator: u8,
    width: usize,
    stretch: usize,
    sender: std::sync::mpsc::SyncSender<(Progress, Vec<u64>)>,
) -> Result<Counted, String> {
    let mut counter = FieldCounter::new(separator, width);
    let mut sent = 0;
    for piece in body.chunks(stretch) {
        counter.feed(piece);
        let blank = counter.blank_rows()[sent..].to_vec();
        sent += blank.len();
        if sender.send((counter.progress(), blank)).is_err() {
            break;
        }
    }
    counter.finish()
}

/// Where a reading in stretches stands: the text before `from` is read, up to row `lines`,
/// with `blank` blank lines among them.
struct StretchReading<'a> {
    body: &'a [u8],
    text: &'a Bytes,
    start: usize,
    separator: u8,
    width: usize,
    wanted: &'a [usize],
    nulls: &'a [String],
    from: usize,
    lines: u64,
    blank: usize,
}

impl StretchReading<'_> {
    /// The rows of the text from where the last stretch ended to `ended`, which the count
    /// found to end row `lines`, with the blank lines `blank` among them. `None` when Polars
    /// reads another number of rows there than the count.
    fn next(
        &mut self,
        ended: usize,
        lines: u64,
        blank: &[u64],
    ) -> Result<Option<RawFrame>, String> {
        let first = self.from == 0;
        let piece = &self.body[self.from..ended];
        let parsed = read_csv_text(
            piece,
            self.separator,
            self.width,
            self.wanted,
            self.nulls,
            first,
        );
        // The header is row 1 and no data row.
        let from_row = self.lines.max(1) + 1;
        let expected = (lines + 1).saturating_sub(from_row);
        let frame = match parsed {
            Ok(frame) if frame.height() as u64 == expected => frame,
            _ => return Ok(None),
        };
        self.text
            .release(self.start + self.from..self.start + ended);
        let raw = RawFrame {
            frame: numbered(frame, self.wanted, (from_row..=lines).collect(), blank)?,
            malformed: Vec::new(),
            rows: expected - blank.len() as u64,
        };
        (self.from, self.lines) = (ended, lines);
        self.blank += blank.len();
        Ok(Some(raw))
    }
}

/// The wanted columns of every row (after the header, when `header` says the text starts with
/// it), through Polars' public CSV reader: every value a string, the null markers null, short
/// rows padded with nulls and long ones cut.
fn read_csv_text(
    text: &[u8],
    separator: u8,
    width: usize,
    wanted: &[usize],
    nulls: &[String],
    header: bool,
) -> PolarsResult<DataFrame> {
    let schema =
        Schema::from_iter((0..width).map(|i| Field::new(column_name(i).into(), DataType::String)));
    // The reader reads at least one column; with none wanted it reads the first, which is then
    // left out, so that rows are still counted.
    let projection: Vec<usize> = if wanted.is_empty() {
        vec![0]
    } else {
        wanted.to_vec()
    };
    let null_values = NullValues::AllColumns(nulls.iter().map(|n| n.as_str().into()).collect());
    CsvReadOptions::default()
        .with_has_header(header)
        .with_schema(Some(Arc::new(schema)))
        .with_projection(Some(Arc::new(projection)))
        .with_raise_if_empty(false)
        .map_parse_options(|options| {
            options
                .with_separator(separator)
                .with_quote_char(Some(b'"'))
                .with_truncate_ragged_lines(true)
                .with_missing_is_null(true)
                .with_null_values(Some(null_values.clone()))
        })
        .into_reader_with_file_handle(std::io::Cursor::new(text))
        .finish()
}

fn read_json(
    export: &ExportFile,
    records: &json::JsonColumns,
    rows: &[u64],
    malformed: &[MalformedRow],
    wanted: &[usize],
    nulls: &[String],
) -> Result<RawFrame, IngestError> {
    let header = export.header();
    let mut columns: Vec<Column> = Vec::with_capacity(wanted.len() + 1);
    columns.push(Column::new(ROW_COLUMN.into(), rows.to_vec()));
    for &i in wanted {
        let mut text = StringChunkedBuilder::new(column_name(i).into(), records.records());
        for value in records.values(&header.names()[i]) {
            text.append_option(value.filter(|v| !nulls.iter().any(|n| n == v)));
        }
        columns.push(text.finish().into_column());
    }
    let frame =
        DataFrame::new_infer_height(columns).map_err(|e| IngestError::Internal(e.to_string()))?;
    Ok(RawFrame {
        frame,
        malformed: malformed.to_vec(),
        rows: (records.records() + malformed.len()) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of a parsed text: row number and the values of every projected column.
    fn rows_of(parsed: &RawFrame) -> Vec<Vec<Option<String>>> {
        let columns = parsed.frame.columns();
        (0..parsed.frame.height())
            .map(|i| {
                columns
                    .iter()
                    .map(|c| {
                        c.get(i)
                            .unwrap()
                            .str_value()
                            .ne("null")
                            .then(|| c.get(i).unwrap().str_value().to_string())
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn rows_keep_their_spreadsheet_numbers_around_blank_and_malformed_rows() {
        let text = b"id,title,state\r\n\r\n1,\"two\r\nlines, and a comma\",New\r\n2,short\r\n\
                     3,\"a \"\"quoted\"\" word\",Closed,extra\r\n\r\n4,?,Closed\r\n5,last,New";
        let nulls = vec!["?".to_string()];
        let read = parse_csv(text, b',', 3, &[0, 1, 2], &nulls).unwrap();
        assert_eq!(read.rows, 5);
        // rows as a spreadsheet numbers them: the header is 1, the blank lines 2 and 6
        let malformed: Vec<u64> = read.malformed.iter().map(|m| m.row).collect();
        assert_eq!(malformed, vec![4, 5]);
        let rows = rows_of(&read);
        let numbers: Vec<Option<&str>> = rows.iter().map(|r| r[0].as_deref()).collect();
        assert_eq!(
            numbers,
            [Some("3"), Some("4"), Some("5"), Some("7"), Some("8")]
        );
        assert_eq!(rows[0][1].as_deref(), Some("1"));
        assert_eq!(rows[0][2].as_deref(), Some("two\r\nlines, and a comma"));
        assert_eq!(rows[1][3], None, "a short row is padded with nulls");
        assert_eq!(rows[2][2].as_deref(), Some("a \"quoted\" word"));
        assert_eq!(rows[3][2], None, "a null marker is null");
        assert_eq!(rows[4][2].as_deref(), Some("last"));
    }

    #[test]
    fn a_backslash_escaped_quote_rejects_its_row_and_the_others_are_read() {
        let text =
            b"id,title,state\n1,\"\\\"><img src=x>\",New\n2,\"a \\\"b\\\" c\",New\n3,fine,Closed\n";
        let read = parse_csv(text, b',', 3, &[0, 1, 2], &[]).unwrap();
        assert_eq!(read.rows, 3);
        let malformed: Vec<u64> = read.malformed.iter().map(|m| m.row).collect();
        assert_eq!(malformed, [2, 3]);
        let rows = rows_of(&read);
        assert_eq!(rows.len(), 3, "each row keeps its place");
        assert_eq!(rows[2][0].as_deref(), Some("4"));
        assert_eq!(rows[2][2].as_deref(), Some("fine"));
    }

    #[test]
    fn backslash_escapes_become_doubled_quotes_inside_quoted_fields_only() {
        let text = br#"id,title,note
1,"say \"hi\" to C:\\temp\\","a ""b"""
2,plain \"as is\",x
"#;
        let expected = r#"id,title,note
1,"say ""hi"" to C:\temp\","a ""b"""
2,plain \"as is\",x
"#;
        assert_eq!(
            String::from_utf8(doubled_quotes(text, b',')).unwrap(),
            expected
        );
    }

    #[test]
    fn carriage_returns_alone_end_lines() {
        for text in [
            &b"id,title\r1,a\r2,b\r"[..],
            b"id,title\n1,a\r\n2,b\r",
            b"id,title\r\n1,a\r2,b\n",
        ] {
            let read = parse_csv(text, b',', 2, &[0, 1], &[]).unwrap();
            assert_eq!(read.rows, 2, "{text:?}");
            assert!(read.malformed.is_empty(), "{text:?}");
            let titles: Vec<Option<String>> =
                rows_of(&read).into_iter().map(|r| r[2].clone()).collect();
            assert_eq!(
                titles,
                [Some("a".to_string()), Some("b".to_string())],
                "{text:?}"
            );
        }
    }

    #[test]
    fn blank_lines_at_the_end_are_not_rows() {
        for text in [
            &b"id,title\n1,a\n\n"[..],
            b"id,title\n1,a\n\n\n",
            b"id,title\r\n1,a\r\n\r\n",
            b"id,title\n1,a",
        ] {
            let read = parse_csv(text, b',', 2, &[0, 1], &[]).unwrap();
            assert_eq!(read.rows, 1, "{text:?}");
            assert_eq!(rows_of(&read).len(), 1, "{text:?}");
            assert!(read.malformed.is_empty(), "{text:?}");
        }
    }

    #[test]
    fn rows_are_counted_with_no_column_wanted() {
        let read = parse_csv(b"id,title\n1,a\n\n2,b\n", b',', 2, &[], &[]).unwrap();
        assert_eq!(read.rows, 2);
        assert_eq!(read.frame.width(), 1);
        assert_eq!(
            rows_of(&read),
            [[Some("2".to_string())], [Some("4".to_string())]]
        );
    }

    #[test]
    fn sniffs_separators() {
        assert_eq!(sniff_separator(b"a,b,c\n1,2,3"), b',');
        assert_eq!(sniff_separator(b"ID;Title;\"a,b\";Status\n"), b';');
        assert_eq!(sniff_separator(b"a\tb\tc\n"), b'\t');
        assert_eq!(sniff_separator(b"single\n"), b',');
    }
}
