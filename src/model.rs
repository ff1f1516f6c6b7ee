//! The canonical model: the one place that names the columns every source is normalised into,
//! the status classes and the kinds. Nothing downstream of ingest reads a vendor column name.

use std::fmt;
use std::str::FromStr;

/// Canonical `tickets` columns that hold free or categorical text.
pub const TEXT_FIELDS: &[&str] = &[
    "kind",
    "title",
    "priority",
    "status",
    "raw_status",
    "service",
    "ci",
    "category",
    "assignment_group",
    "assignee",
    "requester",
    "channel",
    "csat",
    "problem_id",
    "caused_by_change",
    "change_outcome",
    "change_type",
    // the help desk's own time brackets (Zendesk Explore's `0-1 hrs`), kept to reconcile
    "reported_first_response_bracket",
    "reported_resolve_bracket",
];

/// Canonical timestamp columns (stored as UTC microseconds).
pub const TIMESTAMP_FIELDS: &[&str] = &[
    "created_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    // the last update the export knows of: which of two versions of a ticket is the later
    "updated_at",
];

/// Canonical whole-number columns.
pub const COUNT_FIELDS: &[&str] = &["reopen_count", "reassignment_count"];

/// The help desk's own computed durations, in minutes, kept to reconcile deskpulse's figures
/// with the help desk's. One stands in for an instant only where the export has no column for
/// it: Zendesk's reply time gives `first_response_at`, ServiceNow's `calendar_duration` (opened
/// to closed) gives `closed_at` (see `first_response_business_minutes` in docs/kpis.md and
/// docs/sources.md).
pub const REPORTED_FIELDS: &[&str] = &[
    "reported_resolve_minutes",
    "reported_resolve_business_minutes",
    "reported_first_response_minutes",
    "reported_first_response_business_minutes",
    "reported_close_minutes",
];

/// Canonical columns that hold a duration read in a unit (`[units]` of a profile): minutes.
pub fn is_duration_field(name: &str) -> bool {
    name == "labor_minutes" || REPORTED_FIELDS.contains(&name)
}

/// The help desk's own SLA verdicts, true when met: of the resolution, and of the first
/// response. Kept beside deskpulse's to reconcile; `source_sla_met` also has a KPI of its own.
pub const VERDICT_FIELDS: &[&str] = &["source_sla_met", "source_response_sla_met"];

/// Canonical fields a profile or a source may map a source column to.
pub fn is_canonical_field(name: &str) -> bool {
    name == "id"
        || VERDICT_FIELDS.contains(&name)
        || is_duration_field(name)
        || TEXT_FIELDS.contains(&name)
        || TIMESTAMP_FIELDS.contains(&name)
        || COUNT_FIELDS.contains(&name)
}

/// All mappable canonical fields, for error messages.
pub fn canonical_fields() -> Vec<&'static str> {
    let mut all = vec!["id"];
    all.extend_from_slice(TEXT_FIELDS);
    all.extend_from_slice(TIMESTAMP_FIELDS);
    all.extend_from_slice(COUNT_FIELDS);
    all.push("labor_minutes");
    all.extend_from_slice(VERDICT_FIELDS);
    all.extend_from_slice(REPORTED_FIELDS);
    all
}

/// Fields whose values pass through a value map (`[values.<field>]`) and must land in a closed set.
pub const MAPPED_FIELDS: &[&str] = &[
    "priority",
    "status",
    "kind",
    "csat",
    "change_outcome",
    "change_type",
    "source_sla_met",
    "source_response_sla_met",
];

/// Why a value of a mapped field is set aside: its profile's map does not know it.
pub fn unknown_value_problem(field: &str) -> String {
    format!(
        "unknown {} value: not in the profile's [values.{field}] map",
        field.replace('_', " ")
    )
}

/// The canonical values a mapped field may take.
pub fn allowed_values(field: &str) -> Option<&'static [&'static str]> {
    Some(match field {
        "priority" => &["P1", "P2", "P3", "P4", "P5"],
        "status" => StatusClass::NAMES,
        "kind" => Kind::NAMES,
        "csat" => &["satisfied", "dissatisfied", "offered"],
        "change_outcome" => &[
            "successful",
            "successful_with_issues",
            "unsuccessful",
            "cancelled",
        ],
        "change_type" => &["standard", "normal", "emergency"],
        "source_sla_met" | "source_response_sla_met" => &["true", "false"],
        _ => return None,
    })
}

/// What a value means when no value map names it, for fields whose encodings are the same in
/// every help desk: `Some(Some(canonical))`, `Some(None)` for a value that means "nothing" (a
/// survey never offered), `None` when unknown. CSAT scores on 1-5 map by top-two box (4-5
/// satisfied, 1-3 dissatisfied); `good`/`bad` as named.
pub fn default_value(field: &str, raw: &str) -> Option<Option<&'static str>> {
    let v = raw.trim().to_ascii_lowercase();
    match field {
        "csat" => match v.as_str() {
            "4" | "5" | "good" | "satisfied" => Some(Some("satisfied")),
            "1" | "2" | "3" | "bad" | "dissatisfied" => Some(Some("dissatisfied")),
            "offered" => Some(Some("offered")),
            "unoffered" | "not offered" | "-" => Some(None),
            _ => None,
        },
        "source_sla_met" | "source_response_sla_met" => match v.as_str() {
            "true" | "yes" | "1" => Some(Some("true")),
            "false" | "no" | "0" => Some(Some("false")),
            _ => None,
        },
        _ => None,
    }
}

/// Status classes every raw status maps into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StatusClass {
    New,
    Active,
    WaitCustomer,
    WaitThirdParty,
    HoldInternal,
    Resolved,
    Closed,
    Cancelled,
}

impl StatusClass {
    pub const NAMES: &'static [&'static str] = &[
        "new",
        "active",
        "wait_customer",
        "wait_third_party",
        "hold_internal",
        "resolved",
        "closed",
        "cancelled",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusClass::New => "new",
            StatusClass::Active => "active",
            StatusClass::WaitCustomer => "wait_customer",
            StatusClass::WaitThirdParty => "wait_third_party",
            StatusClass::HoldInternal => "hold_internal",
            StatusClass::Resolved => "resolved",
            StatusClass::Closed => "closed",
            StatusClass::Cancelled => "cancelled",
        }
    }
}

impl FromStr for StatusClass {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "new" => StatusClass::New,
            "active" => StatusClass::Active,
            "wait_customer" => StatusClass::WaitCustomer,
            "wait_third_party" => StatusClass::WaitThirdParty,
            "hold_internal" => StatusClass::HoldInternal,
            "resolved" => StatusClass::Resolved,
            "closed" => StatusClass::Closed,
            "cancelled" => StatusClass::Cancelled,
            other => {
                return Err(format!(
                    "unknown status class `{other}` (expected one of {})",
                    StatusClass::NAMES.join(", ")
                ));
            }
        })
    }
}

impl fmt::Display for StatusClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ticket kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Incident,
    Request,
    Problem,
    Change,
}

impl Kind {
    pub const NAMES: &'static [&'static str] = &["incident", "request", "problem", "change"];
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "incident" => Kind::Incident,
            "request" => Kind::Request,
            "problem" => Kind::Problem,
            "change" => Kind::Change,
            other => {
                return Err(format!(
                    "unknown kind `{other}` (expected one of {})",
                    Kind::NAMES.join(", ")
                ));
            }
        })
    }
}

/// The dimensions every KPI is broken down by, besides `all`: the contract's four, then
/// `category`, which "What changed" splits a move by (docs/kpis.md, "Breakdowns").
pub const DIMENSIONS: &[&str] = &[
    "priority",
    "kind",
    "service",
    "assignment_group",
    "category",
];

/// The keys of `backlog_age_days`'s `age_bucket` dimension, youngest first: whole days of age.
/// Its rows are counts of open tickets, not ages.
pub const AGE_BUCKETS: [&str; 5] = ["0-1", "2-5", "6-30", "31-90", ">90"];

/// The key a null dimension value is reported under.
pub const NONE_KEY: &str = "(none)";

/// Column order of the `tickets` table handed to the engine.
pub fn ticket_columns() -> Vec<(&'static str, ColumnType)> {
    let mut cols = vec![("source", ColumnType::Text), ("id", ColumnType::Text)];
    cols.extend(TEXT_FIELDS.iter().map(|f| {
        let t = match allowed_values(f) {
            Some(values) if MAPPED_FIELDS.contains(f) => ColumnType::Choice(values),
            _ => ColumnType::Text,
        };
        (*f, t)
    }));
    cols.extend(TIMESTAMP_FIELDS.iter().map(|f| (*f, ColumnType::Timestamp)));
    cols.extend(COUNT_FIELDS.iter().map(|f| (*f, ColumnType::Count)));
    cols.push(("labor_minutes", ColumnType::Float));
    cols.extend(VERDICT_FIELDS.iter().map(|f| (*f, ColumnType::Bool)));
    cols.extend(REPORTED_FIELDS.iter().map(|f| (*f, ColumnType::Float)));
    cols.push(("source_file", ColumnType::Text));
    cols.push(("source_row", ColumnType::Row));
    cols
}

/// Column order of the `status_changes` table.
pub fn status_change_columns() -> Vec<(&'static str, ColumnType)> {
    vec![
        ("source", ColumnType::Text),
        ("id", ColumnType::Text),
        ("seq", ColumnType::Row),
        ("at", ColumnType::Timestamp),
        ("raw_status", ColumnType::Text),
        ("status", ColumnType::Text),
    ]
}

/// Column order of the `ingest_issues` table.
pub fn issue_columns() -> Vec<(&'static str, ColumnType)> {
    vec![
        ("source_file", ColumnType::Text),
        ("source_row", ColumnType::Row),
        ("column", ColumnType::Text),
        ("value", ColumnType::Text),
        ("problem", ColumnType::Text),
        ("action", ColumnType::Text),
    ]
}

/// Physical types of canonical columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Timestamp,
    Count,
    Float,
    Bool,
    Row,
    /// Signed whole numbers (durations in microseconds).
    Int,
    /// Small codes (an SLA's state).
    Code,
    /// Text that takes one of a fixed set of canonical values (priority, status, kind, ...):
    /// an ENUM in DuckDB, where comparing and grouping are comparisons of small integers.
    /// It reads as text everywhere: it compares with any string and casts to VARCHAR.
    Choice(&'static [&'static str]),
}

impl ColumnType {
    /// The DuckDB type of the column once handed over.
    pub fn sql_type(self) -> String {
        match self {
            ColumnType::Text => "VARCHAR".to_string(),
            ColumnType::Timestamp => "TIMESTAMPTZ".to_string(),
            ColumnType::Count => "UINTEGER".to_string(),
            ColumnType::Float => "DOUBLE".to_string(),
            ColumnType::Bool => "BOOLEAN".to_string(),
            ColumnType::Row => "UBIGINT".to_string(),
            ColumnType::Int => "BIGINT".to_string(),
            ColumnType::Code => "UINTEGER".to_string(),
            ColumnType::Choice(values) => {
                let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
                format!("ENUM({})", quoted.join(", "))
            }
        }
    }
}

/// Rows of an ingest issue say what happened to the value or the row.
pub const ACTION_ROW_REJECTED: &str = "row_rejected";
pub const ACTION_VALUE_NULLED: &str = "value_nulled";
/// A row of a ticket that another file of the same source holds in a later version.
pub const ACTION_ROW_REPLACED: &str = "row_replaced";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for name in StatusClass::NAMES {
            assert_eq!(name.parse::<StatusClass>().unwrap().as_str(), *name);
        }
        assert!("waiting".parse::<StatusClass>().is_err());
    }

    #[test]
    fn every_mapped_field_is_canonical() {
        for f in MAPPED_FIELDS {
            assert!(is_canonical_field(f), "{f}");
            assert!(allowed_values(f).is_some(), "{f}");
        }
    }
}
