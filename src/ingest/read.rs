//! Reading one export file: bytes, compression, text encoding, CSV or JSON, the header, and the
//! projected columns as a Polars frame of strings. Nothing here knows a help desk.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

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
            sha256: hex(&Sha256::digest(on_disk.as_slice())),
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
pub fn open(path: &Path, shown: &str) -> Result<ExportFile, IngestError> {
    let fail = |message: String| IngestError::Unreadable {
        file: shown.to_string(),
        message,
    };
    let on_disk = map_file(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let compressed = is_gzip(&on_disk);
    let (text, start, encoding) = decode(gunzip(&on_disk).map_err(fail)?);
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

pub fn sha256_hex(bytes: &[u8]) -> String {
    sha256_hex_of_pieces(&[bytes])
}

/// The sha256 of pieces written one after the other.
pub fn sha256_hex_of_pieces(pieces: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for piece in pieces {
        hasher.update(piece);
    }
    hex(&hasher.finalize())
}

fn hex(digest: &[u8]) -> String {
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// UTF-8 (with or without BOM), UTF-16 with a BOM, and Windows-1252 for anything else, which
/// is what Excel and older help desks write. Returns the text and where it starts. Only the
/// beginning is checked here; the CSV reader checks the rest, and a file that turns out not to
/// be UTF-8 is transcoded then (see [`transcode`]).
fn decode(bytes: Bytes) -> (Bytes, usize, &'static str) {
    let b = bytes.as_slice();
    if b.starts_with(&[0xef, 0xbb, 0xbf]) {
        return (bytes, 3, "UTF-8");
    }
    if b.starts_with(&[0xff, 0xfe]) || b.starts_with(&[0xfe, 0xff]) {
        let (text, encoding, _) = encoding_rs::UTF_16LE.decode(b);
        return (
            Bytes::Owned(Arc::new(text.into_owned().into_bytes())),
            0,
            encoding.name(),
        );
    }
    let head = &b[..b.len().min(1 << 20)];
    match std::str::from_utf8(head) {
        Ok(_) => (bytes, 0, "UTF-8"),
        // A multi-byte character cut at the end of the sample is still UTF-8.
        Err(e) if e.error_len().is_none() => (bytes, 0, "UTF-8"),
        Err(_) => (transcode(b), 0, "Windows-1252"),
    }
}

/// Windows-1252 text as UTF-8.
pub fn transcode(bytes: &[u8]) -> Bytes {
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
    let (text, start, _) = decode(gunzip(&on_disk).map_err(fail)?);
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
    // Pieces small enough for every worker to have several, and to stay in cache.
    let piece_len = (body.len() / (workers() * 16)).clamp(1 << 16, 16 << 20);
    let parse = |text: &[u8]| parse_csv(text, separator, width, &wanted, nulls, piece_len);
    let parsed = match parse(body) {
        // Not UTF-8 after all: read it again as Windows-1252.
        Err(CsvError::NotUtf8) => parse(transcode(body).as_slice()),
        other => other,
    };
    parsed.map_err(|e| IngestError::Unreadable {
        file: export.shown.clone(),
        message: match e {
            CsvError::NotUtf8 => "cannot parse it as CSV: invalid utf-8 sequence".to_string(),
            CsvError::Unreadable(message) => message,
        },
    })
}

/// How many threads a task split among cores uses: one per core.
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[derive(Debug)]
enum CsvError {
    NotUtf8,
    Unreadable(String),
}

/// A piece of a CSV text holding whole records: its place among the pieces, its bytes, its
/// first row's spreadsheet row number and how many rows the CSV reader must find in it (its
/// records and its blank lines, which the reader reads as rows of nulls).
struct Piece {
    index: usize,
    range: std::ops::Range<usize>,
    first_row: u64,
    rows: u64,
}

/// The projected columns of a CSV text (header included), as strings, with each row's
/// spreadsheet row number.
///
/// This thread counts every record's fields (see [`FieldCounter`]) and, as it goes, cuts the
/// text after whole records into pieces that worker threads parse with Polars' CSV chunk reader
/// while the count goes on: the one pass finds both the malformed rows and where pieces may be
/// cut, which the CSV reader would otherwise find with a pass of its own.
fn parse_csv(
    text: &[u8],
    separator: u8,
    width: usize,
    wanted: &[usize],
    nulls: &[String],
    piece_len: usize,
) -> Result<RawFrame, CsvError> {
    use polars::io::csv::read::_csv_read_internal::read_chunk;

    let schema =
        Schema::from_iter((0..width).map(|i| Field::new(column_name(i).into(), DataType::String)));
    let null_values =
        NullValues::AllColumns(nulls.iter().map(|n| PlSmallStr::from(n.as_str())).collect())
            .compile(&schema)
            .map_err(|e| CsvError::Unreadable(e.to_string()))?;
    let options = CsvParseOptions::default()
        .with_separator(separator)
        .with_quote_char(Some(b'"'))
        .with_truncate_ragged_lines(true)
        .with_missing_is_null(true);

    // The chunk reader reads at least one column; with none wanted it reads the first, which
    // is then left out, so that rows are still counted.
    let projection: &[usize] = if wanted.is_empty() { &[0] } else { wanted };
    let parse = |piece: &Piece| -> Result<DataFrame, CsvError> {
        let bytes = &text[piece.range.clone()];
        if std::str::from_utf8(bytes).is_err() {
            return Err(CsvError::NotUtf8);
        }
        let frame = read_chunk(
            bytes,
            &options,
            &schema,
            false,
            projection,
            0,
            piece.rows as usize,
            Some(&null_values),
            usize::MAX,
            bytes.len(),
            Some(piece.range.start),
        )
        .map_err(|e| CsvError::Unreadable(format!("cannot parse it as CSV: {e}")))?;
        if frame.height() as u64 != piece.rows {
            return Err(CsvError::Unreadable(format!(
                "the CSV reader found {} rows from row {} where a strict count finds {}; the file's quoting is inconsistent",
                frame.height(),
                piece.first_row,
                piece.rows
            )));
        }
        let numbers: Vec<u64> = (piece.first_row..piece.first_row + piece.rows).collect();
        let mut columns = vec![Column::new(ROW_COLUMN.into(), numbers)];
        if !wanted.is_empty() {
            columns.extend(frame.into_columns());
        }
        DataFrame::new(piece.rows as usize, columns)
            .map_err(|e| CsvError::Unreadable(e.to_string()))
    };

    let (sender, receiver) = std::sync::mpsc::channel::<Piece>();
    let receiver = std::sync::Mutex::new(receiver);
    let parsed = std::sync::Mutex::new(Vec::new());
    let counted = std::thread::scope(|scope| {
        for _ in 0..workers() {
            scope.spawn(|| {
                loop {
                    let next = receiver.lock().expect("no worker panics").recv();
                    let Ok(piece) = next else { break };
                    let frame = parse(&piece);
                    parsed
                        .lock()
                        .expect("no worker panics")
                        .push((piece.index, frame));
                }
            });
        }
        let mut counter = FieldCounter::new(separator, width);
        // where the next piece starts, once the header is read, and the row before it
        let (mut fed, mut from, mut index) = (0, None, 0);
        let mut send = |from: usize, to: usize, first_row: u64, rows: u64| {
            if rows > 0 {
                let piece = Piece {
                    index,
                    range: from..to,
                    first_row,
                    rows,
                };
                index += 1;
                sender.send(piece).expect("the workers wait for pieces");
            }
        };
        while fed < text.len() {
            let next = (fed + piece_len).min(text.len());
            counter.feed(&text[fed..next]);
            fed = next;
            from = from.or(counter.body_start());
            if let (Some((start, before)), true) = (from, fed < text.len()) {
                let to = counter.record_end().max(start);
                send(start, to, before + 1, counter.lines() - before);
                from = Some((to, counter.lines()));
            }
        }
        let counted = counter.finish();
        if let (Ok(c), Some((start, before))) = (&counted, from) {
            send(start, text.len(), before + 1, c.lines - before);
        }
        drop(sender);
        counted
    });
    let counted = counted.map_err(CsvError::Unreadable)?;
    let mut pieces = parsed.into_inner().expect("no worker panics");
    pieces.sort_by_key(|(index, _)| *index);
    let mut frame: Option<DataFrame> = None;
    for (_, piece) in pieces {
        let piece = piece?;
        match &mut frame {
            None => frame = Some(piece),
            Some(f) => {
                f.vstack_mut_owned(piece)
                    .map_err(|e| CsvError::Unreadable(e.to_string()))?;
            }
        }
    }
    let mut frame = match frame {
        Some(f) => f,
        None => {
            let mut columns = vec![Column::new_empty(ROW_COLUMN.into(), &DataType::UInt64)];
            columns.extend(
                wanted
                    .iter()
                    .map(|i| Column::new_empty(column_name(*i).into(), &DataType::String)),
            );
            DataFrame::new(0, columns).map_err(|e| CsvError::Unreadable(e.to_string()))?
        }
    };
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
            .map_err(|e| CsvError::Unreadable(e.to_string()))?;
    }
    frame.rechunk_mut_par();
    Ok(RawFrame {
        frame,
        malformed: counted.malformed,
        rows: counted.rows,
    })
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
    fn pieces_of_any_length_read_the_same_rows() {
        let text = b"id,title,state\r\n\r\n1,\"two\r\nlines, and a comma\",New\r\n2,short\r\n\
                     3,\"a \"\"quoted\"\" word\",Closed,extra\r\n\r\n4,?,Closed\r\n5,last,New";
        let nulls = vec!["?".to_string()];
        let whole = parse_csv(text, b',', 3, &[0, 1, 2], &nulls, usize::MAX).unwrap();
        assert_eq!(whole.rows, 5);
        // rows as a spreadsheet numbers them: the header is 1, the blank lines 2 and 6
        let malformed: Vec<u64> = whole.malformed.iter().map(|m| m.row).collect();
        assert_eq!(malformed, vec![4, 5]);
        let expected = rows_of(&whole);
        let numbers: Vec<Option<&str>> = expected.iter().map(|r| r[0].as_deref()).collect();
        assert_eq!(
            numbers,
            [Some("3"), Some("4"), Some("5"), Some("7"), Some("8")]
        );
        assert_eq!(expected[0][2].as_deref(), Some("two\r\nlines, and a comma"));
        assert_eq!(expected[3][2], None);
        for piece_len in [1, 2, 5, 17, 40, 64, 100] {
            let pieces = parse_csv(text, b',', 3, &[0, 1, 2], &nulls, piece_len).unwrap();
            assert_eq!(rows_of(&pieces), expected, "pieces of {piece_len} bytes");
            assert_eq!(pieces.rows, 5);
            let rows: Vec<u64> = pieces.malformed.iter().map(|m| m.row).collect();
            assert_eq!(rows, malformed);
        }
    }

    #[test]
    fn rows_are_counted_with_no_column_wanted() {
        let read = parse_csv(b"id,title\n1,a\n\n2,b\n", b',', 2, &[], &[], 4).unwrap();
        assert_eq!(read.rows, 2);
        assert_eq!(read.frame.width(), 1);
        assert_eq!(
            rows_of(&read),
            [[Some("2".to_string())], [Some("4".to_string())]]
        );
    }

    #[test]
    fn text_that_is_not_utf8_late_in_the_file_is_told_apart() {
        let mut text = b"id,title\n".to_vec();
        for i in 0..200 {
            text.extend_from_slice(format!("{i},plain\n").as_bytes());
        }
        text.extend_from_slice(b"201,caf\xe9\n");
        let read = parse_csv(&text, b',', 2, &[0, 1], &[], 64);
        assert!(matches!(read, Err(CsvError::NotUtf8)), "{:?}", read.err());
        let read = parse_csv(transcode(&text).as_slice(), b',', 2, &[0, 1], &[], 64).unwrap();
        assert_eq!(read.rows, 201);
        assert_eq!(rows_of(&read)[200][2].as_deref(), Some("café"));
    }

    #[test]
    fn sniffs_separators() {
        assert_eq!(sniff_separator(b"a,b,c\n1,2,3"), b',');
        assert_eq!(sniff_separator(b"ID;Title;\"a,b\";Status\n"), b';');
        assert_eq!(sniff_separator(b"a\tb\tc\n"), b'\t');
        assert_eq!(sniff_separator(b"single\n"), b',');
    }

    #[test]
    fn decodes_windows_1252_and_bom() {
        let owned = |b: &[u8]| Bytes::Owned(Arc::new(b.to_vec()));
        let (text, start, enc) = decode(owned(b"caf\xe9 \x96 ok"));
        assert_eq!(enc, "Windows-1252");
        assert_eq!(
            std::str::from_utf8(&text.as_slice()[start..]).unwrap(),
            "café – ok"
        );
        let (text, start, enc) = decode(owned(b"\xef\xbb\xbfID;Title"));
        assert_eq!(enc, "UTF-8");
        assert_eq!(&text.as_slice()[start..], b"ID;Title");
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
