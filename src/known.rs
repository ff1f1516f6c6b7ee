//! The tickets as known at `as_of`: a first response, resolution or close after it has not
//! happened yet and reads as null in the `tickets` table DuckDB holds.
//!
//! The ledger query would say the same with `CASE WHEN resolved_at <= $as_of ...`, but a KPI's
//! filter on such an expression is evaluated on every ticket, where a filter on a plain column
//! is applied by DuckDB's scan itself: the columns a family reads besides are then fetched only
//! for the tickets in its cohort.

use chrono::{DateTime, Utc};
use polars::prelude::*;

use crate::model::ColumnType;

/// The instants that are events after creation: null in `tickets` when after `as_of`.
pub const EVENTS: [&str; 3] = ["first_response_at", "resolved_at", "closed_at"];

/// Facts the ledger takes from the export as it was, before the later events are taken out.
pub fn columns() -> Vec<(&'static str, ColumnType)> {
    // resolved or closed in the help desk, and exported without a resolution time (the second:
    // nor a close time, so when it stopped being open is unknown): a resolution after as_of
    // does not make a ticket one of these
    vec![
        ("resolved_without_timestamp", ColumnType::Bool),
        ("end_unknown", ColumnType::Bool),
    ]
}

/// The tickets with [`columns`] added and the [`EVENTS`] after `as_of` null.
pub fn as_known_at(tickets: DataFrame, as_of: DateTime<Utc>) -> PolarsResult<DataFrame> {
    let instant = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    let as_of = lit(as_of.timestamp_micros()).cast(instant.clone());
    let status_is = |s: &str| col("status").cast(DataType::String).eq(lit(s));
    let done_without_resolution = col("resolved_at").is_null().and(
        status_is("resolved")
            .or(status_is("closed"))
            .fill_null(lit(false)),
    );
    let mut exprs = vec![
        done_without_resolution
            .clone()
            .alias("resolved_without_timestamp"),
        done_without_resolution
            .and(col("closed_at").is_null())
            .alias("end_unknown"),
    ];
    for event in EVENTS {
        exprs.push(
            when(col(event).gt(as_of.clone()))
                .then(lit(NULL).cast(instant.clone()))
                .otherwise(col(event))
                .alias(event),
        );
    }
    tickets.lazy().with_columns(exprs).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn instants(values: &[Option<i64>]) -> Column {
        Column::new("t".into(), values)
            .cast(&DataType::Datetime(
                TimeUnit::Microseconds,
                Some(TimeZone::UTC),
            ))
            .unwrap()
    }

    #[test]
    fn later_events_read_as_null_and_the_export_decides_what_was_recorded() {
        let hour = 3_600_000_000i64;
        let frame = DataFrame::new(
            4,
            vec![
                Column::new(
                    "status".into(),
                    [Some("closed"), Some("closed"), Some("resolved"), None],
                ),
                instants(&[Some(hour), Some(3 * hour), Some(2 * hour), None])
                    .with_name("first_response_at".into()),
                // resolved after as_of; resolved at as_of; never resolved; not resolved
                instants(&[Some(3 * hour), Some(2 * hour), None, None])
                    .with_name("resolved_at".into()),
                instants(&[Some(4 * hour), None, Some(2 * hour), Some(5 * hour)])
                    .with_name("closed_at".into()),
            ],
        )
        .unwrap();
        let as_of = Utc.timestamp_micros(2 * hour).unwrap();
        let known = as_known_at(frame, as_of).unwrap();
        let micros = |c: &str| -> Vec<Option<i64>> {
            known
                .column(c)
                .unwrap()
                .cast(&DataType::Int64)
                .unwrap()
                .i64()
                .unwrap()
                .iter()
                .collect()
        };
        assert_eq!(
            micros("first_response_at"),
            [Some(hour), None, Some(2 * hour), None]
        );
        assert_eq!(micros("resolved_at"), [None, Some(2 * hour), None, None]);
        assert_eq!(micros("closed_at"), [None, None, Some(2 * hour), None]);
        // the first was resolved, after as_of: it is open then, not unrecorded
        let unrecorded: Vec<Option<bool>> = known
            .column("resolved_without_timestamp")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            unrecorded,
            [Some(false), Some(false), Some(true), Some(false)]
        );
        // the third was closed at a known instant: whether it was open at any time is known
        let end_unknown = known.column("end_unknown").unwrap().bool().unwrap();
        assert_eq!(end_unknown.sum(), Some(0));
    }
}
