//! JSON exports: the shapes help-desk APIs write (arrays, wrapped lists, single records, NDJSON),
//! nested objects flattened to dotted names, and related records (Zendesk's ticket metrics)
//! joined into their tickets.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::IngestError;
use super::bytes::read_text;
use super::field_count::MalformedRow;
use super::json_stream::{self, ObjectDocument};

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

/// The records of a JSON export as columns, and the shape the file had.
pub struct JsonTable {
    pub columns: JsonColumns,
    /// Each record's row: its line in NDJSON, else its position in the list (from 1).
    pub rows: Vec<u64>,
    /// NDJSON lines that are no JSON object, each rejected with its line number.
    pub malformed: Vec<MalformedRow>,
    pub shape: String,
}

/// Records as columns: each field's text (as [`cell`] gives it) in record order, none where a
/// record has the field null or lacks it. Nested objects are flattened to dotted names (see
/// [`flatten`]); fields are named in order of first appearance. A column of text takes a
/// third of the memory of the records as maps of JSON values (each field's name, value and
/// hash in every record): a million tickets took 4.3 GiB that way.
#[derive(Default)]
pub struct JsonColumns {
    names: Vec<String>,
    index: HashMap<String, usize>,
    /// Each column's values, as far as its last value: the rows after it have none.
    values: Vec<Vec<Option<Box<str>>>>,
    records: usize,
}

impl JsonColumns {
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn records(&self) -> usize {
        self.records
    }

    /// A field's value in each record, none where the record has none or the field is unknown.
    pub fn values(&self, name: &str) -> impl Iterator<Item = Option<&str>> {
        let column = self
            .index
            .get(name)
            .map_or(&[][..], |&i| &self.values[i][..]);
        let missing = self.records - column.len();
        column
            .iter()
            .map(|v| v.as_deref())
            .chain(std::iter::repeat_n(None, missing))
    }

    /// The records as maps of their fields' text, as a list of related records is joined.
    fn into_maps(self) -> Vec<Map<String, Value>> {
        (0..self.records)
            .map(|row| {
                let fields = self.names.iter().zip(&self.values);
                fields
                    .filter_map(|(name, column)| {
                        let value = column.get(row)?.as_deref()?;
                        Some((name.clone(), Value::String(value.to_string())))
                    })
                    .collect()
            })
            .collect()
    }

    /// Adds a record (flattened here) after the others.
    pub(super) fn push(&mut self, record: Map<String, Value>) {
        let row = self.records;
        self.records += 1;
        for (name, value) in flatten(record) {
            self.set(row, name, &value);
        }
    }

    fn set(&mut self, row: usize, name: String, value: &Value) {
        let i = match self.index.get(&name) {
            Some(&i) => i,
            None => {
                self.index.insert(name.clone(), self.names.len());
                self.names.push(name);
                self.values.push(Vec::new());
                self.names.len() - 1
            }
        };
        let column = &mut self.values[i];
        if column.len() <= row {
            column.resize(row + 1, None);
        }
        column[row] = cell(value).map(Box::from);
    }

    /// Merges related records into the records (matched on `id` = `ticket_id`), their fields
    /// under `metrics.`; says how many joined and how many found no record.
    fn join(&mut self, related: Vec<Map<String, Value>>) -> String {
        let total = related.len();
        let mut by_ticket = related_by_ticket(related);
        let ids: Vec<Option<String>> = self.values("id").map(|v| v.map(String::from)).collect();
        let mut joined = 0usize;
        for (row, id) in ids.into_iter().enumerate() {
            let Some(extra) = id.and_then(|id| by_ticket.remove(&id)) else {
                continue;
            };
            joined += 1;
            let wrapped = Map::from_iter([(RELATED_PREFIX.to_string(), Value::Object(extra))]);
            for (name, value) in flatten(wrapped) {
                self.set(row, name, &value);
            }
        }
        joined_message(joined, total)
    }
}

/// Reads a JSON export: an array, a wrapped list, a single wrapped record or NDJSON, with any
/// related records side-loaded beside them joined in.
///
/// A list, whole or wrapped, is read a record at a time into columns (see [`json_stream`]); a
/// document that is no valid JSON is then read again as NDJSON, a line at a time.
pub fn parse(text: &[u8]) -> Result<JsonTable, String> {
    let table = read_document(text)?;
    if table.columns.names().is_empty() {
        return Err("JSON without any record fields".to_string());
    }
    Ok(table)
}

fn read_document(text: &[u8]) -> Result<JsonTable, String> {
    let (columns, shape) = match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => {
            let list =
                json_stream::list(text, RELATED_KEY).map_err(|e| format!("not valid JSON: {e}"))?;
            (list.records("the top-level array")?, "array".to_string())
        }
        _ => match json_stream::object(text, JSON_WRAPPERS, RELATED_KEY) {
            Ok(document) => object_records(document)?,
            Err(_) => return lines_or_error(text),
        },
    };
    Ok(JsonTable {
        rows: (1..=columns.records() as u64).collect(),
        columns,
        malformed: Vec::new(),
        shape,
    })
}

/// A document that is neither a list nor an object: NDJSON, else an error saying why it is
/// no export.
fn lines_or_error(text: &[u8]) -> Result<JsonTable, String> {
    match serde_json::from_slice::<Value>(text) {
        Err(_) if looks_like_ndjson(text) => Ok(ndjson(text)),
        Err(e) => Err(format!("not valid JSON: {e}")),
        Ok(_) => Err("JSON, but neither a list of records nor an object".to_string()),
    }
}

/// The records of a document that is one object: the list under the first wrapping key, or
/// under the only key that holds a list, with the related records of the other lists joined in;
/// else the one object it wraps, or the document itself.
fn object_records(document: ObjectDocument) -> Result<(JsonColumns, String), String> {
    let ObjectDocument {
        values: mut document,
        mut lists,
    } = document;
    let Some(key) = records_key(&document) else {
        let (record, shape) = match document.len() == 1 && document.values().all(Value::is_object) {
            // `{"ticket": {...}}`, as a single-record API call returns it.
            true => match document.into_values().next() {
                Some(Value::Object(record)) => (record, "wrapped object"),
                _ => unreachable!("the one value is an object"),
            },
            // a whole document that is one object is one record, however it is laid out
            false => (document, "single object"),
        };
        let mut columns = JsonColumns::default();
        columns.push(record);
        return Ok((columns, shape.to_string()));
    };
    let items = document.shift_remove(&key);
    let mut related = Vec::new();
    for (name, value) in document {
        match (lists.remove(&name), value) {
            (Some(list), _) if list.first_has_key() => {
                related.extend(list.records(&format!("`{name}`"))?.into_maps());
            }
            (None, Value::Array(side))
                if side.first().is_some_and(|r| r.get(RELATED_KEY).is_some()) =>
            {
                related.extend(objects(side, &format!("`{name}`"))?);
            }
            _ => {}
        }
    }
    let mut columns = match (lists.remove(&key), items) {
        (Some(list), _) => list.records(&format!("`{key}`"))?,
        (None, Some(Value::Array(items))) => {
            let mut columns = JsonColumns::default();
            for record in objects(items, &format!("`{key}`"))? {
                columns.push(record);
            }
            columns
        }
        _ => unreachable!("the key holds a list"),
    };
    let mut shape = "wrapped list".to_string();
    if !related.is_empty() {
        shape = format!("{shape}, {}", columns.join(related));
    }
    Ok((columns, shape))
}

/// The key whose list holds the records: the first of [`JSON_WRAPPERS`] that holds a list, else
/// the only key that does.
fn records_key(document: &Map<String, Value>) -> Option<String> {
    JSON_WRAPPERS
        .iter()
        .find(|k| matches!(document.get(**k), Some(Value::Array(_))))
        .map(|k| k.to_string())
        .or_else(|| {
            let arrays: Vec<&String> = document
                .iter()
                .filter(|(_, v)| v.is_array())
                .map(|(k, _)| k)
                .collect();
            (arrays.len() == 1).then(|| arrays[0].clone())
        })
}

/// A JSON export's records with related records (read by [`related_records`]) joined in.
pub fn join_related(mut table: JsonTable, related: Vec<Map<String, Value>>) -> JsonTable {
    let joined = table.columns.join(related);
    table.shape = format!("{}, {joined}", table.shape);
    table
}

fn key_text(v: &Value) -> String {
    cell(v).map(Cow::into_owned).unwrap_or_default()
}

/// Related records by the ticket they describe, the first of several for one ticket.
fn related_by_ticket(related: Vec<Map<String, Value>>) -> HashMap<String, Map<String, Value>> {
    let mut by_ticket = HashMap::with_capacity(related.len());
    for r in related {
        if let Some(id) = r.get(RELATED_KEY).map(key_text) {
            by_ticket.entry(id).or_insert(r);
        }
    }
    by_ticket
}

fn joined_message(joined: usize, total: usize) -> String {
    let orphans = total - joined;
    if orphans == 0 {
        format!("{joined} related records joined on {RELATED_KEY}")
    } else {
        format!("{joined} related records joined on {RELATED_KEY}, {orphans} without a ticket")
    }
}

/// Records from files that only describe tickets (a Zendesk `ticket_metrics` export), to join
/// into a source's tickets.
pub fn related_records(
    path: &Path,
    shown: &str,
    declared: Option<&'static encoding_rs::Encoding>,
) -> Result<Vec<Map<String, Value>>, IngestError> {
    let fail = |message: String| IngestError::Unreadable {
        file: shown.to_string(),
        message,
    };
    let text = read_text(path, shown, declared).map_err(fail)?;
    let read = read_document(text.body()).map_err(fail)?;
    if let Some(bad) = read.malformed.first() {
        return Err(fail(format!("line {}: {}", bad.row, bad.problem)));
    }
    let records = read.columns.into_maps();
    if let Some(i) = records.iter().position(|r| r.get(RELATED_KEY).is_none()) {
        return Err(fail(format!(
            "record {} has no `{RELATED_KEY}`: related records name the ticket they describe",
            i + 1
        )));
    }
    Ok(records)
}

/// NDJSON: more than one line, the first of them a whole JSON object. A document cut short
/// (`[{"id": 1}, {"id":`) is then invalid JSON, not NDJSON that fails on line 1.
fn looks_like_ndjson(text: &[u8]) -> bool {
    let mut lines = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty());
    let first_is_object = lines
        .next()
        .is_some_and(|l| matches!(serde_json::from_slice(l), Ok(Value::Object(_))));
    first_is_object && lines.next().is_some()
}

/// The records of NDJSON; a line that is no JSON object is a malformed row, not the end of
/// the file, since each line stands alone.
fn ndjson(text: &[u8]) -> JsonTable {
    let mut columns = JsonColumns::default();
    let mut rows = Vec::new();
    let mut malformed = Vec::new();
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.trim_ascii().is_empty() {
            continue;
        }
        let row = i as u64 + 1;
        let problem = match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(o)) => {
                columns.push(o);
                rows.push(row);
                continue;
            }
            Ok(other) => format!("the line is {}, not a JSON object", kind_of(&other)),
            Err(e) => format!("the line is not valid JSON ({e})"),
        };
        malformed.push(MalformedRow {
            row,
            problem,
            field: None,
            span: 0..0,
        });
    }
    JsonTable {
        columns,
        rows,
        malformed,
        shape: "NDJSON".to_string(),
    }
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

pub(super) fn kind_of(v: &Value) -> &'static str {
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
    if !record.values().any(Value::is_object) {
        return record;
    }
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

pub fn cell(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        other => Some(Cow::Owned(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shapes() {
        let wrapped = br#"{"result": [{"number": "INC1", "priority": {"display_value": "1 - Critical", "value": "1"},
            "assignment_group": {"display_value": "Network", "link": "https://x", "value": "abc"}}]}"#;
        let JsonTable { columns, shape, .. } = parse(wrapped).unwrap();
        assert_eq!(shape, "wrapped list");
        let first = |name| columns.values(name).next().flatten();
        assert_eq!(first("priority"), Some("1"));
        assert_eq!(first("assignment_group"), Some("Network"));
        assert_eq!(columns.names(), &["number", "priority", "assignment_group"]);

        let nd = b"{\"id\": 1, \"stats\": {\"resolved_at\": null}}\n{\"id\": 2}\n";
        let JsonTable { columns, shape, .. } = parse(nd).unwrap();
        assert_eq!(shape, "NDJSON");
        assert_eq!(columns.records(), 2);
        assert_eq!(columns.names(), &["id", "stats.resolved_at"]);

        let single = br#"{"ticket": {"id": 266, "stats": {"resolved_at": null}}}"#;
        let JsonTable { columns, shape, .. } = parse(single).unwrap();
        assert_eq!(shape, "wrapped object");
        assert_eq!(columns.names(), &["id", "stats.resolved_at"]);

        assert!(parse(b"[1, 2]").err().unwrap().contains("record 1"));
        assert!(parse(b"{\"result\": [").is_err());
    }

    #[test]
    fn an_array_becomes_columns_with_a_value_or_none_for_every_record() {
        let text = br#"[{"id": 1}, {"id": 2, "late": {"name": "x"}}, {"id": 3, "n": null}]"#;
        let JsonTable { columns, rows, .. } = parse(text).unwrap();
        assert_eq!(columns.names(), &["id", "late.name", "n"]);
        assert_eq!(rows, [1, 2, 3]);
        let late: Vec<Option<&str>> = columns.values("late.name").collect();
        assert_eq!(late, [None, Some("x"), None]);
        let ids: Vec<Option<&str>> = columns.values("id").collect();
        assert_eq!(ids, [Some("1"), Some("2"), Some("3")]);
        assert_eq!(columns.values("n").count(), 3);
        assert_eq!(columns.values("no such field").flatten().count(), 0);
        assert_eq!(columns.values("no such field").count(), 3);
        let err = parse(br#"[{"id": 1}, "x"]"#).err().unwrap();
        assert_eq!(
            err,
            "record 2 of the top-level array is not an object but a string"
        );
    }

    #[test]
    fn related_records_join_the_record_of_their_ticket_once() {
        let table = parse(br#"[{"id": 1}, {"id": 2}, {"id": 3}]"#).unwrap();
        let related: Vec<Map<String, Value>> = serde_json::from_str(
            r#"[{"ticket_id": 2, "reopens": 4}, {"ticket_id": 9, "reopens": 1},
                {"ticket_id": 2, "reopens": 7}]"#,
        )
        .unwrap();
        let joined = join_related(table, related);
        assert_eq!(
            joined.shape,
            "array, 1 related records joined on ticket_id, 2 without a ticket"
        );
        let reopens: Vec<Option<&str>> = joined.columns.values("metrics.reopens").collect();
        assert_eq!(reopens, [None, Some("4"), None]);
        assert_eq!(
            joined.columns.names(),
            &["id", "metrics.ticket_id", "metrics.reopens"]
        );
    }

    #[test]
    fn a_wrapped_list_is_read_with_the_related_lists_beside_it_joined() {
        let values = |table: &JsonTable, name| -> Vec<Option<String>> {
            let values = table.columns.values(name);
            values.map(|v| v.map(String::from)).collect()
        };
        let side_loaded = br#"{"tickets": [{"id": 1}, {"id": 2}], "next_page": null,
            "metric_sets": [{"ticket_id": 2, "reopens": 3}]}"#;
        let table = parse(side_loaded).unwrap();
        assert_eq!(
            table.shape,
            "wrapped list, 1 related records joined on ticket_id"
        );
        assert_eq!(values(&table, "metrics.reopens"), [None, Some("3".into())]);
        // A second wrapping key holding related records is joined too, not read as tickets.
        let two = br#"{"tickets": [{"id": 1}], "data": [{"ticket_id": 1, "reopens": 2}]}"#;
        let table = parse(two).unwrap();
        assert_eq!(values(&table, "id"), [Some("1".into())]);
        assert_eq!(values(&table, "metrics.reopens"), [Some("2".into())]);
        // Only the list of records must hold objects.
        let table = parse(br#"{"tickets": [{"id": 1}], "items": [1, 2]}"#).unwrap();
        assert_eq!(table.columns.records(), 1);
        let err = parse(br#"{"tickets": [{"id": 1}, 2]}"#).err().unwrap();
        assert_eq!(err, "record 2 of `tickets` is not an object but a number");
        let table = parse(br#"{"data": {"id": 5}}"#).unwrap();
        assert_eq!(table.shape, "wrapped object");
        assert_eq!(values(&table, "id"), [Some("5".into())]);
    }

    #[test]
    fn a_pretty_printed_record_is_one_record_and_a_cut_document_is_not_ndjson() {
        // regression: a record laid out over several lines was refused as NDJSON
        let pretty = b"{\n  \"id\": 7,\n  \"stats\": {\n    \"resolved_at\": null\n  }\n}\n";
        let JsonTable { columns, shape, .. } = parse(pretty).unwrap();
        assert_eq!((columns.records(), shape.as_str()), (1, "single object"));
        // regression: a document cut short was reported as "NDJSON line 1"
        let cut = b"[\n  {\"id\": 1},\n  {\"id\":";
        let err = parse(cut).err().unwrap();
        assert!(
            err.contains("not valid JSON") && !err.contains("NDJSON"),
            "{err}"
        );
        // an NDJSON line that is no object is a rejected row; the lines after it are read
        let read = parse(b"{\"id\": 1}\n{\"id\"\n\n[2]\n{\"id\": 5}\n").unwrap();
        assert_eq!(read.rows, [1, 5]);
        let bad: Vec<(u64, &str)> = read
            .malformed
            .iter()
            .map(|m| (m.row, m.problem.as_str()))
            .collect();
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].0, 2);
        assert!(
            bad[0].1.starts_with("the line is not valid JSON"),
            "{bad:?}"
        );
        assert_eq!(bad[1], (4, "the line is an array, not a JSON object"));
    }
}
