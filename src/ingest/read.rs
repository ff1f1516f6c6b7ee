//! Reading one export file: bytes, compression, text encoding, CSV or JSON, the header, and the
//! projected columns as a Polars frame of strings. Nothing here knows a help desk.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;
use serde_json::{Map, Value};

use super::IngestError;
use super::field_count::{FieldCounter, MalformedRow};
use super::profile::HeaderIndex;

/// Name of the column that carries each row's position in its file.
pub const ROW_COLUMN: &str = "__row";

/// The bytes of a file: mapped from disk when they can be used as they are, owned when they had
/// to be decompressed or transcoded.
#[derive(Clone)]
pub enum Bytes {
    Mapped(Arc<memmap2::Mmap>),
    Owned(Arc<Vec<u8>>),
}

impl Bytes {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

/// One export, opened and decoded, before any column is chosen.
pub struct ExportFile {
    pub path: PathBuf,
    /// How the file is named in messages and reports.
    pub shown: String,
    scan: Scan,
    pub encoding: &'static str,
    pub compressed: bool,
    pub content: Content,
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
        records: Vec<Map<String, Value>>,
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

    /// The background hash of the file, waited for.
    fn scanned(&mut self) -> &Scanned {
        if let Scan::Running(_) = self.scan {
            let Scan::Running(handle) = std::mem::replace(&mut self.scan, Scan::Taken) else {
                unreachable!()
            };
            self.scan = Scan::Done(handle.join().expect("the background scan does not panic"));
        }
        match &self.scan {
            Scan::Done(s) => s,
            _ => unreachable!("the scan is joined above"),
        }
    }

    /// The sha256 of the file as it is on disk.
    pub fn sha256(&mut self) -> String {
        self.scanned().sha256.clone()
    }
}

/// The file's hash, computed on another thread while the file is read.
enum Scan {
    Running(std::thread::JoinHandle<Scanned>),
    Taken,
    Done(Scanned),
}

struct Scanned {
    sha256: String,
}

fn background_scan(on_disk: Bytes) -> Scan {
    Scan::Running(std::thread::spawn(move || {
        let _t = crate::log::background_stage("hash");
        Scanned {
            sha256: crate::digest::sha256_hex(on_disk.as_slice()),
        }
    }))
}

fn is_gzip(bytes: &Bytes) -> bool {
    bytes.as_slice().starts_with(&[0x1f, 0x8b])
}

/// The file's bytes, decompressed when they are gzip's, whatever the file is called.
fn gunzip(on_disk: &Bytes) -> Result<Bytes, String> {
    if !is_gzip(on_disk) {
        return Ok(on_disk.clone());
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(on_disk.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| format!("it looks gzip-compressed but cannot be decompressed: {e}"))?;
    Ok(Bytes::Owned(Arc::new(out)))
}

fn map_file(path: &Path) -> std::io::Result<Bytes> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(Bytes::Owned(Arc::new(Vec::new())));
    }
    // SAFETY: the map is read-only; an export changed by another program while deskpulse reads
    // it gives garbled rows, which are reported like any other bad row.
    match unsafe { memmap2::Mmap::map(&file) } {
        Ok(m) => Ok(Bytes::Mapped(Arc::new(m))),
        Err(_) => Ok(Bytes::Owned(Arc::new(std::fs::read(path)?))),
    }
}

/// Opens, decompresses, decodes and sniffs a file.
/// Opens an export; `declared` is the encoding its source declares, if any (see [`decode`]).
pub fn open(
    path: &Path,
    shown: &str,
    declared: Option<&'static encoding_rs::Encoding>,
) -> Result<ExportFile, IngestError> {
    let fail = |message: String| IngestError::Unreadable {
        file: shown.to_string(),
        message,
    };
    let on_disk = map_file(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let compressed = is_gzip(&on_disk);
    let (text, start, encoding) =
        decode(gunzip(&on_disk).map_err(fail)?, declared).map_err(fail)?;
    if encoding == ASSUMED_WINDOWS_1252 {
        crate::log::note(&format!(
            "{shown}: the text is not UTF-8 and its source declares no encoding: read as \
             Windows-1252; if it is another, say which with `encoding = \"...\"` in its [[sources]]"
        ));
    }
    let body = &text.as_slice()[start..];
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let content = match first {
        None => return Err(fail("the file is empty".to_string())),
        Some(b'[') | Some(b'{') => json_content(body).map_err(fail)?,
        Some(_) => csv_content(text.clone(), start).map_err(fail)?,
    };
    Ok(ExportFile {
        path: path.to_path_buf(),
        shown: shown.to_string(),
        scan: background_scan(on_disk),
        encoding,
        compressed,
        content,
    })
}

/// How the report names the encoding of a text that is not UTF-8 and declares none.
pub const ASSUMED_WINDOWS_1252: &str = "Windows-1252 (assumed: not UTF-8, none declared)";

/// The text as UTF-8, where it starts (after a byte-order mark) and the encoding it was in:
/// the one its byte-order mark says (UTF-8, UTF-16LE or UTF-16BE), else the one its source
/// declares, else UTF-8. A text that is none of those is read as Windows-1252, what Excel and
/// older help desks write, and that is said on stderr and in the report, never silently.
fn decode(
    bytes: Bytes,
    declared: Option<&'static encoding_rs::Encoding>,
) -> Result<(Bytes, usize, &'static str), String> {
    let b = bytes.as_slice();
    let as_utf8 =
        |text: std::borrow::Cow<'_, str>| Bytes::Owned(Arc::new(text.into_owned().into_bytes()));
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(b) {
        if encoding == encoding_rs::UTF_8 {
            return Ok((bytes, bom, "UTF-8"));
        }
        let (text, _) = encoding.decode_without_bom_handling(&b[bom..]);
        return Ok((as_utf8(text), 0, encoding.name()));
    }
    match (declared, std::str::from_utf8(b)) {
        (Some(encoding), _) if encoding != encoding_rs::UTF_8 => {
            let (text, _) = encoding.decode_without_bom_handling(b);
            Ok((as_utf8(text), 0, encoding.name()))
        }
        (_, Ok(_)) => Ok((bytes, 0, "UTF-8")),
        (Some(_), Err(e)) => {
            let at = e.valid_up_to();
            let line = 1 + b[..at].iter().filter(|c| **c == b'\n').count();
            Err(format!(
                "its source declares UTF-8, but line {line} has a byte that is not UTF-8 \
                 (0x{:02x}); declare the encoding the file is in",
                b[at]
            ))
        }
        (None, Err(_)) => Ok((transcode(b), 0, ASSUMED_WINDOWS_1252)),
    }
}

/// Windows-1252 text as UTF-8.
fn transcode(bytes: &[u8]) -> Bytes {
    let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
    Bytes::Owned(Arc::new(text.into_owned().into_bytes()))
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

/// Keys under which help-desk APIs wrap their list of records.
const JSON_WRAPPERS: &[&str] = &[
    "result",
    "tickets",
    "records",
    "data",
    "items",
    "requests",
    "changes",
    "issues",
    "incidents",
];

/// Records that describe a ticket rather than being one carry its id in this key (Zendesk's
/// `ticket_metrics` and side-loaded `metric_sets`).
const RELATED_KEY: &str = "ticket_id";
/// Related records' fields join their ticket's under this prefix (`metrics.reopens`).
const RELATED_PREFIX: &str = "metrics";

fn json_content(text: &[u8]) -> Result<Content, String> {
    let (records, shape, related) = json_records(text)?;
    let mut records = records;
    let mut shape = shape.to_string();
    if !related.is_empty() {
        let joined = join_related(&mut records, related);
        shape = format!("{shape}, {joined}");
    }
    json_with_header(records, shape)
}

/// The records of a JSON file, its shape, and the related records side-loaded beside them.
type JsonRecords = (
    Vec<Map<String, Value>>,
    &'static str,
    Vec<Map<String, Value>>,
);

fn json_records(text: &[u8]) -> Result<JsonRecords, String> {
    let mut related = Vec::new();
    let (records, shape) = match serde_json::from_slice::<Value>(text) {
        Ok(Value::Array(items)) => (objects(items, "the top-level array")?, "array"),
        Ok(Value::Object(mut obj)) => {
            let key = JSON_WRAPPERS
                .iter()
                .find(|k| matches!(obj.get(**k), Some(Value::Array(_))))
                .map(|k| k.to_string())
                .or_else(|| {
                    let arrays: Vec<&String> = obj
                        .iter()
                        .filter(|(_, v)| v.is_array())
                        .map(|(k, _)| k)
                        .collect();
                    (arrays.len() == 1).then(|| arrays[0].clone())
                });
            match key {
                Some(k) => {
                    let Some(Value::Array(items)) = obj.remove(&k) else {
                        unreachable!()
                    };
                    for (name, value) in obj {
                        if let Value::Array(side) = value
                            && side.first().is_some_and(|r| r.get(RELATED_KEY).is_some())
                        {
                            related.extend(objects(side, &format!("`{name}`"))?);
                        }
                    }
                    (objects(items, &format!("`{k}`"))?, "wrapped list")
                }
                // `{"ticket": {...}}`, as a single-record API call returns it.
                None if obj.len() == 1 && obj.values().all(Value::is_object) => {
                    let Some(Value::Object(record)) = obj.into_values().next() else {
                        unreachable!()
                    };
                    (vec![record], "wrapped object")
                }
                None if looks_like_ndjson(text) => (ndjson(text)?, "NDJSON"),
                None => (vec![obj], "single object"),
            }
        }
        Ok(_) => return Err("JSON, but neither a list of records nor an object".to_string()),
        Err(_) if looks_like_ndjson(text) => (ndjson(text)?, "NDJSON"),
        Err(e) => return Err(format!("not valid JSON: {e}")),
    };
    Ok((records, shape, related))
}

/// Merges related records into their tickets (matched on `id` = `ticket_id`); says how many
/// joined and how many found no ticket.
fn join_related(records: &mut [Map<String, Value>], related: Vec<Map<String, Value>>) -> String {
    let key = |v: &Value| cell(v).unwrap_or_default();
    let mut by_ticket: std::collections::HashMap<String, Map<String, Value>> =
        std::collections::HashMap::with_capacity(related.len());
    let total = related.len();
    for r in related {
        if let Some(id) = r.get(RELATED_KEY).map(key) {
            by_ticket.entry(id).or_insert(r);
        }
    }
    let mut joined = 0usize;
    for record in records.iter_mut() {
        let Some(id) = record.get("id").map(key) else {
            continue;
        };
        if let Some(extra) = by_ticket.remove(&id) {
            joined += 1;
            record.insert(RELATED_PREFIX.to_string(), Value::Object(extra));
        }
    }
    let orphans = total - joined;
    if orphans == 0 {
        format!("{joined} related records joined on {RELATED_KEY}")
    } else {
        format!("{joined} related records joined on {RELATED_KEY}, {orphans} without a ticket")
    }
}

/// Records from files that only describe tickets (a Zendesk `ticket_metrics` export), to join
/// into a source's tickets.
pub fn related_records(path: &Path, shown: &str) -> Result<Vec<Map<String, Value>>, IngestError> {
    let fail = |message: String| IngestError::Unreadable {
        file: shown.to_string(),
        message,
    };
    let on_disk = map_file(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let (text, start, _) = decode(gunzip(&on_disk).map_err(fail)?, None).map_err(fail)?;
    let (mut records, _, side) = json_records(&text.as_slice()[start..]).map_err(fail)?;
    records.extend(side);
    if let Some(i) = records.iter().position(|r| r.get(RELATED_KEY).is_none()) {
        return Err(fail(format!(
            "record {} has no `{RELATED_KEY}`: related records name the ticket they describe",
            i + 1
        )));
    }
    Ok(records)
}

impl ExportFile {
    /// Joins related records (read by [`related_records`]) into a JSON export's tickets.
    pub fn join_related(&mut self, related: Vec<Map<String, Value>>) -> Result<(), String> {
        let Content::Json { records, shape, .. } = &mut self.content else {
            return Err("related records join JSON exports only; this export is CSV".to_string());
        };
        let mut taken = std::mem::take(records);
        let joined = join_related(&mut taken, related);
        let shape = format!("{shape}, {joined}");
        // Flattening is idempotent: the joined object becomes `metrics.<field>` keys.
        self.content = json_with_header(taken, shape)?;
        Ok(())
    }
}

fn json_with_header(records: Vec<Map<String, Value>>, shape: String) -> Result<Content, String> {
    let mut names: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let flat: Vec<Map<String, Value>> = records.into_iter().map(flatten).collect();
    for r in &flat {
        for k in r.keys() {
            if seen.insert(k.clone()) {
                names.push(k.clone());
            }
        }
    }
    if names.is_empty() {
        return Err("JSON without any record fields".to_string());
    }
    Ok(Content::Json {
        records: flat,
        header: HeaderIndex::new(names),
        shape: shape.to_string(),
    })
}

fn looks_like_ndjson(text: &[u8]) -> bool {
    text.split(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .take(2)
        .count()
        > 1
}

fn ndjson(text: &[u8]) -> Result<Vec<Map<String, Value>>, String> {
    let mut out = Vec::new();
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.trim_ascii().is_empty() {
            continue;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(o)) => out.push(o),
            Ok(_) => return Err(format!("NDJSON line {} is not an object", i + 1)),
            Err(e) => return Err(format!("NDJSON line {} is not valid JSON: {e}", i + 1)),
        }
    }
    Ok(out)
}

fn objects(items: Vec<Value>, what: &str) -> Result<Vec<Map<String, Value>>, String> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(o) => Ok(o),
            other => Err(format!(
                "record {} of {what} is not an object but {}",
                i + 1,
                kind_of(&other)
            )),
        })
        .collect()
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Nested objects become dotted keys (`stats.resolved_at`); a ServiceNow field in the
/// `{"display_value", "value"}` form keeps its raw value, and a reference its display value.
fn flatten(record: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in record {
        flatten_into(&mut out, k, v);
    }
    out
}

fn flatten_into(out: &mut Map<String, Value>, key: String, value: Value) {
    match value {
        Value::Object(mut o) => {
            if o.contains_key("display_value") && o.contains_key("link") {
                out.insert(key, o.remove("display_value").unwrap_or(Value::Null));
            } else if o.contains_key("value")
                && (o.contains_key("display_value") || o.contains_key("link"))
            {
                out.insert(key, o.remove("value").unwrap_or(Value::Null));
            } else {
                for (k, v) in o {
                    flatten_into(out, format!("{key}.{k}"), v);
                }
            }
        }
        other => {
            out.insert(key, other);
        }
    }
}

fn cell(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
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
        Content::Json { records, .. } => return read_json(export, records, &wanted, nulls),
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
        let parsed = read_csv_text(text, separator, width, wanted, nulls);
        (
            counted.join().expect("counting fields does not panic"),
            parsed,
        )
    });
    let counted = counted?;
    let frame = parsed.map_err(|e| format!("cannot parse it as CSV: {e}"))?;
    // Rows after the header, blank lines included.
    let lines = counted.lines.saturating_sub(1);
    if frame.height() as u64 != lines {
        return Err(format!(
            "the CSV reader found {} rows where a strict count finds {lines}; the file's quoting is inconsistent",
            frame.height(),
        ));
    }
    let numbers: Vec<u64> = (2..lines + 2).collect();
    let mut columns = vec![Column::new(ROW_COLUMN.into(), numbers)];
    if !wanted.is_empty() {
        columns.extend(frame.into_columns());
    }
    let mut frame = DataFrame::new(lines as usize, columns).map_err(|e| e.to_string())?;
    if !counted.blank.is_empty() {
        let blank = Series::new("blank".into(), counted.blank);
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
    Ok(RawFrame {
        frame,
        malformed: counted.malformed,
        rows: counted.rows,
    })
}

/// The wanted columns of every row after the header, through Polars' public CSV reader: every
/// value a string, the null markers null, short rows padded with nulls and long ones cut.
fn read_csv_text(
    text: &[u8],
    separator: u8,
    width: usize,
    wanted: &[usize],
    nulls: &[String],
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
        .with_has_header(true)
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
    records: &[Map<String, Value>],
    wanted: &[usize],
    nulls: &[String],
) -> Result<RawFrame, IngestError> {
    let header = export.header();
    let mut columns: Vec<Column> = Vec::with_capacity(wanted.len() + 1);
    let rows: Vec<u64> = (1..=records.len() as u64).collect();
    columns.push(Column::new(ROW_COLUMN.into(), rows));
    for &i in wanted {
        let key = &header.names()[i];
        let values: Vec<Option<String>> = records
            .iter()
            .map(|r| {
                r.get(key)
                    .and_then(cell)
                    .filter(|v| !nulls.iter().any(|n| n == v))
            })
            .collect();
        columns.push(Column::new(column_name(i).into(), values));
    }
    let frame =
        DataFrame::new_infer_height(columns).map_err(|e| IngestError::Internal(e.to_string()))?;
    Ok(RawFrame {
        frame,
        malformed: Vec::new(),
        rows: records.len() as u64,
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

    #[test]
    fn encodings_come_from_the_bom_the_declaration_or_are_said_to_be_assumed() {
        let owned = |b: &[u8]| Bytes::Owned(Arc::new(b.to_vec()));
        let text = |bytes: &[u8], declared| {
            let (text, start, encoding) = decode(owned(bytes), declared).unwrap();
            let text = std::str::from_utf8(&text.as_slice()[start..])
                .unwrap()
                .to_string();
            (text, encoding)
        };
        assert_eq!(
            text(b"caf\xe9 \x96 ok", None),
            ("café – ok".to_string(), ASSUMED_WINDOWS_1252)
        );
        // not UTF-8 only far into the file: the whole file is read, not a sample
        let mut late = vec![b'a'; 3 << 20];
        late.push(0xe9);
        assert_eq!(text(&late, None).1, ASSUMED_WINDOWS_1252);
        assert_eq!(
            text(b"\xef\xbb\xbfID;Title", None),
            ("ID;Title".to_string(), "UTF-8")
        );
        assert_eq!(
            text(b"\xff\xfeI\0D\0", Some(encoding_rs::WINDOWS_1252)),
            ("ID".to_string(), "UTF-16LE")
        );
        assert_eq!(
            text(b"\xfe\xff\0I\0D", None),
            ("ID".to_string(), "UTF-16BE")
        );
        assert_eq!(
            text(b"caf\xe9", Some(encoding_rs::WINDOWS_1252)),
            ("café".to_string(), "windows-1252")
        );
        assert_eq!(
            text(b"\x83\x65\x83\x58\x83\x67", Some(encoding_rs::SHIFT_JIS)),
            ("テスト".to_string(), "Shift_JIS")
        );
        assert_eq!(text(b"caf\xc3\xa9", None), ("café".to_string(), "UTF-8"));
        let Err(wrong) = decode(owned(b"id\n1\ncaf\xe9\n"), Some(encoding_rs::UTF_8)) else {
            panic!("a file that is not what it declares is an error");
        };
        assert!(wrong.contains("line 3"), "{wrong}");
    }

    #[test]
    fn json_shapes() {
        let wrapped = br#"{"result": [{"number": "INC1", "priority": {"display_value": "1 - Critical", "value": "1"},
            "assignment_group": {"display_value": "Network", "link": "https://x", "value": "abc"}}]}"#;
        let Content::Json {
            records,
            header,
            shape,
        } = json_content(wrapped).unwrap()
        else {
            panic!()
        };
        assert_eq!(shape, "wrapped list");
        assert_eq!(records[0]["priority"], Value::String("1".into()));
        assert_eq!(
            records[0]["assignment_group"],
            Value::String("Network".into())
        );
        assert_eq!(header.names(), &["number", "priority", "assignment_group"]);

        let nd = b"{\"id\": 1, \"stats\": {\"resolved_at\": null}}\n{\"id\": 2}\n";
        let Content::Json {
            records,
            header,
            shape,
        } = json_content(nd).unwrap()
        else {
            panic!()
        };
        assert_eq!(shape, "NDJSON");
        assert_eq!(records.len(), 2);
        assert_eq!(header.names(), &["id", "stats.resolved_at"]);

        let single = br#"{"ticket": {"id": 266, "stats": {"resolved_at": null}}}"#;
        let Content::Json { header, shape, .. } = json_content(single).unwrap() else {
            panic!()
        };
        assert_eq!(shape, "wrapped object");
        assert_eq!(header.names(), &["id", "stats.resolved_at"]);

        assert!(json_content(b"[1, 2]").err().unwrap().contains("record 1"));
        assert!(json_content(b"{\"result\": [").is_err());
    }
}
